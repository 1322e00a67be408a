/**
 * Relaxed SIMD, the opt-in fast mode of the float32 matmul (issue 14, item 4).
 *
 * WebAssembly's relaxed SIMD has `f32x4.relaxed_madd(a, b, c)`: `a * b + c`
 * either fused (one rounding, one instruction where the CPU has FMA) or as a
 * multiply then an add (two roundings), as the engine and the CPU choose.
 * The matmul's micro-kernel (`../kernels/wasm-matmul.ts`) spends its time in
 * multiply-adds, so on a CPU with FMA it does the same work in about half the
 * arithmetic instructions. The price is the numerics contract's machine-to-
 * machine clause: a product can round differently on a CPU without FMA (or
 * on another engine). On one machine and engine the bits stay the same run
 * to run and for every thread count (the same instruction forms each sum, in
 * the same order), and every sum stays within the matmul's stated error
 * bound (a fused multiply-add rounds once where the default rounds twice).
 *
 * So it is off unless asked for: `setRelaxedSimd(true)`, or the environment
 * variable `STRATUM_RELAXED_SIMD=1` (read once, for the default). Whether the
 * engine has relaxed SIMD is checked once, by validating a tiny module that
 * uses `f32x4.relaxed_madd` (Chrome 114+ and Node 22+ have it; Node 20 needs
 * `--experimental-wasm-relaxed-simd`). Where it is missing, asking for it
 * changes nothing and `relaxedSimdSupport()` says why. What it covers: the
 * float32 matmul micro-kernel, and with it the implicit-GEMM convolutions;
 * fused loops, the Winograd kernels and the vector math stay on the default
 * instructions.
 */

import { hostWebAssembly } from "../../core/host.js";
import { encodeModule, FunctionBody, SimdOp, ValType } from "./encoder.js";

/** Whether relaxed SIMD can run here and is on, and if it cannot run, why. */
export interface RelaxedSimdSupport {
  /** The engine validates relaxed SIMD instructions. */
  readonly available: boolean;
  /** Kernels use them now: asked for (`setRelaxedSimd`, `STRATUM_RELAXED_SIMD=1`) and available. */
  readonly enabled: boolean;
  /** Why it is not available (empty when it is). */
  readonly reason: string;
}

/** A module of one function returning `f32x4.relaxed_madd` of three zero vectors' lane 0. */
function probeModule(): Uint8Array {
  const body = new FunctionBody(0);
  body.zeros().zeros().zeros().simd(SimdOp.f32x4_relaxed_madd).simd(SimdOp.v128_any_true);
  return encodeModule({ imports: [], functions: [{ type: { params: [], results: [ValType.i32] }, body }] });
}

let availability: { readonly available: boolean; readonly reason: string } | undefined;

function detect(): { readonly available: boolean; readonly reason: string } {
  if (availability !== undefined) return availability;
  let ok = false;
  try {
    ok = hostWebAssembly !== undefined && hostWebAssembly.validate(probeModule());
  } catch {
    ok = false;
  }
  availability = ok
    ? { available: true, reason: "" }
    : { available: false, reason: hostWebAssembly === undefined ? "this engine has no WebAssembly" : "this engine does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd; Node 22+ and Chrome 114+ have it)" };
  return availability;
}

/** The environment's default: `STRATUM_RELAXED_SIMD=1` asks for it. */
function defaultRequest(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["STRATUM_RELAXED_SIMD"]; // sound: each possibly-absent step is checked
  return env !== undefined && /^\s*(1|true|on)\s*$/i.test(env);
}

let requested: boolean | undefined;

/**
 * Asks for relaxed SIMD (`true`) or the default, bit-identical instructions
 * (`false`) in the float32 matmul and the convolutions that run on it;
 * returns whether relaxed SIMD is used from now on (false where the engine
 * lacks it: see `relaxedSimdSupport`). With it, products may round
 * differently from one CPU to another (a fused or an unfused multiply-add),
 * always within the matmul's error bound, and stay the same bits run to run
 * and for every thread count on one machine. It applies from the next call
 * of a kernel, jitted programs included.
 *
 * @example
 * if (!setRelaxedSimd(true)) console.info(relaxedSimdSupport().reason);
 */
export function setRelaxedSimd(enabled: boolean): boolean {
  if (typeof enabled !== "boolean") throw new TypeError(`setRelaxedSimd: expected true or false, got ${typeof enabled}`);
  requested = enabled;
  return relaxedSimdEnabled();
}

/**
 * Whether the kernels use relaxed SIMD now (asked for and available).
 *
 * @example
 * relaxedSimdEnabled(); // false unless setRelaxedSimd(true) or STRATUM_RELAXED_SIMD=1, on an engine that has it
 */
export function relaxedSimdEnabled(): boolean {
  requested ??= defaultRequest();
  return requested && detect().available;
}

/**
 * Whether this engine has relaxed SIMD, whether the kernels use it, and if it
 * is not available, why.
 *
 * @example
 * const { available, enabled, reason } = relaxedSimdSupport();
 */
export function relaxedSimdSupport(): RelaxedSimdSupport {
  const { available, reason } = detect();
  return { available, enabled: relaxedSimdEnabled(), reason };
}
