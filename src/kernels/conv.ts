/**
 * 2-D convolution and pooling over NHWC arrays: the kernels behind
 * `conv-general` and the pooling ops, with the two gradient kernels of a
 * convolution, each a convolution in its own right.
 *
 * Layouts are TensorFlow's: input `[N, H, W, C]`, filter `[KH, KW, C / groups,
 * O]` (HWIO), output `[N, OH, OW, O]`. Output sizes and the padding of
 * `"same"` come from the shared shape rules (`convOutSize`, `windowPadding`),
 * so a kernel can never disagree with the shape its op reports.
 *
 * The idea is im2col (Chellapilla, Puri and Simard, "High performance
 * convolutional neural networks for document processing", 2006; Caffe's
 * `im2col`/`col2im`): the window under each output position is copied into
 * one row of a matrix, and the convolution becomes one matrix product with
 * the filter, done by the blocked `gemm`. With HWIO filters no filter copy is
 * needed: the filter of a group is already a `[KH * KW * C / groups, O]`
 * matrix, read in place (transposed for the input gradient).
 *
 * - forward: `out = act(cols(x) @ w + bias)`, the epilogue fused into `gemm`;
 *   a depthwise filter (one input channel per group) is summed by a direct
 *   loop instead, which measured faster there (see `isDepthwise`);
 * - input gradient (the transposed convolution): `cols(dx) = dy @ w^T`,
 *   then `col2im` adds each column back under its window;
 * - filter gradient: `dw = cols(x)^T @ dy`, summed over chunks of rows.
 *
 * A 1 x 1 filter with stride 1 and no padding needs no columns at all: the
 * input is read in place. Columns are built a chunk of output rows at a time
 * into a buffer reused across calls, so memory stays bounded for any batch.
 *
 * Pooling (max and average) runs direct loops over the window; average
 * pooling divides by the number of input elements under the window, padding
 * excluded (as TensorFlow and Keras do with `padding="same"`). Max pooling
 * takes the first maximum on ties, and a NaN in the window wins (as NumPy's
 * `max` does); its gradient goes to that element.
 *
 * Leaves out: 1-D and 3-D convolutions (a caller reshapes 1-D to 2-D), NCHW
 * layouts, Winograd and FFT algorithms, dilated pooling, threads.
 */

import { shapeError } from "../core/errors.js";
import { convOutSize, poolOutSize, windowPadding, type Padding } from "../core/rules/conv.js";
import { gemm, type Epilogue, type FloatArray, type MatrixView } from "./matmul.js";

/** Padding of both spatial axes: one scheme for both, or one per axis. */
export type Padding2d = Padding | { readonly height: Padding; readonly width: Padding };

/** A size per spatial axis: one for both, or `[height, width]`. */
export type Size2d = number | readonly [number, number];

/** The sizes and window options of a 2-D convolution. */
export interface Conv2dParams {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly outChannels: number;
  /** Default 1. */
  readonly stride?: Size2d | undefined;
  /** Default 1. */
  readonly dilation?: Size2d | undefined;
  /** Default `"valid"`. */
  readonly padding?: Padding2d | undefined;
  /** Channel groups: input and output channels split into this many independent convolutions (default 1; `inChannels` is depthwise). */
  readonly groups?: number | undefined;
}

/** A convolution's sizes resolved: output sizes, per-axis strides, the padding before each axis. */
export interface ConvGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly outChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Padding above row 0 (the rows below follow from the output size). */
  readonly padTop: number;
  /** Padding left of column 0. */
  readonly padLeft: number;
  readonly groups: number;
  /** Input channels per group: `inChannels / groups`. */
  readonly groupInChannels: number;
  /** Output channels per group: `outChannels / groups`. */
  readonly groupOutChannels: number;
}

