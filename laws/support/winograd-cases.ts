/**
 * The cases of the laws of Winograd's convolution in WebAssembly
 * (`conv-winograd.law.test.ts`; `bench/conv-winograd-error.ts` measures the
 * error over the same draws): small 3 x 3 convolutions of every padding,
 * channel counts that are not multiples of 4 or 8, edge values mixed in
 * (`values`) or not, and the float64 direct sum they are held against.
 */

import fc from "fast-check";
import { conv2dGeometry, type Conv2dParams, type ConvGeometry } from "../../src/backend/kernels/conv/index.js";
import { forwardTiles } from "../../src/backend/kernels/conv/winograd-wasm.js";
import { padding } from "./conv-values.js";
import { winogradScale } from "./winograd-scale.js";

/** One convolution to draw: its sizes, padding, epilogue, how often an edge value comes (0: never) and the values' seed. */
export const winogradCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  inHeight: fc.integer({ min: 1, max: 13 }),
  inWidth: fc.integer({ min: 1, max: 13 }),
  inChannels: fc.integer({ min: 1, max: 40 }),
  outChannels: fc.integer({ min: 1, max: 20 }),
  padding,
  bias: fc.boolean(),
  relu: fc.boolean(),
  edgeEvery: fc.constantFrom(0, 3, 20),
  seed: fc.integer(),
});

export type WinogradCase = typeof winogradCase extends fc.Arbitrary<infer T> ? T : never;

/** The geometry, or undefined where the window does not fit (no output). */
export function geometryOf(c: WinogradCase): { params: Conv2dParams; g: ConvGeometry } | undefined {
  const params: Conv2dParams = { batch: c.batch, inHeight: c.inHeight, inWidth: c.inWidth, inChannels: c.inChannels, kernelHeight: 3, kernelWidth: 3, outChannels: c.outChannels, padding: c.padding };
  try {
    const g = conv2dGeometry(params);
    return g.outHeight > 0 && g.outWidth > 0 ? { params, g } : undefined;
  } catch {
    return undefined;
  }
}

/** The float64 direct sum of each output (a tap over the padding adds `0 * w`). */
export function direct(x: Float32Array, w: Float32Array, g: ConvGeometry): Float64Array {
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O } = g;
  const size = g.batch * g.outHeight * g.outWidth * O;
  const sums = new Float64Array(size);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let o = 0; o < O; o++) {
          const yi = ((n * g.outHeight + oh) * g.outWidth + ow) * O + o;
          for (let kh = 0; kh < 3; kh++) {
            for (let kw = 0; kw < 3; kw++) {
              const ih = oh - g.padTop + kh;
              const iw = ow - g.padLeft + kw;
              const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              for (let c = 0; c < C; c++) {
                const value = inside ? (x[((n * H + ih) * W + iw) * C + c] ?? NaN) : 0;
                sums[yi] = (sums[yi] ?? 0) + value * (w[((kh * 3 + kw) * C + c) * O + o] ?? NaN);
              }
            }
          }
        }
      }
    }
  }
  return sums;
}

/**
 * Per output pixel of an image (`[OH][OW]`): whether its tile is F(6, 3)
 * along either axis, where WINOGRAD_F6_ERROR_BOUND holds rather than
 * WINOGRAD_ERROR_BOUND; `tiles` as `forwardTiles` gives them.
 */
export function onSixTiles(g: Pick<ConvGeometry, "outHeight" | "outWidth">, tiles: { rows: readonly number[]; cols: readonly number[] }): boolean[] {
  const sides = (axis: readonly number[], size: number): number[] => axis.flatMap((side) => Array.from({ length: side }, () => side)).slice(0, size);
  const [rows, cols] = [sides(tiles.rows, g.outHeight), sides(tiles.cols, g.outWidth)];
  return Array.from({ length: g.outHeight * g.outWidth }, (_, p) => rows[Math.floor(p / g.outWidth)] === 6 || cols[p % g.outWidth] === 6);
}

/** One output of the forward against the float64 direct sum: what it gave, what the sum is (with the bias and relu), its scale (plus `|bias|`) and whether its tile is F(6, 3). */
export interface ForwardOutput {
  readonly got: number;
  readonly want: number;
  readonly scale: number;
  readonly onSix: boolean;
}

/** Each output of the forward's result `out` for `x`, `w` and the epilogue, as `ForwardOutput`. */
export function forwardOutputs(out: Float32Array, x: Float32Array, w: Float32Array, g: ConvGeometry, bias: Float32Array | undefined, relu: boolean): ForwardOutput[] {
  const sums = direct(x, w, g);
  const tiles = forwardTiles(g);
  const scale = winogradScale(x, w, g, tiles);
  const six = onSixTiles(g, tiles);
  return Array.from(out, (got, i) => {
    const b = bias?.[i % g.outChannels] ?? 0;
    const sum = (sums[i] ?? 0) + b;
    const onSix = six[Math.floor(i / g.outChannels) % (g.outHeight * g.outWidth)] === true;
    return { got, want: relu && sum < 0 ? 0 : sum, scale: (scale[i] ?? 0) + Math.abs(b), onSix };
  });
}
