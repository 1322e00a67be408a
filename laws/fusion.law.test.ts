/**
 * Laws of fusion and code generation, each against an independent reference:
 *
 * 1. every row of the scalar-op table prints an expression (`expr`) that
 *    computes what its reference function (`scalar`) computes, rounded alike,
 *    on random operands mixed with 0, -0, NaN, infinities and large values;
 *    and every elementwise primitive, fused into a loop, is rounded as eager
 *    evaluation rounds it;
 * 2. every float32 unary op that a backend compiles equals `Math.fround` of
 *    the op's own expression (the JavaScript generator's fast paths, the
 *    WebAssembly opcodes), or, for a WebAssembly math routine (exp, log,
 *    log1p, tanh, erf, erfc, and pow of two operands: `wasm/vector-math.ts`), stays within the bound its row
 *    states of the float64 reference and gives what the reference gives at
 *    the special values (+-0, +-Inf, NaN, subnormals, the overflow and
 *    underflow thresholds); on special values, random bit patterns and runs
 *    of neighbouring floats and every 4099th float32 bit pattern, with the same result run to run and wherever an
 *    element sits (four-lane loop or one-lane tail);
 * 3. on every backend, the kernel of every loop nest equals the loop-IR
 *    interpreter, bit for bit, on random programs of elementwise, broadcast,
 *    transpose, slice, reshape and reduce equations and scalar constants,
 *    with random shapes (0 and 1 dims included) and dtypes (and all float32,
 *    the dtype WebAssembly compiles); the interpreter evaluates the ops as
 *    the backend does (`OpSemantics`), so fusion and code generation add no
 *    error beyond the ops' own, which law 2 bounds;
 * 4. `compileProgram(p)` (whichever backend the kernel cache picks) equals
 *    `interpretProgram(p)`, the unfused reference, bit for bit, on the same
 *    random programs, unless a WebAssembly kernel of its plan approximates an
 *    op; then the plan interpreted with the reference functions equals
 *    `interpretProgram(p)` bit for bit, and the plan's kernels equal the plan
 *    interpreted with their own ops;
 * 5. buffer reuse never shows: on random programs that also run primitives
 *    outside kernels (matmul, gather, concatenate: they write into the plan's
 *    buffers), the outputs of call k are unchanged by call k + 1 (given other
 *    inputs, or call k's own outputs, as a training loop does), the inputs
 *    are never written, and a call that donates every input computes what a
 *    call that donates none computes.
 *
 * Scalar ops are found by iterating the scalar-op table, primitives by
 * iterating the registry and backends by iterating `backends`, so a new
 * elementwise primitive or a new backend is covered without editing the laws
 * (an op with parameters also needs an entry in `paramChoices`, a backend an
 * entry in `backends`, which its type demands). `STRATUM_HEAVY=1` runs more cases; a failing law prints its seed
 * and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { allocate, DTYPES, type DType, type Storage } from "../src/core/dtype.js";
import { shapeSize } from "../src/core/shape.js";
import { Tensor } from "../src/core/tensor.js";
import { compileKernel, type KernelBackend } from "../src/backend/compile.js";
import { generateKernel } from "../src/backend/js-codegen.js";
import { interpretLoopNest } from "../src/backend/interpret.js";
import { outputDType, outputShape, type Kernel, type LoopNest } from "../src/backend/loop-ir.js";
import { wasmKernel } from "../src/backend/wasm/runtime.js";
import { loopKernelBackend } from "../src/backend/compile.js";
import type { OpSemantics } from "../src/backend/interpret.js";
import { compileProgram, fusionPlan } from "../src/ir/fusion/execute.js";
import { fuseProgram } from "../src/ir/fusion/fuse.js";
import { interpretProgram } from "../src/ir/interpret.js";
import { printProgram, type Program } from "../src/ir/program.js";
import { accepts, COMPARISONS, round, roundExpr, SCALAR_OP_NAMES, scalarOpDType, scalarOpRow, type Comparison, type ScalarOp, type ScalarOpParams, type ScalarOpRow } from "../src/backend/scalar-ops.js";
import { fullLike } from "../src/prims/lax.js";
import { primitives, primNames } from "../src/prims/registry.js";
import type { PrimParams } from "../src/prims/params.js";
import type { AnyTensor } from "../src/prims/types.js";
import { bind } from "../src/prims/index.js";
import { traceProgram } from "../src/transforms/trace.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const numRuns = heavy ? 1000 : 200;

// ---------------------------------------------------------------------------
// The backends that run loop kernels

/**
 * Each backend's kernel of a nest, undefined for a nest it does not compile.
 * The JavaScript kernel is compiled under a key of its own, so that the
 * kernel cache does not hand the nest to WebAssembly; the WebAssembly kernel
 * fails the law when it declines a call instead of running it.
 */
const backends: { readonly [B in KernelBackend]: (nest: LoopNest) => Kernel | undefined } = {
  javascript: (nest) => {
    const { key, source } = generateKernel(nest);
    return compileKernel<() => Kernel>(`law:js:${key}`, [], source)();
  },
  webassembly: (nest) => {
    // blocks of a few rows (a tiny block size), so that the random programs run the blocked path too
    const kernel = wasmKernel(nest, 64);
    if (kernel === undefined) return undefined;
    return (buffers, constants) => {
      if (!kernel.run(buffers, constants)) throw new Error("the WebAssembly kernel declined a call");
    };
  },
};
// the keys of `backends` are exactly the KernelBackends
const backendNames = Object.keys(backends) as KernelBackend[];

