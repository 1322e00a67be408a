/**
 * Parameter initialisers: a key and a shape to a float32 tensor of that shape.
 *
 * The definitions are Keras's (and JAX's `jax.nn.initializers`): fan-in and
 * fan-out of a kernel `[...receptive, in, out]` are `in · receptive` and
 * `out · receptive`; a vector has fan-in = fan-out = its length. `heNormal`
 * and `lecunNormal` draw from a normal truncated to two standard deviations,
 * with the standard deviation divided by 0.87962566103423978 (the standard
 * deviation of a unit normal truncated to (-2, 2)) so that the variance is
 * exactly `2 / fanIn` and `1 / fanIn`. Deliberately left out: the
 * `mode`/`distribution` knobs of `VarianceScaling`.
 */

import type { RuntimeShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { zerosOfShape as zerosOf } from "../core/create.js";
import { mul } from "../ops/elementwise.js";
import { truncatedNormal, uniform } from "../random/distributions.js";
import type { Key } from "../random/key.js";

/** An initialiser: parameters of shape `S` from a key. */
export type Initializer = <const S extends RuntimeShape>(k: Key, shape: S) => Tensor<[...S]>;

/** The standard deviation of a unit normal truncated to (-2, 2). */
const TRUNCATED_STD = 0.87962566103423978;

/**
 * The fan-in and fan-out of a parameter of shape `shape`, as Keras computes them.
 *
 * @example
 * fans([784, 512]); // { fanIn: 784, fanOut: 512 }
 */
export function fans(shape: RuntimeShape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[shape.length - 2] ?? 1) * receptive, fanOut: (shape[shape.length - 1] ?? 1) * receptive };
}

/**
 * Uniform in `[-limit, limit)` with `limit = √(6 / (fanIn + fanOut))`: variance `2 / (fanIn + fanOut)`.
 *
 * @example
 * glorotUniform(key(0), [784, 512]); // Tensor<[784, 512]>, |w| < 0.068
 */
export const glorotUniform: Initializer = (k, shape) => {
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(k, shape, { minval: -limit, maxval: limit });
};

/**
 * Truncated normal with variance `2 / fanIn` (He et al. 2015, for ReLU).
 *
 * @example
 * heNormal(key(0), [784, 512]); // Tensor<[784, 512]>, variance ≈ 2 / 784
 */
export const heNormal: Initializer = (k, shape) => scaledTruncatedNormal(k, shape, 2 / fans(shape).fanIn);

/**
 * Truncated normal with variance `1 / fanIn` (LeCun 1998, for SELU and tanh).
 *
 * @example
 * lecunNormal(key(0), [784, 512]); // Tensor<[784, 512]>, variance ≈ 1 / 784
 */
export const lecunNormal: Initializer = (k, shape) => scaledTruncatedNormal(k, shape, 1 / fans(shape).fanIn);

/**
 * All zeros; the key is unused.
 *
 * @example
 * zeros(key(0), [512]); // Tensor<[512]> of zeros
 */
export const zeros: Initializer = (_k, shape) => zerosOf(shape);

function scaledTruncatedNormal<const S extends RuntimeShape>(k: Key, shape: S, variance: number): Tensor<[...S]> {
  // std(c · z) = c · 0.8796 for z unit normal truncated to (-2, 2): divide it out
  return mul(truncatedNormal(k, shape, -2, 2), Math.sqrt(variance) / TRUNCATED_STD);
}

/** The initialisers by name, for layer options. */
export const initializers = { glorotUniform, heNormal, lecunNormal, zeros } as const;

/** The name of an initialiser. */
export type InitializerName = keyof typeof initializers;
