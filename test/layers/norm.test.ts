import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import { zeros } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { batchNorm, layerNorm, rmsNorm } from "../../src/layers/norm.js";
import { sum } from "../../src/ops/reduce.js";
import { add, mul } from "../../src/ops/elementwise.js";
import { normal } from "../../src/random/distributions.js";
import { key } from "../../src/random/key.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { make, maxDiff } from "./helpers.js";

/** A value whose type the layer refuses, for the tests of the run-time checks. */
function unchecked(x: unknown): never {
  return x as never; // the run-time check is what the test exercises, so the compile-time one is bypassed on purpose
}

/** The rows of a `[rows, f]` array, as arrays. */
function rowsOf(values: readonly number[], f: number): number[][] {
  return Array.from({ length: values.length / f }, (_, r) => values.slice(r * f, (r + 1) * f));
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const varianceOf = (xs: readonly number[]): number => meanOf(xs.map((v) => (v - meanOf(xs)) ** 2));

describe("layerNorm", () => {
  test("gives each row mean 0 and variance 1 before the scale and bias", () => {
    const ln = layerNorm(16, { eps: 1e-9 });
    const x = mul(normal(key(1), [3, 4, 16]), 5);
    const y = ln.apply(ln.init(key(0)), x);
    expect(y.shape).toEqual([3, 4, 16]);
    for (const row of rowsOf(y.toArray(), 16)) {
      expect(Math.abs(meanOf(row))).toBeLessThan(1e-5);
      expect(Math.abs(varianceOf(row) - 1)).toBeLessThan(1e-4);
    }
  });

  test("then multiplies by the scale and adds the bias per feature", () => {
    const ln = layerNorm(2);
    const x = make([1, 3, -2, 2], [2, 2]);
    const y = ln.apply({ scale: make([2, 3], [2]), bias: make([10, 20], [2]) }, x);
    // each row is [-1, 1] after normalising (up to eps): [-2 + 10, 3 + 20]
    expect(maxDiff(y.toArray(), [8, 23, 8, 23])).toBeLessThan(1e-3);
  });

  test("has only the parameters it is asked for", () => {
    expect(Object.keys(layerNorm(4).init(key(0))).sort()).toEqual(["bias", "scale"]);
    expect(Object.keys(layerNorm(4, { useBias: false }).init(key(0)))).toEqual(["scale"]);
    expect(Object.keys(layerNorm(4, { useScale: false, useBias: false }).init(key(0)))).toEqual([]);
    const p = layerNorm(4).init(key(0));
    expect([p.scale.toArray(), p.bias.toArray()]).toEqual([[1, 1, 1, 1], [0, 0, 0, 0]]);
  });

  test("a wrong feature size is a ShapeError naming the layer and both shapes", () => {
    const ln = layerNorm(8);
    const bad = normal(key(0), [2, 7]);
    expect(() => ln.apply(ln.init(key(0)), unchecked(bad))).toThrow(ShapeError);
    expect(() => ln.apply(ln.init(key(0)), unchecked(bad))).toThrow("layerNorm: expects [..., 8] but gets [2, 7]");
    expect(() => layerNorm(0)).toThrow(ShapeError);
    expect(() => layerNorm(4, { eps: -1 })).toThrow(ShapeError);
  });
});

describe("rmsNorm", () => {
  test("gives each row a root mean square of 1, times the scale", () => {
    const norm = rmsNorm(8, { eps: 1e-12 });
    const x = mul(normal(key(2), [5, 8]), 3);
    const y = norm.apply({ scale: make([2, 2, 2, 2, 2, 2, 2, 2], [8]) }, x);
    for (const row of rowsOf(y.toArray(), 8)) expect(Math.abs(Math.sqrt(meanOf(row.map((v) => v * v))) - 2)).toBeLessThan(1e-5);
  });

  test("does not centre: a constant row stays constant, with magnitude 1", () => {
    const norm = rmsNorm(3);
    expect(maxDiff(norm.apply(norm.init(key(0)), make([4, 4, 4], [1, 3])).toArray(), [1, 1, 1])).toBeLessThan(1e-5);
  });

  test("a wrong feature size is a ShapeError", () => {
    const norm = rmsNorm(4);
    expect(() => norm.apply(norm.init(key(0)), unchecked(make([1, 2, 3], [3])))).toThrow("rmsNorm: expects [..., 4] but gets [3]");
  });
});

describe("batchNorm", () => {
  // channel 0: 1, 3, 5 (mean 3, biased variance 8/3, unbiased 4); channel 1: 2, 4, 9 (mean 5, biased 26/3, unbiased 13)
  const x = make([1, 2, 3, 4, 5, 9], [3, 2]);

  test("in training, moves the running mean and variance by the momentum (Keras's momentum convention, PyTorch's unbiased running variance)", () => {
    const bn = batchNorm(2, { momentum: 0.9 });
    const [, state] = bn.apply(bn.init(key(0)), bn.initState(), x, { training: true });
    // 0.9 * running + 0.1 * batch, from mean 0 and variance 1
    expect(maxDiff(state.mean.toArray(), [0.3, 0.5])).toBeLessThan(1e-6);
    expect(maxDiff(state.var.toArray(), [0.9 + 0.4, 0.9 + 1.3])).toBeLessThan(1e-6);
    const [, again] = bn.apply(bn.init(key(0)), state, x, { training: true });
    expect(maxDiff(again.mean.toArray(), [0.9 * 0.3 + 0.3, 0.9 * 0.5 + 0.5])).toBeLessThan(1e-6);
  });

  test("in training, normalises each channel by the batch's mean and biased variance", () => {
    const bn = batchNorm(2, { eps: 1e-9 });
    const [y] = bn.apply({ scale: make([1, 2], [2]), bias: make([0, 1], [2]) }, bn.initState(), x, { training: true });
    const want = [1, 3, 5].flatMap((v, r) => [(v - 3) / Math.sqrt(8 / 3), 2 * (([2, 4, 9][r] ?? 0) - 5) / Math.sqrt(26 / 3) + 1]);
    expect(maxDiff(y.toArray(), want)).toBeLessThan(1e-5);
  });

  test("in inference, uses the running statistics and returns the state unchanged", () => {
    const bn = batchNorm(2, { eps: 1e-9 });
    const state = { mean: make([1, 2], [2]), var: make([4, 16], [2]) };
    const [y, after] = bn.apply(bn.init(key(0)), state, x);
    expect(after).toBe(state);
    expect(maxDiff(y.toArray(), [0, 0, 1, 0.5, 2, 1.75])).toBeLessThan(1e-5);
    const [yTraining] = bn.apply(bn.init(key(0)), state, x, { training: true });
    expect(maxDiff(yTraining.toArray(), y.toArray())).toBeGreaterThan(0.1);
  });

  test("normalises over every axis but the last", () => {
    const bn = batchNorm(3, { eps: 1e-9 });
    const [y] = bn.apply(bn.init(key(0)), bn.initState(), mul(normal(key(5), [2, 4, 4, 3]), 3), { training: true });
    const channels = [0, 1, 2].map((c) => y.toArray().filter((_, i) => i % 3 === c));
    for (const values of channels) {
      expect(Math.abs(meanOf(values))).toBeLessThan(1e-5);
      expect(Math.abs(varianceOf(values) - 1)).toBeLessThan(1e-4);
    }
  });

  test("the state is not differentiated: neither the output nor the next state carries a gradient to it", () => {
    const bn = batchNorm(2);
    const p = bn.init(key(0));
    for (const training of [true, false]) {
      const g = grad((mu: Tensor<[2]>, v: Tensor<[2]>) => {
        const [y, next] = bn.apply(p, { mean: mu, var: v }, x, { training });
        // in inference the state comes back as it went in, so only the output is looked at
        return training ? add(sum(mul(y, y)), add(sum(next.mean), sum(next.var))) : sum(mul(y, y));
      }, { argnums: [0, 1] })(make([0.5, -1], [2]), make([2, 3], [2]));
      expect([...g[0].toArray(), ...g[1].toArray()]).toEqual([0, 0, 0, 0]);
    }
  });

  test("runs under jit with the same results", () => {
    const bn = batchNorm(2, { momentum: 0.8 });
    const step = jit((s: { mean: Tensor<[2]>; var: Tensor<[2]> }, xs: Tensor<[3, 2]>) => bn.apply(bn.init(key(0)), s, xs, { training: true }));
    const [y, s] = step(bn.initState(), x);
    const [yEager, sEager] = bn.apply(bn.init(key(0)), bn.initState(), x, { training: true });
    expect(maxDiff(y.toArray(), yEager.toArray())).toBeLessThan(1e-6);
    expect(maxDiff(s.var.toArray(), sEager.var.toArray())).toBeLessThan(1e-6);
  });

  test("bad input is a ShapeError naming the layer and the shapes", () => {
    const bn = batchNorm(2);
    const p = bn.init(key(0));
    expect(() => bn.apply(p, bn.initState(), unchecked(make([1, 2, 3], [1, 3])))).toThrow("batchNorm: expects [..., 2] but gets [1, 3]");
    expect(() => bn.apply(p, bn.initState(), make([1, 2], [1, 2]), { training: true })).toThrow("batchNorm: training needs at least 2 values per channel, but [1, 2] has 1");
    expect(() => bn.apply(p, unchecked({ mean: make([0, 0, 0], [3]), var: make([1, 1], [2]) }), x)).toThrow(ShapeError);
    expect(() => batchNorm(2, { momentum: 1.5 })).toThrow(ShapeError);
  });
});

describe("the documented examples", () => {
  test("run and give the shapes they state", () => {
    const ln = layerNorm(128);
    expect(ln.apply(ln.init(key(0)), zeros([8, 64, 128])).shape).toEqual([8, 64, 128]);
    const norm = rmsNorm(128);
    expect(norm.apply(norm.init(key(0)), zeros([8, 64, 128])).shape).toEqual([8, 64, 128]);
    const bn = batchNorm(64);
    const [y, state] = bn.apply(bn.init(key(0)), bn.initState(), zeros([32, 64]), { training: true });
    expect([y.shape, state.mean.shape, state.var.shape]).toEqual([[32, 64], [64], [64]]);
    expect(() => [layerNorm(128, { eps: 1e-6, useBias: false }), rmsNorm(128, { eps: 1e-5 }), batchNorm(64, { momentum: 0.9, eps: 1e-5 })]).not.toThrow();
  });
});
