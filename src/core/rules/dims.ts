/**
 * Type-level helpers shared by the shape rules: matching dims, normalising
 * axes, and the `Checked` argument type that puts a rule's error where the
 * compiler shows it.
 *
 * Dims match by these rules, the same everywhere: a number literal matches
 * only itself; a symbolic dim (`"batch"`) matches only itself; the wide
 * `number` matches anything, deferring the check to the run-time rule.
 * Tuple helpers here index by position, which is fine for ranks (a handful of
 * dims); sizes are never counted with tuples (see `arith/`).
 */

import type { Add, Gte, Lt, Sub } from "../arith/index.js";
import type { ShapeError } from "../errors.js";
import type { Shape } from "../shape.js";

/**
 * The parameter type of an argument checked by a rule: `T` when the rule's
 * result `R` is a shape, and the rule's `ShapeError<"...">` when it is not, so
 * that the compiler prints the rule's message at that argument.
 */
export type Checked<R, T> = [R] extends [ShapeError<infer M>] ? ShapeError<M> : T;

/** True when the rule result `R` is an error. */
export type IsError<R> = [R] extends [ShapeError<string>] ? true : false;

/** The first error among rule results, or `Ok` when there is none. */
export type FirstError<Rs extends readonly unknown[], Ok> = Rs extends readonly [infer H, ...infer T]
  ? [H] extends [ShapeError<string>]
    ? H
    : FirstError<T, Ok>
  : Ok;

/** True when `S` is a tuple of known length (not `number[]`). */
export type IsTuple<S extends readonly unknown[]> = number extends S["length"] ? false : true;

/** True when two dims can be the same size: equal, or one of them is `number`. */
export type DimsMatch<A, B> = number extends A
  ? true
  : number extends B
    ? true
    : [A] extends [B]
      ? [B] extends [A]
        ? true
        : false
      : false;

/** Of two matching dims, the one that says more (a literal over `number`). */
export type MergeDim<A, B> = number extends A ? B : A;

/** True when `D` is a number literal (a known size). */
export type IsLiteralSize<D> = D extends number ? (number extends D ? false : true) : false;

/** True when every dim of `S` is a known size. */
export type AllLiteral<S extends readonly unknown[]> = S extends readonly [infer H, ...infer T]
  ? IsLiteralSize<H> extends true
    ? AllLiteral<T>
    : false
  : IsTuple<S>;

/**
 * Resolves a possibly negative axis against a rank, or gives a `ShapeError`
 * naming `Op` when it is out of range. `number` axes stay `number`.
 */
export type NormalizeAxis<Op extends string, Axis extends number, Rank extends number> = number extends Axis
  ? number
  : number extends Rank
    ? number
    : Lt<Axis, Rank> extends true
      ? Gte<Axis, Sub<0, Rank>> extends true
        ? Lt<Axis, 0> extends true
          ? Add<Axis, Rank>
          : Axis
        : ShapeError<`${Op}: axis ${Axis} is out of range for rank ${Rank}`>
      : ShapeError<`${Op}: axis ${Axis} is out of range for rank ${Rank}`>;

/** Normalises every axis of a tuple, or gives the first error. */
export type NormalizeAxes<Op extends string, Axes extends readonly number[], Rank extends number> = {
  [K in keyof Axes]: NormalizeAxis<Op, Axes[K], Rank>;
} extends infer R extends readonly unknown[]
  ? FirstError<R, R>
  : never;

/** True when `X` occurs in the tuple `T`. */
export type Includes<T extends readonly unknown[], X> = T extends readonly [infer H, ...infer R]
  ? [H] extends [X]
    ? [X] extends [H]
      ? true
      : Includes<R, X>
    : Includes<R, X>
  : false;

/** True when some element occurs twice in the tuple `T`. */
export type HasDuplicate<T extends readonly unknown[]> = T extends readonly [infer H, ...infer R]
  ? Includes<R, H> extends true
    ? true
    : HasDuplicate<R>
  : false;

/** The tuple `0, 1, ..., N - 1` (N is a rank: small). */
export type Range<N extends number, Acc extends number[] = []> = number extends N
  ? number[]
  : Acc["length"] extends N
    ? Acc
    : Range<N, [...Acc, Acc["length"]]>;

/** `S` without the dim at index `I`. */
export type RemoveAt<S extends readonly unknown[], I extends number, Acc extends unknown[] = []> = S extends readonly [
  infer H,
  ...infer T,
]
  ? Acc["length"] extends I
    ? [...Acc, ...T]
    : RemoveAt<T, I, [...Acc, H]>
  : Acc;

/** `S` with `X` inserted before index `I` (I may equal the rank). */
export type InsertAt<S extends readonly unknown[], I extends number, X, Acc extends unknown[] = []> = Acc["length"] extends I
  ? [...Acc, X, ...S]
  : S extends readonly [infer H, ...infer T]
    ? InsertAt<T, I, X, [...Acc, H]>
    : [...Acc, X];

/** `S` with the dim at index `I` replaced by `X`. */
export type SetAt<S extends readonly unknown[], I extends number, X> = {
  [K in keyof S]: K extends `${I}` ? X : S[K];
};

/** The last `N` elements of `S` and the rest: `[rest, last]`. */
export type SplitLast<S extends readonly unknown[], N extends number, Tail extends unknown[] = []> = Tail["length"] extends N
  ? [S, Tail]
  : S extends readonly [...infer Rest, infer L]
    ? SplitLast<Rest, N, [L, ...Tail]>
    : [S, Tail];


/** The first `N` elements of `S`. */
export type Take<S extends readonly unknown[], N extends number, Acc extends unknown[] = []> = Acc["length"] extends N
  ? Acc
  : S extends readonly [infer H, ...infer T]
    ? Take<T, N, [...Acc, H]>
    : Acc;

/** `S` without its first `N` elements. */
export type Drop<S extends readonly unknown[], N extends number, Acc extends unknown[] = []> = Acc["length"] extends N
  ? S
  : S extends readonly [infer H, ...infer T]
    ? Drop<T, N, [...Acc, H]>
    : [];

/**
 * What a run-time rule returns for a twin's result `R`: the same shape, with
 * an unknown-rank result read as `number[]` (run-time dims are sizes).
 */
export type RuntimeResult<R> = R extends readonly unknown[] ? (number extends R["length"] ? number[] : R) : R;