/** The sizes and window options of a 2-D pooling. */
export interface Pool2dParams {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly channels: number;
  readonly windowHeight: number;
  readonly windowWidth: number;
  /** Default: the window size. */
  readonly stride?: Size2d | undefined;
  /** Default `"valid"`. */
  readonly padding?: Padding2d | undefined;
}

function pair(size: Size2d): readonly [number, number] {
  return typeof size === "number" ? [size, size] : size;
}

function paddingOf(padding: Padding2d): { readonly height: Padding; readonly width: Padding } {
  if (typeof padding === "object" && "height" in padding) return padding;
  return { height: padding, width: padding };
}

function checkSizes(op: string, sizes: Record<string, number>): void {
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isInteger(size) || size < 0) shapeError(op, `${name} ${size} must be a non-negative integer`);
  }
}

function checkLength(op: string, what: string, array: ArrayLike<number>, size: number): void {
  if (array.length < size) shapeError(op, `${what} holds ${array.length} elements, needs ${size}`);
}

/**
 * Resolves a convolution's options: output sizes (by `convOutSize`), strides,
 * dilations and the padding before each axis. Throws a `ShapeError` for a
 * size that is not a non-negative integer, a window larger than the padded
 * input, or groups that do not divide both channel counts.
 *
 * @example
 * conv2dGeometry({ batch: 1, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "same", stride: 2 });
 * // { outHeight: 14, outWidth: 14, padTop: 0, padLeft: 0, ... }
 */
export function conv2dGeometry(params: Conv2dParams): ConvGeometry {
  const { batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels, groups = 1 } = params;
  checkSizes("conv2d", { batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels });
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    shapeError("conv2d", `groups ${groups} must be a positive integer dividing ${inChannels} input and ${outChannels} output channels`);
  }
  const [strideHeight, strideWidth] = pair(params.stride ?? 1);
  const [dilationHeight, dilationWidth] = pair(params.dilation ?? 1);
  const padding = paddingOf(params.padding ?? "valid");
  const outHeight = convOutSize(inHeight, kernelHeight, { stride: strideHeight, dilation: dilationHeight, padding: padding.height });
  const outWidth = convOutSize(inWidth, kernelWidth, { stride: strideWidth, dilation: dilationWidth, padding: padding.width });
  const [padTop] = windowPadding(inHeight, kernelHeight, strideHeight, dilationHeight, padding.height);
  const [padLeft] = windowPadding(inWidth, kernelWidth, strideWidth, dilationWidth, padding.width);
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    kernelHeight,
    kernelWidth,
    outChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padLeft,
    groups,
    groupInChannels: inChannels / groups,
    groupOutChannels: outChannels / groups,
  };
}

/** The options of the convolution kernels: the geometry and an epilogue. */
export type Conv2dOptions = Conv2dParams & Epilogue;

/** Elements of the column buffer per chunk (2 MiB of float64). */
const COLS_BUDGET = 1 << 18;

/** Columns of a chunk of output rows. */
let cols = new Float64Array(0);
/** Per-channel float64 sums of the direct and pooling loops. */
let sums = new Float64Array(0);
/** The float64 input gradient that `col2im` adds into. */
let gradient = new Float64Array(0);
/** Per-channel positions of the maxima of max-pool backward. */
let positions = new Int32Array(0);

function growCols(size: number): Float64Array {
  if (cols.length < size) cols = new Float64Array(size);
  return cols;
}

function growSums(size: number): Float64Array {
  if (sums.length < size) sums = new Float64Array(size);
  return sums;
}

/** The elements of each kernel's arrays. */
function sizes(g: ConvGeometry): { x: number; w: number; y: number } {
  return {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    w: g.kernelHeight * g.kernelWidth * g.groupInChannels * g.outChannels,
    y: g.batch * g.outHeight * g.outWidth * g.outChannels,
  };
}

