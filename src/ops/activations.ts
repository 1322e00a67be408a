/**
 * Activation functions, as composites of elementwise primitives: they need no
 * derivative or kernel code of their own, and under jit each fuses into the
 * loop around it.
 *
 * The formulas are the numerically stable ones: `sigmoid` never takes `exp`
 * of a large positive number, `softplus` and `logSigmoid` go through `log1p`
 * of `exp(-|x|)`, and `gelu` is the exact erf form by default (PyTorch's
 * default) with the tanh form (GPT-2's, JAX's default) as an option.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat } from "../core/validate.js";
import { customJvp } from "../transforms/custom.js";
import { shapeError } from "../core/errors.js";
import { add, div, erfc, exp, greater, greaterEqual, log1p, maximum, mul, neg, tanh as tanhOp, where } from "./elementwise.js";
import type { FloatDType } from "./types.js";

/**
 * `max(x, 0)`. Its derivative at 0 is 0, the convention of PyTorch and JAX
 * (`relu'(0) = 0`, so a unit at exactly 0 passes no gradient); elsewhere it
 * is 1 above 0 and 0 below.
 *
 * @example
 * relu(tensor([-1, 2])); // [0, 2]
 */
export function relu<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("relu", x);
  return reluWithZeroAtZero(x) as Tensor<S, D>; // elementwise: the shape and dtype of x
}

/**
 * `max(x, 0)` with the derivative `x > 0 ? dx : 0`.
 * NOTE: max's own rule splits a tie's tangent in halves, which would make
 * relu'(0) = 1/2; the forward stays max, one op that fuses (and lowers to
 * WebAssembly) as before, and only the tangent takes the select.
 */
const reluWithZeroAtZero = customJvp(
  (x: Tensor<Shape, FloatDType>) => maximum(x, 0),
  ([x], [dx]) => where(greater(x, 0), dx, 0),
);

/**
 * `1 / (1 + e^-x)`, computed as `1 / (1 + e^-x)` for `x >= 0` and
 * `e^x / (1 + e^x)` below, which overflows for no input.
 *
 * @example
 * sigmoid(tensor([0])); // [0.5]
 */
export function sigmoid<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("sigmoid", x);
  // sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: each branch smooth and free of overflow
  const { up, down, positive } = split(x);
  const below = exp(down);
  return where(positive, div(1, add(1, exp(neg(up)))), div(below, add(1, below)));
}

/**
 * `x` split at 0 for two-branch formulas: `up` is `x` where `x >= 0` (else 0)
 * and `down` is `x` where `x < 0` (else 0).
 * NOTE: `where`, not `max`/`min`, so that each branch is one smooth function
 * at 0, whose derivatives of every order are exact there, and so that the
 * branch not taken never sees an input that overflows (its cotangent would
 * then be 0 * Infinity).
 */
function split<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): { up: Tensor<S, D>; down: Tensor<S, D>; positive: Tensor<S, "bool"> } {
  const positive = greaterEqual(x, 0);
  return { up: where(positive, x, 0), down: where(positive, 0, x), positive };
}

/**
 * `log(1 + e^x)`, as `x + log1p(e^-x)` for `x >= 0` and `log1p(e^x)` below.
 *
 * @example
 * softplus(tensor([0])); // [0.6931...]
 */
export function softplus<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("softplus", x);
  // softplus(x) = x + log1p(e^-x) for x >= 0, log1p(e^x) below
  const { up, down, positive } = split(x);
  return where(positive, add(up, log1p(exp(neg(up)))), log1p(exp(down)));
}

/**
 * `log(sigmoid(x))`, as `-softplus(-x)`: never the log of 0.
 *
 * @example
 * logSigmoid(tensor([-1000])); // [-1000]
 */
export function logSigmoid<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("logSigmoid", x);
  return neg(softplus(neg(x)));
}

/** The hyperbolic tangent. @example tanh(tensor([0])); // [0] */
export function tanh<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("tanh", x);
  return tanhOp(x);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The options of `gelu`: PyTorch's `approximate`. */
export interface GeluOptions {
  /** `"none"` (the default): the exact `x Φ(x)`; `"tanh"`: the tanh approximation. */
  readonly approximate?: "none" | "tanh";
}

/**
 * The Gaussian error linear unit `x Φ(x)`, `Φ` the standard normal CDF.
 * By default the exact form `0.5 x erfc(-x / √2)` (equal to PyTorch's
 * `0.5 x (1 + erf(x / √2))`, `approximate="none"`, but without the
 * cancellation of `1 + erf` far left of 0); with `{ approximate: "tanh" }`
 * the tanh form `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))` of GPT-2,
 * PyTorch's `approximate="tanh"` and JAX's `gelu(approximate=True)`, the
 * default of `jax.nn.gelu`.
 *
 * @example
 * gelu(tensor([0, 1])); // [0, 0.8413]
 * gelu(tensor([0, 1]), { approximate: "tanh" }); // [0, 0.8412]
 */
export function gelu<S extends Shape, D extends FloatDType>(x: Tensor<S, D>, options: GeluOptions = {}): Tensor<S, D> {
  checkFloat("gelu", x);
  const approximate = options.approximate ?? "none";
  if (approximate === "tanh") {
    const inner = mul(SQRT_2_OVER_PI, add(x, mul(0.044715, mul(x, mul(x, x)))));
    return mul(mul(0.5, x), add(1, tanhOp(inner)));
  }
  if (approximate !== "none") shapeError("gelu", `approximate must be "none" or "tanh", got ${String(approximate)}`);
  // gelu(x) = x Φ(x) = 0.5 x erfc(-x/√2)
  return mul(mul(0.5, x), erfc(mul(x, -Math.SQRT1_2)));
}

/**
 * `x * sigmoid(x)` (also called swish).
 *
 * @example
 * silu(tensor([0])); // [0]
 */
export function silu<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  checkFloat("silu", x);
  return mul(x, sigmoid(x));
}

/**
 * The logistic function as `(1 + tanh(x / 2)) / 2`: exact, finite for every
 * `x`, and one `tanh` (a fast path of the float32 kernels) where the
 * two-branch `sigmoid` needs two exponentials and a select. Its error is
 * absolute, not relative (the left tail rounds to 0 sooner than `sigmoid`'s):
 * right for gates, which the recurrent layers use it for.
 *
 * @example
 * sigmoidByTanh(tensor([0])).toArray(); // [0.5]
 */
export function sigmoidByTanh<S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D> {
  // σ(x) = (1 + tanh(x / 2)) / 2
  return mul(add(tanhOp(mul(x, 0.5)), 1), 0.5);
}
