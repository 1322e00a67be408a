/**
 * Laws of the CNN step's backward kernels in WebAssembly (the filter
 * gradients and max pooling), beside `kernels.law.test.ts` (which holds
 * every kernel to naive loops on small shapes) and `conv-winograd.law.test.ts`:
 *
 * - the Winograd filter gradient (`conv2dFilterGradWinogradWasm`) refuses a
 *   NaN or an infinity in `x` or `dy`, found in its result, and
 *   `conv2dBackpropFilter` then gives the NaN and infinities of the float64
 *   loop exactly where it has them (the loop multiplies the padding's zeros
 *   too, as the kernels do: `0 * Inf` is NaN);
 * - it refuses values whose partial sums overflow in its transformed domain
 *   (where the direct sum stays finite), and `conv2dBackpropFilter` then
 *   gives the direct sum within float32 rounding.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { conv2dBackpropFilter, conv2dGeometry, type Conv2dParams, type ConvGeometry } from "../src/backend/kernels/conv/index.js";
import { conv2dFilterGradWinogradWasm } from "../src/backend/kernels/conv/winograd-wasm.js";
import { wasmMatmulAvailable } from "../src/backend/kernels/wasm-matmul.js";

const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 300 : 30;

/** Seeded values in [-1, 1) (mulberry32). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (2 * ((t ^ (t >>> 14)) >>> 0)) / 4294967296 - 1;
  });
}

const filterGradCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  inHeight: fc.integer({ min: 3, max: 11 }),
  inWidth: fc.integer({ min: 3, max: 11 }),
  inChannels: fc.integer({ min: 1, max: 12 }),
  outChannels: fc.integer({ min: 1, max: 12 }),
  padding: fc.oneof(
    fc.constantFrom<"valid" | "same">("valid", "same"),
    fc.record({ height: fc.tuple(fc.nat(2), fc.nat(2)), width: fc.tuple(fc.nat(2), fc.nat(2)) }),
  ),
  seed: fc.integer(),
});

function geometryOf(c: typeof filterGradCase extends fc.Arbitrary<infer T> ? T : never): { params: Conv2dParams; g: ConvGeometry } {
  const params: Conv2dParams = { batch: c.batch, inHeight: c.inHeight, inWidth: c.inWidth, inChannels: c.inChannels, kernelHeight: 3, kernelWidth: 3, outChannels: c.outChannels, padding: c.padding };
  return { params, g: conv2dGeometry(params) };
}

/** The float64 sum of `x * dy` of each filter tap, a tap over the padding adding `0 * dy`. */
function filterGradLoop(x: Float32Array, dy: Float32Array, g: ConvGeometry): Float64Array {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const sums = new Float64Array(9 * C * O);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let t = 0; t < 9; t++) {
          const ih = oh - g.padTop + Math.floor(t / 3);
          const iw = ow - g.padLeft + (t % 3);
          const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          for (let c = 0; c < C; c++) {
            const v = inside ? (x[((n * H + ih) * W + iw) * C + c] ?? NaN) : 0;
            for (let o = 0; o < O; o++) {
              const at = (t * C + c) * O + o;
              sums[at] = (sums[at] ?? NaN) + v * (dy[((n * OH + oh) * OW + ow) * O + o] ?? NaN);
            }
          }
        }
      }
    }
  }
  return sums;
}

describe.runIf(wasmMatmulAvailable())("the filter gradients in WebAssembly", () => {
  test("Winograd's refuses a NaN or an infinity, and conv2dBackpropFilter puts the float64 loop's NaN and infinities where it has them", () => {
    fc.assert(
      fc.property(filterGradCase, fc.constantFrom(NaN, Infinity, -Infinity), fc.boolean(), fc.nat(), (c, bad, inDy, where) => {
        const { params, g } = geometryOf(c);
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed);
        const dy = values(g.batch * g.outHeight * g.outWidth * g.outChannels, c.seed + 1);
        const target = inDy ? dy : x;
        target[where % target.length] = bad;
        const dw = new Float32Array(9 * g.inChannels * g.outChannels).fill(7);
        expect(conv2dFilterGradWinogradWasm(dw, x, dy, g)).toBe(false);
        expect(dw.every((v) => v === 7)).toBe(true); // refused having written nothing
        conv2dBackpropFilter(dw, x, dy, params);
        const want = filterGradLoop(x, dy, g);
        for (let i = 0; i < dw.length; i++) {
          const [got, sum] = [dw[i] ?? NaN, want[i] ?? NaN];
          if (Number.isFinite(sum)) expect(Number.isFinite(got), `dw ${i}: ${got} for ${sum}`).toBe(true);
          else expect([i, got]).toEqual([i, sum]);
        }
      }),
      { numRuns },
    );
  });

  test("Winograd's refuses values whose transformed sums overflow, and conv2dBackpropFilter gives the finite direct sum", () => {
    // |x dy| = 1e36 per term: the direct sums stay below 2^128 (at most 9 * 36 terms here); V (up to 36 |x|) times D (up to 16 |dy|) does not
    const params: Conv2dParams = { batch: 1, inHeight: 8, inWidth: 8, inChannels: 4, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "valid" };
    const g = conv2dGeometry(params);
    const x = values(8 * 8 * 4, 1).map((v) => (v < 0 ? -1e18 : 1e18));
    const dy = new Float32Array(6 * 6 * 8).fill(1e18);
    const dw = new Float32Array(9 * 4 * 8);
    expect(conv2dFilterGradWinogradWasm(dw, x, dy, g)).toBe(false);
    conv2dBackpropFilter(dw, x, dy, params);
    const want = filterGradLoop(x, dy, g);
    // float32 sums of 36 products, each exact to 2^-24 of itself
    dw.forEach((v, i) => expect(Math.abs(v - (want[i] ?? NaN))).toBeLessThanOrEqual(36 * 1e36 * 36 * 2 ** -24));
  });
});
