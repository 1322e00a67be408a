import { describe, expect, test } from "vitest";
import { adam, adamw } from "../../src/optim/adam.js";
import { expectClose, gradSteps, runSteps } from "./helpers.js";

/** Adam's updates over `gradSteps` by the formulas, leaf by leaf; `p` are the params before each step. */
function expectedAdam(lr: number, b1: number, b2: number, eps: number, weightDecay: number): number[][] {
  let mu = [0, 0, 0];
  let nu = [0, 0, 0];
  let p = [1, -2, 0.5];
  return gradSteps.map((g, i) => {
    const t = i + 1;
    mu = g.map((x, j) => b1 * (mu[j] ?? 0) + (1 - b1) * x);
    nu = g.map((x, j) => b2 * (nu[j] ?? 0) + (1 - b2) * x * x);
    const u = mu.map((m, j) => {
      const muHat = m / (1 - b1 ** t);
      const nuHat = (nu[j] ?? 0) / (1 - b2 ** t);
      return -lr * (muHat / (Math.sqrt(nuHat) + eps) + weightDecay * (p[j] ?? 0));
    });
    p = p.map((x, j) => x + (u[j] ?? 0));
    return u;
  });
}

describe("adam", () => {
  test("adam's updates follow the bias-corrected moment formulas for three steps", () => {
    const expected = expectedAdam(0.01, 0.9, 0.999, 1e-8, 0);
    runSteps(adam({ learningRate: 0.01 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("bias correction makes adam's first step -lr * sign(g), whatever b1 and b2", () => {
    const [first = []] = runSteps(adam({ learningRate: 0.1, b1: 0.5, b2: 0.75, eps: 0 }));
    expectClose(first, gradSteps[0]?.map((g) => -0.1 * Math.sign(g)) ?? []);
  });

  test("adam with other b1, b2 and eps matches the formulas", () => {
    const expected = expectedAdam(0.2, 0.5, 0.9, 1e-3, 0);
    runSteps(adam({ learningRate: 0.2, b1: 0.5, b2: 0.9, eps: 1e-3 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("adamw adds the decoupled decay -lr * weightDecay * p to adam's update", () => {
    const expected = expectedAdam(0.01, 0.9, 0.999, 1e-8, 0.1);
    runSteps(adamw({ learningRate: 0.01, weightDecay: 0.1 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("adamw's default weight decay is 1e-4", () => {
    const expected = expectedAdam(0.01, 0.9, 0.999, 1e-8, 1e-4);
    runSteps(adamw({ learningRate: 0.01 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("bad options throw when the optimizer is built", () => {
    expect(() => adam({ learningRate: -1 })).toThrow(/adam: learningRate must be a non-negative finite number/);
    expect(() => adam({ learningRate: 0.1, b1: 1 })).toThrow(/adam: b1 must be in \[0, 1\), got 1/);
    expect(() => adam({ learningRate: 0.1, b2: -0.5 })).toThrow(/adam: b2 must be in \[0, 1\)/);
    expect(() => adam({ learningRate: 0.1, eps: -1 })).toThrow(/adam: eps must be non-negative/);
    expect(() => adamw({ learningRate: 0.1, weightDecay: -1 })).toThrow(/adamw: weightDecay must be non-negative/);
  });
});
