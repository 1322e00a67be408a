/**
 * Slicing and indexing: the shape of `x[spec0, spec1, ...]`.
 *
 * One spec per leading axis, Python's semantics: a number picks one index
 * (negative from the end; out of range is an error) and removes the axis;
 * `null` keeps the whole axis; `{ start, stop, step }` keeps a range, with
 * negative bounds counted from the end and bounds clamped to the axis, so an
 * empty range is a size-0 axis rather than an error. Axes past the last spec
 * are kept whole. At the type level ranges are computed exactly for known
 * sizes and positive literal steps; otherwise the dim is `number`.
 */

import type { Add, CeilDiv, Gt, Lt, Sub } from "../arith/index.js";
import { shapeError, type ShapeError } from "../errors.js";
import { describeValue } from "../validate.js";
import { formatShape, type Dim, type RuntimeShape, type Shape, type ShowShape } from "../shape.js";
import type { Checked, IsLiteralSize, IsTuple, RuntimeResult } from "./dims.js";

/** A range of one axis; omitted fields take Python's defaults. */
export interface SliceRange {
  readonly start?: number;
  readonly stop?: number;
  readonly step?: number;
}

/** The spec of one axis: an index, the whole axis (`null`), or a range. */
export type SliceSpec = number | null | SliceRange;

/**
 * The shape of `slice(x, Specs)` for `x` of shape `S`, or a `ShapeError` for
 * too many specs, a zero step, or an index out of range.
 *
 * @example
 * type S = SliceShape<["batch", 10, 4], [null, { start: 2, stop: -1 }, 0]>; // ["batch", 7]
 */
export type SliceShape<S extends Shape, Specs extends readonly SliceSpec[]> = IsTuple<S> extends false
  ? Dim[]
  : IsTuple<Specs> extends false
    ? Dim[]
    : Gt<Specs["length"], S["length"]> extends true
      ? ShapeError<`slice: ${Specs["length"]} specs for ${ShowShape<S>} of rank ${S["length"]}`>
      : SliceLoop<S, Specs, []>;

type SliceLoop<S extends Shape, Specs extends readonly SliceSpec[], I extends unknown[]> = Specs extends readonly [
  infer Spec,
  ...infer Rest extends readonly SliceSpec[],
]
  ? S extends readonly [infer D, ...infer SR extends Shape]
    ? SliceAxis<D, Spec, I["length"]> extends infer R
      ? R extends ShapeError<string>
        ? R
        : R extends "removed"
          ? SliceLoop<SR, Rest, [...I, unknown]>
          : SliceLoop<SR, Rest, [...I, unknown]> extends infer More
            ? More extends Shape
              ? [R, ...More]
              : More
            : never
      : never
    : []
  : { -readonly [K in keyof S]: S[K] };

type SliceAxis<D, Spec, Axis extends number> = Spec extends null
  ? D
  : Spec extends number
    ? IndexAxis<D, Spec, Axis>
    : Spec extends SliceRange
      ? RangeAxis<D, Spec>
      : never;

type IndexAxis<D, Index extends number, Axis extends number> = number extends Index
  ? "removed"
  : IsLiteralSize<D> extends true
    ? Lt<Index, D & number> extends true
      ? Lt<Index, Sub<0, D & number>> extends true
        ? IndexError<Index, Axis, D>
        : "removed"
      : IndexError<Index, Axis, D>
    : "removed";

type IndexError<Index extends number, Axis extends number, D> = ShapeError<`slice: index ${Index} is out of range for axis ${Axis} of size ${D & number}`>;

type RangeAxis<D, R extends SliceRange> = Field<R, "step"> extends 0
  ? ShapeError<"slice: step must not be 0">
  : [Field<R, "start">, Field<R, "stop">, Field<R, "step">] extends [undefined, undefined, undefined | 1]
    ? D
    : IsLiteralSize<D> extends true
      ? RangeLength<D & number, R>
      : number;

type RangeLength<D extends number, R extends SliceRange> = number extends Field<R, "start"> | Field<R, "stop"> | Field<R, "step">
  ? number
  : Lt<Bound<Field<R, "step">, 1>, 0> extends true
    ? Span<Resolve<Field<R, "start">, D, Sub<D, 1>, -1, Sub<D, 1>>, Resolve<Field<R, "stop">, D, -1, -1, Sub<D, 1>>, Sub<0, Bound<Field<R, "step">, 1>>>
    : Span<Resolve<Field<R, "stop">, D, D, 0, D>, Resolve<Field<R, "start">, D, 0, 0, D>, Bound<Field<R, "step">, 1>>;

/** A field of a range type, `undefined` where the literal omits it. */
type Field<R, K extends keyof SliceRange> = K extends keyof R ? R[K] : undefined;

type Bound<X, Default extends number> = X extends number ? X : Default;

