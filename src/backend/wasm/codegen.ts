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
 * that loop runs four elements at a time in f32x4 SIMD, followed by a tail
 * of one element at a time for the rest (and the one-element loop is the
 * whole loop otherwise). Every node lives in a v128 local, and the tail runs
 * the same f32x4 instructions on one element splat into every lane, so an
 * element's result does not depend on where it falls.
 *
 * Results are bit for bit those of the loop-IR interpreter for every op but
 * the math routines: with float32 operands, f32x4 `add`, `sub`, `mul`, `div`
 * and `sqrt` round exactly as the float64 operation rounded to float32 does
 * (a double has more than twice float32's precision plus two bits), `min`,
 * `max` and `neg` treat NaN and signed zeros as `Math.min`, `Math.max` and
 * `-x` do, comparisons give lane masks (NaN compares unequal) that `select`
 * picks with. exp, log, log1p, tanh, erf, erfc and pow, which WebAssembly lacks, are the
 * routines of `vector-math.ts`, within the bounds their rows state (the
 * interpreter's `"webassembly"` semantics computes them as the kernel does).
 *
 * The module is built from integers that `wasmSupports` checked (sizes,
 * strides, offsets, indices) and opcodes from the fixed tables below; buffer
 * addresses arrive as i32 parameters and constants' values as f32
 * parameters when the kernel runs. Sum and max reductions accumulate in
 * float64 in memory, in the interpreter's order (see `generateWasmModule`).
 * Left out: other dtypes (bool only between a comparison and a select), and
 * every scalar op whose row has no WebAssembly lowering (those nests stay on
 * the JavaScript generator).
 */

import { shapeSize, stridesOf } from "../../core/shape.js";
import { accessRange, emptyReduction, outputMap, outputShape, REDUCE_START, type IndexMap, type LoopNest, type OpNode, type ReduceOp } from "../loop-ir.js";
import { isScalarOp, scalarOpRow, type Comparison, type ScalarOp, type WasmLowering } from "../scalar-ops.js";
import { ALIGN_4, ALIGN_8, encodeModule, FunctionBody, Op, SimdOp, ValType, type FuncType } from "./encoder.js";
import { MEMORY_LIMITS } from "./memory-type.js";
import { pushPromoted, VectorMath } from "./vector-math.js";

/** The most elements a buffer of a WebAssembly kernel may have (its bytes stay below 2^30). */
export const WASM_MAX_ELEMENTS = 2 ** 28;
/** The most bytes the buffers of one WebAssembly kernel may take together. */
export const WASM_MAX_BYTES = 2 ** 31;

/**
 * Where each buffer (inputs, then outputs) of `nest` lies in memory, 16-byte
 * aligned, then the float64 accumulators of its reducing outputs
 * (`accumulators`, one per element of each, in output order), and the bytes
 * they take.
 */
export function wasmLayout(nest: LoopNest): { readonly sizes: readonly number[]; readonly offsets: readonly number[]; readonly accumulators: readonly number[]; readonly bytes: number } {
  const sizes = [...nest.inputs.map((i) => i.size), ...nest.outputs.map((out) => shapeSize(outputShape(nest, out)))];
  const offsets: number[] = [];
  const accumulators: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    offsets.push(bytes);
    bytes = Math.ceil((bytes + size * 4) / 16) * 16;
  }
  nest.outputs.forEach((out, j) => {
    if (out.reduce === undefined) return;
    accumulators.push(bytes);
    bytes = Math.ceil((bytes + (sizes[nest.inputs.length + j] ?? 0) * 8) / 16) * 16;
  });
  return { sizes, offsets, accumulators, bytes };
}

/** The WebAssembly form of scalar op `op`, or undefined for "none". */
function wasmOp(op: ScalarOp): Exclude<WasmLowering, "none"> | undefined {
  const lowering = scalarOpRow(op).wasm;
  return lowering === "none" ? undefined : lowering;
}

/** The f32x4 comparison of each `compare`: all ones in a lane where it holds (NaN: only `ne`), as JavaScript's operators. */
const COMPARE_SIMD: Readonly<Record<Comparison, SimdOp>> = {
  lt: SimdOp.f32x4_lt,
  le: SimdOp.f32x4_le,
  gt: SimdOp.f32x4_gt,
  ge: SimdOp.f32x4_ge,
  eq: SimdOp.f32x4_eq,
  ne: SimdOp.f32x4_ne,
};

/** The reductions the generator computes (a reduce op may come from a parsed key). */
const REDUCE_OPS: ReadonlySet<string> = new Set<ReduceOp>(["sum", "max"]);

const isIndex = (n: unknown, size: number): boolean => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) < size; // a safe integer is a number

