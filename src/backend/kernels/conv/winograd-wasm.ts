/**
 * Winograd's minimal filtering F(4 x 4, 3 x 3) in WebAssembly SIMD (Lavin
 * and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016;
 * the interpolation points 0, 1, -1, 2, -2 and infinity of its F(4, 3)):
 * each 4 x 4 tile of the output is `A^T [(G g G^T) * (B^T d B)] A`, summed
 * over input channels, where `d` is the 6 x 6 input patch under the tile and
 * `g` a 3 x 3 filter: 36 multiplies per tile and channel pair where the
 * direct sum takes 144. The sum over channels is 36 independent matrix
 * products, one per entry `e` of the 6 x 6 transforms: `M[e] = V[e] @ U[e]`,
 * `V[e]` the `[tiles, C]` transformed input, `U[e]` the `[C, O]` transformed
 * filter.
 *
 * Four WebAssembly functions over the runtime's shared memory, each built
 * for one geometry (its channel counts and row strides are constants in the
 * code: validated integers only, nothing from the data):
 *
 * - the filter transform `U = G g G^T`, four output channels a vector, into
 *   panels of 8 output channels (`[e][O / 8][C][8]`, zero-padded);
 * - the input transform `V = B^T d B`, four channels a vector, over the
 *   input staged with its padding written out (every patch lies inside);
 * - the products: for each `e`, a 4 x 8 register tile of `M[e]` in eight
 *   f32x4 accumulators while each channel step splats 4 values of `V[e]`
 *   and loads 8 of `U[e]`: the register tile of the WebAssembly matmul, on
 *   operands laid out so that no packing pass is needed;
 * - the output transform `Y = A^T M A`, plus the bias and relu.
 *
 * Tiles go a chunk at a time (WINOGRAD_CHUNK_BYTES of `V` and `M`), so the
 * transformed data stays in the L2 cache between the three steps.
 *
 * NOTE: every sum runs in a fixed order (transforms in the order of their
 * matrices' entries, the sum over channels from the first to the last), so
 * the results are the same bits on every run. F(4 x 4, 3 x 3) is less exact
 * than the direct sum: its transforms scale terms by up to 8 x 8 (`A`) and
 * 25 (`B`) and cancel them again. Measured in float32 against a float64
 * direct sum (`laws/conv-winograd.law.test.ts` holds the bound): the error
 * of an output is at most WINOGRAD_ERROR_BOUND times the sum over its window
 * of `|x| |w|`, summed over channels.
 *
 * Left out: groups other than 1, float64 (the JavaScript F(2 x 2, 3 x 3) of
 * `winograd.ts` serves it), tiles of other sizes at the edges (an output of
 * 14 computes 16 rows and drops 2).
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { instantiateKernel, type WasmEpilogue } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";

/**
 * The error bound of `conv2dWinogradWasm`: an output's error is at most
 * WINOGRAD_ERROR_BOUND times `sum |x| |w|` over its window and channels
 * (the bias included), plus WINOGRAD_ERROR_FLOOR per input channel for
 * results in the subnormal range. Measured on random inputs in [-1, 1)
 * against a float64 direct sum: at most 1.5e-6 of that sum at 32 channels
 * (the bench's 14 x 14, 32 to 64), 1.2e-6 at 256; F(2 x 2, 3 x 3) reaches
 * about 2e-7. The law (`laws/conv-winograd.law.test.ts`) holds the bound
 * with edge values mixed in; the kernel laws' float32 bound (2e-5) holds too.
 */
export const WINOGRAD_ERROR_BOUND = 1e-5;

/** The absolute part of the bound, per input channel: 2^-126, above the subnormal roundings (under 36 x 324 x 2^-149 each). */
export const WINOGRAD_ERROR_FLOOR = 2 ** -126;

