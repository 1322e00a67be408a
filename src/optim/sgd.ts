/**
 * Stochastic gradient descent, with optional (Nesterov) momentum.
 *
 * As optax's `sgd`: the trace is `t = g + momentum * t_prev`; the update is
 * `-lr * t`, or `-lr * (g + momentum * t)` with Nesterov momentum. The state
 * carries the step count, so that a scheduled learning rate can read it.
 * Deliberately left out: weight decay (chain an explicit term, or use adamw).
 */

import { zeros } from "../core/create.js";
import type { Tensor } from "../core/tensor.js";
import type { Tree } from "../core/tree.js";
import { add, mul } from "../ops/elementwise.js";
import { checkLearningRate, checkUnit, descentFactor, type LearningRate } from "./options.js";
import { mapLeaves, scaleLeaf, zerosLike } from "./tree-map.js";
import { transformation, type StateKind, type Transformation } from "./transformation.js";

/** The state of `sgd` for params `P`: the step count and the momentum trace. */
export type SgdState<P> = { readonly count: Tensor<[], "int32">; readonly trace: P };

/** `SgdState` as a type-level function of the params. */
export interface SgdKind extends StateKind {
  readonly state: SgdState<this["params"]>;
}

/** The options of `sgd`. */
export interface SgdOptions {
  readonly learningRate: LearningRate;
  /** The decay of the momentum trace, in [0, 1); 0 (the default) is plain SGD. */
  readonly momentum?: number;
  /** Nesterov's look-ahead momentum (default false). */
  readonly nesterov?: boolean;
}

/**
 * Stochastic gradient descent.
 *
 * NOTE: the state has a trace even when `momentum` is 0, so that it has one
 * type whatever the options; plain SGD never reads it and passes it on
 * unchanged (its zeros), so a jitted step neither computes nor stores it.
 *
 * @example
 * const opt = sgd({ learningRate: 0.1, momentum: 0.9 });
 * const [updates, state] = opt.update(grads, opt.init(params), params);
 */
export function sgd({ learningRate, momentum = 0, nesterov = false }: SgdOptions): Transformation<SgdKind> {
  checkLearningRate("sgd", learningRate);
  checkUnit("sgd", "momentum", momentum);
  return transformation<SgdKind>(
    (params) => ({ count: zeros([], "int32"), trace: mapLeaves("sgd", [params], zerosLike) }),
    (grads, state, params) => {
      const { count, trace } = state as SgdState<Tree>; // the state passed in is one that init built
      const factor = descentFactor("sgd", learningRate, count);
      // plain SGD: u = -lr * g
      if (momentum === 0) return [mapLeaves("sgd", [grads, trace, params], (g) => scaleLeaf(g, factor)), { count: add(count, 1), trace }];
      // t = g + momentum * t_prev
      const next = mapLeaves("sgd", [grads, trace, params], (g, t) => add(g, mul(t, momentum)));
      // nesterov: u = -lr * (g + momentum * t); else u = -lr * t
      const updates = mapLeaves("sgd", [grads, next], (g, t) => scaleLeaf(nesterov ? add(g, mul(t, momentum)) : t, factor));
      return [updates, { count: add(count, 1), trace: next }];
    },
  );
}
