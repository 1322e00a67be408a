/**
 * `residual(layer)`: `x + layer(x)`, for a layer whose output shape is its
 * input shape (the skip connection of ResNets and transformer blocks).
 *
 * Deliberately left out: a projection on the skip path when the shapes
 * differ (compose a dense layer explicitly).
 */

import type { ShapeError } from "../core/errors.js";
import type { Dim, Shape, ShowShape } from "../core/shape.js";
import type { Checked, IsTuple } from "../core/rules/dims.js";
import type { Tensor } from "../core/tensor.js";
import { add } from "../ops/elementwise.js";
import { makeLayer, type InputOf, type AnyLayer, type ApplyShape, type Layer, type ParamsOf, type ShapeFn, type ShapeFnOf } from "./layer.js";

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

/** The layer `residual(L)`: `L`'s parameters, a shape-preserving shape function. */
export type Residual<L extends AnyLayer> = Layer<ParamsOf<L>, ResidualFn<ShapeFnOf<L>>>;

/** The check of `residual`'s argument: the layer must map its most general input to itself. */
type ResidualCheck<F extends ShapeFn> = IsTuple<F["probe"]> extends true ? SameOut<F, F["probe"]> : unknown;

/**
 * `x + layer(x)`; fails to compile when `layer` changes the shape.
 *
 * @example
 * const block = residual(sequential(dense(512, 512), relu()));
 * block.apply(block.init(key(0)), zeros([32, 512])); // Tensor<[32, 512]>
 */
export function residual<L extends AnyLayer>(layer: Checked<ResidualCheck<ShapeFnOf<L>>, L>): Residual<L> {
  // The layer runs on the input it is given with its own parameters, as its type promises.
  const inner = layer as unknown as { init(k: unknown): ParamsOf<L>; apply(p: ParamsOf<L>, x: Tensor<Shape>, opts?: unknown): Tensor<Shape> };
  return makeLayer<ParamsOf<L>, ResidualFn<ShapeFnOf<L>>>(
    (k) => inner.init(k),
    (p, x, opts) => add(x, inner.apply(p, x, opts)),
    { name: `residual(${layer.name ?? "layer"})`, wraps: layer },
  );
}