/** True when the columns of a group are the input itself (1 x 1 filter, stride 1, no padding on any side). */
function isPointwise(g: ConvGeometry): boolean {
  const unpadded = g.padTop === 0 && g.padLeft === 0 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
  return g.kernelHeight === 1 && g.kernelWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && unpadded;
}

/**
 * True for a depthwise convolution (one input channel per group, several
 * groups), which the forward pass sums directly: there each group's product
 * is a column of `KH * KW` values times a few outputs, too thin for `gemm`.
 * Measured on the bench machine (batch 8, 28 x 28 x 32, 3 x 3, "same",
 * float32): direct 13 ms, columns 30 ms. Everywhere else columns won, by 2x
 * to 5x (one input channel and 32 outputs: 6 ms against 22 ms; 32 channels
 * in 4 groups: 23 ms against 61 ms).
 */
function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.groupInChannels === 1;
}

/** Output rows (of `N * OH * OW`) per chunk of columns `depth` wide. */
function chunkRows(depth: number): number {
  return Math.max(64, Math.floor(COLS_BUDGET / Math.max(depth, 1)));
}

/**
 * 2-D convolution: `out[n, oh, ow, o] = act(bias[o] + sum_{kh, kw, c}
 * x[n, oh * sh - padTop + kh * dh, ow * sw - padLeft + kw * dw, c] * w[kh, kw, c, o])`,
 * where `c` runs over the input channels of `o`'s group and positions
 * outside the input read as zero. `x` is `[N, H, W, C]`, `w` is
 * `[KH, KW, C / groups, O]`, `out` is `[N, OH, OW, O]`. Returns `out`.
 *
 * @example
 * // a 3 x 3 box filter over a 3 x 3 image of ones, padding "same"
 * const out = new Float64Array(9);
 * conv2d(out, new Float64Array(9).fill(1), new Float64Array(9).fill(1), {
 *   batch: 1, inHeight: 3, inWidth: 3, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 1, padding: "same",
 * });
 * // out is [4, 6, 4, 6, 9, 6, 4, 6, 4]
 */
export function conv2d<F extends FloatArray>(out: F, x: F, w: F, options: Conv2dOptions): F {
  const g = conv2dGeometry(options);
  const size = sizes(g);
  checkLength("conv2d", "input", x, size.x);
  checkLength("conv2d", "filter", w, size.w);
  checkLength("conv2d", "output", out, size.y);
  checkBias("conv2d", options, g.outChannels);
  if (size.y === 0) return out;
  if (isDepthwise(g)) conv2dDirect(out, x, w, g, options);
  else conv2dColumns(out, x, w, g, options);
  return out;
}

function checkBias(op: string, epilogue: Epilogue, channels: number): void {
  const { bias, biasOffset = 0 } = epilogue;
  if (bias !== undefined && channels > 0 && (biasOffset < 0 || biasOffset + channels > bias.length)) {
    shapeError(op, `bias of ${bias.length} elements has no ${channels} entries from ${biasOffset}`);
  }
}

/** Just the epilogue of a kernel's options (what `gemm` takes). */
function epilogueOf(options: Epilogue): Epilogue {
  return { bias: options.bias, biasOffset: options.biasOffset, activation: options.activation };
}

/** The forward convolution as one `gemm` per group and chunk of output rows. */
function conv2dColumns(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const O = g.outChannels;
  const chunk = chunkRows(depth);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const count = Math.min(chunk, rows - r0);
    for (let group = 0; group < g.groups; group++) {
      const a = columns(x, g, group, r0, count);
      const filter: MatrixView = { data: w, offset: group * g.groupOutChannels, rowStride: O, colStride: 1 };
      const target: MatrixView = { data: out, offset: r0 * O + group * g.groupOutChannels, rowStride: O, colStride: 1 };
      gemm(count, depth, g.groupOutChannels, a, filter, target, { ...epilogueOf(epilogue), biasOffset: (epilogue.biasOffset ?? 0) + group * g.groupOutChannels });
    }
  }
}

