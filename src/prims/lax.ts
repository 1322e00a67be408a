/**
 * Thin, untyped wrappers of `bind` for writing derivative rules.
 *
 * JVP and transpose rules are written with these, so a rule's own operations
 * go through the interpreter stack and can be differentiated again (which is
 * how derivatives of any order work). Tangents may be symbolic zeros
 * (`null`): the wrappers of linear operations pass `null` through, so a rule
 * does no work for an input that does not depend on the differentiated
 * arguments.
 */

import { allocate, storeValue, type DType } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";
import { bind } from "./bind.js";
import type { Comparison } from "../backend/scalar-ops.js";
import type { AnyTensor } from "./types.js";

/** A tangent or cotangent: a tensor, or `null` for a symbolic zero. */
export type Maybe = AnyTensor | null;

/** A rank-0 constant of `dtype`. */
export function scalar(value: number, dtype: DType): AnyTensor {
  const data = allocate(dtype, 1);
  data[0] = storeValue(dtype, value);
  return new Tensor([], dtype, data);
}

/** `value` broadcast to the shape and dtype of `like`. */
export function fullLike(like: { readonly shape: readonly number[]; readonly dtype: DType }, value: number): AnyTensor {
  const s = scalar(value, like.dtype);
  return like.shape.length === 0 ? s : bind("broadcast", [s], { shape: [...like.shape], dims: [] });
}

/** Zeros of the shape and dtype of `like`: a materialised symbolic zero. */
export function zerosLike(like: { readonly shape: readonly number[]; readonly dtype: DType }): AnyTensor {
  return fullLike(like, 0);
}

/** `x` itself, or zeros like `like` for a symbolic zero. */
export function instantiate(x: Maybe, like: { readonly shape: readonly number[]; readonly dtype: DType }): AnyTensor {
  return x ?? zerosLike(like);
}

export const neg = (x: AnyTensor): AnyTensor => bind("neg", [x], {});
export const exp = (x: AnyTensor): AnyTensor => bind("exp", [x], {});
export const log = (x: AnyTensor): AnyTensor => bind("log", [x], {});
export const sin = (x: AnyTensor): AnyTensor => bind("sin", [x], {});
export const cos = (x: AnyTensor): AnyTensor => bind("cos", [x], {});
export const add = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("add", [x, y], {});
export const sub = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("sub", [x, y], {});
export const mul = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("mul", [x, y], {});
export const div = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("div", [x, y], {});
export const pow = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("pow", [x, y], {});
export const select = (c: AnyTensor, x: AnyTensor, y: AnyTensor): AnyTensor => bind("select", [c, x, y], {});
export const compare = (op: Comparison, x: AnyTensor, y: AnyTensor): AnyTensor => bind("compare", [x, y], { op });
export const cast = (x: AnyTensor, dtype: DType): AnyTensor => (x.dtype === dtype ? x : bind("cast", [x], { dtype }));

/** `x * c` for a constant `c` of `x`'s shape given as a number. */
export const scale = (x: AnyTensor, c: number): AnyTensor => mul(x, fullLike(x, c));

/** Sum of tangents, with symbolic zeros dropped. */
export function addTangents(x: Maybe, y: Maybe): Maybe {
  if (x === null) return y;
  if (y === null) return x;
  return add(x, y);
}

/** A linear op applied to a tangent, passing symbolic zeros through. */
export function linear(x: Maybe, f: (x: AnyTensor) => AnyTensor): Maybe {
  return x === null ? null : f(x);
}

/** Sums `x` over `axes` (normalised, increasing). */
export const reduceSum = (x: AnyTensor, axes: readonly number[]): AnyTensor => (axes.length === 0 ? x : bind("reduce_sum", [x], { axes }));

/** Broadcasts `x` into `shape`, input axis `i` landing on `dims[i]`. */
export const broadcastInDim = (x: AnyTensor, shape: readonly number[], dims: readonly number[]): AnyTensor => bind("broadcast", [x], { shape, dims });

/** Reshapes `x` to `shape` (sizes only). */
export const reshape = (x: AnyTensor, shape: readonly number[]): AnyTensor =>
  x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : bind("reshape", [x], { shape });
