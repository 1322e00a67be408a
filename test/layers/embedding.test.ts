import { describe, expect, test } from "vitest";
import { ones, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { dense } from "../../src/layers/dense.js";
import { dropout } from "../../src/layers/dropout.js";
import { embedding } from "../../src/layers/embedding.js";
import { sequential } from "../../src/layers/sequential.js";
import { sum } from "../../src/ops/reduce.js";
import { key } from "../../src/random/key.js";
import { keyData, type KeyData } from "../../src/random/staged.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";

describe("embedding", () => {
  const embed = embedding(5, 3);
  const p = embed.init(key(0));

  test("looks up rows by int32 index, for any index shape", () => {
    const y = embed.apply(p, tensor([[4, 0], [1, 4]], "int32"));
    expect(y.shape).toEqual([2, 2, 3]);
    const table = Array.from(p.table.data);
    const row = (i: number): number[] => table.slice(3 * i, 3 * i + 3);
    expect(Array.from(y.data)).toEqual([...row(4), ...row(0), ...row(1), ...row(4)]);
    expect(embed.apply(p, tensor(2, "int32")).shape).toEqual([3]);
    expect(embed.apply(p, zeros([0], "int32")).shape).toEqual([0, 3]);
  });

  test("starts from a unit normal table, deterministic in the key", () => {
    const big = embedding(200, 50).init(key(1)).table;
    const values = Array.from(big.data);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(Array.from(embedding(200, 50).init(key(1)).table.data)).toEqual(values);
  });

  test("refuses an index outside the table, eagerly and under jit", () => {
    expect(() => embed.apply(p, tensor([0, 5], "int32"))).toThrow("index 5 is out of range for an axis of size 5");
    expect(() => embed.apply(p, tensor([-1], "int32"))).toThrow(ShapeError);
    const jitted = jit((table: Tensor<[5, 3]>, ids: Tensor<[2], "int32">) => embed.apply({ table }, ids));
    expect(jitted(p.table, tensor([1, 2], "int32")).shape).toEqual([2, 3]);
    expect(() => jitted(p.table, tensor([1, 7], "int32"))).toThrow("index 7 is out of range");
  });

  test("refuses float indices and a table of another shape, naming the layer", () => {
    // widened on purpose: the types refuse a float32 input, and the run-time check must too
    const floats = zeros([2]) as unknown as Tensor<[2], "int32">;
    expect(() => embed.apply(p, floats)).toThrow("embedding: expects int32 indices but gets float32 [2]");
    // a table of the wrong shape, as a checkpoint of another model could give
    const wrong = { table: zeros([4, 3]) } as unknown as typeof p;
    expect(() => embed.apply(wrong, tensor([0], "int32"))).toThrow("embedding: parameter table must be [5, 3] but is [4, 3]");
  });

  test("adds the gradient of a repeated index into its row", () => {
    const g = grad((table: Tensor<[5, 3]>) => sum(embed.apply({ table }, tensor([1, 3, 1, 1], "int32"))))(p.table);
    expect(Array.from(g.data)).toEqual([0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
  });

  test("starts a stack: indices in, the gradient flows to the table", () => {
    const model = sequential(embedding(5, 3), dense(3, 2));
    const params = model.init(key(2));
    const ids = tensor([[0, 4], [4, 4]], "int32");
    expect(model.apply(params, ids).shape).toEqual([2, 2, 2]);
    const g = grad((p: typeof params) => sum(model.apply(p, ids)))(params);
    const rows = Array.from(g[0].table.data);
    // rows 1, 2 and 3 are never looked up; row 4 three times as often as row 0
    expect(rows.slice(3, 12).every((v) => v === 0)).toBe(true);
    expect(rows.slice(12, 15)).toEqual(rows.slice(0, 3).map((v) => 3 * v));
  });

  test("refuses sizes that are not dims", () => {
    expect(() => embedding(0.5, 3)).toThrow(ShapeError);
    expect(() => embedding(5, -1)).toThrow(ShapeError);
  });
});

describe("dropout", () => {
  const x = ones([200, 100]);

  test("is the identity unless training, and at rate 0", () => {
    expect(dropout(0.5).apply({}, x)).toBe(x);
    expect(dropout(0.5).apply({}, x, { training: false, key: key(0) })).toBe(x);
    expect(dropout(0).apply({}, x, { training: true, key: key(0) })).toBe(x);
  });

  test("zeroes about `rate` of the elements and scales the rest by 1 / (1 - rate)", () => {
    const y = Array.from(dropout(0.3).apply({}, x, { training: true, key: key(3) }).data);
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.02);
    expect(new Set(y.filter((v) => v !== 0))).toEqual(new Set([Math.fround(1 / 0.7)]));
  });

  test("gives one mask per key", () => {
    const drop = dropout(0.5);
    const [a, b, c] = [key(1), key(1), key(2)].map((k) => Array.from(drop.apply({}, x, { training: true, key: k }).data));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test("draws a different mask for each layer of a stack", () => {
    const stack = sequential(dropout(0.5), dropout(0.5));
    const single = dropout(0.5);
    const twice = Array.from(stack.apply([{}, {}], x, { training: true, key: key(4) }).data);
    const kept = twice.filter((v) => v !== 0).length / twice.length;
    // two independent masks keep a quarter; one mask applied twice would keep a half
    expect(Math.abs(kept - 0.25)).toBeLessThan(0.02);
    expect(single.apply({}, x, { training: true, key: key(4) }).shape).toEqual([200, 100]);
  });

  test("needs a key to train", () => {
    expect(() => dropout(0.5).apply({}, x, { training: true })).toThrow("dropout: training needs a key");
  });

  test("under jit, draws a new mask for each key tensor, the same mask as eagerly", () => {
    const drop = dropout(0.5);
    const step = jit((input: Tensor<[200, 100]>, k: KeyData) => drop.apply({}, input, { training: true, key: k }));
    const [a, b] = [step(x, keyData(key(1))), step(x, keyData(key(2)))];
    expect(step.traces).toBe(1);
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    expect(Array.from(a.data)).toEqual(Array.from(drop.apply({}, x, { training: true, key: key(1) }).data));
    expect(Array.from(a.data)).toEqual(Array.from(drop.apply({}, x, { training: true, key: keyData(key(1)) }).data));
  });

  test("under jit, a stack splits a key tensor as it splits a Key", () => {
    const stack = sequential(dropout(0.5), dropout(0.5));
    const step = jit((input: Tensor<[200, 100]>, k: KeyData) => stack.apply([{}, {}], input, { training: true, key: k }));
    expect(Array.from(step(x, keyData(key(9))).data)).toEqual(Array.from(stack.apply([{}, {}], x, { training: true, key: key(9) }).data));
  });

  test("refuses a Key value inside jit, which would replay one mask", () => {
    const layer = dense(100, 4);
    const p = layer.init(key(0));
    const model = sequential(dense(100, 4), dropout(0.5));
    const step = jit((w: Tensor<[100, 4]>, input: Tensor<[200, 100]>) => model.apply([{ w, b: p.b }, {}], input, { training: true, key: key(0) }));
    expect(() => step(p.w, x)).toThrow("dropout: a Key inside jit would replay the mask of its first call; pass keyData(k) as an argument");
    const inference = jit((w: Tensor<[100, 4]>, input: Tensor<[200, 100]>) => model.apply([{ w, b: p.b }, {}], input));
    expect(inference(p.w, x).shape).toEqual([200, 4]);
  });

  test("refuses a rate outside [0, 1)", () => {
    expect(() => dropout(1)).toThrow(RangeError);
    expect(() => dropout(-0.1)).toThrow("dropout: the rate must be in [0, 1), got -0.1");
    expect(() => dropout(Number.NaN)).toThrow(RangeError);
  });
});
