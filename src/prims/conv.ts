/**
 * Convolution and pooling primitives over NHWC images, with their gradient
 * primitives (the transposes the autodiff will need).
 *
 * `conv2d` takes `x: [N, H, W, C]` and a filter `w: [KH, KW, C / groups, O]`
 * and gives `[N, OH, OW, O]`. Padding arrives resolved to explicit
 * `[[top, bottom], [left, right]]` (the ops resolve `"same"`). The input and
 * filter gradients are convolutions in their own right (`conv2d_input_grad`
 * also serves the transposed convolution). Pooling windows slide over H and W
 * per channel; average pooling counts only the elements inside the input.
 * The work is done by the kernels in `backend/kernels/conv/`.
 */

import { isFloatDType, type DType, type Storage } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import {
  avgPool2d as avgPoolKernel,
  avgPool2dBackward,
  conv2d as convKernel,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dGeometry,
  maxPool2d as maxPoolKernel,
  maxPool2dBackward,
  type Conv2dParams,
  type Pool2dParams,
} from "../backend/kernels/conv/index.js";
import type { FloatArray } from "../backend/kernels/matrix-view.js";
import { foldInto, inBatched, splitOut } from "./batching.js";
import { bind } from "./bind.js";
import { nonlinear } from "./elementwise.js";
import * as lax from "./lax.js";
import { outputStorage } from "./output.js";
import type { ConvParams, PoolParams, PrimParams } from "./params.js";
import type { AnyTensor, Aval, BatchDim, BatchRule, Primitive } from "./types.js";

