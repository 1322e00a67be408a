/**
 * The float32 matrix product in WebAssembly SIMD: the kernel `gemm` hands a
 * big float32 product to when the engine runs WebAssembly with SIMD.
 *
 * The blocking is Goto and van de Geijn's, as in `matmul.ts`, and here the
 * micro-kernel is theirs too (BLIS's register tile): WebAssembly locals of
 * type v128 are registers, with no bounds checks and no spills at this size,
 * so what lost on V8's JavaScript wins here. B is packed once per call into
 * panels of NR columns (`[k][NR]`, zero after column n), each block of MC
 * rows of A into panels of MR rows (`[kc][MR]`, zero after row m). The
 * macro-kernel, one exported WebAssembly function, walks the panels of a
 * block: for each panel of B, for each panel of A, an MR x NR tile of C sits
 * in MR * NR / 4 f32x4 accumulators while each step of k loads NR values of
 * B (NR / 4 vectors) and splats MR values of A (`v128.load32_splat`), then
 * adds the tile to (or stores it in) a staging block of C in the shared
 * memory. JavaScript packs (reading any strided view) and copies the staged
 * block out through C's view with the epilogue (bias, accumulate, relu), so
 * every layout `gemm` accepts runs here.
 *
 * Measured on the bench machine (Node 20, V8 11.3, x64, float32, square
 * products): 31 to 40 GFLOP/s from n = 256 to 1024, against 5.5 to 6 for the
 * JavaScript kernel and 27 to 31 for TensorFlow.js's XNNPACK. A 6 x 8 tile
 * (12 accumulators) made 22 to 24 and an 8 x 8 one 23: V8 has 16 vector
 * registers, and the 4 x 8 tile needs 11 of them. KC = 256 and MC = 128
 * matched every other pair of 128, 256, 512 by 64, 128, 256 (within the noise).
 *
 * NOTE: sums over k accumulate in float32 (the JavaScript kernel sums in
 * float64), in blocks of KC, each block then added to the staged sum: the
 * worst-case error is (KC + k / KC) float32 roundings of the sum of the
 * terms' absolute values (1.5e-5 of it at k = 400), inside the 2e-5 the
 * kernel laws allow; errors of random sign grow like its square root
 * (about 1e-6 in practice).
 *
 * The module is built in memory with our encoder from fixed opcodes and the
 * validated tile sizes below; nothing from the data or a caller goes into
 * it. It imports the runtime's shared memory; a call lays out its packed B,
 * packed A block and staged C from address 0, so the memory grows to what
 * the largest call needs and no further.
 *
 * Leaves out: float64 (WebAssembly SIMD has two float64 lanes, and the
 * JavaScript kernel already runs at that rate), threads, and relaxed SIMD's
 * fused multiply-add (not in Node 20 without a flag).
 */

import { ALIGN_16, ALIGN_4, encodeModule, FunctionBody, Op, SimdOp, ValType } from "../wasm/encoder.js";
import { MEMORY_IMPORT } from "../wasm/codegen.js";
import { instantiateWithSharedMemory, sharedHeap } from "../wasm/runtime.js";
import type { FloatArray, MatrixView } from "./matrix-view.js";

/** Rows of a register tile (A panels are MR rows wide). */
const MR = 4;
/** Columns of a register tile (B panels are NR columns wide): NR / 4 vectors. */
const NR = 8;
/** Largest depth of a block of k. */
const KC = 256;
/** Rows of a packed block of A (a multiple of MR). */
const MC = 128;

const FLOAT = 4;
const VECTOR = 16;

/** The epilogue, as `gemm` applies it to each stored sum: `act(beta * C + (sum + bias[j]))`. */
export interface WasmEpilogue {
  /** Add C's old value. */
  readonly beta: boolean;
  /** The bias, or undefined. */
  readonly bias: FloatArray | undefined;
  /** Where column 0 of C reads its bias. */
  readonly biasOffset: number;
  /** Apply relu (`y < 0 ? 0 : y`). */
  readonly relu: boolean;
}

