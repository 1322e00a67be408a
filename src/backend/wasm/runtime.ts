/**
 * Running WebAssembly loop kernels: feature detection, the kernels' memory,
 * and the copies in and out of it.
 *
 * Every kernel module (the loops made here, matmul, convolution, pooling)
 * imports one `WebAssembly.Memory` (`kernel-memory.ts`; `kernelMemory`,
 * `sharedHeap`), where a compiled program's intermediate buffers live too.
 * A call reads and writes such a buffer where it is; it lays the other
 * buffers out one after another (16-byte aligned) from address 0 (its
 * working memory), copies those inputs in, runs the kernel with the
 * addresses and the constants' values, and copies those outputs out. A
 * large nest with buffers to copy runs in blocks of its outermost rows of
 * about `BLOCK_BYTES` each (copy in, loop, copy out), so that a block stays
 * in cache from its copy in to its copy out instead of every buffer passing
 * through main memory three times; a reduction over the outermost axis
 * carries its accumulators from block to block. A call the module cannot
 * run exactly (a constant that float32 does not hold, a buffer of another
 * kind or size, more memory than allowed) reports so and leaves the work to
 * the caller's JavaScript kernel. Whether WebAssembly with SIMD is there at
 * all is checked once, by validating a tiny module. The memory is a shared
 * one where the host allows it (memory-type.ts), so that the worker pool
 * (`../threads/`) can run kernels in it; the calls here run on the calling
 * thread (`../threads/parallel-loops.ts` runs a large nest on the pool, with
 * `acceptsCall` and `compileWithSharedMemory` from here). Left out: giving
 * memory back (a memory keeps its largest size).
 */

import type { DType, Storage } from "../../core/dtype.js";
import { hostWebAssembly, type WebAssemblyApi } from "../../core/host.js";
import { shapeSize } from "../../core/shape.js";
import { outputShape, readsOwnRow, type LoopNest } from "../loop-ir.js";
import { generateWasmModule, KERNEL_EXPORT, MEMORY_IMPORT, WHOLE_REDUCTION, wasmLayout, wasmSupports, type ReductionPhases } from "./codegen.js";
import { encodeModule, FunctionBody, SimdOp, ValType } from "./encoder.js";
import type { KernelMemory } from "./memory-type.js";
import { arenaAddress, loopHeap, wasmMemory, workingMemory } from "./kernel-memory.js";
import { copyPacked, packReads } from "./pack.js";

const api = hostWebAssembly;


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

const EMPTY = new Float32Array(0);

/**
 * Whether a call with `buffers` and `constants` can run exactly in a
 * WebAssembly kernel whose buffers have `sizes` elements and that takes
 * `constantCount` constants: every buffer a `Float32Array` of its size and
 * every constant a value float32 holds (or NaN). Fills `floats` with the
 * buffers when it can.
 */
export function acceptsCall(buffers: readonly Storage<DType>[], constants: ArrayLike<number>, sizes: readonly number[], constantCount: number, floats: Float32Array[]): boolean {
  if (buffers.length !== sizes.length || constants.length < constantCount) return false;
  for (let i = 0; i < sizes.length; i++) {
    const b = buffers[i];
    if (!(b instanceof Float32Array) || b.length !== sizes[i]) return false;
    floats[i] = b;
  }
  for (let c = 0; c < constantCount; c++) {
    const v = constants[c] ?? NaN;
    if (Math.fround(v) !== v && v === v) return false; // a constant float32 does not hold
  }
  return true;
}

/** A compiled WebAssembly kernel of one nest. */
export interface WasmKernel {
  /**
   * Runs the nest on `buffers` (inputs, then outputs) and `constants`, as a
   * `Kernel` does; returns false, having written nothing, when this call
   * cannot run exactly here (see the header).
   */
  readonly run: (buffers: readonly Storage<DType>[], constants: ArrayLike<number>) => boolean;
  /** The rows of a block when a call with buffers to copy runs in blocks (`rowBlocks`), undefined when every call runs whole. */
  readonly blockRows: number | undefined;
}

/** The kernel function a module exports: addresses, then constants. */
type ExportedKernel = (...args: number[]) => void;

/** The kernel function of `nest`'s module (running `phases` of its reductions), instantiated with the kernels' memory. */
function instantiateKernel(wasm: WebAssemblyApi, nest: LoopNest, phases: ReductionPhases = WHOLE_REDUCTION): ExportedKernel {
  const imports = { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: wasmMemory() } };
  const exported = new wasm.Instance(new wasm.Module(generateWasmModule(nest, true, false, phases)), imports).exports[KERNEL_EXPORT];
  if (typeof exported !== "function") throw new Error("wasm runtime: the module exports no kernel");
  return exported as ExportedKernel; // the generator declares it with i32 addresses then f32 constants, all numbers
}

