/**
 * RMSProp: gradients scaled by a running root mean square.
 *
 * As optax's `rmsprop` (Tieleman & Hinton 2012), uncentered:
 * `nu = decay nu + (1 - decay) g^2`, `u = -lr * g / sqrt(nu + eps)` (eps
 * inside the root, as optax), then with momentum the trace
 * `t = u + momentum t_prev` is the update. Deliberately left out: the
 * centered variant, optax's `initial_scale` and Nesterov momentum.
 */

import { zeros } from "../core/create.js";
import type { Tensor } from "../core/tensor.js";
import type { Tree } from "../core/tree.js";
import { add, div, mul, sqrt } from "../ops/elementwise.js";
import { square } from "../ops/math.js";
import { check } from "./check.js";
import { checkLearningRate, checkUnit, descentFactor, type LearningRate } from "./options.js";
import { mapLeaves, scaleLeaf, zerosLike } from "./tree-map.js";
import { transformation, type StateKind, type Transformation } from "./transformation.js";

/** The state of `rmsprop` for params `P`: the step count, the mean square and the momentum trace. */
export type RmspropState<P> = { readonly count: Tensor<[], "int32">; readonly nu: P; readonly trace: P };

/** `RmspropState` as a type-level function of the params. */
export interface RmspropKind extends StateKind {
  readonly state: RmspropState<this["params"]>;
}

/** The options of `rmsprop`. */
export interface RmspropOptions {
  readonly learningRate: LearningRate;
  /** The decay of the mean square, in [0, 1) (default 0.9). */
  readonly decay?: number;
  /** Added to the mean square under the root (default 1e-8). */
  readonly eps?: number;
  /** The decay of the momentum trace, in [0, 1) (default 0: none). */
  readonly momentum?: number;
}

/**
 * RMSProp.
 *
 * @example
 * const opt = rmsprop({ learningRate: 1e-3, momentum: 0.9 });
 */
export function rmsprop({ learningRate, decay = 0.9, eps = 1e-8, momentum = 0 }: RmspropOptions): Transformation<RmspropKind> {
  const op = "rmsprop";
  checkLearningRate(op, learningRate);
  checkUnit(op, "decay", decay);
  checkUnit(op, "momentum", momentum);
  check(op, "eps", eps, eps >= 0, "non-negative");
  return transformation<RmspropKind>(
    (params) => ({ count: zeros([], "int32"), nu: mapLeaves(op, [params], zerosLike), trace: mapLeaves(op, [params], zerosLike) }),
    (grads, state, params) => {
      const { count, nu, trace } = state as RmspropState<Tree>; // the state passed in is one that init built
      const factor = descentFactor(op, learningRate, count);
      const nextNu = mapLeaves(op, [grads, nu, params], (g, v) => add(mul(v, decay), mul(square(g), 1 - decay)));
      // t = -lr * g / sqrt(nu + eps) + momentum * t_prev
      const nextTrace = mapLeaves(op, [grads, nextNu, trace], (g, v, t) => add(scaleLeaf(div(g, sqrt(add(v, eps))), factor), mul(t, momentum)));
      return [nextTrace, { count: add(count, 1), nu: nextNu, trace: nextTrace }];
    },
  );
}
