/**
 * The embedding layer: int32 indices to rows of a learned table.
 *
 * As PyTorch's `nn.Embedding` and Flax's `nn.Embed`: the table is
 * `[numEmbeddings, features]`, initialised from a unit normal (both their
 * defaults), and `[...B]` indices give `[...B, features]`. An index outside
 * `[0, numEmbeddings)` is an error naming it, never a read past the table
 * (the `gather` primitive checks every index, eagerly and under `jit`). The
 * gradient with respect to the table adds each output row back at its index
 * (`scatter_add`); indices have no gradient. Deliberately left out: a padding
 * index and max-norm renormalisation.
 */

import type { DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { badDim, formatShape, type Dim, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { take } from "../ops/shape.js";
import { normal } from "../random/distributions.js";
import type { Initializer } from "./init.js";
import { checkParams, makeLayer, type InputOf, type Layer, type ShapeFn } from "./layer.js";

/**
 * The shape function of `embedding(N, F)`: indices `[...B]` to `[...B, F]`.
 *
 * @example
 * type Y = ApplyShape<EmbeddingFn<F>, ["batch", 32]>; // ["batch", 32, F]
 */
export interface EmbeddingFn<F extends Dim> extends ShapeFn {
  readonly output: [...InputOf<this>, F];
  // a batch of sequences, so that a stack that starts here carries the width F (and the rank) into the next layer
  readonly probe: ["...", number];
  readonly expects: "int32 indices";
  readonly inputDType: "int32";
}

// NOTE: a type alias, not an interface, so that it is a `Tree` (grad and optimizers take trees)
/** The parameters of `embedding(N, F)`: the table. */
export type EmbeddingParams<N extends number, F extends number> = {
  table: Tensor<[N, F]>;
};

/** The options of `embedding`. */
export interface EmbeddingOptions {
  /** The table's initialiser (default a unit normal). */
  readonly init?: Initializer;
}

/**
 * The layer `embedding(N, F)`: int32 indices in (its shape function's
 * `inputDType`), float32 rows out. It can start a `sequential` stack.
 */
export type Embedding<N extends number, F extends number> = Layer<EmbeddingParams<N, F>, EmbeddingFn<F>>;

/** A unit normal: the default table of PyTorch and Flax. */
const unitNormal: Initializer = (k, shape) => normal(k, shape);

/**
 * An embedding of `numEmbeddings` rows of `features` values each.
 *
 * @example
 * const embed = embedding(256, 64);
 * const p = embed.init(key(0)); // { table: Tensor<[256, 64]> }
 * embed.apply(p, tensor([[72, 105]], "int32")); // Tensor<[1, 2, 64]>
 */
export function embedding<const N extends number, const F extends number>(numEmbeddings: N, features: F, options: EmbeddingOptions = {}): Embedding<N, F> {
  for (const [name, n] of [["numEmbeddings", numEmbeddings], ["features", features]] as const) {
    const bad = badDim(n);
    if (bad !== undefined) shapeError("embedding", `${name}: ${bad}`);
  }
  const init = options.init ?? unitNormal;
  return makeLayer<EmbeddingParams<N, F>, EmbeddingFn<F>>(
    (k) => ({ table: init(k, [numEmbeddings, features]) }),
    (p, x) => {
      // the typed view takes int32 indices (EmbeddingFn's inputDType); the dtype is checked here for untyped callers
      const indices = x as Tensor<Shape, DType>;
      if (indices.dtype !== "int32") shapeError("embedding", `expects int32 indices but gets ${indices.dtype} ${formatShape(indices.shape)}`);
      checkParams("embedding", p, { table: [numEmbeddings, features] });
      // the rows at the indices: indices.shape + [features]
      return take(p.table, indices as Tensor<Shape, "int32">) as Tensor<Shape>; // the dtype was checked just above
    },
    { name: "embedding", inputDType: "int32" },
  );
}
