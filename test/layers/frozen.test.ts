import { describe, expect, test } from "vitest";
import { dense } from "../../src/layers/dense.js";
import { relu } from "../../src/layers/activations.js";
import { frozen } from "../../src/layers/frozen.js";
import { batchNorm } from "../../src/layers/norm.js";
import { sequential } from "../../src/layers/sequential.js";
import { summary } from "../../src/layers/summary.js";
import { key } from "../../src/random/key.js";
import { make, maxDiff } from "./helpers.js";

describe("frozen", () => {
  const x = make([1, 2, 3, 4, 5, 9], [3, 2]);
  const bn = batchNorm(2, { eps: 1e-9 });
  const state = { mean: make([1, 2], [2]), var: make([4, 16], [2]) };
  const params = { params: bn.init(key(0)), state };

  test("applies the stateful layer in inference mode, with the state from its parameters, even when training", () => {
    const [want] = bn.apply(params.params, state, x);
    for (const training of [false, true]) {
      expect(maxDiff(frozen(bn).apply(params, x, { training }).toArray(), want.toArray())).toBeLessThan(1e-6);
    }
  });

  test("init makes the layer's parameters and its first state", () => {
    const p = frozen(bn).init(key(0));
    expect(p.state.mean.toArray()).toEqual([0, 0]);
    expect(p.state.var.toArray()).toEqual([1, 1]);
    expect(p.params.scale.toArray()).toEqual([1, 1]);
  });

  test("fits in a stack, which the summary lists", () => {
    const net = sequential(dense(2, 2), frozen(bn), relu());
    const p = net.init(key(1));
    expect(net.apply([p[0], params, {}], x).shape).toEqual([3, 2]);
    expect(summary(net, [3, 2]).rows.map((r) => r.name)).toEqual(["dense", "batchNorm (frozen)", "relu"]);
  });
});
