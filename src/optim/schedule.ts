/**
 * Learning-rate schedules: functions of the step count.
 *
 * A schedule takes the number of updates done so far, as a plain number (it
 * returns a number) or as the rank-0 int32 count that an optimizer's state
 * carries (it returns a rank-0 float64 tensor, so that it runs inside `jit`).
 * Each schedule is written once, over ops, and serves both. The formulas are
 * optax's (`exponential_decay` with `staircase=True`, `cosine_decay_schedule`,
 * `warmup_cosine_decay_schedule`).
 *
 * NOTE: the count is int32, as optax's: it is incremented exactly (a float32
 * count stops at 2^24 steps), is cheap to carry through `jit`, and names a
 * step rather than a quantity. A schedule casts it to float64 for its math,
 * and the optimizers cast the rate down to each leaf's dtype. Deliberately left out: polynomial,
 * piecewise and cyclic schedules, and `join_schedules`.
 */

import { tensor } from "../core/create.js";
import type { Tensor } from "../core/tensor.js";
import { add, cast, cos, less, maximum, minimum, mul, pow, sub, where } from "../ops/elementwise.js";
import { check } from "./check.js";

/** The step count as an optimizer state carries it. */
export type Count = Tensor<[], "int32">;

/** A learning rate as a function of the step count. @example cosineDecay(0.1, 1000)(500); // 0.05 */
export interface Schedule {
  (step: number): number;
  (step: Count): Tensor<[], "float64">;
}

type Step = Tensor<[], "float64">;

/** A `Schedule` from its formula over a float64 step. */
function schedule(formula: (step: Step) => Step): Schedule {
  function at(step: number): number;
  function at(step: Count): Step;
  function at(step: number | Count): number | Step {
    if (typeof step === "number") {
      check("schedule", "step", step, Number.isInteger(step) && step >= 0, "a non-negative integer");
      return formula(tensor(step, "float64")).item();
    }
    return formula(cast(step, "float64"));
  }
  return at;
}

/**
 * The same learning rate at every step.
 *
 * @example
 * constant(0.1)(1000); // 0.1
 */
export function constant(value: number): Schedule {
  check("constant", "value", value, value >= 0, "non-negative");
  return schedule((step) => add(mul(step, 0), value));
}

/**
 * `init * factor ** floor(step / every)`: the rate drops by `factor` every
 * `every` steps.
 *
 * @example
 * stepDecay(0.1, 100, 0.5)(250); // 0.025
 */
export function stepDecay(init: number, every: number, factor: number): Schedule {
  check("stepDecay", "init", init, init >= 0, "non-negative");
  check("stepDecay", "every", every, Number.isInteger(every) && every > 0, "a positive integer");
  check("stepDecay", "factor", factor, factor >= 0, "non-negative");
  // NOTE: the cast to int32 truncates, which is floor for a non-negative step
  return schedule((step) => mul(pow(factor, cast(cast(mul(step, 1 / every), "int32"), "float64")), init));
}

/** `(1 + cos(pi * min(step, decaySteps) / decaySteps)) / 2`, from 1 down to 0. */
function halfCosine(step: Step, decaySteps: number): Step {
  return mul(add(cos(mul(minimum(step, decaySteps), Math.PI / decaySteps)), 1), 0.5);
}

/**
 * Cosine decay from `init` to `alpha * init` over `decaySteps`, constant after.
 * `init * ((1 - alpha) * (1 + cos(pi * t / decaySteps)) / 2 + alpha)`.
 *
 * @example
 * cosineDecay(0.1, 1000)(500); // 0.05
 */
export function cosineDecay(init: number, decaySteps: number, alpha = 0): Schedule {
  check("cosineDecay", "init", init, init >= 0, "non-negative");
  check("cosineDecay", "decaySteps", decaySteps, Number.isInteger(decaySteps) && decaySteps > 0, "a positive integer");
  check("cosineDecay", "alpha", alpha, alpha >= 0 && alpha <= 1, "in [0, 1]");
  return schedule((step) => mul(add(mul(halfCosine(step, decaySteps), 1 - alpha), alpha), init));
}

/**
 * Linear warmup from `init` to `peak` over `warmupSteps`, then cosine decay
 * from `peak` to `end` until step `decaySteps` (which counts the warmup, as
 * in optax), constant after.
 *
 * @example
 * warmupCosineDecay(0, 1, 10, 110)(5); // 0.5
 */
export function warmupCosineDecay(init: number, peak: number, warmupSteps: number, decaySteps: number, end = 0): Schedule {
  const op = "warmupCosineDecay";
  check(op, "init", init, init >= 0, "non-negative");
  check(op, "peak", peak, peak >= 0, "non-negative");
  check(op, "end", end, end >= 0, "non-negative");
  check(op, "warmupSteps", warmupSteps, Number.isInteger(warmupSteps) && warmupSteps >= 0, "a non-negative integer");
  check(op, "decaySteps", decaySteps, Number.isInteger(decaySteps) && decaySteps > warmupSteps, `an integer above warmupSteps (${warmupSteps})`);
  return schedule((step) => {
    // warmup: init + (peak - init) * step / warmupSteps
    const warm = add(mul(step, (peak - init) / Math.max(warmupSteps, 1)), init);
    // decay: end + (peak - end) * halfCosine(step - warmupSteps)
    const since = maximum(sub(step, warmupSteps), 0);
    const decay = add(mul(halfCosine(since, decaySteps - warmupSteps), peak - end), end);
    return where(less(step, warmupSteps), warm, decay);
  });
}
