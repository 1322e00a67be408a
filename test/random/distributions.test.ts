import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import {
  bernoulli,
  categorical,
  normal,
  permutation,
  randint,
  truncatedNormal,
  uniform,
} from "../../src/random/distributions.js";
import { key, split } from "../../src/random/key.js";

const N = 100_000;

/** The sample mean and variance. */
function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i] ?? 0;
  const mean = sum / xs.length;
  let squares = 0;
  for (let i = 0; i < xs.length; i++) squares += ((xs[i] ?? 0) - mean) ** 2;
  return { mean, variance: squares / (xs.length - 1) };
}

/**
 * Checks mean and variance against the distribution's, within 5 standard
 * errors: se(mean) = σ/√n, se(variance) ≈ σ² √((κ - 1)/n) for kurtosis κ.
 */
function expectMoments(xs: ArrayLike<number>, mean: number, variance: number, kurtosis: number): void {
  const m = moments(xs);
  expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / xs.length));
  expect(Math.abs(m.variance - variance)).toBeLessThan(5 * variance * Math.sqrt((kurtosis - 1) / xs.length));
}

describe("uniform", () => {
  test("of key 0 and shape [] is JAX's 0.41845703", () => {
    expect(uniform(key(0), []).item()).toBeCloseTo(0.41845703, 7);
  });

  test("has the shape and dtype asked for", () => {
    const x = uniform(key(0), [2, 3]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.dtype).toBe("float32");
    expect(uniform(key(0), [4], { dtype: "float64" }).data).toBeInstanceOf(Float64Array);
  });

  test("the same key gives the same tensor", () => {
    expect(uniform(key(9), [50]).toArray()).toEqual(uniform(key(9), [50]).toArray());
  });

  test.each(["float32", "float64"] as const)("%s draws on [0, 1) have mean 1/2 and variance 1/12", (dtype) => {
    const x = uniform(key(1), [N], { dtype }).data;
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...x)).toBeLessThan(1);
    expectMoments(x, 1 / 2, 1 / 12, 9 / 5);
  });

  test("draws on [minval, maxval) stay in range with the scaled moments", () => {
    const x = uniform(key(2), [N], { minval: -3, maxval: 5 }).data;
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...x)).toBeLessThan(5);
    expectMoments(x, 1, 64 / 12, 9 / 5);
  });

  test("never reaches maxval, even where rounding would", () => {
    // float32: 1e8 + u·1 rounds to 1e8 + 8 or 1e8 for most u; the open end is kept
    const x = uniform(key(3), [1000], { minval: 1e8, maxval: 1e8 + 8 }).data;
    expect(Math.max(...x)).toBeLessThan(1e8 + 8);
  });

  test("refuses bounds that are not finite or not increasing, and non-float dtypes", () => {
    expect(() => uniform(key(0), [2], { minval: 1, maxval: 1 })).toThrow(/minval must be less than maxval/);
    expect(() => uniform(key(0), [2], { maxval: Infinity })).toThrow(/maxval must be a finite number/);
    expect(() => uniform(key(0), [2], { minval: Number.NaN })).toThrow(RangeError);
    const fromOutside = JSON.parse('"int32"') as "float32"; // a dtype read from data: the types cannot see it is int32
    expect(() => uniform(key(0), [2], { dtype: fromOutside })).toThrow(/dtype must be float32 or float64/);
    expect(() => uniform(key(0), [-1])).toThrow(/uniform: dim 0/);
  });
});

describe("normal", () => {
  test("of key 0 and shape [] is JAX's -0.20584226", () => {
    expect(normal(key(0), []).item()).toBeCloseTo(-0.20584226, 6);
  });

  test.each(["float32", "float64"] as const)("%s draws have mean 0 and variance 1", (dtype) => {
    const x = normal(key(4), [N], { dtype }).data;
    expectMoments(x, 0, 1, 3);
    expect(x.every(Number.isFinite)).toBe(true);
  });

  test("split keys give different draws", () => {
    const [k1, k2] = split(key(0));
    if (k1 === undefined || k2 === undefined) throw new Error("split gave fewer than 2 keys");
    expect(normal(k1, [8]).toArray()).not.toEqual(normal(k2, [8]).toArray());
  });
});

describe("truncatedNormal", () => {
  test("draws lie strictly inside the bounds", () => {
    const x = truncatedNormal(key(5), [N], -1, 0.5).data;
    expect(Math.min(...x)).toBeGreaterThan(-1);
    expect(Math.max(...x)).toBeLessThan(0.5);
  });

  test("with the default bounds (-2, 2) has mean 0 and variance 0.7737", () => {
    // variance of the standard normal truncated to (-2, 2): 1 - 2·2·φ(2)/(Φ(2) - Φ(-2))
    const x = truncatedNormal(key(6), [N], undefined, undefined, { dtype: "float64" }).data;
    expect(Math.min(...x)).toBeGreaterThan(-2);
    expect(Math.max(...x)).toBeLessThan(2);
    expectMoments(x, 0, 0.7737413, 2.37);
  });

  test("reaches far tails without leaving them", () => {
    const x = truncatedNormal(key(7), [1000], 5, 6).data;
    expect(Math.min(...x)).toBeGreaterThan(5);
    expect(Math.max(...x)).toBeLessThan(6);
  });

  test("refuses lower >= upper and bounds that are not finite", () => {
    expect(() => truncatedNormal(key(0), [2], 1, -1)).toThrow(/lower must be less than upper/);
    expect(() => truncatedNormal(key(0), [2], -Infinity, 1)).toThrow(/lower must be a finite number/);
  });
});

