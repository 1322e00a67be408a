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
 * transformed data stays in the L2 cache between the three steps. With
 * more than one thread the forward's chunks are tasks of the worker pool
 * (each group of chunks in its own V, M and scratch; a chunk writes only its
 * own output tiles, so the bits do not depend on the grouping or on who
 * runs it). The filter gradient's sums run over all tiles in order, so its
 * tasks split the work the other way: a chunk's products by entry (each
 * entry's sum over tiles is one task's, in tile order, whoever runs it), the
 * chunk's transforms by tile, one job per chunk pairing the products of one
 * chunk with the transforms of the next (double-buffered V and D). The
 * filter gradient (`conv2dFilterGradWinogradWasm`) is the same algorithm
 * transposed: the input transform, `A dy A^T` of the output gradient's
 * tiles, the products (36 per tile) summed over tiles, and `G^T W G`; its
 * tiles are F(4, 3)'s, with F(2, 3)'s at the edges as in the forward.
 *
 * NOTE: every sum runs in a fixed order (transforms in the order of their
 * matrices' entries, the sum over channels from the first to the last), so
 * the results are the same bits on every run. F(4 x 4, 3 x 3) is less exact
 * than the direct sum: its transforms scale terms by up to 8 x 8 (`A`) and
 * 25 (`B`) and cancel them again, and they mix a tile's whole 6 x 6 patch
 * and all nine taps. Measured in float32 against a float64 direct sum
 * (`laws/conv-winograd.law.test.ts` holds the bounds): the error of an
 * output is at most WINOGRAD_ERROR_BOUND times the sum over channels of
 * the largest `|x|` of its tile's patch times the largest `|w|` of the
 * taps (see WINOGRAD_ERROR_BOUND and WINOGRAD_FILTER_GRAD_ERROR_BOUND).
 *
 * At the forward's bottom and right edges, where one or two output rows or
 * columns are left, the tiles are F(2, 3) along that axis (4 x 2, 2 x 4 or
 * 2 x 2 outputs from 6 x 4, 4 x 6 or 4 x 4 patches: 24 or 16 products per
 * channel pair), so an output of 14 computes 14 rows, not 16: each kind of
 * tile has its transforms and its own chunks, the products' kernel is
 * shared. Measured against whole tiles everywhere (`bench/conv-fwd-ab.ts`,
 * interleaved, medians, a 2-core Xeon loaded by other jobs, load 7): the
 * bench's 32 x 14 x 14, 32 to 64, 0.85 of the time; the CNN step's
 * 64 x 14 x 14, 32 to 64, 0.92, and its input gradient (64 to 32), 0.91.
 *
 * From F6_MIN_CHANNELS (16) input channels, the forward takes F(6, 3) along an
 * axis where that takes fewer products than F(4, 3) (`forwardTiles`; the
 * points 0, +-1, +-2, +-1/2 and infinity): 8 x 8 patches, 64 products per
 * 6 x 6 outputs where F(4 x 4, 3 x 3) takes 81 for 36; an output of 14 is
 * 6 + 6 + 2 (400 products per image and channel pair against 484 with
 * 4 + 4 + 4 + 2). Its error bound is its own (WINOGRAD_F6_ERROR_BOUND).
 * Measured on the bench's 32 x 14 x 14, 32 to 64, one thread, quiet machine
 * (timers around each step): products 1.95 to 1.58 ms, the output
 * transform 0.23 to 0.24 (0.31 without the shared sums of `matrixRows`),
 * the input transform 0.25 to 0.19 (0.21), the filter transforms 0.19 to
 * 0.10 (with the planes of U, V and M a cache line apart, PLANE_PAD: 0.29
 * without); the whole call 3.1 to 2.5 ms. Left out: F(7, 3) (14 = 7 + 7,
 * 324 products), whose float32 error, simulated with these transforms'
 * order of operations, came to 1e-4 to 3e-4 of the law's scale with every
 * choice of its eighth point tried (4, -1/4, +-3/2), ten times F(6, 3)'s.
 *
 * Left out: groups other than 1, float64 (the JavaScript F(2 x 2, 3 x 3) of
 * `winograd.ts` serves it), F(6, 3) for the filter gradient: its transforms
 * scale terms by up to 67 x 67 and 15 x 15 and its sum over tiles runs in
 * the transformed domain. Tried on the CNN step's 64 x 14 x 14, 32 to 64
 * (6 + 6 + 2, 2026-12-08): 2.1e-4 of the largest `|dw|` from the float64
 * sum, against 3.6e-5 with F(4, 3) and its F(2, 3) edges, and slower
 * (0.92 of whole F(4, 3) tiles' time, against 0.86 to 0.88).
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { arenaAddress } from "../../wasm/kernel-memory.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { compileKernel, instantiateKernel, type WasmEpilogue } from "../wasm-matmul.js";
import { getThreads, runTasks, type PoolKernel, type TaskCall } from "../../threads/pool.js";
import type { ConvGeometry } from "./geometry.js";
import { KernelCache } from "./kernel-cache.js";

/**
 * The error bound of `conv2dWinogradWasm`: an output's error is at most
 * WINOGRAD_ERROR_BOUND times the sum over input channels of the largest
 * `|x|` in its tile's 6 x 6 input patch times the largest `|w|` of the nine
 * taps (plus `|bias|`), plus WINOGRAD_ERROR_FLOOR per input channel for
 * results in the subnormal range: a measured bound, not a worst case (the
 * worst case grows with the channels). Measured on random inputs in [-1, 1)
 * against a float64 direct sum: at most 1.5e-6 of `sum |x| |w|` over the
 * window at 32 channels (the bench's 14 x 14, 32 to 64), 1.2e-6 at 256
 * (F(2 x 2, 3 x 3) reaches about 2e-7). Against this scale, over 7145 cases
 * drawn as the law draws them (2026-12-08; 1 to 40 channels, edge values
 * mixed in): at most 2.0e-5 (one input channel, large and small values
 * mixed), 1.3e-5 without edge values. The law (`laws/conv-winograd.law.test.ts`)
 * holds the bound; the kernel laws' float32 bound (2e-5) holds too.
 * NOTE: 1e-5 until 2026-12-08, which the law's heavy run found exceeded
 * (1.1e-5): a measured bound, kept 2.5 times above the largest measured.
 */
export const WINOGRAD_ERROR_BOUND = 5e-5;

/**
 * The error bound of `conv2dWinogradWasm` at the outputs of F(6, 3) tiles
 * (along either axis; see `forwardTiles`), the same way as
 * WINOGRAD_ERROR_BOUND with the patch of the output's tile (up to 8 x 8).
 * F(6, 3)'s transforms scale terms by up to 15 (`B`) and 67 (`A`) and its
 * filter transform rounds ninths and 45ths, but it runs only from
 * F6_MIN_CHANNELS input channels, where the roundings of the channels
 * partly cancel. Measured (`bench/conv-winograd-error.ts`, 2026-12-08,
 * 7000 cases drawn as the law draws them, seeds 1 and 2, with the shared
 * sums of `matrixRows`): at most 2.1e-5 with edge values mixed in, 9.0e-6
 * without; 5.6e-6 on the bench's 14 x 14, 32 to 64 (F(4, 3)'s outputs
 * there: 1.5e-7, F(2, 3) at the corner). Without the shared sums: 2.0e-5,
 * 8.4e-6 and 7.3e-6. Kept 5 times above the largest measured.
 */
export const WINOGRAD_F6_ERROR_BOUND = 1e-4;

/**
 * The error bound of `conv2dFilterGradWinogradWasm`, the same way: at most
 * this times the sum over tiles of the largest `|x|` of the tile's input
 * patch times the largest `|dy|` of the tile, plus WINOGRAD_ERROR_FLOOR per
 * tile. Its sum over tiles runs in float32 in the transformed domain, where
 * one large tile's terms (up to 32400 times its `|x| |dy|`) set the size of
 * every later rounding: the law found 1.5e-5 with large and small values
 * mixed (random values in [-1, 1) stay near 1e-6). The F(2, 3) tiles at
 * the edges (since 2026-12-08) scale terms by less (up to 2 x 2 and
 * 2 x 2) and sum in a W of their own; the law's scale partitions the
 * output as the kernel does (4s, then what is left).
 */
export const WINOGRAD_FILTER_GRAD_ERROR_BOUND = 5e-5;

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

// F(2, 3)'s matrices (interpolation points 0, 1, -1 and infinity), for the tiles at an output's edge:
// B^T (4 x 4), G (4 x 3), A^T (2 x 4).
const BT2: readonly (readonly number[])[] = [
  [1, 0, -1, 0],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, 0, -1],
];
const G2: readonly (readonly number[])[] = [
  [1, 0, 0],
  [1 / 2, 1 / 2, 1 / 2],
  [1 / 2, -1 / 2, 1 / 2],
  [0, 0, 1],
];
const AT2: readonly (readonly number[])[] = [
  [1, 1, 1, 0],
  [0, 1, -1, -1],
];

// F(6, 3)'s matrices (interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity), for deep inputs: B^T (8 x 8),
// G (8 x 3), A^T (6 x 8). B^T's and A^T's coefficients are exact in float32 (quarters and powers of 2); G's ninths and
// 45ths round, once per tap, in the filter transform.
const BT6: readonly (readonly number[])[] = [
  [1, 0, -21 / 4, 0, 21 / 4, 0, -1, 0],
  [0, 1, 1, -17 / 4, -17 / 4, 1, 1, 0],
  [0, -1, 1, 17 / 4, -17 / 4, -1, 1, 0],
  [0, 1 / 2, 1 / 4, -5 / 2, -5 / 4, 2, 1, 0],
  [0, -1 / 2, 1 / 4, 5 / 2, -5 / 4, -2, 1, 0],
  [0, 2, 4, -5 / 2, -5, 1 / 2, 1, 0],
  [0, -2, 4, 5 / 2, -5, -1 / 2, 1, 0],
  [0, -1, 0, 21 / 4, 0, -21 / 4, 0, 1],
];
const G6: readonly (readonly number[])[] = [
  [1, 0, 0],
  [-2 / 9, -2 / 9, -2 / 9],
  [-2 / 9, 2 / 9, -2 / 9],
  [1 / 90, 1 / 45, 2 / 45],
  [1 / 90, -1 / 45, 2 / 45],
  [32 / 45, 16 / 45, 8 / 45],
  [32 / 45, -16 / 45, 8 / 45],
  [0, 0, 1],
];
const AT6: readonly (readonly number[])[] = [
  [1, 1, 1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 1 / 2, -1 / 2, 0],
  [0, 1, 1, 4, 4, 1 / 4, 1 / 4, 0],
  [0, 1, -1, 8, -8, 1 / 8, -1 / 8, 0],
  [0, 1, 1, 16, 16, 1 / 16, 1 / 16, 0],
  [0, 1, -1, 32, -32, 1 / 32, -1 / 32, 1],
];

/** The outputs of a tile along an axis: F(m, 3) computes m from m + 2 inputs with m + 2 products. */
type TileSide = 6 | 4 | 2;

/**
 * The output rows and columns of a tile: 4 (F(4, 3) along that axis), 6
 * (F(6, 3), for deep inputs: 64 products per 36 outputs where F(4 x 4, 3 x 3)
 * takes 81) or 2 (F(2, 3), for an edge where one or two outputs are left: 24
 * or 16 products per tile and channel pair where F(4 x 4, 3 x 3) takes 36).
 */
interface TileKind {
  readonly rows: TileSide;
  readonly cols: TileSide;
}
const FULL: TileKind = { rows: 4, cols: 4 };
/** A tile side's matrices; `shared`: its input and output transforms run with Winograd's shared sums (`matrixRows`). */
type Matrices = { B: readonly (readonly number[])[]; G: readonly (readonly number[])[]; A: readonly (readonly number[])[]; shared: boolean };
const MATRICES: Record<TileSide, Matrices> = { 6: { B: BT6, G: G6, A: AT6, shared: true }, 4: { B: BT, G, A: AT, shared: false }, 2: { B: BT2, G: G2, A: AT2, shared: false } };
const matricesOf = (m: TileSide): Matrices => MATRICES[m];
/** The transpose of a matrix. */
const transpose = (M: readonly (readonly number[])[]): number[][] => M[0]?.map((_, r) => M.map((row) => row[r] ?? 0)) ?? [];
/** The entries of a kind's transformed tile: (rows + 2) x (cols + 2). */
const entriesOf = (kind: TileKind): number => (kind.rows + 2) * (kind.cols + 2);

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
 * `Y = L X R^T` for one vector of lanes (`R` is `L` unless given): `X` is
 * `b x c` (L is `p x b`, R is `s x c`), read by `load(r, q)` (which pushes
 * an f32x4); `L X` goes to the scratch vectors at `scratch`, and each
 * `Y[i][j]` is handed to `store(i, j)` with its value on the stack (after
 * `before(i, j)` pushed what the store needs under it).
 */
function transform2d(
  f: FunctionBody,
  L: readonly (readonly number[])[],
  scratch: number,
  load: (r: number, q: number) => void,
  before: (i: number, j: number) => void,
  store: (i: number, j: number) => void,
  R: readonly (readonly number[])[] = L,
): void {
  const p = L.length;
  const c = R[0]?.length ?? 0;
  // (L X)[i][q] = sum_r L[i][r] X[r][q]
  for (let i = 0; i < p; i++) {
    for (let q = 0; q < c; q++) {
      f.get(scratch);
      combine(f, L[i] ?? [], (r) => load(r, q));
      f.simd(SimdOp.v128_store, v128At((i * c + q) * VECTOR));
    }
  }
  // Y[i][j] = sum_q (L X)[i][q] R[j][q]
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < R.length; j++) {
      before(i, j);
      combine(f, R[j] ?? [], (q) => void f.get(scratch).simd(SimdOp.v128_load, v128At((i * c + q) * VECTOR)));
      store(i, j);
    }
  }
}

