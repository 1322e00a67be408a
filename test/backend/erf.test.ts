import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { erf, erfc } from "../../src/backend/erf.js";
import { SCALAR_OPS } from "../../src/backend/scalar-ops.js";

// A 400-bit fixed-point reference: erf x = 2/√π e^{-x²} Σ 2^n x^{2n+1} / (2n+1)!!, every term positive.
const BITS = 400n;
const ONE = 1n << BITS;
const mul = (a: bigint, b: bigint): bigint => (a * b) >> BITS;
const div = (a: bigint, b: bigint): bigint => (a << BITS) / b;

/** A finite double, exactly, in fixed point. */
function fixed(x: number): bigint {
  let m = x;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return e === 0 ? BigInt(m) << BITS : (BigInt(m) << BITS) >> BigInt(-e);
}

/** π by Machin's formula, 4 atan(1/5) - atan(1/239), times 4. */
function pi(): bigint {
  const atanInverse = (k: number): bigint => {
    let [sum, term, n, sign] = [0n, ONE / BigInt(k), 1n, 1n];
    while (term > 0n) {
      sum += (sign * term) / n;
      term /= BigInt(k * k);
      n += 2n;
      sign = -sign;
    }
    return sum;
  };
  return 4n * (4n * atanInverse(5) - atanInverse(239));
}

function sqrt(a: bigint): bigint {
  let x = 2n * ONE;
  for (let i = 0; i < 600; i++) x = (x + div(a, x)) / 2n;
  return x;
}

const TWO_OVER_SQRT_PI = div(2n * ONE, sqrt(pi()));

/** erf of a non-negative double, in fixed point. */
function exactErf(x: number): bigint {
  const fx = fixed(x);
  const x2 = mul(fx, fx);
  let [term, sum] = [fx, fx];
  for (let n = 1n; term !== 0n; n++) {
    term = mul(term, 2n * x2) / (2n * n + 1n);
    sum += term;
  }
  let [t, e] = [ONE, ONE]; // e^{x²}, then inverted
  for (let n = 1n; t !== 0n; n++) {
    t = mul(t, x2) / n;
    e += t;
  }
  return mul(mul(TWO_OVER_SQRT_PI, div(ONE, e)), sum);
}

/** The error of `got` = erf(x) (x >= 0, result below 1) in ulps of the exact value. */
function ulpError(got: number, x: number): number {
  const exact = exactErf(x);
  const value = Number(exact >> (BITS - 64n)) / 2 ** 64;
  const ulp = 2 ** Math.max(Math.floor(Math.log2(value)) - 52, -1074);
  const difference = fixed(got) - exact;
  const magnitude = difference < 0n ? -difference : difference;
  return Number(magnitude >> (BITS - 120n)) / 2 ** 120 / ulp;
}

describe("erf", () => {
  const bound = SCALAR_OPS.erf.error.float64;

  test("stays within its row's float64 bound of a 400-bit reference on random points", () => {
    const points = fc.oneof(fc.double({ min: 0, max: 6, noNaN: true }), fc.double({ min: 1.8, max: 2.2, noNaN: true }), fc.double({ min: 0, max: 1e-3, noNaN: true }));
    fc.assert(
      fc.property(points, (x) => {
        const got = erf(x);
        if (got === 1) return true; // past 5.93 every double result is 1
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
    expect(ulpError(erf(2), 2)).toBeLessThanOrEqual(bound);
    expect(erfc(Infinity)).toBe(0);
  });
});
