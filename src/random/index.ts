/**
 * Random numbers: counter-based, splittable PRNG keys (Threefry-2x32, as in
 * JAX) and the samplers that turn a key into a tensor.
 *
 * @example
 * const [k1, k2] = split(key(0));
 * const w = normal(k1, [784, 10]); // Tensor<[784, 10]>
 * const drop = bernoulli(k2, 0.9, [10]); // Tensor<[10], "bool">
 */

export { threefry2x32 } from "../backend/kernels/threefry.js";
export { Key, foldIn, key, randomBits, split } from "./key.js";
export { bernoulliMask, keyData, splitKeys, type AnyKey, type KeyData } from "./staged.js";
export { erfinv } from "./erf.js";
export {
  bernoulli,
  categorical,
  normal,
  permutation,
  randint,
  truncatedNormal,
  uniform,
  type FloatOptions,
  type UniformOptions,
} from "./distributions.js";
