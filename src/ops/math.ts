/**
 * Small elementwise composites: `abs`, `square`, `sign`, `clip`.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { greater, less, maximum, minimum, mul, neg, where } from "./elementwise.js";
import type { NumericDType } from "./types.js";

/** `|x|`. @example abs(tensor([-2, 3])); // [2, 3] */
export function abs<S extends Shape, D extends NumericDType>(x: Tensor<S, D>): Tensor<S, D> {
  return maximum(x, neg(x));
}

/** `x * x`. @example square(tensor([3])); // [9] */
export function square<S extends Shape, D extends NumericDType>(x: Tensor<S, D>): Tensor<S, D> {
  return mul(x, x);
}

/** -1, 0 or 1 by the sign of `x` (NaN stays NaN). @example sign(tensor([-2, 0, 5])); // [-1, 0, 1] */
export function sign<S extends Shape, D extends NumericDType>(x: Tensor<S, D>): Tensor<S, D> {
  // 1 where x > 0, -1 where x < 0, else x itself (0, -0 or NaN)
  return where(greater(x, 0), 1, where(less(x, 0), -1, x));
}

/** `x` clipped to `[lo, hi]`. @example clip(tensor([-2, 0.5, 3]), 0, 1); // [0, 0.5, 1] */
export function clip<S extends Shape, D extends NumericDType>(x: Tensor<S, D>, lo: number, hi: number): Tensor<S, D> {
  return minimum(maximum(x, lo), hi);
}
