/**
 * The scalar-op table: everything the backend knows about one elementwise
 * operation, in one exhaustive row per op.
 *
 * A row gives the op's arity, the dtypes it accepts and the dtype it returns,
 * its reference function (what the loop-IR interpreter calls), its
 * JavaScript expression (what generated kernels print), an optional faster
 * float32 form for JavaScript (bit for bit equal, see `fast-math.ts`), its
 * WebAssembly lowering for float32 (one scalar and one f32x4 opcode, the
 * identity, a lane mask or bit select, a math routine of
 * `wasm/vector-math.ts` with its own stated bound, or "none"), and the
 * stated error bound of its expression in float32 and float64. The table is typed
 * `{ [K in ScalarOp]: ScalarOpRow<ScalarOpParams[K]> }`, so an op without a
 * row, or a row without a field, is a compile error. An elementwise primitive
 * names its row (`prims/elementwise.ts`); the laws iterate this table.
 *
 * The idea is jax-js's `alu.ts` and tinygrad's `code_for_op`: the scalar
 * meaning of an op is one table row, and the code generators print from it.
 * What reaches generated source is only fixed text from these rows and operand
 * names the generators chose; a row's `fn` is called from generated code by
 * its op's name (`Scalar.erf(x)`), from a table the compiler fixes at load.
 * The JavaScript forms of the transcendentals call the engine's `Math` (the
 * interpreter's meaning); float32 WebAssembly kernels compute exp, log,
 * log1p, tanh, erf, erfc and pow by vectorised routines of their own, within the bound
 * each row states. Left out: ops on more than three operands, vectorised
 * float64 lowerings, and WebAssembly routines for sin and cos (those
 * nests stay on JavaScript).
 */

import { isFloatDType, type DType } from "../core/dtype.js";
import type { NoParams } from "../core/tree.js";
import { erf, erfc } from "./erf.js";
import { tanhFastPath, type FastPath } from "./fast-math.js";
import { Op, SimdOp } from "./wasm/encoder.js";
import type { VectorRoutine } from "./wasm/vector-math.js";

/** The comparisons of `compare`, each printed from this fixed table. */
export const COMPARISONS = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" } as const;
export type Comparison = keyof typeof COMPARISONS;

/** Every scalar op and the parameters it takes. */
export interface ScalarOpParams {
  neg: NoParams;
  exp: NoParams;
  log: NoParams;
  log1p: NoParams;
  sin: NoParams;
  cos: NoParams;
  sqrt: NoParams;
  tanh: NoParams;
  erf: NoParams;
  erfc: NoParams;
  add: NoParams;
  sub: NoParams;
  mul: NoParams;
  div: NoParams;
  max: NoParams;
  min: NoParams;
  pow: NoParams;
  compare: { readonly op: Comparison };
  select: NoParams;
  cast: { readonly dtype: DType };
}

/** The name of a scalar op. */
export type ScalarOp = keyof ScalarOpParams;

/** Which dtypes an op accepts. */
export type DTypeClass = "float" | "numeric" | "any";

/** Whether `dtype` is in the class `cls`. */
export function accepts(cls: DTypeClass, dtype: DType): boolean {
  if (cls === "any") return true;
  if (cls === "numeric") return dtype !== "bool";
  return isFloatDType(dtype);
}

/**
 * A float32 math routine of `wasm/vector-math.ts` and its stated error bound:
 * at most `ulp` units in the last place of the float32 result, against the
 * exact value (the float64 reference), over every finite input whose result
 * is finite (subnormal results counted in their own ulp, 2^-149); the
 * special values (+-0, +-Inf, NaN, the overflow and underflow thresholds)
 * give what the reference gives, as a law checks.
 */
export interface RoutineLowering {
  readonly routine: VectorRoutine;
  readonly ulp: number;
}

/**
 * How an op computes in a float32 WebAssembly kernel: one scalar and one
 * f32x4 opcode (exact as the reference), the identity (a cast from float32 to
 * float32), an f32x4 lane mask for a comparison ("compare") and a bit select
 * for "select", a math routine within a stated bound, or "none" (nests with
 * the op stay on JavaScript).
 */
export type WasmLowering = { readonly scalar: Op; readonly vector: SimdOp } | "identity" | "compare" | "select" | RoutineLowering | "none";

