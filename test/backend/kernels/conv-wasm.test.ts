import { describe, expect, test } from "vitest";
import {
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dGeometry,
  type Conv2dOptions,
  maxPool2d,
  maxPool2dBackward,
  type Pool2dParams,
} from "../../../src/backend/kernels/conv/index.js";
import { poolOutSize } from "../../../src/core/rules/conv.js";
import { columns } from "../../../src/backend/kernels/conv/columns.js";
import { conv2dFilterGradImplicit, conv2dImplicit } from "../../../src/backend/kernels/conv/implicit.js";
import { gemm } from "../../../src/backend/kernels/matmul.js";
import type { MatrixView } from "../../../src/backend/kernels/matrix-view.js";
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

// Implicit GEMM packs the columns straight from the input: the products must be those of explicit columns and the
// WebAssembly matmul, bit for bit (the same values in the same panels, summed in the same order).
const implicitCases: readonly [string, Conv2dOptions][] = [
  ...cases.filter(([name]) => name !== "1 x 1"),
  ["one channel, 5 x 5, stride 2, same", { batch: 3, inHeight: 13, inWidth: 11, inChannels: 1, kernelHeight: 5, kernelWidth: 5, outChannels: 6, stride: 2, padding: "same" }],
  ["one channel, stride 1, rows of 11 across blocks of k", { batch: 3, inHeight: 9, inWidth: 11, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "same" }],
  ["one channel, valid, dilated columns, stride 2 down", { batch: 2, inHeight: 10, inWidth: 13, inChannels: 1, kernelHeight: 2, kernelWidth: 3, outChannels: 5, dilation: [1, 2], stride: [2, 1] }],
  ["6 channels (not fours), dilation 2", { batch: 2, inHeight: 10, inWidth: 9, inChannels: 6, kernelHeight: 3, kernelWidth: 2, outChannels: 10, dilation: [2, 1], padding: "same" }],
  ["3 groups of 4, 9 output rows", { batch: 1, inHeight: 3, inWidth: 3, inChannels: 12, kernelHeight: 3, kernelWidth: 3, outChannels: 6, groups: 3, padding: "same" }],
  ["36 channels: a block of k ends inside a tap, rows in several blocks", { batch: 2, inHeight: 7, inWidth: 6, inChannels: 36, kernelHeight: 3, kernelWidth: 3, outChannels: 10, padding: "same" }],
  ["more rows than one block of k", { batch: 4, inHeight: 12, inWidth: 12, inChannels: 8, kernelHeight: 3, kernelWidth: 3, outChannels: 9, padding: "same" }],
];

describe("implicit GEMM", () => {
  test.each(implicitCases)("%s: forward and filter gradient (conv2dFilterGradImplicit) equal explicit columns and the WebAssembly matmul, bit for bit", (_name, options) => {
    const g = conv2dGeometry(options);
    const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
    const rows = g.batch * g.outHeight * g.outWidth;
    const [O, Og] = [g.outChannels, g.groupOutChannels];
    const x = Float32Array.from(values(g.batch * g.inHeight * g.inWidth * g.inChannels, 4));
    const w = Float32Array.from(values(depth * O, 5));
    const dy = Float32Array.from(values(rows * O, 6));
    const bias = Float32Array.from(values(O, 7));
    const y = new Float32Array(rows * O);
    expect(conv2dImplicit(y, x, w, g, { beta: false, bias, biasOffset: 0, relu: true })).toBe(true);
    // called directly: conv2dBackpropFilter may take Winograd's path for these shapes
    const dw = new Float32Array(depth * O);
    expect(conv2dFilterGradImplicit(dw, x, dy, g, { beta: false, bias: undefined, biasOffset: 0, relu: false })).toBe(true);
    const yWant = new Float32Array(rows * O);
    const dwWant = new Float32Array(depth * O);
    for (let group = 0; group < g.groups; group++) {
      // `columns` copies into its own buffer, so each product gets a fresh copy of the group's columns.
      const cols = Float32Array.from(toArray(columns(x, g, group, 0, rows), rows, depth));
      const colsView = { data: cols, offset: 0, rowStride: depth, colStride: 1 };
      const colsT = { data: cols, offset: 0, rowStride: 1, colStride: depth };
      const filter = { data: w, offset: group * Og, rowStride: O, colStride: 1 };
      gemm(rows, depth, Og, colsView, filter, { data: yWant, offset: group * Og, rowStride: O, colStride: 1 }, { bias, biasOffset: group * Og, activation: "relu", backend: "wasm" });
      const dyView = { data: dy, offset: group * Og, rowStride: O, colStride: 1 };
      gemm(depth, rows, Og, colsT, dyView, { data: dwWant, offset: group * Og, rowStride: O, colStride: 1 }, { backend: "wasm" });
    }
    expect(Array.from(y)).toEqual(Array.from(yWant));
    expect(Array.from(dw)).toEqual(Array.from(dwWant));
  });
});

