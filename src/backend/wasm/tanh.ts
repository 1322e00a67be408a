/**
 * The WebAssembly tanh routine of the float32 loop kernels, scalar and two
 * lanes at a time, exact: the result is `Math.fround(Math.tanh(x))` bit for
 * bit. It follows `../fast-math.ts`: an approximation `a` in float64
 * is kept only when `a (1 - d)` and `a (1 + d)` round to one float32, and
 * any other lane (about 1 in 3000, and NaN) calls the imported `Math.tanh`,
 * so the result is `Math.fround(Math.tanh(x))` exactly. Here
 * tanh x = -e / (e + 2) with e = expm1(y), y = -2 clamp(x, -9.5, 9.5)
 * (from 9.5 on every float32 result is +-1), e = 2^k p - (1 - 2^k),
 * k = round(y / ln 2) and p the degree-11 Taylor polynomial of expm1 at
 * r = y - k ln 2, |r| <= ln 2 / 2 (truncation below 2e-14 relative),
 * evaluated in Estrin's order; no branch, so it runs two lanes at a time in
 * f64x2. Its relative error, measured against `Math.tanh` on 3e7 random
 * points and at every boundary between two k, is at most 2.5e-14, some 600
 * times below d = 2^-36, and the form keeps the sign of a zero.
 *
 * Left out: other transcendentals (exp would follow the same pattern) and
 * float64 results, which must be `Math.tanh` exactly.
 */

import { FunctionBody, Op, SimdOp, ValType } from "./encoder.js";

/** The imported function every module declares first: `Math.tanh`, for the lanes the fast path leaves. */
export const TANH_IMPORT = { module: "math", name: "tanh", type: { params: [ValType.f64], results: [ValType.f64] } } as const;

// The tanh routine's constants (see the header): the clamp from which every float32 result is +-1,
// the rounder 1.5 * 2^52, and d = 2^-36.
const TANH_LARGE = 9.5;
const ROUNDER = 1.5 * 2 ** 52;
const D_LO = 1 - 2 ** -36;
const D_HI = 1 + 2 ** -36;
/** 1/n! for n = 1..11: the Taylor coefficients of expm1. */
const EXPM1_COEFFICIENTS = Array.from({ length: 11 }, (_, i) => 1 / Array.from({ length: i + 1 }, (__, j) => j + 1).reduce((a, b) => a * b, 1));
/** 1023 << 52: the bits of 2^k are (k << 52) plus these. */
const EXPONENT_ONE = 1023n << 52n;

/** The float64 constants of the vector tanh routine, each splat into a v128 local once per call. */
const TANH_VECTOR_CONSTANTS = [-TANH_LARGE, TANH_LARGE, -2, 1 / Math.LN2, ROUNDER, Math.LN2, 1, 2, D_LO, D_HI, ...EXPM1_COEFFICIENTS];

/**
 * Float64 arithmetic for the tanh routine, scalar (f64) or two lanes at a
 * time (f64x2) behind one chainable interface; vector constants come from
 * the locals `constantLocal` names.
 */
class Float64Emitter {
  readonly #f: FunctionBody;
  readonly #constantLocal: ((v: number) => number) | undefined;

  /** Scalar code when `constantLocal` is undefined, else f64x2 code. */
  constructor(f: FunctionBody, constantLocal?: (v: number) => number) {
    this.#f = f;
    this.#constantLocal = constantLocal;
  }

  #pick(scalar: Op, vector: SimdOp): this {
    if (this.#constantLocal === undefined) this.#f.op(scalar);
    else this.#f.simd(vector);
    return this;
  }

  get(local: number): this {
    this.#f.get(local);
    return this;
  }

  set(local: number): this {
    this.#f.set(local);
    return this;
  }

  tee(local: number): this {
    this.#f.tee(local);
    return this;
  }

