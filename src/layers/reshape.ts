/**
 * Shape layers: `flatten()` and `reshape(shape)`, which keep the first (batch)
 * dim and rearrange the rest, as Keras's `Flatten` and `Reshape` do.
 *
 * Their shape functions are `FlattenShape` and `ReshapeShape` from
 * `core/rules/reshape.ts`, so the compile-time and run-time checks are the
 * ops'. Deliberately left out: a batch prefix of more than one dim (these
 * layers keep exactly one leading dim).
 */

import type { Product } from "../core/arith/index.js";
import { shapeError } from "../core/errors.js";
import type { Dim, Shape, ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { FlattenShape, ReshapeShape } from "../core/rules/reshape.js";
import { flatten as flattenOp, reshape as reshapeOp } from "../ops/shape.js";
import type { NoParams } from "./activations.js";
import { makeLayer, type InputOf, type Layer, type ShapeFn } from "./layer.js";

/** The shape function of `flatten()`: `[B, ...R]` to `[B, product(R)]`. */
export interface FlattenFn extends ShapeFn {
  readonly output: FlattenShape<InputOf<this>>;
  readonly probe: Dim[];
  readonly expects: "rank 2 or more";
}

/** The shape function of `reshape(T)`: `[B, ...R]` to `[B, ...T]` when `R` and `T` hold as many elements. */
export interface ReshapeFn<T extends readonly number[]> extends ShapeFn {
  readonly output: InputOf<this> extends readonly [infer H extends Dim, ...Shape] ? ReshapeShape<InputOf<this>, [H, ...T]> : Dim[];
  readonly probe: ReshapeProbe<T>;
  readonly expects: ShowShape<ReshapeProbe<T>>;
}

/** The most general input of `reshape(T)`: `["...", product(T)]`, or any shape when `T` holds a -1. */
type ReshapeProbe<T extends readonly number[]> = -1 extends T[number] ? Dim[] : ["...", Product<T>];

/**
 * A layer that merges all dims but the first: `[B, 7, 7, 64]` to `[B, 3136]`.
 *
 * @example
 * flatten().apply({}, zeros([32, 7, 7, 64])); // Tensor<[32, 3136]>
 */
export function flatten(): Layer<NoParams, FlattenFn> {
  return makeLayer<NoParams, FlattenFn>(
    () => ({}),
    (_p, x) => flattenOp(x as Tensor<Dim[]>), // Dim[] defers the rank check to flatten's run-time rule
    { name: "flatten" },
  );
}

/**
 * A layer that reshapes all dims but the first to `shape` (one of which may be -1).
 *
 * @example
 * reshape([7, 7, 64]).apply({}, zeros([32, 3136])); // Tensor<[32, 7, 7, 64]>
 */
export function reshape<const T extends readonly number[]>(shape: T): Layer<NoParams, ReshapeFn<T>> {
  return makeLayer<NoParams, ReshapeFn<T>>(
    () => ({}),
    (_p, x) => {
      const [first] = x.shape;
      if (first === undefined) shapeError("reshape", "a scalar has no batch dim to keep");
      return reshapeOp(x as Tensor<Dim[]>, [first, ...shape]); // Dim[] defers the size check to reshape's run-time rule
    },
    { name: "reshape" },
  );
}