/**
 * Rows `i` and `i + 1` of a matrix as `p + n` and `p - n`, where `p` holds
 * the columns on which they agree and `n` those on which they differ by
 * sign (row `i`'s coefficients; every other column 0 in both): B^T's rows
 * of F(6, 3) at `x` and `-x`, the even and odd powers. Undefined where they
 * are not so.
 */
function rowPair(a: readonly number[], b: readonly number[]): { p: number[]; n: number[] } | undefined {
  const p = a.map((x, k) => (x !== 0 && b[k] === x ? x : 0));
  const n = a.map((x, k) => (x !== 0 && b[k] === -x ? x : 0));
  const whole = a.every((x, k) => p[k] !== 0 || n[k] !== 0 || (x === 0 && b[k] === 0));
  return whole && p.some((x) => x !== 0) && n.some((x) => x !== 0) ? { p, n } : undefined;
}

/** The columns `j` of a matrix whose column `j + 1` is `+-` column `j` in every row, neither 0 anywhere: A^T's columns of F(6, 3) at `x` and `-x`. */
const columnPairs = (M: readonly (readonly number[])[]): number[] =>
  (M[0] ?? []).flatMap((_, j) => (j % 2 === 1 && M.every((row) => (row[j] ?? 0) !== 0 && Math.abs(row[j + 1] ?? 0) === Math.abs(row[j] ?? 0)) ? [j] : []));

/**
 * Hands each row of `M v` to `sink(i, push)` in order, where `push()` pushes
 * `(M v)[i]` (an f32x4) and `value(k)` pushes `v[k]`: each row by `combine`,
 * or, where `shared`, by Winograd's shared sums in the v128 locals `temps`
 * (two per pair): rows that pair as `p + n` and `p - n` (`rowPair`) compute
 * `p` and `n` once; failing those, columns that pair (`columnPairs`) compute
 * `v[j] + v[j + 1]` and `v[j] - v[j + 1]` once, and each row combines them
 * with column `j`'s coefficient (powers of 2 in A^T: the same products as
 * the terms' own). About half the operations of F(6, 3)'s B^T and A^T.
 */
function matrixRows(f: FunctionBody, M: readonly (readonly number[])[], shared: boolean, temps: readonly number[], value: (k: number) => void, sink: (i: number, push: () => void) => void): void {
  const temp = (k: number): number => temps[k] ?? 0;
  const pairs = shared ? M.map((row, i) => (i % 2 === 1 ? rowPair(row, M[i + 1] ?? []) : undefined)) : [];
  if (pairs.some((pair) => pair !== undefined)) {
    for (let i = 0; i < M.length; i++) {
      const pair = pairs[i];
      if (pair === undefined) {
        sink(i, () => combine(f, M[i] ?? [], value));
        continue;
      }
      // (M v)[i] = p.v + n.v, (M v)[i + 1] = p.v - n.v
      combine(f, pair.p, value);
      f.set(temp(0));
      combine(f, pair.n, value);
      f.set(temp(1));
      sink(i, () => void f.get(temp(0)).get(temp(1)).simd(SimdOp.f32x4_add));
      sink(i + 1, () => void f.get(temp(0)).get(temp(1)).simd(SimdOp.f32x4_sub));
      i++;
    }
    return;
  }
  const firsts = shared ? columnPairs(M) : [];
  // s_j = v[j] + v[j + 1] in temps[2 p], d_j = v[j] - v[j + 1] in temps[2 p + 1]
  firsts.forEach((j, p) => {
    value(j);
    value(j + 1);
    f.simd(SimdOp.f32x4_add).set(temp(2 * p));
    value(j);
    value(j + 1);
    f.simd(SimdOp.f32x4_sub).set(temp(2 * p + 1));
  });
  M.forEach((row, i) => {
    const coeffs = row.map((c, k) => (firsts.includes(k - 1) ? 0 : c));
    // column j of a pair stands for the pair: its sum where the row has x and x, its difference where x and -x
    const slot = (k: number): void => {
      const p = firsts.indexOf(k);
      if (p < 0) value(k);
      else f.get(temp(row[k + 1] === row[k] ? 2 * p : 2 * p + 1));
    };
    sink(i, () => combine(f, coeffs, slot));
  });
}

/**
 * `transform2d` with each column of `X` and each row of `L X` loaded once
 * into the v128 locals `locals` (as many as `X`'s rows and columns, then
 * SHARED_TEMPS more), where `transform2d` loads a value again for every
 * term that reads it: without `sharedL` and `sharedR`, the same operations
 * in the same order (`combine`), so the same bits; with them, `L`'s and
 * `R`'s rows by Winograd's shared sums (`matrixRows`).
 *
 * NOTE: the shared sums run for F(6, 3) alone. For F(4, 3) (B^T's rows 1
 * to 4 as `a +- b`, A^T's `m1 +- m2` and `m3 +- m4`, G's
 * `(g0 + g2 +- g1) / 6`) they would save a third of the transforms'
 * operations (B^T 19 for 32, A^T 13 for 20), but their other roundings
 * raised the largest error measured (2.0e-5 of the law's scale against
 * 1.5e-5, 300 random images of 1 to 3 channels) and the law's heavy run
 * found an output past WINOGRAD_ERROR_BOUND (three input channels).
 */
