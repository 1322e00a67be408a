import { flow, pipe } from "fp-ts/lib/function.js";
import { describe, expect, test } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { relu as reluOp } from "../../src/ops/activations.js";
import { add, mul, sub } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { mean, sum } from "../../src/ops/reduce.js";
import { dense } from "../../src/layers/dense.js";
import { relu, tanh } from "../../src/layers/activations.js";
import { flatten, reshape } from "../../src/layers/reshape.js";
import { residual } from "../../src/layers/residual.js";
import { sequential } from "../../src/layers/sequential.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { key, split } from "../../src/random/key.js";
import { normal } from "../../src/random/distributions.js";
import { make, maxDiff } from "./helpers.js";

const mlp = sequential(dense(6, 5), relu(), dense(5, 3));
const x = normal(key(10), [4, 6]);
const target = normal(key(11), [4, 3]);

describe("sequential", () => {
  test("applies its layers in order with their own parameters", () => {
    const p = mlp.init(key(0));
    const [p0, p1, p2] = p;
    const byHand = dense(5, 3).apply(p2, relu().apply(p1, dense(6, 5).apply(p0, x)));
    const direct = add(matmul(reluOp(add(matmul(x, p0.w), p0.b)), p2.w), p2.b);
    expect(mlp.apply(p, x).toArray()).toEqual(byHand.toArray());
    expect(maxDiff(mlp.apply(p, x).toArray(), direct.toArray())).toBeLessThan(1e-6);
  });

  test("init splits its key once per layer, in order", () => {
    const keys = split(key(0), 3);
    const p = mlp.init(key(0));
    expect(p[0].w.toArray()).toEqual(dense(6, 5).init(keys[0] ?? key(0)).w.toArray());
    expect(p[2].w.toArray()).toEqual(dense(5, 3).init(keys[2] ?? key(0)).w.toArray());
  });

  test("init is deterministic in the key and differs between keys", () => {
    expect(mlp.init(key(1))[0].w.toArray()).toEqual(mlp.init(key(1))[0].w.toArray());
    expect(mlp.init(key(1))[2].w.toArray()).not.toEqual(mlp.init(key(2))[2].w.toArray());
  });

  test("a stack with reshape and flatten runs conv-shaped activations through", () => {
    const net = sequential(dense(6, 12), reshape([2, 2, 3]), flatten(), tanh(), dense(12, 2));
    const y: Tensor<[4, 2]> = net.apply(net.init(key(0)), x);
    expect(y.shape).toEqual([4, 2]);
  });

  test("grad of a loss through sequential(dense, relu, dense) has the parameters' tree and matches finite differences", () => {
    const loss = (p: ReturnType<typeof mlp.init>, input: Tensor<[4, 6]>) => mean(mul(sub(mlp.apply(p, input), target), sub(mlp.apply(p, input), target)));
    const p = mlp.init(key(3));
    const g: ReturnType<typeof mlp.init> = grad(loss)(p, x);
    expect(g[0].w.shape).toEqual([6, 5]);
    expect(g[0].b.shape).toEqual([5]);
    expect(g[1]).toEqual({});
    expect(g[2].w.shape).toEqual([5, 3]);
    const eps = 1e-2;
    const w0 = p[0].w.toArray();
    for (const i of [0, 7, 13, 29]) {
      const at = (delta: number) => {
        const w = Float32Array.from(w0);
        w[i] = (w[i] ?? 0) + delta;
        return loss([{ w: make(w, [6, 5]), b: p[0].b }, p[1], p[2]], x).item();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(numeric - (g[0].w.toArray()[i] ?? 0))).toBeLessThan(2e-3);
    }
    const b2 = p[2].b.toArray();
    for (const j of [0, 2]) {
      const at = (delta: number) => {
        const b = Float32Array.from(b2);
        b[j] = (b[j] ?? 0) + delta;
        return loss([p[0], p[1], { w: p[2].w, b: make(b, [3]) }], x).item();
      };
      expect(Math.abs((at(eps) - at(-eps)) / (2 * eps) - (g[2].b.toArray()[j] ?? 0))).toBeLessThan(2e-3);
    }
  });

  test("jit of apply equals eager apply", () => {
    const p = mlp.init(key(4));
    const apply = jit((params: ReturnType<typeof mlp.init>, input: Tensor<[4, 6]>) => mlp.apply(params, input));
    expect(maxDiff(apply(p, x).toArray(), mlp.apply(p, x).toArray())).toBeLessThan(1e-6);
    expect(maxDiff(apply(p, x).toArray(), mlp.apply(p, x).toArray())).toBeLessThan(1e-6);
    expect(apply.traces).toBe(1);
  });

  test("layers compose as plain functions with fp-ts pipe and flow", () => {
    const [d0, act, d1] = [dense(6, 5), relu(), dense(5, 3)];
    const p = mlp.init(key(5));
    const [p0, p1, p2] = p;
    const viaPipe = pipe(
      x,
      (h) => d0.apply(p0, h),
      (h) => act.apply(p1, h),
      (h) => d1.apply(p2, h),
    );
    const viaFlow = flow(
      (h: Tensor<[4, 6]>) => d0.apply(p0, h),
      (h) => act.apply(p1, h),
      (h) => d1.apply(p2, h),
    );
    const y: Tensor<[4, 3]> = viaPipe;
    expect(y.toArray()).toEqual(mlp.apply(p, x).toArray());
    expect(viaFlow(x).toArray()).toEqual(mlp.apply(p, x).toArray());
  });

  test("an empty sequential is the identity", () => {
    const id = sequential();
    expect(id.apply(id.init(key(0)), x).toArray()).toEqual(x.toArray());
  });
});

describe("residual", () => {
  test("adds the input to the layer's output", () => {
    const block = residual(sequential(dense(6, 6), relu()));
    const p = block.init(key(6));
    const inner = sequential(dense(6, 6), relu());
    const y = block.apply(p, x);
    expect(maxDiff(y.toArray(), add(x, inner.apply(p, x)).toArray())).toBeLessThan(1e-6);
    expect(sum(y).shape).toEqual([]);
  });

  test("nests inside sequential", () => {
    const net = sequential(dense(6, 8), residual(dense(8, 8)), relu(), dense(8, 1));
    const y: Tensor<[4, 1]> = net.apply(net.init(key(0)), x);
    expect(y.shape).toEqual([4, 1]);
  });
});
