import { describe, expect, test } from "vitest";
import { fans, glorotUniform, heNormal, lecunNormal, zeros } from "../../src/layers/init.js";
import { key } from "../../src/random/key.js";

function moments(values: ArrayLike<number>): { mean: number; variance: number; maxAbs: number } {
  let sum = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] ?? 0;
    maxAbs = Math.max(maxAbs, Math.abs(values[i] ?? 0));
  }
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += ((values[i] ?? 0) - mean) ** 2;
  return { mean, variance: sq / values.length, maxAbs };
}

describe("fans", () => {
  test("a kernel [in, out] has fan-in in and fan-out out", () => {
    expect(fans([784, 512])).toEqual({ fanIn: 784, fanOut: 512 });
  });
  test("a conv kernel multiplies both by the receptive field", () => {
    expect(fans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
  });
  test("a vector has fan-in and fan-out equal to its length", () => {
    expect(fans([10])).toEqual({ fanIn: 10, fanOut: 10 });
  });
});

describe("initialisers", () => {
  const shape = [1000, 200] as const; // fan-in 1000, 200k samples

  test("glorotUniform has variance 2 / (fanIn + fanOut) and stays within its limit", () => {
    const { mean, variance, maxAbs } = moments(glorotUniform(key(0), shape).toArray());
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(variance / (2 / 1200)).toBeCloseTo(1, 1);
    expect(maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 1200));
  });

  test("heNormal has variance 2 / fanIn and is truncated at two standard deviations", () => {
    const { mean, variance, maxAbs } = moments(heNormal(key(1), shape).toArray());
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(variance / (2 / 1000)).toBeCloseTo(1, 1);
    expect(maxAbs).toBeLessThanOrEqual((2 * Math.sqrt(2 / 1000)) / 0.87962566103423978 + 1e-6);
  });

  test("lecunNormal has variance 1 / fanIn", () => {
    const { mean, variance } = moments(lecunNormal(key(2), shape).toArray());
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(variance / (1 / 1000)).toBeCloseTo(1, 1);
  });

  test("zeros is all zeros", () => {
    expect(zeros(key(0), [3, 4]).toArray()).toEqual(new Array(12).fill(0));
  });

  test("each initialiser is deterministic in the key and differs between keys", () => {
    for (const init of [glorotUniform, heNormal, lecunNormal]) {
      expect(init(key(5), [20, 10]).toArray()).toEqual(init(key(5), [20, 10]).toArray());
      expect(init(key(5), [20, 10]).toArray()).not.toEqual(init(key(6), [20, 10]).toArray());
    }
  });
});
