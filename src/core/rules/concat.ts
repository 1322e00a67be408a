/**
 * Joining tensors: `concat` along an existing axis and `stack` along a new one.
 *
 * `concat` needs shapes of one rank that agree on every dim but `axis`; the
 * result's `axis` dim is the sum (exact digit addition at the type level, or
 * `number` when a summand is not a known size). `stack` needs equal shapes and
 * inserts a new axis whose size is the number of operands.
 */

import type { Add } from "../arith/index.js";
import { shapeError, type ShapeError } from "../errors.js";
import { formatShape, normalizeAxis, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "../shape.js";
import type { Checked, DimsMatch, InsertAt, IsError, IsLiteralSize, IsTuple, MergeDim, NormalizeAxis, RuntimeResult } from "./dims.js";

/**
 * The shape of `concat(xs, Axis)` for operands of shapes `Ss`, or a
 * `ShapeError` naming the first two shapes that do not fit.
 *
 * @example
 * type S = ConcatShape<[["batch", 3], ["batch", 5]], -1>; // ["batch", 8]
 */
export type ConcatShape<Ss extends readonly Shape[], Axis extends number> = Ss extends readonly [
  infer First extends Shape,
  ...infer Rest extends readonly Shape[],
]
  ? IsTuple<First> extends false
    ? Dim[]
    : NormalizeAxis<"concat", Axis, First["length"]> extends infer A
      ? IsError<A> extends true
        ? A
        : A extends number
          ? number extends A
            ? Dim[]
            : ConcatLoop<Rest, A, First>
          : never
      : never
  : Ss extends readonly []
    ? ShapeError<"concat: needs at least one operand">
    : Dim[];

type ConcatLoop<Rest extends readonly Shape[], A extends number, Acc extends Shape> = Rest extends readonly [
  infer Next extends Shape,
  ...infer More extends readonly Shape[],
]
  ? ConcatPair<Acc, Next, A> extends infer R
    ? R extends Shape
      ? ConcatLoop<More, A, R>
      : R
    : never
  : Acc;

type ConcatPair<Acc extends Shape, Next extends Shape, A extends number> = IsTuple<Next> extends false
  ? Dim[]
  : Acc["length"] extends Next["length"]
    ? JoinDims<Acc, Next, A, Acc, Next>
    : ShapeError<`concat: shapes ${ShowShape<Acc>} and ${ShowShape<Next>} differ in rank`>;

type JoinDims<
  X extends Shape,
  Y extends Shape,
  A extends number,
  X0 extends Shape,
  Y0 extends Shape,
  I extends unknown[] = [],
> = X extends readonly [infer DX, ...infer XR extends Shape]
  ? Y extends readonly [infer DY, ...infer YR extends Shape]
    ? I["length"] extends A
      ? JoinDims<XR, YR, A, X0, Y0, [...I, unknown]> extends infer R
        ? R extends Shape
          ? [SumDims<DX, DY>, ...R]
          : R
        : never
      : DimsMatch<DX, DY> extends true
        ? JoinDims<XR, YR, A, X0, Y0, [...I, unknown]> extends infer R
          ? R extends Shape
            ? [MergeDim<DX, DY>, ...R]
            : R
          : never
        : ShapeError<`concat: shapes ${ShowShape<X0>} and ${ShowShape<Y0>} differ at axis ${I["length"]} (dims ${ShowDim<DX>} and ${ShowDim<DY>})`>
    : []
  : [];

type SumDims<X, Y> = IsLiteralSize<X> extends true
  ? IsLiteralSize<Y> extends true
    ? Add<X & number, Y & number>
    : number
  : number;

/**
 * The shape of `concat(xs, axis)`: the operands' shape with the `axis` dims
 * summed. Throws a `ShapeError` naming the shapes that do not fit.
 *
 * @example
 * concatShape([[2, 3], [2, 5]], 1); // [2, 8]
 */
export function concatShape<const Ss extends readonly RuntimeShape[], const Axis extends number>(
  shapes: Ss,
  axis: Checked<ConcatShape<Ss, Axis>, Axis>,
): NoInfer<RuntimeResult<ConcatShape<Ss, Axis>>> {
  // Checked<R, Axis> is Axis whenever this call type-checks; the twin laws
  // check that ConcatShape computes the shape returned here.
  return concatRule(shapes, axis as number) as RuntimeResult<ConcatShape<Ss, Axis>>;
}

function concatRule(shapes: readonly RuntimeShape[], axis: number): number[] {
  const first = shapes[0];
  if (first === undefined) shapeError("concat", "needs at least one operand");
  const a = normalizeAxis("concat", axis, first.length);
  const out = [...first];
  for (const next of shapes.slice(1)) {
    if (next.length !== out.length) {
      shapeError("concat", `shapes ${formatShape(out)} and ${formatShape(next)} differ in rank`);
    }
    next.forEach((d, i) => {
      if (i !== a && d !== out[i]) {
        shapeError("concat", `shapes ${formatShape(out)} and ${formatShape(next)} differ at axis ${i} (dims ${out[i]} and ${d})`);
      }
    });
    out[a] = (out[a] ?? 0) + (next[a] ?? 0);
  }
  return out;
}

/**
 * The shape of `stack(xs, Axis)` for operands of shapes `Ss`: their common
 * shape with a new axis of size `Ss["length"]` at `Axis`.
 *
 * @example
 * type S = StackShape<[[3, 4], [3, 4]], 0>; // [2, 3, 4]
 */
export type StackShape<Ss extends readonly Shape[], Axis extends number> = IsTuple<Ss> extends false
  ? Dim[]
  : Ss extends readonly [infer First extends Shape, ...infer Rest extends readonly Shape[]]
    ? IsTuple<First> extends false
      ? Dim[]
      : StackLoop<Rest, First> extends infer Common
        ? Common extends Shape
          ? NormalizeAxis<"stack", Axis, [...Common, 1]["length"] & number> extends infer A
            ? IsError<A> extends true
              ? A
              : A extends number
                ? number extends A
                  ? Dim[]
                  : InsertAt<Common, A, Ss["length"]>
                : never
            : never
          : Common
        : never
    : ShapeError<"stack: needs at least one operand">;

type StackLoop<Rest extends readonly Shape[], Acc extends Shape> = Rest extends readonly [
  infer Next extends Shape,
  ...infer More extends readonly Shape[],
]
  ? SameShape<Acc, Next> extends infer R
    ? R extends Shape
      ? StackLoop<More, R>
      : R
    : never
  : Acc;

type SameShape<X extends Shape, Y extends Shape> = IsTuple<Y> extends false
  ? Dim[]
  : X["length"] extends Y["length"]
    ? MergeAll<X, Y> extends infer M
      ? M extends Shape
        ? M
        : ShapeError<`stack: shapes ${ShowShape<X>} and ${ShowShape<Y>} differ`>
      : never
    : ShapeError<`stack: shapes ${ShowShape<X>} and ${ShowShape<Y>} differ`>;

type MergeAll<X extends Shape, Y extends Shape> = X extends readonly [infer DX, ...infer XR extends Shape]
  ? Y extends readonly [infer DY, ...infer YR extends Shape]
    ? DimsMatch<DX, DY> extends true
      ? MergeAll<XR, YR> extends infer R
        ? R extends Shape
          ? [MergeDim<DX, DY>, ...R]
          : "differ"
        : never
      : "differ"
    : []
  : [];

/**
 * The shape of `stack(xs, axis)`: the operands' common shape with a new axis
 * of size `shapes.length` at `axis`. Throws when the shapes differ.
 *
 * @example
 * stackShape([[3, 4], [3, 4]], -1); // [3, 4, 2]
 */
export function stackShape<const Ss extends readonly RuntimeShape[], const Axis extends number>(
  shapes: Ss,
  axis: Checked<StackShape<Ss, Axis>, Axis>,
): NoInfer<RuntimeResult<StackShape<Ss, Axis>>> {
  const first = shapes[0];
  if (first === undefined) shapeError("stack", "needs at least one operand");
  for (const next of shapes.slice(1)) {
    if (next.length !== first.length || next.some((d, i) => d !== first[i])) {
      shapeError("stack", `shapes ${formatShape(first)} and ${formatShape(next)} differ`);
    }
  }
  // Checked<R, Axis> is Axis whenever this call type-checks.
  const at = normalizeAxis("stack", axis as number, first.length + 1);
  const out = [...first];
  out.splice(at, 0, shapes.length);
  // InsertAt<Common, A, N> is this same insertion (the twin laws check it).
  return out as RuntimeResult<StackShape<Ss, Axis>>;
}
