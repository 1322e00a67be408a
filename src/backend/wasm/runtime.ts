/**
 * Running WebAssembly loop kernels: feature detection, one shared linear
 * memory, and the copies in and out of it.
 *
 * Every module imports the same `WebAssembly.Memory`, grown when a call needs
 * more. A call lays its buffers out one after another (16-byte aligned),
 * copies the inputs in, runs the kernel with their addresses and the
 * constants' values, and copies the outputs out. A call the module cannot
 * run exactly (a constant that float32 does not hold, a buffer of another
 * kind or size, more memory than allowed) reports so and leaves the work to
 * the caller's JavaScript kernel. Whether WebAssembly with SIMD is there at
 * all is checked once, by validating a tiny module. Left out: threads, and
 * giving memory back (the memory keeps its largest size; a NOTE below).
 */

import type { DType, Storage } from "../../core/dtype.js";
import { hostWebAssembly, type WebAssemblyApi } from "../../core/host.js";
import type { LoopNest } from "../loop-ir.js";
import { scalarOpRow, type ScalarOp } from "../scalar-ops.js";
import { generateWasmModule, KERNEL_EXPORT, MEMORY_IMPORT, WASM_MAX_BYTES, wasmLayout, wasmSupports } from "./codegen.js";
import { encodeModule, FunctionBody, SimdOp, ValType } from "./encoder.js";

const api = hostWebAssembly;

const PAGE = 65536;

/** A tiny module that uses the SIMD instructions the generator relies on. */
function probeModule(): Uint8Array {
  const body = new FunctionBody(0);
  body.f64x2(1).simd(SimdOp.f32x4_demote_f64x2_zero).simd(SimdOp.f64x2_promote_low_f32x4).i32(52).simd(SimdOp.i64x2_shl).simd(SimdOp.v128_any_true);
  return encodeModule({ imports: [], functions: [{ type: { params: [], results: [ValType.i32] }, body }] });
}

let available: boolean | undefined;

/**
 * Whether WebAssembly with SIMD runs here (checked once).
 *
 * @example
 * wasmAvailable(); // true on Node 20
 */
export function wasmAvailable(): boolean {
  if (available === undefined) {
    try {
      available = api !== undefined && api.validate(probeModule());
    } catch {
      available = false;
    }
  }
  return available;
}

type Memory = InstanceType<WebAssemblyApi["Memory"]>;
let memory: Memory | undefined;

/** The shared memory (made on first use). */
function sharedMemory(wasm: WebAssemblyApi): Memory {
  memory ??= new wasm.Memory({ initial: 1 });
  return memory;
}

/** The shared memory's buffer, grown to at least `bytes`; undefined when it cannot grow that far. */
function heapOf(bytes: number): ArrayBuffer | undefined {
  if (memory === undefined || bytes > WASM_MAX_BYTES) return undefined;
  const have = memory.buffer.byteLength;
  try {
    // NOTE: the memory keeps its largest size for the life of the process, as WebAssembly memories cannot shrink.
    if (have < bytes) memory.grow(Math.ceil((bytes - have) / PAGE));
  } catch {
    return undefined; // the engine refused the pages
  }
  return memory.buffer;
}

/** A compiled WebAssembly kernel of one nest. */
export interface WasmKernel {
  /**
   * Runs the nest on `buffers` (inputs, then outputs) and `constants`, as a
   * `Kernel` does; returns false, having written nothing, when this call
   * cannot run exactly here (see the header).
   */
  readonly run: (buffers: readonly Storage<DType>[], constants: ArrayLike<number>) => boolean;
}

/** The kernel function a module exports: addresses, then constants. */
type ExportedKernel = (...args: number[]) => void;

/**
 * The WebAssembly kernel of `nest`, or undefined when WebAssembly is not
 * available or the nest has a form the generator does not compile
 * (`wasmSupports`).
 *
 * @example
 * const kernel = wasmKernel(nest);
 * if (kernel === undefined || !kernel.run([x, out], constants)) jsKernel([x, out], constants);
 */
