/**
 * Matrix products: the packed, blocked kernel behind `dot_general`, and
 * (through im2col and Winograd's transforms) behind convolution.
 *
 * `matmul` computes `C[b] = act(A[b] @ B[b] + bias)` for a batch of products;
 * `gemm` is the one strided product it is made of, which reads each operand
 * in place through a `MatrixView` (a transposed operand is the same data with
 * its two strides swapped, so `A^T @ ct` and `ct @ B^T` copy nothing).
 *
 * The blocking is Goto and van de Geijn's ("Anatomy of high-performance
 * matrix multiplication", 2008): a block of A (MC x KC) is packed into
 * contiguous float64 rows, so that every layout (transposed, strided,
 * float32 or float64) reaches the micro-kernel as one monomorphic array.
 * The micro-kernel is not theirs, though. A register tile (BLIS's MR x NR
 * accumulators, with A and B streamed from packed panels) loses on V8: a
 * 4 x 3 tile needs 12 accumulators and V8, scheduling all multiplies before
 * the adds, spills them, and every typed-array load costs a bounds check.
 * Instead the kernel is B-stationary: a TAPS x LANES (9 x 4) block of B
 * sits in scalar locals, which V8 keeps in registers and stack slots and
 * reads with no bounds check, while a sweep walks the rows of the packed A
 * block, loads 9 values of each row once and adds 4 dot products of them to
 * a float64 block of sums (13 array loads and 4 stores for 36 multiply-adds).
 * The same shape sums the windows of a convolution (`conv2dWindows`).
 *
 * Measured on the bench machine (Node 20, V8 11.3, x64, float32), against
 * the 4 x 3 register tile it replaced: n = 1024, 0.7 to 0.8 of the time
 * (6.3 to 6.8 GFLOP/s); n = 256, 0.79; n = 64, 0.92; at n = 8 it is 1.4x
 * slower (0.7 against 0.5 us: the fixed cost of a sweep). MC = 256 and KC =
 * 288 did best of 128 and 256 by 288 and 576: a packed A block of 576 KiB.
 * Products with fewer than 4 rows or 3 columns (1 x 1, a vector times a
 * matrix) skip packing: a plain loop is the fast path there.
 *
 * Sums over k accumulate in float64 within a block of k; for float32 output
 * the block is rounded once, so it is at least as exact as float32
 * throughout. The epilogue (bias, then relu) runs on the last block as the
 * sums are stored, so it costs no extra pass over C.
 *
 * A float32 product big enough to pay goes to the WebAssembly SIMD kernel
 * of `wasm-matmul.ts` (a 4 x 8 register tile, 5 to 6x faster from n = 256
 * on) when the engine runs it; the rest, float64 and engines without
 * WebAssembly SIMD take the JavaScript kernel here (`MatmulBackend`).
 *
 * Leaves out: threads, integer products, and complex numbers.
 *
 * NOTE: the packing buffer comes from the kernels' scratch allocator
 * (`scratch.ts`), reused across calls and grown on demand; a product never
 * calls out while it runs, so this is safe in single-threaded JavaScript
 * (each worker has its own module instance).
 */

import { shapeError } from "../../core/errors.js";
import type { FloatArray, MatrixView } from "./matrix-view.js";
import { scratch } from "./scratch.js";
import { wasmGemm, type PackedB } from "./wasm-matmul.js";

/** The activation of a fused epilogue. */
export type Activation = "none" | "relu";

/** What happens to each output element after the product: `act(sum + bias[j])`. */
export interface Epilogue {
  /** A vector added to every row of the product (entry `j` to column `j`). */
  readonly bias?: FloatArray | undefined;
  /** Where column 0's entry sits in `bias` (default 0). */
  readonly biasOffset?: number | undefined;
  /** Applied last: `"relu"` is `x < 0 ? 0 : x` (NaN stays NaN). Default `"none"`. */
  readonly activation?: Activation | undefined;
}

/**
 * Which kernel runs a product: `"auto"` (the default) hands a float32 product
 * of at least WASM_MIN_WORK multiply-adds to the WebAssembly SIMD kernel
 * (`wasm-matmul.ts`) when the engine runs it; `"wasm"` does so at any size;
 * `"javascript"` never does. Float64 products, and any product the
 * WebAssembly kernel cannot run, take the JavaScript kernel.
 */
export type MatmulBackend = "auto" | "javascript" | "wasm";