/**
 * About how many bytes of buffers one block of rows takes, when a large
 * kernel runs block by block (`rowBlocks`): small enough to stay in a core's
 * L2 cache between the copy in, the loop and the copy out.
 */
export const BLOCK_BYTES = 256 * 1024;

/**
 * How a kernel runs block by block along its outermost axis: `rows` rows at
 * a time (the last block holds the rest), each input either streamed (the
 * elements of rows r0..r1 are `stride * r0` up to `stride * r1`, copied in
 * per block) or whole (read by every row, copied in once), each output
 * either copied out per block (its elements per row) or, for a reduction
 * over the outermost axis, once after the last block: its accumulators then
 * carry from block to block (`carries`), set up by the first block's kernel
 * and rounded into the output by the last one's.
 */
interface RowBlocks {
  readonly rows: number;
  /** Per input: its elements per row when streamed, undefined when whole. */
  readonly streamed: readonly (number | undefined)[];
  /** Per output: its elements per row when copied out per block, undefined when copied out after the last block. */
  readonly outRows: readonly (number | undefined)[];
  /** Whether the reductions run over the outermost axis, their accumulators carried from block to block. */
  readonly carries: boolean;
  /** The nest of one full block and of the last, shorter one (undefined when the rows divide evenly). */
  readonly block: LoopNest;
  readonly last: LoopNest | undefined;
}

/**
 * The blocks `nest` runs in, or undefined when it runs whole: when its
 * buffers take more than twice `blockBytes` and every read either does not
 * move along the outermost axis or moves forward by a stride that holds
 * everything one row reads of its input (so a block's elements are one
 * contiguous run). A nest that reduces runs in blocks too: each row's
 * elements are visited in the same order either way, so the sums are the
 * same.
 */
function rowBlocks(nest: LoopNest, blockBytes: number): RowBlocks | undefined {
  const [rows = 0, ...rest] = nest.shape;
  if (rows < 2) return undefined;
  const carries = nest.reducedAxes.includes(0);
  const stride: (number | undefined)[] = nest.inputs.map(() => undefined);
  const whole = new Set<number>();
  for (const node of nest.nodes) {
    if (node.kind !== "read") continue;
    const s = node.map.strides[0] ?? 0;
    if (s === 0) {
      whole.add(node.input);
      continue;
    }
    if (!readsOwnRow(node.map, nest.shape) || (stride[node.input] ?? s) !== s) return undefined;
    stride[node.input] = s;
  }
  if (stride.some((s, i) => s !== undefined && whole.has(i))) return undefined;
  // an output's elements (and a reduction's float64 accumulators) per row, or its whole size when it is carried
  const outSizes = nest.outputs.map((out) => shapeSize(outputShape(nest, out)));
  const outRows = nest.outputs.map((out, j) => (out.reduce !== undefined && carries ? undefined : (outSizes[j] ?? 0) / rows));
  const perRow = (out: LoopNest["outputs"][number], j: number): number => (outRows[j] ?? 0) * (out.reduce === undefined ? 4 : 12);
  const carried = (out: LoopNest["outputs"][number], j: number): number => (outRows[j] === undefined ? (outSizes[j] ?? 0) * 12 : 0);
  const rowBytes = 4 * stride.reduce<number>((sum, s) => sum + (s ?? 0), 0) + nest.outputs.reduce((sum, out, j) => sum + perRow(out, j), 0);
  const wholeBytes = 4 * nest.inputs.reduce((sum, input, i) => sum + (stride[i] === undefined ? input.size : 0), 0) + nest.outputs.reduce((sum, out, j) => sum + carried(out, j), 0);
  if (rowBytes * rows <= 2 * blockBytes || wholeBytes > blockBytes) return undefined;
  const blockRows = Math.max(1, Math.floor(blockBytes / rowBytes));
  const of = (n: number): LoopNest => ({ ...nest, shape: [n, ...rest], inputs: nest.inputs.map((input, i) => ({ ...input, size: (stride[i] ?? 0) > 0 ? n * (stride[i] ?? 0) : input.size })) });
  return { rows: blockRows, streamed: stride, outRows, carries, block: of(blockRows), last: rows % blockRows > 0 ? of(rows % blockRows) : undefined };
}

/** The kernels of a nest run in blocks: which one runs a block, by whether it is the first, the last and a full one. */
type BlockKernels = (first: boolean, last: boolean, full: boolean) => ExportedKernel;

/**
 * The kernels of `blocks`: a full block's and the shorter last one's, each
 * running its reductions whole; or, when the reductions carry from block to
 * block, a first block's (setting the accumulators up), a middle one's, and
 * a last one's (rounding them into the outputs), full or shorter. (A nest
 * run in blocks has at least two, see `rowBlocks`: its first block is a full
 * one and never its last.)
 */
