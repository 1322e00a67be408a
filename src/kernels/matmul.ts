/**
 * Matrix products: the blocked, register-tiled kernel behind `dot_general`,
 * and (through im2col) behind convolution.
 *
 * `matmul` computes `C[b] = act(A[b] @ B[b] + bias)` for a batch of products;
 * `gemm` is the one strided product it is made of, which reads each operand
 * in place through a `MatrixView` (a transposed operand is the same data with
 * its two strides swapped, so `A^T @ ct` and `ct @ B^T` copy nothing).
 *
 * The idea is Goto and van de Geijn's ("Anatomy of high-performance matrix
 * multiplication", 2008) as BLIS lays it out: a block of B (KC x NC) is packed
 * into contiguous column panels NR wide, a block of A (MC x KC) into row
 * panels MR tall, and a micro-kernel multiplies one A panel by one B panel
 * into an MR x NR tile held in scalar locals, so that each loaded value is
 * used NR (or MR) times. Packing also turns every layout (transposed,
 * strided, float32 or float64) into one layout of float64, so the micro-kernel
 * sees a single monomorphic array and tiles at the edge are padded with zeros
 * instead of needing their own loops. A product with fewer rows or columns
 * than a tile (1 x 1, a vector times a matrix) skips packing: a plain loop
 * is the fast path there.
 *
 * Measured on the bench machine (Node 20, V8 11.3, x64, N = 1024 float32):
 * a 4 x 3 tile did best (about 4.5-5 GFLOP/s); 4 x 4 needs 16 accumulators,
 * more than the 15 double registers V8 allocates on x64, and spills more
 * (about 4.3); 3 x 3 and 2 x 4 load more per multiply (4.3-4.5). MC = 64
 * and k blocks of at most KC = 384 keep a packed A block (at most 192 KiB of
 * float64) in L2 and a B panel (at most 9 KiB) in L1. The k blocks are of
 * equal depth (k = 288, a 3 x 3 x 32 convolution, is one block, not 256 +
 * 32), which measured a few percent faster than fixed blocks of 256.
 *
 * Sums over k accumulate in float64 within a block of k; for float32 output
 * the tile is rounded once per block, so it is at least as exact as float32
 * throughout. The epilogue (bias, then relu) runs on the last block as the
 * tile is stored, so it costs no extra pass over C.
 *
 * Leaves out: threads, SIMD and WebAssembly (the CPU backend is plain
 * JavaScript, single thread), integer products, and complex numbers.
 *
 * NOTE: the packing buffer is module state, reused across calls and grown on
 * demand; a product never calls out while it runs, so this is safe in
 * single-threaded JavaScript (each worker has its own module instance).
 */

import { shapeError } from "../core/errors.js";

/** The float storages the kernels read and write. */
export type FloatArray = Float32Array | Float64Array;

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
 * A matrix read in place: element `(i, j)` is
 * `data[offset + i * rowStride + j * colStride]`. A row-major `[rows, cols]`
 * array is `{ offset: 0, rowStride: cols, colStride: 1 }`; its transpose is the
 * same data with the strides swapped.
 */