/**
 * An error bound in ulps of the result's dtype, against the exact value of
 * the op on the (already rounded) operands: 0 is exact, 0.5 correctly
 * rounded. For ops computed by the engine's `Math` functions in float64, the
 * float64 bound is that of V8's fdlibm-derived library (ECMAScript itself
 * only asks for an "implementation-approximated" value), and the float32
 * bound adds the final rounding to float32.
 */
export interface ErrorBound {
  readonly float32: number;
  readonly float64: number;
}

/** The row of one scalar op. */
export interface ScalarOpRow<P> {
  /** The number of operands (all of one shape; `select`'s condition is bool). */
  readonly arity: 1 | 2 | 3;
  /** The dtypes of the operands it accepts (for `select`: of the two values). */
  readonly accepts: DTypeClass;
  /** The result dtype, when it is not the operands' dtype. */
  readonly outDType?: (dtype: DType, params: P) => DType;
  /** The reference function: the value of one element, for the interpreter (before rounding to the result dtype). */
  readonly scalar: (args: readonly number[], dtype: DType, params: P) => number;
  /**
   * The same value as a JavaScript expression over the operand names `args`.
   * Built only from fixed text and `args`; never from a value of `params`
   * other than a name chosen from a fixed table.
   */
  readonly expr: (args: readonly string[], dtype: DType, params: P) => string;
  /**
   * A plain function that `expr` calls as `Scalar.<op>(...)`, for an op that
   * JavaScript's `Math` lacks (the compiler hands generated code these alone).
   */
  readonly fn?: (...args: number[]) => number;
  /** A faster float32 form for generated JavaScript, equal bit for bit to `Math.fround` of `expr`. */
  readonly jsFloat32?: FastPath;
  /** The float32 WebAssembly lowering. */
  readonly wasm: WasmLowering;
  /** The stated error bound of `expr` (and of every lowering) in each float dtype. */
  readonly error: ErrorBound;
}

/** Exact ops (a sign flip, a choice, a comparison): no error at all. */
const EXACT: ErrorBound = { float32: 0, float64: 0 };
/** IEEE-754 basic operations: correctly rounded (float32 from the float64 result: a double has more than 2 × 24 + 2 bits). */
const CORRECTLY_ROUNDED: ErrorBound = { float32: 0.5, float64: 0.5 };
/** `Math` transcendentals: within 1 ulp in float64, then rounded once more to float32. */
const LIBM: ErrorBound = { float32: 1, float64: 1 };
// The stated bounds of the float32 WebAssembly routines (wasm/vector-math.ts), in float32 ulps, checked by
// law 2 of laws/fusion.law.test.ts. Measured over every 61st float32 bit pattern (70 million inputs, 2026-12-07):
// exp 0.96, log 0.89, log1p 1.44, erf 1.11 ulp at most; the bounds leave room for the inputs not measured.
// tanh, E / (E + 2) with E = expm1(2|x|), measured over all 2^32 float32 inputs by bench/tanh-exhaustive.ts
// (2026-12-07): 2.67 ulp at most (at 0.0618: E = u, rounded in a binade above tanh's), 1.50 for |x| >= 0.625.
// erfc, relative to erfc itself (not to 1; subnormal results in subnormal ulps), measured over every 7th float32 in
// [-4.5, 10.13] (311 million inputs, 2026-12-07): 3.59 ulp at most (at 6.58; 0.81 below 0.47, 3.39 on [0.47, 1.2],
// 1.80 among subnormal results, 1.40 for x < 0). exp's own 0.96 ulp carries into it at full weight.
const EXP_ULP = 2;
const LOG_ULP = 2;
const LOG1P_ULP = 2;
const TANH_ULP = 3;
const ERF_ULP = 2;
const ERFC_ULP = 4;
// pow computes exp(y log|x|) in float64 within about 2^-45 relative before its one rounding to float32: 0.5 ulp
// and a hair; the bound leaves room for a result that lands next to a rounding boundary.
const POW_ULP = 1;

const unary = (accepts: DTypeClass, scalar: (x: number) => number, expr: (x: string) => string, wasm: WasmLowering, error: ErrorBound): ScalarOpRow<NoParams> => ({
  arity: 1,
  accepts,
  scalar: ([x = 0]) => scalar(x),
  expr: ([x = ""]) => expr(x),
  wasm,
  error,
});

