/**
 * Float32 math routines of the WebAssembly loop kernels, four lanes at a
 * time in f32x4 SIMD: exp, log, log1p, tanh, erf, erfc and pow, inlined where a kernel uses
 * them, with no branch and no call, so each lane's result depends only on its
 * own input (bit-identical from run to run and machine to machine: only
 * deterministic SIMD instructions, no fused multiply-add, no relaxed SIMD).
 *
 * The designs are the classic ones (Cody and Waite's range reduction, a
 * split of exponent and mantissa), with polynomials of our own: near-minimax
 * fits made by `coeffs/fit.py`, whose output `coeffs/fit.out.txt` lists the
 * coefficients below and the error of each polynomial alone.
 *
 * - exp x = 2^k p(r), k = round(x / ln 2), r = x - k ln 2 in two parts (ln 2's
 *   high part has 9 bits, so k times it is exact), p(r) = 1 + r + r^2 Q(r)
 *   with Q of degree 4. 2^k is applied as two factors 2^(k >> 1) and
 *   2^(k - (k >> 1)): the first product is exact, so results in the subnormal
 *   range are rounded once. x is first clamped to [-104, 89]: below -104
 *   every result rounds to 0, above 88.73 it overflows to +Inf.
 * - log x = e ln 2 + log(1 + f), x = 2^e m with m in [sqrt(1/2), sqrt(2)) and
 *   f = m - 1 exact, log(1 + f) = f - f^2/2 + f^3 R(f), R of degree 7;
 *   subnormal x is first scaled by 2^23. log(+-0) = -Inf, log(+Inf) = +Inf,
 *   log of a negative number or NaN is NaN.
 * - log1p x = log(u) + (x - (u - 1)) / u with u = 1 + x rounded (the second
 *   term is the first-order correction for that rounding; left out where u
 *   is 0 or infinite), with the sign of x: so log1p(+-0) = +-0 and a tiny x
 *   gives x itself.
 * - tanh x = sign(x) E / (E + 2), E = expm1(2|x|) = 2^k u + (2^k - 1) with
 *   u = r + r^2 Q(r) (exp's reduction and polynomial, less its 1): one form for
 *   every |x|, no branch and no select, relative accuracy kept near 0 (k = 0
 *   there, so E = u); 2|x| is clamped to 20 (0 <= k <= 29; from |x| = 9.01 on the
 *   result rounds to 1). tanh(+-0) = +-0, a subnormal x gives x itself.
 * - erf x = sign(x) e(|x|), e(a) = a + a P(a^2) (P of degree 6, its leading
 *   2/sqrt(pi) - 1 kept apart from the 1) for a < 0.875, else
 *   1 - exp(-a^2) R(1/a - 0.7) / a (R of degree 10, centred so that float32
 *   holds its coefficients well), and 1 from a = 3.92 on, where
 *   erfc a < 2^-27. erf(+-0) = +-0, erf(+-Inf) = +-1.
 * - erfc x, a = |x|: 1 - sign(x) e(a) (erf's polynomial) for a < 0.47, where
 *   erfc >= 1/2 (x >= 0) or lies in [1, 1.5] (x < 0), so the difference costs
 *   little; else L(a) = exp(-a^2) S(1/a - c) / a for x > 0 and 2 - L(a) for
 *   x < 0, S of degree 11 in two pieces (a < 1.2, c = 1.5; a >= 1.2,
 *   c = 0.46875), picked coefficient by coefficient per lane. a is clamped to
 *   16 (L rounds to 0 from 10.0542 on; +Inf gives 0, -Inf 2), and a^2 is
 *   split exactly into hi + lo (Veltkamp's halves of a, Dekker's product, no
 *   fused multiply-add) with lo taken into exp's reduced argument, so that
 *   the rounding of a^2 (up to 2^-18 at a = 10, 20 ulp of exp(-a^2)) is not
 *   lost. Subnormal results round once in exp's second scaling, then in the
 *   products (measured below 2 subnormal ulps). erfc(+-0) = 1, erfc(NaN) = NaN.
 * - pow(x, y) = exp(y log|x|) computed in float64 lanes, two at a time (a
 *   float32 is exact in a float64, and every nonzero one is normal there):
 *   log|x| = e ln 2 + 2 atanh(s), s = (m - 1) / (m + 1), by atanh's series to
 *   s^21 (no fit: its rest is below 2^-56); exp as above with ln 2 in two
 *   float64 parts and Taylor's series to r^12, 2^k built in the exponent
 *   bits. The float64 result is within about 2^-45 of pow, so the one
 *   rounding to float32 gives a result within 0.5 ulp and a hair (overflow
 *   and subnormal results included). Then Math.pow's special values: y = +-0
 *   gives 1 (even for NaN x); x with its sign bit set takes an odd integer
 *   y's sign, and a finite nonzero negative x with a y that is not an
 *   integer gives NaN; log 0 = -Inf and log Inf = Inf give pow's zeros and
 *   infinities, and |x| = 1 with y = +-Inf gives NaN (0 times Inf) as
 *   JavaScript's Math.pow does.
 *
 * Each routine's error bound is stated in its row of the scalar-op table
 * (`../scalar-ops.ts`), with what was measured (dense samples of float32 bit
 * patterns), and held by law 2 of `laws/fusion.law.test.ts` on special
 * values, seams, random inputs and every 4099th float32 bit pattern (pow on
 * every pair of special values, random bit patterns and bases and exponents
 * up to the overflow and underflow thresholds). Left out: sin and cos, and
 * float64 kernels (those keep the JavaScript kernels).
 */