  /** Pushes `v` (in every lane). */
  constant(v: number): this {
    if (this.#constantLocal === undefined) this.#f.f64(v);
    else this.#f.get(this.#constantLocal(v));
    return this;
  }

  add = (): this => this.#pick(Op.f64_add, SimdOp.f64x2_add);
  sub = (): this => this.#pick(Op.f64_sub, SimdOp.f64x2_sub);
  mul = (): this => this.#pick(Op.f64_mul, SimdOp.f64x2_mul);
  div = (): this => this.#pick(Op.f64_div, SimdOp.f64x2_div);
  min = (): this => this.#pick(Op.f64_min, SimdOp.f64x2_min);
  max = (): this => this.#pick(Op.f64_max, SimdOp.f64x2_max);
  neg = (): this => this.#pick(Op.f64_neg, SimdOp.f64x2_neg);
}

/** The locals the tanh routine computes in (f64 or v128). */
interface TanhLocals {
  readonly y: number;
  readonly kd: number;
  /** Scratch: the vector routine's second operands of shuffles, then its lane mask. */
  readonly scratch: number;
  readonly r: number;
  readonly r2: number;
  readonly r4: number;
  readonly s: readonly [number, number, number];
  readonly p: number;
  readonly scale: number;
}

function tanhLocals(f: FunctionBody, type: ValType): TanhLocals {
  const l = (): number => f.local(type);
  return { y: l(), kd: l(), scratch: l(), r: l(), r2: l(), r4: l(), s: [l(), l(), l()], p: l(), scale: l() };
}

/** The tanh routine of the header, inlined at each use, with its vector constants in locals. */
export class TanhRoutine {
  readonly #f: FunctionBody;
  readonly #constants = new Map<number, number>();
  #exponentOne = -1;
  #scalarLocals: { readonly x: number; readonly t: TanhLocals } | undefined;
  #vectorLocals: { readonly x: number; readonly lo: number; readonly hi: number; readonly t: TanhLocals } | undefined;

