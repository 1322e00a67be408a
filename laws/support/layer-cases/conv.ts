/**
 * The layer cases of the conv group (see `types.ts`): `conv1d`, `conv2d`,
 * `convTranspose2d`, `maxPool2d`, `avgPool2d` and `globalAvgPool`.
 *
 * The references are loops over the definitions, on row-major arrays, sharing
 * nothing with the library: a convolution sums `x[i·s + k·d - pad] · w[k]`
 * over the window, a transposed convolution scatters `x[i] · w[k]` to
 * `i·s + k·d - pad`, pools take the maximum or mean of the window's elements
 * inside the input. `"same"` padding is computed here from TensorFlow's rule
 * (pad `max((ceil(n / s) - 1)·s + dilated kernel - n, 0)`, the extra element
 * after). Channels-first inputs are read and written through index maps.
 * Sizes are small (1–5 per dim, batch 1 or 2); max pooling's inputs are
 * distinct values 0.05 apart, so that each window has one maximum and the
 * derivative exists.
 */

import fc from "fast-check";
import * as layers from "../../../src/layers/index.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import { float64, leaf, numbers, seeded, seeds, untyped, uniformValues } from "./basic.js";
import type { LayerCase, LayerCases, NaiveOutput } from "./types.js";

// ---------------------------------------------------------------------------
// Layouts and padding, from their definitions
// ---------------------------------------------------------------------------

/** An image's sizes: batch, height, width, channels. */
interface Image {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

/** The flat index of `[b, i, j, ch]` in an image stored channels-last or channels-first. */
function at(img: Image, channelsFirst: boolean, b: number, i: number, j: number, ch: number): number {
  return channelsFirst ? ((b * img.c + ch) * img.h + i) * img.w + j : ((b * img.h + i) * img.w + j) * img.c + ch;
}

/** The shape of an image in its layout. */
const shapeOf = (img: Image, channelsFirst: boolean): number[] => (channelsFirst ? [img.n, img.c, img.h, img.w] : [img.n, img.h, img.w, img.c]);

/** TensorFlow's "same" padding of an axis of size `size`: `[lo, hi]` with the extra element after. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const dilated = dilation * (kernel - 1) + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + dilated - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

type Padding2d = "valid" | "same" | number | readonly [readonly [number, number], readonly [number, number]];

/** The `[lo, hi]` padding of axis `axis` (0: height, 1: width). */
function padsOf(padding: Padding2d, axis: 0 | 1, size: number, kernel: number, stride: number, dilation: number): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding === "same") return samePads(size, kernel, stride, dilation);
  if (typeof padding === "number") return [padding, padding];
  return [padding[axis][0], padding[axis][1]];
}

/** One window configuration of a 2-D layer. */
interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: Padding2d;
}

// ---------------------------------------------------------------------------
// Convolution: y[b, i, j, o] = bias[o] + sum over (di, dj, ci) of x[b, i·s + di·d - top, j·s + dj·d - left, g·cg + ci] · w[di, dj, ci, o]
// ---------------------------------------------------------------------------

