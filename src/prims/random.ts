/**
 * `random_bits`: Threefry-2x32 bits from a key held in a tensor, so that
 * randomness can be staged by `jit` and drawn anew on every call.
 *
 * The key is an int32 tensor `[2]` holding the two words of a `Key` (see
 * `random/key.ts`, `keyData`); the result is an int32 tensor of the requested
 * shape whose elements are the uint32 words of Threefry over the counters
 * `0 .. n - 1`, read as int32 (two's complement). These are the words of
 * `randomBits(k, n)`, and `random_bits(k, [n, 2])` holds the keys of
 * `split(k, n)`: JAX's original (non-partitionable) scheme, where a split is
 * random bits reshaped. Bits have no derivative.
 */

import { shapeError } from "../core/errors.js";
import { badDim, formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { threefry2x32Iota } from "../backend/kernels/threefry.js";
import { perExample } from "./batching.js";
import { nonlinear } from "./elementwise.js";
import type { RandomBitsParams } from "./params.js";
import type { Aval, Primitive } from "./types.js";

function bitsShape(inputs: readonly Aval[], shape: readonly number[]): Aval {
  const [k] = inputs;
  if (inputs.length !== 1 || k === undefined) shapeError("random_bits", `takes 1 operand, got ${inputs.length}`);
  if (k.dtype !== "int32" || k.shape.length !== 1 || k.shape[0] !== 2) {
    shapeError("random_bits", `expects a key as int32 [2] but gets ${k.dtype} ${formatShape(k.shape)}`);
  }
  for (const d of shape) {
    const bad = badDim(d);
    if (bad !== undefined) shapeError("random_bits", `shape ${formatShape(shape)}: ${bad}`);
  }
  if (shapeSize(shape) > 2 ** 31 - 1) shapeError("random_bits", `shape ${formatShape(shape)} holds more than 2^31 - 1 elements`);
  return { shape: [...shape], dtype: "int32" };
}

/** Threefry-2x32 bits of the key operand, as int32, of shape `shape`. */
export const randomBits: Primitive<RandomBitsParams> = {
  name: "random_bits",
  shape: (inputs, { shape }) => bitsShape(inputs, shape),
  impl: (inputs, { shape }) => {
    const aval = bitsShape(inputs, shape);
    const words = inputs[0]?.data ?? [];
    const bits = threefry2x32Iota([Number(words[0] ?? 0) >>> 0, Number(words[1] ?? 0) >>> 0], shapeSize(aval.shape));
    return new Tensor(aval.shape, "int32", new Int32Array(bits.buffer, bits.byteOffset, bits.length));
  },
  jvp: () => null, // bits have no tangent
  transpose: () => nonlinear("random_bits"),
  // a key per example: each example's bits drawn from its own key, as a loop would
  batch: (inputs, dims, p, size) => perExample("random_bits", inputs, dims, p, size),
};
