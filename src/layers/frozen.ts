/**
 * `frozen(layer)`: a stateful layer (batch norm) as a plain layer, with its
 * state frozen, so that it can sit in `sequential` and `residual`.
 *
 * A stack returns one tensor, so it has no place to hand back a stateful
 * layer's new state; `sequential` refuses a stateful layer (at compile time,
 * naming the layer's position, and at run time). `frozen` is the way in: its
 * parameters are the layer's parameters and state together
 * (`{ params, state }`), and it always applies the layer in inference mode
 * (the running statistics, `training: false`), as Keras runs a
 * `BatchNormalization` whose `trainable` is false and Flax a `BatchNorm` with
 * `use_running_average=True`. The state still comes from `init`, or from a
 * checkpoint or a training loop that ran the layer outside the stack.
 * NOTE: the state sits in the parameter tree, so a gradient reaches it as
 * zeros (batch norm stops the gradient there); an optimizer with weight decay
 * would still shrink it. Deliberately left out: training the running
 * statistics inside a stack (apply the stateful layer outside it, or write a
 * function that threads the state).
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Key } from "../random/key.js";
import { makeLayer, type ApplyOptions, type Layer, type ShapeFn, type StatefulLayer } from "./layer.js";

// NOTE: a type alias, not an interface, so that it is a `Tree` (grad and optimizers take trees)
/** The parameters of `frozen(layer)`: the layer's parameters and its state. */
export type FrozenParams<P, St> = { params: P; state: St };

/** The layer `frozen(layer)`: the shape function of `layer`, its parameters and state as parameters. */
export type Frozen<P, St, F extends ShapeFn> = Layer<FrozenParams<P, St>, F>;

/** A stateful layer seen without its types, as `frozen` runs it. */
interface UntypedStatefulLayer<P, St> {
  init(k: Key): P;
  initState(): St;
  apply(p: P, state: St, x: Tensor<Shape>, opts?: ApplyOptions): [Tensor<Shape>, St];
}

/**
 * The stateful `layer` in inference mode, its state part of its parameters:
 * a plain layer that fits in `sequential`.
 *
 * @example
 * const net = sequential(dense(784, 64), frozen(batchNorm(64)), relu());
 * const p = net.init(key(0)); // [{ w, b }, { params: { scale, bias }, state: { mean, var } }, {}]
 * net.apply(p, zeros([32, 784])); // Tensor<[32, 64]>
 */
export function frozen<P, St, F extends ShapeFn>(layer: StatefulLayer<P, St, F>): Frozen<P, St, F> {
  // The typed `apply` only narrows the shapes of this untyped one (it is a view of it: see `makeLayer`).
  const untyped = layer as unknown as UntypedStatefulLayer<P, St>;
  return makeLayer<FrozenParams<P, St>, F>(
    (k) => ({ params: untyped.init(k), state: untyped.initState() }),
    (p, x, opts) => untyped.apply(p.params, p.state, x, { ...opts, training: false })[0],
    { name: `${layer.name ?? "layer"} (frozen)`, wraps: layer },
  );
}