function naiveConv(
  xs: readonly number[],
  img: Image,
  channelsFirst: boolean,
  w: readonly number[],
  outChannels: number,
  groups: number,
  win: Window2d,
  bias: readonly number[] | undefined,
): NaiveOutput {
  const [kh, kw] = win.kernel;
  const [top, bottom] = padsOf(win.padding, 0, img.h, kh, win.stride[0], win.dilation[0]);
  const [left, right] = padsOf(win.padding, 1, img.w, kw, win.stride[1], win.dilation[1]);
  const oh = Math.floor((img.h + top + bottom - (win.dilation[0] * (kh - 1) + 1)) / win.stride[0]) + 1;
  const ow = Math.floor((img.w + left + right - (win.dilation[1] * (kw - 1) + 1)) / win.stride[1]) + 1;
  const out: Image = { n: img.n, h: oh, w: ow, c: outChannels };
  const cg = img.c / groups;
  const og = outChannels / groups;
  const data = new Array<number>(img.n * oh * ow * outChannels).fill(0);
  for (let b = 0; b < img.n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let o = 0; o < outChannels; o++) {
          const g = Math.floor(o / og);
          let s = bias === undefined ? 0 : (bias[o] ?? NaN);
          for (let di = 0; di < kh; di++) {
            const r = i * win.stride[0] + di * win.dilation[0] - top;
            if (r < 0 || r >= img.h) continue;
            for (let dj = 0; dj < kw; dj++) {
              const col = j * win.stride[1] + dj * win.dilation[1] - left;
              if (col < 0 || col >= img.w) continue;
              for (let ci = 0; ci < cg; ci++) {
                s += (xs[at(img, channelsFirst, b, r, col, g * cg + ci)] ?? NaN) * (w[((di * kw + dj) * cg + ci) * outChannels + o] ?? NaN);
              }
            }
          }
          data[at(out, channelsFirst, b, i, j, o)] = s;
        }
      }
    }
  }
  return { shape: shapeOf(out, channelsFirst), data };
}

const pick = <T>(...xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const pair = (lo: number, hi: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi }));

const padding2d: fc.Arbitrary<Padding2d> = fc.oneof(
  pick<Padding2d>("valid", "same"),
  fc.integer({ min: 0, max: 1 }),
  fc.tuple(pair(0, 2), pair(0, 2)),
);

/** A 2-D window and an image it fits (the padded size is at least the dilated kernel). */
const window2d = fc
  .record({ kernel: pair(1, 3), stride: pair(1, 2), dilation: pair(1, 2), padding: padding2d, extra: pair(0, 2), n: fc.integer({ min: 1, max: 2 }) })
  .map(({ kernel, stride, dilation, padding, extra, n }) => {
    const dilated = (axis: 0 | 1): number => dilation[axis] * (kernel[axis] - 1) + 1;
    // big enough without padding, so every padding works; at most 5 + 2 = 7 wide
    const [h, w] = [Math.max(1, dilated(0)) + extra[0], Math.max(1, dilated(1)) + extra[1]];
    return { win: { kernel, stride, dilation, padding } satisfies Window2d, n, h, w };
  });

const describeWindow = (win: Window2d): string =>
  `kernel ${win.kernel.join("x")}, stride ${win.stride.join("x")}, dilation ${win.dilation.join("x")}, padding ${JSON.stringify(win.padding)}`;

const conv2dCase: fc.Arbitrary<LayerCase> = fc
  .record({ shape: window2d, groups: pick(1, 2), cin: fc.integer({ min: 1, max: 2 }), cout: fc.integer({ min: 1, max: 2 }), nchw: fc.boolean(), bias: fc.boolean(), seed: seeds })
  .map(({ shape: { win, n, h, w }, groups, cin, cout, nchw, bias, seed }) => {
    const [c, o] = [cin * groups, cout * groups];
    const img: Image = { n, h, w, c };
    const layer = untyped(
      layers.conv2d(c, o, win.kernel, { stride: win.stride, dilation: win.dilation, padding: win.padding, groups, useBias: bias, dataFormat: nchw ? "NCHW" : "NHWC" }),
    );
    const filter = seeded([win.kernel[0], win.kernel[1], c / groups, o], seed + 1);
    const params = bias ? { w: filter, b: seeded([o], seed + 2) } : { w: filter };
    return {
      detail: `conv2d(${c}, ${o}, ${describeWindow(win)}, groups ${groups}, ${nchw ? "NCHW" : "NHWC"}, bias ${bias})`,
      params,
      x: seeded(shapeOf(img, nchw), seed),
      apply: (p, x) => layer.apply(p, x),
      naive: (p, x) => naiveConv(numbers(x), img, nchw, leaf(p, "w"), o, groups, win, bias ? leaf(p, "b") : undefined),
      init: (k) => layer.init(k),
    };
  });