// B^T (6 x 6): the input transform, `V = B^T d B`.
const BT: readonly (readonly number[])[] = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
// G (6 x 3): the filter transform, `U = G g G^T`.
const G: readonly (readonly number[])[] = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
// A^T (4 x 6): the output transform, `Y = A^T M A`.
const AT: readonly (readonly number[])[] = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

/** Side of a transformed tile (6) and of an output tile (4). */
const ALPHA = 6;
const TILE = 4;
const E = ALPHA * ALPHA;
const FLOAT = 4;
const VECTOR = 16;
/** Rows (tiles) and columns (output channels) of the products' register tile. */
const MR = 4;
const NR = 8;
/** About how many bytes of `V` and `M` a chunk of tiles takes. */
const WINOGRAD_CHUNK_BYTES = 512 * 1024;

const roundUp = (x: number, multiple: number): number => Math.ceil(x / multiple) * multiple;

/** `v128.const` of four float32 lanes, all `v` (a coefficient of the fixed matrices above). */
function f32x4Const(f: FunctionBody, v: number): void {
  const lane = [...new Uint8Array(Float32Array.of(v).buffer)];
  f.simd(SimdOp.v128_const, lane, lane, lane, lane);
}

/**
 * Pushes `sum_k coeffs[k] * value(k)` (an f32x4), the terms in index order,
 * zero coefficients skipped: `+-1` by add or subtract, others by a multiply.
 */
function combine(f: FunctionBody, coeffs: readonly number[], value: (k: number) => void): void {
  let first = true;
  coeffs.forEach((c, k) => {
    if (c === 0) return;
    value(k);
    const size = Math.abs(c);
    if (size !== 1) {
      f32x4Const(f, first ? c : size);
      f.simd(SimdOp.f32x4_mul);
    } else if (first && c < 0) {
      f.simd(SimdOp.f32x4_neg);
    }
    if (!first) f.simd(c < 0 ? SimdOp.f32x4_sub : SimdOp.f32x4_add);
    first = false;
  });
  if (first) f.zeros();
}

const v128At = (offset: number): number[] => FunctionBody.memarg(ALIGN_16, offset);
const v128Unaligned = (offset: number): number[] => FunctionBody.memarg(ALIGN_4, offset);

/**
 * `Y = L X L^T` for one vector of lanes: `X` is `b x b` (L is `p x b`),
 * read by `load(r, q)` (which pushes an f32x4); `L X` goes to the scratch
 * vectors at `scratch`, and each `Y[i][j]` is handed to `store(i, j)` with
 * its value on the stack (after `before(i, j)` pushed what the store needs under it).
 */
function transform2d(
  f: FunctionBody,
  L: readonly (readonly number[])[],
  scratch: number,
  load: (r: number, q: number) => void,
  before: (i: number, j: number) => void,
  store: (i: number, j: number) => void,
): void {
  const p = L.length;
  const b = L[0]?.length ?? 0;
  // (L X)[i][q] = sum_r L[i][r] X[r][q]
  for (let i = 0; i < p; i++) {
    for (let q = 0; q < b; q++) {
      f.get(scratch);
      combine(f, L[i] ?? [], (r) => load(r, q));
      f.simd(SimdOp.v128_store, v128At((i * b + q) * VECTOR));
    }
  }
  // Y[i][j] = sum_q (L X)[i][q] L[j][q]
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      before(i, j);
      combine(f, L[j] ?? [], (q) => void f.get(scratch).simd(SimdOp.v128_load, v128At((i * b + q) * VECTOR)));
      store(i, j);
    }
  }
}