const binary = (
  accepts: DTypeClass,
  scalar: (x: number, y: number, dtype: DType) => number,
  expr: (x: string, y: string, dtype: DType) => string,
  wasm: WasmLowering,
  error: ErrorBound,
): ScalarOpRow<NoParams> => ({
  arity: 2,
  accepts,
  scalar: ([x = 0, y = 0], dtype) => scalar(x, y, dtype),
  expr: ([x = "", y = ""], dtype) => expr(x, y, dtype),
  wasm,
  error,
});

function compareValues(op: Comparison, x: number, y: number): boolean {
  switch (op) {
    case "lt":
      return x < y;
    case "le":
      return x <= y;
    case "gt":
      return x > y;
    case "ge":
      return x >= y;
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
  }
}

/** Every scalar op's row. */
export const SCALAR_OPS: { readonly [K in ScalarOp]: ScalarOpRow<ScalarOpParams[K]> } = {
  neg: unary("numeric", (x) => -x, (x) => `(-${x})`, { scalar: Op.f32_neg, vector: SimdOp.f32x4_neg }, EXACT),
  // exp in WebAssembly: x <= -103.98 gives 0 (and -Inf), x > 88.73 +Inf, the subnormal results rounded once
  exp: unary("float", Math.exp, (x) => `Math.exp(${x})`, { routine: "exp", ulp: EXP_ULP }, LIBM),
  // log in WebAssembly: log(+-0) = -Inf, log(+Inf) = +Inf, negative or NaN gives NaN, subnormals exact in e
  log: unary("float", Math.log, (x) => `Math.log(${x})`, { routine: "log", ulp: LOG_ULP }, LIBM),
  // log1p in WebAssembly: keeps the sign of a zero, log1p(-1) = -Inf, below -1 NaN, tiny x gives x
  log1p: unary("float", Math.log1p, (x) => `Math.log1p(${x})`, { routine: "log1p", ulp: LOG1P_ULP }, LIBM),
  sin: unary("float", Math.sin, (x) => `Math.sin(${x})`, "none", LIBM),
  cos: unary("float", Math.cos, (x) => `Math.cos(${x})`, "none", LIBM),
  sqrt: unary("float", Math.sqrt, (x) => `Math.sqrt(${x})`, { scalar: Op.f32_sqrt, vector: SimdOp.f32x4_sqrt }, CORRECTLY_ROUNDED),
  // tanh in WebAssembly: sign(x) E / (E + 2), E = expm1(2|x|); keeps the sign of a zero, a subnormal x gives x,
  // +-1 from |x| = 9.01 on and at +-Inf
  tanh: { ...unary("float", Math.tanh, (x) => `Math.tanh(${x})`, { routine: "tanh", ulp: TANH_ULP }, LIBM), jsFloat32: tanhFastPath },
  // erf: the series / continued fraction of backend/erf.ts, measured within 9 ulp of a 400-bit reference
  // erf in WebAssembly: keeps the sign of a zero, +-1 from |x| = 3.92 on and at +-Inf
  erf: { ...unary("float", erf, (x) => `Scalar.erf(${x})`, { routine: "erf", ulp: ERF_ULP }, { float32: 1, float64: 16 }), fn: erf },
  // erfc: 1 - erf below 1/2, e^{-x²} erfcx (Taylor) to 2, a continued fraction beyond (backend/erf.ts); measured within 6 ulp of
  // a 400-bit reference relative to erfc itself (not to 1), subnormal results included
  // erfc in WebAssembly: 1 - erf's polynomial below |x| = 0.47, else exp(-x²) S(1/|x| - c) / |x| (x² split exactly) or 2
  // less it for x < 0; 0 from 10.0542 on, 1 at +-0, 0 at +Inf, 2 at -Inf
  erfc: { ...unary("float", erfc, (x) => `Scalar.erfc(${x})`, { routine: "erfc", ulp: ERFC_ULP }, { float32: 1, float64: 16 }), fn: erfc },
  add: binary("numeric", (x, y) => x + y, (x, y) => `(${x} + ${y})`, { scalar: Op.f32_add, vector: SimdOp.f32x4_add }, CORRECTLY_ROUNDED),
  sub: binary("numeric", (x, y) => x - y, (x, y) => `(${x} - ${y})`, { scalar: Op.f32_sub, vector: SimdOp.f32x4_sub }, CORRECTLY_ROUNDED),
  // NOTE: int32 products use Math.imul: a double product of two int32s can pass 2^53 and lose its low bits.
  mul: binary(
    "numeric",
    (x, y, dtype) => (dtype === "int32" ? Math.imul(x, y) : x * y),
    (x, y, dtype) => (dtype === "int32" ? `Math.imul(${x}, ${y})` : `(${x} * ${y})`),
    { scalar: Op.f32_mul, vector: SimdOp.f32x4_mul },
    CORRECTLY_ROUNDED,
  ),
  // NOTE: int32 division truncates toward zero, and x / 0 is 0 (as `| 0` makes of ±Infinity and NaN).
  div: binary("numeric", (x, y) => x / y, (x, y) => `(${x} / ${y})`, { scalar: Op.f32_div, vector: SimdOp.f32x4_div }, CORRECTLY_ROUNDED),
  max: binary("numeric", (x, y) => Math.max(x, y), (x, y) => `Math.max(${x}, ${y})`, { scalar: Op.f32_max, vector: SimdOp.f32x4_max }, EXACT),
  min: binary("numeric", (x, y) => Math.min(x, y), (x, y) => `Math.min(${x}, ${y})`, { scalar: Op.f32_min, vector: SimdOp.f32x4_min }, EXACT),
  // pow in WebAssembly: exp(y log|x|) in float64 lanes, rounded once; as Math.pow at the special values (y = +-0 gives 1,
  // x < 0 takes an odd integer y's sign and gives NaN for a y that is not an integer, |x| = 1 with y = +-Inf or NaN gives NaN)
  pow: binary("numeric", (x, y) => Math.pow(x, y), (x, y) => `Math.pow(${x}, ${y})`, { routine: "pow", ulp: POW_ULP }, LIBM),
  compare: {
    arity: 2,
    accepts: "any",
    outDType: () => "bool",
    scalar: ([x = 0, y = 0], _, { op }) => (compareValues(op, x, y) ? 1 : 0),
    expr: ([x = "", y = ""], _, { op }) => `(${x} ${COMPARISONS[op]} ${y} ? 1 : 0)`,
    wasm: "compare",
    error: EXACT,
  },
  select: {
    arity: 3,
    accepts: "any",
    scalar: ([cond = 0, x = 0, y = 0]) => (cond !== 0 ? x : y),
    expr: ([cond = "", x = "", y = ""]) => `(${cond} !== 0 ? ${x} : ${y})`,
    wasm: "select",
    error: EXACT,
  },
  cast: {
    arity: 1,
    accepts: "any",
    outDType: (_, { dtype }) => dtype,
    scalar: ([x = 0]) => x,
    expr: ([x = ""]) => x,
    wasm: "identity", // float32 to float32 only: the WebAssembly generator takes float32 nodes alone
    error: CORRECTLY_ROUNDED,
  },
};