import { FunctionBody, SimdOp, ValType } from "./encoder.js";

/** The routines of this module. */
export type VectorRoutine = "exp" | "log" | "log1p" | "tanh" | "erf" | "erfc" | "pow";

/** Q(r), exp r = 1 + r + r^2 Q(r) on |r| <= ln 2 / 2 (`coeffs/fit.out.txt`), lowest degree first. */
const EXP_Q = [0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.008368710055947304, 0.001381461275741458];
/** R(f), log(1 + f) = f - f^2/2 + f^3 R(f) on [sqrt(1/2) - 1, sqrt(2) - 1). */
const LOG_R = [
  0.3333333134651184, -0.2500081956386566, 0.20001226663589478, -0.16623356938362122, 0.14201757311820984, -0.13160182535648346, 0.1276157796382904,
  -0.07634497433900833,
];

/** P(s), erf x = x + x P(x^2) on |x| <= 0.875. */
const ERF_P = [
  0.12837916612625122, -0.37612634897232056, 0.11283732950687408, -0.026861583814024925, 0.005206747446209192, -0.000821110385004431, 8.6753920186311e-5,
];
/** R(u), erfc x = exp(-x^2) R(1/x - 0.7) / x on [0.875, 3.92]. */
const ERFC_R = [
  0.4766766428947449, -0.17068713903427124, 0.012497950345277786, 0.051375582814216614, -0.06055641546845436, 0.043001338839530945, -0.017484627664089203,
  -0.0047851004637777805, 0.021554172039031982, -0.031182805076241493, 0.020239776000380516,
];
/** S1(u), erfc x = exp(-x^2) S1(1/x - 1.5) / x on [0.47, 1.2]. */
const ERFC_S1 = [
  0.3595229387283325, -0.118398018181324, 0.03315695747733116, -0.005933234468102455, -0.0011648716172203422, 0.002064258325845003, -0.0014914922649040818, 0.0008427571156062186, -0.0004199249087832868, 0.00019006892398465425, -5.5387441534549e-05, -1.4221908486433676e-06,
];
/** S2(u), erfc x = exp(-x^2) S2(1/x - 0.46875) / x on [1.2, 10.06]. */
const ERFC_S2 = [
  0.5159772038459778, -0.16455943882465363, -0.0484359934926033, 0.1329435557126999, -0.11464269459247589, 0.03251352533698082, 0.06578490138053894, -0.1374126523733139, 0.1629076898097992, -0.0821876972913742, -0.18863005936145782, 0.29838791489601135,
];
/** erfc's seams: 1 - erf below 0.47 (where erfc >= 1/2), S1 up to 1.2, S2 beyond, where |x| is clamped to 16 (erfc rounds to 0 from 10.06 on). */
const ERFC_SMALL = 0.47;
const ERFC_SPLIT = 1.2;
const ERFC_CLAMP = 16;
const ERFC_CENTRES = [1.5, 0.46875] as const;
/** 2^12 + 1, Veltkamp's splitter for float32: x (2^12 + 1) - (x (2^12 + 1) - x) is x's 12 high bits. */
const SPLITTER = 4097;
/** erf's seams: the polynomial below 0.875, erfc's form up to 3.92 (centred at 1/x = 0.7), 1 from there on. */
const ERF_SMALL = 0.875;
const ERF_LARGE = 3.92;
const ERFC_CENTRE = 0.7;

/** ln 2 in two parts: a high part of 9 bits (k times it is exact for |k| < 2^15) and the float32 nearest the rest. */
const LN2_HI = 0.693359375;
const LN2_LO = Math.fround(Math.LN2 - LN2_HI);
/** 1.5 * 2^23, which rounds a float32 below 2^22 in magnitude to an integer when added, and its bits. */
const ROUNDER = 1.5 * 2 ** 23;
const ROUNDER_BITS = 0x4b400000;
/** The clamp of exp's argument: below -104 every result rounds to 0, above 88.73 it overflows. */
const EXP_LOW = -104;
const EXP_HIGH = 89;
/** The clamp of tanh's expm1(2|x|): from 2|x| = 20 on, tanh rounds to 1 (2 / (e^20 + 1) < 2^-27). */
const TANH_EXP_HIGH = 20;
/** The smallest normal float32. */
const MIN_NORMAL = 2 ** -126;
/** The bits of sqrt(1/2) as a float32, and what moves [sqrt(1/2), 1) up to the next exponent. */
const SQRT_HALF_BITS = 0x3f3504f3;
const MANTISSA_SHIFT = 0x3f800000 - SQRT_HALF_BITS;
const MANTISSA_MASK = 0x007fffff;
const SIGN_MASK = 0x80000000;