function transform2dLoadingOnce(
  f: FunctionBody,
  L: readonly (readonly number[])[],
  R: readonly (readonly number[])[],
  locals: readonly number[],
  scratch: number,
  load: (r: number, q: number) => void,
  before: (i: number, j: number) => void,
  store: (i: number, j: number) => void,
  [sharedL, sharedR]: readonly [boolean, boolean] = [false, false],
): void {
  const [b, c] = [L[0]?.length ?? 0, R[0]?.length ?? 0];
  const local = (k: number): number => locals[k] ?? 0;
  const fromLocal = (k: number): void => void f.get(local(k));
  const temps = locals.slice(Math.max(b, c));
  // (L X)[i][q] = sum_r L[i][r] X[r][q], column by column of X
  for (let q = 0; q < c; q++) {
    for (let r = 0; r < b; r++) {
      load(r, q);
      f.set(local(r));
    }
    matrixRows(f, L, sharedL, temps, fromLocal, (i, push) => {
      f.get(scratch);
      push();
      f.simd(SimdOp.v128_store, v128At((i * c + q) * VECTOR));
    });
  }
  // Y[i][j] = sum_q (L X)[i][q] R[j][q], row by row of L X
  for (let i = 0; i < L.length; i++) {
    for (let q = 0; q < c; q++) void f.get(scratch).simd(SimdOp.v128_load, v128At((i * c + q) * VECTOR)).set(local(q));
    matrixRows(f, R, sharedR, temps, fromLocal, (j, push) => {
      before(i, j);
      push();
      store(i, j);
    });
  }
}

/** The v128 locals `matrixRows` may need beyond the values: two per pair of F(6, 3)'s A^T columns. */
const SHARED_TEMPS = 6;

/** The v128 locals `transform2dLoadingOnce` needs for `L X R^T`. */
const transformLocals = (f: FunctionBody, L: readonly (readonly number[])[], R: readonly (readonly number[])[]): number[] =>
  Array.from({ length: Math.max(L[0]?.length ?? 0, R[0]?.length ?? 0) + SHARED_TEMPS }, () => f.local(ValType.v128));

/** `counter -= 1`, and loop again while it is not 0. */
export const countDown = (f: FunctionBody, counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
/** `local += bytes`. */
export const addTo = (f: FunctionBody, local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);

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
  /** Floats between the planes of U, V and M (one entry `e` each) past their data: PLANE_PAD in the forward, 0 in the filter gradient. */
  readonly pad: number;
}

/**
 * The floats the forward leaves between the planes of U, V and M: one cache
 * line, so that the 36 or 64 planes a transform writes or reads side by side
 * do not start at addresses a multiple of 4 KB apart (U's plane of 32 x 64
 * channels is 8 KB), which fall in one set of the L1 cache and evict each
 * other. Measured (bench conv, one thread, F(6, 3)): the filter transforms 0.29 to
 * 0.10 ms, the output transform 0.37 to 0.31 ms.
 */
const PLANE_PAD = 16;

/** The floats of one plane (one entry `e`) of U (`[o8 / 8][c4][8]`), V (`[chunk][c4]`) and M (`[chunk][o8]`), padding included. */
const planeU = ({ c4, o8, pad }: Plan): number => c4 * o8 + pad;
const planeV = ({ chunk, c4, pad }: Plan): number => chunk * c4 + pad;
const planeM = ({ chunk, o8, pad }: Plan): number => chunk * o8 + pad;

/**
 * `filter(w, u, scratch)`: from the staged filter at `w` (`[3][3][c4][o8]`),
 * `U = G_rows g G_cols^T` of a tile kind at `u` as `[e][o8 / 8][c4][8]`.
 */
function filterBody(plan: Plan, kind: TileKind): FunctionBody {
  const { c4, o8 } = plan;
  const [GR, GC] = [matricesOf(kind.rows).G, matricesOf(kind.cols).G];
  const f = new FunctionBody(3);
  const locals = transformLocals(f, GR, GC);
  const [w, u, scratch] = [0, 1, 2];
  const panels = f.local(ValType.i32);
  const channels = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const to = f.local(ValType.i32);
  const uBytes = planeU(plan) * FLOAT;
  f.i32(o8 / NR).set(panels);
  f.loop(); // over panels of 8 output channels: w and u move on to the next panel
  for (const half of [0, VECTOR]) {
    // 4 output channels: from w + half, to u + half
    f.get(w).i32(half).op(Op.i32_add).set(from).get(u).i32(half).op(Op.i32_add).set(to);
    f.i32(c4).set(channels);
    f.loop(); // over input channels
    transform2dLoadingOnce(
      f,
      GR,
      GC,
      locals,
      scratch,
      (r, q) => void f.get(from).simd(SimdOp.v128_load, v128Unaligned((r * 3 + q) * c4 * o8 * FLOAT)),
      () => void f.get(to),
      (i, j) => void f.simd(SimdOp.v128_store, v128At((i * GC.length + j) * uBytes)),
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
 * `transform(table, count, to, scratch)`: `L P R^T` (R is L unless given) of each of `count`
 * patches (the byte address of its corner in a staged image of `channels`
 * per pixel and `rowBytes` per row, from the i32 table), four channels a
 * vector, to `[e][chunk][stride]` at `to` (`stride` floats per tile, of which
 * the first `channels` are written; `pad` floats more after each plane of `e`); `loadOnce` loads each value once
 * (`transform2dLoadingOnce`, the same bits).
 */
function tileTransformBody(L: readonly (readonly number[])[], channels: number, rowBytes: number, chunk: number, stride: number, pad: number, R: readonly (readonly number[])[] = L, loadOnce = false, shared: readonly [boolean, boolean] = [false, false]): FunctionBody {
  const f = new FunctionBody(4);
  const [table, count, to, scratch] = [0, 1, 2, 3];
  const groups = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const plane = (chunk * stride + pad) * FLOAT;
  const locals = loadOnce ? transformLocals(f, L, R) : undefined;
  f.loop(); // over tiles
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).set(from);
  f.i32(channels / 4).set(groups);
  f.loop(); // over groups of 4 channels
  const load = (r: number, q: number): void => void f.get(from).simd(SimdOp.v128_load, v128At(r * rowBytes + q * channels * FLOAT));
  const before = (): void => void f.get(to);
  const store = (i: number, j: number): void => void f.simd(SimdOp.v128_store, v128At((i * R.length + j) * plane));
  if (locals === undefined) transform2d(f, L, scratch, load, before, store, R);
  else transform2dLoadingOnce(f, L, R, locals, scratch, load, before, store, shared);
  addTo(f, from, VECTOR);
  addTo(f, to, VECTOR);
  countDown(f, groups);
  f.end();
  if (stride > channels) addTo(f, to, (stride - channels) * FLOAT);
  addTo(f, table, 4);
  countDown(f, count);
  f.end();
  return f;
}

/** The input transform `V = B^T d B` of a tile kind's patches (6 x 6 for the full tiles) of the staged input, to `V[e][tile][c]` (`[e][chunk][c4]`). */
const inputBody = ({ c4, inCols, chunk, pad }: Plan, kind: TileKind, loadOnce = false): FunctionBody =>
  tileTransformBody(matricesOf(kind.rows).B, c4, inCols * c4 * FLOAT, chunk, c4, pad, matricesOf(kind.cols).B, loadOnce, [matricesOf(kind.rows).shared, matricesOf(kind.cols).shared]);

/**
 * For the filter gradient, `A_rows dy A_cols^T` of a tile kind's tiles of
 * the staged output gradient (`[N][outRows][outCols][o4]`; `A` the
 * transpose of the kind's `A^T`, 4 x 4 for F(4 x 4, 3 x 3)'s tiles), to
 * `D[e][tile][o]` (`[e][chunk][o8]`; the columns past `o4` are left as they
 * are).
 */
function gradientBody({ o4, o8, outCols, chunk, pad }: Plan, kind: TileKind): FunctionBody {
  return tileTransformBody(transpose(matricesOf(kind.rows).A), o4, outCols * o4 * FLOAT, chunk, o8, pad, transpose(matricesOf(kind.cols).A));
}

/** The layout of one set of 36 products `C[e] = A[e] @ B[e]` (byte strides; see `productsBody`). */
interface ProductsLayout {
  /** Between A's rows, between its steps of k, and between tiles of MR rows. */
  readonly aRow: number;
  readonly aStep: number;
  readonly aTile: number;
  /** Between B's steps of k (a step's 8 columns are contiguous), and between panels of 8 columns. */
  readonly bStep: number;
  readonly bPanel: number;
  /** Between C's rows (8 columns of a panel are contiguous; panels are 8 floats apart). */
  readonly cRow: number;
  /** Panels of 8 columns. */
  readonly panels: number;
  /** Between consecutive e of A, B and C. */
  readonly aPlane: number;
  readonly bPlane: number;
  readonly cPlane: number;
}

/**
 * `products(a, b, c, rowTiles, steps, beta, entries)`: for each of
 * `entries` consecutive `e` (36 for all of them), `C[e] = A[e] @ B[e]` (plus
 * C's old value when `beta` is not 0) over `rowTiles` tiles of MR rows and `steps` steps of k, the sum over k in order: a 4 x 8
 * register tile in eight f32x4 accumulators while each step splats MR values
 * of A and loads 8 of B (the WebAssembly matmul's tile, on operands whose
 * layouts need no packing pass).
 */
function productsBody(layout: ProductsLayout): FunctionBody {
  const f = new FunctionBody(7);
  const [a, b, c, rowTiles, steps, beta, entries] = [0, 1, 2, 3, 4, 5, 6];
  const colLeft = f.local(ValType.i32);
  const rowLeft = f.local(ValType.i32);
  const stepsLeft = f.local(ValType.i32);
  const aTile = f.local(ValType.i32);
  const aAt = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const bAt = f.local(ValType.i32);
  const cPanel = f.local(ValType.i32);
  const cAt = f.local(ValType.i32);
  const acc = Array.from({ length: MR * 2 }, () => f.local(ValType.v128));
  const b0 = f.local(ValType.v128);
  const b1 = f.local(ValType.v128);
  const av = f.local(ValType.v128);
  const accOf = (r: number, half: number): number => acc[2 * r + half] ?? 0;
  f.loop(); // over e
  f.get(b).set(bPanel).get(c).set(cPanel).i32(layout.panels).set(colLeft);
  f.loop(); // over panels of 8 columns
  f.get(a).set(aTile).get(cPanel).set(cAt).get(rowTiles).set(rowLeft);
  f.loop(); // over tiles of MR rows
  for (const x of acc) f.zeros().set(x);
  f.get(beta).if();
  for (let r = 0; r < MR; r++) for (const half of [0, 1]) f.get(cAt).simd(SimdOp.v128_load, v128At(r * layout.cRow + half * VECTOR)).set(accOf(r, half));
  f.end();
  f.get(aTile).set(aAt).get(bPanel).set(bAt).get(steps).set(stepsLeft);
  f.loop(); // over k
  f.get(bAt).simd(SimdOp.v128_load, v128At(0)).set(b0);
  f.get(bAt).simd(SimdOp.v128_load, v128At(VECTOR)).set(b1);
  for (let r = 0; r < MR; r++) {
    f.get(aAt).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, r * layout.aRow)).set(av);
    f.get(accOf(r, 0)).get(av).get(b0).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(r, 0));
    f.get(accOf(r, 1)).get(av).get(b1).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(r, 1));
  }
  addTo(f, aAt, layout.aStep);
  addTo(f, bAt, layout.bStep);
  countDown(f, stepsLeft);
  f.end();
  for (let r = 0; r < MR; r++) for (const half of [0, 1]) f.get(cAt).get(accOf(r, half)).simd(SimdOp.v128_store, v128At(r * layout.cRow + half * VECTOR));
  addTo(f, aTile, layout.aTile);
  addTo(f, cAt, MR * layout.cRow);
  countDown(f, rowLeft);
  f.end();
  addTo(f, bPanel, layout.bPanel);
  addTo(f, cPanel, NR * FLOAT);
  countDown(f, colLeft);
  f.end();
  addTo(f, a, layout.aPlane);
  addTo(f, b, layout.bPlane);
  addTo(f, c, layout.cPlane);
  countDown(f, entries);
  f.end();
  return f;
}

