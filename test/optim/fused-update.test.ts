import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { Tree } from "../../src/core/tree.js";
import { fusionPlan } from "../../src/ir/fusion/execute.js";
import { adam, type AdamKind } from "../../src/optim/adam.js";
import { sgd } from "../../src/optim/sgd.js";
import { applyUpdates, type StateKind, type StateOf, type Transformation } from "../../src/optim/transformation.js";
import { jit } from "../../src/transforms/jit.js";
import { expectClose, params, values, type Params } from "./helpers.js";

/** A jitted update of `params` by `grads` with `opt`: the new params and state. */
function jittedUpdate<K extends StateKind>(opt: Transformation<K>, donate: readonly number[] = []) {
  return jit(
    (p: Params, g: Params, s: Tree) => {
      const [updates, next] = opt.update(g, s as StateOf<K, Params>, p); // s is a state that opt.init built (the tests pass nothing else)
      return { params: applyUpdates(p, updates), state: next as Tree }; // an optimizer's state is a tree of tensors
    },
    { donate },
  );
}

/** The primitives each kernel of `f`'s last program computes. */
function kernelsOf(f: { readonly lastProgram: Parameters<typeof fusionPlan>[0] | undefined }): string[] {
  const program = f.lastProgram;
  if (program === undefined) throw new Error("nothing traced");
  return fusionPlan(program).steps.map((s) => (s.kind === "kernel" ? s.prims.filter((n) => n !== "broadcast").join(" ") : s.prim));
}

describe("a jitted optimizer step over a parameter tree", () => {
  test("sgd updates each parameter in one fused loop, p + (-lr) * g, and passes its unused trace on", () => {
    const opt = sgd({ learningRate: 0.1 });
    const p = params(1, -2, 0.5);
    const state = opt.init(p);
    const step = jittedUpdate(opt);
    const out = step(p, params(0.5, -1.5, 2), state);
    expectClose(values(out.params), [0.95, -1.85, 0.3]);
    expect(out.state).toMatchObject({ trace: state.trace });
    // the count, and one loop per leaf
    expect(kernelsOf(step)).toEqual(["add", "mul add", "mul add"]);
  });

  test("adam casts its bias corrections once for the tree and runs three loops per parameter (two moments, the step)", () => {
    type Float32Params = { readonly w: Tensor<[2]>; readonly v: Tensor<[3]>; readonly b: Tensor<[]> };
    const opt = adam({ learningRate: 0.1 });
    const step = jit((p: Float32Params, g: Float32Params, s: StateOf<AdamKind, Float32Params>) => {
      const [updates, next] = opt.update(g, s, p);
      return { params: applyUpdates(p, updates), state: next };
    });
    const p: Float32Params = { w: tensor([1, -2]), v: tensor([3, 4, 5]), b: tensor(0.5) };
    step(p, p, opt.init(p));
    const kernels = kernelsOf(step);
    const scalars = kernels.filter((k) => !k.includes("mul"));
    // the next count; 1 - b^t for each moment, cast to float32 once each (the count as a float is computed in the first of them, a second output of that kernel: multi-output fusion)
    expect(scalars).toEqual(["add", "cast pow sub cast", "pow sub cast"]);
    expect(kernels.length - scalars.length).toBe(3 * 3);
  });

  test("with its params and state donated, the update is written over them and equals the update without donation", () => {
    const opt = adam({ learningRate: 0.1 });
    const run = (donate: readonly number[]): { before: Params; after: { params: Params; state: Tree } } => {
      const before = params(1, -2, 0.5);
      const step = jittedUpdate(opt, donate);
      let state: Tree = opt.init(before);
      let p = before;
      for (let i = 0; i < 3; i++) {
        const out: { params: Params; state: Tree } = step(p, params(0.5, -1.5, 2), state);
        p = out.params;
        state = out.state;
      }
      return { before, after: { params: p, state } };
    };
    const kept = run([]);
    const donated = run([0, 2]);
    expect(values(donated.after.params)).toEqual(values(kept.after.params));
    expect(donated.after.params.w.data).toBe(donated.before.w.data);
    expect(values(kept.before)).toEqual([1, -2, 0.5]);
  });
});
