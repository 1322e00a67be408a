/**
 * Adaptive pooling: average or max pooling to a given output size, whatever
 * the input's (PyTorch's `adaptive_avg_pool2d`, `adaptive_max_pool2d` and
 * their 1-D forms, the head of every torchvision classifier), over NHWC
 * images and NLC sequences.
 *
 * Output index `i` of an axis of `In` elements pooled to `Out` reads the bin
 * `floor(i·In/Out)` to `ceil((i+1)·In/Out)` (end excluded): PyTorch's bins,
 * which overlap when `Out` does not divide `In`. The two spatial axes pool
 * one after the other (a mean of bin means over equal-length rows is the
 * bin's mean, and a max of maxima its max). An axis that `Out` divides is
 * one pooling with window and stride `In/Out`; otherwise each bin is a slice
 * pooled whole, and the bins are concatenated. Both paths are the pool
 * primitives, so gradients come with them, and max pooling's gradient goes
 * to one maximum of each bin (the first along each axis, in the order the
 * axes pool: on ties it can differ from PyTorch's row-major first).
 * Deliberately left out: `return_indices`, `None` output sizes (keep the
 * input's), and 3-D pooling.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import type { IsNatural } from "../core/arith/index.js";
import type { Checked, IsLiteralSize, IsTuple } from "../core/rules/dims.js";
import { formatShape, type Dim, type Shape, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat, describeValue } from "../core/validate.js";
import { bind } from "../prims/index.js";
import type { AnyTensor } from "../prims/types.js";
import type { Pair } from "./conv.js";
import type { FloatDType, ShapeOf } from "./types.js";

/**
 * The output size `O` of one axis: itself when it is a positive whole
 * literal, `number` when it is only known at run time, else a `ShapeError`
 * naming `Op`.
 *
 * @example
 * type E = AdaptiveOutSize<"adaptiveAvgPool2d", 0>; // ShapeError<"adaptiveAvgPool2d: an output size must be a positive integer, got 0">
 */
export type AdaptiveOutSize<Op extends string, O extends number> = IsLiteralSize<O> extends false
  ? number
  : IsNatural<O> extends true
    ? O extends 0
      ? ShapeError<`${Op}: an output size must be a positive integer, got ${O}`>
      : O
    : ShapeError<`${Op}: an output size must be a positive integer, got ${O}`>;

type AxisOf<X extends Pair, I extends 0 | 1> = X extends readonly [number, number] ? X[I] : X;

/**
 * The output shape of an adaptive 2-D pooling of `X: [N, H, W, C]` to `O`
 * (one size or `[OH, OW]`): `[N, OH, OW, C]`, or a `ShapeError`.
 *
 * @example
 * type Y = AdaptivePool2dShape<"adaptiveAvgPool2d", ["batch", 13, 13, 512], 7>; // ["batch", 7, 7, 512]
 */
export type AdaptivePool2dShape<Op extends string, X extends Shape, O extends Pair> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [infer N, Dim, Dim, infer C]
    ? AdaptiveOutSize<Op, AxisOf<O, 0>> extends infer OH
      ? AdaptiveOutSize<Op, AxisOf<O, 1>> extends infer OW
        ? OH extends ShapeError<string>
          ? OH
          : OW extends ShapeError<string>
            ? OW
            : [N, OH, OW, C]
        : never
      : never
    : ShapeError<`${Op}: the input must be [N, H, W, C], got ${ShowShape<X>}`>;

/**
 * The output shape of an adaptive 1-D pooling of `X: [N, L, C]` to `O`:
 * `[N, O, C]`, or a `ShapeError`.
 *
 * @example
 * type Y = AdaptivePool1dShape<"adaptiveMaxPool1d", [8, 100, 16], 10>; // [8, 10, 16]
 */
export type AdaptivePool1dShape<Op extends string, X extends Shape, O extends number> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [infer N, Dim, infer C]
    ? AdaptiveOutSize<Op, O> extends infer OL
      ? OL extends ShapeError<string>
        ? OL
        : [N, OL, C]
      : never
    : ShapeError<`${Op}: the input must be [N, L, C], got ${ShowShape<X>}`>;

