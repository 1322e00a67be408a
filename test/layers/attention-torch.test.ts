import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { Tensor } from "../../src/core/tensor.js";
import { crossAttention, multiHeadAttention, type AttentionApplyOptions, type AttentionParams } from "../../src/layers/attention.js";
import { sequential } from "../../src/layers/sequential.js";
import { fromTorchStateDict } from "../../src/layers/torch-state-dict.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { layerNorm } from "../../src/layers/norm.js";
import { normal } from "../../src/random/distributions.js";
import { key as prngKey } from "../../src/random/key.js";
import { vjp } from "../../src/transforms/linearize.js";
import { maxDiff } from "./helpers.js";

interface Fixture {
  attention: {
    sizes: { dModel: 8; numHeads: 2; batch: 2; queryTime: 4; keyTime: 5; kdim: 6; vdim: 3 };
    params: Record<"wq" | "wk" | "wv" | "wo" | "bq" | "bk" | "bv" | "bo", number[]>;
    query: number[];
    key: number[];
    value: number[];
    masks: { attnBool: number[]; attnBool3: number[]; attnFloat: (number | string)[]; attnFloat3: number[]; padding: number[]; paddingFloat: number[] };
    cases: { name: string; out: number[]; averaged: number[]; perHead: number[] }[];
    grads: Record<"ct" | "query" | "key" | "value" | "wk", number[]>;
  };
}

// the JSON written by test/fixtures/torch-parity/make.py, of the Fixture layout
const { attention: fixture } = JSON.parse(readFileSync(new URL("../fixtures/torch-parity/attention.json", import.meta.url), "utf8")) as Fixture;

function f64<const S extends readonly number[]>(values: readonly (number | string)[], shape: S): Tensor<[...S]> {
  // float64 storage under the layers' float32 types: the layers compute in their input's dtype
  const dims: number[] = [...shape];
  return new Tensor(dims, "float64", Float64Array.from(values, Number)) as unknown as Tensor<[...S]>;
}
const bools = (values: readonly number[], shape: readonly number[]): Tensor<Shape, "bool"> => new Tensor([...shape], "bool", Uint8Array.from(values));
const floats = (values: readonly (number | string)[], shape: readonly number[]): Tensor<Shape, "float64"> => new Tensor([...shape], "float64", Float64Array.from(values, Number));

const mha = multiHeadAttention(8, 2, { kdim: 6, vdim: 3 });
const { params: pp, masks } = fixture;
const p: AttentionParams<8, 2, 4, 4, true, 6, 3> = {
  wq: f64(pp.wq, [8, 8]),
  wk: f64(pp.wk, [6, 8]),
  wv: f64(pp.wv, [3, 8]),
  wo: f64(pp.wo, [8, 8]),
  bq: f64(pp.bq, [8]),
  bk: f64(pp.bk, [8]),
  bv: f64(pp.bv, [8]),
  bo: f64(pp.bo, [8]),
};
const query = f64(fixture.query, [2, 4, 8]);
const keys = f64(fixture.key, [2, 5, 6]);
const values = f64(fixture.value, [2, 5, 3]);

const optionsOf: Record<string, AttentionApplyOptions> = {
  plain: {},
  "attnMask bool [Tq, Tk]": { attnMask: bools(masks.attnBool, [4, 5]) },
  "attnMask bool [N*H, Tq, Tk]": { attnMask: bools(masks.attnBool3, [4, 4, 5]) },
  "attnMask float [Tq, Tk]": { attnMask: floats(masks.attnFloat, [4, 5]) },
  "attnMask float [N*H, Tq, Tk]": { attnMask: floats(masks.attnFloat3, [4, 4, 5]) },
  "keyPaddingMask bool": { keyPaddingMask: bools(masks.padding, [2, 5]) },
  "keyPaddingMask float": { keyPaddingMask: floats(masks.paddingFloat, [2, 5]) },
  "attnMask bool and keyPaddingMask bool": { attnMask: bools(masks.attnBool, [4, 5]), keyPaddingMask: bools(masks.padding, [2, 5]) },
};

describe("multiHeadAttention with kdim and vdim against nn.MultiheadAttention(8, 2, kdim=6, vdim=3)", () => {
  test.each(fixture.cases.map((c) => [c.name, c] as const))("%s: the output and the weights, averaged and per head", (name, c) => {
    const opts = optionsOf[name];
    if (opts === undefined) throw new Error(`no options for ${name}`);
    expect(maxDiff(mha.attend(p, query, keys, values, opts).toArray(), c.out)).toBeLessThan(1e-12);
    const [out, averaged] = mha.attend(p, query, keys, values, { ...opts, needWeights: true });
    expect(averaged.shape).toEqual([2, 4, 5]);
    expect(maxDiff(out.toArray(), c.out)).toBeLessThan(1e-12);
    expect(maxDiff(averaged.toArray(), c.averaged)).toBeLessThan(1e-12);
    const [, perHead] = mha.attend(p, query, keys, values, { ...opts, needWeights: true, averageWeights: false });
    expect(perHead.shape).toEqual([2, 2, 4, 5]);
    expect(maxDiff(perHead.toArray(), c.perHead)).toBeLessThan(1e-12);
  });

  test("the gradients under both bool masks equal PyTorch's autograd, for query, key, value and wk", () => {
    const opts = optionsOf["attnMask bool and keyPaddingMask bool"];
    const [, pullback] = vjp((params: typeof p, q: typeof query, k: typeof keys, v: typeof values) => mha.attend(params, q, k, v, opts), p, query, keys, values);
    const [gp, gq, gk, gv] = pullback(f64(fixture.grads.ct, [2, 4, 8]));
    expect(maxDiff(gq.toArray(), fixture.grads.query)).toBeLessThan(1e-10);
    expect(maxDiff(gk.toArray(), fixture.grads.key)).toBeLessThan(1e-10);
    expect(maxDiff(gv.toArray(), fixture.grads.value)).toBeLessThan(1e-10);
    expect(maxDiff(gp.wk.toArray(), fixture.grads.wk)).toBeLessThan(1e-10);
  });
});

