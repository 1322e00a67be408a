/**
 * Laws of the hand-tuned kernels (`src/backend/kernels/`): each equals a naive
 * reference written here, loop by loop, with no blocking, packing, im2col or
 * fast path, over random sizes (size 0 and 1 included, non-square matrices,
 * odd and even kernels, strides above 1, every padding scheme, groups):
 *
 * - `matmul` and `gemm` equal the triple loop, for transposed operands,
 *   broadcast batches, strided views, accumulation and the fused epilogue,
 *   on every backend (`matmulBackends`: the JavaScript kernel, the
 *   WebAssembly SIMD one, and the size-based choice between them);
 * - `conv2d` equals the 7-deep loop with explicit bounds checks, on each of
 *   its paths (windows summed directly, Winograd's F(2 x 2, 3 x 3) for 3 x 3
 *   filters over 16 or more channels per group, F(4 x 4, 3 x 3) or F(6 x 6, 3 x 3) in
 *   WebAssembly for float32 3 x 3 filters, columns and `gemm`);
 * - its two gradient kernels equal their own naive loops, and the three
 *   agree through the adjoint identity
 *   `<conv(x, w), dy> = <x, backpropInput(dy, w)> = <w, backpropFilter(x, dy)>`
 *   in float64;
 * - max and average pooling and their gradients equal window-by-window loops
 *   (ties and NaN included), and average pooling is adjoint to its gradient;
 * - the reductions equal one pass over the array in row-major order.
 *
 * Matmul sizes reach past a packed block (k past 288 and 256, m past 256
 * and 128, the JavaScript and WebAssembly kernels' blocks) and cover sizes
 * that are not multiples of the 4 x 8 WebAssembly tile, and
 * convolutions are big enough now and then for the blocked product.
 *
 * Float64 results agree to 1e-12 and float32 results to 2e-5, relative to
 * the sum of the absolute values of the terms (the scale of a dot product's
 * rounding error, which is what a cancelling sum can be compared to). The
 * float32 bound is a worst case, not a guess: the WebAssembly kernel sums
 * blocks of 256 terms in float32 and then the blocks, so its error is at
 * most (256 + k / 256 + 2) roundings of 2^-24 of that sum, under 1.6e-5 for
 * every size these laws reach. Float32 Winograd (F(4 x 4) or F(6 x 6)) rounds in its
 * transforms, which mix a tile's whole input patch and all nine taps: where
 * it runs, the scale is at least `support/winograd-scale.ts`'s (its own
 * law, `conv-winograd.law.test.ts`, holds its tighter bound).
 * `STRATUM_HEAVY=1` runs more cases.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ShapeError } from "../src/core/errors.js";
import type { Padding } from "../src/core/rules/conv.js";
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
  type ConvGeometry,
  type Padding2d,
  type Pool2dParams,
} from "../src/backend/kernels/conv/index.js";
import { gemm, matmul, type MatmulBackend } from "../src/backend/kernels/matmul.js";
import type { FloatArray } from "../src/backend/kernels/matrix-view.js";
import { wasmMatmulAvailable } from "../src/backend/kernels/wasm-matmul.js";
import { argReduce, reduce, type ArgReduceOp, type NumericArray, type ReduceOp } from "../src/backend/kernels/reduce.js";
import { forwardTiles, usesWinogradWasm, WINOGRAD_FILTER_GRAD_ERROR_BOUND } from "../src/backend/kernels/conv/winograd-wasm.js";
import { winogradFilterGradScale, winogradScale } from "./support/winograd-scale.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const numRuns = heavy ? 1000 : 100;

type FloatDType = "float32" | "float64";
const dtypes = fc.constantFrom<FloatDType>("float64", "float32");
const tolerance = (dtype: FloatDType): number => (dtype === "float64" ? 1e-12 : 2e-5);

/** A small seeded generator (mulberry32), so that big arrays cost one integer to shrink. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values in [-1, 1), stored in the dtype (so float32 data is exactly what the kernel reads). */
function randomArray(dtype: FloatDType, size: number, seed: number): FloatArray {
  const next = generator(seed);
  const out = dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = 2 * next() - 1;
  return out;
}

const at = (x: ArrayLike<number>, i: number): number => x[i] ?? Number.NaN;