/** The name under which a kernel's module exports its function. */
const KERNEL_NAME = "kernel";

/**
 * The body of the macro-kernel `macro(a, b, c, rowTiles, colTiles, kc, ldc,
 * beta)` for an `mr x (4 * vectors)` register tile: for each of `colTiles`
 * panels of B (from address `b`, `kc` steps each), for each of `rowTiles`
 * panels of A (from `a`), the tile of C at `c` (rows `ldc` bytes apart)
 * becomes the panels' product, plus its old value when `beta` is not 0.
 */
function macroKernelBody(mr: number, vectors: number): FunctionBody {
  if (!Number.isInteger(mr) || mr < 1 || mr > 8 || !Number.isInteger(vectors) || vectors < 1 || vectors > 3) {
    throw new Error(`wasm matmul: a ${mr} x ${4 * vectors} tile is not supported`);
  }
  const nr = 4 * vectors;
  const f = new FunctionBody(8);
  const [a, b, c, rowTiles, colTiles, kc, ldc, beta] = [0, 1, 2, 3, 4, 5, 6, 7];
  const colLeft = f.local(ValType.i32);
  const rowLeft = f.local(ValType.i32);
  const steps = f.local(ValType.i32);
  const aAt = f.local(ValType.i32);
  const bAt = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const cColumn = f.local(ValType.i32);
  const cAt = f.local(ValType.i32);
  const cOld = f.local(ValType.i32);
  const acc = Array.from({ length: mr * vectors }, () => f.local(ValType.v128));
  const bv = Array.from({ length: vectors }, () => f.local(ValType.v128));
  const av = f.local(ValType.v128);
  const accOf = (r: number, v: number): number => acc[r * vectors + v] ?? 0;
  const v128Memarg = (offset: number): number[] => FunctionBody.memarg(ALIGN_16, offset);
  const addTo = (local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);
  /** `counter -= 1`, and loop again while it is not 0. */
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);

  f.get(b).set(bPanel).get(c).set(cColumn).get(colTiles).set(colLeft);
  f.loop(); // over panels of B
  f.get(a).set(aAt).get(cColumn).set(cAt).get(rowTiles).set(rowLeft);
  f.loop(); // over panels of A
  for (const x of acc) f.zeros().set(x);
  f.get(bPanel).set(bAt).get(kc).set(steps);
  f.loop(); // over k: acc[r][v] += A[r] * B[v]
  for (let v = 0; v < vectors; v++) f.get(bAt).simd(SimdOp.v128_load, v128Memarg(v * VECTOR)).set(bv[v] ?? 0);
  for (let r = 0; r < mr; r++) {
    f.get(aAt).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, r * FLOAT)).set(av);
    for (let v = 0; v < vectors; v++) {
      f.get(accOf(r, v)).get(av).get(bv[v] ?? 0).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(r, v));
    }
  }
  addTo(aAt, mr * FLOAT);
  addTo(bAt, nr * FLOAT);
  countDown(steps);
  f.end();
  // The tile: add C's old values (a later block of k), then store; aAt has moved on to the next panel of A.
  f.get(beta).if();
  f.get(cAt).set(cOld);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < vectors; v++) {
      f.get(accOf(r, v)).get(cOld).simd(SimdOp.v128_load, v128Memarg(v * VECTOR)).simd(SimdOp.f32x4_add).set(accOf(r, v));
    }
    f.get(cOld).get(ldc).op(Op.i32_add).set(cOld);
  }
  f.end();
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < vectors; v++) f.get(cAt).get(accOf(r, v)).simd(SimdOp.v128_store, v128Memarg(v * VECTOR));
    f.get(cAt).get(ldc).op(Op.i32_add).set(cAt);
  }
  countDown(rowLeft);
  f.end();
  f.get(bAt).set(bPanel); // the next panel of B follows this one
  addTo(cColumn, nr * FLOAT);
  countDown(colLeft);
  f.end();
  return f;
}

