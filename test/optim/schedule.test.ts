import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import { jit } from "../../src/transforms/jit.js";
import { constant, cosineDecay, stepDecay, warmupCosineDecay, type Count } from "../../src/optim/schedule.js";

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
