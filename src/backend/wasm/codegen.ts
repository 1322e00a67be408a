/**
 * The WebAssembly code generator: one module per float32 loop nest, the
 * twin of the JavaScript generator (`../js-codegen.ts`) for the nests it covers.
 *
 * The nest is simplified as the JavaScript generator simplifies it (axes of
 * size 1 dropped, neighbouring axes merged where every access steps through
 * them as one), then printed as nested loops over byte pointers into one
 * linear memory: each access keeps a pointer per loop that moves it, and each
 * node is computed in the outermost loop whose index it depends on. When
 * every access of the innermost loop is contiguous or does not move in it,
 * that loop runs four elements at a time in f32x4 SIMD, followed by a scalar
 * tail for the rest (and the scalar loop is the whole loop otherwise).
 *
 * Results are bit for bit those of the loop-IR interpreter: with float32
 * operands, f32 `add`, `sub`, `mul`, `div` and `sqrt` round exactly as the
 * float64 operation rounded to float32 does (a double has more than twice
 * float32's precision plus two bits), and f32 `min`, `max` and `neg` treat
 * NaN and signed zeros as `Math.min`, `Math.max` and `-x` do. `tanh`, which
 * WebAssembly lacks, follows `../fast-math.ts`: an approximation `a` in float64
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
 * The module is built from integers that `wasmSupports` checked (sizes,
 * strides, offsets, indices) and opcodes from the fixed tables below; buffer
 * addresses arrive as i32 parameters and constants' values as f32
 * parameters when the kernel runs. Left out: other dtypes, reductions, and
 * every scalar op whose row has no WebAssembly lowering (those nests stay on the
 * JavaScript generator).
 */

import { shapeSize, stridesOf } from "../../core/shape.js";
import { accessRange, type IndexMap, type LoopNest } from "../loop-ir.js";
import { isScalarOp, scalarOpRow, type ScalarOp, type WasmLowering } from "../scalar-ops.js";
import { ALIGN_4, encodeModule, FunctionBody, Op, SimdOp, ValType, type FuncType } from "./encoder.js";

/** The most elements a buffer of a WebAssembly kernel may have (its bytes stay below 2^30). */
export const WASM_MAX_ELEMENTS = 2 ** 28;
/** The most bytes the buffers of one WebAssembly kernel may take together. */
export const WASM_MAX_BYTES = 2 ** 31;

/** Where each buffer (inputs, then outputs) of `nest` lies in memory, 16-byte aligned, and the bytes they take. */
export function wasmLayout(nest: LoopNest): { readonly sizes: readonly number[]; readonly offsets: readonly number[]; readonly bytes: number } {
  const total = shapeSize(nest.shape);
  const sizes = [...nest.inputs.map((i) => i.size), ...nest.outputs.map(() => total)];
  const offsets: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    offsets.push(bytes);
    bytes = Math.ceil((bytes + size * 4) / 16) * 16;
  }
  return { sizes, offsets, bytes };
}

/** The WebAssembly form of scalar op `op`, or undefined for "none". */
function wasmOp(op: ScalarOp): Exclude<WasmLowering, "none"> | undefined {
  const lowering = scalarOpRow(op).wasm;
  return lowering === "none" ? undefined : lowering;
}

const isIndex = (n: unknown, size: number): boolean => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) < size; // a safe integer is a number

/**
 * Whether the WebAssembly generator compiles `nest`: float32 throughout
 * (inputs, constants, every node and output), only scalar ops with a WebAssembly lowering,
 * no reductions, buffers of at most `WASM_MAX_ELEMENTS` and `WASM_MAX_BYTES`
 * together, and every index map a list of safe integers that stays inside
 * its buffer.
 *
 * @example
 * wasmSupports(nestOf(gelu(add(mul(x, a), b)))); // true
 */
export function wasmSupports(nest: LoopNest): boolean {
  const rank = nest.shape.length;
  if (!nest.shape.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= WASM_MAX_ELEMENTS)) return false;
  const total = shapeSize(nest.shape);
  if (total > WASM_MAX_ELEMENTS || nest.reducedAxes.length > 0 || nest.outputs.length === 0) return false;
  if (!nest.inputs.every((i) => i.dtype === "float32" && Number.isSafeInteger(i.size) && i.size >= 0 && i.size <= WASM_MAX_ELEMENTS)) return false;
  if (!nest.constants.every((c) => c === "float32")) return false;
  if (nest.inputs.length + nest.outputs.length + nest.constants.length > 200 || nest.nodes.length > 2000) return false;
  const nodesOk = nest.nodes.every((node, n) => {
    if (node.dtype !== "float32") return false;
    switch (node.kind) {
      case "read": {
        const input = nest.inputs[node.input];
        if (!isIndex(node.input, nest.inputs.length) || input === undefined) return false;
        const { offset, strides } = node.map;
        if (strides.length !== rank || ![offset, ...strides].every((s) => Number.isSafeInteger(s) && Math.abs(s) <= WASM_MAX_ELEMENTS)) return false;
        if (total === 0) return true;
        const [lo, hi] = accessRange(node.map, nest.shape);
        return lo >= 0 && hi < input.size;
      }
      case "const":
        return isIndex(node.index, nest.constants.length);
      case "op": {
        // NOTE: the op name may come from a parsed key, so it is checked to be a row of the table.
        if (!isScalarOp(node.op)) return false;
        const op = wasmOp(node.op);
        if (op === undefined || node.args.length !== scalarOpRow(node.op).arity || !node.args.every((a) => isIndex(a, n))) return false;
        // every node is float32, so a cast is from float32 to float32: the identity
        return node.args.every((a) => nest.nodes[a]?.dtype === "float32");
      }
    }
    return false;
  });
  return nodesOk && nest.outputs.every((out) => out.reduce === undefined && isIndex(out.node, nest.nodes.length)) && wasmLayout(nest).bytes <= WASM_MAX_BYTES;
}

