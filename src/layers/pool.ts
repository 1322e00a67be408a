/**
 * Pooling layers: `maxPool2d`, `avgPool2d` and `globalAvgPool`, with no
 * parameters, like the activation layers.
 *
 * As Keras's `MaxPooling2D`, `AveragePooling2D` and `GlobalAveragePooling2D`:
 * the stride defaults to the window, `"same"` padding is TensorFlow's, and
 * average pooling counts only the elements inside the input unless
 * `countIncludePad` is set. Max pooling's
 * gradient goes to the first maximum of each window. The shape functions
 * reuse `Pool2dShape`, so `sequential` checks the sizes at compile time. The
 * input has rank 4 exactly (`[N, H, W, C]`, or `[N, C, H, W]` with
 * `dataFormat: "NCHW"`). `adaptiveAvgPool2d` and `adaptiveMaxPool2d` pool to
 * a given output size over PyTorch's bins (`ops/adaptive-pool.ts`); average
 * pooling counts padding with `countIncludePad` (PyTorch's default).
 `adaptiveAvgPool1d` and `adaptiveMaxPool1d` do the same over sequences
 * (`[N, L, C]`, or `[N, C, L]` with `dataFormat: "NCW"`). Deliberately left
 * out: global max pooling, fixed-window 1-D pooling and 3-D pooling layers.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import { formatShape, type Dim, type Shape, type ShowShape } from "../core/shape.js";
import type { IsTuple } from "../core/rules/dims.js";
import { avgPool2d as avgPoolOp, maxPool2d as maxPoolOp, type Padding2d, type Pair, type Pool2dOptions, type Pool2dShape } from "../ops/conv.js";
import { mean } from "../ops/reduce.js";
import {
  adaptiveAvgPool1d as adaptiveAvg1dOp,
  adaptiveAvgPool2d as adaptiveAvgOp,
  adaptiveMaxPool1d as adaptiveMax1dOp,
  adaptiveMaxPool2d as adaptiveMaxOp,
  type AdaptiveOutSize,
  type AdaptivePool1dShape,
  type AdaptivePool2dShape,
  type AdaptiveSizesCheck,
} from "../ops/adaptive-pool.js";
import { transpose } from "../ops/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { NoParams } from "./activations.js";
import { fromNHWC, toNHWC, type DataFormat1d, type DataFormat2d, type FromNHWC, type ToNHWC } from "./conv.js";
import { makeLayer, type InputOf, type Layer, type ShapeFn } from "./layer.js";

/** How a pooling layer's expected input reads in a message. */
type ShowPoolInput<Fmt extends DataFormat2d> = Fmt extends "NCHW" ? "[N, C, H, W]" : "[N, H, W, C]";

/** The output shape of the pooling `Op` on `X` in `Fmt`, or a `ShapeError`. */
export type Pool2dLayerShape<Op extends string, X extends Shape, Win extends Pair, S extends Pair, P extends Padding2d, Fmt extends DataFormat2d> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [Dim, Dim, Dim, Dim]
    ? FromNHWC<Pool2dShape<Op, ToNHWC<X, Fmt>, Win, S, P>, Fmt>
    : ShapeError<`${Op}: expects ${ShowPoolInput<Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of a 2-D pooling layer: `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * type Y = ApplyShape<Pool2dFn<"maxPool2d", 2, 2, "valid", "NHWC">, ["batch", 28, 28, 32]>; // ["batch", 14, 14, 32]
 */
export interface Pool2dFn<Op extends string, Win extends Pair, S extends Pair, P extends Padding2d, Fmt extends DataFormat2d> extends ShapeFn {
  readonly output: Pool2dLayerShape<Op, InputOf<this>, Win, S, P, Fmt>;
  readonly probe: ["...", number, number, number];
  readonly expects: ShowPoolInput<Fmt>;
}

/** The options of a pooling layer. */
export interface Pool2dLayerOptions<S extends Pair = Pair, P extends Padding2d = Padding2d, Fmt extends DataFormat2d = DataFormat2d> {
  /** The stride, one for both axes or `[height, width]` (default: the window). */
  readonly stride?: S;
  /** `"valid"` (default), `"same"`, one size for every side, or `[[top, bottom], [left, right]]`. */
  readonly padding?: P;
  /** `"NHWC"` (default) or `"NCHW"`. */
  readonly dataFormat?: Fmt;
}