/** pow's float64 constants: the bits of 1 and of sqrt(1/2), the mantissa's bits, 2^52 + 2^51 (and its bits), which turns a float64 integer into an int64 and back. */
const ONE_BITS = 0x3ff0000000000000n;
const SQRT_HALF_BITS64 = 0x3fe6a09e667f3bcdn;
const MANTISSA_MASK64 = 0x000fffffffffffffn;
const MAGIC = 2 ** 52 + 2 ** 51;
const MAGIC_BITS = 0x4338000000000000n;
/** ln 2 in two float64 parts, the high one with 32 trailing zero bits (k times it is exact for |k| < 2^20). */
const LN2_HI64 = 6.93147180369123816490e-1;
const LN2_LO64 = 1.90821492927058770002e-10;
/** log m = 2s (1 + z/3 + ... + z^10/21), z = s^2: the series of atanh, lowest degree first. */
const LOG_SERIES = Array.from({ length: 11 }, (_, i) => 1 / (2 * i + 1));
/** e^r = 1 + r + r^2/2 + ... + r^12/12!, lowest degree first. */
const EXP_SERIES = Array.from({ length: 13 }, (_, i) => 1 / factorial(i));
/** A byte shuffle that moves lanes 2 and 3 of an f32x4 into lanes 0 and 1; one that joins the low halves of two. */
const HIGH_LANES = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const JOIN_LANES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** The float32 constants each routine reads (every one is splat into a v128 local once per kernel). */
const FLOAT_CONSTANTS: Readonly<Record<VectorRoutine, readonly number[]>> = {
  exp: [EXP_LOW, EXP_HIGH, Math.fround(Math.LOG2E), ROUNDER, LN2_HI, LN2_LO, 1, ...EXP_Q],
  log: [MIN_NORMAL, 2 ** 23, LN2_HI, LN2_LO, 1, 0.5, 0, Infinity, -Infinity, NaN, ...LOG_R],
  log1p: [1, 0, Infinity],
  tanh: [TANH_EXP_HIGH, 1, 2],
  erf: [ERF_SMALL, ERF_LARGE, ERFC_CENTRE, 1, ...ERF_P, ...ERFC_R],
  erfc: [ERFC_SMALL, ERFC_SPLIT, ERFC_CLAMP, SPLITTER, 0, 1, 2, ...ERFC_CENTRES, ...ERF_P, ...ERFC_S1, ...ERFC_S2],
  pow: [0, 0.5, 1, Infinity, NaN],
};
/** The int32 constants each routine reads. */
const INT_CONSTANTS: Readonly<Record<VectorRoutine, readonly number[]>> = {
  exp: [ROUNDER_BITS, 127],
  log: [23, MANTISSA_SHIFT, 127, MANTISSA_MASK, SQRT_HALF_BITS],
  log1p: [SIGN_MASK],
  tanh: [SIGN_MASK],
  erf: [SIGN_MASK],
  erfc: [SIGN_MASK],
  pow: [],
};
/** The routines a routine calls. */
const CALLS: Readonly<Record<VectorRoutine, readonly VectorRoutine[]>> = { exp: [], log: [], log1p: ["log"], tanh: ["exp"], erf: ["exp"], erfc: ["exp"], pow: [] };

/** How many scratch v128 locals the routines share (pow takes more). */
const SCRATCH = 9;
const POW_SCRATCH = 12;

/**
 * The routines of the header, emitted into one function body: `setUp`
 * (once, at the start) fills the constants' locals, then `emit` inlines a
 * routine wherever a kernel computes it.
 */
export class VectorMath {
  readonly #f: FunctionBody;
  readonly #floats = new Map<number, number>();
  readonly #ints = new Map<number, number>();
  readonly #t: readonly number[];

