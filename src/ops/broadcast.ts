/**
 * Broadcasting operands to a common shape before an elementwise primitive.
 *
 * Elementwise primitives take operands of one shape; the ops call
 * `broadcastOperands`, which computes NumPy's broadcast shape (a `ShapeError`
 * naming the op when there is none) and inserts a `broadcast` primitive for
 * each operand that needs one. Under jit, fusion turns those broadcasts into
 * index arithmetic, so no broadcast copy is made.
 */

import { allocate, storeValue, type DType } from "../core/dtype.js";
import { broadcastIn } from "../core/rules/broadcast.js";
import { sameShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../transforms/trace.js";

/** `x` broadcast to `shape` (trailing dims aligned); `x` itself when it has that shape. */
export function broadcastTo(x: AnyTensor, shape: readonly number[]): AnyTensor {
  if (sameShape(x.shape, shape)) return x;
  const offset = shape.length - x.shape.length;
  return bind("broadcast", [x], { shape: [...shape], dims: x.shape.map((_, i) => i + offset) });
}

/** A rank-0 tensor holding `value` as `dtype`. */
export function scalarOf(value: number, dtype: DType): AnyTensor {
  const data = allocate(dtype, 1);
  data[0] = storeValue(dtype, value);
  return new Tensor([], dtype, data);
}

/** The operands of an elementwise op, numbers made tensors and all broadcast to one shape. */
export function broadcastOperands(op: string, operands: readonly (AnyTensor | number)[]): AnyTensor[] {
  const like = operands.find((x): x is AnyTensor => typeof x !== "number");
  const dtype: DType = like?.dtype ?? "float32";
  const tensors = operands.map((x) => (typeof x === "number" ? scalarOf(x, dtype) : x));
  const shape = tensors.reduce<readonly number[]>((s, x) => broadcastIn(op, s, x.shape), []);
  return tensors.map((x) => broadcastTo(x, shape));
}
