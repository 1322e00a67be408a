/**
 * Permuting axes: the shape of `transpose(x, perm)`.
 *
 * Result dim `i` is input dim `perm[i]`. Axes may be negative (counted from the
 * end); the permutation must name every axis exactly once. `transposeShape`
 * with no permutation reverses the axes, as NumPy's `transpose` does.
 */

import { shapeError, type ShapeError } from "../errors.js";
import { formatShape, normalizeAxis, type Dim, type RuntimeShape, type Shape, type ShowShape } from "../shape.js";
import type { Checked, HasDuplicate, IsError, IsTuple, NormalizeAxes, RuntimeResult } from "./dims.js";

/**
 * The shape of `x` of shape `S` with its axes permuted by `P`, or a
 * `ShapeError` when `P` is not a permutation of the axes of `S`.
 *
 * @example
 * type S = PermuteShape<["batch", 28, 28, 3], [0, 3, 1, 2]>; // ["batch", 3, 28, 28]
 */
export type PermuteShape<S extends Shape, P extends readonly number[], Op extends string = "permute"> = IsTuple<S> extends false
  ? Dim[]
  : IsTuple<P> extends false
    ? Dim[]
    : P["length"] extends S["length"]
      ? PermuteChecked<S, P, NormalizeAxes<Op, P, S["length"]>, Op>
      : NotAPermutation<S, P, Op>;

type NotAPermutation<S extends Shape, P extends readonly number[], Op extends string> = ShapeError<`${Op}: ${ShowShape<P>} is not a permutation of the axes of ${ShowShape<S>}`>;

type PermuteChecked<S extends Shape, P extends readonly number[], N, Op extends string> = IsError<N> extends true
  ? N
  : N extends readonly number[]
    ? HasDuplicate<N> extends true
      ? NotAPermutation<S, P, Op>
      : { -readonly [K in keyof N]: S[N[K] & number] }
    : never;

/**
 * The shape of `transpose(x)` with no permutation: the axes reversed.
 *
 * @example
 * type S = TransposeShape<[2, 3, 4]>; // [4, 3, 2]
 */
export type TransposeShape<S extends Shape> = IsTuple<S> extends false ? Dim[] : Reverse<S>;

type Reverse<S extends Shape> = S extends readonly [infer H, ...infer T extends Shape] ? [...Reverse<T>, H] : [];

/**
 * The shape of `x` with its axes permuted by `perm`; throws a `ShapeError`
 * when `perm` is not a permutation of the axes.
 *
 * @example
 * permuteShape([2, 3, 4], [2, 0, 1]); // [4, 2, 3]
 */
export function permuteShape<const S extends RuntimeShape, const P extends readonly number[]>(
  shape: S,
  perm: Checked<PermuteShape<S, P>, P>,
): NoInfer<RuntimeResult<PermuteShape<S, P>>> {
  // Checked<R, P> is P whenever this call type-checks; the twin laws check
  // that PermuteShape computes the shape returned here.
  return permuteRule(shape, perm as readonly number[]) as RuntimeResult<PermuteShape<S, P>>;
}

/** The run-time permute rule; errors name `op` (`transpose` when the user called that). */
export function permuteRule(shape: RuntimeShape, perm: readonly number[], op = "permute"): number[] {
  const notPermutation = (): never => shapeError(op, `${formatShape(perm)} is not a permutation of the axes of ${formatShape(shape)}`);
  if (perm.length !== shape.length) notPermutation();
  const axes = perm.map((axis) => normalizeAxis(op, axis, shape.length));
  if (new Set(axes).size !== axes.length) notPermutation();
  return axes.map((axis) => shape[axis] ?? 0);
}

/**
 * The shape of `transpose(x)` with no permutation: the axes reversed.
 *
 * @example
 * transposeShape([2, 3, 4]); // [4, 3, 2]
 */
export function transposeShape<const S extends RuntimeShape>(shape: S): NoInfer<RuntimeResult<TransposeShape<S>>> {
  // Reverse<S> is the reversed tuple; the twin laws check it.
  return [...shape].reverse() as RuntimeResult<TransposeShape<S>>;
}
