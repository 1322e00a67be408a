import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { cast, less, where } from "../../src/ops/elementwise.js";
import { adam, type AdamState } from "../../src/optim/adam.js";
import { constant, cosineDecay, stepDecay, warmupCosineDecay, type Count, type Schedule } from "../../src/optim/schedule.js";
import { sgd, type SgdState } from "../../src/optim/sgd.js";
import { jit } from "../../src/transforms/jit.js";
import { params, type Params } from "./helpers.js";

const close = (actual: number, expected: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12);
};

describe("schedules", () => {
  test("constant is the same at every step", () => {
    expect(constant(0.1)(0)).toBe(0.1);
    expect(constant(0.1)(12345)).toBe(0.1);
  });

  test("stepDecay drops by the factor exactly at multiples of every", () => {
    const s = stepDecay(0.1, 100, 0.5);
    close(s(0), 0.1);
    close(s(99), 0.1);
    close(s(100), 0.05);
    close(s(199), 0.05);
    close(s(200), 0.025);
  });

  test("cosineDecay goes from init to alpha * init over decaySteps, constant after", () => {
    const s = cosineDecay(0.1, 1000, 0.1);
    close(s(0), 0.1);
    close(s(500), 0.1 * (0.9 * 0.5 + 0.1));
    close(s(250), 0.1 * (0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)) + 0.1));
    close(s(1000), 0.01);
    close(s(5000), 0.01);
    close(cosineDecay(2, 10)(10), 0);
  });

  test("warmupCosineDecay warms up linearly, peaks at warmupSteps, and ends at end", () => {
    const s = warmupCosineDecay(0.1, 1, 10, 110, 0.2);
    close(s(0), 0.1);
    close(s(5), 0.1 + 0.9 * 0.5);
    close(s(10), 1);
    close(s(60), 0.2 + 0.8 * 0.5);
    close(s(110), 0.2);
    close(s(1000), 0.2);
  });

  test("a schedule of the int32 count runs inside jit and agrees with the plain number", () => {
    const s = warmupCosineDecay(0, 1, 10, 110);
    const atCount = jit((count: Count) => s(count));
    for (const step of [0, 3, 10, 47, 110, 200]) close(atCount(tensor(step, "int32")).item(), s(step));
  });

  test("bad arguments throw when the schedule is built", () => {
    expect(() => stepDecay(0.1, 0, 0.5)).toThrow(/stepDecay: every must be a positive integer, got 0/);
    expect(() => cosineDecay(0.1, 100, 2)).toThrow(/cosineDecay: alpha must be in \[0, 1\], got 2/);
    expect(() => warmupCosineDecay(0, 1, 10, 10)).toThrow(/warmupCosineDecay: decaySteps must be an integer above warmupSteps \(10\), got 10/);
    expect(() => constant(-1)).toThrow(/constant: value must be non-negative/);
    expect(() => constant(1)(-1)).toThrow(/schedule: step must be a non-negative integer/);
  });
});

describe("a schedule's values are checked once per step", () => {
  /** A rate of 0.1 for two steps, then `after` (NaN, -1, ...): a broken user schedule. */
  function breaksAfterTwo(after: number): Schedule {
    function at(step: number): number;
    function at(step: Count): Tensor<[], "float64">;
    function at(step: number | Count): number | Tensor<[], "float64"> {
      if (typeof step === "number") return step < 2 ? 0.1 : after;
      return where(less(cast(step, "float64"), 2), tensor(0.1, "float64"), tensor(after, "float64"));
    }
    return at;
  }
  const p = params(1, -2, 0.5);
  const g = params(0.5, -1.5, 2);

  /** Two good steps from `state`, then the third must throw `message`. */
  function refusesThirdStep<S>(state: S, step: (s: S) => readonly [unknown, S], message: string): void {
    const [, one] = step(state);
    const [, two] = step(one);
    expect(() => step(two)).toThrow(new RangeError(message));
  }

  test.each([NaN, -1, Infinity])("a rate of %s is a RangeError naming the optimizer and the step, eagerly and under jit", (after) => {
    const rule = "a rate must be a non-negative finite number";
    const bySgd = sgd({ learningRate: breaksAfterTwo(after) });
    const sgdStep = (s: SgdState<Params>) => bySgd.update(g, s, p);
    const byAdam = adam({ learningRate: breaksAfterTwo(after) });
    const adamStep = (s: AdamState<Params>) => byAdam.update(g, s, p);
    for (const step of [sgdStep, jit(sgdStep)]) refusesThirdStep(bySgd.init(p), step, `sgd: the learningRate schedule gave ${after} at step 2; ${rule}`);
    for (const step of [adamStep, jit(adamStep)]) refusesThirdStep(byAdam.init(p), step, `adam: the learningRate schedule gave ${after} at step 2; ${rule}`);
  });

  test("a schedule that gives a number for the step count tensor is a RangeError", () => {
    const numeric = ((step: unknown) => (typeof step === "number" ? 0.1 : 0.1)) as Schedule; // a broken schedule past the types
    const opt = sgd({ learningRate: numeric });
    expect(() => opt.update(g, opt.init(p), p)).toThrow(
      new RangeError("sgd: a learningRate schedule must give a rank-0 float tensor for the step count, got the number 0.1"),
    );
  });
});