// ---------------------------------------------------------------------------
// conv1d: y[b, i, o] = bias[o] + sum over (dk, ci) of x[b, i·s + dk·d - left, g·cg + ci] · w[dk, ci, o]
// ---------------------------------------------------------------------------

type Padding1d = "valid" | "same" | number | readonly [number, number];

function naiveConv1d(
  xs: readonly number[],
  n: number,
  width: number,
  c: number,
  channelsFirst: boolean,
  w: readonly number[],
  o: number,
  groups: number,
  k: number,
  stride: number,
  dilation: number,
  padding: Padding1d,
  bias: readonly number[] | undefined,
): NaiveOutput {
  const [left, right] = padding === "valid" ? [0, 0] : padding === "same" ? samePads(width, k, stride, dilation) : typeof padding === "number" ? [padding, padding] : padding;
  const ow = Math.floor((width + left + right - (dilation * (k - 1) + 1)) / stride) + 1;
  const [cg, og] = [c / groups, o / groups];
  const index = (b: number, i: number, ch: number, size: number, channels: number): number => (channelsFirst ? (b * channels + ch) * size + i : (b * size + i) * channels + ch);
  const data = new Array<number>(n * ow * o).fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ow; i++) {
      for (let oc = 0; oc < o; oc++) {
        const g = Math.floor(oc / og);
        let s = bias === undefined ? 0 : (bias[oc] ?? NaN);
        for (let dk = 0; dk < k; dk++) {
          const pos = i * stride + dk * dilation - left;
          if (pos < 0 || pos >= width) continue;
          for (let ci = 0; ci < cg; ci++) s += (xs[index(b, pos, g * cg + ci, width, c)] ?? NaN) * (w[(dk * cg + ci) * o + oc] ?? NaN);
        }
        data[index(b, i, oc, ow, o)] = s;
      }
    }
  }
  return { shape: channelsFirst ? [n, o, ow] : [n, ow, o], data };
}

const padding1d: fc.Arbitrary<Padding1d> = fc.oneof(pick<Padding1d>("valid", "same"), fc.integer({ min: 0, max: 2 }), pair(0, 2));

const conv1dCase: fc.Arbitrary<LayerCase> = fc
  .record({
    k: fc.integer({ min: 1, max: 3 }),
    stride: pick(1, 2),
    dilation: pick(1, 2),
    padding: padding1d,
    extra: fc.integer({ min: 0, max: 2 }),
    n: fc.integer({ min: 1, max: 2 }),
    groups: pick(1, 2),
    cin: fc.integer({ min: 1, max: 2 }),
    cout: fc.integer({ min: 1, max: 2 }),
    ncw: fc.boolean(),
    bias: fc.boolean(),
    seed: seeds,
  })
  .map(({ k, stride, dilation, padding, extra, n, groups, cin, cout, ncw, bias, seed }) => {
    const [c, o, width] = [cin * groups, cout * groups, dilation * (k - 1) + 1 + extra];
    const layer = untyped(layers.conv1d(c, o, k, { stride, dilation, padding, groups, useBias: bias, dataFormat: ncw ? "NCW" : "NWC" }));
    const filter = seeded([k, c / groups, o], seed + 1);
    return {
      detail: `conv1d(${c}, ${o}, ${k}, stride ${stride}, dilation ${dilation}, padding ${JSON.stringify(padding)}, groups ${groups}, ${ncw ? "NCW" : "NWC"}, bias ${bias})`,
      params: bias ? { w: filter, b: seeded([o], seed + 2) } : { w: filter },
      x: seeded(ncw ? [n, c, width] : [n, width, c], seed),
      apply: (p, x) => layer.apply(p, x),
      naive: (p, x) => naiveConv1d(numbers(x), n, width, c, ncw, leaf(p, "w"), o, groups, k, stride, dilation, padding, bias ? leaf(p, "b") : undefined),
      init: (key) => layer.init(key),
    };
  });

// ---------------------------------------------------------------------------
// convTranspose2d: y[b, i·s + di·d - top, j·s + dj·d - left, o] += x[b, i, j, c] · w[di, dj, o, c], then the bias
// ---------------------------------------------------------------------------

