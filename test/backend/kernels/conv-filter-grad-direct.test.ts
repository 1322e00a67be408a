import { describe, expect, test } from "vitest";
import { conv2dGeometry, type Conv2dParams } from "../../../src/backend/kernels/conv/index.js";
import { conv2dFilterGradDirect, usesDirectFilterGrad } from "../../../src/backend/kernels/conv/filter-grad-direct.js";
import { arenaAllocator, watchArena } from "../../../src/backend/wasm/kernel-memory.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";

/** Seeded values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe("the direct float32 filter gradient in WebAssembly", () => {
  const cases: readonly [string, Conv2dParams][] = [
    ["3 x 3 'same', 7 output channels (a partial vector)", { batch: 2, inHeight: 5, inWidth: 6, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 7, padding: "same" }],
    ["3 x 3 'valid', 8 output channels", { batch: 3, inHeight: 6, inWidth: 4, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "valid" }],
    ["2 x 3, padding only above and to the right", { batch: 1, inHeight: 4, inWidth: 5, inChannels: 1, kernelHeight: 2, kernelWidth: 3, outChannels: 5, padding: { height: [1, 0], width: [0, 2] } }],
    ["one output pixel, one output channel", { batch: 1, inHeight: 3, inWidth: 3, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 1 }],
  ];

  test.each(cases)("%s: within float32 rounding of the float64 sum, every term in its place", (_name, params) => {
    const g = conv2dGeometry(params);
    expect(usesDirectFilterGrad(g)).toBe(true);
    const { batch: N, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, outChannels: O, kernelHeight: KH, kernelWidth: KW } = g;
    const x = values(N * H * W, 1);
    const dy = values(N * OH * OW * O, 2);
    const dw = new Float32Array(KH * KW * O).fill(Number.NaN);
    expect(conv2dFilterGradDirect(dw, x, dy, g)).toBe(true);
    const sums = new Float64Array(dw.length);
    const scale = new Float64Array(dw.length);
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const [ih, iw] = [oh - g.padTop + kh, ow - g.padLeft + kw];
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let o = 0; o < O; o++) {
                const term = (x[(n * H + ih) * W + iw] ?? NaN) * (dy[((n * OH + oh) * OW + ow) * O + o] ?? NaN);
                const i = (kh * KW + kw) * O + o;
                sums[i] = (sums[i] ?? NaN) + term;
                scale[i] = (scale[i] ?? NaN) + Math.abs(term);
              }
            }
          }
        }
      }
    }
    // a sum of n float32 products in order: within n * 2^-24 of the sum of |terms| (n at most N * OH * OW)
    const bound = N * OH * OW * 2 ** -24;
    dw.forEach((v, i) => expect(Math.abs(v - (sums[i] ?? NaN))).toBeLessThanOrEqual(bound * (scale[i] ?? NaN) + 1e-30));
  });

  test("sums across blocks of rows (and images) in pixel order: the bits of a float32 sum of float32 products", () => {
    // 40 rows of 64 pixels x 32 channels (30 real): several blocks of BLOCK_BYTES per image, and a partial vector
    const params: Conv2dParams = { batch: 2, inHeight: 40, inWidth: 64, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 30, padding: "same" };
    const g = conv2dGeometry(params);
    const { batch: N, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, outChannels: O } = g;
    const x = values(N * H * W, 3);
    const dy = values(N * OH * OW * O, 4);
    const dw = new Float32Array(9 * O).fill(Number.NaN);
    expect(conv2dFilterGradDirect(dw, x, dy, g)).toBe(true);
    const want = new Float32Array(9 * O);
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          for (let t = 0; t < 9; t++) {
            const [ih, iw] = [oh - g.padTop + Math.floor(t / 3), ow - g.padLeft + (t % 3)];
            const v = ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : (x[(n * H + ih) * W + iw] ?? NaN);
            for (let o = 0; o < O; o++) want[t * O + o] = Math.fround((want[t * O + o] ?? NaN) + Math.fround(v * (dy[((n * OH + oh) * OW + ow) * O + o] ?? NaN)));
          }
        }
      }
    }
    expect(dw).toEqual(want);
  });

  test.runIf(sharing.shared)("reads a dy that lives in the kernels' memory where it is, with the bits of the staged one", () => {
    // 32 output channels (whole vectors: dy's layout is the staged one), rows in several blocks and images in one
    for (const params of [
      { batch: 2, inHeight: 40, inWidth: 64, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" },
      { batch: 5, inHeight: 9, inWidth: 7, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "valid" },
    ] satisfies Conv2dParams[]) {
      const g = conv2dGeometry(params);
      const { batch: N, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, outChannels: O } = g;
      const x = values(N * H * W, 5);
      const arena = arenaAllocator({});
      const dy = arena.take(N * OH * OW * O);
      if (dy === undefined) throw new Error("no buffer in the kernels' memory");
      dy.set(values(N * OH * OW * O, 6));
      const [staged, inPlace] = [new Float32Array(9 * O), new Float32Array(9 * O)];
      expect(conv2dFilterGradDirect(staged, x, Float32Array.from(dy), g)).toBe(true);
      const call = watchArena(() => conv2dFilterGradDirect(inPlace, x, dy, g));
      expect(call.result).toBe(true);
      expect([...call.addresses]).toEqual(O % 4 === 0 ? [dy.byteOffset] : []);
      expect(new Uint32Array(inPlace.buffer)).toEqual(new Uint32Array(staged.buffer));
      arena.release();
    }
  });

  test("takes stride 1, dilation 1, one group and one input channel only", () => {
    const base: Conv2dParams = { batch: 1, inHeight: 6, inWidth: 6, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 4 };
    expect(usesDirectFilterGrad(conv2dGeometry(base))).toBe(true);
    expect(usesDirectFilterGrad(conv2dGeometry({ ...base, stride: 2 }))).toBe(false);
    expect(usesDirectFilterGrad(conv2dGeometry({ ...base, dilation: 2 }))).toBe(false);
    expect(usesDirectFilterGrad(conv2dGeometry({ ...base, inChannels: 2 }))).toBe(false);
    expect(usesDirectFilterGrad(conv2dGeometry({ ...base, kernelHeight: 4, kernelWidth: 3 }))).toBe(false);
  });
});
