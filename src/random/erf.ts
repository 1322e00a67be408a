/**
 * The inverse error function in double precision, for the normal samplers
 * (`erf` and `erfc` themselves are the backend's, `backend/erf.ts`; the
 * package's `erf` and `erfc` are the elementwise tensor ops of `ops/`).
 *
 * `erfinv` starts from Giles' single-precision approximation ("Approximating
 * the erfinv function", GPU Computing Gems, 2011; the one XLA uses for
 * float32) and polishes it with Newton steps, on `erf` in the middle and on
 * `log erfc` in the tails, which makes it accurate to a few ulps of a double.
 * Deliberately left out: speed (these run once per sample, on
 * the CPU, in plain JS).
 */

import { erf, erfc } from "../backend/erf.js";

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The inverse error function on (-1, 1): `erf(erfinv(y)) = y`; ±Infinity at
 * ±1 and NaN outside.
 *
 * @example
 * erfinv(erf(0.5)); // 0.5
 */
export function erfinv(y: number): number {
  if (!(y > -1 && y < 1)) return y === 1 ? Infinity : y === -1 ? -Infinity : NaN;
  if (y === 0) return y;
  const tail = 1 - Math.abs(y);
  if (tail >= 0.5) {
    let x = gilesErfinv(y);
    for (let step = 0; step < 2; step++) {
      // Newton on erf x = y: x -= (erf x - y) / (2/√π e^{-x²})
      x -= (erf(x) - y) / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
    }
    return x;
  }
  // NOTE: in the tails erf is flat and Giles' guess leaves its domain past
  // 1 - 2^-24; Newton on log erfc x = log(1 - |y|) is nearly linear in x² there.
  let x = Math.abs(gilesErfinv(Math.min(Math.abs(y), 1 - 2 ** -24)));
  const target = Math.log(tail);
  for (let step = 0; step < 8; step++) {
    const e = erfc(x);
    // d(log erfc x)/dx = -2/√π e^{-x²} / erfc x
    const dx = (Math.log(e) - target) / ((TWO_OVER_SQRT_PI * Math.exp(-x * x)) / e);
    x += dx;
    if (Math.abs(dx) <= 1e-16 * x) break;
  }
  return y < 0 ? -x : x;
}

/** Giles' coefficients for w = -log(1 - y²) < 5, in w - 2.5, after the leading 2.81022636e-8. */
const CENTRAL = [
  3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
];

/** Giles' coefficients for w >= 5, in √w - 3, after the leading -0.000200214257. */
const TAIL = [
  0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
];

/** Giles' single-precision approximation of `erfinv`, a relative error near 1e-7. */
function gilesErfinv(y: number): number {
  let w = -Math.log((1 - y) * (1 + y));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of CENTRAL) p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of TAIL) p = c + p * w;
  }
  return p * y;
}
