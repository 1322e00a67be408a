/**
 * Winograd's minimal filtering F(2 x 2, 3 x 3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016): a 3 x 3 filter with
 * stride and dilation 1 over at least WINOGRAD_MIN_CHANNELS channels takes 16
 * multiplies per 2 x 2 output tile and channel pair instead of 36, the sum
 * over channels done as 16 `gemm` products, in float64. Float32 arrays take
 * F(4 x 4, 3 x 3) in WebAssembly (`winograd-wasm.ts`) where it runs; this
 * path serves float64 and engines without WebAssembly SIMD.
 */

import { type Epilogue, gemm } from "../matmul.js";
import type { FloatArray, MatrixView } from "../matrix-view.js";
import { scratch } from "../scratch.js";
import type { ConvGeometry } from "./geometry.js";

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

/** True when the forward pass takes Winograd's F(2 x 2, 3 x 3) (`conv2dWinograd`). */
export function usesWinograd(g: ConvGeometry): boolean {
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  return unit && g.kernelHeight === 3 && g.kernelWidth === 3 && g.groupInChannels >= WINOGRAD_MIN_CHANNELS;
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
export function conv2dWinograd(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  const { outHeight: OH, outWidth: OW, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  const tiles = g.batch * Math.ceil(OH / 2) * Math.ceil(OW / 2);
  const chunk = Math.max(1, Math.min(tiles, Math.floor(WINOGRAD_BUDGET / (16 * (Cg + O)))));
  // One buffer, three regions: U[e][c][o] (16 x Cg x O), then V[e][tile][c] (16 x chunk x Cg), then M[e][tile][o] (16 x chunk x O).
  const vAt = 16 * Cg * O;
  const mAt = vAt + 16 * chunk * Cg;
  const buffer = scratch.float64("columns", mAt + 16 * chunk * O);
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
