/**
 * The forward convolution: checks its arrays and picks one of five paths,
 * for float32 shallow windows the direct sum in WebAssembly (`direct-wasm.ts`),
 * Winograd's in WebAssembly for float32 (`winograd-wasm.ts`) or in float64
 * (`winograd.ts`), the window kernel (`windows.ts`) or columns
 * and `gemm` (`columns.ts`), with the WebAssembly matmul taking deep float32
 * windows. Every path computes the same sums; the choice is speed only.
 * Left out: the gradients (`backward.ts`).
 */

import type { FloatArray } from "../matrix-view.js";
import { wasmMatmulAvailable } from "../wasm-matmul.js";
import { conv2dColumns } from "./columns.js";
import { checkBias, checkLength, conv2dGeometry, type Conv2dOptions, type ConvGeometry, isPointwise, sizes, wasmEpilogueOf } from "./geometry.js";
import { conv2dDirectWasm, fitsDirectWasm } from "./direct-wasm.js";
import { conv2dWindows, usesWindows } from "./windows.js";
import { conv2dWinograd, usesWinograd } from "./winograd.js";
import { conv2dWinogradWasm, usesWinogradWasm } from "./winograd-wasm.js";

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

/**
 * True when a float32 convolution takes the direct sum in WebAssembly
 * (`direct-wasm.ts`): a shallow window that is not pointwise, where
 * Winograd's F(4 x 4, 3 x 3) either does not apply or pads so few input
 * channels to four that its products do as many multiplies as the direct
 * sum (at most DIRECT_OVER_WINOGRAD_CHANNELS). Measured against the path
 * each shape took before, interleaved in one process (`bench/conv-direct-ab.ts`),
 * medians, batch 64, 28 x 28, 3 x 3 "same" to 32 channels, loaded 2-core
 * Xeon: from 1 channel 0.58 of Winograd's time, from 2 0.81, from 3 1.08;
 * 16 x 32 x 32, 1 channel, 5 x 5 stride 2 to 16: 0.22 of the window kernel's.
 */
function usesDirectWasm(g: ConvGeometry): boolean {
  return !isPointwise(g) && fitsDirectWasm(g) && (g.inChannels <= DIRECT_OVER_WINOGRAD_CHANNELS || !usesWinogradWasm(g));
}

const DIRECT_OVER_WINOGRAD_CHANNELS = 2;

/** True when the first `size` elements of `a` are all finite. */
function allFinite(a: FloatArray, size: number): boolean {
  for (let i = 0; i < size; i++) {
    const v = a[i] ?? 0;
    // v - v is 0 for every finite v, NaN for NaN and both infinities.
    if (v - v !== 0) return false;
  }
  return true;
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
  // (conv2dWinogradWasm declines those itself)
  if (x instanceof Float32Array && w instanceof Float32Array && out instanceof Float32Array) {
    if (usesDirectWasm(g)) {
      if (conv2dDirectWasm(out, x, w, g, wasmEpilogueOf(options))) return out;
    } else if (usesWinogradWasm(g) && conv2dWinogradWasm(out, x, w, g, wasmEpilogueOf(options))) return out;
  }
  if (columnsOnWasm(x, w, g)) conv2dColumns(out, x, w, g, options);
  else if (usesWinograd(g) && allFinite(x, size.x) && allFinite(w, size.w)) conv2dWinograd(out, x, w, g, options);
  else if (usesWindows(g)) conv2dWindows(out, x, w, g, options);
  else conv2dColumns(out, x, w, g, options);
  return out;
}
