/**
 * Pooling layers: `maxPool2d`, `avgPool2d` and `globalAvgPool`, with no
 * parameters, like the activation layers.
 *
 * As Keras's `MaxPooling2D`, `AveragePooling2D` and `GlobalAveragePooling2D`:
 * the stride defaults to the window, `"same"` padding is TensorFlow's, and
 * average pooling counts only the elements inside the input. Max pooling's
 * gradient goes to the first maximum of each window. The shape functions
 * reuse `Pool2dShape`, so `sequential` checks the sizes at compile time. The
 * input has rank 4 exactly (`[N, H, W, C]`, or `[N, C, H, W]` with
 * `dataFormat: "NCHW"`). Deliberately left out: global max pooling and 1-D
 * or 3-D pools.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import { formatShape, type Dim, type Shape, type ShowShape } from "../core/shape.js";
import type { IsTuple } from "../core/rules/dims.js";
import { avgPool2d as avgPoolOp, maxPool2d as maxPoolOp, type Padding2d, type Pair, type Pool2dShape } from "../ops/conv.js";
import { mean } from "../ops/reduce.js";
import type { NoParams } from "./activations.js";
import { fromNHWC, toNHWC, type DataFormat2d, type FromNHWC, type ToNHWC } from "./conv.js";
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

/** A 2-D pooling layer. */
export type Pool2d<Op extends string, Win extends Pair, S extends Pair = Win, P extends Padding2d = "valid", Fmt extends DataFormat2d = "NHWC"> = Layer<
  NoParams,
  Pool2dFn<Op, Win, S, P, Fmt>
>;

function poolLayer<Op extends "maxPool2d" | "avgPool2d", Win extends Pair, S extends Pair, P extends Padding2d, Fmt extends DataFormat2d>(
  op: Op,
  window: Win,
  options: Pool2dLayerOptions<S, P, Fmt>,
): Pool2d<Op, Win, S, P, Fmt> {
  const fmt: DataFormat2d = options.dataFormat ?? "NHWC";
  for (const n of [...pairOf(window), ...pairOf(options.stride ?? 1)]) {
    if (!Number.isInteger(n) || n < 1) shapeError(op, `window and stride must be positive integers, got window ${String(window)} and stride ${String(options.stride)}`);
  }
  const pool = op === "maxPool2d" ? maxPoolOp : avgPoolOp;
  return makeLayer<NoParams, Pool2dFn<Op, Win, S, P, Fmt>>(
    () => ({}),
    (_p, x) => {
      if (x.shape.length !== 4) shapeError(op, `expects ${fmt === "NCHW" ? "[N, C, H, W]" : "[N, H, W, C]"} but gets ${formatShape(x.shape)}`);
      const y = pool(toNHWC(x, fmt), window, { stride: options.stride ?? window, padding: options.padding ?? "valid" });
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
 * Average pooling over H and W with a `window` (padding left out of each
 * count); the stride defaults to the window. `[N, H, W, C]` to `[N, OH, OW, C]`.
 *
 * @example
 * avgPool2d(2).apply({}, zeros([64, 28, 28, 32])); // Tensor<[64, 14, 14, 32]>
 */
export function avgPool2d<const Win extends Pair, const S extends Pair = Win, const P extends Padding2d = "valid", const Fmt extends DataFormat2d = "NHWC">(
  window: Win,
  options: Pool2dLayerOptions<S, P, Fmt> = {},
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
