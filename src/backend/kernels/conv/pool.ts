/**
 * Max and average pooling and their gradients, as direct loops over the
 * window. Average pooling divides by the input elements under the window,
 * padding excluded (as TensorFlow and Keras do with "same"); max pooling
 * takes the first maximum on ties and a NaN wins (as NumPy's `max`); its
 * gradient goes to that element. Float32 max pooling over channels in
 * fours runs in WebAssembly SIMD (`wasm-pool.ts`, the same bits; measured on
 * the CNN bench's first pool, batch 64 x 28 x 28 x 32 on a loaded machine:
 * forward 0.13 to 0.26, gradient 0.15 to 0.25 of the time of the
 * JavaScript loops it replaced); its gradient's scatter too (against the
 * JavaScript scatter after the same kernel, interleaved, medians of 15 on a
 * loaded machine: the CNN's first pool 0.62 to 0.72 of the time, its second,
 * 64 x 14 x 14 x 64, 0.24; the copies in and out of the WebAssembly memory
 * remain). Where every window lies inside the input (no padding reached),
 * both take `wasm-pool-blocks.ts` first: kernels built per geometry with the
 * taps' offsets as constants, fed a block of the input at a time (the same
 * bits; measured on the CNN bench's pools, interleaved, load 4 to 7: forward
 * 0.5 and 0.6 of the time of the table kernels, gradient 0.3 to 0.7;
 * bench/results/cnnbwd.md). The gradient finds the maxima again from
 * `x`: the primitive's VJP gets `x` and `dy`, not the forward's positions.
 * Left out: dilated pooling, and average pooling in WebAssembly.
 */

import { shapeError } from "../../../core/errors.js";
import { poolOutSize, windowPadding } from "../../../core/rules/conv.js";
import type { FloatArray } from "../matrix-view.js";
import { scratch } from "../scratch.js";
import { wasmMaxPool, wasmMaxPoolBackward } from "./wasm-pool.js";
import { blockMaxPool, blockMaxPoolBackward } from "./wasm-pool-blocks.js";
import { checkLength, checkSizes, type ConvGeometry, forEachWindowRow, paddingOf, pair, type Pool2dParams, sizes } from "./geometry.js";

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
  if (out instanceof Float32Array && x instanceof Float32Array && (blockMaxPool(g, x, out) || wasmMaxPool(g, x, out, undefined))) return out;
  const count = sizes(g).y;
  const positions = scratch.int32("positions", count);
  maxPositions(g, x, positions);
  for (let i = 0; i < count; i++) out[i] = x[positions[i] ?? 0] ?? 0;
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
  if (dx instanceof Float32Array && x instanceof Float32Array && dy instanceof Float32Array && (blockMaxPoolBackward(g, x, dy, dx) || wasmMaxPoolBackward(g, x, dy, dx))) return dx;
  const count = sizes(g).y;
  const positions = scratch.int32("positions", count);
  maxPositions(g, x, positions);
  dx.fill(0, 0, sizes(g).x);
  for (let i = 0; i < count; i++) {
    const s = positions[i] ?? 0;
    dx[s] = (dx[s] ?? 0) + (dy[i] ?? 0);
  }
  return dx;
}

/**
 * The element index in `x` of each output element's maximum, to
 * `positions`: the first maximum on ties, the first NaN if any. Float32
 * channels in fours take the WebAssembly kernel; the loops here clip each
 * window to the input once per output pixel (`poolGeometry` checked that
 * every window holds an input pixel), then walk its pixels, channels innermost.
 */
function maxPositions(g: ConvGeometry, x: FloatArray, positions: Int32Array): void {
  if (x instanceof Float32Array && wasmMaxPool(g, x, undefined, positions)) return;
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  const best = scratch.float64("sums", C);
  for (let n = 0, at = 0; n < g.batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * g.strideHeight - g.padTop;
      const ih0 = Math.max(0, top), ih1 = Math.min(H, top + KH);
      for (let ow = 0; ow < OW; ow++, at += C) {
        const left = ow * g.strideWidth - g.padLeft;
        const iw0 = Math.max(0, left), iw1 = Math.min(W, left + KW);
        const s0 = ((n * H + ih0) * W + iw0) * C;
        for (let c = 0; c < C; c++) {
          best[c] = x[s0 + c] ?? 0;
          positions[at + c] = s0 + c;
        }
        for (let ih = ih0; ih < ih1; ih++) {
          for (let iw = ih === ih0 ? iw0 + 1 : iw0, s = ((n * H + ih) * W + iw) * C; iw < iw1; iw++, s += C) {
            for (let c = 0; c < C; c++) {
              const v = x[s + c] ?? 0;
              const m = best[c] ?? 0;
              // NOTE: `v > m` is false for NaN either way; the second test lets the first NaN in and keeps it.
              if (v > m || (v !== v && m === m)) {
                best[c] = v;
                positions[at + c] = s + c;
              }
            }
          }
        }
      }
    }
  }
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
  const acc = scratch.float64("sums", C);
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