  /** `vector`: whether the function uses the f32x4 form (whose constants `setUp` fills). */
  constructor(f: FunctionBody, vector: boolean) {
    this.#f = f;
    if (!vector) return;
    for (const c of TANH_VECTOR_CONSTANTS) if (!this.#constants.has(c)) this.#constants.set(c, f.local(ValType.v128));
    this.#exponentOne = f.local(ValType.v128);
    const l = (): number => f.local(ValType.v128);
    this.#vectorLocals = { x: l(), lo: l(), hi: l(), t: tanhLocals(f, ValType.v128) };
  }

  /** Fills the vector constants' locals (at the start of the function). */
  setUp(): void {
    for (const [c, local] of this.#constants) this.#f.f64x2(c).set(local);
    if (this.#exponentOne >= 0) this.#f.i64x2(EXPONENT_ONE).set(this.#exponentOne);
  }

  #constantLocal = (c: number): number => {
    const local = this.#constants.get(c);
    if (local === undefined) throw new Error(`wasm codegen: no vector constant ${c}`);
    return local;
  };

  /**
   * Pushes tanh x in float64, from x in local `x` (NaN for NaN); `scale`
   * pushes 2^k from the bits of local `kd`.
   */
  #tanh(g: Float64Emitter, x: number, t: TanhLocals, scale: () => void): void {
    const c = (i: number): number => EXPM1_COEFFICIENTS[i - 1] ?? 0; // 1 / i!
    // y = -2 clamp(x, -9.5, 9.5)
    g.get(x).constant(-TANH_LARGE).max().constant(TANH_LARGE).min().constant(-2).mul().set(t.y);
    // kd = y / ln 2 + 1.5 * 2^52, whose low bits hold k = round(y / ln 2)
    g.get(t.y).constant(1 / Math.LN2).mul().constant(ROUNDER).add().set(t.kd);
    // r = y - k ln 2, k = kd - 1.5 * 2^52 (k ln 2 rounded: an absolute error below 4e-15 for |k| <= 28)
    g.get(t.y).get(t.kd).constant(ROUNDER).sub().constant(Math.LN2).mul().sub().set(t.r);
    g.get(t.r).get(t.r).mul().set(t.r2);
    g.get(t.r2).get(t.r2).mul().set(t.r4);
    // p = expm1(r) = r sum_{i=1..11} r^(i-1) / i!, in Estrin's order: s_j = (c1 + c2 r) + (c3 + c4 r) r^2 per four coefficients
    t.s.forEach((s, j) => {
      g.constant(c(4 * j + 1)).get(t.r).constant(c(4 * j + 2)).mul().add();
      if (j < 2) g.constant(c(4 * j + 3)).get(t.r).constant(c(4 * j + 4)).mul().add();
      else g.constant(c(4 * j + 3)); // c12 is left out
      g.get(t.r2).mul().add().set(s);
    });
    const [s0, s1, s2] = t.s;
    g.get(s0).get(s1).get(t.r4).mul().add().get(s2).get(t.r4).mul().get(t.r4).mul().add().get(t.r).mul().set(t.p);
    // e = expm1(y) = 2^k p - (1 - 2^k), which keeps the sign of a zero y; tanh x = -e / (e + 2)
    scale();
    g.tee(t.scale).get(t.p).mul().constant(1).get(t.scale).sub().sub().tee(t.p);
    g.neg().get(t.p).constant(2).add().div();
  }

  /** `out` (f32 local) = tanh of `x` (f32 local), rounded to float32. */
  scalar(x: number, out: number): void {
    const f = this.#f;
    this.#scalarLocals ??= { x: f.local(ValType.f64), t: tanhLocals(f, ValType.f64) };
    const { x: xd, t } = this.#scalarLocals;
    const g = new Float64Emitter(f);
    f.get(x).op(Op.f64_promote_f32).set(xd);
    // 2^k from k's bits: (kd << 52) + (1023 << 52)
    this.#tanh(g, xd, t, () => f.get(t.kd).op(Op.i64_reinterpret_f64).i64(52n).op(Op.i64_shl).i64(EXPONENT_ONE).op(Op.i64_add).op(Op.f64_reinterpret_i64));
    g.set(t.y);
    // keep it when a (1 - d) and a (1 + d) round alike, else Math.tanh
    g.get(t.y).constant(D_LO).mul();
    f.op(Op.f32_demote_f64).tee(out);
    g.get(t.y).constant(D_HI).mul();
    f.op(Op.f32_demote_f64).op(Op.f32_ne).if();
    f.get(xd).op(Op.call, [0]).op(Op.f32_demote_f64).set(out).end();
  }

  /** `out` (v128 local) = tanh of each float32 lane of `x` (v128 local). */
  vector(x: number, out: number): void {
    const f = this.#f;
    const locals = this.#vectorLocals;
    if (locals === undefined) throw new Error("wasm codegen: the vector tanh was not set up");
    const { x: xd, lo, hi, t } = locals;
    const g = new Float64Emitter(f, this.#constantLocal);
    // lanes 0 and 1 of the first operand, then lanes 0 and 1 of the second
    const lowLanes = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
    for (const half of [0, 1]) {
      f.get(x);
      // the high half's lanes 2 and 3 moved down to 0 and 1
      if (half === 1) f.get(x).simd(SimdOp.i8x16_shuffle, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
      f.simd(SimdOp.f64x2_promote_low_f32x4).set(xd);
      this.#tanh(g, xd, t, () => f.get(t.kd).i32(52).simd(SimdOp.i64x2_shl).get(this.#exponentOne).simd(SimdOp.i64x2_add));
      g.set(t.y);
      g.get(t.y).constant(D_LO).mul();
      f.simd(SimdOp.f32x4_demote_f64x2_zero);
      if (half === 1) f.set(t.scratch).get(lo).get(t.scratch).simd(SimdOp.i8x16_shuffle, lowLanes);
      f.set(lo);
      g.get(t.y).constant(D_HI).mul();
      f.simd(SimdOp.f32x4_demote_f64x2_zero);
      if (half === 1) f.set(t.scratch).get(hi).get(t.scratch).simd(SimdOp.i8x16_shuffle, lowLanes);
      f.set(hi);
    }
    // lanes where a (1 - d) and a (1 + d) round apart (or NaN) call Math.tanh
    f.get(lo).tee(out).get(hi).simd(SimdOp.f32x4_ne).tee(t.scratch).simd(SimdOp.v128_any_true).if();
    for (let lane = 0; lane < 4; lane++) {
      f.get(t.scratch).simd(SimdOp.i32x4_extract_lane, FunctionBody.lane(lane)).if();
      f.get(out).get(x).simd(SimdOp.f32x4_extract_lane, FunctionBody.lane(lane)).op(Op.f64_promote_f32).op(Op.call, [0]).op(Op.f32_demote_f64);
      f.simd(SimdOp.f32x4_replace_lane, FunctionBody.lane(lane)).set(out).end();
    }
    f.end();
  }
}