/** `counter -= 1`, and loop again while it is not 0. */
const countDown = (f: FunctionBody, counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
const addTo = (f: FunctionBody, local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);

/** The sizes a set of kernels is built for (every one a validated integer). */
interface Plan {
  /** Input channels rounded up to 4, output channels to 8 and to 4. */
  readonly c4: number;
  readonly o8: number;
  readonly o4: number;
  /** Tiles per chunk (a multiple of MR). */
  readonly chunk: number;
  /** Staged input: rows and columns (with the padding written out). */
  readonly inRows: number;
  readonly inCols: number;
  /** Staged output: rows and columns (whole tiles). */
  readonly outRows: number;
  readonly outCols: number;
  readonly bias: boolean;
  readonly relu: boolean;
}

/**
 * `filter(w, u, scratch)`: from the staged filter at `w` (`[3][3][c4][o8]`),
 * `U` at `u` as `[e][o8 / 8][c4][8]`.
 */
function filterBody(plan: Plan): FunctionBody {
  const { c4, o8 } = plan;
  const f = new FunctionBody(3);
  const [w, u, scratch] = [0, 1, 2];
  const panels = f.local(ValType.i32);
  const channels = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const to = f.local(ValType.i32);
  const planeU = c4 * o8 * FLOAT;
  f.i32(o8 / NR).set(panels);
  f.loop(); // over panels of 8 output channels: w and u move on to the next panel
  for (const half of [0, VECTOR]) {
    // 4 output channels: from w + half, to u + half
    f.get(w).i32(half).op(Op.i32_add).set(from).get(u).i32(half).op(Op.i32_add).set(to);
    f.i32(c4).set(channels);
    f.loop(); // over input channels
    transform2d(
      f,
      G,
      scratch,
      (r, q) => void f.get(from).simd(SimdOp.v128_load, v128Unaligned((r * 3 + q) * c4 * o8 * FLOAT)),
      () => void f.get(to),
      (i, j) => void f.simd(SimdOp.v128_store, v128At((i * ALPHA + j) * planeU)),
    );
    addTo(f, from, o8 * FLOAT);
    addTo(f, to, NR * FLOAT);
    countDown(f, channels);
    f.end();
  }
  addTo(f, w, NR * FLOAT);
  addTo(f, u, c4 * NR * FLOAT);
  countDown(f, panels);
  f.end();
  return f;
}

/**
 * `input(table, count, v, scratch)`: for each of `count` tiles (the byte
 * address of its patch's corner in the staged input, from the i32 table),
 * `V[e][tile][c]` at `v` (`[e][chunk][c4]`).
 */
function inputBody(plan: Plan): FunctionBody {
  const { c4, chunk, inCols } = plan;
  const f = new FunctionBody(4);
  const [table, count, v, scratch] = [0, 1, 2, 3];
  const groups = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const to = f.local(ValType.i32);
  const planeV = chunk * c4 * FLOAT;
  const rowBytes = inCols * c4 * FLOAT;
  f.loop(); // over tiles
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).set(from);
  f.i32(c4 / 4).set(groups);
  f.loop(); // over groups of 4 channels
  transform2d(
    f,
    BT,
    scratch,
    (r, q) => void f.get(from).simd(SimdOp.v128_load, v128At(r * rowBytes + q * c4 * FLOAT)),
    () => void f.get(v),
    (i, j) => void f.simd(SimdOp.v128_store, v128At((i * ALPHA + j) * planeV)),
  );
  addTo(f, from, VECTOR);
  addTo(f, v, VECTOR);
  countDown(f, groups);
  f.end();
  addTo(f, table, 4);
  countDown(f, count);
  f.end();
  return f;
}

/**
 * `products(v, u, m, rowTiles)`: for each `e`, `M[e] = V[e] @ U[e]` over
 * `rowTiles` tiles of MR rows: `M` at `m` as `[e][chunk][o8]`.
 */