/** How each backend evaluates scalar ops, for the interpreter that checks it. */
const semanticsOf: { readonly [B in KernelBackend]: OpSemantics } = { javascript: "reference", webassembly: "webassembly" };

/** The stated bound of `op`'s WebAssembly math routine on `backend`, in float32 ulps; undefined where the backend computes it exactly as `expr`. */
function routineBound(op: ScalarOp, backend: KernelBackend): number | undefined {
  const lowering = scalarOpRow(op).wasm;
  return backend === "webassembly" && typeof lowering === "object" && "routine" in lowering ? lowering.ulp : undefined;
}

/** Whether a WebAssembly kernel of `p`'s plan computes an op by an approximation. */
function approximates(p: Program): boolean {
  return fuseProgram(p).steps.some(
    (step) => step.kind === "kernel" && loopKernelBackend(step.nest) === "webassembly" && step.nest.nodes.some((node) => node.kind === "op" && routineBound(node.op, "webassembly") !== undefined),
  );
}

// ---------------------------------------------------------------------------
// The scalar ops, from the backend's table, and the elementwise primitives that name them

interface Elementwise {
  readonly name: ScalarOp;
  readonly rule: ScalarOpRow<unknown>;
}

// each row takes its op's own params, which paramChoices supplies
const elementwisePrims: readonly Elementwise[] = SCALAR_OP_NAMES.map((name) => ({ name, rule: scalarOpRow(name) }));

/** The primitive that names scalar op `op`, if one does. */
const primitiveOf = (op: ScalarOp) => primNames.find((n) => primitives[n].scalarOp === op);

const comparisons = Object.keys(COMPARISONS) as Comparison[]; // COMPARISONS is keyed by Comparison

/** The parameters an elementwise primitive can take (`{}` for those without). */
const paramChoices: { readonly [K in ScalarOp]?: readonly ScalarOpParams[K][] } = {
  compare: comparisons.map((op) => ({ op })),
  cast: DTYPES.map((dtype) => ({ dtype })),
};

function paramsOf(name: ScalarOp): readonly unknown[] {
  return paramChoices[name] ?? [{}];
}

/** The dtype of `rule`'s result on operands of `dtype`. */
const outDType = scalarOpDType;

/** Equal bit for bit, as far as JavaScript numbers tell: NaN equals NaN, -0 differs from 0. */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A value as text, -0 included. */
const show = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

function expectSameTensors(got: readonly AnyTensor[], want: readonly AnyTensor[], what: string): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((x, i) => {
    const y = want[i];
    expect(x.dtype, what).toBe(y?.dtype);
    expect([...x.shape], what).toEqual([...(y?.shape ?? [])]);
    if (!sameValues(x.data, y?.data ?? [])) {
      expect([...x.data].map(show), `${what}: output ${i}`).toEqual([...(y?.data ?? [])].map(show));
    }
  });
}

// ---------------------------------------------------------------------------
// Values

const float32Specials = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 1e30, -1e-30, 16777217, 1 / 1024, 9.5, -9.5];
const float64Specials = [...float32Specials, 1e300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, 1 / 3];
const int32Specials = [0, 1, -1, 2, 7, -7, 2147483647, -2147483648, 65536, -65536, 46341];

/** A value of `dtype`, as stored: specials now and then. */
function valueOf(dtype: DType): fc.Arbitrary<number> {
  switch (dtype) {
    case "float32":
      return fc.oneof(fc.constantFrom(...float32Specials.map(Math.fround)), fc.float({ noDefaultInfinity: false }), fc.float({ min: -10, max: 10, noNaN: true }));
    case "float64":
      return fc.oneof(fc.constantFrom(...float64Specials), fc.double(), fc.double({ min: -10, max: 10, noNaN: true }));
    case "int32":
      return fc.oneof(fc.constantFrom(...int32Specials), fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -9, max: 9 }));
    case "bool":
      return fc.constantFrom(0, 1);
  }
}

const palettes: readonly (readonly number[])[] = [[0, -0], [-0, -1], [-0, -1, NaN], [1, 2, 2], [-2147483648, 2147483647, 1]];

