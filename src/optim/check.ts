/**
 * The one option check of the optimizers and schedules: a bad option throws a
 * `RangeError` naming the function, the option and the rule when the
 * optimizer or schedule is built, never later inside a step.
 *
 * A module of its own, below `options.ts` and `schedule.ts`, which both use
 * it (options name schedules, so schedules cannot import options). Left out:
 * checks of tensors (the ops check those).
 */

/** Throws a `RangeError` unless `ok`: "`op`: `name` must be `rule`, got `value`". */
export function check(op: string, name: string, value: number, ok: boolean, rule: string): void {
  if (!ok || Number.isNaN(value)) throw new RangeError(`${op}: ${name} must be ${rule}, got ${value}`);
}
