/** Shared fixtures of the optimizer tests: float64 params and grads, and a leafwise reader. */

import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { applyUpdates, type StateKind, type Transformation } from "../../src/optim/transformation.js";

export type Params = { readonly w: Tensor<[2], "float64">; readonly b: Tensor<[], "float64"> };

/** A params tree with `w = [w0, w1]` and `b`. */
export function params(w0: number, w1: number, b: number): Params {
  return { w: tensor([w0, w1], "float64"), b: tensor(b, "float64") };
}

/** The leaves of a `Params` tree as plain numbers: `[w0, w1, b]`. */
export function values(p: Params): number[] {
  return [...p.w.toArray(), p.b.item()];
}

/** The grads of three steps, as `[w0, w1, b]`. */
export const gradSteps: readonly (readonly [number, number, number])[] = [
  [0.5, -1.5, 2],
  [-0.25, 0.75, 1],
  [1.25, 0.5, -3],
];

/** Checks every number against its expected value to 1e-12 (relative to its size). */
export function expectClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-12): void {
  if (actual.length !== expected.length) throw new Error(`expected ${expected.length} values, got ${actual.length}`);
  actual.forEach((a, i) => {
    const e = expected[i] ?? NaN;
    if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)))) throw new Error(`value ${i}: expected ${e}, got ${a}`);
  });
}

/** Runs `opt` over `gradSteps` from the params [1, -2], 0.5 and returns each step's updates as numbers. */
export function runSteps<K extends StateKind>(opt: Transformation<K>): number[][] {
  let p = params(1, -2, 0.5);
  let state = opt.init(p);
  const out: number[][] = [];
  for (const [g0, g1, gb] of gradSteps) {
    const [updates, next] = opt.update(params(g0, g1, gb), state, p);
    out.push(values(updates));
    p = applyUpdates(p, updates);
    state = next;
  }
  return out;
}