/** The macro-kernel's signature, as the module exports it (i32 arguments). */
type MacroKernel = (a: number, b: number, c: number, rowTiles: number, colTiles: number, kc: number, ldc: number, beta: number) => void;

let macroKernel: MacroKernel | null | undefined;

/** The compiled macro-kernel (built on first use), or null when WebAssembly with SIMD is not available. */
function compiledMacroKernel(): MacroKernel | null {
  if (macroKernel !== undefined) return macroKernel;
  // The module declares it with eight i32 parameters and no result: a function of eight numbers.
  macroKernel = instantiateKernel(macroKernelBody(MR, NR / 4), 8) as MacroKernel | null;
  return macroKernel;
}

/**
 * The function of `params` i32 parameters and no result that `body`
 * defines, in a module of its own over the runtime's shared memory; null
 * when WebAssembly with SIMD is not available here, or the engine's SIMD
 * lacks an instruction the body uses.
 */
export function instantiateKernel(body: FunctionBody, params: number): ((...args: number[]) => void) | null {
  const type = { params: new Array<ValType>(params).fill(ValType.i32), results: [] };
  const binary = encodeModule({ imports: [], memory: { ...MEMORY_IMPORT, minPages: 0 }, functions: [{ type, body, export: KERNEL_NAME }] });
  let exported: unknown;
  try {
    exported = instantiateWithSharedMemory(binary)?.[KERNEL_NAME];
  } catch {
    exported = undefined; // an engine whose SIMD lacks an instruction used here
  }
  // An exported WebAssembly function of i32 parameters and no result takes numbers and returns undefined.
  return typeof exported === "function" ? (exported as (...args: number[]) => void) : null;
}

/**
 * Whether the WebAssembly kernel runs here: WebAssembly with SIMD is
 * available (checked once).
 *
 * @example
 * wasmMatmulAvailable(); // true on Node 20
 */
export function wasmMatmulAvailable(): boolean {
  return compiledMacroKernel() !== null;
}

const roundUp = (x: number, multiple: number): number => Math.ceil(x / multiple) * multiple;

/**
 * `C = act(A @ B + bias)` (or `act(C + A @ B + bias)` with `beta`) in
 * WebAssembly SIMD, for `m x k` A, `k x n` B and `m x n` C read and written
 * through float32 views, checked in range by the caller (`gemm`), with
 * `m, k, n >= 1`. Returns false, having written nothing, when it cannot run
 * here: no WebAssembly SIMD, an operand that is not float32, or more memory
 * than the shared memory may have (`WASM_MAX_BYTES`).
 *
 * @example
 * const a = Float32Array.of(1, 2, 3, 4);
 * const c = new Float32Array(4);
 * const view = (data: Float32Array) => ({ data, offset: 0, rowStride: 2, colStride: 1 });
 * wasmGemm(2, 2, 2, view(a), view(a), view(c), { beta: false, bias: undefined, biasOffset: 0, relu: false });
 * // true, and c is [7, 10, 15, 22]
 */
export function wasmGemm(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue): boolean {
  if (!(a.data instanceof Float32Array)) return false;
  const pack: PanelPacker = (floats, at, i0, mc, rowTiles, p0, kc) => packA(floats, at, a, i0, mc, rowTiles, p0, kc);
  return wasmGemmPacked(m, k, n, pack, b, c, epilogue);
}

/** The depth of a block of k: sums over k run in blocks this deep (see the NOTE above). */
export const DEPTH_BLOCK = KC;

/** Rows of a panel of packed A (the register tile's rows): what a `PanelPacker` writes per `[kc][PANEL_ROWS]` panel. */
export const PANEL_ROWS = MR;

/**
 * Packs rows `i0 .. i0 + mc` and columns `p0 .. p0 + kc` of an implicit A
 * (`m x k`) from float `at` of `floats`: `rowTiles` panels one after
 * another, each `[kc][PANEL_ROWS]` (panel `t`, step `p`, row `r` at `at + (t
 * * kc + p) * PANEL_ROWS + r`), zero past row `mc`. It must write every
 * element of the block: the memory holds what the last call left.
 */