describe("bernoulli", () => {
  test("is true with probability p", () => {
    const x = bernoulli(key(8), 0.3, [N]);
    expect(x.dtype).toBe("bool");
    expectMoments(x.data, 0.3, 0.21, (1 - 3 * 0.21) / 0.21 + 3);
  });

  test("p = 0 is never true and p = 1 always", () => {
    expect(bernoulli(key(0), 0, [100]).toArray().some(Boolean)).toBe(false);
    expect(bernoulli(key(0), 1, [100]).toArray().every(Boolean)).toBe(true);
  });

  test("refuses p outside [0, 1]", () => {
    expect(() => bernoulli(key(0), 1.5, [2])).toThrow(/p must be in \[0, 1\]/);
    expect(() => bernoulli(key(0), Number.NaN, [2])).toThrow(RangeError);
  });
});

describe("categorical", () => {
  test("draws each category with its softmax probability", () => {
    const p = [0.1, 0.2, 0.7];
    const logits = tensor([p.map(Math.log)]);
    const counts = [0, 0, 0];
    const keys = split(key(9), 20_000);
    for (const k of keys) {
      const [i = 0] = categorical(k, logits).toArray();
      counts[i] = (counts[i] ?? 0) + 1;
    }
    p.forEach((pi, i) => {
      const se = Math.sqrt((pi * (1 - pi)) / keys.length);
      expect(Math.abs((counts[i] ?? 0) / keys.length - pi)).toBeLessThan(5 * se);
    });
  });

  test("removes the sampled axis and gives int32 indices in range", () => {
    const logits = tensor([
      [[0, 0], [0, 0], [0, 0]],
      [[0, 0], [0, 0], [0, 0]],
    ]);
    const x = categorical(key(1), logits, 1);
    expect(x.shape).toEqual([2, 2]);
    expect(x.dtype).toBe("int32");
    expect(x.toArray().every((i) => i >= 0 && i < 3)).toBe(true);
  });

  test("never draws a category of probability 0", () => {
    const x = categorical(key(2), tensor([[-Infinity, 0, -Infinity]]));
    expect(x.toArray()).toEqual([1]);
  });
});

describe("permutation", () => {
  test.each([0, 1, 2, 10, 1000, 5000])("of %i is a permutation of 0 .. n - 1", (n) => {
    const x = permutation(key(3), n);
    expect(x.dtype).toBe("int32");
    expect([...x.toArray()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  test("depends on the key", () => {
    expect(permutation(key(1), 20).toArray()).not.toEqual(permutation(key(2), 20).toArray());
  });

  test("refuses a negative or fractional n", () => {
    expect(() => permutation(key(0), -1)).toThrow(RangeError);
    expect(() => permutation(key(0), 2.5)).toThrow(RangeError);
  });
});

describe("randint", () => {
  test("covers [minval, maxval) evenly and nothing else", () => {
    const x = randint(key(4), [N], -3, 4).toArray();
    const counts = new Map<number, number>();
    for (const v of x) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    const se = Math.sqrt(((1 / 7) * (6 / 7)) / N);
    for (const c of counts.values()) expect(Math.abs(c / N - 1 / 7)).toBeLessThan(5 * se);
  });

  test("a span of more than half of 2^32 is still unbiased", () => {
    // without rejection, values below 2^32 - span would come up twice as often
    const span = 3 * 2 ** 30;
    const x = randint(key(5), [N], -(2 ** 31), -(2 ** 31) + span).toArray();
    const low = x.filter((v) => v < -(2 ** 31) + 2 ** 30).length / N;
    expect(Math.abs(low - 1 / 3)).toBeLessThan(5 * Math.sqrt(((1 / 3) * (2 / 3)) / N));
  });

  test("reaches both ends of the int32 range", () => {
    const x = randint(key(6), [4], 2 ** 31 - 1, 2 ** 31).toArray();
    expect(x).toEqual([2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1]);
  });

  test("refuses minval >= maxval and bounds that are not integers", () => {
    expect(() => randint(key(0), [2], 3, 3)).toThrow(/minval must be less than maxval/);
    expect(() => randint(key(0), [2], 0, 2.5)).toThrow(/must be integers/);
    expect(() => randint(key(0), [2], 0, Infinity)).toThrow(/maxval must be a finite number/);
  });
});
