import { describe, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { RuntimeShape, Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { multiHeadAttention, transformerEncoderBlock } from "../../src/layers/attention.js";
import { conv1d, conv2d, convTranspose2d } from "../../src/layers/conv.js";
import { dense } from "../../src/layers/dense.js";
import { checkParams } from "../../src/layers/layer.js";
import { batchNorm, layerNorm, rmsNorm } from "../../src/layers/norm.js";
import { gru, lstm, rnn } from "../../src/layers/recurrent.js";
import { sum } from "../../src/ops/reduce.js";
import { key } from "../../src/random/key.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";

/** One layer's row of the table: its parameters, how to run it, its output shape, and wrong shapes for some of its parameters. */
interface Case {
  readonly name: string;
  readonly layer: string;
  readonly params: unknown;
  readonly run: (p: unknown) => readonly number[];
  readonly out: readonly number[];
  /** Parameter path (dotted for nested trees) to a shape it must not have. */
  readonly wrong: Readonly<Record<string, RuntimeShape>>;
}

/** A row of the table for a layer whose `init` gave `params`. */
function row<P>(name: string, layer: string, params: P, run: (p: P) => Tensor<Shape>, out: readonly number[], wrong: Readonly<Record<string, RuntimeShape>>): Case {
  // the trees run gets are `params` with one leaf replaced: P's keys, shapes wrong on purpose (what apply must reject)
  return { name, layer, params, run: (p) => run(p as P).shape, out, wrong };
}

/** `tree` with the leaf at the dotted `path` replaced by `value` (`undefined` removes it), the rest shared. */
function replaced(tree: unknown, path: string, value: unknown): unknown {
  const [head = "", ...rest] = path.split(".");
  const node = typeof tree === "object" && tree !== null ? { ...tree } : {};
  const next = rest.length === 0 ? value : replaced((node as Record<string, unknown>)[head], rest.join("."), value); // a copied object, indexed by name
  if (next === undefined) delete (node as Record<string, unknown>)[head]; // as above
  else Object.assign(node, { [head]: next });
  return node;
}

/** `p` with the parameter at `path` replaced by zeros of `shape`: the hand-built tree whose check is under test. */
function forged<P>(p: P, path: string, shape: RuntimeShape): P {
  return replaced(p, path, zeros(shape)) as P; // P's keys with one shape wrong on purpose, which apply must reject
}

const k = key(0);
const [d2, c3] = [dense(3, 5), conv2d(2, 4, 3)];
const [c1, ct] = [conv1d(2, 4, 3), convTranspose2d(2, 2, 3)];
const [r, l, g] = [rnn(2, 3), lstm(2, 3), gru(2, 3)];
const [ln, rms, bn] = [layerNorm(4), rmsNorm(4), batchNorm(4)];
const [mha, block] = [multiHeadAttention(4, 2), transformerEncoderBlock(4, 2, 8)];
const [seq, image] = [zeros([2, 3, 4]), zeros([1, 6, 6, 2])];

const cases: readonly Case[] = [
  row("dense", "dense", d2.init(k), (p) => d2.apply(p, zeros([2, 3])), [2, 5], { w: [3, 7], b: [1] }),
  row("dense without bias", "dense", dense(3, 5, { useBias: false }).init(k), (p) => dense(3, 5, { useBias: false }).apply(p, zeros([2, 3])), [2, 5], { w: [3, 6] }),
  row("conv2d", "conv2d", c3.init(k), (p) => c3.apply(p, image), [1, 4, 4, 4], { w: [5, 5, 2, 4], b: [1] }),
  row("conv2d without bias", "conv2d", conv2d(2, 4, 3, { useBias: false }).init(k), (p) => conv2d(2, 4, 3, { useBias: false }).apply(p, image), [1, 4, 4, 4], {
    w: [3, 3, 2, 6],
  }),
  row("conv1d", "conv1d", c1.init(k), (p) => c1.apply(p, zeros([1, 8, 2])), [1, 6, 4], { w: [3, 3, 4], b: [1] }),
  row("convTranspose2d", "convTranspose2d", ct.init(k), (p) => ct.apply(p, zeros([1, 4, 4, 2])), [1, 6, 6, 2], { w: [5, 5, 2, 2], b: [1] }),
  row("rnn", "rnn", r.init(k), (p) => r.apply(p, zeros([1, 4, 2])), [1, 4, 3], { wx: [2, 4], wh: [3, 4], b: [1] }),
  row("rnn from a state", "rnn", r.init(k), (p) => r.applyWithState(p, zeros([1, 4, 2]), { h: zeros([1, 3]) }).y, [1, 4, 3], { wh: [4, 3] }),
  row("lstm", "lstm", l.init(k), (p) => l.apply(p, zeros([1, 4, 2])), [1, 4, 3], { wx: [2, 15], wh: [3, 15], b: [15] }),
  row("lstm from a state", "lstm", l.init(k), (p) => l.applyWithState(p, zeros([1, 4, 2])).y, [1, 4, 3], { b: [1] }),
  row("gru", "gru", g.init(k), (p) => g.apply(p, zeros([1, 4, 2])), [1, 4, 3], { wx: [2, 12], wh: [3, 6], bx: [9, 1], bh: [1] }),
  row("layerNorm", "layerNorm", ln.init(k), (p) => ln.apply(p, seq), [2, 3, 4], { scale: [3, 4], bias: [1] }),
  row("rmsNorm", "rmsNorm", rms.init(k), (p) => rms.apply(p, seq), [2, 3, 4], { scale: [1] }),
  row("batchNorm", "batchNorm", bn.init(k), (p) => bn.apply(p, bn.initState(), seq, { training: true })[0], [2, 3, 4], { scale: [1], bias: [4, 4] }),
  row("multiHeadAttention", "multiHeadAttention", mha.init(k), (p) => mha.apply(p, seq), [2, 3, 4], { wq: [4, 6], wo: [4, 5], bo: [1] }),
  row("cross-attention", "multiHeadAttention", mha.init(k), (p) => mha.attend(p, zeros([2, 3, 4]), zeros([2, 5, 4])), [2, 3, 4], { wk: [4, 2], bv: [2] }),
  row("transformerEncoderBlock", "transformerEncoderBlock", block.init(k), (p) => block.apply(p, seq), [2, 3, 4], {
    "ln1.scale": [1],
    "mha.wq": [4, 6],
    "mha.bo": [1],
    "ffn1.w": [4, 9],
    "ffn2.b": [8],
  }),
];

describe("every layer checks its parameters' shapes", () => {
  test.each(cases)("$name works with the parameters of its init", (c) => {
    expect(c.run(c.params)).toEqual(c.out);
  });

  test.each(cases)("$name rejects a wrong parameter shape with a ShapeError naming the layer, the parameter and both shapes", (c) => {
    for (const [path, shape] of Object.entries(c.wrong)) {
      const run = (): unknown => c.run(replaced(c.params, path, zeros(shape)));
      expect(run).toThrow(ShapeError);
      expect(run).toThrow(new RegExp(`^${c.layer}: parameter ${path.replace(".", "\\.")} must be \\[[\\d, ]+\\] but is \\[${shape.join(", ")}\\]$`));
    }
  });

  test.each(cases)("$name rejects a missing parameter, naming it", (c) => {
    const [path = ""] = Object.keys(c.wrong);
    expect(() => c.run(replaced(c.params, path, undefined))).toThrow(`${c.layer}: parameter ${path} is missing`);
  });

  test("the repros of the review name the layer and both shapes", () => {
    expect(() => c3.apply(forged(c3.init(k), "w", [5, 5, 2, 4]), image)).toThrow("conv2d: parameter w must be [3, 3, 2, 4] but is [5, 5, 2, 4]");
    expect(() => d2.apply(forged(d2.init(k), "w", [3, 7]), zeros([2, 3]))).toThrow("dense: parameter w must be [3, 5] but is [3, 7]");
    expect(() => g.apply(forged(g.init(k), "bh", [1]), zeros([1, 4, 2]))).toThrow("gru: parameter bh must be [9] but is [1]");
  });

  test("a parameter a layer does not use is not looked at, and is not used", () => {
    const noBias = dense(3, 5, { useBias: false });
    const stray = { ...noBias.init(k), b: zeros([7]) };
    expect(noBias.apply(stray, zeros([2, 3])).shape).toEqual([2, 5]);
  });

  test("the check runs under jit and grad, on tracers", () => {
    const p = d2.init(k);
    const x = zeros([2, 3]);
    const bad = forged(p, "w", [3, 7]);
    expect(() => jit((q: typeof p, xs: Tensor<[2, 3]>) => d2.apply(q, xs))(bad, x)).toThrow("dense: parameter w must be [3, 5] but is [3, 7]");
    expect(() => grad((q: typeof p) => sum(d2.apply(q, x)))(bad)).toThrow("dense: parameter w must be [3, 5] but is [3, 7]");
    expect(jit((q: typeof p, xs: Tensor<[2, 3]>) => d2.apply(q, xs))(p, x).shape).toEqual([2, 5]);
    expect(grad((q: typeof p) => sum(d2.apply(q, x)))(p).w.shape).toEqual([3, 5]);
  });
});

describe("checkParams", () => {
  test("reads nested parameters by a dotted path and leaves out the ones expected as undefined", () => {
    const tree = { inner: { w: zeros([2, 3]) } };
    expect(() => checkParams("outer", tree, { "inner.w": [2, 3], b: undefined })).not.toThrow();
    expect(() => checkParams("outer", tree, { "inner.w": [3, 2] })).toThrow("outer: parameter inner.w must be [3, 2] but is [2, 3]");
    expect(() => checkParams("outer", tree, { "inner.b": [3] })).toThrow("outer: parameter inner.b is missing; it must be a tensor [3]");
    expect(() => checkParams("outer", { w: [2, 3] }, { w: [2, 3] })).toThrow("outer: parameter w is missing");
  });

  test("the documented example", () => {
    expect(() => checkParams("dense", { w: zeros([3, 7]) }, { w: [3, 5] })).toThrow("dense: parameter w must be [3, 5] but is [3, 7]");
  });
});