/** A deterministic stream of values of `dtype` from `seed`, specials included. */
function valuesFrom(seed: number, dtype: DType, n: number): Storage<DType> {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = allocate(dtype, n);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(next() * xs.length)];
  // Now and then a tensor of a few values only, for ties, zeros of both signs and NaNs in reductions.
  const palette = dtype !== "bool" && next() < 0.3 ? pick(palettes) : undefined;
  for (let i = 0; i < n; i++) {
    const special = next() < 0.15;
    if (palette !== undefined) {
      out[i] = pick(palette) ?? 0;
      continue;
    }
    switch (dtype) {
      case "float32":
      case "float64":
        out[i] = special ? (pick(dtype === "float32" ? float32Specials : float64Specials) ?? 0) : (next() - 0.5) * (next() < 0.2 ? 1e6 : 8);
        break;
      case "int32":
        out[i] = special ? (pick(int32Specials) ?? 0) : Math.floor((next() - 0.5) * (next() < 0.2 ? 2 ** 32 : 20));
        break;
      case "bool":
        out[i] = next() < 0.5 ? 1 : 0;
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Law 1: expr agrees with scalar

type Evaluate = (a: number, b: number, c: number) => number;

/** `expr` compiled (through compileKernel, like every kernel) into a function of its operands. */
function compiledExpr(p: Elementwise, dtype: DType, params: unknown, index: number): Evaluate {
  const args = ["a", "b", "c"].slice(0, p.rule.arity);
  const body = `return ${roundExpr(outDType(p.rule, dtype, params), p.rule.expr(args, dtype, params))};`;
  return compileKernel<Evaluate>(`law:expr:${p.name}:${dtype}:${index}`, ["a", "b", "c"], body);
}

/** Operand dtypes a primitive accepts, and for select the bool condition first. */
function operandDTypes(p: Elementwise, dtype: DType): DType[] {
  return p.rule.arity === 3 ? ["bool", dtype, dtype] : new Array<DType>(p.rule.arity).fill(dtype);
}

describe("elementwise primitives", () => {
  const cases = elementwisePrims.flatMap((p) =>
    DTYPES.filter((dtype) => accepts(p.rule.accepts, dtype)).flatMap((dtype) => paramsOf(p.name).map((params, index) => ({ p, dtype, params, index }))),
  );
  test("every elementwise primitive is covered", () => {
    expect(elementwisePrims.length).toBeGreaterThan(0);
    for (const p of elementwisePrims) expect(cases.some((c) => c.p === p), p.name).toBe(true);
  });
  for (const { p, dtype, params, index } of cases) {
    const operands = fc.tuple(...operandDTypes(p, dtype).map(valueOf));
    test.prop([operands], { numRuns: heavy ? 2000 : 200 })(`${p.name}${index > 0 ? `#${index}` : ""} on ${dtype}: expr computes what scalar computes`, (xs) => {
      const evaluate = compiledExpr(p, dtype, params, index);
      const want = round(outDType(p.rule, dtype, params), p.rule.scalar(xs, dtype, params));
      const got = evaluate(xs[0] ?? 0, xs[1] ?? 0, xs[2] ?? 0);
      expect(Object.is(got, want), `${p.name}(${xs.join(", ")}): expr ${got}, scalar ${want}`).toBe(true);
    });
  }
});

describe("elementwise primitives in fused code", () => {
  const N = 4096;
  test("every scalar op is named by an elementwise primitive", () => {
    for (const p of elementwisePrims) expect(primitiveOf(p.name), p.name).toBeDefined();
  });
  for (const p of elementwisePrims) {
    const prim = primitiveOf(p.name);
    if (prim === undefined) continue;
    for (const dtype of DTYPES.filter((d) => accepts(p.rule.accepts, d))) {
      paramsOf(p.name).forEach((params, index) => {
        // cast to float64 shows the fused value exactly as computed, so a result left unrounded is seen.
        const avals = operandDTypes(p, dtype).map((d) => ({ shape: [N], dtype: d }));
        const program = traceProgram((xs) => [bind("cast", [bind(prim, xs, params as PrimParams[typeof prim])], { dtype: "float64" })], avals); // params are p's own, and an elementwise primitive's are its op's
        test.prop([fc.integer()], { numRuns: heavy ? 20 : 2 })(`${p.name}${index > 0 ? `#${index}` : ""} on ${dtype} is rounded in a fused loop as eager rounds it`, (seed) => {
          const inputs = inputsFor(program, seed);
          expect(fusionPlan(program).kernels).toBe(1);
          const [got, want] = [compileProgram(program)(inputs), interpretProgram(program, inputs)];
          const bound = approximates(program) ? routineBound(p.name, "webassembly") : undefined;
          if (bound === undefined) expectSameTensors(got, want, `${p.name} on ${dtype}`);
          else expectWithinBound(got[0]?.data ?? [], want[0]?.data ?? [], bound, `${p.name} on ${dtype}`);
        });
      });
    }
  }
});

// ---------------------------------------------------------------------------
// Law 2: float32 math routines are exact, or within their stated bounds

/** A nest applying `op` to every element of a float32 vector. */
function unaryNest(op: ScalarOp, n: number): LoopNest {
  return {
    shape: [n],
    reducedAxes: [],
    inputs: [{ dtype: "float32", size: n }],
    constants: [],
    // the fast paths are unary primitives without parameters
    nodes: [{ kind: "read", dtype: "float32", input: 0, map: { offset: 0, strides: [1] } }, { kind: "op", dtype: "float32", op, params: {}, args: [0] } as LoopNest["nodes"][number]],
    outputs: [{ node: 1 }],
  };
}

/** The spacing of float32 values at `v`: 2^(e - 23) for 2^e <= |v| < 2^(e+1), 2^-149 among the subnormals. */
function float32Ulp(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * Expects `got` within `bound` float32 ulps of `want` (float64 references,
 * or float32 results of the reference) wherever `want` is a finite float32,
 * and equal to `Math.fround(want)` elsewhere (infinities, NaN, overflow).
 */
function expectWithinBound(got: ArrayLike<number>, want: ArrayLike<number>, bound: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const [v, reference] = [got[i] ?? NaN, want[i] ?? NaN];
    const rounded = Math.fround(reference);
    if (!Number.isFinite(rounded)) {
      if (!Object.is(v, rounded)) expect(`${what}[${i}] = ${show(v)}`).toBe(`${what}[${i}] = ${show(rounded)}`);
      continue;
    }
    // a zero result keeps the reference's sign
    if (reference === 0 && !Object.is(v, reference)) expect(`${what}[${i}] = ${show(v)}`).toBe(`${what}[${i}] = ${show(reference)}`);
    const error = Math.abs(v - reference) / float32Ulp(reference);
    if (!(error <= bound)) expect(`${what}[${i}] = ${v}: ${error} ulp`).toBe(`within ${bound} ulp of ${reference}`);
  }
}