/**
 * The columns of one group for output rows `r0 .. r0 + count`: row `r` holds
 * the window under output position `r` (of `N * OH * OW`), ordered
 * `(kh, kw, c)` like the filter's rows. A pointwise convolution reads the
 * input in place; otherwise the columns are built into the shared buffer.
 */
function columns(x: FloatArray, g: ConvGeometry, group: number, r0: number, count: number): MatrixView {
  const C = g.inChannels;
  const Cg = g.groupInChannels;
  if (isPointwise(g)) return { data: x, offset: r0 * C + group * Cg, rowStride: C, colStride: 1 };
  const depth = g.kernelHeight * g.kernelWidth * Cg;
  const buffer = growCols(count * depth);
  forEachWindowRow(g, r0, count, (row, xAt, taps) => {
    const dst = row * depth;
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      const at = dst + t * Cg;
      // NOTE: a plain loop, not fill(): a tap is often one or a few channels, where the call costs more (measured: 4% on bench case 1).
      if (tap < 0) for (let c = 0; c < Cg; c++) buffer[at + c] = 0;
      else for (let c = 0, s = xAt + tap + group * Cg; c < Cg; c++) buffer[at + c] = x[s + c] ?? 0;
    }
  });
  return { data: buffer, offset: 0, rowStride: depth, colStride: 1 };
}

/**
 * Walks output rows `r0 .. r0 + count` (of `N * OH * OW`). For each it calls
 * `visit(row - r0, xAt, taps)`, where `xAt` is the input offset of image `n`
 * and `taps[(kh * KW + kw)]` is the offset within that image of the pixel under
 * tap `(kh, kw)`, or -1 when the tap falls in the padding.
 */
