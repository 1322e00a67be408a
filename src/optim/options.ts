/**
 * Option checks and the learning rate, shared by the optimizers: a bad option
 * throws a `RangeError` naming the function, the option and the rule when the
 * optimizer is built, never later inside a step.
 */

import { Tensor } from "../core/tensor.js";
import { describeValue } from "../core/validate.js";
import { neg } from "../ops/elementwise.js";
import { checkValues } from "../transforms/jit.js";
import { check } from "./check.js";
import type { Count, Schedule } from "./schedule.js";

/** Checks that a coefficient lies in [0, 1). */
export function checkUnit(op: string, name: string, value: number): void {
  check(op, name, value, value >= 0 && value < 1, "in [0, 1)");
}

/** A learning rate: a non-negative number, or a schedule of the step count. */
export type LearningRate = number | Schedule;

/**
 * Checks a learning rate given as a number, and that anything else is a
 * function (a schedule's values are checked at every step by `descentFactor`).
 */
export function checkLearningRate(op: string, learningRate: LearningRate): void {
  if (typeof learningRate === "function") return;
  check(op, "learningRate", learningRate, learningRate >= 0 && Number.isFinite(learningRate), "a non-negative finite number");
}

/**
 * `-learningRate` at step `count` (the count of updates done before this one,
 * as optax's `scale_by_schedule` reads it): the factor of a descent update.
 * A schedule's value is checked once per step (`checkValues`: under `jit`,
 * one scalar read after the program runs): anything but a rank-0 float tensor
 * is a `RangeError` at once, and a NaN, infinite or negative rate a
 * `RangeError` naming `op`, the step and the rate, before any parameter is
 * updated with it.
 */
export function descentFactor(op: string, learningRate: LearningRate, count: Count): number | Tensor<[], "float64"> {
  if (typeof learningRate === "number") return -learningRate;
  const rate: unknown = learningRate(count);
  if (!(rate instanceof Tensor) || rate.shape.length !== 0 || (rate.dtype !== "float32" && rate.dtype !== "float64")) {
    throw new RangeError(`${op}: a learningRate schedule must give a rank-0 float tensor for the step count, got ${describeValue(rate)}`);
  }
  checkValues([rate, count], ([r = NaN, step = NaN]) =>
    r >= 0 && Number.isFinite(r) ? undefined : new RangeError(`${op}: the learningRate schedule gave ${r} at step ${step}; a rate must be a non-negative finite number`),
  );
  return neg(rate as Tensor<[], "float64">); // a rank-0 float tensor, checked just above (float32 rates are cast per leaf as float64 ones are)
}
