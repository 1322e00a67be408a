/**
 * Dropout: while training, each element is zeroed with probability `rate`
 * and the others are scaled by `1 / (1 - rate)`, so that the expected output
 * is the input; otherwise the identity.
 *
 * Randomness is explicit, as in Flax: the mask is drawn from the key in the
 * apply options (`{ training: true, key }`), so one key gives one mask and a
 * training step without a key is an error rather than a hidden global
 * generator. `sequential` splits its key once per layer. Under `jit` the key
 * must be a tensor argument (`keyData(k)`), drawn from by the `random_bits`
 * primitive on every call; a `Key` value there would be frozen into the
 * program (every call would reuse the first mask), so it is refused with a
 * message. Eagerly and under `jit`, one key gives one mask. Deliberately left
 * out: noise shapes (dropping whole channels); build the mask with
 * `bernoulliMask` for those.
 */

import { isFloatDType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { mul, where } from "../ops/elementwise.js";
import { Key } from "../random/key.js";
import { bernoulliMask } from "../random/staged.js";
import { insideJit } from "../transforms/jit.js";
import type { NoParams } from "./activations.js";
import { makeLayer, type Layer, type SameShape } from "./layer.js";

/** The dropout layer: no parameters, the shape of its input. */
export type Dropout = Layer<NoParams, SameShape>;

/**
 * Dropout with drop probability `rate` in `[0, 1)`.
 *
 * @example
 * const drop = dropout(0.1);
 * drop.apply({}, x, { training: true, key: key(1) }); // about 10% zeros, the rest x / 0.9
 * drop.apply({}, x); // x
 */
export function dropout(rate: number): Dropout {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new RangeError(`dropout: the rate must be in [0, 1), got ${String(rate)}`);
  return makeLayer<NoParams, SameShape>(
    () => ({}),
    (_p, x, opts) => {
      if (opts?.training !== true || rate === 0) return x;
      if (opts.key === undefined) throw new Error("dropout: training needs a key: apply(p, x, { training: true, key })");
      if (opts.key instanceof Key && insideJit()) {
        throw new Error("dropout: a Key inside jit would replay the mask of its first call; pass keyData(k) as an argument of the jitted function");
      }
      if (!isFloatDType(x.dtype)) shapeError("dropout", `expects a float input but gets ${String(x.dtype)}`);
      const keep = bernoulliMask(opts.key, 1 - rate, [...x.shape]) as Tensor<Shape, "bool">; // the shape of x, widened to Shape
      return where(keep, mul(x, 1 / (1 - rate)), 0);
    },
    { name: "dropout" },
  );
}
