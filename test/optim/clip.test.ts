import { describe, expect, test } from "vitest";
import { clipByGlobalNorm } from "../../src/optim/clip.js";
import { chain } from "../../src/optim/chain.js";
import { sgd } from "../../src/optim/sgd.js";
import { expectClose, params, values } from "./helpers.js";

// grads [3, 0], 4: global norm sqrt(9 + 0 + 16) = 5
const grads = params(3, 0, 4);
const p = params(1, 1, 1);

describe("clipByGlobalNorm", () => {
  test("grads below the max norm pass unchanged", () => {
    const clip = clipByGlobalNorm(10);
    const [updates] = clip.update(grads, clip.init(p), p);
    expectClose(values(updates), [3, 0, 4]);
  });

  test("grads above the max norm are scaled to it, keeping their direction", () => {
    const clip = clipByGlobalNorm(2);
    const [updates] = clip.update(grads, clip.init(p), p);
    expectClose(values(updates), [(3 * 2) / 5, 0, (4 * 2) / 5]);
  });

  test("grads exactly at the max norm pass unchanged, and zero grads stay zero", () => {
    const clip = clipByGlobalNorm(5);
    expectClose(values(clip.update(grads, clip.init(p), p)[0]), [3, 0, 4]);
    expectClose(values(clip.update(params(0, 0, 0), clip.init(p), p)[0]), [0, 0, 0]);
  });

  test("a non-positive max norm throws", () => {
    expect(() => clipByGlobalNorm(0)).toThrow(/clipByGlobalNorm: maxNorm must be positive, got 0/);
  });
});

describe("chain", () => {
  test("chain clips the grads, then takes an sgd step with them", () => {
    const opt = chain(clipByGlobalNorm(1), sgd({ learningRate: 0.5, momentum: 0.9 }));
    let state = opt.init(p);
    const [first, next] = opt.update(grads, state, p);
    expectClose(values(first), [-0.5 * 0.6, 0, -0.5 * 0.8]);
    state = next;
    // second step: clipped g again, trace = g + 0.9 g = 1.9 g
    const [second] = opt.update(grads, state, p);
    expectClose(values(second), [-0.5 * 1.9 * 0.6, 0, -0.5 * 1.9 * 0.8]);
  });

  test("the chained state is the tuple of the parts' states", () => {
    const opt = chain(clipByGlobalNorm(1), sgd({ learningRate: 0.5 }));
    const [clipState, sgdState] = opt.init(p);
    expect(clipState).toEqual({});
    expect(sgdState.count.item()).toBe(0);
  });
});
