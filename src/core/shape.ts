/**
 * Shapes and dims: what they are at the type level and the run-time checks
 * every rule starts from.
 *
 * At the type level a dim is a number literal (a static size such as `784`), a
 * string literal (a named symbolic dim such as `"batch"`, which matches only
 * itself), or the wide `number` (unknown until run time: checks on it are
 * deferred to the run-time rule). At run time every dim is a non-negative
 * integer no larger than 2^31 - 1.
 *
 * Two policies for shapes the types cannot pin down, both visible in the
 * types and both leaving the check to the run time: a union dim (`3 | 4`,
 * from `cond ? 3 : 4`) is widened to `number` by the constructors
 * (`zeros`, `ones`, `full`), and a shape built by spreading a `number[]` has
 * unknown rank (`Tensor<number[]>`), which every rule accepts and checks at
 * run time. Negative, fractional and too large literal dims do not compile
 * (`CheckShape`).
 */

import type { Gt } from "./arith/index.js";
import { ShapeError, shapeError } from "./errors.js";

/** One dim of a type-level shape: a size literal, a symbolic name, or `number`. */
export type Dim = number | string;

/** A type-level shape: a tuple of dims, outermost first. */
export type Shape = readonly Dim[];

/** The run-time value of a shape: sizes only. */
export type RuntimeShape = readonly number[];

/**
 * The run-time shape of a type-level shape: number literals stay, symbolic
 * dims become `number`.
 *
 * @example
 * type R = Concrete<["batch", 784]>; // readonly [number, 784]
 */
export type Concrete<S extends Shape> = {
  readonly [K in keyof S]: S[K] extends number ? S[K] : number;
};

/** The largest size of one dim: 2^31 - 1, the limit of an int32 index. */
export const MAX_DIM = 2 ** 31 - 1;

/** True when `D` is the wide `number` (an unknown dim). */
export type IsWide<D> = number extends D ? true : false;

/** How a dim prints in a message: `784`, `batch`, or `?` for `number`. */
export type ShowDim<D> = D extends number
  ? number extends D
    ? "?"
    : `${D}`
  : D extends string
    ? D
    : "?";

/** How a shape prints in a message: `[batch, 784]`. */
export type ShowShape<S> = S extends readonly Dim[]
  ? number extends S["length"]
    ? "[...]"
    : `[${JoinDims<S>}]`
  : "?";

type JoinDims<S extends readonly Dim[]> = S extends readonly [infer H, ...infer T extends readonly Dim[]]
  ? T extends readonly []
    ? ShowDim<H>
    : `${ShowDim<H>}, ${JoinDims<T>}`
  : "";

/** Prints a run-time shape the way `ShowShape` prints a type: `[2, 3]`. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map(String).join(", ")}]`;
}

/** Why `d` is not a valid size, or undefined when it is. */
export function badDim(d: unknown): string | undefined {
  if (typeof d !== "number") return `${typeof d} is not a size`;
  if (Number.isNaN(d)) return "NaN is not a size";
  if (!Number.isInteger(d)) return `${d} is not an integer`;
  if (d < 0) return `${d} is negative`;
  if (d > MAX_DIM) return `${d} is larger than 2^31 - 1`;
  return undefined;
}

/**
 * The type-level twin of `checkShape`: the shape `S` (mutable) when every
 * literal dim is a valid size, else `ShapeError<"op: dim i of [...]: why">`
 * with the run-time message. A `number` dim is left to the run time; a union
 * dim (`3 | 4`) is checked member by member. A shape of unknown rank (built
 * by spreading a `number[]`) is returned as it is: its dims are checked at
 * run time.
 *
 * @example
 * type E = CheckShape<"zeros", [-1, 2.5]>; // ShapeError<"zeros: dim 0 of [-1, 2.5]: -1 is negative">
 */
export type CheckShape<Op extends string, S extends RuntimeShape> = number extends S["length"] ? WidenUnions<S> : CheckDims<Op, S, S, []>;

/**
 * The shape `S` with each union dim (`3 | 4`) widened to `number`: how a
 * constructor types a shape whose sizes are chosen at run time.
 *
 * @example
 * type S = WidenUnions<[2, 3 | 4]>; // [2, number]
 */
export type WidenUnions<S extends RuntimeShape> = { -readonly [K in keyof S]: IsUnion<S[K]> extends true ? number : S[K] };

/** Whether `D` is a union of several types. */
type IsUnion<D, All = D> = D extends unknown ? ([All] extends [D] ? false : true) : never;

type CheckDims<Op extends string, S0 extends RuntimeShape, S extends RuntimeShape, I extends unknown[]> = S extends readonly [
  infer D extends number,
  ...infer R extends RuntimeShape,
]
  ? [BadDim<D>] extends [never]
    ? CheckDims<Op, S0, R, [...I, D]>
    : ShapeError<`${Op}: dim ${I["length"]} of ${ShowShape<S0>}: ${BadDim<D>}`>
  : WidenUnions<S0>;

/** The type-level twin of `badDim` for a number dim: why it is not a size, or `never` when it is (or is only known at run time). */
type BadDim<D extends number> = number extends D
  ? never
  : IsUnion<D> extends true // widened to number: checked at run time
    ? never
    : `${D}` extends `${bigint}`
      ? `${D}` extends `-${string}`
        ? `${D} is negative`
        : Gt<D, 2147483647> extends true
          ? `${D} is larger than 2^31 - 1`
          : never
      : `${D}` extends `${string}e+${string}` // an integer too large to print without an exponent
        ? `${D}` extends `-${string}`
          ? `${D} is negative`
          : `${D} is larger than 2^31 - 1`
        : `${D} is not an integer`;

/**
 * Checks that `shape` is an array of valid sizes and returns a copy; throws a
 * `ShapeError` naming `op`, the dim and what is wrong with it.
 */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) shapeError(op, `shape must be an array of sizes, got ${typeof shape}`);
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    const why = badDim(d);
    if (why !== undefined) shapeError(op, `dim ${i} of ${formatShape(shape)}: ${why}`);
    out.push(d as number); // badDim returned undefined, so d is a number
  }
  return out;
}

/**
 * The number of elements of a shape (1 for rank 0). Throws when it exceeds
 * 2^53, past which it could not be counted exactly.
 */
export function shapeSize(shape: RuntimeShape): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new ShapeError(`size: ${formatShape(shape)} has more than 2^53 elements`);
  }
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: RuntimeShape): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i] ?? 1;
  }
  return strides;
}

/**
 * Resolves a possibly negative axis against `rank` (`-1` is the last axis);
 * throws a `ShapeError` naming `op` when it is out of range or not an integer.
 */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis)) shapeError(op, `axis ${axis} is not an integer`);
  if (axis < -rank || axis >= rank) {
    shapeError(op, `axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** True when two run-time shapes are equal dim by dim. */
export function sameShape(a: RuntimeShape, b: RuntimeShape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
