import { describe, expect, test } from "vitest";
import { rmsprop } from "../../src/optim/rmsprop.js";
import { expectClose, gradSteps, runSteps } from "./helpers.js";

/** RMSProp's updates over `gradSteps` by optax's formulas. */
function expectedRmsprop(lr: number, decay: number, eps: number, momentum: number): number[][] {
  let nu = [0, 0, 0];
  let trace = [0, 0, 0];
  return gradSteps.map((g) => {
    nu = g.map((x, j) => decay * (nu[j] ?? 0) + (1 - decay) * x * x);
    trace = g.map((x, j) => (-lr * x) / Math.sqrt((nu[j] ?? 0) + eps) + momentum * (trace[j] ?? 0));
    return trace;
  });
}

describe("rmsprop", () => {
  test("rmsprop scales the grads by the root of their running mean square", () => {
    const expected = expectedRmsprop(0.01, 0.9, 1e-8, 0);
    runSteps(rmsprop({ learningRate: 0.01 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("rmsprop with momentum accumulates the scaled steps", () => {
    const expected = expectedRmsprop(0.05, 0.8, 1e-4, 0.9);
    runSteps(rmsprop({ learningRate: 0.05, decay: 0.8, eps: 1e-4, momentum: 0.9 })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("bad options throw when the optimizer is built", () => {
    expect(() => rmsprop({ learningRate: -1 })).toThrow(/rmsprop: learningRate/);
    expect(() => rmsprop({ learningRate: 0.1, decay: 1.5 })).toThrow(/rmsprop: decay must be in \[0, 1\)/);
    expect(() => rmsprop({ learningRate: 0.1, momentum: -0.1 })).toThrow(/rmsprop: momentum must be in \[0, 1\)/);
  });
});
