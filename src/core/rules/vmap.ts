/**
 * The shape of a batch under `vmap`: one example's shape with the batch's
 * dim inserted at the mapped axis.
 *
 * `vmapShape([784], 0, 32)` is `[32, 784]`; the axis counts in the batched
 * shape, so it may equal the example's rank (the batch last) or be negative
 * (`-1` is last). Its type-level twin `VmapShape` is what `vmap`'s type puts
 * on every mapped argument and result, with the caller's batch dim (a
 * literal, a symbolic dim or `number`). Left out: the trees of tensors
 * (`transforms/vmap.ts` maps this over them).
 */

import { normalizeAxis, type Dim, type RuntimeShape, type Shape } from "../shape.js";
import type { InsertAt, IsError, IsTuple, NormalizeAxis } from "./dims.js";

/**
 * One example's shape `S` with the batch dim `B` inserted at `Axis`
 * (counted in the result; negative from the end), or a `ShapeError` when the
 * axis is out of range.
 *
 * @example
 * type S = VmapShape<[784], 0, "batch">; // ["batch", 784]
 * type T = VmapShape<[28, 28], -1, 8>; // [28, 28, 8]
 */
export type VmapShape<S extends Shape, Axis extends number, B extends Dim> = IsTuple<S> extends false
  ? Dim[]
  : NormalizeAxis<"vmap", Axis, [...S, B]["length"] & number> extends infer A
    ? IsError<A> extends true
      ? A
      : A extends number
        ? number extends A
          ? Dim[]
          : InsertAt<S, A, B>
        : never
    : never;

/** The run-time twin of `VmapShape`: `shape` with `size` inserted at `axis`; throws a `ShapeError` naming vmap for an axis out of range. */
export function vmapShape(shape: RuntimeShape, axis: number, size: number): number[] {
  const at = normalizeAxis("vmap", axis, shape.length + 1);
  const out = [...shape];
  out.splice(at, 0, size);
  return out;
}
