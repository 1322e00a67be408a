/**
 * Convolution and pooling ops over NHWC images (and NLC sequences for
 * `conv1d`), typed with the conv arithmetic of `core/rules/conv.ts`.
 *
 * `conv2d(x: [N, H, W, C], w: [KH, KW, C / groups, O])` gives
 * `[N, OH, OW, O]` with `OH = ConvOutSize<H, KH, stride, dilation, padding>`,
 * computed exactly at the type level; a filter whose input channels do not
 * fit is a compile error at the filter. Strides and dilations are one number
 * or `[height, width]`; padding is `"valid"`, `"same"` (TensorFlow's split,
 * the extra element after), one number for every side, or explicit
 * `[[top, bottom], [left, right]]`. Pools default their stride to the window.
 * The ops resolve the padding and call the conv and pool primitives.
 */

import type { Mul } from "../core/arith/index.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import { convTransposeOutSize, windowPadding, type ConvOutSize, type Padding2d, type PoolOutSize } from "../core/rules/conv.js";
import type { Checked, DimsMatch, IsLiteralSize, IsTuple } from "../core/rules/dims.js";
import { formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat, checkTensor, describeValue } from "../core/validate.js";
import type { Pads2d } from "../prims/params.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../prims/index.js";
import { reshape } from "./shape.js";
import type { FloatDType } from "./types.js";

/** One size for both spatial axes, or `[height, width]`. */
export type Pair = number | readonly [number, number];

export type { Padding2d };


/** The options of `conv2d`. */
export interface Conv2dOptions<S extends Pair = Pair, Dl extends Pair = Pair, P extends Padding2d = Padding2d, G extends number = number> {
  readonly stride?: S;
  readonly dilation?: Dl;
  readonly padding?: P;
  readonly groups?: G;
}

/** The options of a 2-D pooling. */
export interface Pool2dOptions<S extends Pair = Pair, P extends Padding2d = Padding2d> {
  readonly stride?: S;
  readonly padding?: P;
}

/** The options of `avgPool2d`: those of every pooling, and whether padding counts. */
export interface AvgPool2dOptions<S extends Pair = Pair, P extends Padding2d = Padding2d> extends Pool2dOptions<S, P> {
  /**
   * Whether the zeros of the padding count in each window's mean, dividing
   * every window by its full size (PyTorch's `count_include_pad`, which
   * defaults to true there). Default false: each window's mean is over the
   * elements inside the input, as Keras's and TensorFlow's `"same"` pooling.
   */
  readonly countIncludePad?: boolean;
}

type AxisOf<X extends Pair, I extends 0 | 1> = X extends readonly [number, number] ? X[I] : X;
type PadOf<P extends Padding2d, I extends 0 | 1> = P extends readonly [readonly [number, number], readonly [number, number]] ? P[I] : P;

/** The output shape of `conv2d`, or a `ShapeError` for a filter that does not fit. */
export type Conv2dShape<X extends Shape, W extends Shape, S extends Pair, Dl extends Pair, P extends Padding2d, G extends number> = IsTuple<X> extends false
  ? Dim[]
  : IsTuple<W> extends false
    ? Dim[]
    : Conv2dKnownRank<X, W, S, Dl, P, G>;

type Conv2dKnownRank<X extends Shape, W extends Shape, S extends Pair, Dl extends Pair, P extends Padding2d, G extends number> = X extends readonly [
  infer N,
  infer H,
  infer Wd,
  infer C,
]
  ? W extends readonly [infer KH extends number, infer KW extends number, infer CG, infer O]
    ? DimsMatch<C, GroupChannels<CG, G>> extends true
      ? Spatial<ConvOutSize<H, KH, AxisOf<S, 0>, AxisOf<Dl, 0>, PadOf<P, 0>>, ConvOutSize<Wd, KW, AxisOf<S, 1>, AxisOf<Dl, 1>, PadOf<P, 1>>, N, O>
      : ShapeError<`conv2d: filter ${ShowShape<W>} with ${ShowDim<G>} group(s) does not fit ${ShowDim<C>} input channels of ${ShowShape<X>}`>
    : ShapeError<`conv2d: the filter must be [KH, KW, C / groups, O], got ${ShowShape<W>}`>
  : ShapeError<`conv2d: the input must be [N, H, W, C], got ${ShowShape<X>}`>;