function naiveConvTranspose(
  xs: readonly number[],
  img: Image,
  channelsFirst: boolean,
  w: readonly number[],
  outChannels: number,
  win: Window2d,
  outputPadding: readonly [number, number],
  bias: readonly number[] | undefined,
): NaiveOutput {
  const [kh, kw] = win.kernel;
  const axis = (a: 0 | 1, size: number, k: number): { pads: [number, number]; out: number } => {
    const [s, d] = [win.stride[a], win.dilation[a]];
    if (win.padding === "same") return { pads: samePads(size * s, k, s, d), out: size * s };
    const pads = padsOf(win.padding, a, size, k, s, d);
    return { pads, out: (size - 1) * s - pads[0] - pads[1] + d * (k - 1) + 1 + outputPadding[a] };
  };
  const rows = axis(0, img.h, kh);
  const cols = axis(1, img.w, kw);
  const out: Image = { n: img.n, h: rows.out, w: cols.out, c: outChannels };
  const data = new Array<number>(out.n * out.h * out.w * out.c).fill(0);
  for (let b = 0; b < img.n; b++) {
    for (let i = 0; i < out.h; i++) for (let j = 0; j < out.w; j++) for (let o = 0; o < outChannels; o++) data[at(out, channelsFirst, b, i, j, o)] = bias?.[o] ?? 0;
    for (let i = 0; i < img.h; i++) {
      for (let j = 0; j < img.w; j++) {
        for (let ch = 0; ch < img.c; ch++) {
          const v = xs[at(img, channelsFirst, b, i, j, ch)] ?? NaN;
          for (let di = 0; di < kh; di++) {
            const r = i * win.stride[0] + di * win.dilation[0] - rows.pads[0];
            if (r < 0 || r >= out.h) continue;
            for (let dj = 0; dj < kw; dj++) {
              const col = j * win.stride[1] + dj * win.dilation[1] - cols.pads[0];
              if (col < 0 || col >= out.w) continue;
              for (let o = 0; o < outChannels; o++) {
                const to = at(out, channelsFirst, b, r, col, o);
                data[to] = (data[to] ?? NaN) + v * (w[((di * kw + dj) * outChannels + o) * img.c + ch] ?? NaN);
              }
            }
          }
        }
      }
    }
  }
  return { shape: shapeOf(out, channelsFirst), data };
}

const convTranspose2dCase: fc.Arbitrary<LayerCase> = fc
  .record({
    kernel: pair(1, 3),
    stride: pair(1, 2),
    dilation: pair(1, 2),
    padding: padding2d,
    size: pair(1, 3),
    extra: pair(0, 1),
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 3 }),
    nchw: fc.boolean(),
    bias: fc.boolean(),
    seed: seeds,
  })
  .map(({ kernel, stride, dilation, padding: wanted, size, extra, n, c, o, nchw, bias, seed }) => {
    // output padding is below the stride, and not with "same"
    const outputPadding: [number, number] = wanted === "same" ? [0, 0] : [extra[0] % stride[0], extra[1] % stride[1]];
    const img: Image = { n, h: size[0], w: size[1], c };
    const outSize = (a: 0 | 1, size: number): number => {
      const pads = padsOf(wanted, a, size, kernel[a], stride[a], dilation[a]);
      return (size - 1) * stride[a] - pads[0] - pads[1] + dilation[a] * (kernel[a] - 1) + 1 + outputPadding[a];
    };
    // padding that would leave no output falls back to "valid"
    const padding = wanted !== "same" && (outSize(0, img.h) < 1 || outSize(1, img.w) < 1) ? "valid" : wanted;
    const win: Window2d = { kernel, stride, dilation, padding };
    const layer = untyped(
      layers.convTranspose2d(c, o, kernel, { stride, dilation, padding, outputPadding, useBias: bias, dataFormat: nchw ? "NCHW" : "NHWC" }),
    );
    const filter = seeded([kernel[0], kernel[1], o, c], seed + 1);
    return {
      detail: `convTranspose2d(${c}, ${o}, ${describeWindow(win)}, outputPadding ${outputPadding.join("x")}, ${nchw ? "NCHW" : "NHWC"}, bias ${bias})`,
      params: bias ? { w: filter, b: seeded([o], seed + 2) } : { w: filter },
      x: seeded(shapeOf(img, nchw), seed),
      apply: (p, x) => layer.apply(p, x),
      naive: (p, x) => naiveConvTranspose(numbers(x), img, nchw, leaf(p, "w"), o, win, outputPadding, bias ? leaf(p, "b") : undefined),
      init: (k) => layer.init(k),
    };
  });

