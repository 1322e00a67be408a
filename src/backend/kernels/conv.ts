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
 * The gradients, and the forward pass of pointwise and very deep filters,
 * use im2col (Chellapilla, Puri and Simard, "High performance convolutional
 * neural networks for document processing", 2006; Caffe's `im2col`/`col2im`):
 * the window under each output position is copied into one row of a matrix,
 * and the convolution becomes one matrix product with the filter, done by the
 * blocked `gemm`. With HWIO filters no filter copy is needed: the filter of a
 * group is already a `[KH * KW * C / groups, O]` matrix, read in place
 * (transposed for the input gradient).
 *
 * - forward, three ways. A 3 x 3 filter with stride and dilation 1 over at
 *   least 16 channels per group takes Winograd's F(2 x 2, 3 x 3)
 *   (`conv2dWinograd`): 16 multiplies per 2 x 2 output tile and channel pair
 *   instead of 36, the sum over channels done as 16 `gemm` products (1.6x
 *   over columns on bench case 2). Other windows of up to `WINDOW_MAX_DEPTH`
 *   taps are summed directly, weight-stationary (`conv2dWindows`): the
 *   weights of 4 output channels for 9 taps sit in scalar locals while a
 *   sweep walks the output pixels, so each pixel's window values are loaded
 *   once for 36 multiply-adds (2.5x over columns at `k = 9`, where copying
 *   the columns twice dominates; 1.1x at `k = 200`; 4.7x over the direct
 *   loop that depthwise filters had before). Pointwise and deeper filters take
 *   `out = act(cols(x) @ w + bias)`, the epilogue fused into `gemm`;
 * - input gradient (the transposed convolution): `cols(dx) = dy @ w^T`,
 *   then `col2im` adds each column back under its window; a 3 x 3 filter
 *   with stride and dilation 1, one group and at least 16 output channels
 *   instead convolves `dy` with the filter turned by 180 degrees, which
 *   takes Winograd's path (`backpropByWinograd`);
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
 * layouts, Winograd's larger tiles (F(4 x 4, 3 x 3) and up, less exact) and
 * FFT algorithms, a fast algorithm for the filter gradient, dilated pooling, threads.
 */

import { shapeError } from "../../core/errors.js";
import { convOutSize, poolOutSize, windowPadding, type Padding } from "../../core/rules/conv.js";
import { gemm, type Activation, type Epilogue } from "./matmul.js";
import type { FloatArray, MatrixView } from "./matrix-view.js";
import { wasmMatmulAvailable } from "./wasm-matmul.js";

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
/**
 * The fewest input channels per group for which a 3 x 3 filter with stride
 * and dilation 1 goes through `conv2dWinograd`. Measured on the bench machine
 * (float32, 3 x 3, "same"), Winograd against the best other path: 28 x 28 x
 * 8 to 32 channels, 1.14 of the time; x 12, 1.03; x 16, 0.8; 14 x 14 x 32 to
 * 64 (bench case 2), 0.64; 14 x 14 x 64 to 128, 0.53.
 */
const WINOGRAD_MIN_CHANNELS = 16;
/** Elements of the transformed input and products of a chunk of tiles in `conv2dWinograd` (4 MiB of float64). */
const WINOGRAD_BUDGET = 1 << 19;

/** Columns of a chunk of output rows. */
let cols = new Float64Array(0);
/** Columns of a chunk of output rows of a float32 convolution, for the WebAssembly matmul (which takes float32 only). */
let cols32 = new Float32Array(0);
/** Per-channel float64 sums of the direct and pooling loops. */
let sums = new Float64Array(0);
/** The float64 input gradient that `col2im` adds into. */
let gradient = new Float64Array(0);
/** The weights (`[lane][tap]`) and biases of one sweep of `conv2dWindows`. */
const stationary = new Float64Array(LANES * TAPS + LANES);
/** The LANES channels per pixel that `conv2dWindows` sums a block of fewer channels into. */
let laneSums = new Float64Array(0);
/** Per-channel positions of the maxima of max-pool backward. */
let positions = new Int32Array(0);

function growCols(size: number): Float64Array {
  if (cols.length < size) cols = new Float64Array(size);
  return cols;
}

/** Column storage of the operands' own precision: float32 columns keep a float32 product on the WebAssembly matmul. */
function growColsLike(like: FloatArray, size: number): FloatArray {
  if (!(like instanceof Float32Array)) return growCols(size);
  if (cols32.length < size) cols32 = new Float32Array(size);
  return cols32;
}

/**
 * True when a float32 convolution goes to columns and the WebAssembly SIMD
 * matmul rather than Winograd's or the direct JavaScript loops: the
 * WebAssembly product runs five to six times as fast as the JavaScript one,
 * which outweighs Winograd's saving of multiplies once a window holds
 * WASM_MIN_DEPTH values. Measured on bench case 2 (depth 288): 13.3 ms
 * against Winograd's 37.6; on case 1 (depth 9) the direct loops keep it,
 * 3.0 ms against 4.3 for columns.
 */
function columnsOnWasm(x: FloatArray, w: FloatArray, g: ConvGeometry): boolean {
  const deep = g.kernelHeight * g.kernelWidth * g.groupInChannels >= WASM_MIN_DEPTH || isPointwise(g);
  return deep && x instanceof Float32Array && w instanceof Float32Array && wasmMatmulAvailable();
}

/** The window depth (taps times channels) from which a float32 convolution takes the WebAssembly matmul. */
const WASM_MIN_DEPTH = 64;

function growLanes(size: number): Float64Array {
  if (laneSums.length < size) laneSums = new Float64Array(size);
  return laneSums;
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

/** True when the forward pass takes Winograd's F(2 x 2, 3 x 3) (`conv2dWinograd`). */
function usesWinograd(g: ConvGeometry): boolean {
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  return unit && g.kernelHeight === 3 && g.kernelWidth === 3 && g.groupInChannels >= WINOGRAD_MIN_CHANNELS;
}

/** True when the first `size` elements of `a` are all finite. */
function allFinite(a: FloatArray, size: number): boolean {
  for (let i = 0; i < size; i++) {
    const v = a[i] ?? 0;
    // v - v is 0 for every finite v, NaN for NaN and both infinities.
    if (v - v !== 0) return false;
  }
  return true;
}

/** True when the forward pass sums windows directly (`conv2dWindows`), false when it multiplies columns. */
function usesWindows(g: ConvGeometry): boolean {
  return !isPointwise(g) && g.kernelHeight * g.kernelWidth * g.groupInChannels <= WINDOW_MAX_DEPTH;
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
  // NOTE: a NaN or infinity goes to the direct sum: Winograd's transforms would spread it over a whole tile, and turn Inf into NaN.
  if (columnsOnWasm(x, w, g)) conv2dColumns(out, x, w, g, options);
  else if (usesWinograd(g) && allFinite(x, size.x) && allFinite(w, size.w)) conv2dWinograd(out, x, w, g, options);
  else if (usesWindows(g)) conv2dWindows(out, x, w, g, options);
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
  const buffer = growColsLike(x, count * depth);
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
function conv2dWindows(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const { kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const depth = KH * KW * Cg;
  const pixel = depth > 0 && depth % TAPS === 0 ? Cg : Cg + 1;
  const bandWidth = (OW - 1) * sw + (KW - 1) * dw + 1;
  const rowSize = bandWidth * pixel;
  const inRows = (outRows: number): number => (outRows - 1) * sh + (KH - 1) * dh + 1;
  const bandRows = Math.min(OH, Math.max(1, Math.floor((BAND_BUDGET / rowSize - inRows(1)) / sh) + 1));
  const band = growCols(inRows(bandRows) * rowSize);
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
            const scratch = growLanes(rows * OW * LANES);
            for (let t = 0; t === 0 || t < depth; t += TAPS) sweepWindows(plan, t, o, lanes, rows, scratch, 0, LANES);
            for (let p = 0; p < rows * OW; p++) {
              for (let lane = 0; lane < lanes; lane++) out[at + p * O + o + lane] = scratch[p * LANES + lane] ?? 0;
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
  const k = stationary;
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

/**
 * The forward convolution of a 3 x 3 filter with stride and dilation 1 by
 * Winograd's minimal filtering F(2 x 2, 3 x 3) (Lavin and Gray, "Fast
 * algorithms for convolutional neural networks", 2016): each 2 x 2 tile of
 * the output is `A^T [(G g G^T) * (B^T d B)] A`, summed over input channels,
 * where `d` is the 4 x 4 input patch under the tile and `g` a 3 x 3 filter:
 * 16 multiplies per tile and channel pair where the direct sum takes 36. The
 * sum over channels is 16 matrix products (one per entry of the 4 x 4
 * transforms), `M[e] = V[e] @ U[e]` with `V[e]` the `[tiles, C / groups]`
 * transformed input and `U[e]` the `[C / groups, O]` transformed filter, done
 * by `gemm`; tiles are taken a chunk at a time, across images.
 *
 *     B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
 *           [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
 *           [0 -1  1  0]        [1/2 -1/2  1/2]
 *           [0  1  0 -1]        [ 0    0    1 ]
 *
 * The transforms only add, subtract and halve, and every step is float64, so
 * the result is as exact as the direct sum's to a small factor; for float32
 * output it is rounded once. Tiles past the bottom or right edge of an odd
 * output compute an extra row or column that is not stored. Only finite
 * inputs come here (see `conv2d`).
 */
function conv2dWinograd(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const { outHeight: OH, outWidth: OW, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  const tiles = g.batch * Math.ceil(OH / 2) * Math.ceil(OW / 2);
  const chunk = Math.max(1, Math.min(tiles, Math.floor(WINOGRAD_BUDGET / (16 * (Cg + O)))));
  // One buffer, three regions: U[e][c][o] (16 x Cg x O), then V[e][tile][c] (16 x chunk x Cg), then M[e][tile][o] (16 x chunk x O).
  const vAt = 16 * Cg * O;
  const mAt = vAt + 16 * chunk * Cg;
  const buffer = growCols(mAt + 16 * chunk * O);
  transformFilter(buffer, w, Cg * O);
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    for (let group = 0; group < g.groups; group++) {
      transformInput(buffer, vAt, x, g, group, t0, count);
      for (let e = 0; e < 16; e++) {
        const v: MatrixView = { data: buffer, offset: vAt + e * count * Cg, rowStride: Cg, colStride: 1 };
        const u: MatrixView = { data: buffer, offset: e * Cg * O + group * Og, rowStride: O, colStride: 1 };
        const m: MatrixView = { data: buffer, offset: mAt + e * count * O + group * Og, rowStride: O, colStride: 1 };
        gemm(count, Cg, Og, v, u, m);
      }
    }
    transformOutput(out, buffer, mAt, g, t0, count, epilogue);
  }
}

/**
 * `U[e][c][o] = (G g G^T)[e]` from the start of `u`, for each of the `pairs`
 * (input channel, output channel) pairs `i` of an HWIO 3 x 3 filter, whose
 * taps lie `pairs` apart.
 */
function transformFilter(u: Float64Array, w: FloatArray, pairs: number): void {
  for (let i = 0; i < pairs; i++) {
    const g0 = w[i] ?? 0, g1 = w[pairs + i] ?? 0, g2 = w[2 * pairs + i] ?? 0;
    const g3 = w[3 * pairs + i] ?? 0, g4 = w[4 * pairs + i] ?? 0, g5 = w[5 * pairs + i] ?? 0;
    const g6 = w[6 * pairs + i] ?? 0, g7 = w[7 * pairs + i] ?? 0, g8 = w[8 * pairs + i] ?? 0;
    // G g: row r of the 4 x 3 result, one column (kw) at a time.
    const a0 = g0, a1 = (g0 + g3 + g6) / 2, a2 = (g0 - g3 + g6) / 2, a3 = g6;
    const b0 = g1, b1 = (g1 + g4 + g7) / 2, b2 = (g1 - g4 + g7) / 2, b3 = g7;
    const c0 = g2, c1 = (g2 + g5 + g8) / 2, c2 = (g2 - g5 + g8) / 2, c3 = g8;
    // (G g) G^T: each row [a, b, c] becomes [a, (a + b + c) / 2, (a - b + c) / 2, c].
    u[i] = a0;
    u[pairs + i] = (a0 + b0 + c0) / 2;
    u[2 * pairs + i] = (a0 - b0 + c0) / 2;
    u[3 * pairs + i] = c0;
    u[4 * pairs + i] = a1;
    u[5 * pairs + i] = (a1 + b1 + c1) / 2;
    u[6 * pairs + i] = (a1 - b1 + c1) / 2;
    u[7 * pairs + i] = c1;
    u[8 * pairs + i] = a2;
    u[9 * pairs + i] = (a2 + b2 + c2) / 2;
    u[10 * pairs + i] = (a2 - b2 + c2) / 2;
    u[11 * pairs + i] = c2;
    u[12 * pairs + i] = a3;
    u[13 * pairs + i] = (a3 + b3 + c3) / 2;
    u[14 * pairs + i] = (a3 - b3 + c3) / 2;
    u[15 * pairs + i] = c3;
  }
}

/**
 * `V[e][tile][c] = (B^T d B)[e]` from `v[at]`, for tiles `t0 .. t0 + count`
 * (of `N * ceil(OH / 2) * ceil(OW / 2)`, row-major) and the channels of one
 * group, where `d` is the 4 x 4 input patch under the tile (zero outside).
 */
function transformInput(v: Float64Array, at: number, x: FloatArray, g: ConvGeometry, group: number, t0: number, count: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, groupInChannels: Cg } = g;
  const tilesHigh = Math.ceil(g.outHeight / 2);
  const tilesWide = Math.ceil(g.outWidth / 2);
  const plane = count * Cg;
  // The input offset of each pixel of the patch, or -1 in the padding.
  const patch = new Int32Array(16);
  for (let k = 0; k < count; k++) {
    const tile = t0 + k;
    const n = Math.floor(tile / (tilesHigh * tilesWide));
    const top = 2 * (Math.floor(tile / tilesWide) % tilesHigh) - g.padTop;
    const left = 2 * (tile % tilesWide) - g.padLeft;
    for (let r = 0; r < 4; r++) {
      for (let q = 0; q < 4; q++) {
        const ih = top + r;
        const iw = left + q;
        patch[r * 4 + q] = ih >= 0 && ih < H && iw >= 0 && iw < W ? ((n * H + ih) * W + iw) * C + group * Cg : -1;
      }
    }
    const p0 = patch[0] ?? -1, p1 = patch[1] ?? -1, p2 = patch[2] ?? -1, p3 = patch[3] ?? -1;
    const p4 = patch[4] ?? -1, p5 = patch[5] ?? -1, p6 = patch[6] ?? -1, p7 = patch[7] ?? -1;
    const p8 = patch[8] ?? -1, p9 = patch[9] ?? -1, p10 = patch[10] ?? -1, p11 = patch[11] ?? -1;
    const p12 = patch[12] ?? -1, p13 = patch[13] ?? -1, p14 = patch[14] ?? -1, p15 = patch[15] ?? -1;
    for (let c = 0, to = at + k * Cg; c < Cg; c++, to++) {
      const d0 = p0 < 0 ? 0 : (x[p0 + c] ?? 0), d1 = p1 < 0 ? 0 : (x[p1 + c] ?? 0), d2 = p2 < 0 ? 0 : (x[p2 + c] ?? 0), d3 = p3 < 0 ? 0 : (x[p3 + c] ?? 0);
      const d4 = p4 < 0 ? 0 : (x[p4 + c] ?? 0), d5 = p5 < 0 ? 0 : (x[p5 + c] ?? 0), d6 = p6 < 0 ? 0 : (x[p6 + c] ?? 0), d7 = p7 < 0 ? 0 : (x[p7 + c] ?? 0);
      const d8 = p8 < 0 ? 0 : (x[p8 + c] ?? 0), d9 = p9 < 0 ? 0 : (x[p9 + c] ?? 0), d10 = p10 < 0 ? 0 : (x[p10 + c] ?? 0), d11 = p11 < 0 ? 0 : (x[p11 + c] ?? 0);
      const d12 = p12 < 0 ? 0 : (x[p12 + c] ?? 0), d13 = p13 < 0 ? 0 : (x[p13 + c] ?? 0), d14 = p14 < 0 ? 0 : (x[p14 + c] ?? 0), d15 = p15 < 0 ? 0 : (x[p15 + c] ?? 0);
      // B^T d: the rows of the patch combined, one column at a time.
      const e0 = d0 - d8, e1 = d1 - d9, e2 = d2 - d10, e3 = d3 - d11;
      const e4 = d4 + d8, e5 = d5 + d9, e6 = d6 + d10, e7 = d7 + d11;
      const e8 = d8 - d4, e9 = d9 - d5, e10 = d10 - d6, e11 = d11 - d7;
      const e12 = d4 - d12, e13 = d5 - d13, e14 = d6 - d14, e15 = d7 - d15;
      // (B^T d) B: each row [a, b, c, d] becomes [a - c, b + c, c - b, b - d].
      v[to] = e0 - e2;
      v[plane + to] = e1 + e2;
      v[2 * plane + to] = e2 - e1;
      v[3 * plane + to] = e1 - e3;
      v[4 * plane + to] = e4 - e6;
      v[5 * plane + to] = e5 + e6;
      v[6 * plane + to] = e6 - e5;
      v[7 * plane + to] = e5 - e7;
      v[8 * plane + to] = e8 - e10;
      v[9 * plane + to] = e9 + e10;
      v[10 * plane + to] = e10 - e9;
      v[11 * plane + to] = e9 - e11;
      v[12 * plane + to] = e12 - e14;
      v[13 * plane + to] = e13 + e14;
      v[14 * plane + to] = e14 - e13;
      v[15 * plane + to] = e13 - e15;
    }
  }
}

/**
 * Stores `act(A^T M A + bias)` for tiles `t0 .. t0 + count`, where `M[e][tile][o]`
 * starts at `m[at]`: the 2 x 2 output pixels of each tile that lie inside the output.
 */
function transformOutput(out: FloatArray, m: Float64Array, at: number, g: ConvGeometry, t0: number, count: number, epilogue: Epilogue): void {
  const { outHeight: OH, outWidth: OW, outChannels: O } = g;
  const tilesHigh = Math.ceil(OH / 2);
  const tilesWide = Math.ceil(OW / 2);
  const plane = count * O;
  const { bias, biasOffset = 0 } = epilogue;
  const relu = epilogue.activation === "relu";
  const act = (v: number): number => (relu && v < 0 ? 0 : v);
  for (let k = 0; k < count; k++) {
    const tile = t0 + k;
    const n = Math.floor(tile / (tilesHigh * tilesWide));
    const oh = 2 * (Math.floor(tile / tilesWide) % tilesHigh);
    const ow = 2 * (tile % tilesWide);
    const right = ow + 1 < OW;
    const below = oh + 1 < OH;
    const y00 = ((n * OH + oh) * OW + ow) * O;
    const y10 = y00 + OW * O;
    for (let o = 0, from = at + k * O; o < O; o++, from++) {
      const m0 = m[from] ?? 0, m1 = m[plane + from] ?? 0, m2 = m[2 * plane + from] ?? 0, m3 = m[3 * plane + from] ?? 0;
      const m4 = m[4 * plane + from] ?? 0, m5 = m[5 * plane + from] ?? 0, m6 = m[6 * plane + from] ?? 0, m7 = m[7 * plane + from] ?? 0;
      const m8 = m[8 * plane + from] ?? 0, m9 = m[9 * plane + from] ?? 0, m10 = m[10 * plane + from] ?? 0, m11 = m[11 * plane + from] ?? 0;
      const m12 = m[12 * plane + from] ?? 0, m13 = m[13 * plane + from] ?? 0, m14 = m[14 * plane + from] ?? 0, m15 = m[15 * plane + from] ?? 0;
      // A^T M: the two rows, one column at a time.
      const s0 = m0 + m4 + m8, s1 = m1 + m5 + m9, s2 = m2 + m6 + m10, s3 = m3 + m7 + m11;
      const r0 = m4 - m8 - m12, r1 = m5 - m9 - m13, r2 = m6 - m10 - m14, r3 = m7 - m11 - m15;
      const b = bias === undefined ? 0 : (bias[biasOffset + o] ?? 0);
      // (A^T M) A: each row [a, b, c, d] becomes [a + b + c, b - c - d].
      out[y00 + o] = act(s0 + s1 + s2 + b);
      if (right) out[y00 + O + o] = act(s1 - s2 - s3 + b);
      if (below) out[y10 + o] = act(r0 + r1 + r2 + b);
      if (below && right) out[y10 + O + o] = act(r1 - r2 - r3 + b);
    }
  }
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
  if (backpropByWinograd(dx, dy, w, g, options)) return dx;
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
      const buffer = growColsLike(dy, count * depth);
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

/** The filter of `backpropByWinograd`, reused across calls. */
let flipped = new Float64Array(0);

/**
 * The input gradient of a 3 x 3 convolution with stride and dilation 1 and
 * one group, as a forward convolution that takes Winograd's path: with
 * `kh' = KH - 1 - kh`, `dx[i] = sum_kh dy[i + padTop - kh] w[kh] = sum_kh'
 * dy[i - (KH - 1 - padTop) + kh'] w'[kh']`, the convolution of `dy` with the
 * filter turned by 180 degrees and its channel axes swapped
 * (`w'[kh', kw', o, c] = w[KH - 1 - kh', KW - 1 - kw', c, o]`), padded by
 * `KH - 1 - padTop` above and by whatever makes the output `H` rows below.
 * Measured on the CNN bench's second convolution (64 x 14 x 14, 32 to 64
 * channels, "same", float32), against columns and col2im in the same
 * process: 0.59 and 0.63 of the time in two runs (56 against 96 ms, 92
 * against 147 ms, on a loaded machine), with the same float32 results.
 * Returns false, having done nothing, where it does not apply.
 */
function backpropByWinograd(dx: FloatArray, dy: FloatArray, w: FloatArray, g: ConvGeometry, options: Conv2dOptions): boolean {
  const { kernelHeight: KH, kernelWidth: KW, inChannels: C, outChannels: O } = g;
  const transposed: ConvGeometry = { ...g, inChannels: O, outChannels: C, groupInChannels: O, groupOutChannels: C };
  if (g.groups !== 1 || !usesWinograd(transposed)) return false;
  const [top, left] = [KH - 1 - g.padTop, KW - 1 - g.padLeft];
  const [bottom, right] = [g.inHeight - g.outHeight + KH - 1 - top, g.inWidth - g.outWidth + KW - 1 - left];
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return false;
  if (flipped.length < KH * KW * O * C) flipped = new Float64Array(KH * KW * O * C);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const from = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * O;
      const to = (kh * KW + kw) * O * C;
      for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) flipped[to + o * C + c] = w[from + c * O + o] ?? 0;
    }
  }
  // the filter in dy's element type, so that the kernel sees one array type
  const filter = dy instanceof Float32Array ? Float32Array.from(flipped.subarray(0, KH * KW * O * C)) : flipped;
  conv2d(dx, dy, filter, {
    ...epilogueOf(options),
    batch: g.batch,
    inHeight: g.outHeight,
    inWidth: g.outWidth,
    inChannels: O,
    kernelHeight: KH,
    kernelWidth: KW,
    outChannels: C,
    padding: { height: [top, bottom], width: [left, right] },
  });
  return true;
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