type GroupChannels<CG, G extends number> = IsLiteralSize<CG> extends true ? (number extends G ? number : Mul<CG & number, G>) : number;

type Spatial<OH, OW, N, O> = OH extends ShapeError<string> ? OH : OW extends ShapeError<string> ? OW : [N, OH, OW, O];

/** The output shape of a 2-D pooling of `X`. */
export type Pool2dShape<Op extends string, X extends Shape, Win extends Pair, S extends Pair, P extends Padding2d> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [
  infer N,
  infer H,
  infer Wd,
  infer C,
]
  ? Spatial<PoolOutSize<H, AxisOf<Win, 0>, AxisOf<S, 0>, PadOf<P, 0>>, PoolOutSize<Wd, AxisOf<Win, 1>, AxisOf<S, 1>, PadOf<P, 1>>, N, C>
  : ShapeError<`${Op}: the input must be [N, H, W, C], got ${ShowShape<X>}`>;

type ShapeOfResult<R> = R extends Shape ? R : never;

const pairOf = (x: Pair): readonly [number, number] => (typeof x === "number" ? [x, x] : x);

/**
 * Throws a `ShapeError` naming `op` unless `padding` is `"valid"`, `"same"`,
 * a number or an array (whose sizes the shape rules check): a misspelt scheme
 * must not be read as a pair of sizes.
 */
function checkPadding(op: string, padding: unknown): void {
  if (typeof padding === "number" || padding === "valid" || padding === "same" || Array.isArray(padding)) return;
  shapeError(op, `padding must be "valid", "same", a size or explicit [lo, hi] sizes, got ${describeValue(padding)}`);
}

/** The explicit padding of each spatial axis for the sizes of `x`. */
function resolvePads(op: string, x: readonly number[], kernel: readonly [number, number], stride: readonly [number, number], dilation: readonly [number, number], padding: Padding2d): Pads2d {
  checkPadding(op, padding);
  if (typeof padding === "object") return padding;
  return [0, 1].map((i) => {
    const at = i === 0 ? 0 : 1;
    return windowPadding(x[1 + at] ?? 0, kernel[at], stride[at], dilation[at], padding);
  }) as unknown as Pads2d; // two [lo, hi] pairs, one per spatial axis
}

/**
 * 2-D convolution: `x: [N, H, W, C]` with `w: [KH, KW, C / groups, O]` gives
 * `[N, OH, OW, O]`.
 *
 * @example
 * conv2d(zeros([32, 28, 28, 1]), zeros([3, 3, 1, 32]), { padding: "same" }); // Tensor<[32, 28, 28, 32]>
 */
export function conv2d<
  X extends Shape,
  W extends Shape,
  D extends FloatDType,
  const S extends Pair = 1,
  const Dl extends Pair = 1,
  const P extends Padding2d = "valid",
  const G extends number = 1,
>(
  x: Tensor<X, D>,
  w: Tensor<W, NoInfer<D>> & Checked<Conv2dShape<X, W, S, Dl, P, G>, unknown>,
  options?: Conv2dOptions<S, Dl, P, G>,
): Tensor<NoInfer<ShapeOfResult<Conv2dShape<X, W, S, Dl, P, G>>>, D>;
export function conv2d(x: AnyTensor, w: AnyTensor, options: Conv2dOptions = {}): AnyTensor {
  checkTensor("conv2d", "x", x);
  checkTensor("conv2d", "w", w);
  if (x.shape.length !== 4) shapeError("conv2d", `the input must be [N, H, W, C], got ${formatShape(x.shape)}`);
  if (w.shape.length !== 4) shapeError("conv2d", `the filter must be [KH, KW, C / groups, O], got ${formatShape(w.shape)}`);
  const stride = pairOf(options.stride ?? 1);
  const dilation = pairOf(options.dilation ?? 1);
  const kernel: readonly [number, number] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const padding = resolvePads("conv2d", x.shape, kernel, stride, dilation, options.padding ?? "valid");
  return bind("conv2d", [x, w], { stride, dilation, padding, groups: options.groups ?? 1 });
}

/**
 * 1-D convolution: `x: [N, L, C]` with `w: [K, C / groups, O]` gives
 * `[N, OL, O]` (a 2-D convolution of height 1).
 *
 * @example
 * conv1d(zeros([8, 100, 16]), zeros([5, 16, 32]), { padding: "same" }); // Tensor<[8, 100, 32]>
 */