/** The choice of kernel, in the options of `gemm` and `matmul`. */
export interface BackendOption {
  /** Default `"auto"`. */
  readonly backend?: MatmulBackend | undefined;
}

/** The options of `gemm`: an epilogue, and whether to add to what C holds. */
export interface GemmOptions extends Epilogue, BackendOption {
  /**
   * When true, `C = act(C + A @ B + bias)`: the product is added to C's old
   * values (used to sum a product over chunks of k). Default false.
   */
  readonly accumulate?: boolean | undefined;
  /**
   * Where the WebAssembly kernel may find B already packed earlier in the
   * call of a compiled program, or leave its packing (`PackedOperands`).
   */
  readonly packedB?: PackedB | undefined;
}

/** The sizes, layout and epilogue of a batched product. */
export interface MatmulOptions extends Epilogue, BackendOption {
  /** How many products (default 1). */
  readonly batch?: number | undefined;
  /** Rows of each A and C. */
  readonly m: number;
  /** Columns of A, rows of B: the summed dim. */
  readonly k: number;
  /** Columns of each B and C. */
  readonly n: number;
  /** Elements between consecutive A's (default `m * k`); 0 repeats one A for every product. */
  readonly aBatchStride?: number | undefined;
  /** Elements between consecutive B's (default `k * n`); 0 repeats one B for every product. */
  readonly bBatchStride?: number | undefined;
  /** Read each A as stored `[k, m]` (that is, use A^T of the stored matrix). */
  readonly transA?: boolean | undefined;
  /** Read each B as stored `[n, k]`. */
  readonly transB?: boolean | undefined;
}

/**
 * The batched matrix product `out[b] = act(A[b] @ B[b] + bias)` over row-major
 * arrays: each A is `[m, k]` (stored `[k, m]` with `transA`), each B is
 * `[k, n]` (stored `[n, k]` with `transB`), `out` is `[batch, m, n]`. Batch
 * broadcasting is a batch stride of 0. With `k = 0` every element is
 * `act(bias[j])` (or 0). Returns `out`.
 *
 * @example
 * const out = new Float64Array(4);
 * matmul(out, Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6, 7, 8), { m: 2, k: 2, n: 2 });
 * // out is [19, 22, 43, 50]
 */
export function matmul<F extends FloatArray>(out: F, a: F, b: F, options: MatmulOptions): F {
  const { batch = 1, m, k, n, transA = false, transB = false } = options;
  const aBatchStride = options.aBatchStride ?? m * k;
  const bBatchStride = options.bBatchStride ?? k * n;
  for (const [name, x] of [["batch", batch], ["m", m], ["k", k], ["n", n], ["aBatchStride", aBatchStride], ["bBatchStride", bBatchStride]] as const) {
    if (!Number.isInteger(x) || x < 0) shapeError("matmul", `${name} ${x} must be a non-negative integer`);
  }
  if (out.length < batch * m * n) shapeError("matmul", `output holds ${out.length} elements, needs ${batch * m * n}`);
  // Every gemm below reads one B when there is one product or one B for all: then it may reuse a packing of the call.
  const packedB = batch === 1 || bBatchStride === 0 ? scopedPackedB : undefined;
  const epilogue: GemmOptions = { bias: options.bias, biasOffset: options.biasOffset, activation: options.activation, backend: options.backend, packedB };
  const aView = (offset: number): MatrixView => ({ data: a, offset, rowStride: transA ? 1 : k, colStride: transA ? m : 1 });
  const bView = (offset: number): MatrixView => ({ data: b, offset, rowStride: transB ? 1 : n, colStride: transB ? k : 1 });
  // One B for a batch of contiguous row-major A's is a single product with
  // batch * m rows (a dense layer over [...B, k] inputs).
  if (batch > 1 && bBatchStride === 0 && !transA && aBatchStride === m * k) {
    gemm(batch * m, k, n, aView(0), bView(0), { data: out, offset: 0, rowStride: n, colStride: 1 }, epilogue);
    return out;
  }
  for (let t = 0; t < batch; t++) {
    gemm(m, k, n, aView(t * aBatchStride), bView(t * bBatchStride), { data: out, offset: t * m * n, rowStride: n, colStride: 1 }, epilogue);
  }
  return out;
}

/** The B operand slot that `withPackedB` gives the products it runs. */
let scopedPackedB: PackedB | undefined;

