/**
 * Reductions: the shape of `sum(x, axes, keepDims)` and its kin (mean, max,
 * argmax, ...).
 *
 * The reduced axes are removed, or kept as size 1 with `keepDims`. Axes may be
 * one axis or a list, negative from the end; no axes means every axis, which
 * gives a scalar (shape `[]`). A repeated axis is an error, as in NumPy.
 */

import { shapeError, type ShapeError } from "../errors.js";
import { formatShape, normalizeAxis, type Dim, type RuntimeShape, type Shape, type ShowShape } from "../shape.js";
import type { Checked, HasDuplicate, IsError, IsTuple, NormalizeAxes, RuntimeResult } from "./dims.js";

/** The axes of a reduction: one axis, a list, or `undefined` for all. */
export type ReduceAxes = number | readonly number[] | undefined;

/**
 * The shape of a reduction of `x` of shape `S` over `Axes`, or a `ShapeError`
 * for an axis out of range or repeated, naming `Op`.
 *
 * @example
 * type S = ReduceShape<["batch", 10], -1>; // ["batch"]
 * type K = ReduceShape<["batch", 10], [1], true>; // ["batch", 1]
 */
export type ReduceShape<S extends Shape, Axes extends ReduceAxes = undefined, KeepDims extends boolean = false, Op extends string = "reduce"> = IsTuple<S> extends false
  ? Dim[]
  : Axes extends undefined
    ? KeepDims extends true
      ? { -readonly [K in keyof S]: 1 }
      : []
    : Axes extends number
      ? ReduceOver<S, [Axes], [Axes], KeepDims, Op>
      : Axes extends readonly number[]
        ? IsTuple<Axes> extends false
          ? Dim[]
          : ReduceOver<S, Axes, Axes, KeepDims, Op>
        : never;

type ReduceOver<S extends Shape, Axes extends readonly number[], Shown, KeepDims extends boolean, Op extends string> = NormalizeAxes<
  Op,
  Axes,
  S["length"]
> extends infer N
  ? IsError<N> extends true
    ? N
    : N extends readonly number[]
      ? number extends N[number]
        ? Dim[]
        : HasDuplicate<N> extends true
          ? ShapeError<`${Op}: an axis is repeated in ${ShowShape<Shown>}`>
          : Reduced<S, N[number], KeepDims>
      : never
  : never;

type Reduced<S extends Shape, Axes extends number, KeepDims extends boolean, I extends unknown[] = []> = S extends readonly [
  infer H,
  ...infer T extends Shape,
]
  ? I["length"] extends Axes
    ? KeepDims extends true
      ? [1, ...Reduced<T, Axes, KeepDims, [...I, H]>]
      : Reduced<T, Axes, KeepDims, [...I, H]>
    : [H, ...Reduced<T, Axes, KeepDims, [...I, H]>]
  : [];

/**
 * The shape of a reduction of `x` over `axes` (all axes when omitted), the
 * reduced axes removed or, with `keepDims`, kept as size 1.
 *
 * @example
 * reduceShape([8, 10, 4], [0, -1]); // [10]
 */
export function reduceShape<
  const S extends RuntimeShape,
  const Axes extends ReduceAxes = undefined,
  const KeepDims extends boolean = false,
>(shape: S, axes?: Checked<ReduceShape<S, Axes, KeepDims>, Axes>, keepDims?: KeepDims): NoInfer<RuntimeResult<ReduceShape<S, Axes, KeepDims>>> {
  // Checked<R, Axes> is Axes whenever this call type-checks; the twin laws
  // check that ReduceShape computes the shape returned here.
  const reduced = reducedAxes(shape, axes as ReduceAxes);
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!reduced.includes(i)) out.push(d);
    else if (keepDims === true) out.push(1);
  });
  return out as RuntimeResult<ReduceShape<S, Axes, KeepDims>>;
}

/**
 * The normalised, distinct axes a reduction runs over, in increasing order;
 * errors name `op` (the op the user called: `sum`, `mean`, ...).
 */
export function reducedAxes(shape: RuntimeShape, axes: ReduceAxes, op = "reduce"): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((axis) => normalizeAxis(op, axis, shape.length));
  if (new Set(out).size !== out.length) shapeError(op, `an axis is repeated in ${formatShape(list)}`);
  return out.sort((a, b) => a - b);
}
