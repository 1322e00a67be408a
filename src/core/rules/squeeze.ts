/**
 * Removing and adding size-1 axes: `squeeze` and `expandDims`.
 *
 * `squeeze(x, axes)` removes the named axes, each of which must have size 1;
 * with no axes it removes every size-1 axis. At the type level a symbolic dim
 * is not 1 (it matches only itself), and a shape with `number` or symbolic
 * dims squeezed without axes has an unknown rank, since the run-time sizes
 * decide what is removed. `expandDims(x, axis)` inserts a size-1 axis before
 * `axis`, which may equal the rank (or be negative, counted in the result).
 */

import { shapeError, type ShapeError } from "../errors.js";
import { formatShape, normalizeAxis, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "../shape.js";
import type { AllLiteral, Checked, FirstError, HasDuplicate, InsertAt, IsError, IsTuple, NormalizeAxes, NormalizeAxis, RuntimeResult } from "./dims.js";

/**
 * The shape of `squeeze(x, Axes)` for `x` of shape `S` (`Axes` a tuple of
 * axes, or `undefined` for every size-1 axis), or a `ShapeError` when an axis
 * is out of range, repeated, or not of size 1.
 *
 * @example
 * type S = SqueezeShape<["batch", 1, 10], [1]>; // ["batch", 10]
 */
export type SqueezeShape<S extends Shape, Axes extends readonly number[] | undefined = undefined> = IsTuple<S> extends false
  ? Dim[]
  : Axes extends readonly number[]
    ? IsTuple<Axes> extends false
      ? Dim[]
      : SqueezeAxes<S, Axes, NormalizeAxes<"squeeze", Axes, S["length"]>>
    : AllLiteral<S> extends true
      ? DropOnes<S>
      : Dim[];

type DropOnes<S extends Shape> = S extends readonly [infer H, ...infer T extends Shape]
  ? [H] extends [1]
    ? DropOnes<T>
    : [H, ...DropOnes<T>]
  : [];

type SqueezeAxes<S extends Shape, Axes extends readonly number[], N> = IsError<N> extends true
  ? N
  : N extends readonly number[]
    ? HasDuplicate<N> extends true
      ? ShapeError<`squeeze: an axis is repeated in ${ShowShape<Axes>}`>
      : FirstError<{ [K in keyof N]: NotOne<S, N[K] & number> }, KeepOthers<S, N>>
    : never;

type NotOne<S extends Shape, Axis extends number> = [S[Axis]] extends [1]
  ? "ok"
  : number extends S[Axis]
    ? "ok"
    : ShapeError<`squeeze: axis ${Axis} of ${ShowShape<S>} has size ${ShowDim<S[Axis]>}, not 1`>;

type KeepOthers<S extends Shape, N extends readonly number[], I extends unknown[] = []> = S extends readonly [
  infer H,
  ...infer T extends Shape,
]
  ? I["length"] extends N[number]
    ? KeepOthers<T, N, [...I, H]>
    : [H, ...KeepOthers<T, N, [...I, H]>]
  : [];

/**
 * The shape of `squeeze(x, axes)`: the named axes (each of size 1) removed, or
 * every size-1 axis when `axes` is omitted.
 *
 * @example
 * squeezeShape([2, 1, 3, 1]); // [2, 3]
 */
export function squeezeShape<const S extends RuntimeShape, const Axes extends readonly number[] | undefined = undefined>(
  shape: S,
  axes?: Checked<SqueezeShape<S, Axes>, Axes>,
): NoInfer<RuntimeResult<SqueezeShape<S, Axes>>> {
  // Checked<R, Axes> is Axes whenever this call type-checks; the twin laws
  // check that SqueezeShape computes the shape returned here.
  return squeezeRule(shape, axes as readonly number[] | undefined) as RuntimeResult<SqueezeShape<S, Axes>>;
}

function squeezeRule(shape: RuntimeShape, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return shape.filter((d) => d !== 1);
  const drop = axes.map((axis) => normalizeAxis("squeeze", axis, shape.length));
  if (new Set(drop).size !== drop.length) shapeError("squeeze", `an axis is repeated in ${formatShape(axes)}`);
  for (const axis of drop) {
    if (shape[axis] !== 1) {
      shapeError("squeeze", `axis ${axis} of ${formatShape(shape)} has size ${shape[axis]}, not 1`);
    }
  }
  return shape.filter((_, i) => !drop.includes(i));
}

/**
 * The shape of `expandDims(x, Axis)` for `x` of shape `S`: a 1 inserted so
 * that it sits at `Axis` in the result.
 *
 * @example
 * type S = ExpandDimsShape<["batch", 10], -1>; // ["batch", 10, 1]
 */
export type ExpandDimsShape<S extends Shape, Axis extends number> = IsTuple<S> extends false
  ? Dim[]
  : NormalizeAxis<"expandDims", Axis, [...S, 1]["length"] & number> extends infer A
    ? IsError<A> extends true
      ? A
      : A extends number
        ? number extends A
          ? Dim[]
          : InsertAt<S, A, 1>
        : never
    : never;

/**
 * The shape of `expandDims(x, axis)`: a size-1 axis inserted so that it sits
 * at `axis` in the result.
 *
 * @example
 * expandDimsShape([2, 3], 0); // [1, 2, 3]
 */
export function expandDimsShape<const S extends RuntimeShape, const Axis extends number>(
  shape: S,
  axis: Checked<ExpandDimsShape<S, Axis>, Axis>,
): NoInfer<RuntimeResult<ExpandDimsShape<S, Axis>>> {
  // Checked<R, Axis> is Axis whenever this call type-checks.
  const at = normalizeAxis("expandDims", axis as number, shape.length + 1);
  const out = [...shape];
  out.splice(at, 0, 1);
  // InsertAt<S, A, 1> is this same insertion (the twin laws check it).
  return out as RuntimeResult<ExpandDimsShape<S, Axis>>;
}