export type PanelPacker = (floats: Float32Array, at: number, i0: number, mc: number, rowTiles: number, p0: number, kc: number) => void;

/**
 * `wasmGemm` with A given by its packer rather than a view, for an operand
 * that exists only implicitly (a convolution's columns, packed straight from
 * its input: implicit GEMM). The sums, their order and the epilogue are
 * those of `wasmGemm` on the matrix the packer describes, so the two give
 * the same bits. Its memory starts at byte `base` (a multiple of 16): the
 * bytes below are the caller's, for what its packer reads, and stay as they
 * are. Returns false, having written nothing, where `wasmGemm` would.
 */
export function wasmGemmPacked(m: number, k: number, n: number, pack: PanelPacker, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue, base = 0): boolean {
  if (!(b.data instanceof Float32Array && c.data instanceof Float32Array)) return false;
  const kernel = compiledMacroKernel();
  if (kernel === null || m < 1 || k < 1 || n < 1) return false;
  const nPad = roundUp(n, NR);
  const mcPad = Math.min(roundUp(m, MR), MC);
  const depth = Math.min(k, KC);
  // Layout (bytes, each part 16-byte aligned as all sizes are multiples of 4 floats): packed B, packed A block, staged C block.
  const bAt = base;
  const aAt = bAt + k * nPad * FLOAT;
  const cAt = aAt + mcPad * depth * FLOAT;
  const bytes = cAt + mcPad * nPad * FLOAT;
  const heap = sharedHeap(bytes);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap, 0, bytes / FLOAT);
  packB(floats, bAt / FLOAT, b, k, n, nPad, depth);
  for (let ic = 0; ic < m; ic += MC) {
    const mc = Math.min(MC, m - ic);
    const rowTiles = Math.ceil(mc / MR);
    for (let pc = 0; pc < k; pc += depth) {
      const kc = Math.min(depth, k - pc);
      pack(floats, aAt / FLOAT, ic, mc, rowTiles, pc, kc);
      kernel(aAt, bAt + pc * nPad * FLOAT, cAt, rowTiles, nPad / NR, kc, nPad * FLOAT, pc > 0 ? 1 : 0);
    }
    storeBlock(floats, cAt / FLOAT, nPad, c, ic, mc, n, epilogue);
  }
  return true;
}

/**
 * Packs all of B: for each block of k (`depth` deep, the last one shorter),
 * its panels of NR columns one after another, each `[kc][NR]` and zero past
 * column n. A block starts at float `at + pc * nPad`.
 */
function packB(floats: Float32Array, at: number, b: MatrixView, k: number, n: number, nPad: number, depth: number): void {
  const { data, offset, rowStride, colStride } = b;
  for (let pc = 0; pc < k; pc += depth) {
    const kc = Math.min(depth, k - pc);
    for (let j0 = 0; j0 < nPad; j0 += NR) {
      const panel = at + pc * nPad + j0 * kc;
      const cols = Math.min(NR, n - j0);
      if (colStride === 1 && cols === NR) {
        // NOTE: the common case (a row-major B, a whole panel) copies a row of 8 unrolled: twice as fast as the general loop.
        for (let p = 0, to = panel, from = offset + pc * rowStride + j0; p < kc; p++, to += NR, from += rowStride) {
          floats[to] = data[from] ?? 0;
          floats[to + 1] = data[from + 1] ?? 0;
          floats[to + 2] = data[from + 2] ?? 0;
          floats[to + 3] = data[from + 3] ?? 0;
          floats[to + 4] = data[from + 4] ?? 0;
          floats[to + 5] = data[from + 5] ?? 0;
          floats[to + 6] = data[from + 6] ?? 0;
          floats[to + 7] = data[from + 7] ?? 0;
        }
        continue;
      }
      for (let p = 0; p < kc; p++) {
        const to = panel + p * NR;
        let from = offset + (pc + p) * rowStride + j0 * colStride;
        for (let j = 0; j < cols; j++, from += colStride) floats[to + j] = data[from] ?? 0;
        for (let j = cols; j < NR; j++) floats[to + j] = 0;
      }
    }
  }
}