function productsBody(plan: Plan): FunctionBody {
  const { c4, o8, chunk } = plan;
  const f = new FunctionBody(4);
  const [v, u, m, rowTiles] = [0, 1, 2, 3];
  const entries = f.local(ValType.i32);
  const colLeft = f.local(ValType.i32);
  const rowLeft = f.local(ValType.i32);
  const steps = f.local(ValType.i32);
  const aRow = f.local(ValType.i32);
  const aAt = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const bAt = f.local(ValType.i32);
  const mColumn = f.local(ValType.i32);
  const mAt = f.local(ValType.i32);
  const acc = Array.from({ length: MR * 2 }, () => f.local(ValType.v128));
  const b0 = f.local(ValType.v128);
  const b1 = f.local(ValType.v128);
  const av = f.local(ValType.v128);
  const rowA = c4 * FLOAT;
  const rowM = o8 * FLOAT;
  f.i32(E).set(entries);
  f.loop(); // over e
  f.get(u).set(bPanel).get(m).set(mColumn).i32(o8 / NR).set(colLeft);
  f.loop(); // over panels of 8 output channels
  f.get(v).set(aRow).get(mColumn).set(mAt).get(rowTiles).set(rowLeft);
  f.loop(); // over tiles of 4 rows
  for (const a of acc) f.zeros().set(a);
  f.get(aRow).set(aAt).get(bPanel).set(bAt).i32(c4).set(steps);
  f.loop(); // over channels
  f.get(bAt).simd(SimdOp.v128_load, v128At(0)).set(b0);
  f.get(bAt).simd(SimdOp.v128_load, v128At(VECTOR)).set(b1);
  for (let r = 0; r < MR; r++) {
    f.get(aAt).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, r * rowA)).set(av);
    const [a0, a1] = [acc[2 * r] ?? 0, acc[2 * r + 1] ?? 0];
    f.get(a0).get(av).get(b0).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(a0);
    f.get(a1).get(av).get(b1).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(a1);
  }
  addTo(f, aAt, FLOAT);
  addTo(f, bAt, NR * FLOAT);
  countDown(f, steps);
  f.end();
  for (let r = 0; r < MR; r++) {
    f.get(mAt).get(acc[2 * r] ?? 0).simd(SimdOp.v128_store, v128At(r * rowM));
    f.get(mAt).get(acc[2 * r + 1] ?? 0).simd(SimdOp.v128_store, v128At(r * rowM + VECTOR));
  }
  addTo(f, aRow, MR * rowA);
  addTo(f, mAt, MR * rowM);
  countDown(f, rowLeft);
  f.end();
  addTo(f, bPanel, c4 * NR * FLOAT);
  addTo(f, mColumn, NR * FLOAT);
  countDown(f, colLeft);
  f.end();
  addTo(f, v, chunk * c4 * FLOAT);
  addTo(f, u, c4 * o8 * FLOAT);
  addTo(f, m, chunk * o8 * FLOAT);
  countDown(f, entries);
  f.end();
  return f;
}

/**
 * `output(table, count, m, scratch, bias)`: for each of `count` tiles (the
 * byte address of its output corner in the staged output, from the i32
 * table), `act(A^T M A + bias)` for its 4 x 4 pixels, `o4` channels each.
 */
function outputBody(plan: Plan): FunctionBody {
  const { o4, o8, chunk, outCols, relu, bias: withBias } = plan;
  const f = new FunctionBody(5);
  const [table, count, m, scratch, bias] = [0, 1, 2, 3, 4];
  const groups = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const to = f.local(ValType.i32);
  const biasAt = f.local(ValType.i32);
  const y = f.local(ValType.v128);
  const planeM = chunk * o8 * FLOAT;
  const rowBytes = outCols * o4 * FLOAT;
  f.get(m).set(from);
  f.loop(); // over tiles
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).set(to);
  f.get(bias).set(biasAt);
  f.i32(o4 / 4).set(groups);
  f.loop(); // over groups of 4 output channels
  transform2d(
    f,
    AT,
    scratch,
    (r, q) => void f.get(from).simd(SimdOp.v128_load, v128At((r * ALPHA + q) * planeM)),
    () => undefined,
    (i, j) => {
      if (withBias) f.get(biasAt).simd(SimdOp.v128_load, v128At(0)).simd(SimdOp.f32x4_add);
      f.set(y);
      f.get(to);
      if (relu) {
        // y < 0 ? 0 : y, lane by lane (the epilogue's rule: -0 and NaN stay)
        f.zeros().get(y).get(y).zeros().simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect);
      } else {
        f.get(y);
      }
      f.simd(SimdOp.v128_store, v128Unaligned(i * rowBytes + j * o4 * FLOAT));
    },
  );
  addTo(f, from, VECTOR);
  addTo(f, to, VECTOR);
  addTo(f, biasAt, VECTOR);
  countDown(f, groups);
  f.end();
  // the next tile's M rows follow: `from` moved on o4 floats, and the row is o8
  addTo(f, from, (o8 - o4) * FLOAT);
  addTo(f, table, 4);
  countDown(f, count);
  f.end();
  return f;
}