/** The number of indices from `Low` (excluded when stepping down) to `High`, by `Step > 0`. */
type Span<High extends number, Low extends number, Step extends number> = Gt<High, Low> extends true
  ? CeilDiv<Sub<High, Low>, Step>
  : 0;

/**
 * Python's resolution of one bound on an axis of size `D`: `Default` when
 * omitted, else counted from the end when negative, then clamped to `Min..Max`.
 */
type Resolve<X, D extends number, Default extends number, Min extends number, Max extends number> = X extends number
  ? (Lt<X, 0> extends true ? Add<X, D> : X) extends infer Y extends number
    ? Lt<Y, Min> extends true
      ? Min
      : Gt<Y, Max> extends true
        ? Max
        : Y
    : never
  : Default;

/**
 * The shape of `slice(x, specs)`; throws a `ShapeError` for too many specs, a
 * zero step, or an index out of range.
 *
 * @example
 * sliceShape([8, 10, 4], [null, { start: 2, stop: -1 }, 0]); // [8, 7]
 */
export function sliceShape<const S extends RuntimeShape, const Specs extends readonly SliceSpec[]>(
  shape: S,
  specs: Checked<SliceShape<S, Specs>, Specs>,
): NoInfer<RuntimeResult<SliceShape<S, Specs>>> {
  // Checked<R, Specs> is Specs whenever this call type-checks; the twin laws
  // check that SliceShape computes the shape returned here.
  return sliceRule(shape, specs as readonly SliceSpec[]).map((axis) => axis.size).filter((d) => d >= 0) as RuntimeResult<SliceShape<S, Specs>>;
}

/** Where one axis of a slice reads: `size` is -1 for an index (axis removed). */
export interface AxisSlice {
  readonly start: number;
  readonly step: number;
  readonly size: number;
}

/**
 * Resolves the specs against a shape: for every axis, the first index read,
 * the step and the number of indices (-1 where an index removes the axis).
 * Kernels that copy a slice use this; `sliceShape` keeps the sizes.
 */
export function sliceRule(shape: RuntimeShape, specs: readonly SliceSpec[]): AxisSlice[] {
  if (specs.length > shape.length) {
    shapeError("slice", `${specs.length} specs for ${formatShape(shape)} of rank ${shape.length}`);
  }
  if (!Array.isArray(specs)) shapeError("slice", `the specs must be an array, got ${describeValue(specs)}`);
  specs.forEach(checkSpec);
  return shape.map((d, axis) => {
    const spec = specs[axis] ?? null;
    if (spec === null) return { start: 0, step: 1, size: d };
    if (typeof spec === "number") {
      if (!Number.isInteger(spec) || spec >= d || spec < -d) {
        shapeError("slice", `index ${spec} is out of range for axis ${axis} of size ${d}`);
      }
      return { start: spec < 0 ? spec + d : spec, step: 1, size: -1 };
    }
    return rangeOf(d, spec);
  });
}

const RANGE_FIELDS: readonly string[] = ["start", "stop", "step"];

/**
 * Throws a `ShapeError` unless `spec` is an index, `null`, or a range object
 * whose only fields are `start`, `stop` and `step`, each an integer or left
 * out: an array such as `[5, 9]` or a misspelt field is never read as "the
 * whole axis".
 */
function checkSpec(spec: unknown, axis: number): void {
  if (spec === null || typeof spec === "number") return;
  const what = `spec ${axis} must be an index, null or { start, stop, step }, got ${describeValue(spec)}`;
  if (typeof spec !== "object" || Array.isArray(spec)) shapeError("slice", what);
  for (const [field, x] of Object.entries(spec)) {
    if (!RANGE_FIELDS.includes(field)) shapeError("slice", `spec ${axis} has an unknown field ${JSON.stringify(field.slice(0, 40))}`);
    if (x !== undefined && !Number.isInteger(x)) shapeError("slice", `spec ${axis}: ${field} must be an integer, got ${describeValue(x)}`);
  }
}

/** Python's `slice.indices`: resolves a range against an axis of size `d`. */
function rangeOf(d: number, { start, stop, step = 1 }: SliceRange): AxisSlice {
  if (step === 0) shapeError("slice", "step must not be 0");
  const [low, high] = step > 0 ? [0, d] : [-1, d - 1];
  const resolve = (x: number | undefined, byDefault: number): number => {
    if (x === undefined) return byDefault;
    const y = x < 0 ? x + d : x;
    return Math.min(Math.max(y, low), high);
  };
  const a = resolve(start, step > 0 ? low : high);
  const b = resolve(stop, step > 0 ? high : low);
  const span = step > 0 ? b - a : a - b;
  const size = span > 0 ? Math.ceil(span / Math.abs(step)) : 0;
  return { start: a, step, size };
}