/** Every `got[i]` is within `tol * scale[i]` of `want[i]` (NaN only where NaN is wanted). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>, tol: number, count = want.length): void {
  for (let i = 0; i < count; i++) {
    const g = at(got, i);
    const w = at(want, i);
    if (Number.isNaN(w) || Number.isNaN(g)) {
      expect([i, g]).toEqual([i, w]);
      continue;
    }
    const bound = tol * at(scale, i) + 1e-300;
    if (!(Math.abs(g - w) <= bound)) expect([i, g]).toEqual([i, w]);
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, count: number): number => {
  let s = 0;
  for (let i = 0; i < count; i++) s += at(a, i) * at(b, i);
  return s;
};

const absDot = (a: ArrayLike<number>, b: ArrayLike<number>, count: number): number => {
  let s = 0;
  for (let i = 0; i < count; i++) s += Math.abs(at(a, i) * at(b, i));
  return s;
};

const relu = (v: number): number => (v < 0 ? 0 : v);

const allocateFloat = (dtype: FloatDType, size: number): FloatArray => (dtype === "float64" ? new Float64Array(size) : new Float32Array(size));

/** A dim: mostly tiny (0 and 1 often), sometimes a few tiles, sometimes past a packed block. */
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 3, arbitrary: fc.integer({ min: 7, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 72 }) },
);

/**
 * The backends every matmul law runs on, with the dtypes each is checked in
 * (the WebAssembly kernel runs float32 products; float64 ones would only
 * test its fall-back).
 */
const matmulBackends: { readonly [B in MatmulBackend]: fc.Arbitrary<FloatDType> } = {
  javascript: dtypes,
  wasm: fc.constant<FloatDType>("float32"),
  auto: dtypes,
};
// the keys of `matmulBackends` are exactly the MatmulBackends
const matmulBackendNames = Object.keys(matmulBackends) as MatmulBackend[];

test("WebAssembly SIMD runs here, so the wasm laws below test the WebAssembly kernel", () => {
  expect(wasmMatmulAvailable()).toBe(true);
});

describe.each(matmulBackendNames)("matmul on the %s backend", (backend) => {
  const matmulCase = fc.record({
    dtype: matmulBackends[backend],
    batch: fc.integer({ min: 0, max: 3 }),
    m: fc.oneof({ weight: 6, arbitrary: size }, { weight: 1, arbitrary: fc.integer({ min: 250, max: 262 }) }),
    k: fc.oneof({ weight: 6, arbitrary: size }, { weight: 1, arbitrary: fc.integer({ min: 380, max: 400 }) }),
    n: size,
    transA: fc.boolean(),
    transB: fc.boolean(),
    repeat: fc.constantFrom("none", "a", "b"),
    bias: fc.boolean(),
    activation: fc.constantFrom("none", "relu"),
    seed: fc.integer(),
  });

  test("matmul equals the triple loop, for every layout, batch broadcast and epilogue", () => {
    fc.assert(
      fc.property(matmulCase, ({ dtype, batch, m, k, n, transA, transB, repeat, bias, activation, seed }) => {
        fc.pre(batch * m * n * k <= 400_000);
        const aBatchStride = repeat === "a" ? 0 : m * k;
        const bBatchStride = repeat === "b" ? 0 : k * n;
        const a = randomArray(dtype, repeat === "a" ? m * k : batch * m * k, seed);
        const b = randomArray(dtype, repeat === "b" ? k * n : batch * k * n, seed + 1);
        const biasValues = bias ? randomArray(dtype, n, seed + 2) : undefined;
        const out = allocateFloat(dtype, batch * m * n).fill(Number.NaN);
        matmul(out, a, b, { batch, m, k, n, aBatchStride, bBatchStride, transA, transB, bias: biasValues, activation, backend });
        // The triple loop, reading A[i, p] and B[p, j] through the layout by hand.
        const want = new Float64Array(batch * m * n);
        const scale = new Float64Array(batch * m * n);
        for (let t = 0; t < batch; t++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0;
              let abs = 0;
              for (let p = 0; p < k; p++) {
                const x = at(a, t * aBatchStride + (transA ? p * m + i : i * k + p));
                const y = at(b, t * bBatchStride + (transB ? j * k + p : p * n + j));
                s += x * y;
                abs += Math.abs(x * y);
              }
              const biased = biasValues === undefined ? s : s + at(biasValues, j);
              want[(t * m + i) * n + j] = activation === "relu" ? relu(biased) : biased;
              scale[(t * m + i) * n + j] = abs + (biasValues === undefined ? 0 : Math.abs(at(biasValues, j)));
            }
          }
        }
        expectClose(out, want, scale, tolerance(dtype));
      }),
      { numRuns },
    );
  });

  test("gemm reads and writes strided views in place, and accumulate adds to what C holds", () => {
    const gemmCase = fc.record({
      dtype: matmulBackends[backend],
      m: size,
      k: size,
      n: size,
      pads: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
      transC: fc.boolean(),
      accumulate: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(gemmCase, ({ dtype, m, k, n, pads, transC, accumulate, seed }) => {
        const [aOffset, aPad, bOffset, bPad, cOffset, cPad] = pads;
        // A and B row-major with padded rows; C row-major or (transC) column-major, padded too.
        const aView = { data: randomArray(dtype, aOffset + m * (k + aPad), seed), offset: aOffset, rowStride: k + aPad, colStride: 1 };
        const bView = { data: randomArray(dtype, bOffset + k * (n + bPad), seed + 1), offset: bOffset, rowStride: n + bPad, colStride: 1 };
        const cSize = cOffset + (transC ? n * (m + cPad) : m * (n + cPad));
        const c = randomArray(dtype, cSize, seed + 2);
        const before = c.slice();
        const cView = transC ? { data: c, offset: cOffset, rowStride: 1, colStride: m + cPad } : { data: c, offset: cOffset, rowStride: n + cPad, colStride: 1 };
        gemm(m, k, n, aView, bView, cView, { accumulate, backend });
        const want = Float64Array.from(before);
        const scale = new Float64Array(cSize);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            let abs = 0;
            for (let p = 0; p < k; p++) {
              const x = at(aView.data, aOffset + i * aView.rowStride + p);
              const y = at(bView.data, bOffset + p * bView.rowStride + j);
              s += x * y;
              abs += Math.abs(x * y);
            }
            const where = cOffset + i * cView.rowStride + j * cView.colStride;
            want[where] = accumulate ? at(before, where) + s : s;
            scale[where] = abs + (accumulate ? Math.abs(at(before, where)) : 0);
          }
        }
        // Elements outside the view are untouched (scale 0 demands equality).
        expectClose(c, want, scale, tolerance(dtype));
      }),
      { numRuns },
    );
  });
});