/** One read or write after coalescing: its buffer (a parameter), an offset and a stride per loop. */
interface Access {
  readonly buffer: number;
  readonly offset: number;
  readonly strides: number[];
}

/**
 * Drops axes of size 1 and merges axis `d` into `d + 1` wherever every access
 * has `stride[d] = stride[d + 1] * size[d + 1]` (as `../js-codegen.ts` does, for a
 * nest without reductions).
 */
function coalesce(shape: readonly number[], maps: readonly (IndexMap & { readonly buffer: number })[]): { sizes: number[]; accesses: Access[] } {
  const sizes: number[] = [];
  const accesses: Access[] = maps.map((m) => ({ buffer: m.buffer, offset: m.offset, strides: [] }));
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] ?? 1;
    if (size === 1) continue;
    const inner = sizes[0];
    if (inner !== undefined && maps.every((m, a) => (m.strides[d] ?? 0) === (accesses[a]?.strides[0] ?? 0) * inner)) {
      sizes[0] = inner * size;
    } else {
      sizes.unshift(size);
      maps.forEach((m, a) => accesses[a]?.strides.unshift(m.strides[d] ?? 0));
    }
  }
  return { sizes, accesses };
}

/** The imported function every module declares first: `Math.tanh`, for the lanes the fast path leaves. */
export const TANH_IMPORT = { module: "math", name: "tanh", type: { params: [ValType.f64], results: [ValType.f64] } } as const;
/** The memory every module imports. */
export const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
/** The name of the kernel function a module exports. */
export const KERNEL_EXPORT = "kernel";

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
 * The module of `nest` (which `wasmSupports`): it imports `math.tanh` and
 * `env.memory` and exports `kernel(addresses..., constants...)`, which takes the
 * byte address of every input, then every output, then each constant's value.
 * `simd` allows the f32x4 inner loop.
 */