  /** Math for `routines` (those used by one function). */
  constructor(f: FunctionBody, routines: Iterable<VectorRoutine>) {
    this.#f = f;
    const all = new Set<VectorRoutine>();
    const add = (r: VectorRoutine): void => {
      all.add(r);
      CALLS[r].forEach(add);
    };
    for (const r of routines) add(r);
    for (const r of all) {
      // NaN is keyed by its bits below, so that the map finds it
      for (const c of FLOAT_CONSTANTS[r]) if (!this.#floats.has(bitsOf(c))) this.#floats.set(bitsOf(c), f.local(ValType.v128));
      for (const c of INT_CONSTANTS[r]) if (!this.#ints.has(c)) this.#ints.set(c, f.local(ValType.v128));
    }
    this.#t = all.size === 0 ? [] : Array.from({ length: all.has("pow") ? POW_SCRATCH : SCRATCH }, () => f.local(ValType.v128));
  }

  /** Fills the constants' locals (at the start of the function, before any `emit`). */
  setUp(): void {
    for (const [bits, local] of this.#floats) this.#f.i32x4(bits).set(local);
    for (const [n, local] of this.#ints) this.#f.i32x4(n).set(local);
  }

  /**
   * `out` (v128 local) = `routine` of each float32 lane of `x` (v128 local, which may be `out`), and of `y` for pow
   * (its exponent); uses only scratch locals besides.
   */
  emit(routine: VectorRoutine, x: number, out: number, y = -1): void {
    switch (routine) {
      case "exp":
        return this.#exp(x, out);
      case "log":
        return this.#log(x, out);
      case "log1p":
        return this.#log1p(x, out);
      case "tanh":
        return this.#tanh(x, out);
      case "erf":
        return this.#erf(x, out);
      case "erfc":
        return this.#erfc(x, out);
      case "pow":
        return this.#pow(x, y, out);
    }
  }

  /** Pushes the float32 constant `v` in every lane. */
  #c(v: number): FunctionBody {
    const local = this.#floats.get(bitsOf(v));
    if (local === undefined) throw new Error(`wasm vector math: no constant ${v}`);
    return this.#f.get(local);
  }

  /** Pushes the int32 constant `n` in every lane. */
  #i(n: number): FunctionBody {
    const local = this.#ints.get(n);
    if (local === undefined) throw new Error(`wasm vector math: no constant ${n}`);
    return this.#f.get(local);
  }

  #scratch(i: number): number {
    const local = this.#t[i];
    if (local === undefined) throw new Error("wasm vector math: not set up");
    return local;
  }

  /** Pushes the polynomial with `coefficients` (lowest degree first) at local `x`, in Horner's order. */
  #horner(coefficients: readonly number[], x: number): void {
    const f = this.#f;
    const top = coefficients.length - 1;
    this.#c(coefficients[top] ?? 0);
    for (let i = top - 1; i >= 0; i--) {
      f.get(x).simd(SimdOp.f32x4_mul);
      this.#c(coefficients[i] ?? 0).simd(SimdOp.f32x4_add);
    }
  }