/** Whether op node `node` (the `n`th) is one the generator computes: float32 values, bool only between a comparison and a select. */
function opSupported(nest: LoopNest, node: OpNode, n: number): boolean {
  // NOTE: the op name may come from a parsed key, so it is checked to be a row of the table.
  if (!isScalarOp(node.op)) return false;
  const op = wasmOp(node.op);
  if (op === undefined || node.args.length !== scalarOpRow(node.op).arity || !node.args.every((a) => isIndex(a, n))) return false;
  const dtypes = node.args.map((a) => nest.nodes[a]?.dtype);
  const floats = (ds: readonly (string | undefined)[]): boolean => ds.every((d) => d === "float32");
  if (op === "compare") {
    const params: unknown = node.params;
    const comparison = typeof params === "object" && params !== null && "op" in params ? params.op : undefined;
    return node.dtype === "bool" && floats(dtypes) && typeof comparison === "string" && Object.hasOwn(COMPARE_SIMD, comparison);
  }
  if (op === "select") return node.dtype === "float32" && dtypes[0] === "bool" && floats(dtypes.slice(1));
  // every node is float32 here, so a cast is from float32 to float32: the identity
  return node.dtype === "float32" && floats(dtypes);
}

/**
 * Whether the WebAssembly generator compiles `nest`: float32 throughout
 * (inputs, constants, outputs and every node but comparisons, whose bool
 * values only feed selects), only scalar ops with a WebAssembly lowering,
 * sum and max reductions, buffers of at most `WASM_MAX_ELEMENTS` and `WASM_MAX_BYTES`
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
  if (total > WASM_MAX_ELEMENTS || nest.outputs.length === 0) return false;
  if (!nest.reducedAxes.every((a, i) => isIndex(a, rank) && (i === 0 || a > (nest.reducedAxes[i - 1] ?? rank)))) return false;
  if (!nest.inputs.every((i) => i.dtype === "float32" && Number.isSafeInteger(i.size) && i.size >= 0 && i.size <= WASM_MAX_ELEMENTS)) return false;
  if (!nest.constants.every((c) => c === "float32")) return false;
  if (nest.inputs.length + nest.outputs.length + nest.constants.length > 200 || nest.nodes.length > 2000) return false;
  const nodesOk = nest.nodes.every((node, n) => {
    switch (node.kind) {
      case "read": {
        const input = nest.inputs[node.input];
        if (node.dtype !== "float32" || !isIndex(node.input, nest.inputs.length) || input === undefined) return false;
        const { offset, strides } = node.map;
        if (strides.length !== rank || ![offset, ...strides].every((s) => Number.isSafeInteger(s) && Math.abs(s) <= WASM_MAX_ELEMENTS)) return false;
        if (total === 0) return true;
        const [lo, hi] = accessRange(node.map, nest.shape);
        return lo >= 0 && hi < input.size;
      }
      case "const":
        return node.dtype === "float32" && isIndex(node.index, nest.constants.length);
      case "op":
        return opSupported(nest, node, n);
    }
    return false;
  });
  const outputsOk = nest.outputs.every((out) => (out.reduce === undefined || REDUCE_OPS.has(out.reduce)) && isIndex(out.node, nest.nodes.length) && nest.nodes[out.node]?.dtype === "float32");
  return nodesOk && outputsOk && wasmLayout(nest).bytes <= WASM_MAX_BYTES;
}

/** One read or write after coalescing: its buffer (a parameter), an offset and a stride per loop, in elements. */
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

/** The memory every module imports, with the limits of its type (shared where the host allows: memory-type.ts). */
export const MEMORY_IMPORT = { module: "env", name: "memory", ...MEMORY_LIMITS } as const;
/** The name of the kernel function a module exports. */
export const KERNEL_EXPORT = "kernel";

/** Which ends of its reductions a kernel runs: setting the accumulators up (`start`), rounding them into the outputs (`finish`). */
export interface ReductionPhases {
  readonly start: boolean;
  readonly finish: boolean;
}

