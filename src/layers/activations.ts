/**
 * Activation layers: the elementwise activations and softmax as layers with
 * no parameters, so that they fit in a `sequential` stack.
 *
 * Each is the op of the same name from `ops/` applied to the whole input; the
 * shape function is the identity. Deliberately left out: configurable
 * activations (leaky slope, softmax axis); write a one-line layer with
 * `activation(f)` for those.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { gelu as geluOp, relu as reluOp, sigmoid as sigmoidOp, silu as siluOp, type GeluOptions } from "../ops/activations.js";
import { tanh as tanhOp } from "../ops/elementwise.js";
import { softmax as softmaxOp } from "../ops/reduce.js";
import { makeLayer, type Layer, type SameShape } from "./layer.js";
import type { NoParams } from "../core/tree.js";

/** The parameters of a layer that has none: an empty record. */
export type { NoParams };

/** A layer with no parameters that keeps the shape of its input. */
export type Activation = Layer<NoParams, SameShape>;

/**
 * A parameter-free layer from an elementwise function.
 *
 * @example
 * const leaky = activation((x) => maximum(x, mul(0.01, x)));
 */
export function activation(f: (x: Tensor<Shape>) => Tensor<Shape>, name = "activation"): Activation {
  return makeLayer<NoParams, SameShape>(
    () => ({}),
    (_p, x) => f(x),
    { name },
  );
}

/** `max(x, 0)` as a layer (its derivative at 0 is 0, as in PyTorch and JAX). @example sequential(dense(784, 512), relu()) */
export const relu = (): Activation => activation(reluOp, "relu");
/**
 * GELU as a layer: the exact erf form by default (PyTorch's `nn.GELU()`),
 * the tanh form with `{ approximate: "tanh" }` (`nn.GELU(approximate="tanh")`).
 *
 * @example
 * sequential(dense(768, 3072), gelu({ approximate: "tanh" }))
 */
export const gelu = (options: GeluOptions = {}): Activation => activation((x) => geluOp(x, options), "gelu");
/** `x · sigmoid(x)` as a layer. @example sequential(dense(512, 512), silu()) */
export const silu = (): Activation => activation(siluOp, "silu");
/** `tanh(x)` as a layer. @example sequential(dense(512, 512), tanh()) */
export const tanh = (): Activation => activation(tanhOp, "tanh");
/** `1 / (1 + e^-x)` as a layer. @example sequential(dense(512, 1), sigmoid()) */
export const sigmoid = (): Activation => activation(sigmoidOp, "sigmoid");
/** Softmax over the last axis as a layer. @example sequential(dense(512, 10), softmax()) */
export const softmax = (): Activation => activation((x) => softmaxOp(x), "softmax");
