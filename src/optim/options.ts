/**
 * Option checks and the learning rate, shared by the optimizers: a bad option
 * throws a `RangeError` naming the function, the option and the rule when the
 * optimizer is built, never later inside a step.
 */

import type { Tensor } from "../core/tensor.js";
import { neg } from "../ops/elementwise.js";
import { check } from "./check.js";
import type { Count, Schedule } from "./schedule.js";

/** Checks that a coefficient lies in [0, 1). */
export function checkUnit(op: string, name: string, value: number): void {
  check(op, name, value, value >= 0 && value < 1, "in [0, 1)");
}

/** A learning rate: a non-negative number, or a schedule of the step count. */
export type LearningRate = number | Schedule;

/** Checks a learning rate given as a number (a schedule is checked by its own constructor). */
export function checkLearningRate(op: string, learningRate: LearningRate): void {
  if (typeof learningRate === "number") check(op, "learningRate", learningRate, learningRate >= 0 && Number.isFinite(learningRate), "a non-negative finite number");
}

/**
 * `-learningRate` at step `count` (the count of updates done before this one,
 * as optax's `scale_by_schedule` reads it): the factor of a descent update.
 */
export function descentFactor(learningRate: LearningRate, count: Count): number | Tensor<[], "float64"> {
  return typeof learningRate === "number" ? -learningRate : neg(learningRate(count));
}
