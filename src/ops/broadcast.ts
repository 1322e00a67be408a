/**
 * Broadcasting: `broadcastTo`, and the operands of an elementwise op brought
 * to one shape.
 *
 * Elementwise primitives take operands of one shape; the ops call
 * `broadcastOperands`, which computes NumPy's broadcast shape (a `ShapeError`
 * naming the op when there is none) and inserts a `broadcast` primitive for
 * each operand that needs one. Under jit, fusion turns those broadcasts into
 * index arithmetic, so no broadcast copy is made. `broadcastTo` is NumPy's
 * `broadcast_to`: one operand stretched to a given shape, typed by
 * `BroadcastToShape`.
 */

import { allocate, storeValue, type DType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import { broadcastIn } from "../core/rules/broadcast.js";
import type { Checked, DimsMatch, IsTuple, MergeDim } from "../core/rules/dims.js";
import { formatShape, sameShape, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { checkOperand, checkSameDType } from "../core/validate.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../prims/index.js";
import type { ShapeOf } from "./types.js";

/**
 * The shape of `broadcastTo(x, T)` for `x` of shape `S`: `T`, where every dim
 * of `S` (aligned at the end) is 1 or matches `T`'s dim, or a `ShapeError`.
 * A `number` dim of `T` over a symbolic or literal dim of `S` takes that dim,
 * so `broadcastTo(x: Tensor<["batch", 1]>, [n, 10])` stays `["batch", 10]`.
 *
 * @example
 * type S = BroadcastToShape<["batch", 1], [number, 10]>; // ["batch", 10]
 */
export type BroadcastToShape<S extends Shape, T extends Shape> = IsTuple<T> extends false
  ? Dim[]
  : IsTuple<S> extends false
    ? { -readonly [K in keyof T]: T[K] }
    : BroadcastToLoop<S, T, S, T, []>;

type BroadcastToLoop<S0 extends Shape, T0 extends Shape, S extends Shape, T extends Shape, Acc extends Dim[]> = S extends readonly [
  ...infer SR extends Shape,
  infer DS,
]
  ? T extends readonly [...infer TR extends Shape, infer DT]
    ? [DS] extends [1]
      ? BroadcastToLoop<S0, T0, SR, TR, [DT & Dim, ...Acc]>
      : DimsMatch<DS, DT> extends true
        ? BroadcastToLoop<S0, T0, SR, TR, [MergeDim<DT, DS> & Dim, ...Acc]>
        : ShapeError<`broadcastTo: cannot broadcast ${ShowShape<S0>} to ${ShowShape<T0>} (dims ${ShowDim<DS>} and ${ShowDim<DT>} differ)`>
    : ShapeError<`broadcastTo: cannot broadcast ${ShowShape<S0>} to ${ShowShape<T0>} of lower rank`>
  : [...T, ...Acc];

/**
 * `x` stretched to `shape` (NumPy's `broadcast_to`): the dims are aligned at
 * the end, and each dim of `x` must be 1 or the target's dim. Returns `x`
 * itself when it already has that shape.
 *
 * @example
 * broadcastTo(tensor([[1], [2]]), [2, 3]).toNested(); // [[1, 1, 1], [2, 2, 2]]
 */
export function broadcastTo<S extends Shape, D extends DType, const T extends RuntimeShape>(
  x: Tensor<S, D>,
  shape: Checked<BroadcastToShape<S, T>, T>,
): Tensor<ShapeOf<BroadcastToShape<S, T>>, D>;
export function broadcastTo(x: AnyTensor, shape: RuntimeShape): AnyTensor {
  return stretch(x, shape, []);
}

/** `broadcastTo`, staged in the trace of the `context` tensors when there is one. */
function stretch(x: AnyTensor, shape: RuntimeShape, context: readonly AnyTensor[]): AnyTensor {
  if (sameShape(x.shape, shape)) return x;
  const offset = shape.length - x.shape.length;
  const cannot = `cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`;
  if (offset < 0) shapeError("broadcastTo", `${cannot} of lower rank`);
  x.shape.forEach((d, i) => {
    const t = shape[i + offset];
    if (d !== 1 && d !== t) shapeError("broadcastTo", `${cannot} (dims ${d} and ${t} differ)`);
  });
  return bind("broadcast", [x], { shape: [...shape], dims: x.shape.map((_, i) => i + offset) }, context);
}

/** A rank-0 tensor holding `value` as `dtype`. */
export function scalarOf(value: number, dtype: DType): AnyTensor {
  const data = allocate(dtype, 1);
  data[0] = storeValue(dtype, value);
  return new Tensor([], dtype, data);
}

/** How `broadcastOperands` names its operands in a message: `x, y`, or `cond, x, y` for `where`. */
const OPERAND_NAMES: readonly (readonly string[])[] = [[], ["x"], ["x", "y"], ["cond", "x", "y"]];

/**
 * The operands of an elementwise op, numbers made tensors and all broadcast
 * to one shape. Each operand must be a tensor or a number, and the tensors
 * after a `where` condition must share one dtype: a `ShapeError` naming `op`,
 * the operand and what it is, otherwise.
 */
export function broadcastOperands(op: string, operands: readonly (AnyTensor | number)[]): AnyTensor[] {
  const names = OPERAND_NAMES[operands.length] ?? [];
  operands.forEach((x, i) => checkOperand(op, names[i] ?? `operand ${i}`, x));
  checkSameDType(op, operands.filter((x, i): x is AnyTensor => typeof x !== "number" && names[i] !== "cond"));
  const like = operands.find((x): x is AnyTensor => typeof x !== "number");
  const dtype: DType = like?.dtype ?? "float32";
  const tensors = operands.map((x) => (typeof x === "number" ? scalarOf(x, dtype) : x));
  const shape = tensors.reduce<readonly number[]>((s, x) => broadcastIn(op, s, x.shape), []);
  // NOTE: the other operands are the context, so that under jit a constant is broadcast
  // inside the program (a fused index) rather than materialised at full size while tracing
  return tensors.map((x) => stretch(x, shape, tensors));
}