// ---------------------------------------------------------------------------
// Pools: the maximum or the mean of the window's elements inside the input
// ---------------------------------------------------------------------------

/** An output image of `[oh, ow]` whose element at batch `b`, row `i`, column `j` and channel `ch` is `valueAt(b, i, j, ch)`. */
function naiveImage(img: Image, channelsFirst: boolean, [oh, ow]: readonly [number, number], valueAt: (b: number, i: number, j: number, ch: number) => number): NaiveOutput {
  const out: Image = { n: img.n, h: oh, w: ow, c: img.c };
  const data = new Array<number>(img.n * oh * ow * img.c).fill(0);
  for (let b = 0; b < img.n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let ch = 0; ch < img.c; ch++) data[at(out, channelsFirst, b, i, j, ch)] = valueAt(b, i, j, ch);
      }
    }
  }
  return { shape: shapeOf(out, channelsFirst), data };
}

function naivePool(kind: "max" | "avg", xs: readonly number[], img: Image, channelsFirst: boolean, win: Window2d, countIncludePad = false): NaiveOutput {
  const [wh, ww] = win.kernel;
  const [top, bottom] = padsOf(win.padding, 0, img.h, wh, win.stride[0], 1);
  const [left, right] = padsOf(win.padding, 1, img.w, ww, win.stride[1], 1);
  const oh = Math.floor((img.h + top + bottom - wh) / win.stride[0]) + 1;
  const ow = Math.floor((img.w + left + right - ww) / win.stride[1]) + 1;
  return naiveImage(img, channelsFirst, [oh, ow], (b, i, j, ch) => {
    const inside: number[] = [];
    for (let di = 0; di < wh; di++) {
      for (let dj = 0; dj < ww; dj++) {
        const [r, col] = [i * win.stride[0] + di - top, j * win.stride[1] + dj - left];
        if (r >= 0 && r < img.h && col >= 0 && col < img.w) inside.push(xs[at(img, channelsFirst, b, r, col, ch)] ?? NaN);
      }
    }
    // with countIncludePad the padding's zeros count: the whole window divides
    return kind === "max" ? Math.max(...inside) : inside.reduce((s, v) => s + v, 0) / (countIncludePad ? wh * ww : inside.length);
  });
}

/** Distinct values 0.05 apart in a seeded order: no window has two maxima. */
function distinct(shape: readonly number[], seed: number): AnyTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const keys = uniformValues(seed, count);
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
  const values = new Array<number>(count);
  order.forEach((i, rank) => (values[i] = rank * 0.05 - 1));
  return float64(shape, values);
}

