/**
 * Small elementwise composites: `abs`, `square`, `sign`, `clip`,
 * `reciprocal`, `rsqrt`, and the tests `isFinite` and `isNaN`.
 *
 * Each is a line or two of elementwise ops, so it needs no derivative or
 * kernel code of its own and fuses with its neighbours under jit.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat } from "../core/validate.js";
import { div, equal, greater, less, maximum, minimum, mul, neg, notEqual, sqrt, sub, where } from "./elementwise.js";
import type { FloatDType, NumericDType } from "./types.js";

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

/** `1 / x` (Infinity at 0). @example reciprocal(tensor([2, 4])); // [0.5, 0.25] */
export function reciprocal<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("reciprocal", x);
  return div(1, x);
}

/** `1 / sqrt(x)`. @example rsqrt(tensor([4, 16])); // [0.5, 0.25] */
export function rsqrt<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("rsqrt", x);
  return div(1, sqrt(x));
}

/**
 * True where `x` is neither infinite nor NaN, as a bool tensor of `x`'s shape.
 *
 * @example
 * isFinite(tensor([1, Infinity, NaN])); // [true, false, false]
 */
export function isFinite<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, "bool"> {
  checkFloat("isFinite", x);
  // x - x is 0 for a finite x and NaN for ±Infinity and NaN
  return equal(sub(x, x), 0);
}

/**
 * True where `x` is NaN, as a bool tensor of `x`'s shape.
 *
 * @example
 * isNaN(tensor([1, NaN])); // [false, true]
 */
export function isNaN<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, "bool"> {
  checkFloat("isNaN", x);
  return notEqual(x, x); // NaN is the one value not equal to itself
}