/**
 * `unknown` when every size of `O` (one size or `[OH, OW]`) is a positive
 * whole number or only known at run time, else the `ShapeError` of the
 * first that is not: what an adaptive pooling layer's `outputSize` is checked by.
 *
 * @example
 * type E = AdaptiveSizesCheck<"adaptiveAvgPool2d", [7, 0]>; // ShapeError<"adaptiveAvgPool2d: an output size must be a positive integer, got 0">
 */
export type AdaptiveSizesCheck<Op extends string, O extends Pair> = AdaptiveOutSize<Op, AxisOf<O, 0>> extends infer OH
  ? OH extends ShapeError<string>
    ? OH
    : AdaptiveOutSize<Op, AxisOf<O, 1>> extends infer OW
      ? OW extends ShapeError<string>
        ? OW
        : unknown
      : never
  : never;

/** An adaptive 2-D pooling op: `[N, H, W, C]` to `[N, OH, OW, C]`. */
export interface AdaptivePool2dOp<Op extends string> {
  <X extends Shape, D extends FloatDType, const O extends Pair>(
    x: Tensor<X, D> & Checked<AdaptivePool2dShape<Op, X, O>, unknown>,
    outputSize: O,
  ): Tensor<NoInfer<ShapeOf<AdaptivePool2dShape<Op, X, O>>>, D>;
}

/** An adaptive 1-D pooling op: `[N, L, C]` to `[N, O, C]`. */
export interface AdaptivePool1dOp<Op extends string> {
  <X extends Shape, D extends FloatDType, const O extends number>(
    x: Tensor<X, D> & Checked<AdaptivePool1dShape<Op, X, O>, unknown>,
    outputSize: O,
  ): Tensor<NoInfer<ShapeOf<AdaptivePool1dShape<Op, X, O>>>, D>;
}

/**
 * The bins of an axis of `size` elements pooled to `out`: bin `i` runs from
 * `floor(i·size/out)` to `ceil((i+1)·size/out)`, end excluded.
 *
 * @example
 * adaptiveBins(5, 3); // [[0, 2], [1, 4], [3, 5]]
 */
export function adaptiveBins(size: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i): [number, number] => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)]);
}

type PoolPrim = "avg_pool2d" | "max_pool2d";

/** `x: [N, H, W, C]` pooled to `out` along spatial axis `axis` (1 for H, 2 for W). */
function poolAxis(prim: PoolPrim, x: AnyTensor, axis: 1 | 2, out: number): AnyTensor {
  const size = x.shape[axis] ?? 0;
  const window = (k: number): readonly [number, number] => (axis === 1 ? [k, 1] : [1, k]);
  const pool = (t: AnyTensor, k: number): AnyTensor => bind(prim, [t], { window: window(k), stride: window(k), padding: [[0, 0], [0, 0]] });
  if (size === out) return x;
  if (size % out === 0) return pool(x, size / out);
  // overlapping or uneven bins: each a slice pooled whole, then side by side
  const bins = adaptiveBins(size, out).map(([start, end]) => {
    const starts = x.shape.map((_, i) => (i === axis ? start : 0));
    const sizes = x.shape.map((d, i) => (i === axis ? end - start : d));
    return pool(bind("slice", [x], { starts, steps: x.shape.map(() => 1), sizes }), end - start);
  });
  return bind("concatenate", bins, { axis }); // at least two bins: out = 1 divides every size
}

/** Checks an output size, naming `op`. */
function checkOutSize(op: string, out: number): void {
  if (!Number.isInteger(out) || out < 1) shapeError(op, `an output size must be a positive integer, got ${describeValue(out)}`);
}