function poolCase(kind: "max" | "avg"): fc.Arbitrary<LayerCase> {
  return fc
    .record({
      window: pair(1, 3),
      stride: fc.option(pair(1, 2), { nil: undefined }),
      padding: pick<Padding2d>("valid", "same"),
      countIncludePad: fc.boolean(),
      extra: pair(0, 2),
      n: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 3 }),
      nchw: fc.boolean(),
      seed: seeds,
    })
    .map(({ window, stride, padding, countIncludePad: counting, extra, n, c, nchw, seed }) => {
      const countIncludePad = kind === "avg" && counting;
      const img: Image = { n, h: window[0] + extra[0], w: window[1] + extra[1], c };
      const win: Window2d = { kernel: window, stride: stride ?? window, dilation: [1, 1], padding };
      const dataFormat: "NCHW" | "NHWC" = nchw ? "NCHW" : "NHWC";
      // the stride left out when undefined, so that the default (the window) is tested
      const options = stride === undefined ? { padding, dataFormat } : { stride, padding, dataFormat };
      const layer = untyped(kind === "max" ? layers.maxPool2d(window, options) : layers.avgPool2d(window, { ...options, countIncludePad }));
      const shape = shapeOf(img, nchw);
      return {
        detail: `${kind}Pool2d(${window.join("x")}, stride ${stride === undefined ? "default" : stride.join("x")}, padding ${padding}, ${nchw ? "NCHW" : "NHWC"}${countIncludePad ? ", countIncludePad" : ""})`,
        params: {},
        x: kind === "max" ? distinct(shape, seed) : seeded(shape, seed),
        apply: (p, x) => layer.apply(p, x),
        naive: (_p, x) => naivePool(kind, numbers(x), img, nchw, win, countIncludePad),
        init: (k) => layer.init(k),
      };
    });
}

// ---------------------------------------------------------------------------
// globalAvgPool: the mean over H and W
// ---------------------------------------------------------------------------

function naiveGlobalAvg(xs: readonly number[], img: Image, channelsFirst: boolean, keepDims: boolean): NaiveOutput {
  const data: number[] = [];
  for (let b = 0; b < img.n; b++) {
    for (let ch = 0; ch < img.c; ch++) {
      let s = 0;
      for (let i = 0; i < img.h; i++) for (let j = 0; j < img.w; j++) s += xs[at(img, channelsFirst, b, i, j, ch)] ?? NaN;
      data.push(s / (img.h * img.w));
    }
  }
  // [N, C] row-major is also [N, 1, 1, C] and [N, C, 1, 1]
  const shape = keepDims ? (channelsFirst ? [img.n, img.c, 1, 1] : [img.n, 1, 1, img.c]) : [img.n, img.c];
  return { shape, data };
}

const globalAvgPoolCase: fc.Arbitrary<LayerCase> = fc
  .record({ size: pair(1, 4), n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), nchw: fc.boolean(), keepDims: fc.boolean(), seed: seeds })
  .map(({ size, n, c, nchw, keepDims, seed }) => {
    const img: Image = { n, h: size[0], w: size[1], c };
    const layer = untyped(layers.globalAvgPool({ dataFormat: nchw ? "NCHW" : "NHWC", keepDims }));
    return {
      detail: `globalAvgPool(${nchw ? "NCHW" : "NHWC"}, keepDims ${keepDims})`,
      params: {},
      x: seeded(shapeOf(img, nchw), seed),
      apply: (p, x) => layer.apply(p, x),
      naive: (_p, x) => naiveGlobalAvg(numbers(x), img, nchw, keepDims),
      init: (k) => layer.init(k),
    };
  });

// ---------------------------------------------------------------------------
// adaptiveAvgPool2d, adaptiveMaxPool2d: PyTorch's bins
// ---------------------------------------------------------------------------

function naiveAdaptive(kind: "max" | "avg", xs: readonly number[], img: Image, channelsFirst: boolean, [oh, ow]: readonly [number, number]): NaiveOutput {
  return naiveImage(img, channelsFirst, [oh, ow], (b, i, j, ch) => {
    const bin: number[] = [];
    // rows floor(i h / oh) to ceil((i + 1) h / oh), end excluded; the columns alike
    for (let r = Math.floor((i * img.h) / oh); r < Math.ceil(((i + 1) * img.h) / oh); r++) {
      for (let col = Math.floor((j * img.w) / ow); col < Math.ceil(((j + 1) * img.w) / ow); col++) bin.push(xs[at(img, channelsFirst, b, r, col, ch)] ?? NaN);
    }
    return kind === "max" ? Math.max(...bin) : bin.reduce((s, v) => s + v, 0) / bin.length;
  });
}

