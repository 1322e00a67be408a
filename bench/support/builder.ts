/**
 * A builder for a stack, `input<S>().then(layer).then(layer)`, measured
 * against `sequential`'s chunked fold by `bench/layers-typecheck.bench.ts`
 * (issue 16 item 4: "fold in chunks, or a tail-recursive fold, or a builder
 * `.then(layer)` API — measure which"). Each `.then` checks one layer against
 * the current shape, so the compiler never folds a list; the price is a
 * call expression nested as deep as the stack is long, and a parameter tuple
 * rebuilt at every step. Kept in the bench, not the library: `sequential`
 * stays the public API unless the builder wins clearly.
 */

import type { Checked } from "../../src/core/rules/dims.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { AnyLayer, ApplyOptions, LayerOut, ParamsOf } from "../../src/layers/layer.js";
import type { ShapeOf } from "../../src/ops/types.js";
import { split, type Key } from "../../src/random/key.js";

/** A stack built so far: from inputs of shape `In` to outputs of shape `S`, with one parameter entry per layer in `P`. */
export interface Builder<In extends Shape, S extends Shape, P extends readonly unknown[]> {
  /** The stack with `layer` after it; does not compile when `layer` does not take `S`. */
  then<L extends AnyLayer>(layer: Checked<LayerOut<L, S>, L>): Builder<In, ShapeOf<LayerOut<L, S>>, [...P, ParamsOf<L>]>;
  init(k: Key): P;
  apply(p: P, x: Tensor<In>, opts?: ApplyOptions): Tensor<S>;
}

/** A layer seen without its types, as the builder runs it. */
interface UntypedLayer {
  init(k: Key): unknown;
  apply(p: unknown, x: Tensor<Shape>, opts?: ApplyOptions): Tensor<Shape>;
}

function build<In extends Shape, S extends Shape, P extends readonly unknown[]>(list: readonly UntypedLayer[]): Builder<In, S, P> {
  return {
    // the layer's shape was checked by `then`'s parameter type; the builder's types follow the list
    then: (layer) => build([...list, layer as unknown as UntypedLayer]),
    // one entry per layer, in order: the shape of P
    init: (k) => list.map((layer, i) => layer.init(split(k, Math.max(list.length, 1))[i] ?? k)) as unknown as P,
    // each layer takes the previous one's output, as `then` checked; the last gives S
    apply: (p, x, opts) => list.reduce((h, layer, i) => layer.apply(p[i], h, opts), x as Tensor<Shape>) as Tensor<S>,
  };
}

/**
 * An empty stack on inputs of shape `In`.
 *
 * @example
 * const net = input<["batch", 784]>().then(dense(784, 10)).then(relu());
 * net.apply(net.init(key(0)), x); // Tensor<["batch", 10]>
 */
export function input<In extends Shape>(): Builder<In, In, []> {
  return build<In, In, []>([]);
}