function floatPair(name: string, inputs: readonly Aval[]): [Aval, Aval] {
  const [a, b] = inputs;
  if (inputs.length !== 2 || a === undefined || b === undefined) shapeError(name, `takes 2 operands, got ${inputs.length}`);
  if (a.dtype !== b.dtype || !isFloatDType(a.dtype)) {
    shapeError(name, `needs two operands of one float dtype, got ${a.dtype} and ${b.dtype}`);
  }
  if (a.shape.length !== 4 || b.shape.length !== 4) shapeError(name, `needs rank-4 operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  return [a, b];
}

const dim = (shape: readonly number[], i: number): number => shape[i] ?? 0;

/** The kernel's description of a convolution of `x` of shape `xs` with a filter of shape `ws`. */
function convParams(xs: readonly number[], ws: readonly number[], p: ConvParams): Conv2dParams {
  return {
    batch: dim(xs, 0),
    inHeight: dim(xs, 1),
    inWidth: dim(xs, 2),
    inChannels: dim(xs, 3),
    kernelHeight: dim(ws, 0),
    kernelWidth: dim(ws, 1),
    outChannels: dim(ws, 3),
    stride: p.stride,
    dilation: p.dilation,
    padding: { height: p.padding[0], width: p.padding[1] },
    groups: p.groups,
  };
}

/** The output shape of a convolution, with every check of the kernel's geometry. */
function convOutShape(name: string, xs: readonly number[], ws: readonly number[], p: ConvParams): number[] {
  if (dim(ws, 2) * p.groups !== dim(xs, 3)) {
    shapeError(name, `filter ${formatShape(ws)} with ${p.groups} group(s) does not fit ${dim(xs, 3)} input channels of ${formatShape(xs)}`);
  }
  const g = conv2dGeometry(convParams(xs, ws, p));
  return [g.batch, g.outHeight, g.outWidth, g.outChannels];
}

/**
 * The output storage of a float result of `shape`: `into` when a compiled
 * program hands one (the kernels store every element of their output, or
 * zero it first where they accumulate), else fresh.
 */
function floatOut(dtype: DType, shape: readonly number[], into: Storage<DType> | undefined): FloatArray {
  return outputStorage(dtype === "float64" ? "float64" : "float32", shapeSize(shape), into);
}

function floatData(x: AnyTensor): FloatArray {
  const d = x.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array)) throw new Error(`expected float data, got ${x.dtype}`);
  return d;
}

/** 2-D convolution, NHWC input and HWIO filter. */
export const conv2d: Primitive<ConvParams> = {
  name: "conv2d",
  shape: (inputs, p) => {
    const [x, w] = floatPair("conv2d", inputs);
    return { shape: convOutShape("conv2d", x.shape, w.shape, p), dtype: x.dtype };
  },
  writesOut: true,
  impl: ([x, w], p, into) => {
    if (x === undefined || w === undefined) throw new Error("conv2d called without its operands");
    const shape = convOutShape("conv2d", x.shape, w.shape, p);
    const out = floatOut(x.dtype, shape, into);
    convKernel(out, floatData(x), floatData(w), convParams(x.shape, w.shape, p));
    return new Tensor(shape, x.dtype, out);
  },
  // d conv(x, w) = conv(dx, w) + conv(x, dw)
  jvp: ([x, w], [dx, dw], p) =>
    lax.addTangents(
      lax.linear(dx ?? null, (t) => bind("conv2d", [t, w ?? t], p)),
      lax.linear(dw ?? null, (t) => bind("conv2d", [x ?? t, t], p)),
    ),
  transpose: (ct, [x, w], p) => {
    const options = windowOf(p);
    if (x?.linear === true && w?.linear === false) return [bind("conv2d_input_grad", [ct, w.value], { ...options, inShape: x.aval.shape }), null];
    if (w?.linear === true && x?.linear === false) return [null, bind("conv2d_filter_grad", [x.value, ct], { ...options, filterShape: w.aval.shape })];
    return nonlinear("conv2d");
  },
  // a filter per example: each example's channels are groups of their own (see groupedConvBatch)
  batch: ([x, w], [dx = null, dw = null], p, size) => {
    if (x === undefined || w === undefined) throw new Error("conv2d called without its operands");
    // one filter: the examples' images are more images of N
    if (dw === null) return [splitOut(bind("conv2d", [foldInto(x, dx, size, 0), w], p), 0, size, imagesOf(x, dx)), 0];
    const y = bind("conv2d", [foldInto(x, dx, size, 3, [w]), foldInto(w, dw, size, 3)], { ...windowOf(p), groups: size * p.groups });
    return [splitOut(y, 3, size, dim(w.shape, inBatched(3, dw))), 3];
  },
};

/** The N of the example images in `x`, whose batch is on axis `d` (or none). */
const imagesOf = (x: AnyTensor, d: BatchDim): number => dim(x.shape, d === null ? 0 : inBatched(0, d));

/**
 * The batching rule of a convolution gradient, by grouping: the batch of
 * both operands folded into the channels (batch-major), the groups
 * multiplied by the batch size, and the channels of the result split again.
 * NOTE: example b's channels are then groups b·g .. b·g + g - 1, which is
 * why the fold must be batch-major.
 */
function groupedConvBatch<K extends "conv2d_input_grad" | "conv2d_filter_grad">(
  prim: K,
  resize: (p: PrimParams[K], size: number) => PrimParams[K],
  channels: (p: PrimParams[K]) => number,
): BatchRule<PrimParams[K]> {
  return ([a, b], [da = null, db = null], p, size) => {
    if (a === undefined || b === undefined) throw new Error(`${prim} called without its operands`);
    const y = bind(prim, [foldInto(a, da, size, 3, [b]), foldInto(b, db, size, 3, [a])], resize(p, size));
    return [splitOut(y, 3, size, channels(p)), 3];
  };
}

/** The window options alone, without a gradient primitive's extra shape. */
function windowOf(p: ConvParams): ConvParams {
  return { stride: p.stride, dilation: p.dilation, padding: p.padding, groups: p.groups };
}

/** The gradient of `conv2d` with respect to its input: `dy` and the filter give `dx` of shape `inShape`. */
export const conv2dInputGrad: Primitive<ConvParams & { readonly inShape: readonly number[] }> = {
  name: "conv2d_input_grad",
  shape: (inputs, p) => {
    const [dy, w] = floatPair("conv2d_input_grad", inputs);
    const expected = convOutShape("conv2d_input_grad", p.inShape, w.shape, p);
    if (formatShape(expected) !== formatShape(dy.shape)) {
      shapeError("conv2d_input_grad", `cotangent ${formatShape(dy.shape)} is not the output shape ${formatShape(expected)} of ${formatShape(p.inShape)}`);
    }
    return { shape: p.inShape, dtype: dy.dtype };
  },
  writesOut: true,
  impl: ([dy, w], p, into) => {
    if (dy === undefined || w === undefined) throw new Error("conv2d_input_grad called without its operands");
    const out = floatOut(dy.dtype, p.inShape, into);
    conv2dBackpropInput(out, floatData(dy), floatData(w), convParams(p.inShape, w.shape, p));
    return new Tensor(p.inShape, dy.dtype, out);
  },
  // bilinear in (dy, w)
  jvp: ([dy, w], [ddy, dw], p) =>
    lax.addTangents(
      lax.linear(ddy ?? null, (t) => bind("conv2d_input_grad", [t, w ?? t], p)),
      lax.linear(dw ?? null, (t) => bind("conv2d_input_grad", [dy ?? t, t], p)),
    ),
  // <ct, IG(dy, w)> = <conv(ct, w), dy> = <w, FG(ct, dy)>
  transpose: (ct, [dy, w], p) => {
    if (dy?.linear === true && w?.linear === false) return [bind("conv2d", [ct, w.value], windowOf(p)), null];
    if (w?.linear === true && dy?.linear === false) return [null, bind("conv2d_filter_grad", [ct, dy.value], { ...windowOf(p), filterShape: w.aval.shape })];
    return nonlinear("conv2d_input_grad");
  },
  batch: ([dy, w], [ddy = null, dw = null], p, size) => {
    if (dy === undefined || w === undefined) throw new Error("conv2d_input_grad called without its operands");
    // a filter per example: grouped (see groupedConvBatch); one filter: the examples' images are more images of N
    if (dw !== null) return inputGradByGroups([dy, w], [ddy, dw], p, size);
    const n = dim(p.inShape, 0);
    const dx = bind("conv2d_input_grad", [foldInto(dy, ddy, size, 0), w], { ...p, inShape: [size * n, ...p.inShape.slice(1)] });
    return [splitOut(dx, 0, size, n), 0];
  },
};

const withChannels = (shape: readonly number[], size: number): number[] => shape.map((d, i) => (i === 3 ? size * d : d));
const inputGradByGroups = groupedConvBatch(
  "conv2d_input_grad",
  (p, size) => ({ ...p, groups: size * p.groups, inShape: withChannels(p.inShape, size) }),
  (p) => dim(p.inShape, 3),
);

/** The gradient of `conv2d` with respect to its filter: the input and `dy` give `dw` of shape `filterShape`. */
export const conv2dFilterGrad: Primitive<ConvParams & { readonly filterShape: readonly number[] }> = {
  name: "conv2d_filter_grad",
  shape: (inputs, p) => {
    const [x, dy] = floatPair("conv2d_filter_grad", inputs);
    const expected = convOutShape("conv2d_filter_grad", x.shape, p.filterShape, p);
    if (formatShape(expected) !== formatShape(dy.shape)) {
      shapeError("conv2d_filter_grad", `cotangent ${formatShape(dy.shape)} is not the output shape ${formatShape(expected)}`);
    }
    return { shape: p.filterShape, dtype: x.dtype };
  },
  writesOut: true,
  impl: ([x, dy], p, into) => {
    if (x === undefined || dy === undefined) throw new Error("conv2d_filter_grad called without its operands");
    const out = floatOut(x.dtype, p.filterShape, into);
    conv2dBackpropFilter(out, floatData(x), floatData(dy), convParams(x.shape, p.filterShape, p));
    return new Tensor(p.filterShape, x.dtype, out);
  },
  // bilinear in (x, dy)
  jvp: ([x, dy], [dx, ddy], p) =>
    lax.addTangents(
      lax.linear(dx ?? null, (t) => bind("conv2d_filter_grad", [t, dy ?? t], p)),
      lax.linear(ddy ?? null, (t) => bind("conv2d_filter_grad", [x ?? t, t], p)),
    ),
  // <ct, FG(x, dy)> = <conv(x, ct), dy> = <x, IG(dy, ct)>
  transpose: (ct, [x, dy], p) => {
    if (dy?.linear === true && x?.linear === false) return [null, bind("conv2d", [x.value, ct], windowOf(p))];
    if (x?.linear === true && dy?.linear === false) return [bind("conv2d_input_grad", [dy.value, ct], { ...windowOf(p), inShape: x.aval.shape }), null];
    return nonlinear("conv2d_filter_grad");
  },
  batch: groupedConvBatch(
    "conv2d_filter_grad",
    (p, size) => ({ ...p, groups: size * p.groups, filterShape: withChannels(p.filterShape, size) }),
    (p) => dim(p.filterShape, 3),
  ),
};

function poolParams(xs: readonly number[], p: PoolParams): Pool2dParams {
  return {
    batch: dim(xs, 0),
    inHeight: dim(xs, 1),
    inWidth: dim(xs, 2),
    channels: dim(xs, 3),
    windowHeight: p.window[0],
    windowWidth: p.window[1],
    stride: p.stride,
    padding: { height: p.padding[0], width: p.padding[1] },
  };
}

function poolOutShape(name: string, x: Aval, p: PoolParams): number[] {
  if (x.shape.length !== 4) shapeError(name, `needs a rank-4 operand, got ${formatShape(x.shape)}`);
  if (!isFloatDType(x.dtype)) shapeError(name, `needs a float dtype, got ${x.dtype}`);
  // A pooling window is a depthwise convolution's window: reuse its geometry and checks.
  const g = conv2dGeometry({
    batch: dim(x.shape, 0),
    inHeight: dim(x.shape, 1),
    inWidth: dim(x.shape, 2),
    inChannels: 1,
    kernelHeight: p.window[0],
    kernelWidth: p.window[1],
    outChannels: 1,
    stride: p.stride,
    padding: { height: p.padding[0], width: p.padding[1] },
  });
  return [g.batch, g.outHeight, g.outWidth, dim(x.shape, 3)];
}

/**
 * The batching rule of a primitive over images whose operands and result
 * share their N: the examples' images become more images of N. `resize`
 * gives the params for a batch of `size` examples.
 */
function imagesBatch<K extends "max_pool2d" | "avg_pool2d" | "max_pool2d_grad" | "max_pool2d_pick" | "avg_pool2d_grad">(
  prim: K,
  resize: (p: PrimParams[K], size: number) => PrimParams[K] = (p) => p,
): BatchRule<PrimParams[K]> {
  return (inputs, dims, p, size) => {
    const at = dims.findIndex((d) => d !== null);
    const [x, d] = [inputs[at], dims[at]];
    if (x === undefined || d === undefined || d === null) throw new Error(`${prim}: no batched operand`);
    const y = bind(prim, inputs.map((x, i) => foldInto(x, dims[i] ?? null, size, 0, inputs)), resize(p, size));
    return [splitOut(y, 0, size, dim(x.shape, inBatched(0, d))), 0];
  };
}

function pool(
  name: "max_pool2d" | "avg_pool2d",
  kernel: (out: FloatArray, x: FloatArray, params: Pool2dParams) => FloatArray,
  derivatives: Pick<Primitive<PoolParams>, "jvp" | "transpose">,
): Primitive<PoolParams> {
  return {
    ...derivatives,
    name,
    batch: imagesBatch(name),
    shape: (inputs, p) => {
      const x = inputs[0];
      if (inputs.length !== 1 || x === undefined) shapeError(name, `takes 1 operand, got ${inputs.length}`);
      return { shape: poolOutShape(name, x, p), dtype: x.dtype };
    },
    writesOut: true,
    impl: ([x], p, into) => {
      if (x === undefined) throw new Error(`${name} called without its operand`);
      const shape = poolOutShape(name, x, p);
      const out = floatOut(x.dtype, shape, into);
      kernel(out, floatData(x), poolParams(x.shape, p));
      return new Tensor(shape, x.dtype, out);
    },
  };
}

/** Max pooling over H and W. */
export const maxPool2d = pool("max_pool2d", maxPoolKernel, {
  // the tangent of each window's first maximum
  jvp: ([x], [dx], p) => lax.linear(dx ?? null, (t) => bind("max_pool2d_pick", [x ?? t, t], p)),
});
/** Average pooling over H and W (padding excluded from the count). */
export const avgPool2d = pool("avg_pool2d", avgPoolKernel, {
  jvp: (_, [dx], p) => lax.linear(dx ?? null, (t) => bind("avg_pool2d", [t], p)),
  transpose: (ct, [x], p) => [x?.linear === true ? bind("avg_pool2d_grad", [ct], { ...p, inShape: x.aval.shape }) : null],
});

/** The gradient of `max_pool2d`: `dy` routed to the first maximum of each window of `x`. */
export const maxPool2dGrad: Primitive<PoolParams> = {
  name: "max_pool2d_grad",
  shape: (inputs, p) => {
    const [x, dy] = inputs;
    if (inputs.length !== 2 || x === undefined || dy === undefined) shapeError("max_pool2d_grad", `takes 2 operands, got ${inputs.length}`);
    const expected = poolOutShape("max_pool2d_grad", x, p);
    if (formatShape(expected) !== formatShape(dy.shape) || dy.dtype !== x.dtype) {
      shapeError("max_pool2d_grad", `cotangent ${dy.dtype}${formatShape(dy.shape)} is not the output ${x.dtype}${formatShape(expected)}`);
    }
    return { shape: x.shape, dtype: x.dtype };
  },
  writesOut: true,
  impl: ([x, dy], p, into) => {
    if (x === undefined || dy === undefined) throw new Error("max_pool2d_grad called without its operands");
    const out = floatOut(x.dtype, x.shape, into);
    maxPool2dBackward(out, floatData(x), floatData(dy), poolParams(x.shape, p));
    return new Tensor(x.shape, x.dtype, out);
  },
  // linear in dy (the routing by x's maxima is constant almost everywhere)
  jvp: ([x], [, ddy], p) => lax.linear(ddy ?? null, (t) => bind("max_pool2d_grad", [x ?? t, t], p)),
  transpose: (ct, [x, dy], p) => {
    if (dy?.linear !== true || x === undefined || x.linear) return nonlinear("max_pool2d_grad");
    return [null, bind("max_pool2d_pick", [x.value, ct], p)];
  },
  batch: imagesBatch("max_pool2d_grad"),
};

/**
 * For each pooling window of `x`, the element of `d` at the window's first
 * maximum: the JVP of max pooling, and the transpose of its gradient.
 */
export const maxPool2dPick: Primitive<PoolParams> = {
  name: "max_pool2d_pick",
  shape: (inputs, p) => {
    const [x, d] = inputs;
    if (inputs.length !== 2 || x === undefined || d === undefined) shapeError("max_pool2d_pick", `takes 2 operands, got ${inputs.length}`);
    if (formatShape(x.shape) !== formatShape(d.shape) || x.dtype !== d.dtype) {
      shapeError("max_pool2d_pick", `operands ${x.dtype}${formatShape(x.shape)} and ${d.dtype}${formatShape(d.shape)} differ`);
    }
    return { shape: poolOutShape("max_pool2d_pick", x, p), dtype: x.dtype };
  },
  writesOut: true,
  impl: ([x, d], p, into) => {
    if (x === undefined || d === undefined) throw new Error("max_pool2d_pick called without its operands");
    const shape = poolOutShape("max_pool2d_pick", x, p);
    const out = floatOut(x.dtype, shape, into);
    const [n, h, w, c] = x.shape as [number, number, number, number]; // poolOutShape checked rank 4
    const [, oh, ow] = shape as [number, number, number, number]; // rank 4 by construction
    const xd = floatData(x);
    const dd = floatData(d);
    const [top, left] = [p.padding[0][0], p.padding[1][0]];
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let ch = 0; ch < c; ch++, o++) {
            let best = -1;
            let bestValue = -Infinity;
            for (let di = 0; di < p.window[0]; di++) {
              const r = i * p.stride[0] + di - top;
              if (r < 0 || r >= h) continue;
              for (let dj = 0; dj < p.window[1]; dj++) {
                const col = j * p.stride[1] + dj - left;
                if (col < 0 || col >= w) continue;
                const at = ((b * h + r) * w + col) * c + ch;
                const v = xd[at] ?? 0;
                // the first maximum wins; a NaN counts as the maximum
                if (best < 0 || v > bestValue || (Number.isNaN(v) && !Number.isNaN(bestValue))) {
                  best = at;
                  bestValue = v;
                }
              }
            }
            out[o] = best < 0 ? 0 : (dd[best] ?? 0);
          }
        }
      }
    }
    return new Tensor(shape, x.dtype, out);
  },
  jvp: ([x], [, dd], p) => lax.linear(dd ?? null, (t) => bind("max_pool2d_pick", [x ?? t, t], p)),
  transpose: (ct, [x, d], p) => {
    if (d?.linear !== true || x === undefined || x.linear) return nonlinear("max_pool2d_pick");
    return [null, bind("max_pool2d_grad", [x.value, ct], p)];
  },
  batch: imagesBatch("max_pool2d_pick"),
};

/** The gradient of `avg_pool2d`: `dy` spread evenly over each window, into an input of shape `inShape`. */
export const avgPool2dGrad: Primitive<PoolParams & { readonly inShape: readonly number[] }> = {
  name: "avg_pool2d_grad",
  shape: (inputs, p) => {
    const dy = inputs[0];
    if (inputs.length !== 1 || dy === undefined) shapeError("avg_pool2d_grad", `takes 1 operand, got ${inputs.length}`);
    const expected = poolOutShape("avg_pool2d_grad", { shape: p.inShape, dtype: dy.dtype }, p);
    if (formatShape(expected) !== formatShape(dy.shape)) {
      shapeError("avg_pool2d_grad", `cotangent ${formatShape(dy.shape)} is not the output ${formatShape(expected)}`);
    }
    return { shape: p.inShape, dtype: dy.dtype };
  },
  writesOut: true,
  impl: ([dy], p, into) => {
    if (dy === undefined) throw new Error("avg_pool2d_grad called without its operand");
    const out = floatOut(dy.dtype, p.inShape, into);
    avgPool2dBackward(out, floatData(dy), poolParams(p.inShape, p));
    return new Tensor(p.inShape, dy.dtype, out);
  },
  jvp: (_, [ddy], p) => lax.linear(ddy ?? null, (t) => bind("avg_pool2d_grad", [t], p)),
  transpose: (ct, [dy], p) => [dy?.linear === true ? bind("avg_pool2d", [ct], { window: p.window, stride: p.stride, padding: p.padding }) : null],
  batch: imagesBatch("avg_pool2d_grad", (p, size) => ({ ...p, inShape: [size * dim(p.inShape, 0), ...p.inShape.slice(1)] })),
};