/** The forward's products `M[e] = V[e] @ U[e]`: V `[e][chunk][c4]`, U `[e][o8 / 8][c4][8]`, M `[e][chunk][o8]`. */
function forwardProducts(plan: Plan): ProductsLayout {
  const { c4, o8 } = plan;
  const [aRow, cRow] = [c4 * FLOAT, o8 * FLOAT];
  return { aRow, aStep: FLOAT, aTile: MR * aRow, bStep: NR * FLOAT, bPanel: c4 * NR * FLOAT, cRow, panels: o8 / NR, aPlane: planeV(plan) * FLOAT, bPlane: planeU(plan) * FLOAT, cPlane: planeM(plan) * FLOAT };
}

/** The filter gradient's products `W[e] = V[e]^T @ D[e]` over tiles: V `[e][chunk][c4]`, D `[e][chunk][o8]`, W `[e][c4][o8]`. */
function filterGradProducts({ c4, o8, chunk }: Plan): ProductsLayout {
  const [aStep, row] = [c4 * FLOAT, o8 * FLOAT];
  return { aRow: FLOAT, aStep, aTile: MR * FLOAT, bStep: row, bPanel: NR * FLOAT, cRow: row, panels: o8 / NR, aPlane: chunk * aStep, bPlane: chunk * row, cPlane: c4 * row };
}

/**
 * `output(table, count, m, scratch, bias, finite)`: for each of `count` tiles (the
 * byte address of its output corner in the staged output, from the i32
 * table), `act(A^T M A + bias)` for its pixels (rows x cols of its kind), `o4` channels each;
 * the sum of `y - y` over them (before `act`: 0, or NaN once a NaN or an
 * infinity came by) is added to the f32x4 at `finite`.
 */
function outputBody(plan: Plan, kind: TileKind): FunctionBody {
  const { o4, o8, outCols, relu, bias: withBias } = plan;
  const [AR, AC] = [matricesOf(kind.rows).A, matricesOf(kind.cols).A];
  const f = new FunctionBody(6);
  const locals = transformLocals(f, AR, AC);
  const [table, count, m, scratch, bias, finite] = [0, 1, 2, 3, 4, 5];
  const sum = f.local(ValType.v128);
  const groups = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const to = f.local(ValType.i32);
  const biasAt = f.local(ValType.i32);
  const y = f.local(ValType.v128);
  const mBytes = planeM(plan) * FLOAT;
  const rowBytes = outCols * o4 * FLOAT;
  f.get(m).set(from);
  f.zeros().set(sum);
  f.loop(); // over tiles
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).set(to);
  f.get(bias).set(biasAt);
  f.i32(o4 / 4).set(groups);
  f.loop(); // over groups of 4 output channels
  transform2dLoadingOnce(
    f,
    AR,
    AC,
    locals,
    scratch,
    (r, q) => void f.get(from).simd(SimdOp.v128_load, v128At((r * (kind.cols + 2) + q) * mBytes)),
    () => undefined,
    (i, j) => {
      if (withBias) f.get(biasAt).simd(SimdOp.v128_load, v128At(0)).simd(SimdOp.f32x4_add);
      f.set(y);
      f.get(sum).get(y).get(y).simd(SimdOp.f32x4_sub).simd(SimdOp.f32x4_add).set(sum);
      f.get(to);
      if (relu) {
        // y < 0 ? 0 : y, lane by lane (the epilogue's rule: -0 and NaN stay)
        f.zeros().get(y).get(y).zeros().simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect);
      } else {
        f.get(y);
      }
      f.simd(SimdOp.v128_store, v128Unaligned(i * rowBytes + j * o4 * FLOAT));
    },
    [matricesOf(kind.rows).shared, matricesOf(kind.cols).shared],
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
  f.get(finite).get(finite).simd(SimdOp.v128_load, v128At(0)).get(sum).simd(SimdOp.f32x4_add).simd(SimdOp.v128_store, v128At(0));
  return f;
}

/**
 * `weights(wt, dw, scratch)`: the filter gradient `G_rows^T W G_cols` of a
 * tile kind, for every pair of channels, four output channels a vector: from
 * `W` at `wt` (`[e][c4][o8]`, the kind's entries) to `dw` as
 * `[3][3][c4][o8]`, or, `accumulate`, added to what `dw` holds (the sum of
 * the kinds before, in their order).
 */
function weightsBody(plan: Plan, kind: TileKind, accumulate: boolean): FunctionBody {
  const { c4, o8 } = plan;
  const f = new FunctionBody(3);
  const [wt, dw, scratch] = [0, 1, 2];
  const vectors = f.local(ValType.i32);
  const plane = c4 * o8 * FLOAT;
  const [GR, GC] = [transpose(matricesOf(kind.rows).G), transpose(matricesOf(kind.cols).G)];
  const at = (i: number, j: number): number[] => v128At((i * 3 + j) * plane);
  f.i32((c4 * o8) / 4).set(vectors);
  f.loop(); // over vectors of 4 output channels of one input channel
  transform2d(
    f,
    GR,
    scratch,
    (r, q) => void f.get(wt).simd(SimdOp.v128_load, v128At((r * (kind.cols + 2) + q) * plane)),
    (i, j) => {
      f.get(dw);
      if (accumulate) f.get(dw).simd(SimdOp.v128_load, at(i, j));
    },
    (i, j) => {
      if (accumulate) f.simd(SimdOp.f32x4_add);
      f.simd(SimdOp.v128_store, at(i, j));
    },
    GC,
  );
  addTo(f, wt, VECTOR);
  addTo(f, dw, VECTOR);
  countDown(f, vectors);
  f.end();
  return f;
}

/** The sizes of `stageBody`'s kernel (validated integers from the geometry; `c4` channels a pixel both sides). */
interface StagePlan {
  readonly H: number;
  readonly W: number;
  readonly c4: number;
  readonly rows: number;
  readonly cols: number;
  readonly top: number;
  readonly left: number;
}

/**
 * `stage(src, dst, images)`: `stageImage` in WebAssembly for images
 * whose channels need no padding and that fit whole (`top + H <= rows`,
 * `left + W <= cols`), from their copy at `src` (`[images][H][W][c4]`) to
 * `dst` (`[images][rows][cols][c4]`, zeros around): a vector at a time where
 * a pixel is whole vectors (`c4` a multiple of 4), else a float at a time;
 * the bits as they are (a NaN's payload too).
 */