/** Random convolution options: small images, kernels 1 to 3, strides 1 to 3, dilations 1 to 2, groups 1 to 3. */
const padding1d: fc.Arbitrary<Padding> = fc.oneof(
  fc.constantFrom<Padding>("valid", "same"),
  fc.nat(2),
  fc.tuple(fc.nat(2), fc.nat(2)).map(([lo, hi]): Padding => [lo, hi]),
);
const padding2d: fc.Arbitrary<Padding2d> = fc.oneof(
  { weight: 3, arbitrary: padding1d },
  { weight: 1, arbitrary: fc.record({ height: padding1d, width: padding1d }) },
);

/** Image and channel sizes: mostly tiny (0 channels included), sometimes big enough for gemm's packed, blocked path. */
const convDims = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      batch: fc.integer({ min: 0, max: 2 }),
      inHeight: fc.integer({ min: 1, max: 7 }),
      inWidth: fc.integer({ min: 1, max: 7 }),
      groupIn: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }),
      groupOut: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      batch: fc.integer({ min: 1, max: 2 }),
      inHeight: fc.integer({ min: 6, max: 10 }),
      inWidth: fc.integer({ min: 6, max: 10 }),
      groupIn: fc.integer({ min: 3, max: 8 }),
      groupOut: fc.integer({ min: 3, max: 8 }),
    }),
  },
);

const convCase = fc
  .record({
    dtype: dtypes,
    dims: convDims,
    groups: fc.integer({ min: 1, max: 3 }),
    kernelHeight: fc.integer({ min: 1, max: 3 }),
    kernelWidth: fc.integer({ min: 1, max: 3 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.oneof(fc.constant<[number, number]>([1, 1]), fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }))),
    padding: padding2d,
    bias: fc.boolean(),
    activation: fc.constantFrom("none", "relu"),
    seed: fc.integer(),
  })
  .map((c) => ({
    ...c,
    params: {
      batch: c.dims.batch,
      inHeight: c.dims.inHeight,
      inWidth: c.dims.inWidth,
      inChannels: c.groups * c.dims.groupIn,
      kernelHeight: c.kernelHeight,
      kernelWidth: c.kernelWidth,
      outChannels: c.groups * c.dims.groupOut,
      stride: c.stride,
      dilation: c.dilation,
      padding: c.padding,
      groups: c.groups,
    } satisfies Conv2dParams,
  }));

/** The geometry, or undefined for options that no convolution accepts (the window does not fit). */
function geometryOrSkip(params: Conv2dParams): ConvGeometry | undefined {
  try {
    return conv2dGeometry(params);
  } catch (e) {
    if (e instanceof ShapeError) return undefined;
    throw e;
  }
}