const float32Bits = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((bits) => new Float32Array(new Uint32Array([bits]).buffer)[0] ?? 0);

describe("float32 unary primitives on every backend", () => {
  const N = 4096;
  const unaryFloat = elementwisePrims.filter((p) => p.rule.arity === 1 && accepts(p.rule.accepts, "float32") && paramChoices[p.name] === undefined);
  const cases = backendNames.flatMap((backend) =>
    unaryFloat.flatMap(({ name: prim }) => {
      const kernel = backends[backend](unaryNest(prim, N));
      return kernel === undefined ? [] : [{ backend, prim, kernel }];
    }),
  );
  test("every backend compiles tanh", () => {
    for (const backend of backendNames) expect(cases.some((c) => c.backend === backend && c.prim === "tanh"), backend).toBe(true);
  });
  test("WebAssembly computes exp, log, log1p, tanh, erf and erfc by its own routines", () => {
    for (const op of ["exp", "log", "log1p", "tanh", "erf", "erfc"] as const) expect(cases.some((c) => c.backend === "webassembly" && c.prim === op && routineBound(op, c.backend) !== undefined), op).toBe(true);
  });
  for (const { backend, prim, kernel } of cases) {
    const bound = routineBound(prim, backend);
    const check = (x: Float32Array): void => {
      const got = new Float32Array(N);
      const want = new Float32Array(N);
      kernel([x, got], []);
      if (bound !== undefined) {
        // within the row's bound of the float64 reference, the same run to run, and in the one-lane tail as in the four-lane loop
        const row = scalarOpRow(prim);
        expectWithinBound(got, Array.from(x, (v) => row.scalar([v], "float32", {})), bound, prim);
        const again = new Float32Array(N);
        kernel([x, again], []);
        expect(sameValues(got, again), `${prim}: a second run`).toBe(true);
        const [shifted, tail] = [new Float32Array(N + 3), new Float32Array(N + 3)];
        shifted.set(x, 3);
        backends[backend](unaryNest(prim, N + 3))?.([shifted, tail], []);
        expect(sameValues(got, tail.subarray(3)), `${prim}: shifted by three lanes`).toBe(true);
        return;
      }
      interpretLoopNest(unaryNest(prim, N), [x, want], []);
      for (let i = 0; i < N; i++) {
        if (!Object.is(got[i], want[i])) expect(`${prim}(${x[i]}) = ${got[i]}`).toBe(`${prim}(${x[i]}) = ${want[i]}`);
      }
      // the row's stated float32 bound, against the float64 reference
      const row = scalarOpRow(prim);
      for (let i = 0; i < N; i++) {
        const [v, reference] = [got[i] ?? NaN, row.scalar([x[i] ?? NaN], "float32", {})];
        if (!Number.isFinite(v) || !Number.isFinite(reference) || Math.abs(reference) > 3.4028234663852886e38) continue;
        const error = Math.abs(v - reference) / float32Ulp(reference);
        if (error > row.error.float32) expect(`${prim}(${x[i]}) = ${v}: ${error} ulp`).toBe(`within ${row.error.float32} ulp of ${reference}`);
      }
    };
    test(`${prim} on ${backend} agrees with its reference on special values`, () => {
      const x = new Float32Array(N);
      // the fast paths' and routines' seams, exp's overflow (88.72), smallest normal (-87.34), smallest subnormal (-103.28) and underflow (-103.97) thresholds
      // erfc's: 1/2 at 0.477, its pieces' seams 0.47 and 1.2, subnormal from 9.1945, 0 from 10.0542 and its clamp 16
      const erfcSeams = [0.47, -0.47, 0.4769362807273865, 1.2, -1.2, 9.194549449134672, 10.054194928818095, 10.06, 16, -16];
      const seams = [...erfcSeams, 0.625, -0.625, 9.01, 0.875, -0.875, 3.92, -3.92, 88.72283935546875, -87.33654022216797, -103.27892303466797, -103.97207641601562, -104, 89, 0.7071067690849304, 1.4142135381698608];
      const specials = [...float32Specials, 1 / 1024, -1 / 1024, 9.5, -9.5, 9.499999, 22, 2 ** -149, -(2 ** -149), 2 ** -126, -(2 ** -126), 2 ** -140, ...seams];
      const neighbours = specials.flatMap((v) => {
        const f = new Float32Array([v]);
        const bits = new Uint32Array(f.buffer)[0] ?? 0;
        return [-2, -1, 1, 2].map((d) => new Float32Array(new Uint32Array([(bits + d) >>> 0]).buffer)[0] ?? 0);
      });
      x.set([...specials, ...neighbours].slice(0, N).map(Math.fround));
      check(x);
    });
    if (bound !== undefined) {
      test(`${prim} on ${backend} stays within its bound on every 4099th float32 bit pattern`, () => {
        const row = scalarOpRow(prim);
        const [x, got] = [new Float32Array(N), new Float32Array(N)];
        const bits = new Uint32Array(x.buffer);
        for (let start = 0; start < 2 ** 32; start += 4099 * N) {
          for (let i = 0; i < N; i++) bits[i] = Math.min(start + 4099 * i, 2 ** 32 - 1);
          kernel([x, got], []);
          expectWithinBound(got, Array.from(x, (v) => row.scalar([v], "float32", {})), bound, prim);
        }
      });
    }
    test.prop([fc.array(float32Bits, { minLength: N, maxLength: N })], { numRuns: heavy ? 200 : 10 })(`${prim} on ${backend} agrees on random float32 bit patterns`, (xs) => {
      check(Float32Array.from(xs));
    });
    test.prop([fc.float({ min: -12, max: 12, noNaN: true })], { numRuns: heavy ? 200 : 10 })(`${prim} on ${backend} agrees on runs of neighbouring floats`, (start) => {
      const bits = new Uint32Array(new Float32Array([start]).buffer)[0] ?? 0;
      const x = new Float32Array(new Uint32Array(N).map((_, i) => (bits + i) >>> 0).buffer);
      check(x.map((v) => (Number.isNaN(v) ? 0 : v)));
    });
  }
});