export function wasmKernel(nest: LoopNest): WasmKernel | undefined {
  if (!wasmAvailable() || api === undefined || !wasmSupports(nest)) return undefined;
  const binary = generateWasmModule(nest, true);
  const { sizes, offsets, bytes: end } = wasmLayout(nest);
  const imports = { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: sharedMemory(api) } };
  const instance = new api.Instance(new api.Module(binary), imports);
  const exported = instance.exports[KERNEL_EXPORT];
  if (typeof exported !== "function") throw new Error("wasm runtime: the module exports no kernel");
  const kernel = exported as ExportedKernel; // the generator declares it with i32 addresses then f32 constants, all numbers
  const nBuffers = sizes.length;
  const args = new Array<number>(nBuffers + nest.constants.length).fill(0);
  offsets.forEach((o, i) => (args[i] = o));

  const run = (buffers: readonly Storage<DType>[], constants: ArrayLike<number>): boolean => {
    if (buffers.length !== nBuffers || constants.length < nest.constants.length) return false;
    for (let i = 0; i < nBuffers; i++) {
      const b = buffers[i];
      if (!(b instanceof Float32Array) || b.length !== sizes[i]) return false;
    }
    for (let c = 0; c < nest.constants.length; c++) {
      const v = constants[c] ?? NaN;
      if (Math.fround(v) !== v && v === v) return false; // a constant float32 does not hold
      args[nBuffers + c] = v;
    }
    const heap = heapOf(end);
    if (heap === undefined) return false;
    for (let i = 0; i < nest.inputs.length; i++) {
      const b = buffers[i];
      if (b instanceof Float32Array && b.length > 0) new Float32Array(heap, offsets[i], b.length).set(b);
    }
    kernel(...args);
    for (let i = nest.inputs.length; i < nBuffers; i++) {
      const b = buffers[i];
      if (b instanceof Float32Array && b.length > 0) b.set(new Float32Array(heap, offsets[i], b.length));
    }
    return true;
  };
  return { run };
}

const scalarKernels = new Map<ScalarOp, WasmKernel | undefined>();

/**
 * What a float32 WebAssembly kernel computes for unary scalar op `op` on the
 * one float32 `x` (the lane a kernel's scalar loop computes, which its vector
 * loop computes alike): the meaning of an approximate routine in kernels, for
 * interpreting a nest as its WebAssembly kernel runs it. Undefined when
 * WebAssembly is not available or does not compile `op` alone.
 *
 * @example
 * wasmUnaryOp("exp")?.(1); // 2.7182817459106445 (within the exp row's stated bound)
 */
export function wasmUnaryOp(op: ScalarOp): ((x: number) => number) | undefined {
  if (!scalarKernels.has(op)) {
    const nest: LoopNest = {
      shape: [1],
      reducedAxes: [],
      inputs: [{ dtype: "float32", size: 1 }],
      constants: [],
      // a unary op without parameters: the generator declines any other (wasmSupports)
      nodes: [{ kind: "read", dtype: "float32", input: 0, map: { offset: 0, strides: [1] } }, { kind: "op", dtype: "float32", op, params: {}, args: [0] } as LoopNest["nodes"][number]],
      outputs: [{ node: 1 }],
    };
    scalarKernels.set(op, scalarOpRow(op).arity === 1 ? wasmKernel(nest) : undefined);
  }
  const kernel = scalarKernels.get(op);
  if (kernel === undefined) return undefined;
  const [x, y] = [new Float32Array(1), new Float32Array(1)];
  return (v) => {
    x[0] = v;
    if (!kernel.run([x, y], [])) throw new Error(`wasm runtime: the ${op} kernel declined a call`);
    return y[0] ?? NaN;
  };
}

/**
 * The exports of `binary`, a module that imports the shared memory as
 * `MEMORY_IMPORT` (and nothing else); undefined when WebAssembly with SIMD
 * is not available here.
 *
 * @example
 * const exports = instantiateWithSharedMemory(encodeModule(spec));
 * const kernel = exports?.["kernel"];
 */
export function instantiateWithSharedMemory(binary: Uint8Array): Record<string, unknown> | undefined {
  if (!wasmAvailable() || api === undefined) return undefined;
  const imports = { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: sharedMemory(api) } };
  return new api.Instance(new api.Module(binary), imports).exports;
}

/**
 * The shared memory's buffer, grown to hold at least `bytes` (the memory
 * keeps its largest size); undefined when WebAssembly is not available or
 * the memory cannot grow that far. A grown memory has a new buffer, so views
 * of an earlier one must be made again after each call.
 *
 * @example
 * const heap = sharedHeap(1024);
 * if (heap !== undefined) new Float32Array(heap, 0, 256).fill(0);
 */
export function sharedHeap(bytes: number): ArrayBuffer | undefined {
  if (!wasmAvailable() || api === undefined) return undefined;
  sharedMemory(api);
  return heapOf(bytes);
}