/**
 * Runs `run` with `slot` as the place where every `matmul` it makes may find
 * its B operand packed, or leave the packing (see `PackedOperands`): the
 * compiled-program executor wraps a product whose B several products of the
 * call read. The caller vouches that every such product's B is the value the
 * slot names (a mistaken view is caught and repacked, never read stale).
 *
 * @example
 * const operands = new PackedOperands();
 * operands.begin(); // a call starts
 * const [h, w, out] = [new Float32Array(32 * 128).fill(1), new Float32Array(128 * 512).fill(0.5), new Float32Array(32 * 512)];
 * withPackedB(operands.slot(0), () => matmul(out, h, w, { m: 32, k: 128, n: 512 })); // packs w, keeps the packing
 * withPackedB(operands.slot(0), () => matmul(out, h, w, { m: 32, k: 128, n: 512 })); // copies it; out is 64 everywhere
 */
export function withPackedB<T>(slot: PackedB, run: () => T): T {
  const outer = scopedPackedB;
  scopedPackedB = slot;
  try {
    return run();
  } finally {
    scopedPackedB = outer;
  }
}

/** Rows of B (and columns of A) per sweep: the depth of the weights held in locals. */
const TAPS = 9;
/** Columns of B (and C) per sweep. */
const LANES = 4;
/** Largest depth of a packed block of A (a multiple of TAPS). */
const KC = 288;
/** Rows of a packed block of A. */
const MC = 256;
/**
 * The float32 products that `"auto"` hands to the WebAssembly kernel: at
 * least WASM_MIN_WORK multiply-adds, WASM_MIN_OUTPUTS elements of C and
 * WASM_MIN_COLS columns. Measured on the bench machine (Node 20, x64, a
 * benchmark running on the other core), WebAssembly takes 0.5 to 0.8 of the
 * JavaScript kernel's time from 6 x 6 x 6 and 8 x 64 x 8 on, 0.3 at 8 x 8 x
 * 64, and 0.1 to 0.2 from 256 x 256 x 256; it loses (1.2 to 10x slower) on
 * dot products and thin products with 1 to 9 outputs (1 x 1024 x 1, 2 x 1024
 * x 2, 3 x 1000 x 3), which pad its 4 x 8 tile, on a single column
 * (0.9 to 1.1 either way), and below about 500 multiply-adds (4 x 4 x 4:
 * 0.5 against 0.4 us).
 */
const WASM_MIN_WORK = 512;
const WASM_MIN_OUTPUTS = 16;
const WASM_MIN_COLS = 2;

/** True when `"auto"` hands a float32 `m x k x n` product to the WebAssembly kernel (its size pays; see WASM_MIN_WORK). */
export function wasmPays(m: number, k: number, n: number): boolean {
  return n >= WASM_MIN_COLS && m * n >= WASM_MIN_OUTPUTS && m * k * n >= WASM_MIN_WORK;
}
/** Products with fewer rows than this take the small path, unpacked. */
const MIN_ROWS = 4;
/** Products with fewer columns than this take the small path, unpacked. */
const MIN_COLS = 3;
/** The narrowest C whose rows the small path sums as rows rather than as dot products. */
const ROW_FORM_MIN_N = 16;


/** The epilogue of one block of k, as the micro-kernel applies it to each stored sum. */
interface Finish {
  /** Add C's old value (an earlier k block, or `accumulate`). */
  readonly beta: boolean;
  /** The bias (only on the last k block). */
  readonly bias: FloatArray | undefined;
  /** Where column 0 of C reads its bias. */
  readonly biasOffset: number;
  /** Apply relu (only on the last k block). */
  readonly relu: boolean;
}

/** Checks that every element of a `rows x cols` view lies inside its array. */
function checkView(op: string, what: string, view: MatrixView, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return;
  const { data, offset, rowStride, colStride } = view;
  if (!Number.isInteger(offset) || !Number.isInteger(rowStride) || !Number.isInteger(colStride) || offset < 0 || rowStride < 0 || colStride < 0) {
    shapeError(op, `${what} has offset ${offset} and strides ${rowStride}, ${colStride}: they must be non-negative integers`);
  }
  const last = offset + (rows - 1) * rowStride + (cols - 1) * colStride;
  if (last >= data.length) shapeError(op, `${what} of ${rows} x ${cols} reaches element ${last} of an array of ${data.length}`);
}