  /** Pushes the polynomial with coefficients `c1` where the lane mask `mask` is set, `c2` elsewhere, at local `x`. */
  #hornerOf(c1: readonly number[], c2: readonly number[], mask: number, x: number): void {
    const f = this.#f;
    const coefficient = (i: number): void => {
      this.#c(c1[i] ?? 0);
      this.#c(c2[i] ?? 0);
      f.get(mask).simd(SimdOp.v128_bitselect);
    };
    const top = c1.length - 1;
    coefficient(top);
    for (let i = top - 1; i >= 0; i--) {
      f.get(x).simd(SimdOp.f32x4_mul);
      coefficient(i);
      f.simd(SimdOp.f32x4_add);
    }
  }

  /**
   * Reads `x` once, first, and writes `out` last (so `x` may be `out`); uses scratch 0 to 3. With `lo` (a local
   * other than those), computes exp(x - lo) for a small lo (|lo| <= ulp(x)): the reduced argument takes it in.
   */
  #exp(x: number, out: number, lo?: number): void {
    const f = this.#f;
    const [xc, k, p] = [0, 1, 3].map((i) => this.#scratch(i)) as [number, number, number]; // three scratch locals
    this.#expParts(x, false, lo);
    // p = (r^2 Q(r) + r) + 1
    this.#c(1).simd(SimdOp.f32x4_add).set(p);
    // k1 = k >> 1, k2 = k - k1; exp x = (p 2^k1) 2^k2, each 2^j = (j + 127) << 23 (|j| <= 75: normal)
    f.get(xc).i32(1).simd(SimdOp.i32x4_shr_s).set(k);
    f.get(p).get(k);
    this.#i(127).simd(SimdOp.i32x4_add).i32(23).simd(SimdOp.i32x4_shl).simd(SimdOp.f32x4_mul);
    f.get(xc).get(k).simd(SimdOp.i32x4_sub);
    this.#i(127).simd(SimdOp.i32x4_add).i32(23).simd(SimdOp.i32x4_shl).simd(SimdOp.f32x4_mul).set(out);
  }

  /**
   * exp's reduction: x = k ln 2 + r, |r| <= ln 2 / 2; pushes u = r + r^2 Q(r) (exp r less 1) and leaves k as an
   * int32 in scratch 0 (and r in scratch 2). Reads `x` once, first; uses scratch 0 to 3. x is clamped to
   * [-104, 89], or, `nonNegative` (tanh's 2|x|), to at most 20 by pmin alone. With `lo`, reduces x - lo.
   */
  #expParts(x: number, nonNegative: boolean, lo?: number): void {
    const f = this.#f;
    const [xc, k, r, p] = [0, 1, 2, 3].map((i) => this.#scratch(i)) as [number, number, number, number]; // four scratch locals
    // xc = clamp(x, -104, 89) by pmax and pmin (one instruction each; NaN, their first operand, stays NaN)
    f.get(x);
    if (!nonNegative) this.#c(EXP_LOW).simd(SimdOp.f32x4_pmax);
    this.#c(nonNegative ? TANH_EXP_HIGH : EXP_HIGH).simd(SimdOp.f32x4_pmin).tee(xc);
    // kr = xc / ln 2 + 1.5 * 2^23 (in p): the addition rounds to an integer k (ties to even), whose bits are kr's less the rounder's
    this.#c(Math.fround(Math.LOG2E)).simd(SimdOp.f32x4_mul);
    this.#c(ROUNDER).simd(SimdOp.f32x4_add).tee(p);
    this.#c(ROUNDER).simd(SimdOp.f32x4_sub).set(k);
    // r = (xc - k ln2_hi) - k ln2_lo: the first difference is exact
    f.get(xc).get(k);
    this.#c(LN2_HI).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_sub).get(k);
    this.#c(LN2_LO).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_sub);
    if (lo !== undefined) f.get(lo).simd(SimdOp.f32x4_sub);
    f.set(r);
    // k as an int32 (in xc)
    f.get(p);
    this.#i(ROUNDER_BITS).simd(SimdOp.i32x4_sub).set(xc);
    // u = r^2 Q(r) + r
    this.#horner(EXP_Q, r);
    f.get(r).get(r).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_mul).get(r).simd(SimdOp.f32x4_add);
  }

  /** Reads `x` and writes `out` (which may be `x`) last; uses scratch 0 to 3. */
  #log(x: number, out: number): void {
    const f = this.#f;
    const [sub, bits, e, p] = [0, 1, 2, 3].map((i) => this.#scratch(i)) as [number, number, number, number]; // four scratch locals
    // a subnormal x is scaled by 2^23 (sub: the lanes below the smallest normal)
    f.get(x);
    this.#c(MIN_NORMAL).simd(SimdOp.f32x4_lt).set(sub);
    f.get(x);
    this.#c(2 ** 23).simd(SimdOp.f32x4_mul).get(x).get(sub).simd(SimdOp.v128_bitselect);
    // bits + (1 - sqrt(1/2)'s bits): the exponent of m in [sqrt(1/2), sqrt(2)) moves up by one
    this.#i(MANTISSA_SHIFT).simd(SimdOp.i32x4_add).set(bits);
    // e = (bits >> 23) - 127 - (23 where scaled), as float32
    f.get(bits).i32(23).simd(SimdOp.i32x4_shr_s);
    this.#i(127).simd(SimdOp.i32x4_sub).get(sub);
    this.#i(23).simd(SimdOp.v128_and).simd(SimdOp.i32x4_sub).simd(SimdOp.f32x4_convert_i32x4_s).set(e);
    // f = m - 1, m = its mantissa bits with sqrt(1/2)'s exponent bits added back (exact)
    f.get(bits);
    this.#i(MANTISSA_MASK).simd(SimdOp.v128_and);
    this.#i(SQRT_HALF_BITS).simd(SimdOp.i32x4_add);
    this.#c(1).simd(SimdOp.f32x4_sub).set(bits);
    // log(1 + f) = f + f^2 (f R(f) - 1/2)
    this.#horner(LOG_R, bits);
    f.get(bits).simd(SimdOp.f32x4_mul);
    this.#c(0.5).simd(SimdOp.f32x4_sub).get(bits).get(bits).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_mul).get(bits).simd(SimdOp.f32x4_add).set(p);
    // log x = (e ln2_lo + log(1 + f)) + e ln2_hi (the last product exact)
    f.get(e);
    this.#c(LN2_LO).simd(SimdOp.f32x4_mul).get(p).simd(SimdOp.f32x4_add).get(e);
    this.#c(LN2_HI).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(p);
    // +Inf -> +Inf, +-0 -> -Inf, negative or NaN -> NaN
    this.#c(Infinity).get(p).get(x);
    this.#c(Infinity).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_bitselect).set(p);
    this.#c(-Infinity).get(p).get(x);
    this.#c(0).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_bitselect).set(p);
    this.#c(NaN).get(p).get(x);
    this.#c(0).simd(SimdOp.f32x4_ge).simd(SimdOp.v128_not).simd(SimdOp.v128_bitselect).set(out);
  }

  /** Uses scratch 0 to 5. */
  #log1p(x: number, out: number): void {
    const f = this.#f;
    const [u, c] = [4, 5].map((i) => this.#scratch(i)) as [number, number]; // two scratch locals
    f.get(x);
    this.#c(1).simd(SimdOp.f32x4_add).set(u);
    // c = (x - (u - 1)) / u where 0 < u < Inf, else 0
    f.get(x).get(u);
    this.#c(1).simd(SimdOp.f32x4_sub).simd(SimdOp.f32x4_sub).get(u).simd(SimdOp.f32x4_div).get(u);
    this.#c(0).simd(SimdOp.f32x4_gt).simd(SimdOp.v128_and).get(u);
    this.#c(Infinity).simd(SimdOp.f32x4_lt).simd(SimdOp.v128_and).set(c);
    this.#log(u, u);
    // the sign of x (log1p keeps it): bitselect(x, |log u + c|, sign)
    f.get(x).get(u).get(c).simd(SimdOp.f32x4_add);
    this.#i(SIGN_MASK).simd(SimdOp.v128_bitselect).set(out);
  }

  /** Reads `x` and writes `out` (which may be `x`) last; uses scratch 0 to 5. */
  #tanh(x: number, out: number): void {
    const f = this.#f;
    const [xc, scale, y] = [0, 4, 5].map((i) => this.#scratch(i)) as [number, number, number]; // three scratch locals
    // y = 2|x| (exact; NaN stays NaN), clamped to 20 below: from 2|x| = 20 on E / (E + 2) rounds to 1
    f.get(x).simd(SimdOp.f32x4_abs).set(y);
    f.get(y).get(y).simd(SimdOp.f32x4_add).set(y);
    // u = expm1(r) (on the stack), k in xc
    this.#expParts(y, true);
    // E = 2^k u + (2^k - 1) = expm1(2|x|), 2^k = (k + 127) << 23 (0 <= k <= 29: normal; 2^k - 1 is exact for k <= 24 and above that rounds far below an ulp of E)
    f.get(xc);
    this.#i(127).simd(SimdOp.i32x4_add).i32(23).simd(SimdOp.i32x4_shl).tee(scale).simd(SimdOp.f32x4_mul).get(scale);
    this.#c(1).simd(SimdOp.f32x4_sub).simd(SimdOp.f32x4_add).tee(y);
    // tanh |x| = E / (E + 2) (2|x| = +-0 or subnormal: E = 2|x| exactly, and the quotient is |x|), then x's sign
    f.get(y);
    this.#c(2).simd(SimdOp.f32x4_add).simd(SimdOp.f32x4_div).set(y);
    f.get(x).get(y);
    this.#i(SIGN_MASK).simd(SimdOp.v128_bitselect).set(out);
  }

  /** Uses scratch 0 to 6. */
  #erf(x: number, out: number): void {
    const f = this.#f;
    const [a, y, small] = [4, 5, 6].map((i) => this.#scratch(i)) as [number, number, number]; // three scratch locals
    const [t, u] = [0, 1].map((i) => this.#scratch(i)) as [number, number]; // free again once exp has run
    // small: a + a P(a^2)
    f.get(x).simd(SimdOp.f32x4_abs).tee(a).get(a).simd(SimdOp.f32x4_mul).set(y);
    this.#horner(ERF_P, y);
    f.get(a).simd(SimdOp.f32x4_mul).get(a).simd(SimdOp.f32x4_add).set(small);
    // large: 1 - exp(-a^2) R(1/a - 0.7) / a, and 1 from 3.92 on (NaN stays NaN)
    f.get(a).get(a).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_neg).set(y);
    this.#exp(y, y);
    this.#c(1).get(a).simd(SimdOp.f32x4_div).tee(t);
    this.#c(ERFC_CENTRE).simd(SimdOp.f32x4_sub).set(u);
    this.#c(1);
    this.#horner(ERFC_R, u);
    f.get(t).simd(SimdOp.f32x4_mul).get(y).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_sub).set(y);
    this.#c(1).get(y).get(a);
    this.#c(ERF_LARGE).simd(SimdOp.f32x4_ge).simd(SimdOp.v128_bitselect).set(y);
    // pick by a < 0.875, then x's sign
    f.get(small).get(y).get(a);
    this.#c(ERF_SMALL).simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect).set(y);
    f.get(x).get(y);
    this.#i(SIGN_MASK).simd(SimdOp.v128_bitselect).set(out);
  }

  /** Uses scratch 0 to 8. */
  #erfc(x: number, out: number): void {
    const f = this.#f;
    const [a, y, small, b, lo] = [4, 5, 6, 7, 8].map((i) => this.#scratch(i)) as [number, number, number, number, number]; // five scratch locals
    const [h, l, u] = [0, 1, 2].map((i) => this.#scratch(i)) as [number, number, number]; // exp's, free before and after it runs
    // small: 1 - sign(x) (a + a P(a^2)), a = |x|
    f.get(x).simd(SimdOp.f32x4_abs).tee(a).get(a).simd(SimdOp.f32x4_mul).set(y);
    this.#c(1).get(x);
    this.#horner(ERF_P, y);
    f.get(a).simd(SimdOp.f32x4_mul).get(a).simd(SimdOp.f32x4_add);
    this.#i(SIGN_MASK).simd(SimdOp.v128_bitselect).simd(SimdOp.f32x4_sub).set(small);
    // large: b = min(a, 16) (NaN stays NaN), b^2 = hi + lo exactly (Dekker's product of Veltkamp's halves h + l = b)
    f.get(a);
    this.#c(ERFC_CLAMP).simd(SimdOp.f32x4_pmin).tee(b);
    this.#c(SPLITTER).simd(SimdOp.f32x4_mul).tee(h).get(h).get(b).simd(SimdOp.f32x4_sub).simd(SimdOp.f32x4_sub).set(h);
    f.get(b).get(h).simd(SimdOp.f32x4_sub).set(l);
    f.get(b).get(b).simd(SimdOp.f32x4_mul).set(y);
    // lo = ((h h - hi) + 2 h l) + l l, each step exact
    f.get(h).get(h).simd(SimdOp.f32x4_mul).get(y).simd(SimdOp.f32x4_sub).get(h).get(h).simd(SimdOp.f32x4_add).get(l).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add);
    f.get(l).get(l).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(lo);
    // exp(-hi - lo)
    f.get(y).simd(SimdOp.f32x4_neg).set(y);
    this.#exp(y, y, lo);
    // S(1/b - centre) / b exp(-b^2), S1 below 1.2 and S2 from there on (the mask in lo, u = 1/b - centre in h)
    f.get(b);
    this.#c(ERFC_SPLIT).simd(SimdOp.f32x4_lt).set(lo);
    this.#c(1).get(b).simd(SimdOp.f32x4_div);
    this.#c(ERFC_CENTRES[0]);
    this.#c(ERFC_CENTRES[1]).get(lo).simd(SimdOp.v128_bitselect).simd(SimdOp.f32x4_sub).set(u);
    this.#hornerOf(ERFC_S1, ERFC_S2, lo, u);
    f.get(b).simd(SimdOp.f32x4_div).get(y).simd(SimdOp.f32x4_mul).set(y);
    // 2 - that for negative x
    this.#c(2).get(y).simd(SimdOp.f32x4_sub).get(y).get(x);
    this.#c(0).simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect).set(y);
    // pick by a < 0.47 (NaN takes the large form, which keeps it)
    f.get(small).get(y).get(a);
    this.#c(ERFC_SMALL).simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect).set(out);
  }

  /**
   * Reads `x` and `y` (neither may be `out`), writes `out` last; uses scratch 0 to 11. Each pair of lanes is
   * promoted to float64, where exp(y log|x|) is computed within about 2^-45 of its value, and rounded once to float32.
   */
  #pow(x: number, y: number, out: number): void {
    const f = this.#f;
    const [a, low, high, wide, bits, e, s, z, t, k, yw, odd] = Array.from({ length: 12 }, (_, i) => this.#scratch(i)) as [
      number, number, number, number, number, number, number, number, number, number, number, number,
    ]; // twelve scratch locals
    f.get(x).simd(SimdOp.f32x4_abs).set(a);
    for (const [half, result] of [[0, low], [1, high]] as const) {
      // lanes 2 half and 2 half + 1 of |x| and y, in float64 (exact)
      pushPromoted(f, a, half);
      f.set(wide);
      pushPromoted(f, y, half);
      f.set(yw);
      // |x| = 2^e m, m in [sqrt(1/2), sqrt(2)): adding 1's bits less sqrt(1/2)'s moves the exponent of m below 1 up by one
      // (every nonzero float32 is a normal float64, so no subnormal scaling)
      f.get(wide).i64x2(ONE_BITS - SQRT_HALF_BITS64).simd(SimdOp.i64x2_add).set(bits);
      // e = (bits >> 52) - 1023 as a float64: the integer added to 2^52 + 2^51's bits is that float less 2^52 + 2^51
      f.get(bits).i32(52).simd(SimdOp.i64x2_shr_u).i64x2(MAGIC_BITS - 1023n).simd(SimdOp.i64x2_add).f64x2(MAGIC).simd(SimdOp.f64x2_sub).set(e);
      // s = (m - 1) / (m + 1), log m = 2s (1 + z/3 + z^2/5 + ... + z^10/21), z = s^2 <= 0.0295 (the series' rest < 2^-56)
      f.get(bits).i64x2(MANTISSA_MASK64).simd(SimdOp.v128_and).i64x2(SQRT_HALF_BITS64).simd(SimdOp.i64x2_add).set(bits);
      f.get(bits).f64x2(1).simd(SimdOp.f64x2_sub).get(bits).f64x2(1).simd(SimdOp.f64x2_add).simd(SimdOp.f64x2_div).set(s);
      f.get(s).get(s).simd(SimdOp.f64x2_mul).set(z);
      this.#horner64(LOG_SERIES, z);
      f.get(s).get(s).simd(SimdOp.f64x2_add).simd(SimdOp.f64x2_mul);
      // log |x| = e ln 2 + log m (|log m| <= ln 2 / 2 <= |e ln 2| unless e = 0: no cancellation)
      f.get(e).f64x2(Math.LN2).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_add).set(t);
      // log 0 = -Inf, log Inf = Inf, NaN stays NaN
      f.f64x2(-Infinity).get(t).get(wide).f64x2(0).simd(SimdOp.f64x2_eq).simd(SimdOp.v128_bitselect).set(t);
      f.f64x2(Infinity).get(t).get(wide).f64x2(Infinity).simd(SimdOp.f64x2_eq).simd(SimdOp.v128_bitselect).set(t);
      f.get(wide).get(t).get(wide).get(wide).simd(SimdOp.f64x2_ne).simd(SimdOp.v128_bitselect).set(t);
      // t = y log |x|, clamped to [-104, 89] (beyond, float32 rounds exp t to 0 or Inf; NaN, pmax's first operand, stays NaN)
      f.get(yw).get(t).simd(SimdOp.f64x2_mul).f64x2(EXP_LOW).simd(SimdOp.f64x2_pmax).f64x2(EXP_HIGH).simd(SimdOp.f64x2_pmin).set(t);
      // exp t = 2^k e^r, k = nearest(t / ln 2), r = (t - k ln2_hi) - k ln2_lo (the first product exact), e^r by its Taylor series to r^12
      f.get(t).f64x2(Math.LOG2E).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_nearest).set(k);
      f.get(t).get(k).f64x2(LN2_HI64).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_sub).get(k).f64x2(LN2_LO64).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_sub).set(z);
      this.#horner64(EXP_SERIES, z);
      // 2^k = (k + 1023) << 52, k's integer from the bits of k + 2^52 + 2^51 (|k| <= 151: a normal float64)
      f.get(k).f64x2(MAGIC).simd(SimdOp.f64x2_add).i64x2(1023n - MAGIC_BITS).simd(SimdOp.i64x2_add).i32(52).simd(SimdOp.i64x2_shl);
      f.simd(SimdOp.f64x2_mul).simd(SimdOp.f32x4_demote_f64x2_zero).set(result);
    }
    // the four lanes back together
    f.get(low).get(high).simd(SimdOp.i8x16_shuffle, JOIN_LANES).set(t);
    // x with its sign bit set (-0 and -Inf included): an odd integer y negates; any other y but an integer gives NaN for finite nonzero x
    f.get(y).simd(SimdOp.f32x4_nearest).get(y).simd(SimdOp.f32x4_eq).set(k);
    f.get(y);
    this.#c(0.5).simd(SimdOp.f32x4_mul).tee(z).simd(SimdOp.f32x4_nearest).get(z).simd(SimdOp.f32x4_ne).get(k).simd(SimdOp.v128_and).set(odd);
    f.get(x).i32(31).simd(SimdOp.i32x4_shr_s).set(s);
    f.get(t).simd(SimdOp.f32x4_neg).get(t).get(s).get(odd).simd(SimdOp.v128_and).simd(SimdOp.v128_bitselect).set(t);
    this.#c(NaN).get(t).get(s).get(k).simd(SimdOp.v128_andnot).get(a);
    this.#c(0).simd(SimdOp.f32x4_gt).simd(SimdOp.v128_and).get(a);
    this.#c(Infinity).simd(SimdOp.f32x4_lt).simd(SimdOp.v128_and).simd(SimdOp.v128_bitselect).set(t);
    // y = +-0 gives 1, whatever x is
    this.#c(1).get(t).get(y);
    this.#c(0).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_bitselect).set(out);
  }

  /** Pushes the float64 polynomial with `coefficients` (lowest degree first) at local `x` (two float64 lanes), in Horner's order. */
  #horner64(coefficients: readonly number[], x: number): void {
    const f = this.#f;
    const top = coefficients.length - 1;
    f.f64x2(coefficients[top] ?? 0);
    for (let i = top - 1; i >= 0; i--) f.get(x).simd(SimdOp.f64x2_mul).f64x2(coefficients[i] ?? 0).simd(SimdOp.f64x2_add);
  }
}

/**
 * Pushes lanes 2 `half` and 2 `half` + 1 of the f32x4 in local `x` as an f64x2 (exactly: a float64 holds every
 * float32).
 */
export function pushPromoted(f: FunctionBody, x: number, half: 0 | 1): void {
  f.get(x);
  if (half === 1) f.get(x).simd(SimdOp.i8x16_shuffle, HIGH_LANES);
  f.simd(SimdOp.f64x2_promote_low_f32x4);
}

/** The bits of `v` rounded to float32, as an unsigned integer. */
function bitsOf(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0] ?? 0;
}
