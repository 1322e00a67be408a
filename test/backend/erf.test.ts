import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { erf, erfc } from "../../src/backend/erf.js";
import { SCALAR_OPS } from "../../src/backend/scalar-ops.js";

// A fixed-point reference with 400 bits below the leading bit of x (more for tiny x):
// erf x = 2/√π e^{-x²} Σ 2^n x^{2n+1} / (2n+1)!!, every term positive.
const MAX_BITS = 2600n;

/** Fixed-point arithmetic at `bits` fractional bits. */
function arithmetic(bits: bigint) {
  const one = 1n << bits;
  return {
    one,
    mul: (a: bigint, b: bigint): bigint => (a * b) >> bits,
    div: (a: bigint, b: bigint): bigint => (a << bits) / b,
  };
}

/** A finite non-negative double, exactly, at `bits` fractional bits (bits above its lowest set bit). */
function fixed(x: number, bits: bigint): bigint {
  let m = x;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return (BigInt(m) << bits) >> BigInt(-e);
}

/** 2/√π at MAX_BITS: π by Machin's formula, 4 (4 atan(1/5) - atan(1/239)), then Newton's square root. */
const TWO_OVER_SQRT_PI = ((): bigint => {
  const { one, div } = arithmetic(MAX_BITS);
  const atanInverse = (k: number): bigint => {
    let [sum, term, n, sign] = [0n, one / BigInt(k), 1n, 1n];
    while (term > 0n) {
      sum += (sign * term) / n;
      term /= BigInt(k * k);
      n += 2n;
      sign = -sign;
    }
    return sum;
  };
  const pi = 4n * (4n * atanInverse(5) - atanInverse(239));
  let root = 2n * one;
  for (let i = 0; i < 40; i++) root = (root + div(pi, root)) / 2n;
  return div(2n * one, root);
})();

/** erf of a positive double, in fixed point, and the fractional bits it has (`extra` more than 400 below x's leading bit). */
function exactErf(x: number, extra = 0n): { value: bigint; bits: bigint } {
  const bits = 400n + extra + BigInt(Math.max(0, -Math.floor(Math.log2(x))));
  const { one, mul, div } = arithmetic(bits);
  const fx = fixed(x, bits);
  const x2 = mul(fx, fx);
  let [term, sum] = [fx, fx];
  for (let n = 1n; term !== 0n; n++) {
    term = mul(term, 2n * x2) / (2n * n + 1n);
    sum += term;
  }
  let [t, e] = [one, one]; // e^{x²}, then inverted
  for (let n = 1n; t !== 0n; n++) {
    t = mul(t, x2) / n;
    e += t;
  }
  return { value: mul(mul(TWO_OVER_SQRT_PI >> (MAX_BITS - bits), div(one, e)), sum), bits };
}

/** The error of `got` = erf(x) (x > 0, result below 1) in ulps of the exact value. */
function ulpError(got: number, x: number): number {
  const { value: exact, bits } = exactErf(x);
  const value = Number(exact) / 2 ** Number(bits);
  const ulp = 2 ** Math.max(Math.floor(Math.log2(value)) - 52, -1074);
  const difference = fixed(got, bits) - exact;
  const magnitude = difference < 0n ? -difference : difference;
  return Number(magnitude) / 2 ** Number(bits) / ulp;
}

/** The error of `got` = erfc(x) (x > 0) in ulps of the exact value, from erf at enough bits that 1 - erf keeps 400 of them. */
function erfcUlpError(got: number, x: number): number {
  // erfc x < e^{-x²}: 1 - erf keeps 400 bits below its leading one when erf has x² log2(e) more, and its e^{-x²} (the inverse of a fixed-point e^{x²}) x² log2(e) more again
  const { value: exactErfValue, bits } = exactErf(x, 2n * BigInt(Math.ceil(x * x * Math.LOG2E)));
  const exact = (1n << bits) - exactErfValue;
  // the exact value's ulp is 2^ulpExponent: 52 bits below its leading bit, never below the least subnormal
  const leading = BigInt(exact.toString(2).length - 1) - bits;
  const ulpExponent = leading - 52n < -1074n ? -1074n : leading - 52n;
  const difference = fixed(got, bits) - exact;
  const magnitude = difference < 0n ? -difference : difference;
  // magnitude / 2^(bits + ulpExponent), to 20 fractional bits
  return Number((magnitude << 20n) >> (bits + ulpExponent)) / 2 ** 20;
}

describe("erf", () => {
  const bound = SCALAR_OPS.erf.error.float64;

  test("stays within its row's float64 bound of a 400-bit reference on random points", () => {
    const points = fc.oneof(fc.double({ min: 0, max: 6, noNaN: true }), fc.double({ min: 1.8, max: 2.2, noNaN: true }), fc.double({ min: 0, max: 1e-3, noNaN: true }), fc.double({ min: 0, max: 1e-300, noNaN: true }));
    fc.assert(
      fc.property(points, (x) => {
        const got = erf(x);
        if (got === 1 || x === 0) return true; // past 5.93 every double result is 1; erf(0) = 0 is checked below
        expect(ulpError(got, x), `erf(${x}) = ${got}`).toBeLessThanOrEqual(bound);
        expect(erf(-x)).toBe(-got); // odd
        return true;
      }),
      { numRuns: 300 },
    );
  });

  test("keeps the edges: signed zeros, infinities, NaN and subnormals", () => {
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(ulpError(erf(5e-324), 5e-324)).toBeLessThanOrEqual(bound);
    expect(ulpError(erf(1.7535868462136435e-20), 1.7535868462136435e-20)).toBeLessThanOrEqual(bound);
    expect(ulpError(erf(2), 2)).toBeLessThanOrEqual(bound);
    expect(erfc(Infinity)).toBe(0);
  });
});


describe("erfc", () => {
  const bound = SCALAR_OPS.erfc.error.float64;

  test("stays within its row's float64 bound of a 400-bit reference, relative to erfc itself, on random points", () => {
    const points = fc.oneof(
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0.5, max: 2, noNaN: true }),
      fc.double({ min: 2, max: 6, noNaN: true }),
      fc.double({ min: 6, max: 27.2, noNaN: true }),
    );
    fc.assert(
      fc.property(points, (x) => {
        if (x === 0) return true; // erfc(±0) = 1 is checked below
        const got = erfc(x);
        expect(erfcUlpError(got, x), `erfc(${x}) = ${got}`).toBeLessThanOrEqual(bound);
        // erfc(-x) = 1 + erf(x), within erf's bound in erf's ulps and one rounding
        expect(Math.abs(erfc(-x) - (1 + erf(x)))).toBeLessThanOrEqual(2 ** -52);
        return true;
      }),
      { numRuns: 150 },
    );
  });

  test("keeps the edges: zeros, infinities, NaN, subnormal results and the underflow to 0", () => {
    expect(erfc(0)).toBe(1);
    expect(erfc(-0)).toBe(1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erfc(NaN)).toBeNaN();
    expect(erfc(5e-324)).toBe(1);
    for (const x of [0.5, 2, 26.6, 27, 27.2]) expect(erfcUlpError(erfc(x), x), `erfc(${x})`).toBeLessThanOrEqual(bound);
    expect(erfc(27.3)).toBe(0);
  });

  test("is accurate where 1 - erf would have lost every digit", () => {
    // erfc(10) = 2.088487583762545e-45 (A&S Table 7.1 gives 2.0884875837625e-45)
    expect(erfc(10) / 2.0884875837625e-45).toBeCloseTo(1, 12);
    expect(1 - erf(10)).toBe(0);
  });
});
