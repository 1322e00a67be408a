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
 * WebAssembly lacks, is the exact routine of `tanh.ts`.
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
import { TANH_IMPORT, TanhRoutine } from "./tanh.js";

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

/** The memory every module imports. */
export const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
/** The name of the kernel function a module exports. */
export const KERNEL_EXPORT = "kernel";

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
