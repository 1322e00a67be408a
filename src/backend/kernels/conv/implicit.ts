/**
 * Implicit GEMM: a float32 convolution's columns packed straight from the
 * NHWC input into the panels of the WebAssembly matmul (`wasmGemmPacked`),
 * with no column matrix in between. im2col wrote every window value into
 * the columns and the matmul then copied it again into its panels; here
 * each value is written once, into the panel. The packed panels hold
 * exactly what packing the columns would put there, so the products, their
 * summation order and their bits are those of columns and `gemm`.
 *
 * Two packers: the forward product `cols @ w` (A is the columns: a panel is
 * PANEL_ROWS output positions over a run of `(kh, kw, c)`) and the filter
 * gradient `cols^T @ dy` (A is the transposed columns: a panel is PANEL_ROWS
 * consecutive `(kh, kw, c)` over a run of output positions; when a group's
 * channels come in fours, the four share a tap and are four neighbouring
 * floats of the input).
 *
 * Measured against im2col and the same matmul, interleaved in one process on
 * a loaded machine (bench/results/profile-conv.md): the bench's convolution
 * (batch 32, 14 x 14 x 32 to 64) 0.45 of the time, the CNN's second layer's
 * input gradient 0.36 and filter gradient 0.53, its first layer's filter
 * gradient 0.48.
 *
 * Left out: float64 (the JavaScript matmul packs its own float64 blocks from
 * the columns) and the input gradient, which is a forward convolution of
 * `dy` for the 3 x 3 filters that matter (see `backward.ts`).
 */

import { DEPTH_BLOCK, PANEL_ROWS, type PanelPacker, wasmGemmPacked, type WasmEpilogue } from "../wasm-matmul.js";
import { wasmPays } from "../matmul.js";
import type { MatrixView } from "../matrix-view.js";
import type { ConvGeometry } from "./geometry.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { compiledGathers, type Gathers, SEGMENT_BYTES } from "./wasm-pack.js";

/** The per-tap offsets of a window: rows and columns from its top-left corner. */
interface Taps {
  readonly down: Int32Array;
  readonly right: Int32Array;
}

function tapsOf(g: ConvGeometry): Taps {
  const count = g.kernelHeight * g.kernelWidth;
  const down = new Int32Array(count);
  const right = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    down[t] = Math.floor(t / g.kernelWidth) * g.dilationHeight;
    right[t] = (t % g.kernelWidth) * g.dilationWidth;
  }
  return { down, right };
}

/**
 * The top-left corner of the window under each of `count` output positions
 * from `r0` (of `N * OH * OW`): its input row and column (either may be
 * negative, in the padding) and the input offset of its image.
 */