/** The options of an average pooling layer: those of every pooling layer, and whether padding counts. */
export interface AvgPool2dLayerOptions<S extends Pair = Pair, P extends Padding2d = Padding2d, Fmt extends DataFormat2d = DataFormat2d> extends Pool2dLayerOptions<S, P, Fmt> {
  /** Whether padding zeros count in each window's mean (PyTorch's `count_include_pad`; default false here, true there). */
  readonly countIncludePad?: boolean;
}

/** A 2-D pooling layer. */
export type Pool2d<Op extends string, Win extends Pair, S extends Pair = Win, P extends Padding2d = "valid", Fmt extends DataFormat2d = "NHWC"> = Layer<
  NoParams,
  Pool2dFn<Op, Win, S, P, Fmt>
>;

function poolLayer<Op extends "maxPool2d" | "avgPool2d", Win extends Pair, S extends Pair, P extends Padding2d, Fmt extends DataFormat2d>(
  op: Op,
  window: Win,
  options: AvgPool2dLayerOptions<S, P, Fmt>,
): Pool2d<Op, Win, S, P, Fmt> {
  const fmt: DataFormat2d = options.dataFormat ?? "NHWC";
  for (const n of [...pairOf(window), ...pairOf(options.stride ?? 1)]) {
    if (!Number.isInteger(n) || n < 1) shapeError(op, `window and stride must be positive integers, got window ${String(window)} and stride ${String(options.stride)}`);
  }
  const countIncludePad = options.countIncludePad === true;
  if (op === "maxPool2d" && countIncludePad) shapeError(op, "countIncludePad is an option of average pooling only");
  return makeLayer<NoParams, Pool2dFn<Op, Win, S, P, Fmt>>(
    () => ({}),
    (_p, x) => {
      if (x.shape.length !== 4) shapeError(op, `expects ${fmt === "NCHW" ? "[N, C, H, W]" : "[N, H, W, C]"} but gets ${formatShape(x.shape)}`);
      const within: Pool2dOptions = { stride: options.stride ?? window, padding: options.padding ?? "valid" };
      const nhwc = toNHWC(x, fmt);
      const y = op === "maxPool2d" ? maxPoolOp(nhwc, window, within) : avgPoolOp(nhwc, window, { ...within, countIncludePad });
      return fromNHWC(y, fmt);
    },
    { name: op },
  );
}

const pairOf = (x: Pair): readonly [number, number] => (typeof x === "number" ? [x, x] : x);

/**
 * Max pooling over H and W with a `window` (one size or `[h, w]`); the stride
 * defaults to the window. `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * maxPool2d(2).apply({}, zeros([64, 28, 28, 32])); // Tensor<[64, 14, 14, 32]>
 */
export function maxPool2d<const Win extends Pair, const S extends Pair = Win, const P extends Padding2d = "valid", const Fmt extends DataFormat2d = "NHWC">(
  window: Win,
  options: Pool2dLayerOptions<S, P, Fmt> = {},
): Pool2d<"maxPool2d", Win, S, P, Fmt> {
  return poolLayer("maxPool2d", window, options);
}

/**
 * Average pooling over H and W with a `window`; the stride defaults to the
 * window. Padding is left out of each count unless `countIncludePad` is true
 * (PyTorch's `nn.AvgPool2d` default). `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * avgPool2d(2).apply({}, zeros([64, 28, 28, 32])); // Tensor<[64, 14, 14, 32]>
 * avgPool2d(3, { stride: 2, padding: 1, countIncludePad: true, dataFormat: "NCHW" }); // nn.AvgPool2d(3, 2, 1)
 */
export function avgPool2d<const Win extends Pair, const S extends Pair = Win, const P extends Padding2d = "valid", const Fmt extends DataFormat2d = "NHWC">(
  window: Win,
  options: AvgPool2dLayerOptions<S, P, Fmt> = {},
): Pool2d<"avgPool2d", Win, S, P, Fmt> {
  return poolLayer("avgPool2d", window, options);
}

