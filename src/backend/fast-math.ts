/**
 * Faster float32 code for transcendental scalar ops, bit for bit equal to
 * `Math.fround` of the op's own expression (a row's `jsFloat32`).
 *
 * `Math.tanh` costs about 20 ns an element, several times the rest of a
 * fused loop. When the result is rounded to float32, a float64 approximation
 * accurate to about 1e-12 almost always rounds the same way; the generated
 * code checks that it does: when `a (1 - d)` and `a (1 + d)` (d = 2^-32, far
 * above the approximation's error) round to one float32, so does every value
 * between them, the exact `Math.tanh` among them. Otherwise (about 1 element
 * in 140, and always for NaN, infinities and |x| >= 9.5) it falls back to
 * `Math.fround(Math.tanh(x))` itself. So the result never depends on how good
 * the approximation is, only on its error bound, and a law compares the two
 * on special values, random floats and dense runs of neighbouring floats.
 *
 * The approximation (after fdlibm and the usual vector-math libraries):
 * tanh(x) = (1 - e) / (1 + e) with e = exp(-2x) = 2^(k/32) exp(r), where k
 * rounds -2x * 32 / ln 2, |r| <= ln 2 / 64, exp(r) is a degree-5 Taylor
 * polynomial (relative error below 2e-15; 1 - e loses at most a factor 512 of
 * that for |x| >= 2^-10) and 2^(k/32) comes from a table the kernel builds
 * once; near 0,
 * where 1 - e cancels, tanh(x) = x (1 - x^2/3 + 2x^4/15); from |x| = 9.5 on,
 * every float32 result is +-1. The source holds
 * only integers and fixed names (`Math.LN2`), like every generated line.
 * Leaves out: float64 results (which must be `Math.tanh` exactly) and other
 * ops (exp would follow the same pattern).
 */

import { safeInt } from "./generated-names.js";

/** How a fast path prints: setup run once per kernel, and the statements of one node. */
export interface FastPath {
  /** Statements that build the tables the path reads, named from `table`. */
  readonly prologue: (table: string) => readonly string[];
  /**
   * Statements that declare `out` as the float32-rounded result of the
   * op on the float32 value named `x`, using fresh names from `temp`.
   */
  readonly statements: (x: string, out: string, table: string, temp: () => string) => readonly string[];
}

// NOTE: the ratios below are integer expressions: 2^-10, 9.5, d = 2^-32, and 1.5 * 2^52, which rounds to an integer when added and taken away.
const TANH_SMALL = "(1 / 1024)";
const TANH_LARGE = "(19 / 2)";
const D_LO = "(1 - 1 / 4294967296)";
const D_HI = "(1 + 1 / 4294967296)";
const ROUNDER = safeInt(1.5 * 2 ** 52);

/** The float32 fast path of `tanh`. */
export const tanhFastPath: FastPath = {
  // table[i] = 2^((i - 1024) / 32), each within an ulp.
  prologue: (table) => [`const ${table} = new Float64Array(2048);`, `for (let i = 0; i < 2048; i++) ${table}[i] = Math.pow(2, (i - 1024) / 32);`],
  statements: (x, out, table, temp) => {
    const [u, x2, y, k, r, r2, e, lo] = [temp(), temp(), temp(), temp(), temp(), temp(), temp(), temp()];
    return [
      `const ${u} = Math.abs(${x});`,
      `let ${out} = 0 / 0;`, // NaN until a branch computes it: NaN always falls back
      `if (${u} < ${TANH_SMALL}) {`,
      // tanh x = x (1 - x^2/3 + 2 x^4/15 - ...), the next term below 2^-60 relative
      `  const ${x2} = ${x} * ${x};`,
      `  ${out} = ${x} * (1 + ${x2} * (-1 / 3 + ${x2} * (2 / 15)));`,
      `} else if (${u} < ${TANH_LARGE}) {`,
      // exp(y) = 2^(k / 32) exp(r) with y = -2x, k = round(32 y / ln 2), |r| <= ln 2 / 64
      `  const ${y} = -2 * ${x};`,
      `  const ${k} = (${y} * (32 / Math.LN2) + ${ROUNDER}) - ${ROUNDER};`,
      `  const ${r} = ${y} - ${k} * (Math.LN2 / 32);`,
      // exp(r) to degree 5 in Estrin's order, which shortens the chain of dependent operations
      `  const ${r2} = ${r} * ${r};`,
      `  const ${e} = ((1 + ${r}) + ${r2} * ((1 / 2 + ${r} * (1 / 6)) + ${r2} * (1 / 24 + ${r} * (1 / 120)))) * ${table}[(${k} + 1024) | 0];`,
      `  ${out} = (1 - ${e}) / (1 + ${e});`,
      `} else if (${u} >= ${TANH_LARGE}) {`,
      // tanh 9.5 > 1 - 2^-26, so from there on every result rounds to +-1 (NaN takes no branch)
      `  ${out} = Math.sign(${x});`,
      `}`,
      `const ${lo} = Math.fround(${out} * ${D_LO});`,
      `${out} = ${lo} === Math.fround(${out} * ${D_HI}) ? ${lo} : Math.fround(Math.tanh(${x}));`,
    ];
  },
};