function forEachWindowRow(g: ConvGeometry, r0: number, count: number, visit: (row: number, xAt: number, taps: Int32Array) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  const taps = new Int32Array(KH * KW);
  let n = Math.floor(r0 / (OH * OW));
  let oh = Math.floor(r0 / OW) % OH;
  let ow = r0 % OW;
  for (let row = 0; row < count; row++) {
    const top = oh * g.strideHeight - g.padTop;
    const left = ow * g.strideWidth - g.padLeft;
    for (let kh = 0, t = 0; kh < KH; kh++) {
      const ih = top + kh * g.dilationHeight;
      for (let kw = 0; kw < KW; kw++, t++) {
        const iw = left + kw * g.dilationWidth;
        taps[t] = ih >= 0 && ih < H && iw >= 0 && iw < W ? (ih * W + iw) * C : -1;
      }
    }
    visit(row, n * H * W * C, taps);
    if (++ow === OW) {
      ow = 0;
      if (++oh === OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/** The forward convolution by direct summation into float64 channel sums (any geometry; used for depthwise filters). */
function conv2dDirect(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const O = g.outChannels;
  const Cg = g.groupInChannels;
  const Og = g.groupOutChannels;
  const acc = growSums(O);
  const { bias, biasOffset = 0 } = epilogue;
  const relu = epilogue.activation === "relu";
  forEachWindowRow(g, 0, g.batch * g.outHeight * g.outWidth, (row, xAt, taps) => {
    acc.fill(0, 0, O);
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      if (tap < 0) continue;
      for (let group = 0; group < g.groups; group++) {
        const xg = xAt + tap + group * Cg;
        const og = group * Og;
        for (let c = 0; c < Cg; c++) {
          const v = x[xg + c] ?? 0;
          const wRow = (t * Cg + c) * O + og;
          for (let o = 0; o < Og; o++) acc[og + o] = (acc[og + o] ?? 0) + v * (w[wRow + o] ?? 0);
        }
      }
    }
    storeChannels(out, row * O, acc, 0, O, bias, biasOffset, relu);
  });
}

/** Stores the `count` channel sums from `acc[accAt]` at `out[at]`, adding the bias and applying relu. */
function storeChannels(out: FloatArray, at: number, acc: Float64Array, accAt: number, count: number, bias: FloatArray | undefined, biasOffset: number, relu: boolean): void {
  for (let o = 0; o < count; o++) {
    let v = acc[accAt + o] ?? 0;
    if (bias !== undefined) v += bias[biasOffset + o] ?? 0;
    out[at + o] = relu && v < 0 ? 0 : v;
  }
}

/**
 * The input gradient of `conv2d` (the transposed convolution, which also
 * serves `convTranspose2d`): `dx[n, ih, iw, c] = act(bias[c] + sum dy[n, oh,
 * ow, o] * w[kh, kw, c, o])` over the `(oh, ow, kh, kw, o)` that the forward
 * convolution maps onto `(ih, iw)`. `dy` is `[N, OH, OW, O]`, `w` is the
 * forward filter `[KH, KW, C / groups, O]`, `dx` is `[N, H, W, C]`; the
 * options are those of the forward convolution. By construction
 * `<conv2d(x, w), dy> = <x, conv2dBackpropInput(dy, w)>`. Returns `dx`.
 *
 * @example
 * // the transpose of a 3 x 3 box filter: each output spreads back over its window
 * const dx = new Float64Array(9);
 * conv2dBackpropInput(dx, Float64Array.of(1), new Float64Array(9).fill(1), {
 *   batch: 1, inHeight: 3, inWidth: 3, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 1,
 * });
 * // dx is nine ones
 */
export function conv2dBackpropInput<F extends FloatArray>(dx: F, dy: F, w: F, options: Conv2dOptions): F {
  const g = conv2dGeometry(options);
  const size = sizes(g);
  checkLength("conv2dBackpropInput", "output gradient", dy, size.y);
  checkLength("conv2dBackpropInput", "filter", w, size.w);
  checkLength("conv2dBackpropInput", "input gradient", dx, size.x);
  checkBias("conv2dBackpropInput", options, g.inChannels);
  if (size.x === 0) return dx;
  const C = g.inChannels;
  const Cg = g.groupInChannels;
  const O = g.outChannels;
  const Og = g.groupOutChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  if (isPointwise(g)) {
    // dx = dy @ w^T, per group, straight into dx.
    for (let group = 0; group < g.groups; group++) {
      const a: MatrixView = { data: dy, offset: group * Og, rowStride: O, colStride: 1 };
      const filterT: MatrixView = { data: w, offset: group * Og, rowStride: 1, colStride: O };
      const target: MatrixView = { data: dx, offset: group * Cg, rowStride: C, colStride: 1 };
      gemm(rows, Og, Cg, a, filterT, target, { ...epilogueOf(options), biasOffset: (options.biasOffset ?? 0) + group * Cg });
    }
    return dx;
  }
  if (gradient.length < size.x) gradient = new Float64Array(size.x);
  const acc = gradient;
  acc.fill(0, 0, size.x);
  const depth = g.kernelHeight * g.kernelWidth * Cg;
  const chunk = chunkRows(depth);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const count = Math.min(chunk, rows - r0);
    for (let group = 0; group < g.groups; group++) {
      // cols = dy @ w^T: row r holds what output position r sends to each tap and channel of its window.
      const buffer = growCols(count * depth);
      const a: MatrixView = { data: dy, offset: r0 * O + group * Og, rowStride: O, colStride: 1 };
      const filterT: MatrixView = { data: w, offset: group * Og, rowStride: 1, colStride: O };
      gemm(count, Og, depth, a, filterT, { data: buffer, offset: 0, rowStride: depth, colStride: 1 });
      // col2im: add each row back under its window.
      forEachWindowRow(g, r0, count, (row, xAt, taps) => {
        const src = row * depth;
        for (let t = 0; t < taps.length; t++) {
          const tap = taps[t] ?? -1;
          if (tap < 0) continue;
          const at = xAt + tap + group * Cg;
          const from = src + t * Cg;
          for (let c = 0; c < Cg; c++) acc[at + c] = (acc[at + c] ?? 0) + (buffer[from + c] ?? 0);
        }
      });
    }
  }
  const { bias, biasOffset = 0 } = options;
  const relu = options.activation === "relu";
  for (let at = 0; at < size.x; at += C) storeChannels(dx, at, acc, at, C, bias, biasOffset, relu);
  return dx;
}

/**
 * The filter gradient of `conv2d`: `dw[kh, kw, c, o] = sum_{n, oh, ow}
 * x[n, oh * sh - padTop + kh * dh, ow * sw - padLeft + kw * dw, c] * dy[n, oh, ow, o]`
 * (positions outside the input read as zero; `c` within `o`'s group). `x` is
 * `[N, H, W, C]`, `dy` is `[N, OH, OW, O]`, `dw` is `[KH, KW, C / groups, O]`;
 * the options are those of the forward convolution (an epilogue, if given,
 * applies to `dw`). By construction `<conv2d(x, w), dy> = <w,
 * conv2dBackpropFilter(x, dy)>`. Returns `dw`.
 *
 * @example
 * // a 1 x 1 filter's gradient is the sum of x * dy over all positions
 * const dw = new Float64Array(1);
 * conv2dBackpropFilter(dw, Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 1, 1, 1), {
 *   batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, kernelHeight: 1, kernelWidth: 1, outChannels: 1,
 * });
 * // dw is [10]
 */
export function conv2dBackpropFilter<F extends FloatArray>(dw: F, x: F, dy: F, options: Conv2dOptions): F {
  const g = conv2dGeometry(options);
  const size = sizes(g);
  checkLength("conv2dBackpropFilter", "input", x, size.x);
  checkLength("conv2dBackpropFilter", "output gradient", dy, size.y);
  checkLength("conv2dBackpropFilter", "filter gradient", dw, size.w);
  checkBias("conv2dBackpropFilter", options, g.outChannels);
  if (size.w === 0) return dw;
  const O = g.outChannels;
  const Og = g.groupOutChannels;
  const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const chunk = chunkRows(depth);
  const epilogue = epilogueOf(options);
  for (let group = 0; group < g.groups; group++) {
    const target: MatrixView = { data: dw, offset: group * Og, rowStride: O, colStride: 1 };
    // dw = cols^T @ dy, summed chunk by chunk; the epilogue (if any) goes with the last chunk.
    // NOTE: with no output rows the loop still runs once, over an empty k, so that dw is written (zeros or the bias).
    for (let r0 = 0; r0 < rows || r0 === 0; r0 += chunk) {
      const count = Math.min(chunk, rows - r0);
      const a = columns(x, g, group, r0, count);
      const colsT: MatrixView = { data: a.data, offset: a.offset, rowStride: a.colStride, colStride: a.rowStride };
      const b: MatrixView = { data: dy, offset: r0 * O + group * Og, rowStride: O, colStride: 1 };
      const isLast = r0 + chunk >= rows;
      gemm(depth, count, Og, colsT, b, target, {
        accumulate: r0 > 0,
        ...(isLast ? { ...epilogue, biasOffset: (epilogue.biasOffset ?? 0) + group * Og } : {}),
      });
    }
  }
  return dw;
}

/** A pooling's sizes resolved, as a convolution geometry with one channel per group. */
function poolGeometry(op: string, params: Pool2dParams): ConvGeometry {
  const { batch, inHeight, inWidth, channels, windowHeight, windowWidth } = params;
  checkSizes(op, { batch, inHeight, inWidth, channels, windowHeight, windowWidth });
  const [strideHeight, strideWidth] = pair(params.stride ?? [windowHeight, windowWidth]);
  const padding = paddingOf(params.padding ?? "valid");
  const outHeight = poolOutSize(inHeight, windowHeight, { stride: strideHeight, padding: padding.height });
  const outWidth = poolOutSize(inWidth, windowWidth, { stride: strideWidth, padding: padding.width });
  const [padTop, padBottom] = windowPadding(inHeight, windowHeight, strideHeight, 1, padding.height);
  const [padLeft, padRight] = windowPadding(inWidth, windowWidth, strideWidth, 1, padding.width);
  if (Math.max(padTop, padBottom) >= windowHeight || Math.max(padLeft, padRight) >= windowWidth) {
    shapeError(op, `padding must be smaller than the window ${windowHeight} x ${windowWidth}, so that no window is all padding`);
  }
  return {
    batch,
    inHeight,
    inWidth,
    inChannels: channels,
    kernelHeight: windowHeight,
    kernelWidth: windowWidth,
    outChannels: channels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop,
    padLeft,
    groups: channels,
    groupInChannels: 1,
    groupOutChannels: 1,
  };
}

function checkPool(op: string, g: ConvGeometry, arrays: readonly (readonly [string, ArrayLike<number>, "x" | "y"])[]): void {
  const size = sizes(g);
  for (const [what, array, kind] of arrays) checkLength(op, what, array, kind === "x" ? size.x : size.y);
}

/**
 * 2-D max pooling: `out[n, oh, ow, c]` is the largest `x[n, ih, iw, c]` under
 * the window of `(oh, ow)`; padding is never the maximum, and a NaN under the
 * window makes the result NaN. `x` is `[N, H, W, C]`, `out` is `[N, OH, OW, C]`.
 * Returns `out`.
 *
 * @example
 * const out = new Float64Array(1);
 * maxPool2d(out, Float64Array.of(1, 5, 3, 2), { batch: 1, inHeight: 2, inWidth: 2, channels: 1, windowHeight: 2, windowWidth: 2 });
 * // out is [5]
 */
export function maxPool2d<F extends FloatArray>(out: F, x: F, params: Pool2dParams): F {
  const g = poolGeometry("maxPool2d", params);
  checkPool("maxPool2d", g, [["input", x, "x"], ["output", out, "y"]]);
  const C = g.inChannels;
  const best = growSums(C);
  forEachWindowRow(g, 0, g.batch * g.outHeight * g.outWidth, (row, xAt, taps) => {
    best.fill(-Infinity, 0, C);
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      if (tap < 0) continue;
      for (let c = 0, s = xAt + tap; c < C; c++, s++) {
        const v = x[s] ?? 0;
        const m = best[c] ?? 0;
        // NOTE: `v > m` is false for NaN either way; the second test lets the first NaN in and keeps it.
        if (v > m || (v !== v && m === m)) best[c] = v;
      }
    }
    for (let c = 0, at = row * C; c < C; c++) out[at + c] = best[c] ?? 0;
  });
  return out;
}

/**
 * The gradient of `maxPool2d`: each `dy[n, oh, ow, c]` goes to the input
 * element that was the window's maximum (the first one on ties, the first
 * NaN if any); `dx` sums what each element receives. `x` and `dx` are
 * `[N, H, W, C]`, `dy` is `[N, OH, OW, C]`. Returns `dx`.
 *
 * @example
 * const dx = new Float64Array(4);
 * maxPool2dBackward(dx, Float64Array.of(1, 5, 3, 2), Float64Array.of(7), { batch: 1, inHeight: 2, inWidth: 2, channels: 1, windowHeight: 2, windowWidth: 2 });
 * // dx is [0, 7, 0, 0]
 */
export function maxPool2dBackward<F extends FloatArray>(dx: F, x: F, dy: F, params: Pool2dParams): F {
  const g = poolGeometry("maxPool2dBackward", params);
  checkPool("maxPool2dBackward", g, [["input", x, "x"], ["output gradient", dy, "y"], ["input gradient", dx, "x"]]);
  const C = g.inChannels;
  const best = growSums(C);
  if (positions.length < C) positions = new Int32Array(C);
  const where = positions;
  dx.fill(0, 0, sizes(g).x);
  forEachWindowRow(g, 0, g.batch * g.outHeight * g.outWidth, (row, xAt, taps) => {
    best.fill(-Infinity, 0, C);
    where.fill(-1, 0, C);
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      if (tap < 0) continue;
      for (let c = 0, s = xAt + tap; c < C; c++, s++) {
        const v = x[s] ?? 0;
        const m = best[c] ?? 0;
        // The same test as maxPool2d; `where` starts at -1 so that a window of -Infinity still has a maximum.
        if (v > m || (v !== v && m === m) || where[c] === -1) {
          best[c] = v;
          where[c] = s;
        }
      }
    }
    for (let c = 0, at = row * C; c < C; c++) {
      const s = where[c] ?? -1;
      dx[s] = (dx[s] ?? 0) + (dy[at + c] ?? 0);
    }
  });
  return dx;
}

