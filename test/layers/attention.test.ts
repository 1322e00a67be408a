import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { zeros } from "../../src/core/create.js";
import { Tensor } from "../../src/core/tensor.js";
import { multiHeadAttention, transformerEncoderBlock, type AttentionParams, type TransformerEncoderParams } from "../../src/layers/attention.js";
import { mul, sum } from "../../src/ops/index.js";
import { normal } from "../../src/random/distributions.js";
import { key } from "../../src/random/key.js";
import { keyData, type KeyData } from "../../src/random/staged.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { vjp } from "../../src/transforms/linearize.js";
import { maxDiff } from "./helpers.js";

/** A value whose type the layer refuses, for the tests of the run-time checks. */
function unchecked(x: unknown): never {
  return x as never; // the run-time check is what the test exercises, so the compile-time one is bypassed on purpose
}

/** A float64 tensor of `shape` holding `values`. */
function f64<const S extends readonly number[]>(values: readonly number[], shape: S): Tensor<[...S]> {
  // float64 storage under the layers' float32 types: the layers compute in their input's dtype
  const dims: number[] = [...shape];
  return new Tensor(dims, "float64", Float64Array.from(values)) as unknown as Tensor<[...S]>;
}

/** A bool tensor of `shape` from 0s and 1s. */
function bools(values: readonly number[], shape: readonly number[]): Tensor<Shape, "bool"> {
  return new Tensor([...shape], "bool", Uint8Array.from(values));
}

/** `x` with the values at `indices` (flat) moved by `delta` times 1, 2, 3, 1, 2, 3, ... (not a constant, which a layer norm would remove). */
function perturbed<S extends Shape>(x: Tensor<S>, indices: readonly number[], delta = 0.7): Tensor<S> {
  const data = Float32Array.from(x.toArray());
  indices.forEach((i, j) => (data[i] = (data[i] ?? 0) + delta * (1 + (j % 3))));
  return new Tensor(x.shape, "float32", data);
}

/** The flat indices of token `t` of sequence `n` in `[N, T, D]`. */
const tokenIndices = (n: number, t: number, time: number, d: number): number[] => Array.from({ length: d }, (_, i) => (n * time + t) * d + i);

/** The values of query `t` of sequence `n` in `[N, T, D]`. */
const tokenOf = (y: readonly number[], n: number, t: number, time: number, d: number): number[] => y.slice((n * time + t) * d, (n * time + t + 1) * d);

