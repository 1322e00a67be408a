/**
 * Adam and AdamW: per-leaf step sizes from bias-corrected moment estimates.
 *
 * As optax's `adam` and `adamw` (Kingma & Ba 2015; Loshchilov & Hutter
 * 2019): `mu = b1 mu + (1 - b1) g`, `nu = b2 nu + (1 - b2) g^2`, with
 * `t` the count after this step, `mu_hat = mu / (1 - b1^t)`,
 * `nu_hat = nu / (1 - b2^t)` and the update
 * `-lr * (mu_hat / (sqrt(nu_hat) + eps) + weightDecay * p)`; the weight decay
 * is decoupled from the moments and scaled by the learning rate, optax's
 * convention (not the paper's schedule multiplier). Deliberately left out:
 * `eps_root`, AMSGrad, Nesterov (NAdam) and a decay mask.
 */

import { zeros } from "../core/create.js";
import type { Tensor } from "../core/tensor.js";
import type { Tree } from "../core/tree.js";
import { add, cast, div, mul, pow, sqrt, sub } from "../ops/elementwise.js";
import { square } from "../ops/math.js";
import { check } from "./check.js";
import { checkLearningRate, checkUnit, descentFactor, type LearningRate } from "./options.js";
import { divideLeaf, mapLeaves, scaleLeaf, zerosLike } from "./tree-map.js";
import { transformation, type StateKind, type Transformation } from "./transformation.js";

/** The state of `adam` and `adamw` for params `P`: the step count and both moments. */
export type AdamState<P> = { readonly count: Tensor<[], "int32">; readonly mu: P; readonly nu: P };

/** `AdamState` as a type-level function of the params. */
export interface AdamKind extends StateKind {
  readonly state: AdamState<this["params"]>;
}

/** The options of `adam`. */
export interface AdamOptions {
  readonly learningRate: LearningRate;
  /** The decay of the first moment, in [0, 1) (default 0.9). */
  readonly b1?: number;
  /** The decay of the second moment, in [0, 1) (default 0.999). */
  readonly b2?: number;
  /** Added to the root of the second moment (default 1e-8). */
  readonly eps?: number;
}

/** The options of `adamw`: adam's and the decoupled weight decay. */
export interface AdamWOptions extends AdamOptions {
  /** The factor of the params subtracted at each step, times the learning rate (default 1e-4). */
  readonly weightDecay?: number;
}

/**
 * Adam, bias-corrected.
 *
 * @example
 * const opt = adam({ learningRate: 1e-3 });
 * const [updates, state] = opt.update(grads, opt.init(params), params);
 */
export function adam(options: AdamOptions): Transformation<AdamKind> {
  return adamLike("adam", options, 0);
}

/**
 * Adam with decoupled weight decay.
 *
 * @example
 * const opt = adamw({ learningRate: 1e-3, weightDecay: 1e-2 });
 */
export function adamw(options: AdamWOptions): Transformation<AdamKind> {
  const { weightDecay = 1e-4 } = options;
  check("adamw", "weightDecay", weightDecay, weightDecay >= 0, "non-negative");
  return adamLike("adamw", options, weightDecay);
}

function adamLike(op: string, { learningRate, b1 = 0.9, b2 = 0.999, eps = 1e-8 }: AdamOptions, weightDecay: number): Transformation<AdamKind> {
  checkLearningRate(op, learningRate);
  checkUnit(op, "b1", b1);
  checkUnit(op, "b2", b2);
  check(op, "eps", eps, eps >= 0, "non-negative");
  return transformation<AdamKind>(
    (params) => ({ count: zeros([], "int32"), mu: mapLeaves(op, [params], zerosLike), nu: mapLeaves(op, [params], zerosLike) }),
    (grads, state, params) => {
      const { count, mu, nu } = state as AdamState<Tree>; // the state passed in is one that init built
      const factor = descentFactor(op, learningRate, count);
      const nextCount = add(count, 1);
      const t = cast(nextCount, "float64");
      // 1 - b^t, the bias corrections of the moments after t steps
      const mu1 = sub(1, pow(b1, t));
      const nu1 = sub(1, pow(b2, t));
      const nextMu = mapLeaves(op, [grads, mu], (g, m) => add(mul(m, b1), mul(g, 1 - b1)));
      const nextNu = mapLeaves(op, [grads, nu], (g, v) => add(mul(v, b2), mul(square(g), 1 - b2)));
      const updates = mapLeaves(op, [nextMu, nextNu, params], (m, v, p) => {
        const direction = div(divideLeaf(m, mu1), add(sqrt(divideLeaf(v, nu1)), eps));
        return scaleLeaf(weightDecay === 0 ? direction : add(direction, mul(p, weightDecay)), factor);
      });
      return [updates, { count: nextCount, mu: nextMu, nu: nextNu }];
    },
  );
}
