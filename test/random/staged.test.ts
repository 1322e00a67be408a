import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { bind } from "../../src/prims/bind.js";
import { key, randomBits, split } from "../../src/random/key.js";
import { bernoulliMask, keyData, splitKeys, type KeyData } from "../../src/random/staged.js";
import { jit } from "../../src/transforms/jit.js";

const unsigned = (x: Tensor<number[], "int32">): number[] => Array.from(x.data, (v) => v >>> 0);

describe("keys as tensors", () => {
  test("keyData holds the key's two words, read as int32", () => {
    const k = split(key(0))[0] ?? key(0);
    expect(unsigned(keyData(k))).toEqual([...k.words]);
    expect(keyData(key(42)).toArray()).toEqual([0, 42]);
  });

  test("random_bits gives the words of randomBits, in the shape asked", () => {
    const k = key(7);
    const bits = bind("random_bits", [keyData(k)], { shape: [3, 5] }) as Tensor<number[], "int32">; // int32 by the primitive's rule
    expect(bits.shape).toEqual([3, 5]);
    expect(unsigned(bits)).toEqual(Array.from(randomBits(k, 15)));
  });

  test("splitKeys of key data holds the words of split, eagerly and under jit", () => {
    const k = key(3);
    const want = split(k, 4).map((s) => [...s.words]);
    expect(splitKeys(keyData(k), 4).map(unsigned)).toEqual(want);
    const jitted = jit((d: KeyData) => splitKeys(d, 4));
    expect(jitted(keyData(k)).map(unsigned)).toEqual(want);
    expect(splitKeys(k, 4).map((s) => [...s.words])).toEqual(want);
  });

  test("bernoulliMask: about p true, one mask per key, the same under jit", () => {
    const mask = Array.from(bernoulliMask(key(1), 0.3, [100, 100]).data);
    expect(Math.abs(mask.filter((v) => v === 1).length / mask.length - 0.3)).toBeLessThan(0.02);
    expect(Array.from(bernoulliMask(keyData(key(1)), 0.3, [100, 100]).data)).toEqual(mask);
    expect(Array.from(bernoulliMask(key(2), 0.3, [100, 100]).data)).not.toEqual(mask);
    const jitted = jit((d: KeyData) => bernoulliMask(d, 0.3, [100, 100]));
    expect(Array.from(jitted(keyData(key(1))).data)).toEqual(mask);
    expect(Array.from(bernoulliMask(key(1), 0, [50]).data).every((v) => v === 0)).toBe(true);
    expect(Array.from(bernoulliMask(key(1), 1, [50]).data).every((v) => v === 1)).toBe(true);
  });

  test("refuses a tensor that is not a key, and p outside [0, 1]", () => {
    // widened on purpose: the types refuse these, and the run-time checks must too
    expect(() => splitKeys(zeros([3], "int32") as unknown as KeyData, 2)).toThrow("splitKeys: expects a key as int32 [2] but gets int32 [3]");
    expect(() => bernoulliMask(tensor([1, 2]) as unknown as KeyData, 0.5, [2])).toThrow(ShapeError);
    expect(() => bernoulliMask(key(0), 1.5, [2])).toThrow(RangeError);
    expect(() => splitKeys(keyData(key(0)), 0)).toThrow(RangeError);
    expect(() => bind("random_bits", [keyData(key(0))], { shape: [-1] })).toThrow(ShapeError);
  });
});