/** The four compiled kernels of one plan. */
interface Kernels {
  readonly filter: (w: number, u: number, scratch: number) => void;
  readonly input: (table: number, count: number, v: number, scratch: number) => void;
  readonly products: (v: number, u: number, m: number, rowTiles: number) => void;
  readonly output: (table: number, count: number, m: number, scratch: number, bias: number) => void;
}

/** Kernels by plan (a few shapes per model); emptied when it grows past KERNEL_CACHE_SIZE. */
const kernelCache = new Map<string, Kernels | null>();
const KERNEL_CACHE_SIZE = 64;

function kernelsOf(plan: Plan): Kernels | null {
  const key = [plan.c4, plan.o8, plan.o4, plan.chunk, plan.inRows, plan.inCols, plan.outRows, plan.outCols, plan.bias, plan.relu].join(",");
  const known = kernelCache.get(key);
  if (known !== undefined) return known;
  if (kernelCache.size >= KERNEL_CACHE_SIZE) kernelCache.clear();
  const filter = instantiateKernel(filterBody(plan), 3);
  const input = instantiateKernel(inputBody(plan), 4);
  const products = instantiateKernel(productsBody(plan), 4);
  const output = instantiateKernel(outputBody(plan), 5);
  const kernels = filter === null || input === null || products === null || output === null ? null : { filter, input, products, output };
  kernelCache.set(key, kernels);
  return kernels;
}

/**
 * True when a float32 convolution takes `conv2dWinogradWasm`: a 3 x 3 filter
 * with stride and dilation 1 and one group, where the products' multiplies
 * (36 per tile and pair of channels, the channels rounded up to 4 and 8, the
 * output to whole 4 x 4 tiles) are no more than the direct sum's 9 per
 * output and pair. Measured against the path each shape took before
 * (implicit GEMM from a depth of 64, the window kernel below), interleaved
 * in one process on a loaded 2-core Xeon, medians of 7: batch 64, 28 x 28,
 * 1 to 32 channels 0.91 of the time (the multiplies equal); 4 to 32, 0.10; 8
 * to 32, 0.27; 16 to 32, 0.28; 14 x 14, 32 to 64, 0.41; 64 to 32, 0.40;
 * batch 32, 14 x 14, 32 to 64 (the bench's), 0.45; batch 8, 7 x 7, 128 to
 * 128, 0.45; 28 x 28, 64 to 64, 0.24; 56 x 56, 16 to 16, 0.28.
 */
export function usesWinogradWasm(g: ConvGeometry): boolean {
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  if (!(unit && g.kernelHeight === 3 && g.kernelWidth === 3 && g.groups === 1)) return false;
  const tiles = g.batch * Math.ceil(g.outHeight / TILE) * Math.ceil(g.outWidth / TILE);
  const winograd = E * tiles * roundUp(g.inChannels, 4) * roundUp(g.outChannels, NR);
  const direct = 9 * g.batch * g.outHeight * g.outWidth * g.inChannels * g.outChannels;
  return winograd <= direct;
}