/**
 * The strided product `C = act(A @ B + bias)` (or `act(C + A @ B + bias)` with
 * `accumulate`), where A is `m x k`, B is `k x n` and C is `m x n`, each read or
 * written in place through its view. C must not overlap A or B.
 *
 * @example
 * const a = Float64Array.of(1, 2, 3, 4); // [[1, 2], [3, 4]]
 * const c = new Float64Array(4);
 * // A^T @ A: A^T is A's data with its strides swapped
 * gemm(2, 2, 2, { data: a, offset: 0, rowStride: 1, colStride: 2 }, { data: a, offset: 0, rowStride: 2, colStride: 1 }, { data: c, offset: 0, rowStride: 2, colStride: 1 });
 * // c is [10, 14, 14, 20]
 */
export function gemm(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, options: GemmOptions = {}): void {
  checkView("gemm", "A", a, m, k);
  checkView("gemm", "B", b, k, n);
  checkView("gemm", "C", c, m, n);
  const { bias, biasOffset = 0, activation = "none", accumulate = false, backend = "auto", packedB } = options;
  if (bias !== undefined && n > 0 && (biasOffset < 0 || biasOffset + n > bias.length)) {
    shapeError("gemm", `bias of ${bias.length} elements has no ${n} entries from ${biasOffset}`);
  }
  if (m === 0 || n === 0) return;
  const last: Finish = { beta: accumulate, bias, biasOffset, relu: activation === "relu" };
  const wasm = backend === "wasm" || (backend === "auto" && wasmPays(m, k, n));
  if (k === 0) {
    finishOnly(m, n, c, last);
  } else if (wasm && wasmGemm(m, k, n, a, b, c, last, packedB)) {
    return;
  } else if (m < MIN_ROWS || n < MIN_COLS) {
    gemmSmall(m, k, n, a, b, c, last);
  } else {
    gemmBlocked(m, k, n, a, b, c, last);
  }
}

/** C = act(beta * C + bias): the product over an empty k. */
function finishOnly(m: number, n: number, c: MatrixView, f: Finish): void {
  const { data, offset, rowStride, colStride } = c;
  for (let i = 0; i < m; i++) {
    for (let j = 0, at = offset + i * rowStride; j < n; j++, at += colStride) data[at] = finished(0, data, at, j, f);
  }
}

/**
 * The product without packing, for products with fewer than MIN_ROWS rows or
 * MIN_COLS columns (tiny ones, and thin ones such as a vector times a
 * matrix), where a sweep would mostly multiply padding. Measured on the bench
 * machine, packing pays from 8 x 8 x 8 on (1.0 GFLOP/s against 0.8 for dot
 * products; at 4 x 4 x 4 dot products win, 0.38 against 0.25, but either
 * takes a fraction of a microsecond). When B's rows are contiguous
 * and wide, each row of C is summed into a float64 row, `C[i] += A[i, p] *
 * B[p]`, which reads B front to back (a vector times a matrix); otherwise each
 * element is a dot product in a scalar local.
 */
function gemmSmall(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, f: Finish): void {
  const ad = a.data;
  const bd = b.data;
  const cd = c.data;
  if (b.colStride === 1 && n >= ROW_FORM_MIN_N) {
    const sums = scratch.float64("rowSums", n); // row accumulators of the small path
    for (let i = 0; i < m; i++) {
      sums.fill(0, 0, n);
      const aRow = a.offset + i * a.rowStride;
      for (let p = 0; p < k; p++) {
        const x = ad[aRow + p * a.colStride] ?? 0;
        const bRow = b.offset + p * b.rowStride;
        for (let j = 0; j < n; j++) sums[j] = (sums[j] ?? 0) + x * (bd[bRow + j] ?? 0);
      }
      for (let j = 0, at = c.offset + i * c.rowStride; j < n; j++, at += c.colStride) cd[at] = finished(sums[j] ?? 0, cd, at, j, f);
    }
    return;
  }
  const { rowStride: aRowStride, colStride: aColStride } = a;
  const { rowStride: bRowStride, colStride: bColStride } = b;
  for (let i = 0; i < m; i++) {
    const aRow = a.offset + i * aRowStride;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0, pa = aRow, pb = b.offset + j * bColStride; p < k; p++, pa += aColStride, pb += bRowStride) {
        sum += (ad[pa] ?? 0) * (bd[pb] ?? 0);
      }
      const at = c.offset + i * c.rowStride + j * c.colStride;
      cd[at] = finished(sum, cd, at, j, f);
    }
  }
}

