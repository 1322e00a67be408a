import { describe, expect, test } from "vitest";
import { ones, tensor } from "../../src/core/create.js";
import { sum } from "../../src/ops/reduce.js";
import { maximum } from "../../src/ops/elementwise.js";
import { grad } from "../../src/transforms/grad.js";
import { jvp } from "../../src/transforms/jvp.js";
import { traceProgram } from "../../src/transforms/trace.js";
import type { Tensor } from "../../src/core/tensor.js";
import { gelu, logSigmoid, relu, sigmoid, sigmoidByTanh, silu, softplus, tanh } from "../../src/ops/activations.js";

const extremes = tensor([-1000, -30, 0, 30, 1000], "float64");

describe("activations", () => {
  test("relu clips at 0", () => {
    expect(relu(tensor([-1, 2])).toArray()).toEqual([0, 2]);
    expect(relu(tensor([NaN])).toArray()[0]).toBeNaN();
  });
  test("relu's derivative at 0 is 0 (PyTorch's and JAX's convention), 1 above and 0 below", () => {
    const x = tensor([-1, -0, 0, 2], "float64");
    const dydx = grad((v: typeof x) => sum(relu(v)))(x);
    expect(dydx.toArray()).toEqual([0, 0, 0, 1]);
    expect(jvp((v: typeof x) => relu(v), [x], [ones([4], "float64")])[1].toArray()).toEqual([0, 0, 0, 1]);
  });
  test("relu's forward is still the program of max(x, 0), which fuses and lowers like any max", () => {
    const primsOf = (f: (x: Tensor<[4]>) => Tensor<[4]>): string[] =>
      traceProgram((xs) => [f(xs[0] as Tensor<[4]>)], [{ shape: [4], dtype: "float32" }]).eqns.map((e) => e.prim); // one float32 input of [4]
    expect(primsOf(relu)).toEqual(primsOf((x) => maximum(x, 0)));
    expect(primsOf(relu)).toContain("max");
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
    // x Φ(x) at 1: Φ(1) = 0.8413447460685429
    expect(gelu(tensor([0, 1], "float64")).toArray()[1]).toBeCloseTo(0.8413447460685429, 14);
    expect(gelu(tensor([0, 1], "float64"), { approximate: "tanh" }).toArray()[1]).toBeCloseTo(0.8411919906082768, 14);
    // far left, where 1 + erf(x/√2) would round to 0: x Φ(x) at -10 is -7.6198530241606e-23
    expect((gelu(tensor([-10], "float64")).toArray()[0] ?? 0) / -7.6198530241606e-23).toBeCloseTo(1, 12);
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
    expect(gelu(tensor([0, 1])).toArray()[1]).toBeCloseTo(0.8413, 4);
    expect(gelu(tensor([0, 1]), { approximate: "tanh" }).toArray()[1]).toBeCloseTo(0.8412, 4);
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