/**
 * 2-D average pooling: `out[n, oh, ow, c]` is the mean of the input elements
 * under the window of `(oh, ow)`, padding excluded from the count. `x` is
 * `[N, H, W, C]`, `out` is `[N, OH, OW, C]`. Returns `out`.
 *
 * @example
 * const out = new Float64Array(4);
 * avgPool2d(out, Float64Array.of(1, 2, 3, 4), { batch: 1, inHeight: 2, inWidth: 2, channels: 1, windowHeight: 2, windowWidth: 2, stride: 1, padding: "same" });
 * // out is [2.5, 3, 3.5, 4]
 */
export function avgPool2d<F extends FloatArray>(out: F, x: F, params: Pool2dParams): F {
  const g = poolGeometry("avgPool2d", params);
  checkPool("avgPool2d", g, [["input", x, "x"], ["output", out, "y"]]);
  const C = g.inChannels;
  const acc = growSums(C);
  forEachWindowRow(g, 0, g.batch * g.outHeight * g.outWidth, (row, xAt, taps) => {
    acc.fill(0, 0, C);
    let count = 0;
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      if (tap < 0) continue;
      count++;
      for (let c = 0, s = xAt + tap; c < C; c++, s++) acc[c] = (acc[c] ?? 0) + (x[s] ?? 0);
    }
    for (let c = 0, at = row * C; c < C; c++) out[at + c] = (acc[c] ?? 0) / count;
  });
  return out;
}

