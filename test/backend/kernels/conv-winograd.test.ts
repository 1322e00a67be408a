import { describe, expect, test } from "vitest";
import { conv2dGeometry, type Conv2dOptions } from "../../../src/backend/kernels/conv/index.js";
import { kernelBuilds } from "../../../src/backend/kernels/conv/kernel-cache.js";
import { conv2dFilterGradWinogradWasm, conv2dWinogradWasm, forwardTiles, usesWinogradWasm, WINOGRAD_ERROR_BOUND } from "../../../src/backend/kernels/conv/winograd-wasm.js";

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** The direct sum in float64, and the sum of |x| |w| of each output. */
function direct(x: ArrayLike<number>, w: ArrayLike<number>, options: Conv2dOptions): { y: Float64Array; scale: Float64Array } {
  const g = conv2dGeometry(options);
  const size = g.batch * g.outHeight * g.outWidth * g.outChannels;
  const y = new Float64Array(size);
  const scale = new Float64Array(size);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let o = 0; o < g.outChannels; o++) {
          let [sum, abs] = [0, 0];
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++) {
              const ih = oh - g.padTop + kh, iw = ow - g.padLeft + kw;
              if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
              for (let c = 0; c < g.inChannels; c++) {
                const a = x[((n * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + c] ?? 0;
                const b = w[((kh * 3 + kw) * g.inChannels + c) * g.outChannels + o] ?? 0;
                sum += a * b;
                abs += Math.abs(a * b);
              }
            }
          const at = ((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + o;
          y[at] = sum;
          scale[at] = abs;
        }
  return { y, scale };
}

const cases: readonly [string, Conv2dOptions][] = [
  ["bench", { batch: 2, inHeight: 14, inWidth: 14, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 64, padding: "same" }],
  ["odd valid", { batch: 1, inHeight: 9, inWidth: 7, inChannels: 5, kernelHeight: 3, kernelWidth: 3, outChannels: 3, padding: "valid" }],
  ["odd same", { batch: 3, inHeight: 5, inWidth: 11, inChannels: 6, kernelHeight: 3, kernelWidth: 3, outChannels: 13, padding: "same" }],
  ["explicit", { batch: 1, inHeight: 6, inWidth: 6, inChannels: 8, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: { height: [2, 0], width: [0, 2] } }],
];

describe("F(4 x 4, 3 x 3) and F(6 x 6, 3 x 3) in WebAssembly", () => {
  test.each(cases)("%s: within the stated bound of the float64 direct sum", (_name, options) => {
    const g = conv2dGeometry(options);
    const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, 1);
    const w = values(9 * g.inChannels * g.outChannels, 2);
    const out = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
    expect(conv2dWinogradWasm(out, x, w, g, { beta: false, bias: undefined, biasOffset: 0, relu: false })).toBe(true);
    const { y, scale } = direct(x, w, options);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs((out[i] ?? NaN) - (y[i] ?? 0)) / (scale[i] || 1));
    expect(worst).toBeLessThanOrEqual(WINOGRAD_ERROR_BOUND);
  });

  test("tiles an axis by F(6, 3) from 16 input channels where that takes fewer products, by F(4, 3) otherwise", () => {
    // 14 = 6 + 6 + 2: 8 + 8 + 4 = 20 products a row against 6 + 6 + 6 + 4 = 22
    expect(forwardTiles({ outHeight: 14, outWidth: 14, inChannels: 32 })).toEqual({ rows: [6, 6, 2], cols: [6, 6, 2] });
    expect(forwardTiles({ outHeight: 14, outWidth: 14, inChannels: 8 })).toEqual({ rows: [4, 4, 4, 2], cols: [4, 4, 4, 2] });
    // 7: 6 + 2 ties 4 + 4 (12 products): F(4, 3), the more exact; 28 = 4 x 6 + 4
    expect(forwardTiles({ outHeight: 7, outWidth: 28, inChannels: 16 })).toEqual({ rows: [4, 4], cols: [6, 6, 6, 6, 4] });
  });

  test("takes 3 x 3 stride-1 convolutions whose tiles save multiplies, and leaves the others", () => {
    const bench = conv2dGeometry({ batch: 32, inHeight: 14, inWidth: 14, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 64, padding: "same" });
    expect(usesWinogradWasm(bench)).toBe(true);
    // one output pixel: a 4 x 4 tile computes 16 for 36 multiplies where the direct sum takes 9
    expect(usesWinogradWasm(conv2dGeometry({ batch: 4, inHeight: 3, inWidth: 3, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 32 }))).toBe(false);
    expect(usesWinogradWasm(conv2dGeometry({ batch: 4, inHeight: 9, inWidth: 9, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 32, stride: 2 }))).toBe(false);
    expect(usesWinogradWasm(conv2dGeometry({ batch: 4, inHeight: 9, inWidth: 9, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 32, groups: 2 }))).toBe(false);
  });

  test("a model's many geometries keep their kernels: the second step builds nothing (the cache drops the least recently used, never everything)", () => {
    // eight 3 x 3 geometries, each with its forward and filter gradient: about 20 kernels and plans each, more than the 128 of the cache
    // that emptied itself when full
    const geometries = [16, 20, 24, 28, 32, 36, 40, 44].map((inChannels) =>
      conv2dGeometry({ batch: 1, inHeight: 14, inWidth: 14, inChannels, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "same" }),
    );
    const step = (): void => {
      for (const g of geometries) {
        const x = values(14 * 14 * g.inChannels, g.inChannels);
        const w = values(9 * g.inChannels * 8, 2);
        const out = new Float32Array(14 * 14 * 8);
        expect(conv2dWinogradWasm(out, x, w, g, { beta: false, bias: undefined, biasOffset: 0, relu: false })).toBe(true);
        expect(conv2dFilterGradWinogradWasm(new Float32Array(9 * g.inChannels * 8), x, out, g)).toBe(true);
      }
    };
    const before = kernelBuilds();
    step();
    const first = kernelBuilds() - before;
    expect(first).toBeGreaterThan(128);
    step();
    step();
    expect(kernelBuilds() - before).toBe(first);
  });
});