function stageBody({ H, W, c4, rows, cols, top, left }: StagePlan): FunctionBody {
  const f = new FunctionBody(3);
  const [src, dst, images] = [0, 1, 2];
  const [h, k] = [f.local(ValType.i32), f.local(ValType.i32)];
  const pixel = c4 * FLOAT;
  const vectors = c4 % 4 === 0;
  const unit = vectors ? VECTOR : FLOAT;
  /** `units` zero vectors (or floats) at `dst`, which moves past them. */
  const zeros = (units: number): void => {
    if (units <= 0) return;
    f.i32(units).set(k);
    f.loop();
    if (vectors) f.get(dst).zeros().simd(SimdOp.v128_store, v128Unaligned(0));
    else f.get(dst).i32(0).op(Op.i32_store, FunctionBody.memarg(ALIGN_4, 0));
    addTo(f, dst, unit);
    countDown(f, k);
    f.end();
  };
  f.loop(); // over images
  zeros((top * cols * pixel) / unit);
  f.i32(H).set(h);
  f.loop(); // over the image's rows
  zeros((left * pixel) / unit);
  f.i32((W * pixel) / unit).set(k);
  f.loop(); // over the row's values, copied
  if (vectors) f.get(dst).get(src).simd(SimdOp.v128_load, v128Unaligned(0)).simd(SimdOp.v128_store, v128Unaligned(0));
  else f.get(dst).get(src).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).op(Op.i32_store, FunctionBody.memarg(ALIGN_4, 0));
  addTo(f, src, unit);
  addTo(f, dst, unit);
  countDown(f, k);
  f.end();
  zeros(((cols - left - W) * pixel) / unit);
  countDown(f, h);
  f.end();
  zeros(((rows - top - H) * cols * pixel) / unit);
  countDown(f, images);
  f.end();
  return f;
}

/**
 * Stages `x` (`[N, H, W, C]`, `C` channels a pixel both sides) at byte `dst`
 * as `stageImage` does, from a copy of `x` at byte `src` (or from `x` where
 * it is, a compiled program's buffer in the kernels' memory), by one
 * WebAssembly pass (`stageBody`): a `set` per row into the shared memory
 * costs far more for short rows, and the pass writes the zeros around in the
 * same sweep; `stageImage` where a pixel would not fit.
 */
export function stageByCopy(floats: Float32Array, src: number, dst: number, x: Float32Array, shape: { N: number; H: number; W: number; C: number }, rows: number, cols: number, top: number, left: number): void {
  const { N, H, W, C } = shape;
  // NOTE: the kernel's loops run at least once: every count must be 1 or more
  const whole = N * H * W * C > 0 && top >= 0 && left >= 0 && top + H <= rows && left + W <= cols;
  const kernel = whole ? cached("stage", [H, W, C, rows, cols, top, left], () => compileKernel(stageBody({ H, W, c4: C, rows, cols, top, left }), 3)) : null;
  if (kernel === null) {
    stageImage(floats, dst / FLOAT, x, shape, rows, cols, C, top, left);
    return;
  }
  // x read where it is when it is a compiled program's buffer in the kernels' memory
  const xIn = arenaAddress(x);
  if (xIn === undefined) floats.set(x.subarray(0, N * H * W * C), src / FLOAT);
  kernel.local(xIn ?? src, dst, N);
}

/** The compiled kernels of one plan: the forward's four, and the filter gradient's three beside `input`. */
interface Kernels {
  readonly filter: (w: number, u: number, scratch: number) => void;
  /** `input(table, count, v, scratch)`, registered with the worker pool (as are `products` and `output`). */
  readonly input: PoolKernel;
  /** `products(v, u, m, rowTiles, steps, beta, entries)`. */
  readonly products: PoolKernel;
  /** `output(table, count, m, scratch, bias, finite)`. */
  readonly output: PoolKernel;
}

/**
 * The filter gradient's kernels of a tile kind: the input transform (the
 * forward's `B^T d B`, loading a value for each term that reads it: the
 * forward's load-once code gives the same bits and measured no faster here,
 * 0.97 to 1.10 of the time on the CNN's and larger shapes, 2026-12-08), and
 * the three of its own; all but `weights` registered with the worker pool.
 */
interface GradKernels {
  readonly input: PoolKernel;
  /** `gradient(table, count, d, scratch)`. */
  readonly gradient: PoolKernel;
  /** `products(v, d, wt, rowTiles, steps, beta, entries)`. */
  readonly products: PoolKernel;
  readonly weights: (wt: number, dw: number, scratch: number) => void;
}

/** Compiled kernels by plan (see `kernel-cache.ts`: a 3 x 3 geometry's training step builds about 30). */
const kernelCache = new KernelCache<Kernels | GradKernels | PoolKernel | null>(1024);

/** The kernels `build` makes for `kind` and `fields` of a plan (the fields its code depends on), built on first use (the convolution kernels of other files keep theirs here too). */
export function cached<K extends Kernels | GradKernels | PoolKernel>(kind: string, fields: readonly (number | boolean)[], build: () => K | null): K | null {
  return kernelCache.get([kind, ...fields].join(","), build) as K | null; // NOTE: sound: `kind` in the key decides what was built
}

/** Every field of a plan, for the kernels whose code depends on most of them. */
const allFields = (plan: Plan): (number | boolean)[] => [plan.c4, plan.o8, plan.o4, plan.chunk, plan.inRows, plan.inCols, plan.outRows, plan.outCols, plan.bias, plan.relu, plan.pad];

/** The forward's kernels of a tile kind: the products' code is the same for every kind (the entries are an argument); its transforms load each value once (`transform2dLoadingOnce`). */
function kernelsOf(plan: Plan, kind: TileKind): Kernels | null {
  return cached("forward", [...allFields(plan), kind.rows, kind.cols], () => {
    const filter = instantiateKernel(filterBody(plan, kind), 3);
    const input = cached("forward input", [plan.c4, plan.inCols, plan.chunk, plan.pad, kind.rows, kind.cols], () => compileKernel(inputBody(plan, kind, true), 4));
    const products = cached("forward products", [plan.c4, plan.o8, plan.chunk, plan.pad], () => compileKernel(productsBody(forwardProducts(plan)), 7));
    const output = compileKernel(outputBody(plan, kind), 6);
    return filter === null || input === null || products === null || output === null ? null : { filter, input, products, output };
  });
}

/**
 * The filter gradient's kernels of a tile kind; `accumulate`: its weights
 * add to `dw` (every kind after the first). The products' code is the same
 * for every kind (the entries are an argument).
 */
function gradKernelsOf(plan: Plan, kind: TileKind, accumulate: boolean): GradKernels | null {
  return cached("filter gradient", [...allFields(plan), kind.rows, kind.cols, accumulate], () => {
    const input = cached("filter gradient input", [plan.c4, plan.inCols, plan.chunk, plan.pad, kind.rows, kind.cols], () => compileKernel(inputBody(plan, kind), 4));
    const gradient = compileKernel(gradientBody(plan, kind), 4);
    const products = cached("filter gradient products", [plan.c4, plan.o8, plan.chunk], () => compileKernel(productsBody(filterGradProducts(plan)), 7));
    const weights = instantiateKernel(weightsBody(plan, kind, accumulate), 3);
    return input === null || gradient === null || products === null || weights === null ? null : { input, gradient, products, weights };
  });
}

/**
 * The fewest multiply-adds of the products (tiles x 36 x c4 x o8) for which
 * the forward splits its chunks over the worker pool: the threshold of the
 * matmul's parallel path (wasm-matmul.ts), as the products are its kind of
 * work. The bench convolution (32 x 14 x 14 x 32 -> 64: 512 tiles) has
 * about 2^25, the CNN bench's first (64 x 28 x 28 x 1 -> 32) about 2^24.
 */
const PARALLEL_MIN_PRODUCTS = 2 ** 21;
/** The most tasks (each with its own V, M and scratch) the forward's chunks are grouped into. */
const MAX_GROUPS = 16;
/**
 * The filter gradient's tasks per chunk on the pool: its products (a tile
 * kind's entries) in ENTRY_GROUPS runs of entries, its transforms in TRANSFORM_GROUPS runs of
 * tiles (each with its own scratch). Fixed numbers, so that the tasks do not
 * depend on the thread count (nor would the bits if they did: each entry's
 * sum over tiles runs in tile order in any case).
 */
const ENTRY_GROUPS = 6;
const TRANSFORM_GROUPS = 4;

/**
 * The multiplies of F(4 x 4, 3 x 3)'s products (36 per tile and pair of
 * channels, the channels rounded up to 4 and 8, the output to whole 4 x 4
 * tiles) over those of the direct sum (9 per output and pair), for a 3 x 3
 * filter with stride and dilation 1 and one group; Infinity for others. An
 * upper bound of what the kernels take: their F(2, 3) edge tiles and the
 * forward's F(6, 3) tiles take fewer (so a few small shapes that would gain
 * are left to the other kernels).
 */
function multipliesRatio(g: ConvGeometry): number {
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  if (!(unit && g.kernelHeight === 3 && g.kernelWidth === 3 && g.groups === 1)) return Infinity;
  const tiles = g.batch * Math.ceil(g.outHeight / TILE) * Math.ceil(g.outWidth / TILE);
  const winograd = E * tiles * roundUp(g.inChannels, 4) * roundUp(g.outChannels, NR);
  const direct = 9 * g.batch * g.outHeight * g.outWidth * g.inChannels * g.outChannels;
  return winograd / direct;
}