describe("float32 binary math routines on WebAssembly", () => {
  const N = 4096;
  /** A nest applying binary `op` to two float32 vectors elementwise. */
  const binaryNest = (op: ScalarOp, n: number): LoopNest => ({
    shape: [n],
    reducedAxes: [],
    inputs: [
      { dtype: "float32", size: n },
      { dtype: "float32", size: n },
    ],
    constants: [],
    nodes: [
      { kind: "read", dtype: "float32", input: 0, map: { offset: 0, strides: [1] } },
      { kind: "read", dtype: "float32", input: 1, map: { offset: 0, strides: [1] } },
      { kind: "op", dtype: "float32", op, params: {}, args: [0, 1] } as LoopNest["nodes"][number], // the routines take no parameters
    ],
    outputs: [{ node: 2 }],
  });
  const routines = elementwisePrims.filter((p) => p.rule.arity === 2 && routineBound(p.name, "webassembly") !== undefined);
  test("WebAssembly computes pow by its own routine", () => {
    expect(routines.map((p) => p.name)).toContain("pow");
  });
  for (const { name: op, rule } of routines) {
    const bound = routineBound(op, "webassembly") ?? 0;
    /** Runs the kernel on `xs` and `ys` (padded to N); expects the bound, the same bits on a second run and in the one-lane tail. */
    const check = (xs: readonly number[], ys: readonly number[]): void => {
      const [x, y, got] = [new Float32Array(N), new Float32Array(N), new Float32Array(N)];
      x.set(xs.slice(0, N));
      y.set(ys.slice(0, N));
      const kernel = backends.webassembly(binaryNest(op, N));
      if (kernel === undefined) throw new Error(`WebAssembly does not compile ${op}`);
      kernel([x, y, got], []);
      expectWithinBound(got, Array.from(x, (v, i) => rule.scalar([v, y[i] ?? NaN], "float32", {})), bound, op);
      const again = new Float32Array(N);
      kernel([x, y, again], []);
      expect(sameValues(got, again), `${op}: a second run`).toBe(true);
      const [sx, sy, tail] = [new Float32Array(N + 3), new Float32Array(N + 3), new Float32Array(N + 3)];
      sx.set(x, 3);
      sy.set(y, 3);
      backends.webassembly(binaryNest(op, N + 3))?.([sx, sy, tail], []);
      expect(sameValues(got, tail.subarray(3)), `${op}: shifted by three lanes`).toBe(true);
    };
    test(`${op} agrees with its reference on every pair of special values and their neighbours`, () => {
      // pow's: odd and even integers, halves, 1 +- ulp, results at the overflow, subnormal and underflow thresholds
      const values = [...float32Specials, 2, -2, 3, -3, 1.5, -1.5, 0.1, 10, 127, 128, -126, -149, -150, 1 + 2 ** -23, 1 - 2 ** -24, 2 ** -149, -(2 ** -126), 1 / 3].map(Math.fround);
      const neighbours = values.flatMap((v) => {
        const bits = new Uint32Array(new Float32Array([v]).buffer)[0] ?? 0;
        return [-1, 1].map((d) => new Float32Array(new Uint32Array([(bits + d) >>> 0]).buffer)[0] ?? 0);
      });
      const all = [...values, ...neighbours];
      const pairs = all.flatMap((a) => all.map((b) => [a, b] as const));
      for (let start = 0; start < pairs.length; start += N) {
        const chunk = pairs.slice(start, start + N);
        check(
          chunk.map(([a]) => a),
          chunk.map(([, b]) => b),
        );
      }
    });
    test.prop([fc.array(fc.tuple(float32Bits, float32Bits), { minLength: N, maxLength: N })], { numRuns: heavy ? 100 : 5 })(`${op} agrees on random float32 bit patterns`, (pairs) => {
      check(
        pairs.map(([a]) => a),
        pairs.map(([, b]) => b),
      );
    });
    const base = fc.oneof(fc.float({ min: Math.fround(1e-3), max: 1000, noNaN: true }), fc.float({ min: Math.fround(0.9), max: Math.fround(1.1), noNaN: true }));
    const exponent = fc.oneof(fc.float({ min: -150, max: 150, noNaN: true }), fc.integer({ min: -150, max: 150 }));
    test.prop([fc.array(fc.tuple(base, fc.boolean(), exponent), { minLength: N, maxLength: N })], { numRuns: heavy ? 100 : 5 })(
      `${op} stays within its bound on bases of both signs and exponents up to the overflow and underflow thresholds`,
      (triples) => {
        check(
          triples.map(([a, negative]) => (negative ? -a : a)),
          triples.map(([, , b]) => b),
        );
      },
    );
  }
});

