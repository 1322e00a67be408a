import { describe, expect, test } from "vitest";
import { erf, erfc } from "../../src/backend/erf.js";
import { erfinv } from "../../src/random/erf.js";

describe("erf", () => {
  test("matches published values", () => {
    // Abramowitz and Stegun, table 7.1
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14);
    expect(erf(0)).toBe(0);
  });

  test("erfc keeps its precision where it is tiny", () => {
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erfc(0)).toBe(1);
  });
});

describe("erfinv", () => {
  test("inverts erf to within a few ulps where erf is well conditioned", () => {
    for (const x of [-2, -1.5, -0.7, -1e-3, 1e-8, 0.2, 0.5, 1, 1.9]) {
      expect(Math.abs(erfinv(erf(x)) - x)).toBeLessThan(1e-13);
    }
  });

  test("erf undoes it across (-1, 1), tails included", () => {
    for (const y of [-1 + 2 ** -53, -0.999999, -0.5, -1e-10, 0.3, 0.9, 0.99999999, 1 - 2 ** -53]) {
      expect(Math.abs(erf(erfinv(y)) - y)).toBeLessThanOrEqual(2 ** -52);
    }
  });

  test("is infinite at ±1 and NaN outside [-1, 1]", () => {
    expect(erfinv(1)).toBe(Infinity);
    expect(erfinv(-1)).toBe(-Infinity);
    expect(erfinv(1.5)).toBeNaN();
    expect(erfinv(0)).toBe(0);
  });
});