/**
 * True when a float32 convolution takes `conv2dWinogradWasm`, and its filter
 * gradient (without an epilogue) `conv2dFilterGradWinogradWasm`: a 3 x 3
 * filter with stride and dilation 1 and one group, where the products'
 * multiplies are no more than the direct sum's (`multipliesRatio`). Measured against
 * the path each shape took before (implicit GEMM from a depth of 64, the
 * window kernel below), interleaved in one process on a loaded 2-core Xeon,
 * medians of 7: batch 64, 28 x 28, 1 to 32 channels 0.91 of the time (the
 * multiplies equal); 4 to 32, 0.10; 8 to 32, 0.27; 16 to 32, 0.28; 14 x 14,
 * 32 to 64, 0.41; 64 to 32, 0.40; batch 32, 14 x 14, 32 to 64 (the bench's),
 * 0.45; batch 8, 7 x 7, 128 to 128, 0.45; 28 x 28, 64 to 64, 0.24; 56 x 56,
 * 16 to 16, 0.28. Later, with the staging and the finiteness check made
 * cheaper (load 5, medians of 9): 28 x 28, 1 to 32, 0.66 to 0.68 of the
 * window kernel's time; 3 to 32, 0.20. The filter gradient against implicit
 * GEMM: 28 x 28, 1 to 32, 0.78 to 0.91; 3 to 32, 0.35 to 0.37; 14 x 14, 32
 * to 64, 0.46 to 0.71 (loaded); batch 8, 28 x 28, 64 to 64, 0.34.
 */
export function usesWinogradWasm(g: ConvGeometry): boolean {
  return multipliesRatio(g) <= 1;
}

/**
 * Copies the NHWC array `src` (`[N, H, W, C]`) into the shared memory from
 * float `at` as `[N][rows][cols][c4]`, pixel (h, w) at (h + top, w + left),
 * zeros everywhere else: pixels past `rows` or `cols` are left out.
 */
export function stageImage(floats: Float32Array, at: number, src: Float32Array, shape: { N: number; H: number; W: number; C: number }, rows: number, cols: number, c4: number, top: number, left: number): void {
  const { N, H, W, C } = shape;
  const h0 = Math.max(0, -top), h1 = Math.min(H, rows - top);
  const w0 = Math.max(0, -left), w1 = Math.min(W, cols - left);
  const rowSize = cols * c4;
  if (c4 !== C || h1 <= h0 || w1 <= w0) floats.fill(0, at, at + N * rows * rowSize);
  for (let n = 0; n < N; n++) {
    const image = at + n * rows * rowSize;
    if (c4 === C && h1 > h0 && w1 > w0) {
      // only the margins: the rows above and below, and each copied row's columns left and right
      floats.fill(0, image, image + (h0 + top) * rowSize);
      floats.fill(0, image + (h1 + top) * rowSize, image + rows * rowSize);
      for (let h = h0; h < h1; h++) {
        const row = image + (h + top) * rowSize;
        floats.fill(0, row, row + (w0 + left) * c4);
        floats.fill(0, row + (w1 + left) * c4, row + rowSize);
      }
    }
    for (let h = h0; h < h1 && w1 > w0; h++) {
      const from = ((n * H + h) * W + w0) * C;
      const to = image + (h + top) * rowSize + (w0 + left) * c4;
      if (c4 === C) {
        floats.set(src.subarray(from, from + (w1 - w0) * C), to);
        continue;
      }
      // NOTE: one float at a time: a `set` per pixel of a few channels costs far more (a view each)
      for (let w = 0; w < w1 - w0; w++) for (let c = 0; c < C; c++) floats[to + w * c4 + c] = src[from + w * C + c] ?? 0;
    }
  }
}

/** A plan's sizes that do not depend on its tiles: the channels rounded up, and the epilogue. */
type ChannelPlan = Pick<Plan, "c4" | "o8" | "o4" | "bias" | "relu">;

/** The channels of a geometry rounded up (to 4 in, to 8 and 4 out), and the epilogue's parts. */
const channelPlanOf = (g: ConvGeometry, epilogue: WasmEpilogue | undefined): ChannelPlan => ({
  c4: roundUp(g.inChannels, 4),
  o8: roundUp(g.outChannels, NR),
  o4: roundUp(g.outChannels, 4),
  bias: epilogue?.bias !== undefined,
  relu: epilogue?.relu ?? false,
});

/**
 * The fewest input channels for which the forward takes F(6, 3) along an
 * axis (where it takes fewer products there than F(4, 3)): below, the
 * transforms, which cost more per output with F(6, 3), outweigh the
 * products' saving. Measured (CPU time, one thread, medians of 60, loaded
 * machine, each against F(4, 3) alone): batch 64, 28 x 28, 8 to 32
 * channels 1.00 to 1.03 of F(4, 3)'s time; 16 to 32, 0.94 to 0.98; batch
 * 64, 14 x 14, 32 to 64, 0.94.
 */
const F6_MIN_CHANNELS = 16;

/** The output tiles along an axis of `size` outputs: `whole`s, then the rest in one tile (a 2 where one or two outputs are left, a 4 where three or four, a 6 where five). */
function axisTiles(size: number, whole: 6 | 4): TileSide[] {
  const left = size % whole;
  const tiles: TileSide[] = Array.from({ length: Math.floor(size / whole) }, () => whole);
  if (left > 0) tiles.push(left <= 2 ? 2 : left <= 4 ? 4 : 6);
  return tiles;
}

/** The products of an axis's tiles per tile of the other axis and channel pair: m + 2 a tile. */
const axisProducts = (tiles: readonly TileSide[]): number => tiles.reduce((sum, m) => sum + m + 2, 0);

/** An axis's tiles: F(6, 3)'s where the input has F6_MIN_CHANNELS or more and they take fewer products than F(4, 3)'s. */
function tilesOf(size: number, channels: number): TileSide[] {
  const [four, six] = [axisTiles(size, 4), axisTiles(size, 6)];
  return channels >= F6_MIN_CHANNELS && axisProducts(six) < axisProducts(four) ? six : four;
}

/**
 * The outputs of the forward's tiles (`conv2dWinogradWasm`) along the output's
 * rows and columns, in order: 6 for F(6, 3), 4 for F(4, 3), 2 for F(2, 3);
 * the last tile may reach one output past the edge. An output's error
 * bound depends on its tile (WINOGRAD_ERROR_BOUND, WINOGRAD_F6_ERROR_BOUND).
 */
export function forwardTiles(g: Pick<ConvGeometry, "outHeight" | "outWidth" | "inChannels">): { rows: readonly TileSide[]; cols: readonly TileSide[] } {
  return { rows: tilesOf(g.outHeight, g.inChannels), cols: tilesOf(g.outWidth, g.inChannels) };
}

/** Where each tile of an axis starts. */
const startsOf = (tiles: readonly number[]): number[] => tiles.map((_, i) => tiles.slice(0, i).reduce((a, b) => a + b, 0));

/** One kind of tile of a plan (the forward's or the filter gradient's): its tiles' corners as byte offsets into the staged input and output, from `start` in the tables. */
interface KindTiles {
  readonly kind: TileKind;
  readonly inOffsets: Int32Array;
  readonly outOffsets: Int32Array;
  readonly start: number;
  readonly count: number;
}

/** A plan of tiles of several kinds: the plan, its tiles, the largest entries of its kinds of tile, the kinds and their chunks of tiles. */
interface TilePlan {
  readonly plan: Plan;
  readonly tiles: number;
  readonly entries: number;
  readonly kinds: readonly KindTiles[];
  /** Chunks of one kind of tile each (`k`, its index in `kinds`): tiles `t0 .. t0 + count` of the tables. */
  readonly chunks: readonly { k: number; t0: number; count: number }[];
}

/** Forward and filter gradient plans by geometry (the same few shapes every step of a model). */
const tilePlans = new KernelCache<TilePlan>(256);

/**
 * The plan of `rowTiles` x `colTiles` output tiles of every image, from
 * `base` (its channels): the staged output holds every tile whole, the
 * staged input the tiles' patches; `kinds` lists the kinds of tile present
 * (largest first), each with its tiles' corners (images, then rows, then
 * columns) as byte offsets into the staged input and output, and where they
 * start in the tables; chunks of about WINOGRAD_CHUNK_BYTES of the largest
 * kind's transforms, of one kind each. `pad`: the floats between planes.
 */
function tilePlanOf(key: string, g: ConvGeometry, base: ChannelPlan, rowTiles: readonly TileSide[], colTiles: readonly TileSide[], pad: number): TilePlan {
  return tilePlans.get(key, () => buildTilePlan(g, base, rowTiles, colTiles, pad));
}

function buildTilePlan(g: ConvGeometry, base: ChannelPlan, rowTiles: readonly TileSide[], colTiles: readonly TileSide[], pad: number): TilePlan {
  const [rowStarts, colStarts] = [startsOf(rowTiles), startsOf(colTiles)];
  const outRows = rowTiles.reduce<number>((a, b) => a + b, 0);
  const outCols = colTiles.reduce<number>((a, b) => a + b, 0);
  const tiles = g.batch * rowTiles.length * colTiles.length;
  const sides = ([6, 4, 2] as const).filter((m) => rowTiles.includes(m) || colTiles.includes(m));
  const present = sides.flatMap((rows) => sides.map((cols) => ({ rows, cols }))).filter(({ rows, cols }) => rowTiles.includes(rows) && colTiles.includes(cols));
  const entries = Math.max(...present.map(entriesOf));
  const chunk = Math.min(roundUp(tiles, MR), Math.max(MR, Math.floor(WINOGRAD_CHUNK_BYTES / (entries * (base.c4 + base.o8) * FLOAT) / MR) * MR));
  const plan: Plan = { ...base, chunk, inRows: outRows + 2, inCols: outCols + 2, outRows, outCols, pad };
  const kinds: KindTiles[] = [];
  let start = 0;
  for (const kind of present) {
    const inOffsets: number[] = [];
    const outOffsets: number[] = [];
    for (let n = 0; n < g.batch; n++) {
      rowTiles.forEach((rows, th) => {
        if (rows !== kind.rows) return;
        colTiles.forEach((cols, tw) => {
          if (cols !== kind.cols) return;
          const [top, left] = [rowStarts[th] ?? 0, colStarts[tw] ?? 0];
          inOffsets.push(((n * plan.inRows + top) * plan.inCols + left) * plan.c4 * FLOAT);
          outOffsets.push(((n * plan.outRows + top) * plan.outCols + left) * plan.o4 * FLOAT);
        });
      });
    }
    kinds.push({ kind, inOffsets: Int32Array.from(inOffsets), outOffsets: Int32Array.from(outOffsets), start, count: inOffsets.length });
    start += inOffsets.length;
  }
  const chunks = kinds.flatMap(({ start, count }, k) => Array.from({ length: Math.ceil(count / chunk) }, (_, c) => ({ k, t0: start + c * chunk, count: Math.min(chunk, count - c * chunk) })));
  return { plan, tiles, entries, kinds, chunks };
}

