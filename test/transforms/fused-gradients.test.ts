import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { fusionPlan } from "../../src/ir/fusion/execute.js";
import { printProgram } from "../../src/ir/program.js";
import { gelu, tanh } from "../../src/ops/activations.js";
import { mul, sin } from "../../src/ops/elementwise.js";
import { logsumexp, softmax, sum } from "../../src/ops/reduce.js";
import { grad, valueAndGrad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";

type V = Tensor<[5], "float64">;
const x = tensor([-2, -0.5, 0, 0.7, 3], "float64");

describe("jit of grad compiles the backward program into fused loops", () => {
  test("the gradient of an elementwise chain is one loop", () => {
    const g = jit(grad((a: V) => sum(mul(sin(a), tanh(a)))));
    expect(g(x).toArray()).toEqual(grad((a: V) => sum(mul(sin(a), tanh(a))))(x).toArray());
    const program = g.lastProgram;
    if (program === undefined) throw new Error("no program");
    const plan = fusionPlan(program);
    expect({ kernels: plan.kernels, steps: plan.steps.length }, printProgram(program)).toEqual({ kernels: 1, steps: 1 });
  });
  test("valueAndGrad of gelu runs as fused kernels and equals eager", () => {
    const f = (a: V): Tensor<[], "float64"> => sum(gelu(a));
    const vg = jit(valueAndGrad(f));
    const [value, gradient] = vg(x);
    const [eagerValue, eagerGradient] = valueAndGrad(f)(x);
    expect(value.item()).toBe(eagerValue.item());
    expect(gradient.toArray()).toEqual(eagerGradient.toArray());
    const program = vg.lastProgram;
    if (program === undefined) throw new Error("no program");
    const plan = fusionPlan(program);
    // NOTE: several loops, not one: values shared by the loss and its gradient are
    // materialised once (the pass has no multi-output fusion yet), but no step is unfused
    expect(plan.steps.every((s) => s.kind === "kernel")).toBe(true);
  });
});

describe("softmax and logsumexp do not differentiate through their row maximum", () => {
  type M = Tensor<[3, 4], "float32">;
  const logits = tensor([[1, 5, 2, 5], [0, -1, 3, 2], [7, 7, 7, 7]]);
  const w = [[0.5, -1, 2, 0.25], [1, 1, -3, 0.5], [2, -1, 0, 1]];
  const rowWeights = [[0.5], [-2], [3]];
  /** The softmax of each row of the logits, in float64. */
  const probabilities = logits.toNested().map((row) => {
    const e = row.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
  const cases = [
    {
      name: "softmax",
      f: (a: M): Tensor<[], "float32"> => sum(mul(softmax(a), tensor(w))),
      // d/da_j sum_k w_k p_k = p_j (w_j - sum_k w_k p_k)
      exact: probabilities.map((p, i) => {
        const dot = p.reduce((acc, v, j) => acc + v * (w[i]?.[j] ?? 0), 0);
        return p.map((v, j) => v * ((w[i]?.[j] ?? 0) - dot));
      }),
    },
    {
      name: "logsumexp",
      f: (a: M): Tensor<[], "float32"> => sum(mul(logsumexp(a, -1, true), tensor(rowWeights))),
      // d/da_j (c logsumexp(a)) = c p_j
      exact: probabilities.map((p, i) => p.map((v) => v * (rowWeights[i]?.[0] ?? 0))),
    },
  ];
  for (const { name, f, exact } of cases) {
    test(`the jitted gradient of ${name} does not compare with the maximum, and equals the exact gradient`, () => {
      const g = jit(grad(f));
      const got = Array.from(g(logits).toArray());
      const program = g.lastProgram;
      if (program === undefined) throw new Error("no program");
      // reduce_max's gradient compares each element with the maximum and casts the mask to float (its ties);
      // with the shift's gradient stopped that part is dead and no kernel computes it
      const prims = fusionPlan(program).steps.flatMap((s) => (s.kind === "kernel" ? s.prims : [s.prim]));
      expect(prims, printProgram(program)).not.toContain("cast");
      got.forEach((v, k) => expect(v).toBeCloseTo(exact.flat()[k] ?? NaN, 6));
    });
  }
});