/** The names of all scalar ops, for laws that iterate the table. */
export const SCALAR_OP_NAMES = Object.keys(SCALAR_OPS) as ScalarOp[]; // the keys of an object typed by ScalarOp

/** The row of `op`, with its parameters' type erased (for code that holds `op` beside its own params). */
export function scalarOpRow(op: ScalarOp): ScalarOpRow<unknown> {
  return SCALAR_OPS[op] as ScalarOpRow<unknown>; // callers pass each op its own ScalarOpParams[op]
}

/** Whether `name` names a scalar op (an own key of the table: the name may come from a parsed key). */
export function isScalarOp(name: string): name is ScalarOp {
  return Object.hasOwn(SCALAR_OPS, name);
}

/** The result dtype of `op` on operands of `dtype` (for `select`: of its two values). */
export function scalarOpDType<P>(row: ScalarOpRow<P>, dtype: DType, params: P): DType {
  return row.outDType?.(dtype, params) ?? dtype;
}

/** Rounds a computed value to what `dtype` stores. */
export function round(dtype: DType, v: number): number {
  switch (dtype) {
    case "float32":
      return Math.fround(v);
    case "int32":
      return v | 0;
    case "bool":
      return v !== 0 ? 1 : 0; // NaN is nonzero, so true (as in NumPy)
    case "float64":
      return v;
  }
}

/** `round` as an expression around the expression `e`. */
export function roundExpr(dtype: DType, e: string): string {
  switch (dtype) {
    case "float32":
      return `Math.fround(${e})`;
    case "int32":
      return `((${e}) | 0)`;
    case "bool":
      return `((${e}) !== 0 ? 1 : 0)`;
    case "float64":
      return e;
  }
}