export function conv1d<
  N extends number | string,
  L extends number | string,
  C extends number | string,
  K extends number,
  CG extends number | string,
  O extends number | string,
  D extends FloatDType,
  const S extends number = 1,
  const Dl extends number = 1,
  const P extends "valid" | "same" | number | readonly [number, number] = "valid",
  const G extends number = 1,
>(
  x: Tensor<[N, L, C], D>,
  w: Tensor<[K, CG, O], NoInfer<D>> & Checked<Conv2dShape<[N, 1, L, C], [1, K, CG, O], [1, S], [1, Dl], Conv1dPadding<P>, G>, unknown>,
  options?: { readonly stride?: S; readonly dilation?: Dl; readonly padding?: P; readonly groups?: G },
): Tensor<NoInfer<[N, ConvOutSize<L, K, S, Dl, P> & (number | string), O]>, D> {
  checkFloat("conv1d", x);
  const [n = 0, l = 0, c = 0] = x.shape;
  const [k = 0, cg = 0, o = 0] = w.shape;
  const padding = options?.padding ?? "valid";
  checkPadding("conv1d", padding);
  const widthPad: readonly [number, number] =
    typeof padding === "number" ? [padding, padding] : typeof padding === "string" ? windowPadding(l, k, options?.stride ?? 1, options?.dilation ?? 1, padding) : padding;
  const y = bind("conv2d", [reshape(x as AnyTensor, [n, 1, l, c]), reshape(w as AnyTensor, [1, k, cg, o])], {
    stride: [1, options?.stride ?? 1],
    dilation: [1, options?.dilation ?? 1],
    padding: [[0, 0], widthPad],
    groups: options?.groups ?? 1,
  });
  // [N, 1, OL, O] with OL the ConvOutSize of the width axis, which the return type computes.
  return reshape(y, [n, y.shape[2] ?? 0, o]) as unknown as Tensor<NoInfer<[N, ConvOutSize<L, K, S, Dl, P> & (number | string), O]>, D>;
}

/** A 1-D padding as the 2-D padding of a height-1 image. */
type Conv1dPadding<P> = P extends readonly [number, number] ? [[0, 0], P] : P extends number ? [[0, 0], [P, P]] : P extends "valid" | "same" ? P : never;

function pool2d(prim: "max_pool2d" | "avg_pool2d", x: AnyTensor, window: Pair, options: AvgPool2dOptions): AnyTensor {
  const op = prim === "max_pool2d" ? "maxPool2d" : "avgPool2d";
  checkFloat(op, x);
  if (x.shape.length !== 4) shapeError(op, `the input must be [N, H, W, C], got ${formatShape(x.shape)}`);
  const win = pairOf(window);
  const stride = pairOf(options.stride ?? win);
  const padding = resolvePads(op, x.shape, win, stride, [1, 1], options.padding ?? "valid");
  if (options.countIncludePad === true && padding.some(([lo, hi]) => lo > 0 || hi > 0)) {
    // zeros that count: pad explicitly, then pool the padded input without padding (every window is whole)
    const [[top, bottom], [left, right]] = padding;
    const padded = bind("pad", [x], { lo: [0, top, left, 0], hi: [0, bottom, right, 0], value: 0 });
    return bind(prim, [padded], { window: win, stride, padding: [[0, 0], [0, 0]] });
  }
  return bind(prim, [x], { window: win, stride, padding });
}

/** A pooling op: NHWC in, the window's reduction out (`avgPool2d` also takes `countIncludePad`). */
export interface Pool2dOp<Op extends string> {
  <X extends Shape, D extends FloatDType, const Win extends Pair, const S extends Pair = Win, const P extends Padding2d = "valid">(
    x: Tensor<X, D> & Checked<Pool2dShape<Op, X, Win, S, P>, unknown>,
    window: Win,
    options?: Op extends "avgPool2d" ? AvgPool2dOptions<S, P> : Pool2dOptions<S, P>,
  ): Tensor<NoInfer<ShapeOfResult<Pool2dShape<Op, X, Win, S, P>>>, D>;
}

