import { describe, expect, test } from "vitest";
import { ShapeError } from "../../../src/core/errors.js";
import {
  avgPool2d,
  avgPool2dBackward,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dGeometry,
  maxPool2d,
  maxPool2dBackward,
  type Conv2dParams,
  type Pool2dParams,
} from "../../../src/backend/kernels/conv/index.js";
import { matmul } from "../../../src/backend/kernels/matmul.js";

/** Small integers (exact sums in float64, whatever the order). */
function ints(size: number, seed: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => ((i * 5 + seed * 11) % 9) - 4);
}

const iota = (size: number): Float64Array => Float64Array.from({ length: size }, (_, i) => i);

/** A single-image, single-channel convolution of `size x size` with a `kernel x kernel` filter. */
const image = (size: number, kernel: number, extra: Partial<Conv2dParams> = {}): Conv2dParams => ({
  batch: 1,
  inHeight: size,
  inWidth: size,
  inChannels: 1,
  kernelHeight: kernel,
  kernelWidth: kernel,
  outChannels: 1,
  ...extra,
});

/** The elements `[n, h, w, c0 .. c0 + count]` of an NHWC array with `channels`, as their own NHWC array. */
function channelSlice(x: Float64Array, channels: number, c0: number, count: number): Float64Array {
  const pixels = x.length / channels;
  const out = new Float64Array(pixels * count);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < count; c++) out[p * count + c] = x[p * channels + c0 + c] ?? 0;
  return out;
}

/** The convolution as its definition reads: every output, every tap, bounds checked, summed in float64; then bias and relu. */
function naiveConv2d(x: ArrayLike<number>, w: ArrayLike<number>, params: Conv2dParams, bias?: ArrayLike<number>, relu = false): Float64Array {
  const g = conv2dGeometry(params);
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  const out = new Float64Array(g.batch * g.outHeight * g.outWidth * O);
  for (let n = 0, yi = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let o = 0; o < O; o++, yi++) {
          let sum = bias?.[o] ?? 0;
          for (let kh = 0; kh < g.kernelHeight; kh++) {
            for (let kw = 0; kw < g.kernelWidth; kw++) {
              const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
              const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < Cg; c++) {
                const xv = x[((n * H + ih) * W + iw) * C + Math.floor(o / Og) * Cg + c] ?? Number.NaN;
                sum += xv * (w[((kh * g.kernelWidth + kw) * Cg + c) * O + o] ?? Number.NaN);
              }
            }
          }
          out[yi] = relu && sum < 0 ? 0 : sum;
        }
      }
    }
  }
  return out;
}