/**
 * The gradient of `avgPool2d`: each `dy[n, oh, ow, c]`, divided by its
 * window's count, goes to every input element under the window. `dy` is
 * `[N, OH, OW, C]`, `dx` is `[N, H, W, C]`. Returns `dx`.
 *
 * @example
 * const dx = new Float64Array(4);
 * avgPool2dBackward(dx, Float64Array.of(8), { batch: 1, inHeight: 2, inWidth: 2, channels: 1, windowHeight: 2, windowWidth: 2 });
 * // dx is [2, 2, 2, 2]
 */
export function avgPool2dBackward<F extends FloatArray>(dx: F, dy: F, params: Pool2dParams): F {
  const g = poolGeometry("avgPool2dBackward", params);
  checkPool("avgPool2dBackward", g, [["output gradient", dy, "y"], ["input gradient", dx, "x"]]);
  const C = g.inChannels;
  dx.fill(0, 0, sizes(g).x);
  forEachWindowRow(g, 0, g.batch * g.outHeight * g.outWidth, (row, xAt, taps) => {
    let count = 0;
    for (let t = 0; t < taps.length; t++) if ((taps[t] ?? -1) >= 0) count++;
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      if (tap < 0) continue;
      for (let c = 0, s = xAt + tap, at = row * C; c < C; c++, s++, at++) dx[s] = (dx[s] ?? 0) + (dy[at] ?? 0) / count;
    }
  });
  return dx;
}