/** Packs `A[i0 .. i0 + mc, p0 .. p0 + kc]` from float `at` as `rowTiles` panels of MR rows, each `[kc][MR]` and zero past row mc. */
function packA(floats: Float32Array, at: number, a: MatrixView, i0: number, mc: number, rowTiles: number, p0: number, kc: number): void {
  const { data, offset, rowStride, colStride } = a;
  if (MR === 4) {
    // NOTE: whole panels pack 4 rows at a time, unrolled: twice as fast as the row-by-row loop.
    const wholeTiles = Math.floor(mc / MR);
    for (let tile = 0; tile < wholeTiles; tile++) {
      const row0 = offset + (i0 + tile * MR) * rowStride + p0 * colStride;
      const row1 = row0 + rowStride, row2 = row1 + rowStride, row3 = row2 + rowStride;
      for (let p = 0, to = at + tile * kc * MR, s = 0; p < kc; p++, to += MR, s += colStride) {
        floats[to] = data[row0 + s] ?? 0;
        floats[to + 1] = data[row1 + s] ?? 0;
        floats[to + 2] = data[row2 + s] ?? 0;
        floats[to + 3] = data[row3 + s] ?? 0;
      }
    }
    packRows(floats, at, a, i0, mc, wholeTiles * MR, rowTiles * MR, p0, kc);
    return;
  }
  packRows(floats, at, a, i0, mc, 0, rowTiles * MR, p0, kc);
}

/** Packs rows `first .. end` of the block of `packA` one by one (zeros past row mc). */
function packRows(floats: Float32Array, at: number, a: MatrixView, i0: number, mc: number, first: number, end: number, p0: number, kc: number): void {
  const { data, offset, rowStride, colStride } = a;
  for (let i = first; i < end; i++) {
    let to = at + Math.floor(i / MR) * kc * MR + (i % MR);
    if (i >= mc) {
      for (let p = 0; p < kc; p++, to += MR) floats[to] = 0;
      continue;
    }
    for (let p = 0, from = offset + (i0 + i) * rowStride + p0 * colStride; p < kc; p++, from += colStride, to += MR) floats[to] = data[from] ?? 0;
  }
}

/** Stores rows `i0 .. i0 + mc` of C from the staged block (float `at`, rows `nPad` apart) through C's view, with the epilogue. */
function storeBlock(floats: Float32Array, at: number, nPad: number, c: MatrixView, i0: number, mc: number, n: number, e: WasmEpilogue): void {
  const { data, offset, rowStride, colStride } = c;
  const plain = !e.beta && e.bias === undefined && !e.relu;
  // NOTE: a row of fewer than 32 floats copies faster by hand than through `subarray` and `set`.
  if (plain && colStride === 1 && rowStride === nPad && n === nPad) {
    // C's rows lie back to back, as the staged rows do (a convolution's NHWC output): the block in one copy.
    data.set(floats.subarray(at, at + mc * nPad), offset + i0 * rowStride);
    return;
  }
  if (plain && colStride === 1 && n >= 32) {
    for (let i = 0; i < mc; i++) data.set(floats.subarray(at + i * nPad, at + i * nPad + n), offset + (i0 + i) * rowStride);
    return;
  }
  const { bias, biasOffset } = e;
  for (let i = 0; i < mc; i++) {
    for (let j = 0, from = at + i * nPad, to = offset + (i0 + i) * rowStride; j < n; j++, from++, to += colStride) {
      const sum = floats[from] ?? 0;
      const v = bias === undefined ? sum : sum + (bias[biasOffset + j] ?? 0);
      const y = e.beta ? (data[to] ?? 0) + v : v;
      data[to] = e.relu && y < 0 ? 0 : y;
    }
  }
}