/** Calls `visit(x index, w index, y index)` for every term of the convolution: the 7-deep loop, bounds checked. */
function forEachConvTerm(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O, groupInChannels: Cg, groupOutChannels: Og } = g;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let o = 0; o < O; o++) {
          const group = Math.floor(o / Og);
          for (let kh = 0; kh < g.kernelHeight; kh++) {
            for (let kw = 0; kw < g.kernelWidth; kw++) {
              for (let c = 0; c < Cg; c++) {
                const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
                const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xi = ((n * H + ih) * W + iw) * C + group * Cg + c;
                const wi = ((kh * g.kernelWidth + kw) * Cg + c) * O + o;
                const yi = ((n * g.outHeight + oh) * g.outWidth + ow) * O + o;
                visit(xi, wi, yi);
              }
            }
          }
        }
      }
    }
  }
}

const sizesOf = (g: ConvGeometry): { x: number; w: number; y: number } => ({
  x: g.batch * g.inHeight * g.inWidth * g.inChannels,
  w: g.kernelHeight * g.kernelWidth * g.groupInChannels * g.outChannels,
  y: g.batch * g.outHeight * g.outWidth * g.outChannels,
});

/** `act(sums + bias[channel])` over arrays whose innermost dim is `channels`. */
function withEpilogue(sums: Float64Array, channels: number, bias: FloatArray | undefined, activation: string): Float64Array {
  return sums.map((s, i) => {
    const v = bias === undefined ? s : s + at(bias, i % channels);
    return activation === "relu" ? relu(v) : v;
  });
}

function biasScale(scale: Float64Array, channels: number, bias: FloatArray | undefined): Float64Array {
  return bias === undefined ? scale : scale.map((s, i) => s + Math.abs(at(bias, i % channels)));
}

/**
 * Options that `conv2d` sums by Winograd's F(2 x 2, 3 x 3): 3 x 3 filters,
 * stride and dilation 1, 16 to 20 input channels per group; odd and even
 * output sizes (a tile past the edge), every padding scheme.
 */
const winogradCase = fc
  .record({
    dtype: dtypes,
    batch: fc.integer({ min: 1, max: 2 }),
    inHeight: fc.integer({ min: 1, max: 8 }),
    inWidth: fc.integer({ min: 1, max: 8 }),
    groups: fc.integer({ min: 1, max: 2 }),
    groupIn: fc.integer({ min: 16, max: 20 }),
    groupOut: fc.integer({ min: 1, max: 5 }),
    padding: padding2d,
    bias: fc.boolean(),
    activation: fc.constantFrom("none", "relu"),
    seed: fc.integer(),
  })
  .map((c) => ({
    ...c,
    params: {
      batch: c.batch,
      inHeight: c.inHeight,
      inWidth: c.inWidth,
      inChannels: c.groups * c.groupIn,
      kernelHeight: 3,
      kernelWidth: 3,
      outChannels: c.groups * c.groupOut,
      padding: c.padding,
      groups: c.groups,
    } satisfies Conv2dParams,
  }));

/**
 * The scale raised, where float32 Winograd runs, to at least that of
 * its rounding (`winogradScale` over the kernel's tiles): `x` is the input of the forward
 * convolution of geometry `g` and `w` its HWIO filter.
 */
function withWinogradScale(scale: Float64Array, dtype: FloatDType, g: ConvGeometry, x: FloatArray, w: FloatArray): Float64Array {
  if (dtype !== "float32" || !usesWinogradWasm(g)) return scale;
  const own = winogradScale(x, w, g, forwardTiles(g));
  return scale.map((s, i) => Math.max(s, at(own, i)));
}

/**
 * The input gradient's scale, raised where it runs as a float32 Winograd
 * convolution of `dy` with the filter turned by 180 degrees (`backward.ts`).
 */
function backpropWinogradScale(scale: Float64Array, dtype: FloatDType, g: ConvGeometry, dy: FloatArray, w: FloatArray): Float64Array {
  const { inChannels: C, outChannels: O } = g;
  const [top, left] = [2 - g.padTop, 2 - g.padLeft];
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1 && g.groups === 1;
  if (!unit || g.kernelHeight !== 3 || g.kernelWidth !== 3 || top < 0 || left < 0) return scale;
  const transposed: ConvGeometry = {
    ...g,
    inHeight: g.outHeight,
    inWidth: g.outWidth,
    inChannels: O,
    outChannels: C,
    groupInChannels: O,
    groupOutChannels: C,
    outHeight: g.inHeight,
    outWidth: g.inWidth,
    padTop: top,
    padLeft: left,
  };
  const turned = new Float64Array(9 * O * C);
  for (let t = 0; t < 9; t++) for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) turned[((8 - t) * O + o) * C + c] = at(w, (t * C + c) * O + o);
  return withWinogradScale(scale, dtype, transposed, dy, turned);
}

