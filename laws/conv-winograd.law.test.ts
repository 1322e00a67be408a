/**
 * Laws of Winograd's F(4 x 4, 3 x 3) and F(6 x 6, 3 x 3) in WebAssembly (`conv2dWinogradWasm`),
 * the float32 forward path of 3 x 3 convolutions with stride and dilation 1
 * (and, through `conv2d` with the filter turned, of their input gradients):
 *
 * - it equals the float64 direct sum (the 7-deep loop) within its stated
 *   bound, `WINOGRAD_ERROR_BOUND` (`WINOGRAD_F6_ERROR_BOUND` where the
 *   output's tile is F(6, 3) along an axis) times the scale of `support/winograd-scale.ts`
 *   (per channel, the largest `|x|` of the tile's patch times the largest
 *   `|w|` of the taps), plus the subnormal floor `WINOGRAD_ERROR_FLOOR` times
 *   the channels, for every padding, odd and even sizes (tiles past the
 *   edge), channel counts that are not multiples of 4 or 8, the bias and
 *   relu, and inputs with edge values mixed in (+-0, subnormals, tiny and
 *   large magnitudes);
 * - the filter gradient by F(3 x 3, 4 x 4), F(2, 3) at the edges (`conv2dFilterGradWinogradWasm`)
 *   equals the float64 sum of `x * dy` within WINOGRAD_FILTER_GRAD_ERROR_BOUND
 *   of its own scale (`winogradFilterGradScale`: per tile, the largest `|x|` of the
 *   patch times the largest `|dy|` of the tile, summed over tiles);
 * - the bits of both are the same run to run, whatever ran before them;
 * - a NaN or an infinity in the input or filter is refused (the kernel returns false),
 *   and `conv2d` then gives the direct sum's NaN and infinities exactly where
 *   the float64 loop has them (the loop multiplies the padding's zeros too,
 *   as the kernels do: `0 * NaN` and `0 * Inf` are NaN).
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { conv2d } from "../src/backend/kernels/conv/index.js";
import { conv2dFilterGradWinogradWasm, conv2dWinogradWasm, WINOGRAD_ERROR_BOUND, WINOGRAD_ERROR_FLOOR, WINOGRAD_F6_ERROR_BOUND, WINOGRAD_FILTER_GRAD_ERROR_BOUND } from "../src/backend/kernels/conv/winograd-wasm.js";
import { wasmMatmulAvailable } from "../src/backend/kernels/wasm-matmul.js";
import { values } from "./support/conv-values.js";
import { direct, forwardOutputs, geometryOf, winogradCase } from "./support/winograd-cases.js";
import { winogradFilterGradScale } from "./support/winograd-scale.js";

const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 500 : 40;

describe.runIf(wasmMatmulAvailable())("Winograd F(4 x 4, 3 x 3) and F(6 x 6, 3 x 3) in WebAssembly", () => {
  test("equals the float64 direct sum within WINOGRAD_ERROR_BOUND (F(6, 3) tiles: WINOGRAD_F6_ERROR_BOUND) of its scale (plus the subnormal floor), edge values included", () => {
    fc.assert(
      fc.property(winogradCase, (c) => {
        const shape = geometryOf(c);
        fc.pre(shape !== undefined);
        const { g } = shape;
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, c.edgeEvery);
        const w = values(9 * g.inChannels * g.outChannels, c.seed + 1, c.edgeEvery);
        const bias = c.bias ? values(g.outChannels, c.seed + 2, 0) : undefined;
        const out = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels).fill(NaN);
        expect(conv2dWinogradWasm(out, x, w, g, { beta: false, bias, biasOffset: 0, relu: c.relu })).toBe(true);
        forwardOutputs(out, x, w, g, bias, c.relu).forEach(({ got, want, scale, onSix }, i) => {
          const bound = (onSix ? WINOGRAD_F6_ERROR_BOUND : WINOGRAD_ERROR_BOUND) * scale + WINOGRAD_ERROR_FLOOR * g.inChannels;
          if (!(Math.abs(got - want) <= bound)) expect([i, got]).toEqual([i, want]);
        });
      }),
      { numRuns },
    );
  });

  test("the filter gradient equals the float64 sum of x * dy within WINOGRAD_FILTER_GRAD_ERROR_BOUND of its scale, edge values included", () => {
    fc.assert(
      fc.property(winogradCase, (c) => {
        const shape = geometryOf(c);
        fc.pre(shape !== undefined);
        const { g } = shape;
        const { inHeight: H, inWidth: W, inChannels: C, outChannels: O } = g;
        const x = values(g.batch * H * W * C, c.seed, c.edgeEvery);
        const dy = values(g.batch * g.outHeight * g.outWidth * O, c.seed + 1, c.edgeEvery);
        const dw = new Float32Array(9 * C * O).fill(NaN);
        expect(conv2dFilterGradWinogradWasm(dw, x, dy, g)).toBe(true);
        const sums = new Float64Array(9 * C * O);
        for (let n = 0; n < g.batch; n++) {
          for (let oh = 0; oh < g.outHeight; oh++) {
            for (let ow = 0; ow < g.outWidth; ow++) {
              for (let t = 0; t < 9; t++) {
                const ih = oh - g.padTop + Math.floor(t / 3);
                const iw = ow - g.padLeft + (t % 3);
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                for (let ci = 0; ci < C; ci++) {
                  for (let o = 0; o < O; o++) {
                    const at = (t * C + ci) * O + o;
                    sums[at] = (sums[at] ?? 0) + (x[((n * H + ih) * W + iw) * C + ci] ?? NaN) * (dy[((n * g.outHeight + oh) * g.outWidth + ow) * O + o] ?? NaN);
                  }
                }
              }
            }
          }
        }
        const scale = winogradFilterGradScale(x, dy, g);
        const floor = WINOGRAD_ERROR_FLOOR * g.batch * Math.ceil(g.outHeight / 4) * Math.ceil(g.outWidth / 4);
        for (let i = 0; i < dw.length; i++) {
          const got = dw[i] ?? NaN;
          const want = sums[i] ?? 0;
          if (!(Math.abs(got - want) <= WINOGRAD_FILTER_GRAD_ERROR_BOUND * (scale[i] ?? 0) + floor)) expect([i, got]).toEqual([i, want]);
        }
      }),
      { numRuns },
    );
  });

  test("the forward and the filter gradient give the same bits run to run, whatever ran before", () => {
    fc.assert(
      fc.property(winogradCase, winogradCase, (c, other) => {
        const shape = geometryOf(c);
        const before = geometryOf(other);
        fc.pre(shape !== undefined && before !== undefined);
        const { g } = shape;
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, c.edgeEvery);
        const w = values(9 * g.inChannels * g.outChannels, c.seed + 1, c.edgeEvery);
        const epilogue = { beta: false, bias: undefined, biasOffset: 0, relu: c.relu };
        const size = g.batch * g.outHeight * g.outWidth * g.outChannels;
        const first = new Float32Array(size);
        conv2dWinogradWasm(first, x, w, g, epilogue);
        // another convolution in between leaves other values in the shared memory
        const h = before.g;
        const y = new Float32Array(h.batch * h.outHeight * h.outWidth * h.outChannels);
        conv2dWinogradWasm(y, values(h.batch * h.inHeight * h.inWidth * h.inChannels, other.seed, 0), values(9 * h.inChannels * h.outChannels, other.seed + 1, 0), h, epilogue);
        const second = new Float32Array(size);
        conv2dWinogradWasm(second, x, w, g, epilogue);
        expect(new Uint32Array(second.buffer)).toEqual(new Uint32Array(first.buffer));
        // the filter gradient, with the forward's output as dy, twice around another call
        const dw1 = new Float32Array(w.length);
        const dw2 = new Float32Array(w.length);
        conv2dFilterGradWinogradWasm(dw1, x, first, g);
        conv2dWinogradWasm(y, values(h.batch * h.inHeight * h.inWidth * h.inChannels, other.seed, 0), values(9 * h.inChannels * h.outChannels, other.seed + 1, 0), h, epilogue);
        conv2dFilterGradWinogradWasm(dw2, x, first, g);
        expect(new Uint32Array(dw2.buffer)).toEqual(new Uint32Array(dw1.buffer));
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  test("a NaN or an infinity is refused, and conv2d gives the direct sum's NaN and infinities where the loop has them", () => {
    fc.assert(
      fc.property(winogradCase, fc.constantFrom(NaN, Infinity, -Infinity), fc.boolean(), fc.nat(), (c, bad, inFilter, where) => {
        const shape = geometryOf(c);
        fc.pre(shape !== undefined);
        const { params, g } = shape;
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, 0);
        const w = values(9 * g.inChannels * g.outChannels, c.seed + 1, 0);
        const target = inFilter ? w : x;
        target[where % target.length] = bad;
        expect(conv2dWinogradWasm(new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels), x, w, g, { beta: false, bias: undefined, biasOffset: 0, relu: false })).toBe(false);
        const out = conv2d(new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels), x, w, params);
        const sums = direct(x, w, g);
        for (let i = 0; i < out.length; i++) {
          const want = sums[i] ?? 0;
          const got = out[i] ?? 0;
          if (Number.isFinite(want)) expect(Number.isFinite(got), `output ${i}: ${got} for ${want}`).toBe(true);
          else expect([i, got]).toEqual([i, want]);
        }
      }),
      { numRuns },
    );
  });
});