// ---------------------------------------------------------------------------
// Random programs

/** One step of a random program, as numbers a builder reads modulo what is possible. */
type Step = readonly [number, number, number, number];

interface Recipe {
  readonly inputs: readonly { readonly shape: readonly number[]; readonly dtype: DType }[];
  readonly steps: readonly Step[];
  readonly outputs: readonly number[];
  readonly seed: number;
}

const dim = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 5) }, { weight: 1, arbitrary: fc.constantFrom(16, 33) });
const inputAval = fc.record({ shape: fc.array(dim, { maxLength: 3 }), dtype: fc.constantFrom<DType>("float32", "float32", "float64", "int32", "bool") });
const recipe: fc.Arbitrary<Recipe> = fc.record({
  inputs: fc.array(inputAval, { minLength: 1, maxLength: 3 }),
  steps: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 14 }),
  outputs: fc.array(fc.nat(), { maxLength: 3 }),
  seed: fc.integer(),
});

/** The same recipes with every input float32 (the dtype the WebAssembly backend compiles). */
const float32Recipe: fc.Arbitrary<Recipe> = recipe.map((r) => ({ ...r, inputs: r.inputs.map((i) => ({ ...i, dtype: "float32" as const })) }));

const pickFrom = <T>(xs: readonly T[], k: number): T | undefined => xs[k % Math.max(xs.length, 1)];

/** `x` reshaped and broadcast to `shape` when NumPy's rules allow it, else undefined. */
function broadcastTo(x: AnyTensor, shape: readonly number[]): AnyTensor | undefined {
  const offset = shape.length - x.shape.length;
  if (offset < 0 || !x.shape.every((d, i) => d === 1 || d === shape[i + offset])) return undefined;
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return bind("broadcast", [x], { shape: [...shape], dims: x.shape.map((_, i) => i + offset) });
}

/**
 * Builds the program a recipe describes: every step applies one primitive to
 * values made so far; with `opaque`, also primitives that run outside kernels.
 */
function buildProgram(r: Recipe, opaque = false): Program {
  return traceProgram((inputs) => {
    const pool: AnyTensor[] = [...inputs];
    for (const [kind, a, b, c] of r.steps) {
      // mostly one of the newest values, so that steps chain
      const x = a % 4 === 0 ? pickFrom(pool, a >> 2) : pool[pool.length - 1 - ((a >> 2) % Math.min(pool.length, 2))];
      if (x === undefined) break;
      const made = opaque && kind % 16 >= 13 ? applyOpaqueStep(kind % 16, x) : applyStep(kind % 13, x, pool, b, c);
      if (made !== undefined) pool.push(made);
    }
    const last = pool[pool.length - 1];
    const outs = r.outputs.map((k) => pickFrom(pool, k)).filter((t): t is AnyTensor => t !== undefined);
    return last === undefined ? outs : [last, ...outs];
  }, r.inputs);
}