/** A kernel that runs its reductions whole. */
export const WHOLE_REDUCTION: ReductionPhases = { start: true, finish: true };

/**
 * The module of `nest` (which `wasmSupports`): it imports `env.memory` and
 * exports `kernel(addresses..., constants..., accumulators...)`, which takes
 * the byte address of every input, then every output, then each constant's
 * value, then the address of each reducing output's float64 accumulators
 * (`wasmLayout`). `simd` allows the four-element inner loop. With
 * `constantBits` the constants arrive as the int32 bits of their float32
 * values instead (for the worker pool, whose calls carry integers only); the
 * kernel computes the same bits either way.
 *
 * A reducing output accumulates as the interpreter does, in float64, one
 * accumulator per output element, in the nest's row-major order (the four
 * lanes of a vector step one after the other into one accumulator when the
 * inner loop reduces; into four neighbouring accumulators, two at a time in
 * f64x2 lanes, when it does not), and is rounded once at the end: its result
 * is the interpreter's, bit for bit, on every machine. `phases` splits a
 * reduction over several calls (a nest run in blocks of rows that reduce its
 * outermost axis, `runtime.ts`): only a call with `start` sets the
 * accumulators to their starting value, and only a call with `finish` rounds
 * them into the output; the calls in between keep accumulating in the same
 * order, so the result has the same bits as one call over every row.
 */
