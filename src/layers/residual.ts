/**
 * `residual(layer)`: `x + layer(x)`, for a layer whose output shape is its
 * input shape (the skip connection of ResNets and transformer blocks). Of
 * a stateful layer (batch norm, or a stack holding one) it is stateful too,
 * with the layer's state: `apply(p, state, x, opts)` gives `[x + y, newState]`.
 *
 * Deliberately left out: a projection on the skip path when the shapes
 * differ (compose a dense layer explicitly).
 */

import type { ShapeError } from "../core/errors.js";
import type { Dim, Shape, ShowShape } from "../core/shape.js";
import type { Checked, IsTuple } from "../core/rules/dims.js";
import type { Tensor } from "../core/tensor.js";
import { add } from "../ops/elementwise.js";
import type { Key } from "../random/key.js";
import { makeLayer, type AnyLayer, type AnyStatefulLayer, type ApplyOptions, type ApplyShape, type InputOf, type Layer, type ParamsOf, type ShapeFn, type ShapeFnOf, type StatefulLayer } from "./layer.js";

/** `S` when `F` maps `S` to `S`; otherwise `F`'s error or a `ShapeError` naming both shapes. */
export type SameOut<F extends ShapeFn, S extends Shape> =
  ApplyShape<F, S> extends infer Out
    ? Out extends Shape
      ? [Out] extends [S]
        ? [S] extends [Out]
          ? S
          : ShapeError<`residual: the layer maps ${ShowShape<S>} to ${ShowShape<Out>}, not to the same shape`>
        : ShapeError<`residual: the layer maps ${ShowShape<S>} to ${ShowShape<Out>}, not to the same shape`>
      : Out
    : never;

/** The shape function of `residual(layer)`: the layer's, required to keep the shape. */
export interface ResidualFn<F extends ShapeFn> extends ShapeFn {
  readonly output: IsTuple<InputOf<this>> extends true ? SameOut<F, InputOf<this>> : Dim[];
  readonly probe: F["probe"];
  readonly expects: F["expects"];
}

/** The layer `residual(L)`: `L`'s parameters (and state, when it has state), a shape-preserving shape function. */
export type Residual<L extends AnyLayer | AnyStatefulLayer> = L extends { initState(): infer St }
  ? StatefulLayer<ParamsOf<L>, St, ResidualFn<ShapeFnOf<L>>>
  : Layer<ParamsOf<L>, ResidualFn<ShapeFnOf<L>>>;

/** The check of `residual`'s argument: the layer must map its most general input to itself. */
type ResidualCheck<F extends ShapeFn> = IsTuple<F["probe"]> extends true ? SameOut<F, F["probe"]> : unknown;

/**
 * `x + layer(x)`; fails to compile when `layer` changes the shape.
 *
 * @example
 * const block = residual(sequential(dense(512, 512), relu()));
 * block.apply(block.init(key(0)), zeros([32, 512])); // Tensor<[32, 512]>
 */
export function residual<L extends AnyLayer | AnyStatefulLayer>(layer: Checked<ResidualCheck<ShapeFnOf<L>>, L>): Residual<L> {
  // The layer runs on the input it is given with its own parameters (and state), as its type promises.
  const inner = layer as unknown as UntypedInner; // every layer has these members at run time; its types only narrow them
  const name = `residual(${layer.name ?? "layer"})`;
  if (inner.initState !== undefined) {
    const initState = inner.initState;
    const stateful = {
      name,
      wraps: layer,
      init: (k: Key) => inner.init(k),
      initState: () => initState(),
      apply: (p: unknown, state: unknown, x: Tensor<Shape>, opts?: ApplyOptions): [Tensor<Shape>, unknown] => {
        const [y, next] = inner.apply(p, state, x, opts) as [Tensor<Shape>, unknown]; // a layer with initState returns [y, state]
        return [add(x, y), next];
      },
    };
    return stateful as unknown as Residual<L>; // L has state: this is StatefulLayer<ParamsOf<L>, its state, ResidualFn<...>>
  }
  const plain = makeLayer<ParamsOf<L>, ResidualFn<ShapeFnOf<L>>>(
    (k) => inner.init(k) as ParamsOf<L>, // init gives L's parameters
    (p, x, opts) => add(x, inner.apply(p, x, opts) as Tensor<Shape>), // a layer without state returns its output
    { name, wraps: layer },
  );
  return plain as unknown as Residual<L>; // L has no state: this is Layer<ParamsOf<L>, ResidualFn<...>>
}

/** The layer inside `residual`, seen without its types: `apply` takes the state first when it has `initState`. */
interface UntypedInner {
  init(k: Key): unknown;
  initState?(): unknown;
  apply(p: unknown, ...rest: unknown[]): Tensor<Shape> | [Tensor<Shape>, unknown];
}