/** `conv2d` equals the 7-deep loop, with the epilogue applied after. */
function conv2dEqualsLoop({ dtype, params, bias, activation, seed }: { dtype: FloatDType; params: Conv2dParams; bias: boolean; activation: "none" | "relu"; seed: number }): void {
  const g = geometryOrSkip(params);
  fc.pre(g !== undefined);
  const size = sizesOf(g);
  const x = randomArray(dtype, size.x, seed);
  const w = randomArray(dtype, size.w, seed + 1);
  const b = bias ? randomArray(dtype, g.outChannels, seed + 2) : undefined;
  const out = allocateFloat(dtype, size.y).fill(Number.NaN);
  conv2d(out, x, w, { ...params, bias: b, activation });
  const sums = new Float64Array(size.y);
  const scale = new Float64Array(size.y);
  forEachConvTerm(g, (xi, wi, yi) => {
    sums[yi] = at(sums, yi) + at(x, xi) * at(w, wi);
    scale[yi] = at(scale, yi) + Math.abs(at(x, xi) * at(w, wi));
  });
  expectClose(out, withEpilogue(sums, g.outChannels, b, activation), biasScale(withWinogradScale(scale, dtype, g, x, w), g.outChannels, b), tolerance(dtype));
}

describe("conv2d", () => {
  test("conv2d equals the 7-deep loop with bounds checks, for every padding, stride, dilation and group count", () => {
    fc.assert(fc.property(convCase, conv2dEqualsLoop), { numRuns });
  });

  test("conv2d by Winograd's F(2 x 2, 3 x 3) equals the 7-deep loop, for odd sizes, every padding and groups", () => {
    fc.assert(fc.property(winogradCase, conv2dEqualsLoop), { numRuns });
  });

  test("conv2dBackpropInput equals its naive loop: each output sends dy * w back under its window", () => {
    fc.assert(
      fc.property(convCase, ({ dtype, params, bias, activation, seed }) => {
        const g = geometryOrSkip(params);
        fc.pre(g !== undefined);
        const size = sizesOf(g);
        const dy = randomArray(dtype, size.y, seed);
        const w = randomArray(dtype, size.w, seed + 1);
        const b = bias ? randomArray(dtype, g.inChannels, seed + 2) : undefined;
        const dx = allocateFloat(dtype, size.x).fill(Number.NaN);
        conv2dBackpropInput(dx, dy, w, { ...params, bias: b, activation });
        const sums = new Float64Array(size.x);
        const scale = new Float64Array(size.x);
        forEachConvTerm(g, (xi, wi, yi) => {
          sums[xi] = at(sums, xi) + at(dy, yi) * at(w, wi);
          scale[xi] = at(scale, xi) + Math.abs(at(dy, yi) * at(w, wi));
        });
        const ownScale = backpropWinogradScale(scale, dtype, g, dy, w);
        expectClose(dx, withEpilogue(sums, g.inChannels, b, activation), biasScale(ownScale, g.inChannels, b), tolerance(dtype));
      }),
      { numRuns },
    );
  });

  test("conv2dBackpropFilter equals its naive loop: each term adds x * dy to its filter entry", () => {
    fc.assert(
      fc.property(convCase, ({ dtype, params, seed }) => {
        const g = geometryOrSkip(params);
        fc.pre(g !== undefined);
        const size = sizesOf(g);
        const x = randomArray(dtype, size.x, seed);
        const dy = randomArray(dtype, size.y, seed + 1);
        const dw = allocateFloat(dtype, size.w).fill(Number.NaN);
        conv2dBackpropFilter(dw, x, dy, params);
        const sums = new Float64Array(size.w);
        const scale = new Float64Array(size.w);
        forEachConvTerm(g, (xi, wi, yi) => {
          sums[wi] = at(sums, wi) + at(x, xi) * at(dy, yi);
          scale[wi] = at(scale, wi) + Math.abs(at(x, xi) * at(dy, yi));
        });
        // where F(3 x 3, 4 x 4) runs (float32, no epilogue), at least its scale, in units of the float32 tolerance
        const own = dtype === "float32" && usesWinogradWasm(g) ? winogradFilterGradScale(x, dy, g) : scale;
        const units = dtype === "float32" ? Math.max(1, WINOGRAD_FILTER_GRAD_ERROR_BOUND / tolerance(dtype)) : 1;
        expectClose(dw, sums, scale.map((s, i) => Math.max(s, units * at(own, i))), tolerance(dtype));
      }),
      { numRuns },
    );
  });

  test("the three convolution kernels are adjoint: <conv(x, w), dy> = <x, backpropInput(dy, w)> = <w, backpropFilter(x, dy)> in float64", () => {
    fc.assert(
      fc.property(fc.oneof(convCase, winogradCase), ({ params, seed }) => {
        const g = geometryOrSkip(params);
        fc.pre(g !== undefined);
        const size = sizesOf(g);
        const x = randomArray("float64", size.x, seed);
        const w = randomArray("float64", size.w, seed + 1);
        const dy = randomArray("float64", size.y, seed + 2);
        const y = conv2d(new Float64Array(size.y), x, w, params);
        const dx = conv2dBackpropInput(new Float64Array(size.x), dy, w, params);
        const dw = conv2dBackpropFilter(new Float64Array(size.w), x, dy, params);
        // Every side is the same sum of x * w * dy terms; its absolute sum bounds the rounding.
        let scale = 0;
        forEachConvTerm(g, (xi, wi, yi) => {
          scale += Math.abs(at(x, xi) * at(w, wi) * at(dy, yi));
        });
        const forward = dot(y, dy, size.y);
        expect(Math.abs(forward - dot(x, dx, size.x))).toBeLessThanOrEqual(1e-12 * scale + 1e-300);
        expect(Math.abs(forward - dot(w, dw, size.w))).toBeLessThanOrEqual(1e-12 * scale + 1e-300);
      }),
      { numRuns },
    );
  });
});