/**
 * True when the transforms cannot overflow on `x` and `w` (each has
 * `size` elements read): all finite (a NaN or infinity would spread over a
 * tile, and an infinity turn into NaN) and `max |x| * max |w| * channels`
 * below MAGNITUDE_LIMIT. The transforms scale a value by at most 100 (`B`),
 * 1 (`G`) and 18 x 18 (`A`), so no partial sum exceeds 32400 times that product.
 */
export function winogradSafe(x: Float32Array, xSize: number, w: Float32Array, wSize: number, channels: number): boolean {
  const mx = maxAbs(x, xSize);
  const mw = maxAbs(w, wSize);
  // NOTE: NaN fails the comparison, so a NaN or infinity anywhere answers false.
  return mx * mw * channels < MAGNITUDE_LIMIT;
}

/** 2^128 / 32400 / 2, rounded down: what keeps every partial sum of `conv2dWinogradWasm` finite. */
const MAGNITUDE_LIMIT = 5e33;

/** The largest `|a[i]|` of the first `size` elements; NaN if one is NaN. */
function maxAbs(a: Float32Array, size: number): number {
  let m = 0;
  for (let i = 0; i < size; i++) {
    const v = a[i] ?? 0;
    const magnitude = v < 0 ? -v : v;
    // NOTE: `magnitude > m` is false for NaN; the second test lets a NaN in (and the next returns it).
    if (magnitude > m || magnitude !== magnitude) m = magnitude;
    if (m !== m) return m;
  }
  return m;
}

/** Byte addresses of the regions of one call, from 0 in the shared memory (each a multiple of 16). */
interface Layout {
  readonly x: number;
  readonly w: number;
  readonly u: number;
  readonly v: number;
  readonly m: number;
  readonly y: number;
  readonly bias: number;
  readonly inTable: number;
  readonly outTable: number;
  readonly scratch: number;
  readonly end: number;
}

function layoutOf(plan: Plan, batch: number): Layout {
  const at16 = (bytes: number): number => roundUp(bytes, VECTOR);
  const x = 0;
  const w = at16(x + batch * plan.inRows * plan.inCols * plan.c4 * FLOAT);
  const u = at16(w + 9 * plan.c4 * plan.o8 * FLOAT);
  const v = at16(u + E * plan.c4 * plan.o8 * FLOAT);
  const m = at16(v + E * plan.chunk * plan.c4 * FLOAT);
  const y = at16(m + E * plan.chunk * plan.o8 * FLOAT);
  const bias = at16(y + batch * plan.outRows * plan.outCols * plan.o4 * FLOAT);
  const inTable = at16(bias + plan.o4 * FLOAT);
  const outTable = at16(inTable + plan.chunk * 4);
  const scratch = at16(outTable + plan.chunk * 4);
  return { x, w, u, v, m, y, bias, inTable, outTable, scratch, end: scratch + E * VECTOR };
}

/**
 * The forward convolution of float32 arrays by F(4 x 4, 3 x 3) in
 * WebAssembly (see the file's header): `out = act(conv(x, w) + bias)` for a
 * geometry `usesWinogradWasm` accepts, with `x` and `w` that `winogradSafe`
 * accepts (the caller checks). Returns false,
 * having written nothing, where WebAssembly SIMD or the memory is missing.
 */
