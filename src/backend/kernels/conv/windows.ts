/**
 * The weight-stationary window kernel: the weights of LANES output channels
 * for TAPS taps sit in locals while a sweep walks the output pixels over a
 * padded band of the input, so each pixel's window values are loaded once
 * for LANES x TAPS multiply-adds. For shallow windows (up to
 * WINDOW_MAX_DEPTH values) this beats copying columns. Left out: Winograd's
 * transform (`winograd.ts`) and deep windows (`columns.ts`).
 */

import type { Activation, Epilogue } from "../matmul.js";
import type { FloatArray } from "../matrix-view.js";
import { scratch } from "../scratch.js";
import { type ConvGeometry, isPointwise } from "./geometry.js";

/** Taps per sweep of `conv2dWindows`: a 3 x 3 window over one channel is one sweep, a deeper window several. */
const TAPS = 9;

/** Output channels per sweep of `conv2dWindows`, their `LANES * TAPS` weights held in locals. */
const LANES = 4;

/**
 * The deepest window (`KH * KW * C / groups`) that the forward pass sums with
 * `conv2dWindows`; deeper ones go through columns and `gemm`. Measured on the
 * bench machine (float32, "same"), windows against columns: k = 144 (3 x 3
 * x 16, stride 2), 0.94 of the time; k = 200 (5 x 5 x 8), 0.88; k = 288
 * (3 x 3 x 32, stride 2), 1.15; k = 400 (5 x 5 x 16), 1.04.
 */
const WINDOW_MAX_DEPTH = 256;

/** Elements of the padded input band of `conv2dWindows` (512 KiB of float64). */
const BAND_BUDGET = 1 << 16;

/** True when the forward pass sums windows directly (`conv2dWindows`), false when it multiplies columns. */
export function usesWindows(g: ConvGeometry): boolean {
  return !isPointwise(g) && g.kernelHeight * g.kernelWidth * g.groupInChannels <= WINDOW_MAX_DEPTH;
}

/**
 * The forward convolution, weight-stationary. With a window of `depth = KH *
 * KW * C / groups` taps, a product of columns has `k = depth`, and for a
 * small depth, building the columns and packing them for `gemm` costs as
 * much as the product. Here the weights of LANES output channels for TAPS
 * taps sit in scalar locals (V8 keeps them in registers and stack slots,
 * read with no bounds check) while a sweep walks the output pixels: each
 * pixel loads its TAPS window values once and sums LANES outputs from them
 * (36 multiply-adds for 9 loads and 4 stores: the shape of `gemm`'s
 * micro-kernel, reading the window in place where `gemm` reads a packed row
 * of columns). A deeper window takes several sweeps, each adding its TAPS
 * taps to what the output holds; the bias goes with the first sweep, relu
 * with the last. For float32 output the sum is rounded once per sweep, so it
 * is at least as exact as a sum kept in float32.
 *
 * The input is first copied, one band of output rows and one group at a
 * time, into a float64 band with the padding written out as zeros, so that
 * every tap is one load at a fixed offset from its pixel. When `depth` is not
 * a multiple of TAPS, each band pixel gets an extra zero channel, which the
 * taps past `depth` read (with weight 0), so that no padding tap ever
 * computes `0 * Inf`. A block of fewer than LANES channels (the last of a
 * group) is summed into a scratch of LANES channels per pixel and then
 * copied out, so that the sweep itself stores all its lanes unconditionally.
 *
 * Measured on the bench machine (float32, 3 x 3, "same"), the time against
 * columns and `gemm`: batch 32, 28 x 28 x 1 to 32 channels (bench case 1,
 * one sweep), 0.41; 28 x 28 x 3 to 32, 0.67; 28 x 28 x 8 to 32, 0.81.
 * Depthwise, batch 8, 28 x 28 x 32: 0.21 of the time of the direct loop over
 * float64 channel sums that it replaces.
 */
