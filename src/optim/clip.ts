/**
 * Gradient clipping by the global norm: a transformation with no state that
 * rescales all the grads together, keeping their direction.
 *
 * As optax's `clip_by_global_norm`: `norm = sqrt(sum over leaves of sum(g^2))`
 * and every leaf is multiplied by `min(1, maxNorm / norm)`. The norm is
 * summed in float64 whatever the leaves' dtypes. Deliberately left out:
 * per-leaf clipping and clipping by value (`clip` on each leaf serves).
 */

import { tensor } from "../core/create.js";
import type { Tensor } from "../core/tensor.js";
import { add, cast, div, minimum, sqrt } from "../ops/elementwise.js";
import { square } from "../ops/math.js";
import { sum } from "../ops/reduce.js";
import { check } from "./check.js";
import { floatLeaves, mapLeaves, scaleLeaf } from "./tree-map.js";
import { transformation, type StateKind, type Transformation } from "./transformation.js";

/** The state of a transformation that keeps none. */
export type EmptyState = { readonly [key: string]: never };

/** `EmptyState` whatever the params. */
export interface EmptyKind extends StateKind {
  readonly state: EmptyState;
}

/**
 * Scales the grads by `min(1, maxNorm / globalNorm)`.
 *
 * @example
 * const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 1e-3 }));
 */
export function clipByGlobalNorm(maxNorm: number): Transformation<EmptyKind> {
  const op = "clipByGlobalNorm";
  check(op, "maxNorm", maxNorm, maxNorm > 0, "positive");
  return transformation<EmptyKind>(
    () => ({}),
    (grads, state) => {
      // a sum over all axes is rank 0; the type of a leaf of unknown rank only says Dim[]
      const squares = floatLeaves(op, grads).map((g) => cast(sum(square(g)), "float64") as Tensor<[], "float64">);
      const norm = sqrt(squares.reduce((a: Tensor<[], "float64">, b) => add(a, b), tensor(0, "float64")));
      // NOTE: a zero norm gives maxNorm / 0 = Infinity, so the factor is 1
      const factor = minimum(div(tensor(maxNorm, "float64"), norm), 1);
      return [mapLeaves(op, [grads], (g) => scaleLeaf(g, factor)), state];
    },
  );
}