export function generateWasmModule(nest: LoopNest, simd: boolean): Uint8Array {
  if (!wasmSupports(nest)) throw new Error("wasm codegen: the nest has a form this generator does not compile");
  const nIn = nest.inputs.length;
  const nOut = nest.outputs.length;
  const params: ValType[] = [...new Array<ValType>(nIn + nOut).fill(ValType.i32), ...new Array<ValType>(nest.constants.length).fill(ValType.f32)];
  const f = new FunctionBody(params.length);
  const type: FuncType = { params, results: [] };
  const module = (): Uint8Array =>
    encodeModule({ imports: [TANH_IMPORT], memory: { ...MEMORY_IMPORT, minPages: 0 }, functions: [{ type, body: f, export: KERNEL_EXPORT }] });
  if (shapeSize(nest.shape) === 0) return module(); // no index to visit

  const reads = nest.nodes.flatMap((node, n) => (node.kind === "read" ? [{ n, buffer: node.input, map: node.map }] : []));
  const readAccess = new Map(reads.map((r, a) => [r.n, a]));
  const outMap: IndexMap = { offset: 0, strides: stridesOf(nest.shape) };
  const { sizes, accesses } = coalesce(nest.shape, [...reads.map((r) => ({ ...r.map, buffer: r.buffer })), ...nest.outputs.map((_, j) => ({ ...outMap, buffer: nIn + j }))]);
  const depth = sizes.length;
  const inner = depth - 1;
  // deep[a]: one past the last loop that moves access a; pointer[a][d] its byte address inside loops 0..d-1.
  const deep = accesses.map((a) => a.strides.reduce((last, s, d) => (s !== 0 ? d + 1 : last), 0));
  const pointer = accesses.map((_, a) => Array.from({ length: (deep[a] ?? 0) + 1 }, () => f.local(ValType.i32)));
  const addressOf = (a: number): number => pointer[a]?.[deep[a] ?? 0] ?? -1;
  const level: number[] = [];
  nest.nodes.forEach((node, n) => {
    if (node.kind === "read") level[n] = deep[readAccess.get(n) ?? -1] ?? 0;
    else if (node.kind === "const") level[n] = 0;
    else level[n] = Math.max(0, ...node.args.map((a) => level[a] ?? 0));
  });
  const vectorized = simd && depth > 0 && accesses.every((a) => (a.strides[inner] ?? 0) === 0 || a.strides[inner] === 1) && (sizes[inner] ?? 0) >= 4;
  const scalarOf = nest.nodes.map(() => f.local(ValType.f32));
  const vectorOf = nest.nodes.map(() => (vectorized ? f.local(ValType.v128) : -1));
  const hasTanh = (at: number): boolean => nest.nodes.some((node, n) => node.kind === "op" && wasmOp(node.op) === "tanh" && level[n] === at);
  const tanh = new TanhRoutine(f, vectorized && hasTanh(depth));

  /** Computes node `n` into its f32 local. */
  const scalarNode = (n: number): void => {
    const node = nest.nodes[n];
    const out = scalarOf[n] ?? -1;
    if (node === undefined) return;
    if (node.kind === "read") {
      f.get(addressOf(readAccess.get(n) ?? -1)).op(Op.f32_load, FunctionBody.memarg(ALIGN_4)).set(out);
      return;
    }
    if (node.kind === "const") {
      f.get(nIn + nOut + node.index).set(out);
      return;
    }
    const op = wasmOp(node.op);
    const args = node.args.map((a) => scalarOf[a] ?? -1);
    if (op === "tanh") tanh.scalar(args[0] ?? -1, out);
    else if (op === "identity") f.get(args[0] ?? -1).set(out);
    else if (op !== undefined) {
      args.forEach((a) => f.get(a));
      f.op(op.scalar).set(out);
    }
  };
  /** Computes node `n` (of the innermost loop) into its v128 local, four elements at once. */
  const vectorNode = (n: number): void => {
    const node = nest.nodes[n];
    const out = vectorOf[n] ?? -1;
    if (node === undefined || node.kind === "const") return;
    if (node.kind === "read") {
      f.get(addressOf(readAccess.get(n) ?? -1)).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_4)).set(out);
      return;
    }
    const op = wasmOp(node.op);
    const args = node.args.map((a) => vectorOf[a] ?? -1);
    if (op === "tanh") tanh.vector(args[0] ?? -1, out);
    else if (op === "identity") f.get(args[0] ?? -1).set(out);
    else if (op !== undefined) {
      args.forEach((a) => f.get(a));
      f.simd(op.vector).set(out);
    }
  };
  /** The nodes computed at loop level `at`, in the scalar form (and splat for the vector loop when it runs). */
  const hoisted = (at: number): void => {
    nest.nodes.forEach((_, n) => {
      if (level[n] !== at) return;
      scalarNode(n);
      if (vectorized) f.get(scalarOf[n] ?? -1).simd(SimdOp.f32x4_splat).set(vectorOf[n] ?? -1);
    });
  };
  /** Moves every pointer that loop `d` moves by `step` elements times its stride. */
  const advance = (d: number, step: number): void => {
    accesses.forEach((a, k) => {
      const stride = a.strides[d] ?? 0;
      const p = pointer[k]?.[d + 1];
      if (stride === 0 || p === undefined) return;
      f.get(p).i32(stride * step * 4).op(Op.i32_add).set(p);
    });
  };
  /** `count` (at least 1) iterations of `body`, counted in a fresh local. */
  const repeat = (count: number, body: () => void): void => {
    const i = f.local(ValType.i32);
    f.i32(0).set(i).loop();
    body();
    f.get(i).i32(1).op(Op.i32_add).tee(i).i32(count).op(Op.i32_ne).brIf(0).end();
  };
  const storeOutputs = (vector: boolean): void => {
    nest.outputs.forEach((out, j) => {
      f.get(addressOf(reads.length + j));
      if (vector) f.get(vectorOf[out.node] ?? -1).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_4));
      else f.get(scalarOf[out.node] ?? -1).op(Op.f32_store, FunctionBody.memarg(ALIGN_4));
    });
  };
  /** One iteration of the innermost loop: four elements (`vector`) or one. */
  const innermost = (vector: boolean): void => {
    nest.nodes.forEach((_, n) => {
      if (level[n] !== depth) return;
      if (vector) vectorNode(n);
      else scalarNode(n);
    });
    storeOutputs(vector);
  };

  const emitLoop = (d: number): void => {
    accesses.forEach((_, k) => {
      const [from, to] = [pointer[k]?.[d], pointer[k]?.[d + 1]];
      if (from !== undefined && to !== undefined) f.get(from).set(to);
    });
    const size = sizes[d] ?? 0;
    if (d < inner) {
      repeat(size, () => {
        hoisted(d + 1);
        emitLoop(d + 1);
        advance(d, 1);
      });
      return;
    }
    const tail = vectorized ? size % 4 : size;
    if (vectorized) {
      repeat(Math.floor(size / 4), () => {
        innermost(true);
        advance(d, 4);
      });
    }
    if (tail > 0) {
      repeat(tail, () => {
        innermost(false);
        advance(d, 1);
      });
    }
  };

  tanh.setUp();
  accesses.forEach((a, k) => {
    f.get(a.buffer).i32(a.offset * 4).op(Op.i32_add).set(pointer[k]?.[0] ?? -1);
  });
  hoisted(0);
  if (depth === 0) storeOutputs(false);
  else emitLoop(0);
  return module();
}

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
class TanhRoutine {
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