describe("conv2d", () => {
  test("the example of the doc comment: a 3 x 3 box filter with padding same", () => {
    const out = conv2d(new Float64Array(9), new Float64Array(9).fill(1), new Float64Array(9).fill(1), image(3, 3, { padding: "same" }));
    expect(Array.from(out)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });

  test("conv2dGeometry gives ceil(in / stride) for padding same, the extra padding after", () => {
    const g = conv2dGeometry({ ...image(28, 3), outChannels: 8, padding: "same", stride: 2 });
    expect([g.outHeight, g.outWidth, g.padTop, g.padLeft]).toEqual([14, 14, 0, 0]);
  });

  test("stride 2 with padding same sums the windows that start at every other pixel", () => {
    // x[i, j] = 4 i + j over 4 x 4; padding same adds one row and column after, none before.
    const out = conv2d(new Float64Array(4), iota(16), new Float64Array(9).fill(1), image(4, 3, { padding: "same", stride: 2 }));
    const box = (rows: number[], cols: number[]): number => rows.reduce((s, i) => s + cols.reduce((t, j) => t + 4 * i + j, 0), 0);
    expect(Array.from(out)).toEqual([box([0, 1, 2], [0, 1, 2]), box([0, 1, 2], [2, 3]), box([2, 3], [0, 1, 2]), box([2, 3], [2, 3])]);
  });

  test("a 2 x 2 filter with dilation 2 is a 3 x 3 filter with zeros between its taps", () => {
    const x = ints(36, 1);
    const w = Float64Array.of(1, 2, 3, 4);
    const spread = Float64Array.of(1, 0, 2, 0, 0, 0, 3, 0, 4);
    for (const padding of ["valid", "same"] as const) {
      const dilated = conv2d(new Float64Array(36), x, w, image(6, 2, { dilation: 2, padding }));
      const wide = conv2d(new Float64Array(36), x, spread, image(6, 3, { padding }));
      expect(Array.from(dilated)).toEqual(Array.from(wide));
    }
  });

  test("a grouped convolution is one convolution per slice of channels", () => {
    const [groups, groupIn, groupOut] = [3, 2, 4];
    const params: Conv2dParams = { batch: 2, inHeight: 5, inWidth: 6, inChannels: groups * groupIn, kernelHeight: 3, kernelWidth: 2, outChannels: groups * groupOut, padding: "same", groups };
    const g = conv2dGeometry(params);
    const x = ints(2 * 5 * 6 * groups * groupIn, 2);
    const w = ints(3 * 2 * groupIn * groups * groupOut, 3);
    const out = conv2d(new Float64Array(2 * g.outHeight * g.outWidth * groups * groupOut), x, w, params);
    for (let group = 0; group < groups; group++) {
      const alone = conv2d(new Float64Array(2 * g.outHeight * g.outWidth * groupOut), channelSlice(x, groups * groupIn, group * groupIn, groupIn), channelSlice(w, groups * groupOut, group * groupOut, groupOut), {
        ...params,
        inChannels: groupIn,
        outChannels: groupOut,
        groups: 1,
      });
      expect(Array.from(channelSlice(out, groups * groupOut, group * groupOut, groupOut))).toEqual(Array.from(alone));
    }
  });

  test("a depthwise convolution (one input channel per group) convolves each channel with its own filters", () => {
    const [channels, multiplier] = [4, 2];
    const params: Conv2dParams = { batch: 1, inHeight: 7, inWidth: 5, inChannels: channels, kernelHeight: 3, kernelWidth: 3, outChannels: channels * multiplier, stride: 2, padding: "same", groups: channels };
    const g = conv2dGeometry(params);
    const x = ints(7 * 5 * channels, 4);
    const w = ints(9 * channels * multiplier, 5);
    const bias = iota(channels * multiplier);
    const out = conv2d(new Float64Array(g.outHeight * g.outWidth * channels * multiplier), x, w, { ...params, bias, activation: "relu" });
    for (let c = 0; c < channels; c++) {
      const alone = conv2d(new Float64Array(g.outHeight * g.outWidth * multiplier), channelSlice(x, channels, c, 1), channelSlice(w, channels * multiplier, c * multiplier, multiplier), {
        ...params,
        inChannels: 1,
        outChannels: multiplier,
        groups: 1,
        bias,
        biasOffset: c * multiplier,
        activation: "relu",
      });
      expect(Array.from(channelSlice(out, channels * multiplier, c * multiplier, multiplier))).toEqual(Array.from(alone));
    }
  });

  test("a 1 x 1 convolution is a matrix product over the pixels, and its input gradient the product with w^T", () => {
    const [pixels, channels, outs] = [2 * 3 * 4, 5, 6];
    const params: Conv2dParams = { batch: 2, inHeight: 3, inWidth: 4, inChannels: channels, kernelHeight: 1, kernelWidth: 1, outChannels: outs };
    const x = ints(pixels * channels, 6);
    const w = ints(channels * outs, 7);
    const dy = ints(pixels * outs, 8);
    expect(Array.from(conv2d(new Float64Array(pixels * outs), x, w, params))).toEqual(Array.from(matmul(new Float64Array(pixels * outs), x, w, { m: pixels, k: channels, n: outs })));
    expect(Array.from(conv2dBackpropInput(new Float64Array(pixels * channels), dy, w, params))).toEqual(
      Array.from(matmul(new Float64Array(pixels * channels), dy, w, { m: pixels, k: outs, n: channels, transB: true })),
    );
  });

  test("the epilogue adds the bias per output channel, then applies relu", () => {
    const params: Conv2dParams = { ...image(4, 3, { padding: "same" }), outChannels: 2 };
    const x = ints(16, 9);
    const w = ints(18, 10);
    const bias = Float64Array.of(3, -40);
    const plain = conv2d(new Float64Array(32), x, w, params);
    const fused = conv2d(new Float64Array(32), x, w, { ...params, bias, activation: "relu" });
    expect(Array.from(fused)).toEqual(Array.from(plain).map((v, i) => Math.max(v + (bias[i % 2] ?? 0), 0)));
  });

  test("a batch bigger than one chunk of columns gives what each image gives alone, for all three kernels", () => {
    // 4 images of 16 x 16 x 32 with a 3 x 3 filter: 1024 output rows of 288 values, more than one chunk.
    const one: Conv2dParams = { batch: 1, inHeight: 16, inWidth: 16, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "same" };
    const all: Conv2dParams = { ...one, batch: 4 };
    const [xSize, ySize, wSize] = [16 * 16 * 32, 16 * 16 * 8, 9 * 32 * 8];
    const x = ints(4 * xSize, 11);
    const dy = ints(4 * ySize, 12);
    const w = ints(wSize, 13);
    const y = conv2d(new Float64Array(4 * ySize), x, w, all);
    const dx = conv2dBackpropInput(new Float64Array(4 * xSize), dy, w, all);
    const dw = conv2dBackpropFilter(new Float64Array(wSize), x, dy, all);
    const dwSum = new Float64Array(wSize);
    for (let n = 0; n < 4; n++) {
      const xn = x.subarray(n * xSize, (n + 1) * xSize);
      const dyn = dy.subarray(n * ySize, (n + 1) * ySize);
      expect(Array.from(y.subarray(n * ySize, (n + 1) * ySize))).toEqual(Array.from(conv2d(new Float64Array(ySize), xn, w, one)));
      expect(Array.from(dx.subarray(n * xSize, (n + 1) * xSize))).toEqual(Array.from(conv2dBackpropInput(new Float64Array(xSize), dyn, w, one)));
      conv2dBackpropFilter(new Float64Array(wSize), xn, dyn, one).forEach((v, i) => (dwSum[i] = (dwSum[i] ?? 0) + v));
    }
    expect(Array.from(dw)).toEqual(Array.from(dwSum));
  });

  test("a window over one channel is one sweep, and a last block of fewer than four output channels is stored lane by lane", () => {
    // 6 output channels: one block of four, then one of two; float64 and float32 alike (small integers sum exactly).
    const params: Conv2dParams = { batch: 2, inHeight: 5, inWidth: 6, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 6, padding: "same" };
    const x = ints(2 * 5 * 6, 14);
    const w = ints(9 * 6, 15);
    const bias = Float64Array.of(1, -2, 3, -4, 5, -6);
    const want = Array.from(naiveConv2d(x, w, params, bias, true));
    expect(Array.from(conv2d(new Float64Array(want.length), x, w, { ...params, bias, activation: "relu" }))).toEqual(want);
    const narrow = conv2d(new Float32Array(want.length), Float32Array.from(x), Float32Array.from(w), { ...params, bias: Float32Array.from(bias), activation: "relu" });
    expect(Array.from(narrow)).toEqual(want);
  });

  test("a deeper window takes several sweeps of nine taps, the taps past its end reading zeros", () => {
    // 2 x 2 x 3 = 12 taps: two sweeps, the second with 6 taps past the window; stride 2 and dilation 2 across the sweeps.
    const params: Conv2dParams = { batch: 1, inHeight: 7, inWidth: 8, inChannels: 3, kernelHeight: 2, kernelWidth: 2, outChannels: 5, padding: "same", stride: 2, dilation: [2, 1] };
    const x = ints(7 * 8 * 3, 16);
    const w = ints(12 * 5, 17);
    const bias = Float64Array.of(0, 1, 2, 3, 4);
    const want = Array.from(naiveConv2d(x, w, params, bias, true));
    expect(Array.from(conv2d(new Float64Array(want.length), x, w, { ...params, bias, activation: "relu" }))).toEqual(want);
  });

  test("an infinite input reaches only the outputs whose windows hold it, even where a sweep reads past the window", () => {
    // 1 x 2 x 5 = 10 taps: the second sweep has one tap of the window and eight past it, which must not make 0 * Inf.
    const params: Conv2dParams = { batch: 1, inHeight: 3, inWidth: 4, inChannels: 5, kernelHeight: 1, kernelWidth: 2, outChannels: 2, padding: "same" };
    const x = ints(3 * 4 * 5, 18).map((v) => v + 10);
    x[(1 * 4 + 2) * 5 + 4] = Number.POSITIVE_INFINITY;
    const w = ints(10 * 2, 19).map((v) => v + 10);
    const out = conv2d(new Float64Array(3 * 4 * 2), x, w, params);
    expect(Array.from(out)).toEqual(Array.from(naiveConv2d(x, w, params)));
    expect(out.filter((v) => !Number.isFinite(v)).length).toBe(4);
  });

  test("a wide image is convolved in several bands of rows, each with its own padding", () => {
    // 1500 pixels of 8 channels per row: a band holds one output row, so each of the 4 rows is its own band.
    const params: Conv2dParams = { batch: 1, inHeight: 4, inWidth: 1500, inChannels: 8, kernelHeight: 3, kernelWidth: 3, outChannels: 3, padding: "same", dilation: [2, 1] };
    const x = ints(4 * 1500 * 8, 20);
    const w = ints(9 * 8 * 3, 21);
    const want = Array.from(naiveConv2d(x, w, params));
    expect(Array.from(conv2d(new Float64Array(want.length), x, w, params))).toEqual(want);
  });

  test("Winograd's F(2 x 2, 3 x 3) sums 3 x 3 filters over 16 or more channels: odd sizes, both paddings, groups, bias and relu", () => {
    for (const padding of ["valid", "same"] as const) {
      // 2 groups of 16 input channels; 7 x 5 outputs with "same" (a tile past the bottom and right edges), 5 x 3 with "valid".
      const params: Conv2dParams = { batch: 2, inHeight: 7, inWidth: 5, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 6, padding, groups: 2 };
      const x = ints(2 * 7 * 5 * 32, 22);
      const w = ints(9 * 16 * 6, 23);
      const bias = Float64Array.of(-3, -2, -1, 1, 2, 3);
      // Small integers: the transforms only halve, so every sum is exact.
      const want = Array.from(naiveConv2d(x, w, params, bias, true));
      expect(Array.from(conv2d(new Float64Array(want.length), x, w, { ...params, bias, activation: "relu" }))).toEqual(want);
    }
  });

  test("an infinite input to a filter that Winograd would take gives what the direct sum gives", () => {
    // Winograd's transforms would subtract the infinity from itself; such an input is summed directly instead.
    const params: Conv2dParams = { batch: 1, inHeight: 4, inWidth: 4, inChannels: 16, kernelHeight: 3, kernelWidth: 3, outChannels: 1, padding: "same" };
    const x = new Float64Array(4 * 4 * 16).fill(1);
    x[(1 * 4 + 1) * 16] = Number.POSITIVE_INFINITY;
    const w = new Float64Array(9 * 16).fill(1);
    const out = conv2d(new Float64Array(16), x, w, params);
    expect(Array.from(out)).toEqual(Array.from(naiveConv2d(x, w, params)));
    expect(Array.from(out).filter((v) => v === Number.POSITIVE_INFINITY).length).toBe(9);
  });

  test("an empty batch writes nothing, and zero input channels give the bias", () => {
    const out = Float64Array.of(7);
    conv2d(out, new Float64Array(0), new Float64Array(9), image(3, 3, { batch: 0 }));
    expect(Array.from(out)).toEqual([7]);
    const noChannels = conv2d(new Float64Array(8), new Float64Array(0), new Float64Array(0), { ...image(2, 1), inChannels: 0, outChannels: 2, bias: Float64Array.of(1, 2) });
    expect(Array.from(noChannels)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  test("groups that do not divide the channels, or arrays too short, are ShapeErrors", () => {
    expect(() => conv2dGeometry({ ...image(3, 3), inChannels: 4, outChannels: 6, groups: 4 })).toThrow(ShapeError);
    expect(() => conv2d(new Float64Array(1), new Float64Array(8), new Float64Array(9), image(3, 3))).toThrow(ShapeError);
    expect(() => conv2d(new Float64Array(1), new Float64Array(4), new Float64Array(9), image(2, 3))).toThrow(ShapeError);
  });
});

describe("convolution gradients", () => {
  test("the example of conv2dBackpropInput: one output spreads back over its whole window", () => {
    const dx = conv2dBackpropInput(new Float64Array(9), Float64Array.of(1), new Float64Array(9).fill(1), image(3, 3));
    expect(Array.from(dx)).toEqual(new Array<number>(9).fill(1));
  });

  test("the example of conv2dBackpropFilter: a 1 x 1 filter's gradient is the sum of x * dy", () => {
    const dw = conv2dBackpropFilter(new Float64Array(1), Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 1, 1, 1), image(2, 1));
    expect(Array.from(dw)).toEqual([10]);
  });

  test("with stride 2 the input gradient skips the pixels no window starts on", () => {
    // 1 x 1 filter, stride 2 over 3 x 3: only pixels (0, 0), (0, 2), (2, 0), (2, 2) are read.
    const dx = conv2dBackpropInput(new Float64Array(9), Float64Array.of(1, 2, 3, 4), Float64Array.of(10), image(3, 1, { stride: 2 }));
    expect(Array.from(dx)).toEqual([10, 0, 20, 0, 0, 0, 30, 0, 40]);
  });
});

const pool = (size: number, window: number, extra: Partial<Pool2dParams> = {}): Pool2dParams => ({
  batch: 1,
  inHeight: size,
  inWidth: size,
  channels: 1,
  windowHeight: window,
  windowWidth: window,
  ...extra,
});

describe("pooling", () => {
  test("the examples of the doc comments", () => {
    expect(Array.from(maxPool2d(new Float64Array(1), Float64Array.of(1, 5, 3, 2), pool(2, 2)))).toEqual([5]);
    expect(Array.from(maxPool2dBackward(new Float64Array(4), Float64Array.of(1, 5, 3, 2), Float64Array.of(7), pool(2, 2)))).toEqual([0, 7, 0, 0]);
    expect(Array.from(avgPool2d(new Float64Array(4), Float64Array.of(1, 2, 3, 4), pool(2, 2, { stride: 1, padding: "same" })))).toEqual([2.5, 3, 3.5, 4]);
    expect(Array.from(avgPool2dBackward(new Float64Array(4), Float64Array.of(8), pool(2, 2)))).toEqual([2, 2, 2, 2]);
  });

  test("max pooling never takes the padding, even when every value is negative", () => {
    const out = maxPool2d(new Float64Array(4), Float64Array.of(-5, -6, -7, -8), pool(2, 2, { stride: 1, padding: "same" }));
    expect(Array.from(out)).toEqual([-5, -6, -7, -8]);
  });

  test("a NaN in the window makes the max NaN, and takes the gradient", () => {
    const x = Float64Array.of(1, Number.NaN, 3, 2);
    expect(Array.from(maxPool2d(new Float64Array(1), x, pool(2, 2)))).toEqual([Number.NaN]);
    expect(Array.from(maxPool2dBackward(new Float64Array(4), x, Float64Array.of(1), pool(2, 2)))).toEqual([0, 1, 0, 0]);
  });

  test("on ties the max-pool gradient goes to the first maximum", () => {
    const dx = maxPool2dBackward(new Float64Array(4), Float64Array.of(2, 5, 5, 5), Float64Array.of(1), pool(2, 2));
    expect(Array.from(dx)).toEqual([0, 1, 0, 0]);
  });

  test("overlapping windows add their gradients", () => {
    // 1 x 3 input, window 1 x 2, stride 1: the middle element is the max of both windows.
    const params: Pool2dParams = { batch: 1, inHeight: 1, inWidth: 3, channels: 1, windowHeight: 1, windowWidth: 2, stride: 1 };
    expect(Array.from(maxPool2dBackward(new Float64Array(3), Float64Array.of(1, 9, 2), Float64Array.of(3, 4), params))).toEqual([0, 7, 0]);
    expect(Array.from(avgPool2dBackward(new Float64Array(3), Float64Array.of(3, 4), params))).toEqual([1.5, 3.5, 2]);
  });

  test("channels pool independently", () => {
    const x = Float64Array.of(1, 40, 2, 30, 3, 20, 4, 10);
    expect(Array.from(maxPool2d(new Float64Array(2), x, { ...pool(2, 2), channels: 2 }))).toEqual([4, 40]);
    expect(Array.from(avgPool2d(new Float64Array(2), x, { ...pool(2, 2), channels: 2 }))).toEqual([2.5, 25]);
  });

  test("padding as large as the window is a ShapeError (a window would hold only padding)", () => {
    expect(() => maxPool2d(new Float64Array(16), new Float64Array(4), pool(2, 2, { padding: 2, stride: 1 }))).toThrow(ShapeError);
  });
});