/**
 * Max pooling over H and W of `x: [N, H, W, C]`; the stride defaults to the window.
 *
 * @example
 * maxPool2d(zeros([64, 28, 28, 32]), 2); // Tensor<[64, 14, 14, 32]>
 */
export const maxPool2d = ((x: AnyTensor, window: Pair, options: Pool2dOptions = {}) => pool2d("max_pool2d", x, window, options)) as Pool2dOp<"maxPool2d">; // the signature's shape is pool2d's

/**
 * Average pooling over H and W of `x: [N, H, W, C]`. Padding is left out of
 * each count unless `countIncludePad` is true (PyTorch's default, where
 * `nn.AvgPool2d(k, s, p)` is `avgPool2d(x, k, { stride: s, padding: p, countIncludePad: true })`).
 *
 * @example
 * avgPool2d(zeros([8, 7, 7, 64]), 7); // Tensor<[8, 1, 1, 64]>
 * avgPool2d(zeros([8, 7, 7, 64]), 3, { stride: 2, padding: 1, countIncludePad: true }); // Tensor<[8, 4, 4, 64]>
 */
export const avgPool2d = ((x: AnyTensor, window: Pair, options: AvgPool2dOptions = {}) => pool2d("avg_pool2d", x, window, options)) as Pool2dOp<"avgPool2d">; // the signature's shape is pool2d's


/** The options of `convTranspose2d`. */
export interface ConvTranspose2dOptions {
  readonly stride?: Pair;
  readonly dilation?: Pair;
  /** `"valid"`, `"same"` (the output is the input times the stride), one size, or `[[top, bottom], [left, right]]`. */
  readonly padding?: Padding2d;
  /** Extra rows and columns at the bottom and right of the output, each below the stride (not with `"same"`). */
  readonly outputPadding?: Pair;
}

/**
 * Transposed 2-D convolution, the gradient of `conv2d` with respect to its
 * input: `x: [N, H, W, C]` with `w: [KH, KW, O, C]` (Keras's layout) gives
 * `[N, OH, OW, O]`, `OH = (H - 1) * stride - padTotal + dilation * (KH - 1) + 1 + outputPadding`,
 * or `H * stride` for `"same"`. The shape is checked at run time only.
 *
 * @example
 * convTranspose2d(zeros([8, 7, 7, 64]), zeros([3, 3, 32, 64]), { stride: 2, padding: "same" }).shape; // [8, 14, 14, 32]
 */
export function convTranspose2d<D extends FloatDType>(x: Tensor<Shape, D>, w: Tensor<Shape, D>, options: ConvTranspose2dOptions = {}): Tensor<Dim[], D> {
  checkTensor("convTranspose2d", "x", x);
  checkTensor("convTranspose2d", "w", w);
  if (x.shape.length !== 4) shapeError("convTranspose2d", `the input must be [N, H, W, C], got ${formatShape(x.shape)}`);
  if (w.shape.length !== 4 || w.shape[3] !== x.shape[3]) {
    shapeError("convTranspose2d", `the filter must be [KH, KW, O, C] with C = ${x.shape[3] ?? 0} of the input ${formatShape(x.shape)}, got ${formatShape(w.shape)}`);
  }
  const stride = pairOf(options.stride ?? 1);
  const dilation = pairOf(options.dilation ?? 1);
  const outputPadding = pairOf(options.outputPadding ?? 0);
  const padding = options.padding ?? "valid";
  checkPadding("convTranspose2d", padding);
  const kernel: readonly [number, number] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const where = `input ${formatShape(x.shape)} with filter ${formatShape(w.shape)}`;
  const axis = (at: 0 | 1): ReturnType<typeof convTransposeOutSize> => {
    const pad = padding === "same" || padding === "valid" || typeof padding === "number" ? padding : padding[at];
    return convTransposeOutSize(x.shape[1 + at] ?? 0, kernel[at], stride[at], dilation[at], pad, outputPadding[at], where);
  };
  const [rows, cols] = [axis(0), axis(1)];
  const inShape = [x.shape[0] ?? 0, rows.out, cols.out, w.shape[2] ?? 0];
  const params = { stride, dilation, padding: [rows.pads, cols.pads] as const, groups: 1, inShape };
  // conv2d_input_grad's result has shape inShape; its rule checks x is the forward output of that shape.
  return bind("conv2d_input_grad", [x, w], params) as Tensor<Dim[], D>;
}