/** Random pooling options: windows 1 to 3, strides 1 to 3, padding smaller than the window. */
const poolCase = fc
  .record({
    dtype: dtypes,
    batch: fc.integer({ min: 0, max: 2 }),
    inHeight: fc.integer({ min: 1, max: 7 }),
    inWidth: fc.integer({ min: 1, max: 7 }),
    // NOTE: up to 9, so that 4 and 8 (float32 max pooling in WebAssembly, four channels per lane group) come up.
    channels: fc.integer({ min: 0, max: 9 }),
    windowHeight: fc.integer({ min: 1, max: 3 }),
    windowWidth: fc.integer({ min: 1, max: 3 }),
    stride: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
    padding: fc.oneof(
      fc.constantFrom<Padding2d>("valid", "same"),
      fc.record({ height: fc.tuple(fc.nat(2), fc.nat(2)), width: fc.tuple(fc.nat(2), fc.nat(2)) }),
    ),
    values: fc.constantFrom("uniform", "ties", "nan"),
    seed: fc.integer(),
  })
  .map((c) => ({
    ...c,
    params: {
      batch: c.batch,
      inHeight: c.inHeight,
      inWidth: c.inWidth,
      channels: c.channels,
      windowHeight: c.windowHeight,
      windowWidth: c.windowWidth,
      stride: c.stride,
      padding: c.padding,
    } satisfies Pool2dParams,
  }));

/** Uniform values, small integers (many ties), or small integers with some NaN. */
function poolValues(dtype: FloatDType, values: string, size: number, seed: number): FloatArray {
  const x = randomArray(dtype, size, seed);
  if (values === "uniform") return x;
  return x.map((v) => (values === "nan" && v > 0.8 ? Number.NaN : Math.round(2 * v)));
}

interface PoolWindow {
  readonly outAt: number;
  /** The input indices under the window, row-major. */
  readonly inputs: number[];
}

/** The pooling windows by brute force: every output position, every window offset, bounds checked. */
function poolWindows(params: Pool2dParams): { windows: PoolWindow[]; inSize: number; outSize: number } | undefined {
  const { batch, inHeight: H, inWidth: W, channels: C, windowHeight: KH, windowWidth: KW } = params;
  const stride = params.stride ?? [KH, KW];
  const [sh, sw] = typeof stride === "number" ? [stride, stride] : stride;
  const pad = (p: Padding2d | undefined, axis: "height" | "width"): Padding => {
    const q = p ?? "valid";
    return typeof q === "object" && "height" in q ? q[axis] : q;
  };
  // Padding by the formulas of TensorFlow's documentation, written out again here.
  const side = (p: Padding, size: number, k: number, s: number): [number, number] | undefined => {
    if (p === "valid") return [0, 0];
    if (p === "same") {
      const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }
    return typeof p === "number" ? [p, p] : [p[0], p[1]];
  };
  const ph = side(pad(params.padding, "height"), H, KH, sh);
  const pw = side(pad(params.padding, "width"), W, KW, sw);
  if (ph === undefined || pw === undefined) return undefined;
  if (Math.max(...ph) >= KH || Math.max(...pw) >= KW || H + ph[0] + ph[1] < KH || W + pw[0] + pw[1] < KW) return undefined;
  const OH = Math.floor((H + ph[0] + ph[1] - KH) / sh) + 1;
  const OW = Math.floor((W + pw[0] + pw[1] - KW) / sw) + 1;
  const windows: PoolWindow[] = [];
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          const inputs: number[] = [];
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * sh - ph[0] + kh;
              const iw = ow * sw - pw[0] + kw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) inputs.push(((n * H + ih) * W + iw) * C + c);
            }
          }
          windows.push({ outAt: ((n * OH + oh) * OW + ow) * C + c, inputs });
        }
      }
    }
  }
  return { windows, inSize: batch * H * W * C, outSize: batch * OH * OW * C };
}