function adaptiveCase(kind: "max" | "avg"): fc.Arbitrary<LayerCase> {
  return fc
    .record({ size: pair(1, 6), out: pair(1, 4), n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), nchw: fc.boolean(), seed: seeds })
    .map(({ size, out, n, c, nchw, seed }) => {
      const img: Image = { n, h: size[0], w: size[1], c };
      const dataFormat: "NCHW" | "NHWC" = nchw ? "NCHW" : "NHWC";
      const layer = untyped(kind === "max" ? layers.adaptiveMaxPool2d(out, { dataFormat }) : layers.adaptiveAvgPool2d(out, { dataFormat }));
      const shape = shapeOf(img, nchw);
      return {
        detail: `adaptive${kind === "max" ? "Max" : "Avg"}Pool2d(${out.join("x")}) of ${size.join("x")}, ${dataFormat}`,
        params: {},
        x: kind === "max" ? distinct(shape, seed) : seeded(shape, seed),
        apply: (p, x) => layer.apply(p, x),
        naive: (_p, x) => naiveAdaptive(kind, numbers(x), img, nchw, out),
        init: (k) => layer.init(k),
      };
    });
}

/** Adaptive 1-D pooling of `xs` (`[n, length, c]`, or `[n, c, length]` when channels first) to `out` positions over PyTorch's bins. */
function naiveAdaptive1d(kind: "max" | "avg", xs: readonly number[], n: number, length: number, c: number, channelsFirst: boolean, out: number): NaiveOutput {
  const data: number[] = [];
  const at = (b: number, l: number, ch: number): number => (channelsFirst ? (b * c + ch) * length + l : (b * length + l) * c + ch);
  const outAt = (b: number, i: number, ch: number): number => (channelsFirst ? (b * c + ch) * out + i : (b * out + i) * c + ch);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < out; i++) {
      for (let ch = 0; ch < c; ch++) {
        const bin: number[] = [];
        // positions floor(i L / O) to ceil((i + 1) L / O), end excluded
        for (let l = Math.floor((i * length) / out); l < Math.ceil(((i + 1) * length) / out); l++) bin.push(xs[at(b, l, ch)] ?? NaN);
        data[outAt(b, i, ch)] = kind === "max" ? Math.max(...bin) : bin.reduce((s, v) => s + v, 0) / bin.length;
      }
    }
  }
  return { shape: channelsFirst ? [n, c, out] : [n, out, c], data };
}

function adaptive1dCase(kind: "max" | "avg"): fc.Arbitrary<LayerCase> {
  return fc
    .record({ length: fc.integer({ min: 1, max: 9 }), out: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), ncw: fc.boolean(), seed: seeds })
    .map(({ length, out, n, c, ncw, seed }) => {
      const dataFormat: "NCW" | "NWC" = ncw ? "NCW" : "NWC";
      const layer = untyped(kind === "max" ? layers.adaptiveMaxPool1d(out, { dataFormat }) : layers.adaptiveAvgPool1d(out, { dataFormat }));
      const shape = ncw ? [n, c, length] : [n, length, c];
      return {
        detail: `adaptive${kind === "max" ? "Max" : "Avg"}Pool1d(${out}) of ${length}, ${dataFormat}`,
        params: {},
        x: kind === "max" ? distinct(shape, seed) : seeded(shape, seed),
        apply: (p, x) => layer.apply(p, x),
        naive: (_p, x) => naiveAdaptive1d(kind, numbers(x), n, length, c, ncw, out),
        init: (k) => layer.init(k),
      };
    });
}

export const cases: LayerCases = {
  adaptiveAvgPool1d: adaptive1dCase("avg"),
  adaptiveMaxPool1d: adaptive1dCase("max"),
  adaptiveAvgPool2d: adaptiveCase("avg"),
  adaptiveMaxPool2d: adaptiveCase("max"),
  conv1d: conv1dCase,
  conv2d: conv2dCase,
  convTranspose2d: convTranspose2dCase,
  maxPool2d: poolCase("max"),
  avgPool2d: poolCase("avg"),
  globalAvgPool: globalAvgPoolCase,
};