/** The key of a geometry's plans: every size they depend on. */
const geometryKey = (g: ConvGeometry): (number | boolean)[] => [g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels, g.padTop, g.padLeft];

/**
 * The forward's plan: tiles of F(4, 3) or, for deep inputs, F(6, 3) along
 * each axis, and at an output's bottom and right edges a tile that covers
 * what is left (`axisTiles`: an output of 14 computes 14 rather than 16).
 */
function forwardPlanOf(g: ConvGeometry, epilogue: WasmEpilogue): TilePlan {
  const { rows, cols } = forwardTiles(g);
  const key = ["forward", ...geometryKey(g), epilogue.bias !== undefined, epilogue.relu].join(",");
  return tilePlanOf(key, g, channelPlanOf(g, epilogue), rows, cols, PLANE_PAD);
}

/**
 * The filter gradient's plan: F(4, 3) tiles along each axis and, at the
 * bottom and right edges, the tile that covers what is left (F(2, 3) where
 * one or two outputs are left), as in the forward: the planes unpadded.
 */
function filterGradPlanOf(g: ConvGeometry): TilePlan {
  const key = ["filter gradient", ...geometryKey(g)].join(",");
  return tilePlanOf(key, g, channelPlanOf(g, undefined), axisTiles(g.outHeight, 4), axisTiles(g.outWidth, 4), 0);
}

/** Regions from byte 0 of the shared memory, in order, each rounded up to 16 bytes: `sizes` in floats; the last entry is the end. */
export function regions<K extends string>(sizes: Record<K, number>): Record<K | "end", number> {
  let at = 0;
  const out: Record<string, number> = {};
  for (const [name, floats] of Object.entries<number>(sizes)) {
    out[name] = at;
    at = roundUp(at + floats * FLOAT, VECTOR);
  }
  out["end"] = at;
  return out as Record<K | "end", number>; // NOTE: sound: every key of `sizes` and "end" were set above
}

/**
 * The forward convolution of float32 arrays by F(4 x 4, 3 x 3) and
 * F(6 x 6, 3 x 3) in WebAssembly (see the file's header): `out = act(conv(x,
 * w) + bias)` for a geometry `usesWinogradWasm` accepts. Returns false,
 * having written nothing, where WebAssembly SIMD or the memory is missing,
 * or where the result holds a NaN or an infinity: from a NaN or an infinity
 * in `x`, `w` or the bias (which the transforms spread over a tile, an
 * infinity turning into NaN) or from a partial sum that overflowed. The
 * caller then takes another kernel (`forward.ts`). (Checked on the result, in the output
 * transform, rather than on `x` and `w` before: that pass over the input
 * and the filter cost 0.03 to 0.05 ms of the bench conv's 2.5.) An `out`
 * that is a compiled program's buffer in the kernels' memory, laid out as
 * the staged output (whole tiles, channels in fours), is written where it
 * is, so a call that then returns false has written it: the caller's other
 * kernel writes every element again (`out` never shares storage with `x` or
 * `w`, and nothing here adds to its old values).
 */
export function conv2dWinogradWasm(out: Float32Array, x: Float32Array, w: Float32Array, g: ConvGeometry, epilogue: WasmEpilogue): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const { plan, tiles, entries, kinds, chunks } = forwardPlanOf(g, epilogue);
  const { c4, o8, o4 } = plan;
  const kernels = kinds.map(({ kind }) => kernelsOf(plan, kind));
  if (kernels.some((k) => k === null)) return false;
  // The chunks are independent (each writes its own output tiles), so how they are grouped into tasks changes no bit.
  const groups = getThreads() > 1 && tiles * entries * c4 * o8 >= PARALLEL_MIN_PRODUCTS ? Math.min(chunks.length, MAX_GROUPS) : 1;
  // the output written where it is when it is a compiled program's buffer in the kernels' memory laid out as the staged one
  const outIn = plan.outRows === OH && plan.outCols === OW && o4 === O ? arenaAddress(out) : undefined;
  const at = regions({
    source: c4 === C && arenaAddress(x) === undefined ? N * H * W * C : 0,
    x: N * plan.inRows * plan.inCols * c4,
    w: 9 * c4 * o8,
    u: kinds.length * entries * planeU(plan),
    v: groups * entries * planeV(plan),
    m: groups * entries * planeM(plan),
    y: outIn === undefined ? N * plan.outRows * plan.outCols * o4 : 0,
    bias: o4,
    inTable: tiles,
    outTable: tiles,
    scratch: groups * 4 * entries,
    finite: groups * 4,
  });
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  if (c4 === C) stageByCopy(floats, at.source, at.x, x, { N, H, W, C }, plan.inRows, plan.inCols, g.padTop, g.padLeft);
  else stageImage(floats, at.x / FLOAT, x, { N, H, W, C }, plan.inRows, plan.inCols, c4, g.padTop, g.padLeft);
  // The filter as [3][3][c4][o8], zero-padded.
  const wAt = at.w / FLOAT;
  if (c4 === C && o8 === O) floats.set(w.subarray(0, 9 * C * O), wAt);
  else {
    floats.fill(0, wAt, wAt + 9 * c4 * o8);
    for (let tc = 0; tc < 9 * C; tc++) floats.set(w.subarray(tc * O, (tc + 1) * O), wAt + (Math.floor(tc / C) * c4 + (tc % C)) * o8);
  }
  const uOf = (k: number): number => at.u + k * entries * planeU(plan) * FLOAT;
  kernels.forEach((kernel, k) => kernel?.filter(at.w, uOf(k), at.scratch));
  if (epilogue.bias !== undefined) {
    floats.fill(0, at.bias / FLOAT, at.bias / FLOAT + o4);
    floats.set(epilogue.bias.subarray(epilogue.biasOffset, epilogue.biasOffset + O), at.bias / FLOAT);
  }
  const inTable = new Int32Array(heap, at.inTable, tiles);
  const outTable = new Int32Array(heap, at.outTable, tiles);
  for (const { inOffsets, outOffsets, start, count } of kinds) {
    for (let i = 0; i < count; i++) {
      inTable[start + i] = at.x + (inOffsets[i] ?? 0);
      outTable[start + i] = (outIn ?? at.y) + (outOffsets[i] ?? 0);
    }
  }
  // Task `j` runs chunks j, j + groups, ... in its own V, M and scratch.
  const tasks: TaskCall[][] = Array.from({ length: groups }, () => []);
  chunks.forEach(({ k, t0, count }, c) => {
    const j = c % groups;
    const kernel = kernels[k];
    const kindEntries = entriesOf(kinds[k]?.kind ?? FULL);
    if (kernel === null || kernel === undefined) return;
    const [v, m, scratch] = [at.v + j * entries * planeV(plan) * FLOAT, at.m + j * entries * planeM(plan) * FLOAT, at.scratch + j * 4 * entries * FLOAT];
    tasks[j]?.push(
      { kernel: kernel.input, args: [at.inTable + t0 * 4, count, v, scratch] },
      { kernel: kernel.products, args: [v, uOf(k), m, Math.ceil(count / MR), c4, 0, kindEntries] },
      { kernel: kernel.output, args: [at.outTable + t0 * 4, count, m, scratch, at.bias, at.finite + j * VECTOR] },
    );
  });
  floats.fill(0, at.finite / FLOAT, at.finite / FLOAT + groups * 4);
  runTasks(tasks);
  // NOTE: a NaN or an infinity in x, w or the bias, or a partial sum that overflowed, reaches some output of its tile (every
  // column of B^T, G and A^T has a coefficient that is not 0, and `0 * Inf` is NaN): the sum of `y - y` over the staged
  // output, padding included, is then NaN, else 0.
  let finite = 0;
  for (let i = at.finite / FLOAT; i < at.finite / FLOAT + groups * 4; i++) finite += floats[i] ?? NaN;
  if (finite !== 0) return false;
  if (outIn !== undefined) return true;
  // The staged output's rows, without the columns and rows past the output and the channels past O.
  const yAt = at.y / FLOAT;
  if (plan.outRows === OH && plan.outCols === OW && o4 === O) {
    out.set(floats.subarray(yAt, yAt + N * OH * OW * O));
    return true;
  }
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