/**
 * The packed, blocked product. k goes in blocks of KC (the last one shorter),
 * m in blocks of MC rows; each block of A is packed as float64 rows
 * `width` apart (its depth rounded up to whole sweeps, zeros after). Then for
 * each LANES columns of C, sweeps of TAPS rows of B each add their part of
 * the product to a float64 block of sums, which is finally stored into C
 * with the epilogue.
 */
function gemmBlocked(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, last: Finish): void {
  // NOTE: blocks of KC, not of equal depth (measured: 7% faster at k = 1024, where equal blocks would be 256 deep, 261 wide).
  const depth = Math.min(k, KC);
  const width = roundUp(depth, TAPS);
  const sumsAt = Math.min(m, MC) * width;
  const size = sumsAt + Math.min(m, MC) * LANES;
  // a packed block of A (rows `width` apart), then the float64 sums of a block of C (LANES per row)
  const buffer = scratch.float64("pack", size);
  // the block of B of one sweep, `[lane][tap]`, on its way to scalar locals
  const stationary = scratch.float64("gemmStationary", LANES * TAPS);
  for (let pc = 0; pc < k; pc += depth) {
    const kc = Math.min(depth, k - pc);
    const f: Finish = pc + kc === k ? { ...last, beta: last.beta || pc > 0 } : { beta: last.beta || pc > 0, bias: undefined, biasOffset: 0, relu: false };
    for (let ic = 0; ic < m; ic += MC) {
      const mc = Math.min(MC, m - ic);
      packA(buffer, a, ic, mc, pc, kc, width);
      for (let jc = 0; jc < n; jc += LANES) {
        const lanes = Math.min(LANES, n - jc);
        buffer.fill(0, sumsAt, sumsAt + mc * LANES);
        for (let p = 0; p < kc; p += TAPS) {
          loadStationary(stationary, b, pc + p, Math.min(TAPS, kc - p), jc, lanes);
          sweep(stationary, buffer, mc, p, width, sumsAt);
        }
        storeSums(c, buffer, sumsAt, ic, mc, jc, lanes, f);
      }
    }
  }
}

function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}

/**
 * Packs `A[i0 .. i0 + mc, p0 .. p0 + kc]` at the start of `buffer` as float64
 * rows `width` apart, each zero after its `kc` values.
 */
function packA(buffer: Float64Array, a: MatrixView, i0: number, mc: number, p0: number, kc: number, width: number): void {
  const { data, rowStride, colStride } = a;
  for (let i = 0; i < mc; i++) {
    let q = i * width;
    for (let p = 0, s = a.offset + (i0 + i) * rowStride + p0 * colStride; p < kc; p++, s += colStride) buffer[q++] = data[s] ?? 0;
    buffer.fill(0, q, (i + 1) * width);
  }
}

/** Puts `B[p0 .. p0 + taps, j0 .. j0 + lanes]` in `stationary` as `[lane][tap]`, zero past `taps` and `lanes`. */
function loadStationary(stationary: Float64Array, b: MatrixView, p0: number, taps: number, j0: number, lanes: number): void {
  const { data, offset, rowStride, colStride } = b;
  for (let lane = 0; lane < LANES; lane++) {
    for (let t = 0; t < TAPS; t++) stationary[lane * TAPS + t] = t < taps && lane < lanes ? (data[offset + (p0 + t) * rowStride + (j0 + lane) * colStride] ?? 0) : 0;
  }
}

/**
 * The micro-kernel, B-stationary: the LANES x TAPS block of B sits in scalar
 * locals while the sweep walks `rows` packed rows of A; each row loads its
 * TAPS values (from column `p`) once and adds LANES dot products of them to
 * its sums, from `buffer[sumsAt]`, LANES per row.
 *
 * NOTE: the block of B is read into locals through a Float64Array, so that
 * V8 holds them as doubles; they stay in registers and stack slots, read with
 * no bounds check, and each row makes 13 loads and 4 stores of the array
 * for 36 multiply-adds (a 4 x 3 register tile, the kernel this replaced,
 * made 7 loads for 12 and spilled its accumulators: 0.8 to 0.87 of its time
 * from n = 256 to 1024).
 */
