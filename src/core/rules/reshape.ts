/**
 * Reshaping and flattening: the same elements in row-major order under a new
 * shape.
 *
 * `reshape` takes a target shape in which one dim may be `-1`, inferred so that
 * the sizes agree. At the type level, symbolic dims that occur on both sides
 * cancel (so `["batch", 7, 7, 64]` reshapes to `["batch", 3136]` or
 * `["batch", -1]`), the rest is checked with exact digit arithmetic, and an
 * unmatched `number` dim defers the check to run time. An unmatched symbolic
 * dim needs a place in the target (a `-1` or a `number` dim): reshaping
 * `["batch", 784]` into the fixed `[28, 28]` does not compile, since it holds
 * only for a batch of 1. `flatten`
 * merges the axes `start..end` (default: all but the first) into one.
 */

import type { Add, FloorDiv, IsNatural, Lt, Mod, Product, Sub } from "../arith/index.js";
import { shapeError, type ShapeError } from "../errors.js";
import { formatShape, normalizeAxis, shapeSize, type Dim, type RuntimeShape, type Shape, type ShowShape } from "../shape.js";
import type { AllLiteral, Checked, Drop, FirstError, IsError, IsTuple, NormalizeAxis, Take, RuntimeResult } from "./dims.js";

/**
 * The shape of `reshape(x, T)` for `x` of shape `S`: `T` with its `-1`
 * inferred, or a `ShapeError` when the sizes cannot agree.
 *
 * @example
 * type S = ReshapeShape<["batch", 7, 7, 64], ["batch", -1]>; // ["batch", 3136]
 */
export type ReshapeShape<S extends Shape, T extends Shape> = IsTuple<S> extends false
  ? Dim[]
  : IsTuple<T> extends false
    ? Dim[]
    : FirstError<TargetErrors<T, T>, ReshapeChecked<S, T>>;

type TargetErrors<T0 extends Shape, T extends Shape, I extends unknown[] = [], Seen extends boolean = false> = T extends readonly [
  infer H,
  ...infer R extends Shape,
]
  ? H extends -1
    ? Seen extends true
      ? [ShapeError<`reshape: ${ShowShape<T0>} has more than one -1`>]
      : TargetErrors<T0, R, [...I, H], true>
    : H extends number
      ? IsNatural<H> extends false
        ? [ShapeError<`reshape: dim ${I["length"]} of the target is not a size or -1`>]
        : TargetErrors<T0, R, [...I, H], Seen>
      : TargetErrors<T0, R, [...I, H], Seen>
  : [];

type ReshapeChecked<S extends Shape, T extends Shape> = Cancel<S, T> extends [
  infer SR extends Shape,
  infer TR extends Shape,
]
  ? AllLiteral<SR> extends true
    ? AllLiteral<WithoutMinusOne<TR>> extends true
      ? [SR, WithoutMinusOne<TR>] extends [infer PS extends readonly number[], infer PT extends readonly number[]]
        ? ReshapeSizes<S, T, Product<PS>, Product<PT>>
        : never
      : InferAs<T, number>
    : [StrandedDim<SR, TR>] extends [never]
      ? InferAs<T, number>
      : ShapeError<`reshape: cannot reshape ${ShowShape<S>} into ${ShowShape<T>}: ${StrandedDim<SR, TR>} has no place in the target (keep it, or use -1)`>
  : never;

/**
 * The first symbolic dim of `S` left without a place in a fixed target `T`
 * (all literal, no -1): its size would have to be whatever makes the sizes
 * agree, but a symbolic dim matches only itself. `never` when there is none.
 */
type StrandedDim<S extends Shape, T extends Shape> = HasMinusOne<T> extends true
  ? never
  : AllLiteral<T> extends true
    ? FirstSymbolic<S>
    : never;

type FirstSymbolic<S extends Shape> = S extends readonly [infer H, ...infer R extends Shape] ? (H extends string ? H : FirstSymbolic<R>) : never;

type ReshapeSizes<S extends Shape, T extends Shape, SizeS extends number, SizeT extends number> = HasMinusOne<T> extends true
  ? SizeT extends 0
    ? NoFit<S, T>
    : Mod<SizeS, SizeT> extends 0
      ? InferAs<T, FloorDiv<SizeS, SizeT>>
      : NoFit<S, T>
  : SizeS extends SizeT
    ? Mutable<T>
    : ShapeError<`reshape: cannot reshape ${ShowShape<S>} into ${ShowShape<T>}: the sizes differ`>;

type NoFit<S extends Shape, T extends Shape> = ShapeError<`reshape: cannot reshape ${ShowShape<S>} into ${ShowShape<T>}: no size for -1 fits`>;

type Mutable<T extends Shape> = { -readonly [K in keyof T]: T[K] };

type InferAs<T extends Shape, D> = { -readonly [K in keyof T]: T[K] extends -1 ? D : T[K] };

type HasMinusOne<T extends Shape> = -1 extends T[number] ? true : false;

type WithoutMinusOne<T extends Shape> = T extends readonly [infer H, ...infer R extends Shape]
  ? H extends -1
    ? WithoutMinusOne<R>
    : [H, ...WithoutMinusOne<R>]
  : [];