export function conv2dWindows(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const { kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const depth = KH * KW * Cg;
  const pixel = depth > 0 && depth % TAPS === 0 ? Cg : Cg + 1;
  const bandWidth = (OW - 1) * sw + (KW - 1) * dw + 1;
  const rowSize = bandWidth * pixel;
  const inRows = (outRows: number): number => (outRows - 1) * sh + (KH - 1) * dh + 1;
  const bandRows = Math.min(OH, Math.max(1, Math.floor((BAND_BUDGET / rowSize - inRows(1)) / sh) + 1));
  const band = scratch.float64("columns", inRows(bandRows) * rowSize);
  // The band offset of each tap (kh, kw, c) from its window's first pixel; taps past `depth` read that pixel's zero channel.
  const offsets = new Int32Array(Math.max(1, Math.ceil(depth / TAPS)) * TAPS).fill(Cg);
  for (let kh = 0, t = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let c = 0; c < Cg; c++, t++) offsets[t] = kh * dh * rowSize + kw * dw * pixel + c;
    }
  }
  const { bias, biasOffset = 0, activation = "none" } = epilogue;
  const plan: WindowPlan = { band, offsets, cols: OW, colStep: sw * pixel, rowStep: sh * rowSize, w, outChannels: O, depth, bias, biasOffset, activation };
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      for (let oh0 = 0; oh0 < OH; oh0 += bandRows) {
        const rows = Math.min(bandRows, OH - oh0);
        fillBand(band, x, g, n, group, oh0 * sh - g.padTop, inRows(rows), bandWidth, pixel);
        const at = (n * OH + oh0) * OW * O;
        for (let o = group * Og; o < (group + 1) * Og; o += LANES) {
          const lanes = Math.min(LANES, (group + 1) * Og - o);
          // NOTE: `t === 0` gives an empty window (no input channels) its one sweep, which stores the bias.
          if (lanes === LANES) {
            for (let t = 0; t === 0 || t < depth; t += TAPS) sweepWindows(plan, t, o, lanes, rows, out, at + o, O);
          } else {
            const laneSums = scratch.float64("lanes", rows * OW * LANES);
            for (let t = 0; t === 0 || t < depth; t += TAPS) sweepWindows(plan, t, o, lanes, rows, laneSums, 0, LANES);
            for (let p = 0; p < rows * OW; p++) {
              for (let lane = 0; lane < lanes; lane++) out[at + p * O + o + lane] = laneSums[p * LANES + lane] ?? 0;
            }
          }
        }
      }
    }
  }
}

/**
 * Copies input rows `ih0 .. ih0 + rows` of image `n` and one group's channels
 * into `band` as float64, `width` pixels of `pixel` elements per row, starting
 * at column `-padLeft`; what lies outside the input, and each pixel's
 * elements past its channels, are zero.
 */
function fillBand(band: Float64Array, x: FloatArray, g: ConvGeometry, n: number, group: number, ih0: number, rows: number, width: number, pixel: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, groupInChannels: Cg } = g;
  band.fill(0, 0, rows * width * pixel);
  const iw0 = Math.max(0, -g.padLeft);
  const iw1 = Math.min(W, width - g.padLeft);
  for (let r = 0; r < rows; r++) {
    const ih = ih0 + r;
    if (ih < 0 || ih >= H) continue;
    let s = ((n * H + ih) * W + iw0) * C + group * Cg;
    let d = (r * width + iw0 + g.padLeft) * pixel;
    for (let iw = iw0; iw < iw1; iw++, s += C, d += pixel) {
      for (let c = 0; c < Cg; c++) band[d + c] = x[s + c] ?? 0;
    }
  }
}

/** What the sweeps over one band of output rows read (see `conv2dWindows`). */
interface WindowPlan {
  readonly band: Float64Array;
  /** The band offset of each tap from its window's first pixel. */
  readonly offsets: Int32Array;
  /** Output columns of the band. */
  readonly cols: number;
  /** Band elements between the windows of neighbouring output columns, and of neighbouring output rows. */
  readonly colStep: number;
  readonly rowStep: number;
  readonly w: FloatArray;
  readonly outChannels: number;
  /** Taps per window (`KH * KW * C / groups`); the weights of taps past it read as 0. */
  readonly depth: number;
  readonly bias: FloatArray | undefined;
  readonly biasOffset: number;
  readonly activation: Activation;
}

/**
 * One sweep over `rows` output rows of the band: for every output pixel,
 * output channels `o .. o + LANES` get the sum of taps `t .. t + TAPS` of the
 * window times their weights (0 past `lanes`), held in locals, stored from
 * `target[at]`, pixels `stride` apart. The first sweep stores `sum + bias`,
 * later ones add to what the target holds; relu applies as the last stores.
 */
