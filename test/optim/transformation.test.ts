import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { sub, sum } from "../../src/ops/index.js";
import { square } from "../../src/ops/math.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { adam, type AdamState } from "../../src/optim/adam.js";
import { chain } from "../../src/optim/chain.js";
import { clipByGlobalNorm } from "../../src/optim/clip.js";
import { warmupCosineDecay } from "../../src/optim/schedule.js";
import { sgd } from "../../src/optim/sgd.js";
import { applyUpdates } from "../../src/optim/transformation.js";
import { expectClose, gradSteps, params, values, type Params } from "./helpers.js";

describe("transformations", () => {
  test("an adam step inside jit gives the same updates and state as eager", () => {
    const opt = adam({ learningRate: warmupCosineDecay(0, 0.1, 2, 10) });
    const step = jit((p: Params, state: AdamState<Params>, g: Params) => {
      const [updates, next] = opt.update(g, state, p);
      return [applyUpdates(p, updates), next] as const;
    });
    let eager = params(1, -2, 0.5);
    let jitted = eager;
    let eagerState = opt.init(eager);
    let jittedState = eagerState;
    for (const [g0, g1, gb] of gradSteps) {
      const g = params(g0, g1, gb);
      const [updates, next] = opt.update(g, eagerState, eager);
      eager = applyUpdates(eager, updates);
      eagerState = next;
      [jitted, jittedState] = step(jitted, jittedState, g);
      expectClose(values(jitted), values(eager));
      expectClose(values(jittedState.mu), values(eagerState.mu));
      expect(jittedState.count.item()).toBe(eagerState.count.item());
    }
    expect(step.traces).toBe(1);
  });

  test("a chain of clipping and sgd inside jit gives the same result as eager", () => {
    const opt = chain(clipByGlobalNorm(1), sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }));
    const p = params(1, -2, 0.5);
    const g = params(3, 0, 4);
    const state = opt.init(p);
    const jitted = jit((x: Params, s: typeof state, dx: Params) => opt.update(dx, s, x))(p, state, g);
    const eager = opt.update(g, state, p);
    expectClose(values(jitted[0]), values(eager[0]));
    expectClose(values(jitted[1][1].trace), values(eager[1][1].trace));
  });

  test("a few steps of sgd on a quadratic lower the loss", () => {
    const target = tensor([3, -1], "float64");
    const loss = (p: { readonly w: Tensor<[2], "float64"> }) => sum(square(sub(p.w, target)));
    const opt = sgd({ learningRate: 0.1, momentum: 0.5 });
    let p = { w: tensor([0, 0], "float64") };
    let state = opt.init(p);
    const losses = [loss(p).item()];
    for (let i = 0; i < 5; i++) {
      const [updates, next] = opt.update(grad(loss)(p), state, p);
      p = applyUpdates(p, updates);
      state = next;
      losses.push(loss(p).item());
    }
    losses.slice(1).forEach((l, i) => expect(l).toBeLessThan(losses[i] ?? -Infinity));
    expect(losses[5]).toBeLessThan((losses[0] ?? 0) / 10);
  });

  test("grads of another structure are refused at run time too", () => {
    const opt = sgd({ learningRate: 0.1 });
    const p = params(1, 2, 3);
    const other = { w: tensor([1, 2], "float64") } as unknown as Params; // deliberately wrong, to reach the run-time check
    expect(() => opt.update(other, opt.init(p), p)).toThrow(/sgd: tree 1 has another structure than tree 0/);
  });
});
