import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import { gelu, logSigmoid, relu, sigmoid, sigmoidByTanh, silu, softplus, tanh } from "../../src/ops/activations.js";

const extremes = tensor([-1000, -30, 0, 30, 1000], "float64");

describe("activations", () => {
  test("relu clips at 0", () => {
    expect(relu(tensor([-1, 2])).toArray()).toEqual([0, 2]);
  });
  test("sigmoid is finite and in [0, 1] for ±1000", () => {
    const y = sigmoid(extremes).toArray();
    expect(y[0]).toBe(0);
    expect(y[2]).toBe(0.5);
    expect(y[4]).toBe(1);
    expect(y.every(Number.isFinite)).toBe(true);
  });
  test("softplus of ±1000 is 1000 and 0, never Infinity or NaN", () => {
    const y = softplus(extremes).toArray();
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(Math.exp(-30), 25);
    expect(y[2]).toBeCloseTo(Math.LN2, 15);
    expect(y[4]).toBe(1000);
    expect(y.every(Number.isFinite)).toBe(true);
  });
  test("logSigmoid of ±1000 is -1000 and 0, never -Infinity or NaN", () => {
    const y = logSigmoid(extremes).toArray();
    expect(y[0]).toBe(-1000);
    expect(y[1]).toBeCloseTo(-30, 12);
    expect(y[4]).toBe(-0);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(logSigmoid(tensor([-1000, 1000])).toArray().every(Number.isFinite)).toBe(true);
  });
  test("tanh, gelu and silu at a few points", () => {
    expect(tanh(tensor([0])).toArray()).toEqual([0]);
    expect(gelu(tensor([0, 1], "float64")).toArray()[1]).toBeCloseTo(0.8411919906082768, 14);
    expect(silu(extremes).toArray()[4]).toBe(1000);
    expect(silu(tensor([-1000])).toArray()[0]).toBe(-0);
    expect(gelu(tensor([-1e30, 1e30])).toArray().every(Number.isFinite)).toBe(true);
  });
});

describe("the doc examples", () => {
  test("run as written", () => {
    expect(relu(tensor([-1, 2])).toArray()).toEqual([0, 2]);
    expect(sigmoid(tensor([0])).toArray()).toEqual([0.5]);
    expect(softplus(tensor([0])).toArray()[0]).toBeCloseTo(0.6931, 4);
    expect(logSigmoid(tensor([-1000])).toArray()).toEqual([-1000]);
    expect(tanh(tensor([0])).toArray()).toEqual([0]);
    expect(gelu(tensor([0, 1])).toArray()[1]).toBeCloseTo(0.8412, 4);
    expect(silu(tensor([0])).toArray()).toEqual([0]);
  });
});

describe("sigmoidByTanh", () => {
  test("is the logistic function within an absolute 1e-15, and exactly 0.5 at 0", () => {
    const x = tensor([-30, -2, -0.5, 0, 0.5, 2, 30], "float64");
    const got = sigmoidByTanh(x).toArray();
    expect(got[3]).toBe(0.5);
    x.toArray().forEach((v, i) => expect(Math.abs((got[i] ?? NaN) - 1 / (1 + Math.exp(-v)))).toBeLessThan(1e-15));
  });
});
