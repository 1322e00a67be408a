/**
 * The two gradients of a convolution, each a convolution in its own right:
 * the input gradient (the transposed convolution) as `cols(dx) = dy @ w^T`
 * and col2im, or for 3 x 3 filters a Winograd convolution of `dy` with the
 * filter turned by 180 degrees; the filter gradient as `dw = cols(x)^T @ dy`
 * summed over chunks of rows (float32 on WebAssembly by implicit GEMM,
 * `implicit.ts`, or for 3 x 3 filters with stride 1 by Winograd's
 * F(3 x 3, 4 x 4), `winograd-wasm.ts`).
 */

import { conv2dFilterGradDirect, usesDirectFilterGrad } from "./filter-grad-direct.js";
import { gemm } from "../matmul.js";
import type { FloatArray, MatrixView } from "../matrix-view.js";
import { scratch } from "../scratch.js";
import { chunkRows, columns, growColsLike } from "./columns.js";
import { conv2d } from "./forward.js";
import { checkBias, checkLength, conv2dGeometry, type Conv2dOptions, type ConvGeometry, epilogueOf, forEachWindowRow, isPointwise, sizes, wasmEpilogueOf } from "./geometry.js";
import { conv2dFilterGradImplicit } from "./implicit.js";
import { usesWinograd } from "./winograd.js";
import { conv2dFilterGradWinogradWasm, usesWinogradWasm } from "./winograd-wasm.js";

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
  const acc = scratch.float64("gradient", size.x);
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
  if (g.groups !== 1 || !(usesWinograd(transposed) || (dy instanceof Float32Array && usesWinogradWasm(transposed)))) return false;
  const [top, left] = [KH - 1 - g.padTop, KW - 1 - g.padLeft];
  const [bottom, right] = [g.inHeight - g.outHeight + KH - 1 - top, g.inWidth - g.outWidth + KW - 1 - left];
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return false;
  // the filter in dy's element type, so that the kernel sees one array type (a scratch buffer: no allocation per call)
  const size = KH * KW * O * C;
  const flipped = dy instanceof Float32Array ? scratch.float32("flipped", size).subarray(0, size) : scratch.float64("flipped", size).subarray(0, size);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const from = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * O;
      const to = (kh * KW + kw) * O * C;
      for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) flipped[to + o * C + c] = w[from + c * O + o] ?? 0;
    }
  }
  conv2d(dx, dy, flipped, {
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
  if (dw instanceof Float32Array && x instanceof Float32Array && dy instanceof Float32Array && rows > 0 && !isPointwise(g)) {
    const plain = options.bias === undefined && options.activation !== "relu";
    if (plain && usesDirectFilterGrad(g) && conv2dFilterGradDirect(dw, x, dy, g)) return dw;
    if (plain && usesWinogradWasm(g) && conv2dFilterGradWinogradWasm(dw, x, dy, g)) return dw;
    if (conv2dFilterGradImplicit(dw, x, dy, g, wasmEpilogueOf(options))) return dw;
  }
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