function adaptive2d(op: string, prim: PoolPrim, x: AnyTensor, outputSize: Pair): AnyTensor {
  checkFloat(op, x);
  if (x.shape.length !== 4) shapeError(op, `the input must be [N, H, W, C], got ${formatShape(x.shape)}`);
  const [oh, ow] = typeof outputSize === "number" ? [outputSize, outputSize] : outputSize;
  checkOutSize(op, oh);
  checkOutSize(op, ow);
  if ((x.shape[1] ?? 0) < 1 || (x.shape[2] ?? 0) < 1) shapeError(op, `the input ${formatShape(x.shape)} has no elements to pool along H or W`);
  return poolAxis(prim, poolAxis(prim, x, 1, oh), 2, ow);
}

function adaptive1d(op: string, prim: PoolPrim, x: AnyTensor, outputSize: number): AnyTensor {
  checkFloat(op, x);
  if (x.shape.length !== 3) shapeError(op, `the input must be [N, L, C], got ${formatShape(x.shape)}`);
  checkOutSize(op, outputSize);
  const [n = 0, l = 0, c = 0] = x.shape;
  if (l < 1) shapeError(op, `the input ${formatShape(x.shape)} has no elements to pool along L`);
  const y = poolAxis(prim, bind("reshape", [x], { shape: [n, 1, l, c] }), 2, outputSize);
  return bind("reshape", [y], { shape: [n, outputSize, c] });
}

/**
 * Average pooling of `x: [N, H, W, C]` to `outputSize` (one size or
 * `[OH, OW]`), whatever H and W: output `(i, j)` is the mean of the bin
 * `floor(i·H/OH) .. ceil((i+1)·H/OH)` by `floor(j·W/OW) .. ceil((j+1)·W/OW)`
 * (PyTorch's `adaptive_avg_pool2d`, in NHWC).
 *
 * @example
 * adaptiveAvgPool2d(zeros([8, 13, 13, 512]), 7); // Tensor<[8, 7, 7, 512]>
 */
export const adaptiveAvgPool2d = ((x: AnyTensor, outputSize: Pair) => adaptive2d("adaptiveAvgPool2d", "avg_pool2d", x, outputSize)) as AdaptivePool2dOp<"adaptiveAvgPool2d">; // the signature's shape is adaptive2d's

/**
 * Max pooling of `x: [N, H, W, C]` to `outputSize` over PyTorch's bins (see
 * `adaptiveAvgPool2d`); the gradient goes to one maximum of each bin.
 *
 * @example
 * adaptiveMaxPool2d(zeros([8, 10, 10, 64]), [3, 4]); // Tensor<[8, 3, 4, 64]>
 */
export const adaptiveMaxPool2d = ((x: AnyTensor, outputSize: Pair) => adaptive2d("adaptiveMaxPool2d", "max_pool2d", x, outputSize)) as AdaptivePool2dOp<"adaptiveMaxPool2d">; // as above

/**
 * Average pooling of `x: [N, L, C]` to `outputSize` positions over PyTorch's
 * bins `floor(i·L/O) .. ceil((i+1)·L/O)` (`adaptive_avg_pool1d`, in NLC).
 *
 * @example
 * adaptiveAvgPool1d(zeros([8, 100, 16]), 10); // Tensor<[8, 10, 16]>
 */
export const adaptiveAvgPool1d = ((x: AnyTensor, outputSize: number) => adaptive1d("adaptiveAvgPool1d", "avg_pool2d", x, outputSize)) as AdaptivePool1dOp<"adaptiveAvgPool1d">; // the signature's shape is adaptive1d's

/**
 * Max pooling of `x: [N, L, C]` to `outputSize` positions over PyTorch's bins.
 *
 * @example
 * adaptiveMaxPool1d(zeros([8, 100, 16]), 7); // Tensor<[8, 7, 16]>
 */
export const adaptiveMaxPool1d = ((x: AnyTensor, outputSize: number) => adaptive1d("adaptiveMaxPool1d", "max_pool2d", x, outputSize)) as AdaptivePool1dOp<"adaptiveMaxPool1d">; // as above
