import { describe, expect, test } from "vitest";
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, conv2dGeometry, type Conv2dOptions } from "../../../src/backend/kernels/conv/index.js";
import { wasmMatmulAvailable } from "../../../src/backend/kernels/wasm-matmul.js";

/** Seeded values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** The number of elements of the convolution's output. */
function outSizeOf(options: Conv2dOptions): number {
  const g = conv2dGeometry(options);
  return g.batch * g.outHeight * g.outWidth * g.outChannels;
}

/** The largest difference relative to the largest magnitude of `want`. */
function relative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let [diff, scale] = [0, 0];
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] ?? NaN) - (want[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(want[i] ?? 0));
  }
  return diff / Math.max(scale, 1e-30);
}

// Deep windows (3 x 3 x 16 = 144 values) send float32 convolutions to columns and the WebAssembly matmul;
// float64 stays on Winograd and the JavaScript loops: the two must agree to float32 precision.
const cases: readonly [string, Conv2dOptions][] = [
  ["3 x 3 same", { batch: 2, inHeight: 9, inWidth: 7, inChannels: 16, kernelHeight: 3, kernelWidth: 3, outChannels: 12, padding: "same" }],
  ["stride 2, valid", { batch: 1, inHeight: 11, inWidth: 10, inChannels: 16, kernelHeight: 3, kernelWidth: 3, outChannels: 5, stride: 2 }],
  ["dilation 2, groups 2", { batch: 2, inHeight: 9, inWidth: 9, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 8, dilation: 2, groups: 2, padding: "same" }],
  ["1 x 1", { batch: 2, inHeight: 5, inWidth: 5, inChannels: 70, kernelHeight: 1, kernelWidth: 1, outChannels: 9 }],
];

describe("float32 convolutions on the WebAssembly matmul", () => {
  test("WebAssembly SIMD is there to take them", () => {
    expect(wasmMatmulAvailable()).toBe(true);
  });

  test.each(cases)("%s: forward, input gradient and filter gradient equal the float64 paths", (_name, options) => {
    const g = options;
    const [n, h, w, c, kh, kw, o] = [g.batch, g.inHeight, g.inWidth, g.inChannels, g.kernelHeight, g.kernelWidth, g.outChannels];
    const groups = g.groups ?? 1;
    const x = values(n * h * w * c, 1);
    const filter = values(kh * kw * (c / groups) * o, 2);
    const y64 = conv2d(new Float64Array(outSizeOf(g)), Float64Array.from(x), Float64Array.from(filter), g);
    const y32 = conv2d(new Float32Array(outSizeOf(g)), Float32Array.from(x), Float32Array.from(filter), g);
    expect(relative(y32, y64)).toBeLessThan(1e-5);
    const dy = values(outSizeOf(g), 3);
    const dx64 = conv2dBackpropInput(new Float64Array(x.length), Float64Array.from(dy), Float64Array.from(filter), g);
    const dx32 = conv2dBackpropInput(new Float32Array(x.length), Float32Array.from(dy), Float32Array.from(filter), g);
    expect(relative(dx32, dx64)).toBeLessThan(1e-5);
    const dw64 = conv2dBackpropFilter(new Float64Array(filter.length), Float64Array.from(x), Float64Array.from(dy), g);
    const dw32 = conv2dBackpropFilter(new Float32Array(filter.length), Float32Array.from(x), Float32Array.from(dy), g);
    expect(relative(dw32, dw64)).toBeLessThan(1e-5);
  });
});
