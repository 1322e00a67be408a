import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { flattenTree, type Tree } from "../../src/core/tree.js";
import { gru, lstm, rnn } from "../../src/layers/recurrent.js";
import { mean } from "../../src/ops/reduce.js";
import { normal } from "../../src/random/distributions.js";
import { key } from "../../src/random/key.js";
import { grad, valueAndGrad } from "../../src/transforms/grad.js";
import { sgd } from "../../src/optim/sgd.js";
import { applyUpdates } from "../../src/optim/transformation.js";
import { mul, sub } from "../../src/ops/elementwise.js";
import { full } from "../../src/core/create.js";
import { jit } from "../../src/transforms/jit.js";

// the recurrent layers loop unrolled (short sequences) or by one scan (long ones): the same numbers either way
const values = (t: Tensor<Shape>): number[] => Array.from(t.data);

/** Expects `got` within `1e-6 (1 + |want|)` of `want`, element by element. */
function expectClose(got: readonly number[], want: readonly number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((v, i) => expect(Math.abs((got[i] ?? NaN) - v)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(v))));
}

/** A layer as these tests use it. */
interface Recurrent<P> {
  readonly init: (k: ReturnType<typeof key>) => P;
  readonly apply: (p: P, x: Tensor<[2, 7, 3]>) => Tensor<Shape>;
}

/** The scanned layer against the unrolled one: exactly the same under jit (the same kernels), within rounding eagerly. */
function sameAsUnrolled<P extends Tree>(scanned: Recurrent<P>, unrolled: Recurrent<P>): void {
  const p: Tree = scanned.init(key(1));
  const x = normal(key(2), [2, 7, 3]);
  const forward = (layer: Recurrent<P>) => (q: Tree): Tensor<Shape> => layer.apply(q as P, x); // q is the tree of parameters init gave
  const loss = (layer: Recurrent<P>) => (q: Tree): Tensor<[]> => mean(forward(layer)(q)) as Tensor<[]>; // a mean over every axis is a scalar
  expect(values(jit(forward(scanned))(p))).toEqual(values(jit(forward(unrolled))(p)));
  expectClose(values(forward(scanned)(p)), values(forward(unrolled)(p)));
  const [gs, gu, gj] = [grad(loss(scanned))(p), grad(loss(unrolled))(p), jit(grad(loss(scanned)))(p)];
  const leaves = (t: Tree): number[] => flattenTree(t).leaves.flatMap((l) => Array.from(l.data, Number));
  expectClose(leaves(gs), leaves(gu));
  expectClose(leaves(gj), leaves(gu));
}

describe("recurrent layers on scan", () => {
  for (const returnSequences of [true, false]) {
    test(`rnn, lstm and gru (returnSequences ${returnSequences}): scanned equals unrolled, value and gradient`, () => {
      sameAsUnrolled(rnn(3, 5, { returnSequences, unroll: 0 }), rnn(3, 5, { returnSequences, unroll: Infinity }));
      sameAsUnrolled(lstm(3, 5, { returnSequences, unroll: 0 }), lstm(3, 5, { returnSequences, unroll: Infinity }));
      sameAsUnrolled(gru(3, 5, { returnSequences, unroll: 0 }), gru(3, 5, { returnSequences, unroll: Infinity }));
    });
  }

  test("a checkpointed layer gives exactly the gradient of the layer that stores its residuals", () => {
    for (const make of [rnn, lstm, gru]) {
      const stored = make(3, 5, { returnSequences: false, unroll: 0, checkpoint: false });
      const checkpointed = make(3, 5, { returnSequences: false, unroll: 0, checkpoint: true });
      const p: Tree = stored.init(key(9));
      const x = normal(key(10), [2, 7, 3]);
      const loss = (layer: Recurrent<Tree>) => (q: Tree): Tensor<[]> => mean(layer.apply(q, x)) as Tensor<[]>; // a mean over every axis is a scalar
      const leaves = (t: Tree): number[] => flattenTree(t).leaves.flatMap((l) => Array.from(l.data, Number));
      // the layers' parameter types differ per factory; as trees they are the same
      const [a, b] = [stored as unknown as Recurrent<Tree>, checkpointed as unknown as Recurrent<Tree>]; // both layers take the tree init gave
      expect(leaves(jit(grad(loss(b)))(p))).toEqual(leaves(jit(grad(loss(a)))(p)));
      expect(leaves(grad(loss(b))(p))).toEqual(leaves(grad(loss(a))(p)));
    }
  });

  test("an initial state goes through the scan", () => {
    const scanned = lstm(3, 4, { unroll: 0 });
    const unrolled = lstm(3, 4, { unroll: Infinity });
    const p = scanned.init(key(3));
    const x = normal(key(4), [2, 6, 3]);
    const state = { h: normal(key(5), [2, 4]), c: normal(key(6), [2, 4]) };
    const [a, b] = [scanned.applyWithState(p, x, state), unrolled.applyWithState(p, x, state)];
    expectClose(values(a.y), values(b.y));
    expectClose(values(a.h), values(b.h));
    expectClose(values(a.c), values(b.c));
  });

  test("a jitted LSTM's training step does not grow with the sequence once it scans", () => {
    const layer = lstm(3, 4, { returnSequences: false });
    const p = layer.init(key(7));
    const sizes = [65, 130, 512].map((steps) => {
      const step = jit(grad((q: typeof p, x: Tensor<[2, number, 3]>): Tensor<[]> => mean(layer.apply(q, x))));
      step(p, normal(key(8), [2, steps, 3]));
      return step.lastProgram?.eqns.length;
    });
    expect(sizes[1]).toBe(sizes[0]);
    expect(sizes[2]).toBe(sizes[0]);
  });

  test("a 512-step LSTM trains by jitted SGD steps, its program as long at 32, 128 and 512 steps", () => {
    const layer = lstm(3, 4, { returnSequences: false, unroll: 0 });
    const p0 = layer.init(key(11));
    type P = typeof p0;
    const opt = sgd({ learningRate: 0.5 });
    const target = full([2, 4], 0.25);
    const loss = (p: P, x: Tensor<[2, number, 3]>): Tensor<[]> => mean(mul(sub(layer.apply(p, x), target), sub(layer.apply(p, x), target))) as Tensor<[]>; // a mean over every axis is a scalar
    const sizes = [32, 128, 512].map((steps) => {
      const train = jit((p: P, state: ReturnType<typeof opt.init<P>>, x: Tensor<[2, number, 3]>) => {
        const [value, g] = valueAndGrad(loss)(p, x);
        const [updates, next] = opt.update(g, state, p);
        return [value, applyUpdates(p, updates), next] as const;
      });
      const x = normal(key(12), [2, steps, 3]);
      let [p, state] = [p0, opt.init(p0)];
      const losses: number[] = [];
      for (let k = 0; k < 4; k++) {
        const [value, q, s] = train(p, state, x);
        [p, state] = [q, s];
        losses.push(value.data[0] ?? NaN);
      }
      expect(losses[3], `${steps} steps: ${losses.join(", ")}`).toBeLessThan(losses[0] ?? NaN);
      return train.lastProgram?.eqns.length;
    });
    expect(sizes[1]).toBe(sizes[0]);
    expect(sizes[2]).toBe(sizes[0]);
  });

  test("a bad unroll is a ShapeError naming the layer", () => {
    expect(() => lstm(3, 4, { unroll: -1 })).toThrow(ShapeError);
    expect(() => gru(3, 4, { unroll: Number.NaN })).toThrow(/gru: unroll/);
  });
});