function sweep(stationary: Float64Array, buffer: Float64Array, rows: number, p: number, width: number, sumsAt: number): void {
  const k = stationary;
  // w{lane}{tap}
  const w00 = k[0] ?? 0, w01 = k[1] ?? 0, w02 = k[2] ?? 0, w03 = k[3] ?? 0, w04 = k[4] ?? 0, w05 = k[5] ?? 0, w06 = k[6] ?? 0, w07 = k[7] ?? 0, w08 = k[8] ?? 0;
  const w10 = k[9] ?? 0, w11 = k[10] ?? 0, w12 = k[11] ?? 0, w13 = k[12] ?? 0, w14 = k[13] ?? 0, w15 = k[14] ?? 0, w16 = k[15] ?? 0, w17 = k[16] ?? 0, w18 = k[17] ?? 0;
  const w20 = k[18] ?? 0, w21 = k[19] ?? 0, w22 = k[20] ?? 0, w23 = k[21] ?? 0, w24 = k[22] ?? 0, w25 = k[23] ?? 0, w26 = k[24] ?? 0, w27 = k[25] ?? 0, w28 = k[26] ?? 0;
  const w30 = k[27] ?? 0, w31 = k[28] ?? 0, w32 = k[29] ?? 0, w33 = k[30] ?? 0, w34 = k[31] ?? 0, w35 = k[32] ?? 0, w36 = k[33] ?? 0, w37 = k[34] ?? 0, w38 = k[35] ?? 0;
  for (let i = 0, at = p, s = sumsAt; i < rows; i++, at += width, s += LANES) {
    const x0 = buffer[at] ?? 0, x1 = buffer[at + 1] ?? 0, x2 = buffer[at + 2] ?? 0, x3 = buffer[at + 3] ?? 0, x4 = buffer[at + 4] ?? 0;
    const x5 = buffer[at + 5] ?? 0, x6 = buffer[at + 6] ?? 0, x7 = buffer[at + 7] ?? 0, x8 = buffer[at + 8] ?? 0;
    const y0 = x0 * w00 + x1 * w01 + x2 * w02 + x3 * w03 + x4 * w04 + x5 * w05 + x6 * w06 + x7 * w07 + x8 * w08;
    const y1 = x0 * w10 + x1 * w11 + x2 * w12 + x3 * w13 + x4 * w14 + x5 * w15 + x6 * w16 + x7 * w17 + x8 * w18;
    const y2 = x0 * w20 + x1 * w21 + x2 * w22 + x3 * w23 + x4 * w24 + x5 * w25 + x6 * w26 + x7 * w27 + x8 * w28;
    const y3 = x0 * w30 + x1 * w31 + x2 * w32 + x3 * w33 + x4 * w34 + x5 * w35 + x6 * w36 + x7 * w37 + x8 * w38;
    // NOTE: the sums start at 0 (not at the first sweep's values, which measured 12% slower), so a sum of -0 products is 0.
    buffer[s] = (buffer[s] ?? 0) + y0;
    buffer[s + 1] = (buffer[s + 1] ?? 0) + y1;
    buffer[s + 2] = (buffer[s + 2] ?? 0) + y2;
    buffer[s + 3] = (buffer[s + 3] ?? 0) + y3;
  }
}

/** Stores the sums of C's rows `i0 .. i0 + mc`, columns `j0 .. j0 + lanes` (LANES per row from `buffer[sumsAt]`) with the epilogue. */
function storeSums(c: MatrixView, buffer: Float64Array, sumsAt: number, i0: number, mc: number, j0: number, lanes: number, f: Finish): void {
  const { data, rowStride, colStride } = c;
  if (!f.beta && f.bias === undefined && !f.relu) {
    for (let i = 0; i < mc; i++) {
      for (let j = 0, at = c.offset + (i0 + i) * rowStride + j0 * colStride; j < lanes; j++, at += colStride) data[at] = buffer[sumsAt + i * LANES + j] ?? 0;
    }
    return;
  }
  for (let i = 0; i < mc; i++) {
    for (let j = 0, at = c.offset + (i0 + i) * rowStride + j0 * colStride; j < lanes; j++, at += colStride) {
      data[at] = finished(buffer[sumsAt + i * LANES + j] ?? 0, data, at, j0 + j, f);
    }
  }
}

/** The value stored for a sum at `c[at]` in column `col`: `act(beta * C + (sum + bias[col]))`. */
function finished(sum: number, c: FloatArray, at: number, col: number, f: Finish): number {
  const v = f.bias === undefined ? sum : sum + (f.bias[f.biasOffset + col] ?? 0);
  const y = f.beta ? (c[at] ?? 0) + v : v;
  return f.relu && y < 0 ? 0 : y;
}