/**
 * The filter gradient of a float32 3 x 3 convolution with stride and
 * dilation 1 and one group by Winograd's F(3 x 3, 4 x 4), the transpose of
 * the forward's F(4 x 4, 3 x 3): with `d` a tile's 6 x 6 input patch and
 * `dy` its 4 x 4 output gradient, `<dy, y> = sum_e (A dy A^T)_e (G g
 * G^T)_e (B^T d B)_e` per tile, so `dw = G^T [sum_tiles (A dy A^T) * (B^T d
 * B)] G`: the sum over tiles is
 * 36 products `W[e] = V[e]^T @ D[e]` (`[C, tiles] @ [tiles, O]`), run chunk
 * by chunk in tile order. At the bottom and right edges, where one or two
 * output rows or columns are left, the tiles are F(2, 3) along that axis
 * (`axisTiles`, as in the forward: 4 x 2, 2 x 4 or 2 x 2 outputs, 24 or 16
 * products), each kind of tile with its own W, and `dw` is the kinds'
 * `G^T W G` summed in a fixed order (largest kind first). An output of 14
 * takes 4 + 4 + 4 + 2: 484 products per image and channel pair where 16
 * would take 576, and a `dy` that lives in the kernels' memory is read
 * where it is. Measured on the CNN step's 64 x 14 x 14, 32 to 64,
 * interleaved against whole tiles (2026-12-08, one thread, load 1.2):
 * 0.86 to 0.88 of the time, and nearer the float64 sum (3.6e-5 of the
 * largest `|dw|` against 5.2e-5); the CNN step 0.916 at one thread, 0.926 at
 * two (`bench/cnn-ab.ts`). Tiles past the output's edge see a zero
 * gradient there. `dw` is HWIO (`[3, 3, C, O]`). Returns false, having written
 * nothing, where `x` or `dy` holds a NaN or an infinity, or where a partial
 * sum overflowed: the caller then takes another kernel. Both are found in
 * the result: a NaN or an infinity, once in a sum, stays (`Inf + x` is
 * infinite or NaN, `Inf * 0` is NaN), and no value is dropped on the way
 * (every value of a patch or a tile of `dy` reaches some entry of `V` or
 * `D` with a coefficient that is not 0, every entry of `V` meets every
 * column of `D` in the products, and every entry of `W` reaches some tap of
 * `dw` through `G`), so any of them leaves a NaN or an infinity somewhere in
 * the staged `dw`, padding channels included, which is checked whole.
 */
export function conv2dFilterGradWinogradWasm(dw: Float32Array, x: Float32Array, dy: Float32Array, g: ConvGeometry): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const { plan, tiles, entries, kinds, chunks } = filterGradPlanOf(g);
  const { c4, o8, o4, chunk } = plan;
  const kernels = kinds.map(({ kind }, k) => gradKernelsOf(plan, kind, k > 0));
  if (kernels.some((k) => k === null)) return false;
  // each kind's W, one after another
  const wtSizes = kinds.map(({ kind }) => entriesOf(kind) * c4 * o8);
  const wtStarts = startsOf(wtSizes);
  // the products split into ENTRY_GROUPS tasks, a chunk's transforms into TRANSFORM_GROUPS (see below)
  const parallel = getThreads() > 1 && kinds.reduce((n, { kind, count }) => n + count * entriesOf(kind), 0) * c4 * o8 >= PARALLEL_MIN_PRODUCTS;
  // dy read where it is when it is a compiled program's buffer in the kernels' memory laid out as the staged one (its tiles cover it, channels in fours)
  const dyIn = plan.outRows === OH && plan.outCols === OW && o4 === O ? arenaAddress(dy) : undefined;
  // x and dy staged by one WebAssembly pass where their pixels are whole vectors (`stageByCopy`: from where they are when they live in
  // the kernels' memory, else from a copy), by `stageImage` where their channels need padding
  const [xByCopy, dyByCopy] = [c4 === C, dyIn === undefined && o4 === O];
  const buffers = parallel ? 2 : 1;
  const at = regions({
    xSource: xByCopy && arenaAddress(x) === undefined ? N * H * W * C : 0,
    x: N * plan.inRows * plan.inCols * c4,
    dySource: dyByCopy && arenaAddress(dy) === undefined ? N * OH * OW * O : 0,
    dy: dyIn === undefined ? N * plan.outRows * plan.outCols * o4 : 0,
    v: buffers * entries * chunk * c4,
    d: buffers * entries * chunk * o8,
    wt: wtSizes.reduce((a, b) => a + b, 0),
    dw: 9 * c4 * o8,
    inTable: tiles,
    outTable: tiles,
    scratch: TRANSFORM_GROUPS * 4 * entries,
  });
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  if (xByCopy) stageByCopy(floats, at.xSource, at.x, x, { N, H, W, C }, plan.inRows, plan.inCols, g.padTop, g.padLeft);
  else stageImage(floats, at.x / FLOAT, x, { N, H, W, C }, plan.inRows, plan.inCols, c4, g.padTop, g.padLeft);
  const dyAt = dyIn ?? at.dy;
  if (dyByCopy) stageByCopy(floats, at.dySource, at.dy, dy, { N, H: OH, W: OW, C: O }, plan.outRows, plan.outCols, 0, 0);
  else if (dyIn === undefined) stageImage(floats, at.dy / FLOAT, dy, { N, H: OH, W: OW, C: O }, plan.outRows, plan.outCols, o4, 0, 0);
  // D's columns past o4 are never written: zero once (both buffers)
  if (o4 !== o8) floats.fill(0, at.d / FLOAT, at.d / FLOAT + buffers * entries * chunk * o8);
  const inTable = new Int32Array(heap, at.inTable, tiles);
  const outTable = new Int32Array(heap, at.outTable, tiles);
  for (const { inOffsets, outOffsets, start, count } of kinds) {
    for (let i = 0; i < count; i++) {
      inTable[start + i] = at.x + (inOffsets[i] ?? 0);
      outTable[start + i] = dyAt + (outOffsets[i] ?? 0);
    }
  }
  // NOTE: two V and D only in parallel: on one thread the second buffer measured 3 to 5% slower (a larger footprint in the L2 cache)
  const slot = (c: number): number => (parallel ? c % 2 : 0);
  const [vBuffer, dBuffer] = [(c: number): number => at.v + slot(c) * entries * chunk * c4 * FLOAT, (c: number): number => at.d + slot(c) * entries * chunk * o8 * FLOAT];
  // Chunk c's transforms, its tiles split into `parts` runs (each tile's transforms are its own, in its own place of V and D).
  const transforms = (c: number, parts: number): TaskCall[][] => {
    const { k, t0, count } = chunks[c] ?? { k: 0, t0: 0, count: 0 };
    const kernel = kernels[k];
    if (kernel === null || kernel === undefined) return [];
    const per = Math.ceil(count / parts);
    const tasks: TaskCall[][] = [];
    for (let j = 0, part = 0; j < count; j += per, part++) {
      const n = Math.min(per, count - j);
      const scratch = at.scratch + part * 4 * entries * FLOAT;
      tasks.push([
        { kernel: kernel.input, args: [at.inTable + (t0 + j) * 4, n, vBuffer(c) + j * c4 * FLOAT, scratch] },
        { kernel: kernel.gradient, args: [at.outTable + (t0 + j) * 4, n, dBuffer(c) + j * o8 * FLOAT, scratch] },
      ]);
    }
    return tasks;
  };
  // Chunk c's products, its kind's entries split into `parts` runs, added to the kind's W (set by the kind's first chunk); each entry's
  // sum over a kind's tiles runs in tile order whoever adds a chunk.
  const products = (c: number, parts: number): TaskCall[][] => {
    const { k, t0, count } = chunks[c] ?? { k: 0, t0: 0, count: 0 };
    const kindOf = kinds[k];
    const kernel = kernels[k];
    if (kindOf === undefined || kernel === null || kernel === undefined) return [];
    const kindEntries = entriesOf(kindOf.kind);
    const beta = t0 === kindOf.start ? 0 : 1;
    const per = Math.ceil(kindEntries / parts);
    const tasks: TaskCall[][] = [];
    for (let e = 0; e < kindEntries; e += per) {
      const n = Math.min(per, kindEntries - e);
      const args = [vBuffer(c) + e * chunk * c4 * FLOAT, dBuffer(c) + e * chunk * o8 * FLOAT, at.wt + ((wtStarts[k] ?? 0) + e * c4 * o8) * FLOAT, c4 / MR, count, beta, n];
      tasks.push([{ kernel: kernel.products, args }]);
    }
    return tasks;
  };
  if (parallel) {
    // Job c runs chunk c - 1's products beside chunk c's transforms, which write the other V and D: no task reads what another writes.
    for (let c = 0; c <= chunks.length; c++) runTasks([...(c > 0 ? products(c - 1, ENTRY_GROUPS) : []), ...(c < chunks.length ? transforms(c, TRANSFORM_GROUPS) : [])]);
  } else {
    for (let c = 0; c < chunks.length; c++) runTasks([[...transforms(c, 1).flat(), ...products(c, 1).flat()]]);
  }
  // dw = the kinds' G^T W G, summed in the kinds' order
  kernels.forEach((kernel, k) => kernel?.weights(at.wt + (wtStarts[k] ?? 0) * FLOAT, at.dw, at.scratch));
  const dwAt = at.dw / FLOAT;
  // NOTE: checked after the sums, not before: a NaN or infinity read, or a partial sum that overflowed, leaves a NaN or an
  // infinity in `dw` (see the doc comment), and the check reads 9 c4 o8 floats where one before reads all of x and dy.
  for (let i = dwAt; i < dwAt + 9 * c4 * o8; i++) {
    const v = floats[i] ?? NaN;
    if (v - v !== 0) return false;
  }
  for (let tc = 0; tc < 9 * C; tc++) dw.set(floats.subarray(dwAt + (Math.floor(tc / C) * c4 + (tc % C)) * o8, dwAt + (Math.floor(tc / C) * c4 + (tc % C)) * o8 + O), tc * O);
  return true;
}