export interface MatrixView<F extends FloatArray = FloatArray> {
  readonly data: F;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** The options of `gemm`: an epilogue, and whether to add to what C holds. */
export interface GemmOptions extends Epilogue {
  /**
   * When true, `C = act(C + A @ B + bias)`: the product is added to C's old
   * values (used to sum a product over chunks of k). Default false.
   */
  readonly accumulate?: boolean | undefined;
}

/** The sizes, layout and epilogue of a batched product. */
export interface MatmulOptions extends Epilogue {
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
  const epilogue: GemmOptions = { bias: options.bias, biasOffset: options.biasOffset, activation: options.activation };
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

/** Rows of a register tile. */
const MR = 4;
/** Columns of a register tile. */
const NR = 3;
/** Largest depth of a packed block (rows of a B block, columns of an A block). */
const KC = 384;
/** Rows of a packed A block. */
const MC = 64;
/** Columns of a packed B block (a multiple of NR). */
const NC = 1536;
/** The narrowest C whose rows the small path sums as rows rather than as dot products. */
const ROW_FORM_MIN_N = 16;

/** Packed panels of A (first) and B (after `bRegion`), as float64. */
let pack = new Float64Array(0);
/** Row accumulators of the small path. */
let rowSums = new Float64Array(0);

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
  const { bias, biasOffset = 0, activation = "none", accumulate = false } = options;
  if (bias !== undefined && n > 0 && (biasOffset < 0 || biasOffset + n > bias.length)) {
    shapeError("gemm", `bias of ${bias.length} elements has no ${n} entries from ${biasOffset}`);
  }
  if (m === 0 || n === 0) return;
  const last: Finish = { beta: accumulate, bias, biasOffset, relu: activation === "relu" };
  if (k === 0) {
    finishOnly(m, n, c, last);
  } else if (m < MR || n < NR) {
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
 * The product without packing, for products with fewer rows or columns than
 * a tile (tiny ones, and thin ones such as a vector times a matrix), where a
 * tile would mostly multiply padding. Measured on the bench machine, packing
 * already pays from 4 x 4 x 4 on (about 0.5 us either way there; at 8 x 8 x 8
 * the packed path took 1.2 us and dot products 2.8 us), so every product
 * with a full tile is packed. When B's rows are contiguous
 * and wide, each row of C is summed into a float64 row, `C[i] += A[i, p] *
 * B[p]`, which reads B front to back (a vector times a matrix); otherwise each
 * element is a dot product in a scalar local.
 */
function gemmSmall(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, f: Finish): void {
  const ad = a.data;
  const bd = b.data;
  const cd = c.data;
  if (b.colStride === 1 && n >= ROW_FORM_MIN_N) {
    if (rowSums.length < n) rowSums = new Float64Array(n);
    const sums = rowSums;
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

/** The packed, blocked product (Goto's loop nest: jc, pc, ic, jr, ir). */
function gemmBlocked(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, last: Finish): void {
  // k in blocks of equal depth, none deeper than KC.
  const depth = Math.ceil(k / Math.ceil(k / KC));
  const bRegion = roundUp(Math.min(m, MC), MR) * depth;
  const size = bRegion + depth * roundUp(Math.min(n, NC), NR);
  if (pack.length < size) pack = new Float64Array(size);
  const buffer = pack;
  const cd = c.data;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += depth) {
      const kc = Math.min(depth, k - pc);
      const isLast = pc + kc === k;
      const f: Finish = isLast
        ? { ...last, beta: last.beta || pc > 0, biasOffset: last.biasOffset + jc }
        : { beta: last.beta || pc > 0, bias: undefined, biasOffset: 0, relu: false };
      packB(buffer, bRegion, b, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(buffer, a, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const cAt = c.offset + (ic + ir) * c.rowStride + (jc + jr) * c.colStride;
            kernel4x3(kc, buffer, ir * kc, bRegion + jr * kc, cd, cAt, c.rowStride, c.colStride, Math.min(MR, mc - ir), nr, jr, f);
          }
        }
      }
    }
  }
}

function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}

/**
 * Packs `A[i0 .. i0 + mc, p0 .. p0 + kc]` at the start of `buffer` as row
 * panels: panel `r` holds, for each p in turn, the MR values
 * `A[i0 + r * MR + 0 .. MR - 1, p]`, zero past the last row.
 */
function packA(buffer: Float64Array, a: MatrixView, i0: number, mc: number, p0: number, kc: number): void {
  const { data, rowStride, colStride } = a;
  let q = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = Math.min(MR, mc - ir);
    const s0 = a.offset + (i0 + ir) * rowStride + p0 * colStride;
    if (mr === MR) {
      for (let p = 0, s = s0; p < kc; p++, s += colStride, q += MR) {
        buffer[q] = data[s] ?? 0;
        buffer[q + 1] = data[s + rowStride] ?? 0;
        buffer[q + 2] = data[s + 2 * rowStride] ?? 0;
        buffer[q + 3] = data[s + 3 * rowStride] ?? 0;
      }
    } else {
      for (let p = 0, s = s0; p < kc; p++, s += colStride) {
        for (let i = 0; i < MR; i++) buffer[q++] = i < mr ? (data[s + i * rowStride] ?? 0) : 0;
      }
    }
  }
}

/**
 * Packs `B[p0 .. p0 + kc, j0 .. j0 + nc]` from `buffer[at]` as column panels:
 * panel `r` holds, for each p in turn, the NR values
 * `B[p, j0 + r * NR + 0 .. NR - 1]`, zero past the last column.
 */
