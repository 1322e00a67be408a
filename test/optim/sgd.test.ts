import { describe, expect, test } from "vitest";
import { applyUpdates } from "../../src/optim/transformation.js";
import { sgd } from "../../src/optim/sgd.js";
import { stepDecay } from "../../src/optim/schedule.js";
import { expectClose, gradSteps, params, runSteps, values } from "./helpers.js";

describe("sgd", () => {
  test("plain sgd's update is minus the learning rate times the grads", () => {
    const lr = 0.1;
    const expected = gradSteps.map((g) => g.map((x) => -lr * x));
    runSteps(sgd({ learningRate: lr })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("momentum accumulates a trace t = g + momentum * t_prev and steps by -lr * t", () => {
    const lr = 0.1;
    const m = 0.9;
    let trace = [0, 0, 0];
    const expected = gradSteps.map((g) => {
      trace = g.map((x, j) => x + m * (trace[j] ?? 0));
      return trace.map((t) => -lr * t);
    });
    runSteps(sgd({ learningRate: lr, momentum: m })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("nesterov momentum steps by -lr * (g + momentum * t)", () => {
    const lr = 0.05;
    const m = 0.8;
    let trace = [0, 0, 0];
    const expected = gradSteps.map((g) => {
      trace = g.map((x, j) => x + m * (trace[j] ?? 0));
      return g.map((x, j) => -lr * (x + m * (trace[j] ?? 0)));
    });
    runSteps(sgd({ learningRate: lr, momentum: m, nesterov: true })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("applyUpdates adds the updates to the params leaf by leaf", () => {
    expect(values(applyUpdates(params(1, 2, 3), params(0.5, -1, 0.25)))).toEqual([1.5, 1, 3.25]);
  });

  test("a scheduled learning rate reads the count of updates done before this one", () => {
    const rates = [0.1, 0.05, 0.025]; // stepDecay(0.1, 1, 0.5) at steps 0, 1, 2
    const expected = gradSteps.map((g, i) => g.map((x) => -(rates[i] ?? NaN) * x));
    runSteps(sgd({ learningRate: stepDecay(0.1, 1, 0.5) })).forEach((u, i) => expectClose(u, expected[i] ?? []));
  });

  test("bad options throw when the optimizer is built", () => {
    expect(() => sgd({ learningRate: -0.1 })).toThrow(/sgd: learningRate must be a non-negative finite number, got -0.1/);
    expect(() => sgd({ learningRate: 0.1, momentum: 1 })).toThrow(/sgd: momentum must be in \[0, 1\), got 1/);
    expect(() => sgd({ learningRate: NaN })).toThrow(RangeError);
  });
});
