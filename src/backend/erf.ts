/**
 * The error function and its complement in double precision: the references
 * of the `erf` and `erfc` scalar ops (and so of their primitives), and the
 * base of the normal samplers' `erfinv` (`random/erf.ts`).
 *
 * `erf` uses the all-positive series `erf x = 2/√π e^{-x²} Σ 2^n x^{2n+1} /
 * (2n+1)!!` for |x| < 2 and `1 - erfc x` beyond, so neither cancels badly
 * (the series is Abramowitz and Stegun 7.1.6). `erfc` keeps its relative
 * accuracy where it is tiny: `1 - erf x` only below 1/2 (where erfc > 0.47);
 * from 1/2 to 2, `e^{-x²} erfcx(x)` with `erfcx = e^{x²} erfc` summed as a
 * Taylor series about the nearest of six centres (its coefficients follow
 * from `erfcx' = 2x erfcx - 2/√π`); from 2 on, the even part of Laplace's
 * continued fraction (A&S 7.1.14). `e^{-x²}` is taken of the exact square
 * (split in two doubles), so it loses nothing for large x.
 *
 * Measured against a 400-bit reference, `erf` is within 9 ulp (near
 * |x| = 2, where the series is longest) and 0.5 ulp from 2 on, `erfc` within
 * the bound its scalar-op row states. Both keep the sign of zero where it
 * has one, give their limits at ±Infinity and NaN for NaN. Deliberately left
 * out: speed (a vectorised approximation for the kernels comes with the
 * backend's vector math) and float32 arithmetic (float32 results round
 * these).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/** `e^{-x²}` with `x²` split exactly into a double and its rounding error (Dekker's product). */
function expMinusSquare(x: number): number {
  const hi = x * x;
  // Veltkamp's split of x into two 26-bit halves, so that their products are exact
  const c = 134217729 * x; // 2^27 + 1
  const top = c - (c - x);
  const bottom = x - top;
  const lo = top * top - hi + 2 * top * bottom + bottom * bottom;
  // e^{-(hi + lo)} = e^{-hi} e^{-lo}, and e^{-lo} = 1 - lo to within lo², far below an ulp
  return Math.exp(-hi) * (1 - lo);
}

/** The even contraction of Laplace's continued fraction: `erfc x · e^{x²}` for x >= 2, converged by 40 terms there. */
function erfcxFraction(x: number, terms = 40): number {
  // erfc x = 2x e^{-x²}/√π / (2x² + 1 - 1·2/(2x² + 5 - 3·4/(2x² + 9 - ...)))
  const z = 2 * x * x;
  let tail = 0;
  for (let k = terms; k >= 1; k--) tail = ((2 * k - 1) * (2 * k)) / (z + 4 * k + 1 - tail);
  return (2 * x * INV_SQRT_PI) / (z + 1 - tail);
}

/** The centres of the Taylor series of erfcx on [1/2, 2), one every 1/4, and erfcx at each (by the fraction, to convergence). */
const CENTRES = [0.625, 0.875, 1.125, 1.375, 1.625, 1.875].map((x0) => ({ x0, value: erfcxFraction(x0, 4000) }));

/** `erfcx x = e^{x²} erfc x` for x in [1/2, 2), by its Taylor series about the nearest centre (|h| <= 1/8). */
function erfcxTaylor(x: number): number {
  const centre = CENTRES[Math.min(CENTRES.length - 1, Math.max(0, Math.floor((x - 0.5) * 4)))];
  if (centre === undefined) throw new Error("erfc: no Taylor centre"); // unreachable: the index is clamped to the table
  const { x0, value } = centre;
  const h = x - x0;
  // erfcx' = 2x erfcx - 2/√π gives c1 = 2 x0 c0 - 2/√π and (n + 1) c_{n+1} = 2 x0 c_n + 2 c_{n-1}
  let [previous, current] = [value, 2 * x0 * value - TWO_OVER_SQRT_PI];
  let sum = value + current * h;
  let power = h;
  for (let n = 1; n < 40; n++) {
    const next = (2 * x0 * current + 2 * previous) / (n + 1);
    power *= h;
    const term = next * power;
    sum += term;
    if (Math.abs(term) < 1e-18 * sum) break;
    [previous, current] = [current, next];
  }
  return sum;
}

/**
 * The complementary error function `erfc x = 1 - erf x`, accurate also
 * where it is tiny (to 0 from x ≈ 27.3 on).
 *
 * @example
 * erfc(0); // 1
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0.5) return 1 - erf(x);
  if (x > 27.5) return 0; // below half the least subnormal from 27.23 on; and x² would overflow for huge x

  const scaled = x < 2 ? erfcxTaylor(x) : erfcxFraction(x);
  return expMinusSquare(x) * scaled;
}

/**
 * The error function `erf x = 2/√π ∫₀ˣ e^{-t²} dt`.
 *
 * @example
 * erf(0); // 0
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return -erf(-x);
  if (x >= 2) return 1 - erfc(x);
  // erf x = 2/√π e^{-x²} Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1))
  let term = x;
  let sum = x;
  for (let n = 1; n < 100 && term > sum * 1e-17; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}