/** Removes symbolic dims that occur on both sides, one occurrence for one. */
type Cancel<S extends Shape, T extends Shape> = S extends readonly [infer H, ...infer R extends Shape]
  ? H extends string
    ? RemoveFirst<T, H> extends infer TR
      ? TR extends "absent"
        ? Cancel<R, T> extends [infer SR extends Shape, infer TT extends Shape]
          ? [[H, ...SR], TT]
          : never
        : TR extends Shape
          ? Cancel<R, TR>
          : never
      : never
    : Cancel<R, T> extends [infer SR extends Shape, infer TT extends Shape]
      ? [[H, ...SR], TT]
      : never
  : [[], T];

type RemoveFirst<T extends Shape, X extends string> = T extends readonly [infer H, ...infer R extends Shape]
  ? [H] extends [X]
    ? R
    : RemoveFirst<R, X> extends infer RR
      ? RR extends Shape
        ? [H, ...RR]
        : "absent"
      : never
  : "absent";

/**
 * The shape of `reshape(x, target)`: `target` with its `-1` inferred. Throws a
 * `ShapeError` naming both shapes when the sizes cannot agree.
 *
 * @example
 * reshapeShape([2, 3, 4], [4, -1]); // [4, 6]
 */
export function reshapeShape<const S extends RuntimeShape, const T extends readonly number[]>(
  shape: S,
  target: Checked<ReshapeShape<S, T>, T>,
): NoInfer<RuntimeResult<ReshapeShape<S, T>>> {
  // Checked<R, T> is T whenever this call type-checks; the twin laws check
  // that ReshapeShape computes the shape returned here.
  return reshapeRule(shape, target as readonly number[]) as RuntimeResult<ReshapeShape<S, T>>;
}

/** The run-time reshape rule (used by ops that take an untyped target). */
export function reshapeRule(shape: RuntimeShape, target: readonly number[]): number[] {
  let inferred = -1;
  let known = 1;
  target.forEach((d, i) => {
    if (d === -1) {
      if (inferred >= 0) shapeError("reshape", `${formatShape(target)} has more than one -1`);
      inferred = i;
    } else if (!Number.isInteger(d) || d < 0) {
      shapeError("reshape", `dim ${i} of the target is not a size or -1`);
    } else {
      known *= d;
    }
  });
  const size = shapeSize(shape);
  if (inferred < 0) {
    if (known !== size) {
      shapeError("reshape", `cannot reshape ${formatShape(shape)} into ${formatShape(target)}: the sizes differ`);
    }
    return [...target];
  }
  if (known === 0 || size % known !== 0) {
    shapeError("reshape", `cannot reshape ${formatShape(shape)} into ${formatShape(target)}: no size for -1 fits`);
  }
  return target.map((d) => (d === -1 ? size / known : d));
}

/**
 * The shape of `flatten(x, Start, End)` for `x` of shape `S`: the axes
 * `Start..End` (inclusive, negative from the end) merged into one.
 *
 * @example
 * type S = FlattenShape<["batch", 7, 7, 64]>; // ["batch", 3136]
 */
export type FlattenShape<S extends Shape, Start extends number = 1, End extends number = -1> = IsTuple<S> extends false
  ? Dim[]
  : FlattenAxes<S, NormalizeAxis<"flatten", Start, S["length"]>, NormalizeAxis<"flatten", End, S["length"]>, Start, End>;

type FlattenAxes<S extends Shape, A, B, Start extends number, End extends number> = IsError<A> extends true
  ? A
  : IsError<B> extends true
    ? B
    : [A, B] extends [infer A extends number, infer B extends number]
      ? number extends A | B
        ? Dim[]
        : Lt<B, A> extends true
          ? ShapeError<`flatten: start axis ${Start} is after end axis ${End} of ${ShowShape<S>}`>
          : [...Take<S, A>, MergedDim<Take<Drop<S, A>, Add<Sub<B, A>, 1>>>, ...Drop<S, Add<B, 1>>]
      : never;

type MergedDim<M extends Shape> = M extends readonly [infer Only]
  ? Only
  : AllLiteral<M> extends true
    ? M extends readonly number[]
      ? Product<M>
      : never
    : number;

/**
 * The shape of `flatten(x, start, end)`: the axes `start..end` merged into one
 * (default: all but the first, which keeps the batch dim).
 *
 * @example
 * flattenShape([32, 7, 7, 64]); // [32, 3136]
 */
export function flattenShape<const S extends RuntimeShape>(shape: S): NoInfer<RuntimeResult<FlattenShape<S>>>;
export function flattenShape<const S extends RuntimeShape, const Start extends number>(
  shape: S,
  start: Checked<FlattenShape<S, Start>, Start>,
): NoInfer<RuntimeResult<FlattenShape<S, Start>>>;
export function flattenShape<const S extends RuntimeShape, const Start extends number, const End extends number>(
  shape: S,
  start: Start,
  end: Checked<FlattenShape<S, Start, End>, End>,
): NoInfer<RuntimeResult<FlattenShape<S, Start, End>>>;
// The implementation returns `unknown` so that it is compatible with every overload, error types included.
export function flattenShape(shape: RuntimeShape, start = 1, end = -1): unknown {
  const a = normalizeAxis("flatten", start, shape.length);
  const b = normalizeAxis("flatten", end, shape.length);
  if (b < a) {
    shapeError("flatten", `start axis ${start} is after end axis ${end} of ${formatShape(shape)}`);
  }
  const merged = shape.slice(a, b + 1).reduce((n, d) => n * d, 1);
  // The overloads' FlattenShape merges the same axes (the twin laws check it).
  return [...shape.slice(0, a), merged, ...shape.slice(b + 1)];
}