function sweepWindows(p: WindowPlan, t: number, o: number, lanes: number, rows: number, target: FloatArray, at: number, stride: number): void {
  const { band, offsets, cols, colStep, rowStep, w, outChannels: O, depth, bias } = p;
  // NOTE: flags made by comparisons here, not passed in: V8 knows these are booleans, and tests them in one instruction.
  const first = t === 0;
  const relu = t + TAPS >= depth && p.activation === "relu";
  // NOTE: the weights reach their locals through a Float64Array, so that V8 holds them as doubles (a local that may hold the
  // literal 0 is a tagged value, unboxed again on every use: measured 2x slower).
  const k = scratch.float64("stationary", LANES * TAPS + LANES);
  for (let lane = 0; lane < LANES; lane++) {
    for (let i = 0; i < TAPS; i++) k[lane * TAPS + i] = t + i < depth && lane < lanes ? (w[(t + i) * O + o + lane] ?? 0) : 0;
    // The bias goes with the first sweep; elsewhere 0, which also turns a sum of -0 into 0, as the zero-initialised sums of `gemm` do.
    k[LANES * TAPS + lane] = first && bias !== undefined && lane < lanes ? (bias[p.biasOffset + o + lane] ?? 0) : 0;
  }
  const t0 = offsets[t] ?? 0, t1 = offsets[t + 1] ?? 0, t2 = offsets[t + 2] ?? 0, t3 = offsets[t + 3] ?? 0, t4 = offsets[t + 4] ?? 0;
  const t5 = offsets[t + 5] ?? 0, t6 = offsets[t + 6] ?? 0, t7 = offsets[t + 7] ?? 0, t8 = offsets[t + 8] ?? 0;
  // w{lane}{tap}
  const w00 = k[0] ?? 0, w01 = k[1] ?? 0, w02 = k[2] ?? 0, w03 = k[3] ?? 0, w04 = k[4] ?? 0, w05 = k[5] ?? 0, w06 = k[6] ?? 0, w07 = k[7] ?? 0, w08 = k[8] ?? 0;
  const w10 = k[9] ?? 0, w11 = k[10] ?? 0, w12 = k[11] ?? 0, w13 = k[12] ?? 0, w14 = k[13] ?? 0, w15 = k[14] ?? 0, w16 = k[15] ?? 0, w17 = k[16] ?? 0, w18 = k[17] ?? 0;
  const w20 = k[18] ?? 0, w21 = k[19] ?? 0, w22 = k[20] ?? 0, w23 = k[21] ?? 0, w24 = k[22] ?? 0, w25 = k[23] ?? 0, w26 = k[24] ?? 0, w27 = k[25] ?? 0, w28 = k[26] ?? 0;
  const w30 = k[27] ?? 0, w31 = k[28] ?? 0, w32 = k[29] ?? 0, w33 = k[30] ?? 0, w34 = k[31] ?? 0, w35 = k[32] ?? 0, w36 = k[33] ?? 0, w37 = k[34] ?? 0, w38 = k[35] ?? 0;
  const bias0 = k[36] ?? 0, bias1 = k[37] ?? 0, bias2 = k[38] ?? 0, bias3 = k[39] ?? 0;
  for (let row = 0; row < rows; row++) {
    for (let col = 0, b = row * rowStep, a = at + row * cols * stride; col < cols; col++, b += colStep, a += stride) {
      const x0 = band[(b + t0) | 0] ?? 0, x1 = band[(b + t1) | 0] ?? 0, x2 = band[(b + t2) | 0] ?? 0, x3 = band[(b + t3) | 0] ?? 0;
      const x4 = band[(b + t4) | 0] ?? 0, x5 = band[(b + t5) | 0] ?? 0, x6 = band[(b + t6) | 0] ?? 0, x7 = band[(b + t7) | 0] ?? 0;
      const x8 = band[(b + t8) | 0] ?? 0;
      const y0 = x0 * w00 + x1 * w01 + x2 * w02 + x3 * w03 + x4 * w04 + x5 * w05 + x6 * w06 + x7 * w07 + x8 * w08;
      const y1 = x0 * w10 + x1 * w11 + x2 * w12 + x3 * w13 + x4 * w14 + x5 * w15 + x6 * w16 + x7 * w17 + x8 * w18;
      const y2 = x0 * w20 + x1 * w21 + x2 * w22 + x3 * w23 + x4 * w24 + x5 * w25 + x6 * w26 + x7 * w27 + x8 * w28;
      const y3 = x0 * w30 + x1 * w31 + x2 * w32 + x3 * w33 + x4 * w34 + x5 * w35 + x6 * w36 + x7 * w37 + x8 * w38;
      // act(sum + bias) on the first sweep, act(target + sum) after it. NOTE: written out, not a helper: measured 8% faster.
      const a0 = a | 0, a1 = (a + 1) | 0, a2 = (a + 2) | 0, a3 = (a + 3) | 0;
      const v0 = first ? y0 + bias0 : (target[a0] ?? 0) + y0;
      const v1 = first ? y1 + bias1 : (target[a1] ?? 0) + y1;
      const v2 = first ? y2 + bias2 : (target[a2] ?? 0) + y2;
      const v3 = first ? y3 + bias3 : (target[a3] ?? 0) + y3;
      target[a0] = relu && v0 < 0 ? 0 : v0;
      target[a1] = relu && v1 < 0 ? 0 : v1;
      target[a2] = relu && v2 < 0 ? 0 : v2;
      target[a3] = relu && v3 < 0 ? 0 : v3;
    }
  }
}