/** The first maximum of a window (the first NaN, if any). */
function firstMax(x: ArrayLike<number>, inputs: readonly number[]): number {
  const nan = inputs.find((i) => Number.isNaN(at(x, i)));
  if (nan !== undefined) return nan;
  let best = inputs[0] ?? -1;
  for (const i of inputs) if (at(x, i) > at(x, best)) best = i;
  return best;
}

describe("pooling", () => {
  test("max and average pooling equal window-by-window loops, and so do their gradients", () => {
    fc.assert(
      fc.property(poolCase, ({ dtype, params, values, seed }) => {
        const brute = poolWindows(params);
        fc.pre(brute !== undefined);
        const { windows, inSize, outSize } = brute;
        const x = poolValues(dtype, values, inSize, seed);
        const dy = randomArray(dtype, outSize, seed + 1);
        const max = maxPool2d(allocateFloat(dtype, outSize).fill(-7), x, params);
        const avg = avgPool2d(allocateFloat(dtype, outSize).fill(-7), x, params);
        const dxMax = maxPool2dBackward(allocateFloat(dtype, inSize).fill(-7), x, dy, params);
        const dxAvg = avgPool2dBackward(allocateFloat(dtype, inSize).fill(-7), dy, params);
        const wantMax = new Float64Array(outSize);
        const wantAvg = new Float64Array(outSize);
        const avgScale = new Float64Array(outSize);
        const wantDxMax = new Float64Array(inSize);
        const wantDxAvg = new Float64Array(inSize);
        const dxScale = new Float64Array(inSize);
        for (const { outAt, inputs } of windows) {
          const argmax = firstMax(x, inputs);
          wantMax[outAt] = at(x, argmax);
          wantDxMax[argmax] = at(wantDxMax, argmax) + at(dy, outAt);
          wantAvg[outAt] = inputs.reduce((s, i) => s + at(x, i), 0) / inputs.length;
          avgScale[outAt] = inputs.reduce((s, i) => s + Math.abs(at(x, i)), 0) / inputs.length;
          for (const i of inputs) {
            wantDxAvg[i] = at(wantDxAvg, i) + at(dy, outAt) / inputs.length;
            dxScale[i] = at(dxScale, i) + Math.abs(at(dy, outAt));
          }
        }
        expectClose(max, wantMax, new Float64Array(outSize), 0);
        expectClose(avg, wantAvg, avgScale, tolerance(dtype));
        expectClose(dxMax, wantDxMax, dxScale, tolerance(dtype));
        expectClose(dxAvg, wantDxAvg, dxScale, tolerance(dtype));
      }),
      { numRuns },
    );
  });

  test("average pooling is adjoint to its gradient: <avgPool(x), dy> = <x, avgPoolBackward(dy)>", () => {
    fc.assert(
      fc.property(poolCase, ({ params, seed }) => {
        const brute = poolWindows(params);
        fc.pre(brute !== undefined);
        const x = randomArray("float64", brute.inSize, seed);
        const dy = randomArray("float64", brute.outSize, seed + 1);
        const y = avgPool2d(new Float64Array(brute.outSize), x, params);
        const dx = avgPool2dBackward(new Float64Array(brute.inSize), dy, params);
        const scale = absDot(y, dy, brute.outSize) + absDot(x, dx, brute.inSize);
        expect(Math.abs(dot(y, dy, brute.outSize) - dot(x, dx, brute.inSize))).toBeLessThanOrEqual(1e-12 * scale + 1e-300);
      }),
      { numRuns },
    );
  });
});

type ReduceStorage = "float32" | "float64" | "int32";