function blockKernels(wasm: WebAssemblyApi, blocks: RowBlocks): BlockKernels {
  const short = blocks.last;
  if (!blocks.carries) {
    const kernel = instantiateKernel(wasm, blocks.block);
    const last = short === undefined ? kernel : instantiateKernel(wasm, short);
    return (_first, _last, full) => (full ? kernel : last);
  }
  const first = instantiateKernel(wasm, blocks.block, { start: true, finish: false });
  const middle = instantiateKernel(wasm, blocks.block, { start: false, finish: false });
  const lastFull = instantiateKernel(wasm, blocks.block, { start: false, finish: true });
  const lastShort = short === undefined ? lastFull : instantiateKernel(wasm, short, { start: false, finish: true });
  return (isFirst, isLast, full) => (isFirst ? first : !isLast ? middle : full ? lastFull : lastShort);
}

/**
 * The WebAssembly kernel of `nest`, or undefined when WebAssembly is not
 * available or the nest has a form the generator does not compile
 * (`wasmSupports`), or the kernels' memory cannot be made. A call of a large
 * nest with buffers to copy runs in blocks of rows of about `blockBytes`
 * (`rowBlocks`), each copied in, computed and copied out while it is in
 * cache; one whose streamed buffers are all in place runs whole. Every
 * element is computed by the same code either way.
 *
 * @example
 * const kernel = wasmKernel(nest);
 * if (kernel === undefined || !kernel.run([x, out], constants)) jsKernel([x, out], constants);
 */
export function wasmKernel(nest: LoopNest, blockBytes = BLOCK_BYTES): WasmKernel | undefined {
  if (!wasmAvailable() || api === undefined || !wasmSupports(nest) || wasmMemory() === undefined) return undefined;
  const wasm = api;
  const sizes = wasmLayout(nest).sizes;
  // inputs read sparsely are copied in as the elements read (pack.ts), and such a nest runs whole
  const { nest: packed, packs } = packReads(nest);
  const blocks = packs.some((p) => p !== undefined) ? undefined : rowBlocks(nest, blockBytes);
  const whole = wasmLayout(packed);
  const blocked = blocks === undefined ? whole : wasmLayout(blocks.block);
  // the whole nest's kernel, made when first needed where the nest has blocks (a call with every streamed buffer in place runs whole)
  let kernel = blocks === undefined ? instantiateKernel(wasm, packed) : undefined;
  const kernelOfBlock = blocks === undefined ? undefined : blockKernels(wasm, blocks);
  const nBuffers = sizes.length;
  const nIn = nest.inputs.length;
  const nConst = nest.constants.length;
  const args = new Array<number>(nBuffers + nConst + whole.accumulators.length).fill(0);
  const rows = nest.shape[0] ?? 1;
  const floats = new Array<Float32Array>(nBuffers);
  // each buffer's byte address in the kernels' memory when a view of it (a compiled program's buffer, used in place), else undefined
  const inPlace = new Array<number | undefined>(nBuffers);
  // each buffer's first element in the heap's float32 view, for the copies in and out
  const at = new Array<number>(nBuffers).fill(0);
  // the elements of each buffer per row when it moves block by block (inputs streamed, outputs copied out per block)
  const perRow = blocks === undefined ? [] : [...blocks.streamed, ...blocks.outRows];

  /**
   * Sets the addresses of the buffers (of `layout`'s sizes) and of the accumulators: each buffer in place where it
   * can be, the others and the accumulators one after another (16-byte aligned) from scratch byte `base` (64-byte
   * aligned). Returns the bytes of scratch they take.
   */
  const place = (layout: typeof whole, base: number): number => {
    let bytes = 0;
    for (let i = 0; i < nBuffers; i++) {
      const address = inPlace[i];
      if (address !== undefined) {
        args[i] = address;
        continue;
      }
      args[i] = base + bytes;
      at[i] = (base + bytes) / 4;
      bytes = Math.ceil((bytes + 4 * (layout.sizes[i] ?? 0)) / 16) * 16;
    }
    let k = nBuffers + nConst;
    nest.outputs.forEach((out, j) => {
      if (out.reduce === undefined) return;
      args[k++] = base + bytes;
      bytes = Math.ceil((bytes + 8 * (layout.sizes[nIn + j] ?? 0)) / 16) * 16;
    });
    return bytes;
  };
  const copyOut = (heap: Float32Array, i: number, count: number, to: number): void => {
    if (inPlace[i] !== undefined) return;
    const o = at[i] ?? 0;
    floats[i]?.set(heap.subarray(o, o + count), to);
  };

  const run = (buffers: readonly Storage<DType>[], constants: ArrayLike<number>): boolean => {
    if (!acceptsCall(buffers, constants, sizes, nConst, floats)) {
      floats.fill(EMPTY); // hold no caller's buffer between calls
      return false;
    }
    for (let c = 0; c < nConst; c++) args[nBuffers + c] = constants[c] ?? NaN;
    let streamedInPlace = true;
    for (let i = 0; i < nBuffers; i++) {
      const b = floats[i];
      inPlace[i] = b === undefined || (i < nIn && packs[i] !== undefined) ? undefined : arenaAddress(b);
      if (perRow[i] !== undefined && inPlace[i] === undefined) streamedInPlace = false;
    }
    const runsWhole = blocks === undefined || kernelOfBlock === undefined || streamedInPlace;
    const layout = runsWhole ? whole : blocked;
    const heap = loopHeap(place(layout, 0));
    if (heap === undefined) {
      floats.fill(EMPTY); // hold no caller's buffer between calls
      return false;
    }
    // copied in: every input not in place (the streamed ones block by block when the nest runs in blocks)
    for (let i = 0; i < nIn; i++) {
      const b = floats[i];
      if (b === undefined || inPlace[i] !== undefined) continue;
      const pack = packs[i];
      if (pack !== undefined) copyPacked(heap, at[i] ?? 0, b, pack);
      else if (runsWhole || perRow[i] === undefined) heap.set(b, at[i]);
    }
    if (runsWhole) {
      kernel ??= instantiateKernel(wasm, packed);
      kernel(...args);
      for (let i = nIn; i < nBuffers; i++) copyOut(heap, i, floats[i]?.length ?? 0, 0);
      floats.fill(EMPTY); // hold no caller's buffer between calls
      return true;
    }
    for (let r0 = 0; r0 < rows; r0 += blocks.rows) {
      const r1 = Math.min(rows, r0 + blocks.rows);
      for (let i = 0; i < nBuffers; i++) {
        const s = perRow[i];
        const address = inPlace[i];
        if (s === undefined) continue;
        if (address !== undefined) args[i] = address + 4 * r0 * s;
        else if (i < nIn) heap.set(floats[i]?.subarray(r0 * s, Math.min(floats[i]?.length ?? 0, r1 * s)) ?? EMPTY, at[i]);
      }
      kernelOfBlock(r0 === 0, r1 === rows, r1 - r0 === blocks.rows)(...args);
      for (let i = nIn; i < nBuffers; i++) {
        const s = perRow[i];
        if (s !== undefined) copyOut(heap, i, (r1 - r0) * s, r0 * s);
      }
    }
    // the reductions carried over the blocks, rounded into their outputs by the last block
    for (let i = nIn; i < nBuffers; i++) if (perRow[i] === undefined) copyOut(heap, i, floats[i]?.length ?? 0, 0);
    floats.fill(EMPTY); // hold no caller's buffer between calls
    return true;
  };
  return { run, blockRows: blocks?.rows };
}