export function generateWasmModule(nest: LoopNest, simd: boolean, constantBits = false, phases: ReductionPhases = WHOLE_REDUCTION): Uint8Array {
  if (!wasmSupports(nest)) throw new Error("wasm codegen: the nest has a form this generator does not compile");
  const nIn = nest.inputs.length;
  const nOut = nest.outputs.length;
  const nConst = nest.constants.length;
  // the parameter of each reducing output's accumulators
  const reducing = nest.outputs.flatMap((out, j) => (out.reduce === undefined ? [] : [{ j, op: out.reduce, size: shapeSize(outputShape(nest, out)) }]));
  const accumulatorOf = new Map(reducing.map((r, k) => [r.j, nIn + nOut + nConst + k]));
  const params: ValType[] = [...new Array<ValType>(nIn + nOut).fill(ValType.i32), ...new Array<ValType>(nConst).fill(constantBits ? ValType.i32 : ValType.f32), ...reducing.map(() => ValType.i32)];
  const f = new FunctionBody(params.length);
  const type: FuncType = { params, results: [] };
  const module = (): Uint8Array => encodeModule({ imports: [], memory: { ...MEMORY_IMPORT, minPages: 0 }, functions: [{ type, body: f, export: KERNEL_EXPORT }] });
  /** `count` (at least 1) iterations of `body`, counted in a fresh local. */
  const repeat = (count: number, body: () => void): void => {
    const i = f.local(ValType.i32);
    f.i32(0).set(i).loop();
    body();
    f.get(i).i32(1).op(Op.i32_add).tee(i).i32(count).op(Op.i32_ne).brIf(0).end();
  };
  /** For each reducing output, `body` at each of its elements, with locals that hold the element's output and accumulator addresses. */
  const overReduced = (body: (r: (typeof reducing)[number], out: number, acc: number) => void): void => {
    for (const r of reducing) {
      if (r.size === 0) continue;
      const [out, acc] = [f.local(ValType.i32), f.local(ValType.i32)];
      f.get(nIn + r.j).set(out).get(accumulatorOf.get(r.j) ?? -1).set(acc);
      repeat(r.size, () => {
        body(r, out, acc);
        f.get(out).i32(4).op(Op.i32_add).set(out).get(acc).i32(8).op(Op.i32_add).set(acc);
      });
    }
  };
  const count = shapeSize(nest.reducedAxes.map((a) => nest.shape[a] ?? 1));
  /** Each reduced output element: its accumulator rounded to float32, or the empty reduction's value when no element reduces into it. */
  const finishReductions = (): void =>
    overReduced((r, out, acc) => {
      f.get(out);
      if (count === 0) f.f64(emptyReduction(r.op, "float32")).op(Op.f32_demote_f64);
      else f.get(acc).op(Op.f64_load, FunctionBody.memarg(ALIGN_8)).op(Op.f32_demote_f64);
      f.op(Op.f32_store, FunctionBody.memarg(ALIGN_4));
    });
  if (shapeSize(nest.shape) === 0) {
    finishReductions(); // no index to visit
    return module();
  }
  if (phases.start) overReduced((r, _, acc) => f.get(acc).f64(REDUCE_START[r.op]).op(Op.f64_store, FunctionBody.memarg(ALIGN_8)));

  const reads = nest.nodes.flatMap((node, n) => (node.kind === "read" ? [{ n, buffer: node.input, map: node.map }] : []));
  const readAccess = new Map(reads.map((r, a) => [r.n, a]));
  const outMap: IndexMap = { offset: 0, strides: stridesOf(nest.shape) };
  const outputAccesses = nest.outputs.map((out, j) => (out.reduce === undefined ? { ...outMap, buffer: nIn + j } : { ...outputMap(nest, out), buffer: accumulatorOf.get(j) ?? -1 }));
  const { sizes, accesses } = coalesce(nest.shape, [...reads.map((r) => ({ ...r.map, buffer: r.buffer })), ...outputAccesses]);
  // the bytes of an element of each access: float64 accumulators, float32 buffers
  const width = accesses.map((_, a) => (a >= reads.length && nest.outputs[a - reads.length]?.reduce !== undefined ? 8 : 4));
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
  // Every node lives in a v128 local: four elements in the vector loop, one (splat into every lane) elsewhere.
  const valueOf = nest.nodes.map(() => f.local(ValType.v128));
  const routines = nest.nodes.flatMap((node) => {
    const op = node.kind === "op" ? wasmOp(node.op) : undefined;
    return typeof op === "object" && "routine" in op ? [op.routine] : [];
  });
  const math = new VectorMath(f, routines);

  /** Computes node `n` into its v128 local: four consecutive elements when `wide`, else one in every lane. */
  const emitNode = (n: number, wide: boolean): void => {
    const node = nest.nodes[n];
    const out = valueOf[n] ?? -1;
    if (node === undefined) return;
    if (node.kind === "read") {
      f.get(addressOf(readAccess.get(n) ?? -1)).simd(wide ? SimdOp.v128_load : SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4)).set(out);
      return;
    }
    if (node.kind === "const") {
      // a float32 splat, or the same bits splat as an int32
      f.get(nIn + nOut + node.index).simd(constantBits ? SimdOp.i32x4_splat : SimdOp.f32x4_splat).set(out);
      return;
    }
    const op = wasmOp(node.op);
    const args = node.args.map((a) => valueOf[a] ?? -1);
    if (op === undefined) return;
    if (op === "identity") f.get(args[0] ?? -1).set(out);
    else if (op === "compare") {
      const comparison = node.op === "compare" ? COMPARE_SIMD[node.params.op] : SimdOp.f32x4_eq;
      f.get(args[0] ?? -1).get(args[1] ?? -1).simd(comparison).set(out);
    } else if (op === "select") {
      // select(cond, x, y) = (x & mask) | (y & ~mask)
      f.get(args[1] ?? -1).get(args[2] ?? -1).get(args[0] ?? -1).simd(SimdOp.v128_bitselect).set(out);
    } else if ("routine" in op) math.emit(op.routine, args[0] ?? -1, out, args[1]);
    else {
      args.forEach((a) => f.get(a));
      f.simd(op.vector).set(out);
    }
  };
  /** The nodes computed at loop level `at` (one element each). */
  const hoisted = (at: number): void => {
    nest.nodes.forEach((_, n) => {
      if (level[n] === at) emitNode(n, false);
    });
  };
  /** Moves every pointer that loop `d` moves by `step` elements times its stride. */
  const advance = (d: number, step: number): void => {
    accesses.forEach((a, k) => {
      const stride = a.strides[d] ?? 0;
      const p = pointer[k]?.[d + 1];
      if (stride === 0 || p === undefined) return;
      f.get(p).i32(stride * step * (width[k] ?? 4)).op(Op.i32_add).set(p);
    });
  };
  const [v64, acc64] = reducing.length > 0 ? [f.local(ValType.f64), f.local(ValType.f64)] : [-1, -1];
  // An output that the innermost loop reduces (its accumulator does not move there) accumulates in a local of its own across that loop.
  const held = new Map(
    nest.outputs.flatMap((out, j) => (out.reduce !== undefined && depth > 0 && (accesses[reads.length + j]?.strides[inner] ?? 0) === 0 ? [[j, f.local(ValType.f64)] as const] : [])),
  );
  /** Pushes `acc` with lane `lane` of `value` accumulated: acc + v, or v where v > acc or v is NaN (`accumulate`). */
  const accumulateLane = (op: ReduceOp, pushAcc: () => void, value: number, lane: number): void => {
    f.get(value).simd(SimdOp.f32x4_extract_lane, FunctionBody.lane(lane)).op(Op.f64_promote_f32).set(v64);
    pushAcc();
    f.set(acc64);
    if (op === "sum") f.get(acc64).get(v64).op(Op.f64_add);
    else f.get(v64).get(acc64).get(v64).get(acc64).op(Op.f64_gt).get(v64).get(v64).op(Op.f64_ne).op(Op.i32_or).op(Op.select);
  };
  const [pair, accPair] = reducing.length > 0 && vectorized ? [f.local(ValType.v128), f.local(ValType.v128)] : [-1, -1];
  /**
   * Accumulates the four lanes of `value` into four neighbouring float64 accumulators from `address`, two at a
   * time in f64x2 lanes: each accumulator takes its own element, as `accumulateLane` would.
   */
  const accumulateFour = (op: ReduceOp, address: number, value: number): void => {
    for (const half of [0, 1] as const) {
      const at = FunctionBody.memarg(ALIGN_8, 16 * half);
      f.get(address);
      pushPromoted(f, value, half);
      f.set(pair);
      f.get(address).simd(SimdOp.v128_load, at).set(accPair);
      // sum: acc + v; max: v where v > acc or v is NaN, else acc
      if (op === "sum") f.get(accPair).get(pair).simd(SimdOp.f64x2_add);
      else f.get(pair).get(accPair).get(pair).get(accPair).simd(SimdOp.f64x2_gt).get(pair).get(pair).simd(SimdOp.f64x2_ne).simd(SimdOp.v128_or).simd(SimdOp.v128_bitselect);
      f.simd(SimdOp.v128_store, at);
    }
  };
  /** Stores each output (four elements when `wide`, else one), or accumulates it. */
  const storeOutputs = (wide: boolean): void => {
    nest.outputs.forEach((out, j) => {
      const a = reads.length + j;
      const value = valueOf[out.node] ?? -1;
      if (out.reduce !== undefined) {
        // four lanes in index order: into one accumulator when the inner loop reduces, else into four neighbours
        const local = held.get(j);
        if (wide && local === undefined) {
          accumulateFour(out.reduce, addressOf(a), value);
          return;
        }
        const lanes = wide ? 4 : 1;
        for (let lane = 0; lane < lanes; lane++) {
          if (local !== undefined) {
            accumulateLane(out.reduce, () => f.get(local), value, lane);
            f.set(local);
          } else {
            const offset = FunctionBody.memarg(ALIGN_8, wide ? lane * 8 : 0);
            f.get(addressOf(a));
            accumulateLane(out.reduce, () => f.get(addressOf(a)).op(Op.f64_load, offset), value, lane);
            f.op(Op.f64_store, offset);
          }
        }
        return;
      }
      f.get(addressOf(a)).get(value);
      if (wide) f.simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_4));
      else f.simd(SimdOp.f32x4_extract_lane, FunctionBody.lane(0)).op(Op.f32_store, FunctionBody.memarg(ALIGN_4));
    });
  };
  /** One iteration of the innermost loop: four elements (`wide`) or one. */
  const innermost = (wide: boolean): void => {
    nest.nodes.forEach((_, n) => {
      if (level[n] === depth) emitNode(n, wide);
    });
    storeOutputs(wide);
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
    // the accumulators held in locals across the innermost loop
    const heldAt = [...held].map(([j, local]) => ({ address: addressOf(reads.length + j), local }));
    for (const { address, local } of heldAt) f.get(address).op(Op.f64_load, FunctionBody.memarg(ALIGN_8)).set(local);
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
    for (const { address, local } of heldAt) f.get(address).get(local).op(Op.f64_store, FunctionBody.memarg(ALIGN_8));
  };

  math.setUp();
  accesses.forEach((a, k) => {
    f.get(a.buffer).i32(a.offset * (width[k] ?? 4)).op(Op.i32_add).set(pointer[k]?.[0] ?? -1);
  });
  hoisted(0);
  if (depth === 0) storeOutputs(false);
  else emitLoop(0);
  if (phases.finish) finishReductions();
  return module();
}
