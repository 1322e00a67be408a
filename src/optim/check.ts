/**
 * The one option check of the optimizers and schedules: a bad option throws a
 * `RangeError` naming the function, the option and the rule when the
 * optimizer or schedule is built, never later inside a step.
 *
 * A module of its own, below `options.ts` and `schedule.ts`, which both use
 * it (options name schedules, so schedules cannot import options). Left out:
 * checks of tensors (the ops check those).
 */

import { describeValue } from "../core/validate.js";

/**
 * Throws a `RangeError` unless `value` is a number and `ok`: "`op`: `name`
 * must be `rule`, got `value`". A string such as `"0.1"` is refused here, not
 * coerced by the comparison that computed `ok`.
 */
export function check(op: string, name: string, value: number, ok: boolean, rule: string): void {
  if (typeof value !== "number") throw new RangeError(`${op}: ${name} must be ${rule}, got ${describeValue(value)}`);
  if (!ok || Number.isNaN(value)) throw new RangeError(`${op}: ${name} must be ${rule}, got ${value}`);
}
