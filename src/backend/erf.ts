/**
 * The error function and its complement in double precision: the reference
 * of the `erf` scalar op (and so of the `erf` primitive), and the base of the
 * normal samplers' `erfinv` (`random/erf.ts`).
 *
 * `erf` uses the all-positive series `erf x = 2/√π e^{-x²} Σ 2^n x^{2n+1} /
 * (2n+1)!!` for |x| < 2 and `erfc` its continued fraction beyond, so neither
 * cancels badly (after Numerical Recipes' `erfc` and the series of
 * Abramowitz and Stegun 7.1.6). Measured against a 400-bit reference, the
 * error is at most 9 ulp (near |x| = 2, where the series is longest) and
 * 0.5 ulp from 2 on; the scalar-op table states 16. It keeps the sign of
 * zero, gives ±1 at ±Infinity and NaN for NaN. Deliberately left out: speed
 * (a vectorised approximation for the kernels comes with the backend's
 * vector math) and float32 arithmetic (float32 results round this).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The complementary error function `erfc x = 1 - erf x`, accurate also
 * where it is tiny.
 *
 * @example
 * erfc(0); // 1
 */
export function erfc(x: number): number {
  if (x < 2) return 1 - erf(x);
  // erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let tail = 0;
  for (let n = 60; n >= 1; n--) tail = n / 2 / (x + tail);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + tail);
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