const reduceCase = fc
  .record({
    shape: fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 9) }), {
      maxLength: 4,
    }),
    storage: fc.constantFrom<ReduceStorage>("float64", "float32", "int32"),
    values: fc.constantFrom("uniform", "ties", "nan"),
    op: fc.constantFrom<ReduceOp | ArgReduceOp>("sum", "prod", "max", "min", "argmax", "argmin"),
    seed: fc.integer(),
  })
  .chain((c) =>
    fc
      .record({
        chosen: fc.array(fc.boolean(), { minLength: c.shape.length, maxLength: c.shape.length }),
        negative: fc.boolean(),
        all: fc.boolean(),
      })
      .map(({ chosen, negative, all }) => {
        const axes = c.shape.flatMap((_, i) => (chosen[i] === true ? [negative ? i - c.shape.length : i] : []));
        return { ...c, axes: all ? undefined : axes };
      }),
  );

function reduceInput(storage: ReduceStorage, values: string, size: number, seed: number): NumericArray {
  const next = generator(seed);
  const draw = (): number => {
    const u = 2 * next() - 1;
    if (values === "uniform") return storage === "int32" ? Math.round(1000 * u) : u;
    return values === "nan" && storage !== "int32" && u > 0.8 ? Number.NaN : Math.round(2 * u);
  };
  const x = storage === "float64" ? new Float64Array(size) : storage === "float32" ? new Float32Array(size) : new Int32Array(size);
  for (let i = 0; i < size; i++) x[i] = draw();
  return x;
}

describe("reductions", () => {
  test("every reduction equals one row-major pass that sends each element to its output", () => {
    fc.assert(
      fc.property(reduceCase, ({ shape, storage, values, op, axes, seed }) => {
        const rank = shape.length;
        const reduced = axes === undefined ? shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + rank : a));
        const size = shape.reduce((a, b) => a * b, 1);
        const keptDims = shape.filter((_, i) => !reduced.includes(i));
        const reducedDims = shape.filter((_, i) => reduced.includes(i));
        const kept = keptDims.reduce((a, b) => a * b, 1);
        const count = reducedDims.reduce((a, b) => a * b, 1);
        const x = reduceInput(storage, values, size, seed);
        // One pass in row-major order: split each flat index into its kept and reduced parts.
        const results: { value: number; index: number; seen: number }[] = Array.from({ length: kept }, () => ({
          value: op === "sum" ? -0 : op === "prod" ? 1 : Number.NaN, // -0: the identity of addition, as in NumPy
          index: -1,
          seen: 0,
        }));
        for (let flat = 0; flat < size; flat++) {
          let rest = flat;
          const index = new Array<number>(rank).fill(0);
          for (let d = rank - 1; d >= 0; d--) {
            const dim = shape[d] ?? 1;
            index[d] = rest % dim;
            rest = Math.floor(rest / dim);
          }
          let k = 0;
          let r = 0;
          index.forEach((i, d) => {
            if (reduced.includes(d)) r = r * (shape[d] ?? 1) + i;
            else k = k * (shape[d] ?? 1) + i;
          });
          const slot = results[k];
          if (slot === undefined) continue;
          const v = at(x, flat);
          const first = slot.seen++ === 0;
          if (op === "sum") slot.value += v;
          else if (op === "prod") slot.value *= v;
          else if (first || (Number.isNaN(v) && !Number.isNaN(slot.value))) [slot.value, slot.index] = [v, r];
          else if (Number.isNaN(slot.value)) continue;
          else if (op === "max" || op === "argmax" ? v > slot.value : v < slot.value) [slot.value, slot.index] = [v, r];
        }
        if (op === "argmax" || op === "argmin") {
          const out = new Int32Array(kept).fill(-7);
          if (count === 0 && kept > 0) {
            expect(() => argReduce(op, out, x, shape, axes)).toThrow(ShapeError);
            return;
          }
          argReduce(op, out, x, shape, axes);
          expect(Array.from(out)).toEqual(results.map((s) => s.index));
          return;
        }
        const out = storage === "float64" ? new Float64Array(kept) : storage === "float32" ? new Float32Array(kept) : new Int32Array(kept);
        out.fill(-7);
        reduce(op, out, x, shape, axes);
        const empties = { sum: 0, prod: 1, max: storage === "int32" ? -(2 ** 31) : -Infinity, min: storage === "int32" ? 2 ** 31 - 1 : Infinity };
        const want = out.slice().fill(0);
        results.forEach((s, k) => {
          want[k] = count === 0 ? empties[op] : s.value;
        });
        // Stored the same way (rounded or wrapped) as the kernel stores its float64 result.
        expect(Array.from(out)).toEqual(Array.from(want));
      }),
      { numRuns: numRuns * 2 },
    );
  });
});