export function conv2dWinogradWasm(out: Float32Array, x: Float32Array, w: Float32Array, g: ConvGeometry, epilogue: WasmEpilogue): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const tilesHigh = Math.ceil(OH / TILE);
  const tilesWide = Math.ceil(OW / TILE);
  const tiles = N * tilesHigh * tilesWide;
  const c4 = roundUp(C, 4);
  const o8 = roundUp(O, NR);
  const o4 = roundUp(O, 4);
  const perTile = E * (c4 + o8) * FLOAT;
  const chunk = Math.min(roundUp(tiles, MR), Math.max(MR, Math.floor(WINOGRAD_CHUNK_BYTES / perTile / MR) * MR));
  const plan: Plan = {
    c4,
    o8,
    o4,
    chunk,
    inRows: tilesHigh * TILE + 2,
    inCols: tilesWide * TILE + 2,
    outRows: tilesHigh * TILE,
    outCols: tilesWide * TILE,
    bias: epilogue.bias !== undefined,
    relu: epilogue.relu,
  };
  const kernels = kernelsOf(plan);
  if (kernels === null) return false;
  const at = layoutOf(plan, N);
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  // The input with its padding written out: input pixel (ih, iw) at staged (ih + padTop, iw + padLeft).
  const xAt = at.x / FLOAT;
  floats.fill(0, xAt, at.w / FLOAT);
  const rows = Math.min(H, plan.inRows - g.padTop);
  const iw0 = Math.max(0, -g.padLeft);
  const iw1 = Math.min(W, plan.inCols - g.padLeft);
  for (let n = 0; n < N && iw1 > iw0; n++) {
    for (let ih = Math.max(0, -g.padTop); ih < rows; ih++) {
      const from = ((n * H + ih) * W + iw0) * C;
      const to = xAt + ((n * plan.inRows + ih + g.padTop) * plan.inCols + iw0 + g.padLeft) * c4;
      if (c4 === C) floats.set(x.subarray(from, from + (iw1 - iw0) * C), to);
      else for (let iw = iw0; iw < iw1; iw++) floats.set(x.subarray(from + (iw - iw0) * C, from + (iw - iw0 + 1) * C), to + (iw - iw0) * c4);
    }
  }
  // The filter as [3][3][c4][o8], zero-padded, then transformed.
  const wAt = at.w / FLOAT;
  floats.fill(0, wAt, at.u / FLOAT);
  for (let tc = 0; tc < 9 * C; tc++) {
    const tap = Math.floor(tc / C);
    floats.set(w.subarray(tc * O, (tc + 1) * O), wAt + (tap * c4 + (tc % C)) * o8);
  }
  kernels.filter(at.w, at.u, at.scratch);
  if (epilogue.bias !== undefined) {
    floats.fill(0, at.bias / FLOAT, at.bias / FLOAT + o4);
    floats.set(epilogue.bias.subarray(epilogue.biasOffset, epilogue.biasOffset + O), at.bias / FLOAT);
  }
  const inTable = new Int32Array(heap, at.inTable, chunk);
  const outTable = new Int32Array(heap, at.outTable, chunk);
  const perImage = tilesHigh * tilesWide;
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    for (let k = 0; k < count; k++) {
      const tile = t0 + k;
      const n = Math.floor(tile / perImage);
      const th = Math.floor((tile % perImage) / tilesWide);
      const tw = tile % tilesWide;
      inTable[k] = at.x + ((n * plan.inRows + th * TILE) * plan.inCols + tw * TILE) * c4 * FLOAT;
      outTable[k] = at.y + ((n * plan.outRows + th * TILE) * plan.outCols + tw * TILE) * o4 * FLOAT;
    }
    kernels.input(at.inTable, count, at.v, at.scratch);
    kernels.products(at.v, at.u, at.m, Math.ceil(count / MR));
    kernels.output(at.outTable, count, at.m, at.scratch, at.bias);
  }
  // The staged output's rows, without the columns and rows past the output and the channels past O.
  const yAt = at.y / FLOAT;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const from = yAt + (n * plan.outRows + oh) * plan.outCols * o4;
      const to = (n * OH + oh) * OW * O;
      if (o4 === O) out.set(floats.subarray(from, from + OW * O), to);
      else for (let ow = 0; ow < OW; ow++) out.set(floats.subarray(from + ow * o4, from + ow * o4 + O), to + ow * O);
    }
  }
  return true;
}