/**
 * The compiled module of `binary`, a module that imports the kernels'
 * memory as `MEMORY_IMPORT` (and nothing else), and the exports of its
 * instance over that memory (`kernel-memory.ts`; a worker instantiates the
 * module over the same memory); undefined when WebAssembly with SIMD or the
 * memory is missing here, or the engine refuses the module.
 *
 * @example
 * const compiled = compileWithSharedMemory(encodeModule(spec));
 * const kernel = compiled?.exports["kernel"]; // and compiled?.module, for workers
 */
export function compileWithSharedMemory(binary: Uint8Array): { readonly module: object; readonly exports: Record<string, unknown> } | undefined {
  const memory = kernelMemory();
  if (api === undefined || memory === undefined) return undefined;
  try {
    const module = new api.Module(binary);
    return { module, exports: new api.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } }).exports };
  } catch {
    return undefined; // an engine whose SIMD lacks an instruction the module uses
  }
}

/**
 * The memory object every kernel module imports (made on first use), for
 * handing to workers; undefined when WebAssembly with SIMD is not available.
 */
export function kernelMemory(): KernelMemory | undefined {
  return wasmAvailable() && api !== undefined ? wasmMemory() : undefined;
}

/**
 * The kernels' memory's buffer for a kernel call's working memory of
 * `bytes` from address 0 (`kernel-memory.ts`'s `workingMemory`): grown to
 * hold it (the memory keeps its largest size); undefined when WebAssembly
 * is not available or the working memory cannot be that large. A plain
 * memory's buffer is replaced when it grows, so views of an earlier one
 * must be made again after each call.
 *
 * @example
 * const heap = sharedHeap(1024);
 * if (heap !== undefined) new Float32Array(heap, 0, 256).fill(0);
 */
export function sharedHeap(bytes: number): ArrayBufferLike | undefined {
  return wasmAvailable() && api !== undefined ? workingMemory(bytes) : undefined;
}