function applyStep(kind: number, x: AnyTensor, pool: readonly AnyTensor[], b: number, c: number): AnyTensor | undefined {
  const rank = x.shape.length;
  switch (kind) {
    case 0:
    case 1: {
      // a unary elementwise primitive
      const unary = elementwisePrims.filter((p) => p.rule.arity === 1 && accepts(p.rule.accepts, x.dtype));
      const p = pickFrom(unary, b);
      if (p === undefined) return undefined;
      return bind(p.name, [x], pickFrom(paramsOf(p.name), c) as PrimParams[typeof p.name]); // paramChoices lists p's own params
    }
    case 2:
    case 3:
    case 4:
    case 5: {
      // a binary elementwise primitive (or select), the second operand broadcast to the first's shape
      const others = pool.filter((y) => y.dtype === x.dtype);
      const y = broadcastTo(pickFrom(others, c) ?? x, x.shape) ?? x;
      if (kind === 5) {
        const cond = bind("compare", [x, y], { op: pickFrom(comparisons, b) ?? "lt" });
        return bind("select", [cond, x, y], {});
      }
      const binary = elementwisePrims.filter((p) => p.rule.arity === 2 && accepts(p.rule.accepts, x.dtype));
      const p = pickFrom(binary, b);
      if (p === undefined) return undefined;
      return bind(p.name, [x, y], pickFrom(paramsOf(p.name), c) as PrimParams[typeof p.name]); // as above
    }
    case 6: {
      // broadcast: a new axis of size 1 to 3 at a random place, or a stretched 1
      const ones = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      if (ones.length > 0 && b % 2 === 0) {
        const axis = pickFrom(ones, c) ?? 0;
        return bind("broadcast", [x], { shape: x.shape.map((d, i) => (i === axis ? 2 + (b % 3) : d)), dims: x.shape.map((_, i) => i) });
      }
      if (rank >= 4) return undefined;
      const at = c % (rank + 1);
      const shape = [...x.shape.slice(0, at), 1 + (b % 3), ...x.shape.slice(at)];
      return bind("broadcast", [x], { shape, dims: x.shape.map((_, i) => (i < at ? i : i + 1)) });
    }
    case 7: {
      // transpose by a permutation drawn from b
      const axes = x.shape.map((_, i) => i);
      const perm: number[] = [];
      let k = b;
      while (axes.length > 0) {
        const i = k % axes.length;
        k = Math.floor(k / axes.length) + c;
        perm.push(...axes.splice(i, 1));
      }
      return bind("transpose", [x], { perm });
    }
    case 8: {
      // slice: per axis a start, a step (negative now and then) and a count that fit
      let k = b * 7919 + c;
      const draw = (n: number): number => {
        const v = k % Math.max(n, 1);
        k = Math.floor(k / Math.max(n, 1)) + 13;
        return v;
      };
      const starts: number[] = [];
      const steps: number[] = [];
      const sizes: number[] = [];
      for (const d of x.shape) {
        if (d === 0) {
          starts.push(0);
          steps.push(1);
          sizes.push(0);
          continue;
        }
        const step = [1, 2, -1, 3, -2][draw(5)] ?? 1;
        const start = draw(d);
        const room = step > 0 ? Math.floor((d - 1 - start) / step) + 1 : Math.floor(start / -step) + 1;
        starts.push(start);
        steps.push(step);
        sizes.push(draw(room + 1));
      }
      return bind("slice", [x], { starts, steps, sizes });
    }
    case 9: {
      // reshape: merge two neighbouring axes, split one, or add or drop a 1
      const shape = [...x.shape];
      const i = b % Math.max(rank, 1);
      const mode = c % 4;
      if (mode === 0 && rank >= 2 && i + 1 < rank) shape.splice(i, 2, (shape[i] ?? 1) * (shape[i + 1] ?? 1));
      else if (mode === 1 && rank > 0 && (shape[i] ?? 0) % 2 === 0 && (shape[i] ?? 0) > 0) shape.splice(i, 1, 2, (shape[i] ?? 2) / 2);
      else if (mode === 2 && rank < 4) shape.splice(c % (rank + 1), 0, 1);
      else if (rank > 0 && shape[i] === 1) shape.splice(i, 1);
      else shape.reverse(); // a reshape to the reversed sizes (same count)
      return bind("reshape", [x], { shape });
    }
    case 10: {
      // reduce_sum or reduce_max over a random subset of axes
      if (x.dtype === "bool") return undefined;
      const axes = x.shape.map((_, i) => i).filter((i) => ((b >> i) & 1) === 1);
      return bind(c % 2 === 0 ? "reduce_sum" : "reduce_max", [x], { axes });
    }
    case 12: {
      // a binary elementwise primitive with a scalar constant (which becomes a constant of the nest)
      if (x.dtype === "bool") return undefined;
      const binary = elementwisePrims.filter((p) => p.rule.arity === 2 && accepts(p.rule.accepts, x.dtype));
      const p = pickFrom(binary, b);
      if (p === undefined) return undefined;
      const value = pickFrom([0.5, -2, 3, 0.044715, -0, NaN, 1e-3, 7], c) ?? 1;
      const operands = c % 2 === 0 ? [x, fullLike(x, value)] : [fullLike(x, value), x];
      return bind(p.name, operands, pickFrom(paramsOf(p.name), b) as PrimParams[typeof p.name]); // as above
    }
    default: {
      // cast to another dtype
      const dtype = pickFrom(DTYPES, b) ?? "float32";
      return bind("cast", [x], { dtype });
    }
  }
}

/** A primitive that runs outside kernels, on `x`: x x^T (rank 2 and more), a gather of rows, or x joined to itself. */
function applyOpaqueStep(kind: number, x: AnyTensor): AnyTensor | undefined {
  const rank = x.shape.length;
  if (kind === 13) {
    if (rank < 2 || (x.dtype !== "float32" && x.dtype !== "float64")) return undefined;
    return bind("dot_general", [x, x], { transA: false, transB: true });
  }
  if (rank === 0) return undefined;
  if (kind === 14) {
    const rows = x.shape[0] ?? 0;
    if (rows === 0) return undefined;
    return bind("gather", [x, new Tensor([3], "int32", Int32Array.of(rows - 1, 0, rows - 1))], { axis: 0 });
  }
  return bind("concatenate", [x, x], { axis: rank - 1 });
}

/** Input tensors for `p`, from `seed`. */
function inputsFor(p: Program, seed: number): AnyTensor[] {
  return p.inputs.map((v, i) => new Tensor(v.aval.shape, v.aval.dtype, valuesFrom(seed + i * 7777, v.aval.dtype, shapeSize(v.aval.shape))));
}

// ---------------------------------------------------------------------------
// Laws 3 and 4

/**
 * Runs every loop nest of `p`'s fused plan with `kernel` and with the
 * interpreter, on inputs drawn from `seed` and the plan's constants, and
 * expects equal outputs, bit for bit. Returns how many nests `kernel` compiled.
 */