function packB(buffer: Float64Array, at: number, b: MatrixView, p0: number, kc: number, j0: number, nc: number): void {
  const { data, rowStride, colStride } = b;
  let q = at;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const s0 = b.offset + p0 * rowStride + (j0 + jr) * colStride;
    if (nr === NR) {
      for (let p = 0, s = s0; p < kc; p++, s += rowStride, q += NR) {
        buffer[q] = data[s] ?? 0;
        buffer[q + 1] = data[s + colStride] ?? 0;
        buffer[q + 2] = data[s + 2 * colStride] ?? 0;
      }
    } else {
      for (let p = 0, s = s0; p < kc; p++, s += rowStride) {
        for (let j = 0; j < NR; j++) buffer[q++] = j < nr ? (data[s + j * colStride] ?? 0) : 0;
      }
    }
  }
}

/**
 * The micro-kernel: the 4 x 3 tile `sum_p Apanel[p] * Bpanel[p]` in twelve
 * scalar locals, then stored (with the epilogue) into the `mr x nr` corner of
 * C at `cAt`. `col` is the tile's first column within the current block of C.
 *
 * NOTE: the index arithmetic is written `(x + 4) | 0`: it tells V8 the sum is
 * an int32, which drops an overflow check per load (measured: about 10%
 * faster). Indices stay far below 2^31 (the buffer is a few MiB).
 */
function kernel4x3(
  kc: number,
  buffer: Float64Array,
  aAt: number,
  bAt: number,
  c: FloatArray,
  cAt: number,
  cRow: number,
  cCol: number,
  mr: number,
  nr: number,
  col: number,
  f: Finish,
): void {
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  const end = (aAt + kc * MR) | 0;
  for (let pa = aAt | 0, pb = bAt | 0; pa < end; pa = (pa + 4) | 0, pb = (pb + 3) | 0) {
    const b0 = buffer[pb] ?? 0;
    const b1 = buffer[(pb + 1) | 0] ?? 0;
    const b2 = buffer[(pb + 2) | 0] ?? 0;
    const a0 = buffer[pa] ?? 0;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    const a1 = buffer[(pa + 1) | 0] ?? 0;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    const a2 = buffer[(pa + 2) | 0] ?? 0;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    const a3 = buffer[(pa + 3) | 0] ?? 0;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
  }
  // The epilogue's bias for the tile's columns; -0 is the identity of addition (x + -0 is x, even for x = -0).
  const bias = f.bias;
  const at = f.biasOffset + col;
  const x0 = bias === undefined ? -0 : (bias[at] ?? 0);
  const x1 = bias === undefined || nr < 2 ? -0 : (bias[at + 1] ?? 0);
  const x2 = bias === undefined || nr < 3 ? -0 : (bias[at + 2] ?? 0);
  const { beta, relu } = f;
  storeRow(c, cAt, cCol, nr, c00 + x0, c01 + x1, c02 + x2, beta, relu);
  if (mr > 1) storeRow(c, cAt + cRow, cCol, nr, c10 + x0, c11 + x1, c12 + x2, beta, relu);
  if (mr > 2) storeRow(c, cAt + 2 * cRow, cCol, nr, c20 + x0, c21 + x1, c22 + x2, beta, relu);
  if (mr > 3) storeRow(c, cAt + 3 * cRow, cCol, nr, c30 + x0, c31 + x1, c32 + x2, beta, relu);
}

/**
 * Stores the first `nr` of one tile row's three values (sum plus bias) from
 * `c[at]`, `step` apart: `act(beta * C + value)`.
 */
function storeRow(c: FloatArray, at: number, step: number, nr: number, v0: number, v1: number, v2: number, beta: boolean, relu: boolean): void {
  const y0 = beta ? (c[at] ?? 0) + v0 : v0;
  c[at] = relu && y0 < 0 ? 0 : y0;
  if (nr < 2) return;
  const y1 = beta ? (c[at + step] ?? 0) + v1 : v1;
  c[at + step] = relu && y1 < 0 ? 0 : y1;
  if (nr < 3) return;
  const y2 = beta ? (c[at + 2 * step] ?? 0) + v2 : v2;
  c[at + 2 * step] = relu && y2 < 0 ? 0 : y2;
}

/** The value stored for a sum at `c[at]` in column `col`: `act(beta * C + (sum + bias[col]))`, as `storeRow` does. */
function finished(sum: number, c: FloatArray, at: number, col: number, f: Finish): number {
  const v = f.bias === undefined ? sum : sum + (f.bias[f.biasOffset + col] ?? 0);
  const y = f.beta ? (c[at] ?? 0) + v : v;
  return f.relu && y < 0 ? 0 : y;
}