describe("the new options' edges", () => {
  test("a row masked whole gets zero weights and the output bias, never NaN, for bool and -Infinity masks alike", () => {
    const all = bools([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [2, 5]);
    const [out, w] = mha.attend(p, query, keys, values, { keyPaddingMask: all, needWeights: true });
    const minusInfinity = floats(Array.from({ length: 10 }, (_, i) => (i < 5 ? "-Infinity" : 0)), [2, 5]);
    const [outFloat, wFloat] = mha.attend(p, query, keys, values, { keyPaddingMask: minusInfinity, needWeights: true });
    expect(w.toArray().slice(0, 20).every((v) => v === 0)).toBe(true);
    expect(wFloat.toArray().slice(0, 20).every((v) => v === 0)).toBe(true);
    expect(maxDiff(out.toArray().slice(0, 8), pp.bo)).toBeLessThan(1e-12);
    expect(maxDiff(outFloat.toArray(), out.toArray())).toBeLessThan(1e-12);
  });

  test("masks of the wrong shape or dtype, and self-attention when kdim differs, are ShapeErrors naming the layer", () => {
    expect(() => mha.attend(p, query, keys, values, { attnMask: bools(masks.attnBool, [5, 4]) })).toThrow("multiHeadAttention: attnMask must be [4, 5] or [4, 4, 5] (N·H, Tq, Tk)");
    expect(() => mha.attend(p, query, keys, values, { keyPaddingMask: bools(masks.attnBool, [4, 5]) })).toThrow("multiHeadAttention: keyPaddingMask must be [2, 5]");
    const ints = new Tensor([2, 5], "int32", new Int32Array(10)) as unknown as Tensor<Shape, "bool">; // a wrong dtype from untyped code
    expect(() => mha.attend(p, query, keys, values, { keyPaddingMask: ints })).toThrow("keyPaddingMask must be bool or float64 (the query's dtype), got int32");
    const float32Mask = new Tensor([2, 5], "float32", new Float32Array(10));
    expect(() => mha.attend(p, query, keys, values, { keyPaddingMask: float32Mask })).toThrow("keyPaddingMask must be bool or float64 (the query's dtype), got float32");
    const untyped = mha.attend as unknown as (params: typeof p, q: Tensor<Shape>, k: Tensor<Shape>, v: Tensor<Shape>) => Tensor<Shape>; // widths the types refuse
    expect(() => untyped(p, query, values, keys)).toThrow(ShapeError);
    const self = mha.apply as unknown as (params: typeof p, x: Tensor<[2, 4, 8]>) => Tensor<[2, 4, 8]>; // kdim 6 is refused by the types too
    expect(() => self(p, query)).toThrow("multiHeadAttention: self-attention needs kdim = vdim = dModel 8, got kdim 6 and vdim 3");
  });

  test("crossAttention puts attention to a fixed memory in a sequential stack", () => {
    expect(crossAttention(mha, keys, values).apply(p, query).toArray()).toEqual(mha.attend(p, query, keys, values).toArray());
    const k32 = normal(prngKey(1), [2, 5, 6]);
    const v32 = normal(prngKey(2), [2, 5, 3]);
    const x = normal(prngKey(3), [2, 4, 8]);
    const norm = layerNorm(8);
    const stack = sequential(crossAttention(mha, k32, v32), norm);
    const params = stack.init(prngKey(0));
    expect(stack.apply(params, x).toArray()).toEqual(norm.apply(params[1], mha.attend(params[0], x, k32, v32)).toArray());
    const sameWidth = multiHeadAttention(8, 2, { kdim: 6, vdim: 6 });
    expect(crossAttention(sameWidth, k32).apply(sameWidth.init(prngKey(4)), x).shape).toEqual([2, 4, 8]);
  });
});

describe("the state-dict importer with a kdim layer", () => {
  test("loads PyTorch's q/k/v_proj_weight into multiHeadAttention(8, 2, { kdim: 4, vdim: 4 }), whose attend is PyTorch's without padding the keys", () => {
    const dir = new URL("../fixtures/torch/", import.meta.url);
    const layer = multiHeadAttention(8, 2, { kdim: 4, vdim: 4 });
    const loaded = fromTorchStateDict(layer, readFileSync(new URL("attention_kdim.safetensors", dir)));
    if (E.isLeft(loaded)) throw loaded.left;
    const io = readSafetensors(readFileSync(new URL("attention_kdim.io.safetensors", dir)));
    if (E.isLeft(io)) throw io.left;
    const [x, kv, y] = ["x", "kv", "y"].map((name) => io.right.tensors.get(name));
    if (x === undefined || kv === undefined || y === undefined) throw new Error("attention_kdim.io.safetensors lacks x, kv or y");
    const out = layer.attend(loaded.right, x as Tensor<[2, 5, 8]>, kv as Tensor<[2, 3, 4]>); // the fixture's query and keys/values
    expect(maxDiff(out.toArray(), Array.from(y.toArray(), Number))).toBeLessThan(1e-5);
  });
});