function expectNestsAgree(p: Program, kernel: (nest: LoopNest) => Kernel | undefined, semantics: OpSemantics, seed: number, what: string): number {
  let compiled = 0;
  fuseProgram(p).steps.forEach((step, s) => {
    if (step.kind !== "kernel") return;
    const run = kernel(step.nest);
    if (run === undefined) return;
    compiled++;
    const inputs = step.nest.inputs.map((input, i) => valuesFrom(seed + 31 * s + 7 * i, input.dtype, input.size));
    const fresh = (): Storage<DType>[] => step.nest.outputs.map((out) => allocate(outputDType(step.nest, out), shapeSize(outputShape(step.nest, out))));
    const [got, want] = [fresh(), fresh()];
    run([...inputs, ...got], step.constants);
    interpretLoopNest(step.nest, [...inputs, ...want], step.constants, semantics);
    got.forEach((g, j) => {
      const w = want[j] ?? [];
      if (!sameValues(g, w)) expect([...g].map(show), `${what}, nest ${s}, output ${j}:\n${printProgram(p)}`).toEqual([...w].map(show));
    });
  });
  return compiled;
}

const reduction = fc.record({
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
  dtype: fc.constantFrom<DType>("float32", "float64", "int32"),
  axesBits: fc.nat(),
  prim: fc.constantFrom<"reduce_sum" | "reduce_max">("reduce_sum", "reduce_max"),
  negate: fc.boolean(),
  seed: fc.integer(),
});

describe("fused programs", () => {
  test.prop([reduction], { numRuns: heavy ? 2000 : 200 })("a reduction over any axes, of an input or of a fused value, is what the primitive computes", (r) => {
    const axes = r.shape.map((_, i) => i).filter((i) => ((r.axesBits >> i) & 1) === 1);
    const p = traceProgram(([x]) => {
      if (x === undefined) return [];
      const y = r.negate ? bind("neg", [x], {}) : x;
      return [bind(r.prim, [y], { axes })];
    }, [{ shape: r.shape, dtype: r.dtype }]);
    const inputs = inputsFor(p, r.seed);
    expectSameTensors(compileProgram(p)(inputs), interpretProgram(p, inputs), printProgram(p));
  });

  const ran = new Map<KernelBackend, number>(backendNames.map((b) => [b, 0]));
  for (const backend of backendNames) {
    test.prop([fc.oneof(recipe, float32Recipe)], { numRuns })(`${backend} kernels compute what the loop-IR interpreter computes`, (r) => {
      const p = buildProgram(r);
      ran.set(backend, (ran.get(backend) ?? 0) + expectNestsAgree(p, backends[backend], semanticsOf[backend], r.seed, backend));
    });
  }
  test("every backend ran kernels of the random programs above", () => {
    for (const backend of backendNames) expect(ran.get(backend) ?? 0, backend).toBeGreaterThan(numRuns / 10);
  });

  test.prop([recipe], { numRuns })("the kernels compileProgram picks compute what the loop-IR interpreter computes", (r) => {
    const p = buildProgram(r);
    const inputs = inputsFor(p, r.seed);
    const generated = compileProgram(p)(inputs);
    const interpreted = compileProgram(p, { kernels: "interpreted-as-generated" })(inputs);
    expectSameTensors(generated, interpreted, printProgram(p));
  });

  test.prop([recipe], { numRuns })("compileProgram computes what interpretProgram computes, bit for bit (the reference ops where a kernel approximates)", (r) => {
    const p = buildProgram(r);
    const inputs = inputsFor(p, r.seed);
    const run = compileProgram(p, { kernels: approximates(p) ? "interpreted" : "generated" });
    expectSameTensors(run(inputs), interpretProgram(p, inputs), printProgram(p));
    // A second call reuses the plan and its buffers, and must agree again.
    expectSameTensors(run(inputs), interpretProgram(p, inputs), `${printProgram(p)}\n(second call)`);
  });
});

/** A copy of `x` that shares no storage with it. */
const copyOf = (x: AnyTensor): AnyTensor => new Tensor(x.shape, x.dtype, x.data.slice());

describe("reused buffers", () => {
  test.prop([recipe], { numRuns })("the outputs of a call are unchanged by the next call, and inputs are never written", (r) => {
    const p = buildProgram(r, true);
    const run = compileProgram(p);
    const [first, second] = [inputsFor(p, r.seed), inputsFor(p, r.seed + 1)];
    const kept = first.map(copyOf);
    const outs = run(first);
    const expected = outs.map(copyOf);
    // the next call, on other inputs, then on this call's outputs where they fit (a training loop)
    run(second);
    const fed = p.inputs.map((v, i) => outs.find((o) => o.dtype === v.aval.dtype && o.shape.join() === v.aval.shape.join()) ?? second[i] ?? first[i]);
    run(fed.filter((x): x is AnyTensor => x !== undefined));
    expectSameTensors(outs, expected, `${printProgram(p)}\n(outputs of call 1 after calls 2 and 3)`);
    expectSameTensors(first, kept, `${printProgram(p)}\n(inputs after the calls)`);
  });

  test.prop([recipe], { numRuns })("a call that donates every input computes what a call that donates none computes", (r) => {
    const p = buildProgram(r, true);
    const inputs = inputsFor(p, r.seed);
    const want = compileProgram(p)(inputs);
    const donating = compileProgram(p, { donate: p.inputs.map((_, i) => i) });
    for (let call = 0; call < 2; call++) {
      const got = donating(inputs.map(copyOf));
      expectSameTensors(got, want, `${printProgram(p)}\n(donating, call ${call + 1})`);
    }
  });
});