/** The `rows x cols` matrix a view shows, row by row. */
function toArray(view: MatrixView, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.push(view.data[view.offset + i * view.rowStride + j * view.colStride] ?? NaN);
  return out;
}

describe("float32 max pooling in WebAssembly", () => {
  // Channels in fours take the WebAssembly kernel for float32; float64 stays on the JavaScript loops.
  const edges = [0, -0, 1, -1, 1, Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2, 2, -0, 0];
  const poolCases: readonly [string, Pool2dParams][] = [
    ["2 x 2, stride 2", { batch: 2, inHeight: 6, inWidth: 6, channels: 8, windowHeight: 2, windowWidth: 2 }],
    ["3 x 3, stride 2, same", { batch: 1, inHeight: 7, inWidth: 5, channels: 4, windowHeight: 3, windowWidth: 3, stride: 2, padding: "same" }],
    ["1 x 1", { batch: 1, inHeight: 3, inWidth: 2, channels: 12, windowHeight: 1, windowWidth: 1 }],
    ["2 x 2, stride 2, odd sizes (a row and a column under no window)", { batch: 2, inHeight: 7, inWidth: 5, channels: 8, windowHeight: 2, windowWidth: 2 }],
    ["2 x 3, strides 3 and 4 (gaps between windows)", { batch: 1, inHeight: 8, inWidth: 11, channels: 4, windowHeight: 2, windowWidth: 3, stride: [3, 4] }],
    ["2 x 2, stride 2, same (a window into the padding)", { batch: 1, inHeight: 5, inWidth: 5, channels: 4, windowHeight: 2, windowWidth: 2, padding: "same" }],
  ];
  test.each(poolCases)("%s: maxima and gradient equal the JavaScript loops bit for bit, with ties, signed zeros, NaN and infinities", (_name, params) => {
    const size = params.batch * params.inHeight * params.inWidth * params.channels;
    const x = values(size, 8).map((v, i) => (i % 3 === 0 ? (edges[i % edges.length] ?? 0) : Math.round(2 * v)));
    const g = maxPoolSizes(params);
    const dy = values(g, 9);
    const y32 = maxPool2d(new Float32Array(g), Float32Array.from(x), params);
    const y64 = maxPool2d(new Float64Array(g), Float64Array.from(x), params);
    expect(Array.from(y32).map(String)).toEqual(Array.from(y64).map(String));
    expect(Array.from(y32).map((v) => Object.is(v, -0))).toEqual(Array.from(y64).map((v) => Object.is(v, -0)));
    const dx32 = maxPool2dBackward(new Float32Array(size), Float32Array.from(x), Float32Array.from(dy), params);
    const dx64 = maxPool2dBackward(new Float64Array(size), Float64Array.from(x), Float64Array.from(Float32Array.from(dy)), params);
    // Where windows overlap, an element may sum two dy: float32 rounds after each, float64 once.
    const [sh, sw] = typeof params.stride === "number" ? [params.stride, params.stride] : (params.stride ?? [params.windowHeight, params.windowWidth]);
    const overlap = sh < params.windowHeight || sw < params.windowWidth;
    expect(overlap ? relative(dx32, dx64) : 0).toBeLessThan(1e-6);
    if (!overlap) expect(Array.from(dx32)).toEqual(Array.from(Float32Array.from(dx64)));
  });
});

/** The output elements of a max pooling. */
function maxPoolSizes(p: Pool2dParams): number {
  const [sh, sw] = typeof p.stride === "number" ? [p.stride, p.stride] : (p.stride ?? [p.windowHeight, p.windowWidth]);
  const padding = typeof p.padding === "object" ? "valid" : (p.padding ?? "valid");
  const oh = poolOutSize(p.inHeight, p.windowHeight, { stride: sh, padding });
  const ow = poolOutSize(p.inWidth, p.windowWidth, { stride: sw, padding });
  return p.batch * oh * ow * p.channels;
}