function corners(g: ConvGeometry, r0: number, count: number, top: Int32Array, left: Int32Array, image: Int32Array): void {
  const { outHeight: OH, outWidth: OW } = g;
  const imageSize = g.inHeight * g.inWidth * g.inChannels;
  let n = Math.floor(r0 / (OH * OW));
  let oh = Math.floor(r0 / OW) % OH;
  let ow = r0 % OW;
  for (let i = 0; i < count; i++) {
    top[i] = oh * g.strideHeight - g.padTop;
    left[i] = ow * g.strideWidth - g.padLeft;
    image[i] = n * imageSize;
    if (++ow === OW) {
      ow = 0;
      if (++oh === OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/** Scratch for the corners of up to DEPTH_BLOCK positions (a packer's calls never overlap). */
const cornerTop = new Int32Array(Math.max(DEPTH_BLOCK, PANEL_ROWS));
const cornerLeft = new Int32Array(Math.max(DEPTH_BLOCK, PANEL_ROWS));
const cornerImage = new Int32Array(Math.max(DEPTH_BLOCK, PANEL_ROWS));

/**
 * The packer of the forward columns of one group: A is `[N * OH * OW,
 * KH * KW * C / groups]`, row `r` the window under output position `r`,
 * ordered `(kh, kw, c)`; what falls in the padding is 0.
 */
export function forwardPacker(x: Float32Array, g: ConvGeometry, group: number): PanelPacker {
  const { inHeight: H, inWidth: W, inChannels: C, groupInChannels: Cg } = g;
  const { down, right } = tapsOf(g);
  // The input offset of one row's tap, or -1 in the padding.
  const source = new Int32Array(PANEL_ROWS);
  return (floats, at, i0, mc, rowTiles, p0, kc) => {
    const p1 = p0 + kc;
    for (let tile = 0; tile < rowTiles; tile++) {
      const first = tile * PANEL_ROWS;
      const rows = Math.min(PANEL_ROWS, mc - first);
      const panel = at + tile * kc * PANEL_ROWS;
      if (rows < PANEL_ROWS) floats.fill(0, panel, panel + kc * PANEL_ROWS);
      corners(g, i0 + first, rows, cornerTop, cornerLeft, cornerImage);
      for (let tap = Math.floor(p0 / Cg); tap * Cg < p1; tap++) {
        let inside = rows;
        for (let r = 0; r < rows; r++) {
          const ih = (cornerTop[r] ?? 0) + (down[tap] ?? 0);
          const iw = (cornerLeft[r] ?? 0) + (right[tap] ?? 0);
          const ok = ih >= 0 && ih < H && iw >= 0 && iw < W;
          source[r] = ok ? (cornerImage[r] ?? 0) + (ih * W + iw) * C + group * Cg : -1;
          if (!ok) inside--;
        }
        // this tap's channels within the block of k, and where the first lands in the panel
        const c0 = Math.max(0, p0 - tap * Cg);
        const c1 = Math.min(Cg, p1 - tap * Cg);
        let to = panel + (tap * Cg + c0 - p0) * PANEL_ROWS;
        if (inside === PANEL_ROWS && PANEL_ROWS === 4) {
          const s0 = source[0] ?? 0, s1 = source[1] ?? 0, s2 = source[2] ?? 0, s3 = source[3] ?? 0;
          for (let c = c0; c < c1; c++, to += 4) {
            floats[to] = x[s0 + c] ?? 0;
            floats[to + 1] = x[s1 + c] ?? 0;
            floats[to + 2] = x[s2 + c] ?? 0;
            floats[to + 3] = x[s3 + c] ?? 0;
          }
          continue;
        }
        for (let r = 0; r < rows; r++) {
          const s = source[r] ?? -1;
          for (let c = c0, q = to + r; c < c1; c++, q += PANEL_ROWS) floats[q] = s < 0 ? 0 : (x[s + c] ?? 0);
        }
      }
    }
  };
}

/**
 * The packer of the transposed columns of one group: A is `[KH * KW * C /
 * groups, N * OH * OW]`, row `(kh, kw, c)` holding that tap and channel of
 * every output position's window (0 in the padding). A position whose whole
 * window lies inside the input (most of them) reads each row at a fixed
 * offset from its window's corner; the others test each tap.
 */
export function filterGradPacker(x: Float32Array, g: ConvGeometry, group: number): PanelPacker {
  const { inHeight: H, inWidth: W, inChannels: C, groupInChannels: Cg } = g;
  const { down, right } = tapsOf(g);
  const lastDown = (g.kernelHeight - 1) * g.dilationHeight;
  const lastRight = (g.kernelWidth - 1) * g.dilationWidth;
  const step = g.strideWidth * C;
  /** Of row `d` (a tap and channel): the input value under output position `p` of the block, or 0 in the padding. */
  const value = (d: number, p: number): number => {
    const tap = Math.floor(d / Cg);
    const ih = (cornerTop[p] ?? 0) + (down[tap] ?? 0);
    const iw = (cornerLeft[p] ?? 0) + (right[tap] ?? 0);
    return ih >= 0 && ih < H && iw >= 0 && iw < W ? (x[(cornerImage[p] ?? 0) + (ih * W + iw) * C + group * Cg + (d % Cg)] ?? 0) : 0;
  };
  return (floats, at, i0, mc, rowTiles, p0, kc) => {
    corners(g, p0, kc, cornerTop, cornerLeft, cornerImage);
    for (let tile = 0; tile < rowTiles; tile++) {
      const first = i0 + tile * PANEL_ROWS;
      const rows = Math.min(PANEL_ROWS, mc - tile * PANEL_ROWS);
      const panel = at + tile * kc * PANEL_ROWS;
      if (rows < PANEL_ROWS || PANEL_ROWS !== 4) {
        for (let r = 0; r < PANEL_ROWS; r++) {
          for (let p = 0, to = panel + r; p < kc; p++, to += PANEL_ROWS) floats[to] = r < rows ? value(first + r, p) : 0;
        }
        continue;
      }
      // Each row's offset from its window's corner pixel.
      const offset = (d: number): number => {
        const tap = Math.floor(d / Cg);
        return ((down[tap] ?? 0) * W + (right[tap] ?? 0)) * C + group * Cg + (d % Cg);
      };
      const o0 = offset(first), o1 = offset(first + 1), o2 = offset(first + 2), o3 = offset(first + 3);
      for (let p = 0, to = panel; p < kc; ) {
        const top = cornerTop[p] ?? 0, left = cornerLeft[p] ?? 0;
        if (top >= 0 && top + lastDown < H && left >= 0 && left + lastRight < W) {
          // A run of positions along one output row whose windows lie inside: corners `step` apart.
          const ow = (left + g.padLeft) / g.strideWidth;
          const run = Math.min(kc - p, g.outWidth - ow, Math.floor((W - 1 - lastRight - left) / g.strideWidth) + 1);
          for (let q = 0, corner = (cornerImage[p] ?? 0) + (top * W + left) * C; q < run; q++, to += 4, corner += step) {
            floats[to] = x[corner + o0] ?? 0;
            floats[to + 1] = x[corner + o1] ?? 0;
            floats[to + 2] = x[corner + o2] ?? 0;
            floats[to + 3] = x[corner + o3] ?? 0;
          }
          p += run;
          continue;
        }
        floats[to] = value(first, p);
        floats[to + 1] = value(first + 1, p);
        floats[to + 2] = value(first + 2, p);
        floats[to + 3] = value(first + 3, p);
        p++;
        to += 4;
      }
    }
  };
}

/**
 * Where `stage` put the input with its padding written out (`[N, height,
 * width, C]`, byte addresses of the shared memory from 0), the zeros that
 * the rows past a partial tile read, and the gathers' table.
 */
interface Staged {
  readonly gathers: Gathers;
  readonly height: number;
  readonly width: number;
  readonly zerosAt: number;
  readonly tableAt: number;
  /** The first byte past the staging, where the matmul's memory starts. */
  readonly end: number;
}

/**
 * Copies `x` into the shared memory from byte 0 with its padding written out
 * as zeros, so that every window lies inside and each tap is a fixed offset
 * from its window's corner; then zeros and room for the gathers' table. For
 * the WebAssembly gathers (`wasm-pack.ts`) of a group's channels in fours, or
 * of a one-channel input with horizontal stride 1; undefined where neither
 * applies or they cannot run here.
 */
function stage(x: Float32Array, g: ConvGeometry): Staged | undefined {
  const { inHeight: H, inWidth: W, inChannels: C, groupInChannels: Cg, outHeight: OH, outWidth: OW } = g;
  const fours = Cg % 4 === 0;
  if (!fours && !(C === 1 && g.strideWidth === 1)) return undefined;
  const gathers = compiledGathers();
  if (gathers === null) return undefined;
  const height = (OH - 1) * g.strideHeight + (g.kernelHeight - 1) * g.dilationHeight + 1;
  const width = (OW - 1) * g.strideWidth + (g.kernelWidth - 1) * g.dilationWidth + 1;
  const size = g.batch * height * width * C;
  const zerosAt = roundUp16(size * FLOAT);
  const tableAt = zerosAt + DEPTH_BLOCK * FLOAT;
  // The forward's segments (tiles of a block of MC_MAX rows, each over the taps that a block of k reaches), the
  // one-channel filter gradient's (tiles, each over the output rows that a block of k reaches), or the filter
  // gradient's corners (one per position of a block of k), whichever needs most.
  const segments = (MC_MAX / PANEL_ROWS) * (DEPTH_BLOCK + 2) * SEGMENT_BYTES;
  const end = tableAt + roundUp16(segments);
  const heap = sharedHeap(end);
  if (heap === undefined) return undefined;
  const padded = new Float32Array(heap, 0, zerosAt / FLOAT + DEPTH_BLOCK);
  padded.fill(0);
  // input column iw lands at padded column iw + padLeft (columns that no window reaches are left out)
  const iw0 = Math.max(0, -g.padLeft), iw1 = Math.min(W, width - g.padLeft);
  for (let n = 0; n < g.batch; n++) {
    for (let r = 0; r < height; r++) {
      const ih = r - g.padTop;
      if (ih < 0 || ih >= H || iw1 <= iw0) continue;
      const from = ((n * H + ih) * W + iw0) * C;
      padded.set(x.subarray(from, from + (iw1 - iw0) * C), ((n * height + r) * width + iw0 + g.padLeft) * C);
    }
  }
  return { gathers, height, width, zerosAt, tableAt, end };
}

/** The byte address in the staged input of the corner of the window under each of `count` output positions from `r0`. */
function stagedCorners(s: Staged, g: ConvGeometry, r0: number, count: number, out: Int32Array): void {
  const { outHeight: OH, outWidth: OW, inChannels: C } = g;
  let n = Math.floor(r0 / (OH * OW));
  let oh = Math.floor(r0 / OW) % OH;
  let ow = r0 % OW;
  for (let i = 0; i < count; i++) {
    out[i] = ((n * s.height + oh * g.strideHeight) * s.width + ow * g.strideWidth) * C * FLOAT;
    if (++ow === OW) {
      ow = 0;
      if (++oh === OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/** The byte offset of each tap from its window's corner in the staged input. */
function stagedTaps(s: Staged, g: ConvGeometry): Int32Array {
  const { down, right } = tapsOf(g);
  return down.map((d, t) => (d * s.width + (right[t] ?? 0)) * g.inChannels * FLOAT);
}

const FLOAT = 4;
/** The most rows of A a packer is asked for at once (the matmul's block of rows, MC, or less). */
const MC_MAX = 128;
const roundUp16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** `forwardPacker` by `gatherRows` (a group's channels in fours), over the input that `stage` placed. */
function stagedForwardPacker(s: Staged, g: ConvGeometry, group: number): PanelPacker {
  const Cg = g.groupInChannels;
  const taps = stagedTaps(s, g);
  return (floats, at, i0, mc, rowTiles, p0, kc) => {
    const table = tableOf(s, floats, mc, kc);
    const p1 = p0 + kc;
    let count = 0;
    for (let tile = 0; tile < rowTiles; tile++) {
      const first = tile * PANEL_ROWS;
      const rows = Math.min(PANEL_ROWS, mc - first);
      stagedCorners(s, g, i0 + first, rows, cornerTop);
      for (let tap = Math.floor(p0 / Cg); tap * Cg < p1; tap++) {
        // this tap's channels within the block of k (whole fours: p0, kc and Cg are multiples of 4)
        const c0 = Math.max(0, p0 - tap * Cg);
        const c1 = Math.min(Cg, p1 - tap * Cg);
        const e = count++ * (SEGMENT_BYTES / FLOAT);
        const offset = (taps[tap] ?? 0) + (group * Cg + c0) * FLOAT;
        table[e] = (at + tile * kc * PANEL_ROWS + (tap * Cg + c0 - p0) * PANEL_ROWS) * FLOAT;
        for (let r = 0; r < PANEL_ROWS; r++) table[e + 1 + r] = r < rows ? (cornerTop[r] ?? 0) + offset : s.zerosAt;
        table[e + 5] = (c1 - c0) / 4;
      }
    }
    s.gathers.rows(s.tableAt, count);
  };
}

/** `filterGradPacker` by `gatherColumns` (a group's channels in fours), over the input that `stage` placed. */
function stagedFilterGradPacker(s: Staged, g: ConvGeometry, group: number): PanelPacker {
  const Cg = g.groupInChannels;
  const taps = stagedTaps(s, g);
  return (floats, at, i0, mc, rowTiles, p0, kc) => {
    const table = tableOf(s, floats, mc, kc);
    // the corner of each position's window; a tile's tap and channels are the gather's offset from it
    stagedCorners(s, g, p0, kc, table);
    // Every tile is four channels of one tap (mc, i0 and Cg are multiples of 4).
    for (let tile = 0; tile < rowTiles; tile++) {
      const d = i0 + tile * PANEL_ROWS;
      const offset = (taps[Math.floor(d / Cg)] ?? 0) + (group * Cg + (d % Cg)) * FLOAT;
      s.gathers.columns((at + tile * kc * PANEL_ROWS) * FLOAT, s.tableAt, kc, offset);
    }
  };
}

/**
 * `filterGradPacker` for a one-channel input with horizontal stride 1 by
 * `gatherRows`, over the input that `stage` placed: a tile is four taps,
 * and four neighbouring positions of an output row are one vector under
 * each tap, transposed into four steps; what is left of a row (fewer than
 * four) is copied one by one.
 */
function paddedFilterGradPacker(s: Staged, g: ConvGeometry): PanelPacker {
  const { outWidth: OW } = g;
  const taps = stagedTaps(s, g);
  return (floats, at, i0, mc, rowTiles, p0, kc) => {
    const table = tableOf(s, floats, mc, kc);
    stagedCorners(s, g, p0, kc, cornerTop);
    let count = 0;
    for (let tile = 0; tile < rowTiles; tile++) {
      const first = i0 + tile * PANEL_ROWS;
      const rows = Math.min(PANEL_ROWS, mc - tile * PANEL_ROWS);
      const panel = at + tile * kc * PANEL_ROWS;
      for (let p = 0; p < kc; ) {
        const run = Math.min(kc - p, OW - ((p0 + p) % OW));
        const groups = Math.floor(run / 4);
        const corner = cornerTop[p] ?? 0;
        if (groups > 0) {
          const e = count++ * (SEGMENT_BYTES / FLOAT);
          table[e] = (panel + p * PANEL_ROWS) * FLOAT;
          for (let j = 0; j < PANEL_ROWS; j++) table[e + 1 + j] = j < rows ? corner + (taps[first + j] ?? 0) : s.zerosAt;
          table[e + 5] = groups;
        }
        for (let q = 4 * groups; q < run; q++) {
          for (let j = 0; j < PANEL_ROWS; j++) {
            floats[panel + (p + q) * PANEL_ROWS + j] = j < rows ? (floats[(corner + (taps[first + j] ?? 0)) / FLOAT + q] ?? 0) : 0;
          }
        }
        p += run;
      }
    }
    if (count > 0) s.gathers.rows(s.tableAt, count);
  };
}

/** The staged gathers' table, in the memory `floats` views now; it is sized for blocks of at most MC_MAX rows and DEPTH_BLOCK columns. */
function tableOf(s: Staged, floats: Float32Array, mc: number, kc: number): Int32Array {
  if (mc > MC_MAX || kc > DEPTH_BLOCK) throw new Error(`implicit GEMM: a block of ${mc} x ${kc} exceeds the staged tables`);
  return new Int32Array(floats.buffer, s.tableAt, (s.end - s.tableAt) / FLOAT);
}

/**
 * The forward convolution of float32 arrays by implicit GEMM, one product
 * per group: `out = act(cols(x) @ w + bias)`. Returns false, having written
 * nothing, when the WebAssembly matmul cannot take it.
 */
export function conv2dImplicit(out: Float32Array, x: Float32Array, w: Float32Array, g: ConvGeometry, epilogue: WasmEpilogue): boolean {
  const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const O = g.outChannels;
  const Og = g.groupOutChannels;
  if (!wasmPays(rows, depth, Og)) return false;
  const staged = g.groupInChannels % 4 === 0 ? stage(x, g) : undefined;
  for (let group = 0; group < g.groups; group++) {
    const filter: MatrixView = { data: w, offset: group * Og, rowStride: O, colStride: 1 };
    const target: MatrixView = { data: out, offset: group * Og, rowStride: O, colStride: 1 };
    const e: WasmEpilogue = { ...epilogue, biasOffset: epilogue.biasOffset + group * Og };
    const pack = staged === undefined ? forwardPacker(x, g, group) : stagedForwardPacker(staged, g, group);
    // NOTE: only the first group can fail (the memory a product needs is the same for every group).
    if (!wasmGemmPacked(rows, depth, Og, pack, filter, target, e, staged?.end ?? 0)) return false;
  }
  return true;
}

/**
 * Output positions per product of the filter gradient by implicit GEMM: `dy`
 * is packed whole per product, so this bounds the memory (2 MiB at 64
 * channels). The sum over positions goes chunk by chunk, in this fixed
 * order, whatever the batch.
 */
const FILTER_GRAD_ROWS = 32 * DEPTH_BLOCK;

/**
 * The filter gradient of float32 arrays by implicit GEMM: `dw = cols(x)^T @
 * dy` per group, summed over chunks of FILTER_GRAD_ROWS output positions;
 * the epilogue goes with the last chunk. Needs at least one output position.
 * Returns false, having written nothing, when the WebAssembly matmul cannot
 * take it.
 */
export function conv2dFilterGradImplicit(dw: Float32Array, x: Float32Array, dy: Float32Array, g: ConvGeometry, epilogue: WasmEpilogue): boolean {
  const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const O = g.outChannels;
  const Og = g.groupOutChannels;
  if (!wasmPays(depth, Math.min(rows, FILTER_GRAD_ROWS), Og)) return false;
  const staged = stage(x, g);
  const base = staged?.end ?? 0;
  for (let group = 0; group < g.groups; group++) {
    const target: MatrixView = { data: dw, offset: group * Og, rowStride: O, colStride: 1 };
    const pack =
      staged === undefined ? filterGradPacker(x, g, group) : g.groupInChannels % 4 === 0 ? stagedFilterGradPacker(staged, g, group) : paddedFilterGradPacker(staged, g);
    for (let r0 = 0; r0 < rows; r0 += FILTER_GRAD_ROWS) {
      const count = Math.min(FILTER_GRAD_ROWS, rows - r0);
      const last = r0 + count >= rows;
      // This chunk's output positions: the packer's k runs from r0.
      const shifted: typeof pack = (floats, at, i0, mc, rowTiles, p0, kc) => pack(floats, at, i0, mc, rowTiles, r0 + p0, kc);
      const b: MatrixView = { data: dy, offset: r0 * O + group * Og, rowStride: O, colStride: 1 };
      const e: WasmEpilogue = last ? { ...epilogue, beta: r0 > 0, biasOffset: epilogue.biasOffset + group * Og } : { beta: r0 > 0, bias: undefined, biasOffset: 0, relu: false };
      if (!wasmGemmPacked(depth, count, Og, shifted, b, target, e, base)) return false;
    }
  }
  return true;
}
