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
 * The work is done by the kernels in `kernels/conv.ts`.
 */

import { allocate, type DType } from "../core/dtype.js";
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
} from "../kernels/conv.js";
import type { FloatArray } from "../kernels/matmul.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";

/** Explicit padding of the two spatial axes. */
export type Pads2d = readonly [readonly [number, number], readonly [number, number]];

/** The window options of a convolution. */
export interface ConvParams {
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: Pads2d;
  readonly groups: number;
}

/** The window options of a pooling. */
export interface PoolParams {
  readonly window: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: Pads2d;
}

function floatPair(name: string, inputs: readonly Aval[]): [Aval, Aval] {
  const [a, b] = inputs;
  if (inputs.length !== 2 || a === undefined || b === undefined) shapeError(name, `takes 2 operands, got ${inputs.length}`);
  if (a.dtype !== b.dtype || (a.dtype !== "float32" && a.dtype !== "float64")) {
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

function floatOut(dtype: DType, shape: readonly number[]): FloatArray {
  return allocate(dtype === "float64" ? "float64" : "float32", shapeSize(shape));
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
  impl: ([x, w], p) => {
    if (x === undefined || w === undefined) throw new Error("conv2d called without its operands");
    const shape = convOutShape("conv2d", x.shape, w.shape, p);
    const out = floatOut(x.dtype, shape);
    convKernel(out, floatData(x), floatData(w), convParams(x.shape, w.shape, p));
    return new Tensor(shape, x.dtype, out);
  },
};

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
  impl: ([dy, w], p) => {
    if (dy === undefined || w === undefined) throw new Error("conv2d_input_grad called without its operands");
    const out = floatOut(dy.dtype, p.inShape);
    conv2dBackpropInput(out, floatData(dy), floatData(w), convParams(p.inShape, w.shape, p));
    return new Tensor(p.inShape, dy.dtype, out);
  },
};

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
  impl: ([x, dy], p) => {
    if (x === undefined || dy === undefined) throw new Error("conv2d_filter_grad called without its operands");
    const out = floatOut(x.dtype, p.filterShape);
    conv2dBackpropFilter(out, floatData(x), floatData(dy), convParams(x.shape, p.filterShape, p));
    return new Tensor(p.filterShape, x.dtype, out);
  },
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
  if (x.dtype !== "float32" && x.dtype !== "float64") shapeError(name, `needs a float dtype, got ${x.dtype}`);
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

function pool(name: string, kernel: (out: FloatArray, x: FloatArray, params: Pool2dParams) => FloatArray): Primitive<PoolParams> {
  return {
    name,
    shape: (inputs, p) => {
      const x = inputs[0];
      if (inputs.length !== 1 || x === undefined) shapeError(name, `takes 1 operand, got ${inputs.length}`);
      return { shape: poolOutShape(name, x, p), dtype: x.dtype };
    },
    impl: ([x], p) => {
      if (x === undefined) throw new Error(`${name} called without its operand`);
      const shape = poolOutShape(name, x, p);
      const out = floatOut(x.dtype, shape);
      kernel(out, floatData(x), poolParams(x.shape, p));
      return new Tensor(shape, x.dtype, out);
    },
  };
}

/** Max pooling over H and W. */
export const maxPool2d = pool("max_pool2d", maxPoolKernel);
/** Average pooling over H and W (padding excluded from the count). */
export const avgPool2d = pool("avg_pool2d", avgPoolKernel);

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
  impl: ([x, dy], p) => {
    if (x === undefined || dy === undefined) throw new Error("max_pool2d_grad called without its operands");
    const out = floatOut(x.dtype, x.shape);
    maxPool2dBackward(out, floatData(x), floatData(dy), poolParams(x.shape, p));
    return new Tensor(x.shape, x.dtype, out);
  },
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
  impl: ([dy], p) => {
    if (dy === undefined) throw new Error("avg_pool2d_grad called without its operand");
    const out = floatOut(dy.dtype, p.inShape);
    avgPool2dBackward(out, floatData(dy), poolParams(p.inShape, p));
    return new Tensor(p.inShape, dy.dtype, out);
  },
};
