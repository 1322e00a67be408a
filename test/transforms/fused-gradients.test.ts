import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { fusionPlan } from "../../src/ir/fusion/execute.js";
import { printProgram } from "../../src/ir/program.js";
import { gelu, tanh } from "../../src/ops/activations.js";
import { mul, sin } from "../../src/ops/elementwise.js";
import { sum } from "../../src/ops/reduce.js";
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