/** The output shape of `globalAvgPool` on `X`: `[N, C]`, or `[N, 1, 1, C]` (`[N, C, 1, 1]`) with `KeepDims`. */
export type GlobalAvgPoolShape<X extends Shape, Fmt extends DataFormat2d, KeepDims extends boolean> = IsTuple<X> extends false
  ? Dim[]
  : ToNHWC<X, Fmt> extends readonly [infer N, Dim, Dim, infer C]
    ? KeepDims extends true
      ? FromNHWC<[N, 1, 1, C], Fmt>
      : [N, C]
    : ShapeError<`globalAvgPool: expects ${ShowPoolInput<Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of `globalAvgPool()`.
 *
 * @example
 * type Y = ApplyShape<GlobalAvgPoolFn<"NHWC", false>, [8, 7, 7, 512]>; // [8, 512]
 */
export interface GlobalAvgPoolFn<Fmt extends DataFormat2d, KeepDims extends boolean> extends ShapeFn {
  readonly output: GlobalAvgPoolShape<InputOf<this>, Fmt, KeepDims>;
  readonly probe: ["...", number, number, number];
  readonly expects: ShowPoolInput<Fmt>;
}

/** The options of `globalAvgPool`. */
export interface GlobalAvgPoolOptions<Fmt extends DataFormat2d = DataFormat2d, KeepDims extends boolean = boolean> {
  /** `"NHWC"` (default) or `"NCHW"`. */
  readonly dataFormat?: Fmt;
  /** Whether to keep H and W as dims of size 1 (default false). */
  readonly keepDims?: KeepDims;
}

/** The layer `globalAvgPool(...)`. */
export type GlobalAvgPool<Fmt extends DataFormat2d = "NHWC", KeepDims extends boolean = false> = Layer<NoParams, GlobalAvgPoolFn<Fmt, KeepDims>>;

/**
 * The mean over H and W: `[N, H, W, C]` to `[N, C]` (`[N, 1, 1, C]` with `keepDims`).
 *
 * @example
 * globalAvgPool().apply({}, zeros([8, 7, 7, 512])); // Tensor<[8, 512]>
 */
export function globalAvgPool<const Fmt extends DataFormat2d = "NHWC", const KeepDims extends boolean = false>(
  options: GlobalAvgPoolOptions<Fmt, KeepDims> = {},
): GlobalAvgPool<Fmt, KeepDims> {
  const channelsFirst = options.dataFormat === "NCHW";
  const keepDims = options.keepDims === true;
  return makeLayer<NoParams, GlobalAvgPoolFn<Fmt, KeepDims>>(
    () => ({}),
    (_p, x) => {
      if (x.shape.length !== 4) shapeError("globalAvgPool", `expects ${channelsFirst ? "[N, C, H, W]" : "[N, H, W, C]"} but gets ${formatShape(x.shape)}`);
      return mean(x, channelsFirst ? [2, 3] : [1, 2], keepDims);
    },
    { name: "globalAvgPool" },
  );
}

/** The output shape of the adaptive pooling `Op` of `X` in `Fmt` to `O`, or a `ShapeError`. */
export type AdaptivePool2dLayerShape<Op extends string, X extends Shape, O extends Pair, Fmt extends DataFormat2d> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [Dim, Dim, Dim, Dim]
    ? FromNHWC<AdaptivePool2dShape<Op, ToNHWC<X, Fmt>, O>, Fmt>
    : ShapeError<`${Op}: expects ${ShowPoolInput<Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of an adaptive pooling layer: `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * type Y = ApplyShape<AdaptivePool2dFn<"adaptiveAvgPool2d", 7, "NCHW">, ["batch", 512, 13, 13]>; // ["batch", 512, 7, 7]
 */
export interface AdaptivePool2dFn<Op extends string, O extends Pair, Fmt extends DataFormat2d> extends ShapeFn {
  readonly output: AdaptivePool2dLayerShape<Op, InputOf<this>, O, Fmt>;
  readonly probe: ["...", number, number, number];
  readonly expects: ShowPoolInput<Fmt>;
}

/** The options of an adaptive pooling layer. */
export interface AdaptivePool2dLayerOptions<Fmt extends DataFormat2d = DataFormat2d> {
  /** `"NHWC"` (default) or `"NCHW"`. */
  readonly dataFormat?: Fmt;
}

/** An adaptive 2-D pooling layer. */
export type AdaptivePool2d<Op extends string, O extends Pair, Fmt extends DataFormat2d = "NHWC"> = Layer<NoParams, AdaptivePool2dFn<Op, O, Fmt>>;

function adaptiveLayer<Op extends "adaptiveAvgPool2d" | "adaptiveMaxPool2d", O extends Pair, Fmt extends DataFormat2d>(
  op: Op,
  outputSize: O,
  options: AdaptivePool2dLayerOptions<Fmt>,
): AdaptivePool2d<Op, O, Fmt> {
  const fmt: DataFormat2d = options.dataFormat ?? "NHWC";
  const pool = op === "adaptiveAvgPool2d" ? adaptiveAvgOp : adaptiveMaxOp;
  return adaptivePoolLayer<AdaptivePool2dFn<Op, O, Fmt>>(op, outputSize, 4, fmt === "NCHW" ? "[N, C, H, W]" : "[N, H, W, C]", (x) =>
    fromNHWC(pool(toNHWC(x, fmt), outputSize), fmt),
  );
}

/**
 * A pooling layer without parameters to `outputSize` (one size or a pair,
 * each a positive whole number, else a `ShapeError` naming `op`) over inputs of
 * rank `rank` (read as `expects` in the message), computed by `pool`.
 */
function adaptivePoolLayer<F extends ShapeFn>(op: string, outputSize: number | Pair, rank: number, expects: string, pool: (x: Tensor<Shape>) => Tensor<Shape>): Layer<NoParams, F> {
  for (const n of pairOf(outputSize)) if (!Number.isInteger(n) || n < 1) shapeError(op, `an output size must be a positive integer, got ${String(outputSize)}`);
  return makeLayer<NoParams, F>(
    () => ({}),
    (_p, x) => {
      if (x.shape.length !== rank) shapeError(op, `expects ${expects} but gets ${formatShape(x.shape)}`);
      return pool(x);
    },
    { name: op },
  );
}

/**
 * Average pooling to `outputSize` (one size or `[OH, OW]`) whatever the
 * input's H and W, over PyTorch's bins (`nn.AdaptiveAvgPool2d`; see the op
 * `adaptiveAvgPool2d`). `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * sequential(conv2d(3, 512, 3), relu(), adaptiveAvgPool2d(1), flatten(), dense(512, 10)); // a torchvision-style head
 */
export function adaptiveAvgPool2d<const O extends Pair, const Fmt extends DataFormat2d = "NHWC">(
  outputSize: O & AdaptiveSizesCheck<"adaptiveAvgPool2d", O>,
  options: AdaptivePool2dLayerOptions<Fmt> = {},
): AdaptivePool2d<"adaptiveAvgPool2d", O, Fmt> {
  return adaptiveLayer("adaptiveAvgPool2d", outputSize, options);
}

/**
 * Max pooling to `outputSize` (one size or `[OH, OW]`) over PyTorch's bins
 * (`nn.AdaptiveMaxPool2d`). `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * adaptiveMaxPool2d([2, 3], { dataFormat: "NCHW" }).apply({}, zeros([8, 64, 10, 10])); // Tensor<[8, 64, 2, 3]>
 */
export function adaptiveMaxPool2d<const O extends Pair, const Fmt extends DataFormat2d = "NHWC">(
  outputSize: O & AdaptiveSizesCheck<"adaptiveMaxPool2d", O>,
  options: AdaptivePool2dLayerOptions<Fmt> = {},
): AdaptivePool2d<"adaptiveMaxPool2d", O, Fmt> {
  return adaptiveLayer("adaptiveMaxPool2d", outputSize, options);
}

/** How a 1-D pooling layer's expected input reads in a message. */
type ShowPool1dInput<Fmt extends DataFormat1d> = Fmt extends "NCW" ? "[N, C, L]" : "[N, L, C]";
/** `[N, C, L]` as `[N, L, C]` for `"NCW"`, else as it is. */
type ToNWC<X, Fmt extends DataFormat1d> = Fmt extends "NCW" ? (X extends readonly [infer N, infer C, infer L] ? [N, L, C] : X) : X;
/** `[N, L, C]` back as `[N, C, L]` for `"NCW"` (a `ShapeError` passes through). */
type FromNWC<Y, Fmt extends DataFormat1d> = Fmt extends "NCW" ? (Y extends readonly [infer N, infer L, infer C] ? [N, C, L] : Y) : Y;

/** The output shape of the adaptive 1-D pooling `Op` of `X` in `Fmt` to `O`, or a `ShapeError`. */
export type AdaptivePool1dLayerShape<Op extends string, X extends Shape, O extends number, Fmt extends DataFormat1d> = IsTuple<X> extends false
  ? Dim[]
  : X extends readonly [Dim, Dim, Dim]
    ? FromNWC<AdaptivePool1dShape<Op, ToNWC<X, Fmt> & Shape, O>, Fmt>
    : ShapeError<`${Op}: expects ${ShowPool1dInput<Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of an adaptive 1-D pooling layer: `[N, L, C]` to `[N, O, C]`.
 *
 * @example
 * type Y = ApplyShape<AdaptivePool1dFn<"adaptiveAvgPool1d", 10, "NWC">, ["batch", 100, 16]>; // ["batch", 10, 16]
 */
export interface AdaptivePool1dFn<Op extends string, O extends number, Fmt extends DataFormat1d> extends ShapeFn {
  readonly output: AdaptivePool1dLayerShape<Op, InputOf<this>, O, Fmt>;
  readonly probe: ["...", number, number];
  readonly expects: ShowPool1dInput<Fmt>;
}

/** The options of an adaptive 1-D pooling layer. */
export interface AdaptivePool1dLayerOptions<Fmt extends DataFormat1d = DataFormat1d> {
  /** `"NWC"` (default) or `"NCW"`. */
  readonly dataFormat?: Fmt;
}

/** An adaptive 1-D pooling layer. */
export type AdaptivePool1d<Op extends string, O extends number, Fmt extends DataFormat1d = "NWC"> = Layer<NoParams, AdaptivePool1dFn<Op, O, Fmt>>;

/** `unknown` when `O` is a positive whole number or only known at run time, else the `ShapeError` naming `Op`. */
type AdaptiveSizeCheck<Op extends string, O extends number> = AdaptiveOutSize<Op, O> extends infer S ? (S extends ShapeError<string> ? S : unknown) : never;

function adaptiveLayer1d<Op extends "adaptiveAvgPool1d" | "adaptiveMaxPool1d", O extends number, Fmt extends DataFormat1d>(
  op: Op,
  outputSize: O,
  options: AdaptivePool1dLayerOptions<Fmt>,
): AdaptivePool1d<Op, O, Fmt> {
  const channelsFirst = options.dataFormat === "NCW";
  const pool = op === "adaptiveAvgPool1d" ? adaptiveAvg1dOp : adaptiveMax1dOp;
  const size: number = outputSize; // the layer's type, not the op's, carries O
  return adaptivePoolLayer<AdaptivePool1dFn<Op, O, Fmt>>(op, outputSize, 3, channelsFirst ? "[N, C, L]" : "[N, L, C]", (x) => {
    const seq = x as Tensor<[number, number, number]>; // rank 3, checked by adaptivePoolLayer
    const y = pool(channelsFirst ? transpose(seq, [0, 2, 1]) : seq, size) as Tensor<[number, number, number]>; // [N, size, C], as the op's rule says
    return channelsFirst ? transpose(y, [0, 2, 1]) : y;
  });
}

/**
 * Average pooling of a sequence to `outputSize` positions whatever its
 * length, over PyTorch's bins (`nn.AdaptiveAvgPool1d`; see the op
 * `adaptiveAvgPool1d`). `[N, L, C]` to `[N, O, C]` (`[N, C, L]` to
 * `[N, C, O]` with `dataFormat: "NCW"`).
 *
 * @example
 * adaptiveAvgPool1d(10).apply({}, zeros([8, 100, 16])); // Tensor<[8, 10, 16]>
 */
export function adaptiveAvgPool1d<const O extends number, const Fmt extends DataFormat1d = "NWC">(
  outputSize: O & AdaptiveSizeCheck<"adaptiveAvgPool1d", O>,
  options: AdaptivePool1dLayerOptions<Fmt> = {},
): AdaptivePool1d<"adaptiveAvgPool1d", O, Fmt> {
  return adaptiveLayer1d("adaptiveAvgPool1d", outputSize, options);
}

/**
 * Max pooling of a sequence to `outputSize` positions over PyTorch's bins
 * (`nn.AdaptiveMaxPool1d`). `[N, L, C]` to `[N, O, C]`.
 *
 * @example
 * adaptiveMaxPool1d(7, { dataFormat: "NCW" }).apply({}, zeros([8, 16, 100])); // Tensor<[8, 16, 7]>
 */
export function adaptiveMaxPool1d<const O extends number, const Fmt extends DataFormat1d = "NWC">(
  outputSize: O & AdaptiveSizeCheck<"adaptiveMaxPool1d", O>,
  options: AdaptivePool1dLayerOptions<Fmt> = {},
): AdaptivePool1d<"adaptiveMaxPool1d", O, Fmt> {
  return adaptiveLayer1d("adaptiveMaxPool1d", outputSize, options);
}