describe("multiHeadAttention", () => {
  const mha = multiHeadAttention(8, 2);
  const p = mha.init(key(0));
  const x = normal(key(1), [2, 5, 8]);

  test("maps [N, T, D] to [N, T, D] and attends from [N, Tq, D] to [N, Tk, D]", () => {
    expect(mha.apply(p, x).shape).toEqual([2, 5, 8]);
    expect(mha.attend(p, x, normal(key(2), [2, 3, 8])).shape).toEqual([2, 5, 8]);
  });

  test("init gives [D, H·dk] projections, [H·dv, D] output and zero biases", () => {
    const q = multiHeadAttention(6, 2, { keyDim: 4, valueDim: 5 }).init(key(0));
    expect([q.wq.shape, q.wk.shape, q.wv.shape, q.wo.shape]).toEqual([[6, 8], [6, 8], [6, 10], [10, 6]]);
    expect([q.bq.shape, q.bk.shape, q.bv.shape, q.bo.shape]).toEqual([[8], [8], [10], [6]]);
    expect(q.bo.toArray().every((v) => v === 0)).toBe(true);
    expect(Object.keys(multiHeadAttention(6, 2, { useBias: false }).init(key(0))).sort()).toEqual(["wk", "wo", "wq", "wv"]);
  });

  test("causal: the output at t does not change when a later token does, and does when an earlier one does", () => {
    const y = mha.apply(p, x, { causal: true }).toArray();
    const later = mha.apply(p, perturbed(x, tokenIndices(0, 3, 5, 8)), { causal: true }).toArray();
    for (let t = 0; t < 3; t++) expect(maxDiff(tokenOf(later, 0, t, 5, 8), tokenOf(y, 0, t, 5, 8))).toBe(0);
    expect(maxDiff(tokenOf(later, 0, 3, 5, 8), tokenOf(y, 0, 3, 5, 8))).toBeGreaterThan(1e-3);
    expect(maxDiff(tokenOf(later, 0, 4, 5, 8), tokenOf(y, 0, 4, 5, 8))).toBeGreaterThan(1e-3);
    // without the mask, the later token is seen by every query
    const open = mha.apply(p, perturbed(x, tokenIndices(0, 3, 5, 8))).toArray();
    expect(maxDiff(tokenOf(open, 0, 0, 5, 8), tokenOf(mha.apply(p, x).toArray(), 0, 0, 5, 8))).toBeGreaterThan(1e-3);
  });

  test("padding: perturbing a masked key changes nothing, perturbing an attended one does", () => {
    const kv = normal(key(3), [2, 3, 8]);
    const mask = bools([1, 1, 0, 1, 1, 1], [2, 3]); // key 2 of sequence 0 is padding
    const y = mha.attend(p, x, kv, { mask }).toArray();
    const masked = mha.attend(p, x, perturbed(kv, tokenIndices(0, 2, 3, 8)), { mask }).toArray();
    expect(maxDiff(tokenOf(masked, 0, 0, 5, 8), tokenOf(y, 0, 0, 5, 8))).toBe(0);
    expect(maxDiff(masked, y)).toBe(0);
    const attended = mha.attend(p, x, perturbed(kv, tokenIndices(0, 1, 3, 8)), { mask }).toArray();
    expect(maxDiff(tokenOf(attended, 0, 0, 5, 8), tokenOf(y, 0, 0, 5, 8))).toBeGreaterThan(1e-3);
  });

  test("a [N, Tq, Tk] mask equal for every query gives what the [N, Tk] mask gives", () => {
    const keys = [1, 0, 1, 1, 1, 0, 1, 1, 1, 1];
    const full = Array.from({ length: 2 }, (_, n) => Array.from({ length: 5 }, () => keys.slice(n * 5, n * 5 + 5))).flat(2);
    const y = mha.apply(p, x, { mask: bools(keys, [2, 5]) }).toArray();
    expect(maxDiff(mha.apply(p, x, { mask: bools(full, [2, 5, 5]) }).toArray(), y)).toBeLessThan(1e-6);
  });

  test("a query with every key masked gets zero weights: its output is the output bias, with finite gradients", () => {
    const q = { ...p, bo: normal(key(9), [8]) };
    const mask = bools([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [2, 5]); // sequence 0 has no key to attend to
    const y = mha.apply(q, x, { mask }).toArray();
    expect(y.every(Number.isFinite)).toBe(true);
    for (let t = 0; t < 5; t++) expect(maxDiff(tokenOf(y, 0, t, 5, 8), q.bo.toArray())).toBe(0);
    const g = grad((params: typeof q, xs: Tensor<[2, 5, 8]>) => sum(mul(mha.apply(params, xs, { mask }), 1.5)), { argnums: [0, 1] })(q, x);
    expect([...g[0].wq.toArray(), ...g[0].wv.toArray(), ...g[1].toArray()].every(Number.isFinite)).toBe(true);
    // with the causal mask as well, query 0 of sequence 1 still sees key 0
    expect(mha.apply(q, x, { mask, causal: true }).toArray().every(Number.isFinite)).toBe(true);
  });

  test("runs under jit with the eager results", () => {
    const f = jit((params: typeof p, xs: Tensor<[2, 5, 8]>) => mha.apply(params, xs, { causal: true }));
    expect(maxDiff(f(p, x).toArray(), mha.apply(p, x, { causal: true }).toArray())).toBeLessThan(1e-5);
  });

  test("bad input is a ShapeError naming the layer and the shapes", () => {
    const runtimeHeads: number = 4; // known only at run time: the types leave the check to the run time (a literal 4 does not compile)
    expect(() => multiHeadAttention(10, runtimeHeads)).toThrow("multiHeadAttention: dModel 10 is not a multiple of numHeads 4; give keyDim");
    expect(multiHeadAttention(10, 4, { keyDim: 3 }).init(key(0)).wq.shape).toEqual([10, 12]);
    expect(() => multiHeadAttention(8, 0)).toThrow(ShapeError);
    expect(() => mha.apply(p, unchecked(normal(key(0), [2, 5, 7])))).toThrow("multiHeadAttention: expects a query [N, T, 8] but gets [2, 5, 7]");
    expect(() => mha.apply(p, unchecked(normal(key(0), [5, 8])))).toThrow("multiHeadAttention: expects a query [N, T, 8] but gets [5, 8]");
    expect(() => mha.attend(p, x, unchecked(normal(key(0), [3, 4, 8])))).toThrow("multiHeadAttention: query [2, 5, 8], keys [3, 4, 8] and values [3, 4, 8] differ in batch or key length");
    expect(() => mha.apply(p, x, { mask: bools([1, 1, 1, 1], [2, 2]) })).toThrow(
      "multiHeadAttention: a mask must be [2, 5] or [2, 5, 5] for query [2, 5, 8] and keys [2, 5, 8], but gets [2, 2]",
    );
    expect(() => mha.apply(p, x, { mask: unchecked(normal(key(0), [2, 5])) })).toThrow(ShapeError);
  });
});

describe("the documented examples", () => {
  test("run and give the shapes they state", () => {
    const mha = multiHeadAttention(128, 4);
    expect(mha.apply(mha.init(key(0)), zeros([8, 64, 128]), { causal: true }).shape).toEqual([8, 64, 128]);
    expect(mha.attend(mha.init(key(0)), zeros([8, 64, 128]), zeros([8, 10, 128])).shape).toEqual([8, 64, 128]);
    expect(multiHeadAttention(128, 4).init(key(0)).wq.shape).toEqual([128, 128]);
    const block = transformerEncoderBlock(128, 4, 512);
    expect(block.apply(block.init(key(0)), zeros([8, 64, 128]), { causal: true }).shape).toEqual([8, 64, 128]);
    expect(block.init(key(0)).ffn1.w.shape).toEqual([128, 512]);
    expect(() => transformerEncoderBlock(128, 4, 512, { activation: "relu", dropout: 0.1 })).not.toThrow();
    expect(() => multiHeadAttention(128, 4, { keyDim: 16, valueDim: 32, useBias: false })).not.toThrow();
  });
});

describe("transformerEncoderBlock", () => {
  const block = transformerEncoderBlock(8, 2, 16);
  const p = block.init(key(0));
  const x = normal(key(1), [2, 4, 8]);

  test("maps [N, T, D] to [N, T, D] with parameters for two norms, the attention and the feed-forward", () => {
    expect(block.apply(p, x).shape).toEqual([2, 4, 8]);
    expect(Object.keys(p)).toEqual(["ln1", "mha", "ln2", "ffn1", "ffn2"]);
    expect([p.ffn1.w.shape, p.ffn2.w.shape, p.mha.wq.shape]).toEqual([[8, 16], [16, 8], [8, 8]]);
  });

  test("causal: earlier outputs do not see a later token", () => {
    const y = block.apply(p, x, { causal: true }).toArray();
    const later = block.apply(p, perturbed(x, tokenIndices(1, 2, 4, 8)), { causal: true }).toArray();
    expect(maxDiff(tokenOf(later, 1, 0, 4, 8), tokenOf(y, 1, 0, 4, 8))).toBe(0);
    expect(maxDiff(tokenOf(later, 1, 1, 4, 8), tokenOf(y, 1, 1, 4, 8))).toBe(0);
    expect(maxDiff(tokenOf(later, 1, 3, 4, 8), tokenOf(y, 1, 3, 4, 8))).toBeGreaterThan(1e-3);
  });

  test("dropout drops only in training, from the key, and needs one there", () => {
    const dropping = transformerEncoderBlock(8, 2, 16, { dropout: 0.5 });
    const eval1 = dropping.apply(p, x).toArray();
    expect(maxDiff(eval1, block.apply(p, x).toArray())).toBe(0);
    const t1 = dropping.apply(p, x, { training: true, key: key(4) }).toArray();
    expect(maxDiff(t1, dropping.apply(p, x, { training: true, key: key(4) }).toArray())).toBe(0);
    expect(maxDiff(t1, eval1)).toBeGreaterThan(1e-3);
    expect(maxDiff(t1, dropping.apply(p, x, { training: true, key: key(5) }).toArray())).toBeGreaterThan(1e-3);
    expect(() => dropping.apply(p, x, { training: true })).toThrow("transformerEncoderBlock: training with dropout 0.5 needs opts.key, for input [2, 4, 8]");
  });

  test("under jit, dropout draws from a key tensor, the masks of the same key eagerly", () => {
    const dropping = transformerEncoderBlock(8, 2, 16, { dropout: 0.5 });
    const step = jit((params: typeof p, xs: Tensor<[2, 4, 8]>, k: KeyData) => dropping.apply(params, xs, { training: true, key: k }));
    const eager = dropping.apply(p, x, { training: true, key: key(4) }).toArray();
    expect(maxDiff(step(p, x, keyData(key(4))).toArray(), eager)).toBeLessThan(1e-5);
    expect(maxDiff(step(p, x, keyData(key(5))).toArray(), eager)).toBeGreaterThan(1e-3);
  });

  test("bad input is a ShapeError naming the layer and the shapes", () => {
    expect(() => block.apply(p, unchecked(normal(key(0), [2, 4, 6])))).toThrow("transformerEncoderBlock: expects [N, T, 8] but gets [2, 4, 6]");
    const runtimeHeads: number = 3; // known only at run time: the types leave the check to the run time (a literal 3 does not compile)
    expect(() => transformerEncoderBlock(8, runtimeHeads, 16)).toThrow("transformerEncoderBlock: dModel 8 is not a multiple of numHeads 3");
    expect(() => transformerEncoderBlock(8, 2, 16, { dropout: 1 })).toThrow(ShapeError);
  });
});

// ---------------------------------------------------------------------------
// Agreement with PyTorch (fixture from test/fixtures/attention.py, torch 1.13, float64)
// ---------------------------------------------------------------------------

interface MhaFixture {
  wq: number[];
  wk: number[];
  wv: number[];
  wo: number[];
  bq: number[];
  bk: number[];
  bv: number[];
  bo: number[];
}

interface Fixture {
  sizes: { dModel: 8; numHeads: 2; batch: 2; time: 5; keyTime: 3; ffnDim: 16 };
  x: number[];
  keyValue: number[];
  attend: number[];
  mha: { params: MhaFixture; outputs: Record<"plain" | "causal" | "padded" | "causalPadded" | "cross", number[]> };
  block: {
    params: { ln1: { scale: number[]; bias: number[] }; mha: MhaFixture; ln2: { scale: number[]; bias: number[] }; ffn1: { w: number[]; b: number[] }; ffn2: { w: number[]; b: number[] } };
    output: number[];
    causal: number[];
    cotangent: number[];
    gradX: number[];
    gradWq: number[];
  };
}

// the JSON written by attention.py, of the Fixture layout
const fixture = JSON.parse(readFileSync(new URL("../fixtures/attention.json", import.meta.url), "utf8")) as Fixture;

function mhaParams(m: MhaFixture): AttentionParams<8, 2, 4, 4> {
  return {
    wq: f64(m.wq, [8, 8]),
    wk: f64(m.wk, [8, 8]),
    wv: f64(m.wv, [8, 8]),
    wo: f64(m.wo, [8, 8]),
    bq: f64(m.bq, [8]),
    bk: f64(m.bk, [8]),
    bv: f64(m.bv, [8]),
    bo: f64(m.bo, [8]),
  };
}

describe("agreement with PyTorch", () => {
  const x = f64(fixture.x, [2, 5, 8]);
  const mha = multiHeadAttention(8, 2);
  const p = mhaParams(fixture.mha.params);
  const mask = bools(fixture.attend, [2, 5]);
  const outputs = fixture.mha.outputs;

  test.each([
    ["plain", {}],
    ["causal", { causal: true }],
    ["padded", { mask }],
    ["causalPadded", { causal: true, mask }],
  ] as const)("multi-head self-attention, %s, equals nn.MultiheadAttention", (name, opts) => {
    expect(maxDiff(mha.apply(p, x, opts).toArray(), outputs[name])).toBeLessThan(1e-12);
  });

  test("PyTorch's own masks (key_padding_mask = ~attend, attn_mask = triu) give PyTorch's outputs, and the block takes them", () => {
    const padded = bools(fixture.attend.map((b) => 1 - b), [2, 5]);
    const triu = bools(Array.from({ length: 25 }, (_, i) => (i % 5 > Math.floor(i / 5) ? 1 : 0)), [5, 5]); // true above the diagonal: not allowed
    expect(maxDiff(mha.apply(p, x, { keyPaddingMask: padded }).toArray(), outputs.padded)).toBeLessThan(1e-12);
    expect(maxDiff(mha.apply(p, x, { attnMask: triu }).toArray(), outputs.causal)).toBeLessThan(1e-12);
    expect(maxDiff(mha.apply(p, x, { attnMask: triu, keyPaddingMask: padded }).toArray(), outputs.causalPadded)).toBeLessThan(1e-12);
    expect(maxDiff(block.apply(blockParams, x, { attnMask: triu }).toArray(), fixture.block.causal)).toBeLessThan(1e-12);
  });

  test("cross-attention equals nn.MultiheadAttention(query, key, value)", () => {
    expect(maxDiff(mha.attend(p, x, f64(fixture.keyValue, [2, 3, 8])).toArray(), outputs.cross)).toBeLessThan(1e-12);
  });

  const b = fixture.block.params;
  const blockParams: TransformerEncoderParams<8, 2, 16> = {
    ln1: { scale: f64(b.ln1.scale, [8]), bias: f64(b.ln1.bias, [8]) },
    mha: mhaParams(b.mha),
    ln2: { scale: f64(b.ln2.scale, [8]), bias: f64(b.ln2.bias, [8]) },
    ffn1: { w: f64(b.ffn1.w, [8, 16]), b: f64(b.ffn1.b, [16]) },
    ffn2: { w: f64(b.ffn2.w, [16, 8]), b: f64(b.ffn2.b, [8]) },
  };
  const block = transformerEncoderBlock(8, 2, 16, { activation: "geluTanh" }); // the fixture's block uses the tanh form

  test("the encoder block equals nn.TransformerEncoderLayer(norm_first=True), with and without the causal mask", () => {
    expect(maxDiff(block.apply(blockParams, x).toArray(), fixture.block.output)).toBeLessThan(1e-12);
    expect(maxDiff(block.apply(blockParams, x, { causal: true }).toArray(), fixture.block.causal)).toBeLessThan(1e-12);
  });

  test("the encoder block's gradients equal PyTorch's autograd", () => {
    const [, pullback] = vjp((params: typeof blockParams, xs: Tensor<[2, 5, 8]>) => block.apply(params, xs), blockParams, x);
    const [gp, gx] = pullback(f64(fixture.block.cotangent, [2, 5, 8]));
    expect(maxDiff(gx.toArray(), fixture.block.gradX)).toBeLessThan(1e-10);
    expect(maxDiff(gp.mha.wq.toArray(), fixture.block.gradWq)).toBeLessThan(1e-10);
  });
});
