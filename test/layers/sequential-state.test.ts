import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import { zeros } from "../../src/core/create.js";
import { dense } from "../../src/layers/dense.js";
import { embedding } from "../../src/layers/embedding.js";
import { relu } from "../../src/layers/activations.js";
import { frozen } from "../../src/layers/frozen.js";
import { batchNorm } from "../../src/layers/norm.js";
import { sequential } from "../../src/layers/sequential.js";
import { summary } from "../../src/layers/summary.js";
import { residual } from "../../src/layers/residual.js";
import { relu as reluOp } from "../../src/ops/activations.js";
import { add as addOp } from "../../src/ops/elementwise.js";
import { key } from "../../src/random/key.js";
import { make } from "./helpers.js";

describe("sequential with a stateful layer", () => {
  const [d1, bn1, d2, bn2] = [dense(3, 4), batchNorm(4, { momentum: 0.8 }), dense(4, 2), batchNorm(2, { momentum: 0.5 })];
  const net = sequential(d1, bn1, relu(), d2, bn2);
  const p = net.init(key(3));
  const x0 = make([1, -2, 3, 0.5, 4, -1, 2, 2, -3, 0, 1, 5], [4, 3]);
  const x1 = make([2, 1, -1, 3, 0, 0, -2, 4, 1, 1, 1, -1], [4, 3]);
  const batches = [x0, x1];

  /** The same stack run layer by layer, its states threaded by hand. */
  const byHand = (x: typeof x0, s1: ReturnType<typeof bn1.initState>, s2: ReturnType<typeof bn2.initState>, training: boolean) => {
    const [h1, n1] = bn1.apply(p[1], s1, d1.apply(p[0], x), { training });
    const [y, n2] = bn2.apply(p[4], s2, d2.apply(p[3], reluOp(h1)), { training });
    return { y, n1, n2 };
  };

  test("its state is one entry per layer, {} for a layer without state", () => {
    const s = net.initState();
    expect(s.length).toBe(5);
    expect([s[0], s[2], s[3]]).toEqual([{}, {}, {}]);
    expect(s[1].mean.toArray()).toEqual([0, 0, 0, 0]);
    expect(s[4].var.toArray()).toEqual([1, 1]);
  });

  test("training for two steps updates each layer's running statistics as a hand-threaded run does, bit for bit", () => {
    let state = net.initState();
    let [s1, s2] = [bn1.initState(), bn2.initState()];
    for (const x of batches) {
      const [y, next] = net.apply(p, state, x, { training: true });
      const want = byHand(x, s1, s2, true);
      expect(y.toArray()).toEqual(want.y.toArray());
      expect(next[1].mean.toArray()).toEqual(want.n1.mean.toArray());
      expect(next[1].var.toArray()).toEqual(want.n1.var.toArray());
      expect(next[4].mean.toArray()).toEqual(want.n2.mean.toArray());
      expect(next[4].var.toArray()).toEqual(want.n2.var.toArray());
      [state, s1, s2] = [next, want.n1, want.n2];
    }
    expect(state[1].mean.toArray()).not.toEqual([0, 0, 0, 0]); // it moved
  });

  test("in inference mode it uses the running statistics and hands the state back unchanged", () => {
    const [, trainedState] = net.apply(p, net.initState(), x0, { training: true });
    const [y, same] = net.apply(p, trainedState, x1);
    expect(y.toArray()).toEqual(byHand(x1, trainedState[1], trainedState[4], false).y.toArray());
    expect(same[1]).toBe(trainedState[1]);
    expect(same[4]).toBe(trainedState[4]);
  });

  test("a nested stack keeps its own state tuple inside the outer one", () => {
    const outer = sequential(sequential(d1, bn1), relu(), d2, bn2);
    const po = outer.init(key(3));
    const x = x0;
    const [y, s] = outer.apply(po, outer.initState(), x, { training: true });
    const [h, [, inner]] = sequential(d1, bn1).apply(po[0], [{}, bn1.initState()], x, { training: true });
    const [want, last] = bn2.apply(po[3], bn2.initState(), d2.apply(po[2], reluOp(h)), { training: true });
    expect(y.toArray()).toEqual(want.toArray());
    expect(s[0][1].mean.toArray()).toEqual(inner.mean.toArray());
    expect(s[3].var.toArray()).toEqual(last.var.toArray());
  });

  test("frozen(stack) is the stack in inference mode, its state among its parameters", () => {
    const x = x1;
    const fp = { params: p, state: net.initState() };
    expect(frozen(net).apply(fp, x, { training: true }).toArray()).toEqual(net.apply(p, fp.state, x)[0].toArray());
  });

  test("a state of the wrong length is refused, naming the stack", () => {
    const untyped = net.apply as unknown as (p: unknown, s: unknown, x: unknown) => unknown; // what an untyped caller could pass
    expect(() => untyped(p, [{}], x0)).toThrow(ShapeError);
    expect(() => untyped(p, [{}], x0)).toThrow("sequential: expects a state of 5 entries (one per layer, from initState) but gets 1");
  });

  test("residual of a stateful stack adds the input back and hands on the stack's new state", () => {
    const inner = sequential(dense(3, 3), batchNorm(3));
    const block = residual(inner);
    const pb = block.init(key(5));
    const [y, s] = block.apply(pb, block.initState(), x0, { training: true });
    const [h, want] = inner.apply(pb, inner.initState(), x0, { training: true });
    expect(y.toArray()).toEqual(addOp(x0, h).toArray());
    expect(s[1].mean.toArray()).toEqual(want[1].mean.toArray());
    expect(s[1].var.toArray()).toEqual(want[1].var.toArray());
  });

  test("a stateful stack that starts with an embedding takes int32 indices", () => {
    const lm = sequential(embedding(10, 4), batchNorm(4));
    const [y, s] = lm.apply(lm.init(key(2)), lm.initState(), zeros([2, 3], "int32"), { training: true });
    expect(y.shape).toEqual([2, 3, 4]);
    expect(s[1].mean.shape).toEqual([4]);
  });

  test("the summary lists its layers", () => {
    expect(summary(net, [4, 3]).rows.map((r) => r.name)).toEqual(["dense", "batchNorm", "relu", "dense", "batchNorm"]);
  });
});
