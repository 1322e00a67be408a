/**
 * Convolution layers: `conv2d`, `conv1d` and `convTranspose2d`, each a filter
 * (and a bias) applied by the conv ops of `ops/conv.ts`.
 *
 * As Keras's `Conv2D`/`Conv1D`/`Conv2DTranspose` and Flax's `nn.Conv`: the
 * filter is `[KH, KW, C / groups, O]` (HWIO, so that NHWC needs no
 * transpose), the bias is added per output channel, and `"same"` padding is
 * TensorFlow's (the extra element after). `convTranspose2d` keeps Keras's
 * filter layout `[KH, KW, O, C]` and is the gradient of a convolution with
 * respect to its input, so its output size is PyTorch's and Keras's
 * `(H - 1) * stride - padTotal + dilation * (K - 1) + 1 + outputPadding`
 * (`"same"`: `H * stride`). The type-level shape functions reuse
 * `Conv2dShape` and `ConvOutSize`, so `sequential` checks a CNN at compile
 * time. The input has rank 4 exactly (rank 3 for `conv1d`): a batch dim is
 * required, as in Keras; an unbatched image is `expandDims(x, 0)` away.
 * `"NCHW"` (`"NCW"`) inputs are transposed to channels-last around the op.
 * Deliberately left out: a fused activation (compose with an activation
 * layer), depth multipliers, 3-D convolution, and groups for the transposed
 * convolution.
 */

import type { FloorDiv, Mod } from "../core/arith/index.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import { badDim, formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { DimsMatch, IsTuple } from "../core/rules/dims.js";
import type { ConvOutSize, ConvTransposeOutSize } from "../core/rules/conv.js";
import { conv2d as conv2dOp, convTranspose2d as convTranspose2dOp, type Conv2dShape, type Padding2d, type Pair } from "../ops/conv.js";
import { add } from "../ops/elementwise.js";
import { reshape as reshapeOp, transpose } from "../ops/shape.js";
import { split, type Key } from "../random/key.js";
import { initializers, zeros, type Initializer, type InitializerName } from "./init.js";
import { checkParams, makeLayer, type InputOf, type Layer, type ShapeFn } from "./layer.js";

// ---------------------------------------------------------------------------
// Type-level helpers
// ---------------------------------------------------------------------------

/** Where the channels of an image are: last (`"NHWC"`, the default) or after the batch (`"NCHW"`). */
export type DataFormat2d = "NHWC" | "NCHW";

/** Where the channels of a sequence are: last (`"NWC"`, the default) or after the batch (`"NCW"`). */
export type DataFormat1d = "NWC" | "NCW";

/** The size along axis `I` (0: height, 1: width) of a pair option. */
export type AxisOf<X extends Pair, I extends 0 | 1> = X extends readonly [number, number] ? X[I] : X;

/** An input in `Fmt` as NHWC (a rank other than 4 stays as it is, for the rank message). */
export type ToNHWC<X extends Shape, Fmt extends DataFormat2d> = Fmt extends "NCHW"
  ? X extends readonly [infer N, infer C, infer H, infer W]
    ? [N, H, W, C]
    : X
  : X;

/** An NHWC output in `Fmt` (a `ShapeError` passes through). */
export type FromNHWC<Y, Fmt extends DataFormat2d> = Fmt extends "NCHW" ? (Y extends readonly [infer N, infer H, infer W, infer C] ? [N, C, H, W] : Y) : Y;

/** How a layer's expected input reads in a message: `[N, H, W, 3]` or `[N, 3, H, W]`. */
export type ShowImage<C, Fmt extends DataFormat2d> = Fmt extends "NCHW" ? `[N, ${ShowDim<C>}, H, W]` : `[N, H, W, ${ShowDim<C>}]`;

/** The most general input of a 2-D layer on `C` channels: a batch dim, two sizes and the channels where `Fmt` puts them. */
export type ImageProbe<C extends Dim, Fmt extends DataFormat2d> = Fmt extends "NCHW" ? ["...", C, number, number] : ["...", number, number, C];

/** The input channels of each group: `C / G` (a literal when both are). */
export type PerGroup<C extends number, G extends number> = G extends 1 ? C : number extends C | G ? number : FloorDiv<C, G>;

/**
 * What the options of a convolution `Op` must also be for `G` groups of `C`
 * input and `O` output channels: anything when `G` divides both (or a count
 * is only `number`), else an object whose `groups` is a `ShapeError`, so that
 * the call does not compile and the message says why.
 *
 * @example
 * type E = GroupsCheck<"conv2d", 3, 6, 2>; // { readonly groups: ShapeError<"conv2d: groups 2 must divide both inChannels 3 and outChannels 6"> }
 */
export type GroupsCheck<Op extends string, C extends number, O extends number, G extends number> = G extends 1
  ? unknown
  : number extends C | O | G
    ? unknown
    : [Mod<C, G>, Mod<O, G>] extends [0, 0]
      ? unknown
      : { readonly groups: ShapeError<`${Op}: groups ${G} must divide both inChannels ${C} and outChannels ${O}`> };

/**
 * The output shape of a 2-D layer `Op` with `C` input and `O` output
 * channels on `X`: `Conv2dShape` of the channels-last view, put back in
 * `Fmt`; a `ShapeError` for a rank other than 4 or other channels.
 */
export type Conv2dLayerShape<
  Op extends string,
  X extends Shape,
  C extends number,
  O extends number,
  K extends Pair,
  S extends Pair,
  Dl extends Pair,
  P extends Padding2d,
  Fmt extends DataFormat2d,
> = IsTuple<X> extends false
  ? Dim[]
  : ToNHWC<X, Fmt> extends readonly [infer N extends Dim, infer H extends Dim, infer W extends Dim, infer Ch]
    ? DimsMatch<Ch, C> extends true
      ? FromNHWC<Conv2dShape<[N, H, W, C], [AxisOf<K, 0>, AxisOf<K, 1>, C, O], S, Dl, P, 1>, Fmt>
      : ShapeError<`${Op}: expects ${ShowImage<C, Fmt>} but gets ${ShowShape<X>}`>
    : ShapeError<`${Op}: expects ${ShowImage<C, Fmt>} but gets ${ShowShape<X>}`>;

// ---------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------

/**
 * The shape function of `conv2d(C, O, K, options)`: `[N, H, W, C]` to
 * `[N, OH, OW, O]` (NCHW: `[N, C, H, W]` to `[N, O, OH, OW]`).
 *
 * @example
 * type Y = ApplyShape<Conv2dFn<1, 32, 3, 1, 1, "same", "NHWC">, ["batch", 28, 28, 1]>; // ["batch", 28, 28, 32]
 */
export interface Conv2dFn<C extends number, O extends number, K extends Pair, S extends Pair, Dl extends Pair, P extends Padding2d, Fmt extends DataFormat2d>
  extends ShapeFn {
  readonly output: Conv2dLayerShape<"conv2d", InputOf<this>, C, O, K, S, Dl, P, Fmt>;
  readonly probe: ImageProbe<C, Fmt>;
  readonly expects: ShowImage<C, Fmt>;
}

/** The parameters of a convolution with filter shape `W` and `O` output channels: `w`, and `b` unless `Bias` is false. */
export type ConvParams<W extends readonly number[], O extends number, Bias extends boolean = true> = Bias extends false
  ? { w: Tensor<[...W]> }
  : { w: Tensor<[...W]>; b: Tensor<[O]> };

/** The options of every convolution layer. */
export interface ConvLayerOptions<Bias extends boolean = true> {
  /** Whether to add a bias per output channel (default true). */
  readonly useBias?: Bias;
  /** The filter initialiser (default `"glorotUniform"`); the bias starts at zero. */
  readonly init?: InitializerName | Initializer;
}

/** The options of every 2-D convolution layer (`conv2d`, `convTranspose2d`): the window's stride and dilation, and the data format. */
export interface Conv2dWindowOptions<S extends Pair = Pair, Dl extends Pair = Pair, Bias extends boolean = true, Fmt extends DataFormat2d = DataFormat2d>
  extends ConvLayerOptions<Bias> {
  /** The stride, one for both axes or `[height, width]` (default 1). */
  readonly stride?: S;
  /** The dilation, one for both axes or `[height, width]` (default 1). */
  readonly dilation?: Dl;
  /** `"NHWC"` (default) or `"NCHW"`. */
  readonly dataFormat?: Fmt;
}

/** The options of `conv2d`. */
export interface Conv2dLayerOptions<
  S extends Pair = Pair,
  Dl extends Pair = Pair,
  P extends Padding2d = Padding2d,
  G extends number = number,
  Bias extends boolean = true,
  Fmt extends DataFormat2d = DataFormat2d,
> extends Conv2dWindowOptions<S, Dl, Bias, Fmt> {
  /** `"valid"` (default), `"same"`, one size for every side, or `[[top, bottom], [left, right]]`. */
  readonly padding?: P;
  /** The number of groups; it divides both channel counts (default 1). */
  readonly groups?: G;
}

/** The layer `conv2d(C, O, K, ...)`. */
export type Conv2d<
  C extends number,
  O extends number,
  K extends Pair,
  S extends Pair = 1,
  Dl extends Pair = 1,
  P extends Padding2d = "valid",
  G extends number = 1,
  Bias extends boolean = true,
  Fmt extends DataFormat2d = "NHWC",
> = Layer<ConvParams<[AxisOf<K, 0>, AxisOf<K, 1>, PerGroup<C, G>, O], O, Bias>, Conv2dFn<C, O, K, S, Dl, P, Fmt>>;

/**
 * A 2-D convolution layer from `inChannels` to `outChannels` with a
 * `kernelSize` window: `[N, H, W, C]` to `[N, OH, OW, O]`, the filter
 * `[KH, KW, C / groups, O]`.
 *
 * @example
 * const layer = conv2d(1, 32, 3, { padding: "same" });
 * const p = layer.init(key(0)); // { w: Tensor<[3, 3, 1, 32]>; b: Tensor<[32]> }
 * layer.apply(p, zeros([64, 28, 28, 1])); // Tensor<[64, 28, 28, 32]>
 */
export function conv2d<
  const C extends number,
  const O extends number,
  const K extends Pair,
  const S extends Pair = 1,
  const Dl extends Pair = 1,
  const P extends Padding2d = "valid",
  const G extends number = 1,
  const Bias extends boolean = true,
  const Fmt extends DataFormat2d = "NHWC",
>(
  inChannels: C,
  outChannels: O,
  kernelSize: K,
  given?: Conv2dLayerOptions<S, Dl, P, G, Bias, Fmt> & GroupsCheck<"conv2d", C, O, G>,
): Conv2d<C, O, K, S, Dl, P, G, Bias, Fmt> {
  const options: Conv2dLayerOptions<S, Dl, P, G, Bias, Fmt> = given ?? {};
  const groups = options.groups ?? 1;
  const [kh, kw] = pairOf(kernelSize);
  checkConfig("conv2d", { inChannels, outChannels, groups, kernelSize: [kh, kw], stride: options.stride, dilation: options.dilation, padding: options.padding });
  const fmt: DataFormat2d = options.dataFormat ?? "NHWC";
  // The filter shape [KH, KW, C / groups, O] of the parameter type, computed at run time from the same sizes.
  type Params = ConvParams<[AxisOf<K, 0>, AxisOf<K, 1>, PerGroup<C, G>, O], O, Bias>;
  const filter = [kh, kw, inChannels / groups, outChannels];
  return convLayer<Params, Conv2dFn<C, O, K, S, Dl, P, Fmt>>(
    "conv2d",
    filter,
    outChannels,
    options,
    imageForward("conv2d", inChannels, fmt, (x, w) => conv2dOp(x, w, { stride: options.stride ?? 1, dilation: options.dilation ?? 1, padding: options.padding ?? "valid", groups })),
  );
}

// ---------------------------------------------------------------------------
// conv1d
// ---------------------------------------------------------------------------

/** Padding of a 1-D window: a scheme, one size for both sides, or `[left, right]`. */
export type Padding1d = "valid" | "same" | number | readonly [number, number];

/** A 1-D padding as the padding of a height-1 image. */
export type Conv1dPadding<P extends Padding1d> = P extends readonly [number, number] ? [[0, 0], P] : P extends number ? [[0, 0], [P, P]] : P;

/** How a 1-D layer's expected input reads in a message: `[N, W, 16]` or `[N, 16, W]`. */
export type ShowSequence<C, Fmt extends DataFormat1d> = Fmt extends "NCW" ? `[N, ${ShowDim<C>}, W]` : `[N, W, ${ShowDim<C>}]`;

/**
 * The output shape of `conv1d` on `X`: `[N, W, C]` to `[N, OW, O]` (NCW:
 * `[N, C, W]` to `[N, O, OW]`), or a `ShapeError`.
 */
export type Conv1dLayerShape<X extends Shape, C extends number, O extends number, K extends number, S extends number, Dl extends number, P extends Padding1d, Fmt extends DataFormat1d> =
  IsTuple<X> extends false
    ? Dim[]
    : (Fmt extends "NCW" ? (X extends readonly [infer N, infer Ch, infer W] ? [N, W, Ch] : X) : X) extends readonly [infer N, infer W, infer Ch]
      ? DimsMatch<Ch, C> extends true
        ? ConvOutSize<W, K, S, Dl, P> extends infer OW
          ? OW extends ShapeError<string>
            ? OW
            : Fmt extends "NCW"
              ? [N, O, OW]
              : [N, OW, O]
          : never
        : ShapeError<`conv1d: expects ${ShowSequence<C, Fmt>} but gets ${ShowShape<X>}`>
      : ShapeError<`conv1d: expects ${ShowSequence<C, Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of `conv1d(C, O, K, options)`.
 *
 * @example
 * type Y = ApplyShape<Conv1dFn<16, 32, 5, 1, 1, "same", "NWC">, [8, 100, 16]>; // [8, 100, 32]
 */
export interface Conv1dFn<C extends number, O extends number, K extends number, S extends number, Dl extends number, P extends Padding1d, Fmt extends DataFormat1d>
  extends ShapeFn {
  readonly output: Conv1dLayerShape<InputOf<this>, C, O, K, S, Dl, P, Fmt>;
  readonly probe: Fmt extends "NCW" ? ["...", C, number] : ["...", number, C];
  readonly expects: ShowSequence<C, Fmt>;
}

/** The options of `conv1d`. */
export interface Conv1dLayerOptions<
  S extends number = number,
  Dl extends number = number,
  P extends Padding1d = Padding1d,
  G extends number = number,
  Bias extends boolean = true,
  Fmt extends DataFormat1d = DataFormat1d,
> extends ConvLayerOptions<Bias> {
  /** The stride (default 1). */
  readonly stride?: S;
  /** The dilation (default 1). */
  readonly dilation?: Dl;
  /** `"valid"` (default), `"same"`, one size for both sides, or `[left, right]`. */
  readonly padding?: P;
  /** The number of groups; it divides both channel counts (default 1). */
  readonly groups?: G;
  /** `"NWC"` (default) or `"NCW"`. */
  readonly dataFormat?: Fmt;
}

/** The layer `conv1d(C, O, K, ...)`. */
export type Conv1d<
  C extends number,
  O extends number,
  K extends number,
  S extends number = 1,
  Dl extends number = 1,
  P extends Padding1d = "valid",
  G extends number = 1,
  Bias extends boolean = true,
  Fmt extends DataFormat1d = "NWC",
> = Layer<ConvParams<[K, PerGroup<C, G>, O], O, Bias>, Conv1dFn<C, O, K, S, Dl, P, Fmt>>;

/**
 * A 1-D convolution layer over sequences: `[N, W, C]` to `[N, OW, O]`, the
 * filter `[K, C / groups, O]` (a 2-D convolution of height 1).
 *
 * @example
 * const layer = conv1d(16, 32, 5, { padding: "same" });
 * const p = layer.init(key(0)); // { w: Tensor<[5, 16, 32]>; b: Tensor<[32]> }
 * layer.apply(p, zeros([8, 100, 16])); // Tensor<[8, 100, 32]>
 */
export function conv1d<
  const C extends number,
  const O extends number,
  const K extends number,
  const S extends number = 1,
  const Dl extends number = 1,
  const P extends Padding1d = "valid",
  const G extends number = 1,
  const Bias extends boolean = true,
  const Fmt extends DataFormat1d = "NWC",
>(
  inChannels: C,
  outChannels: O,
  kernelSize: K,
  given?: Conv1dLayerOptions<S, Dl, P, G, Bias, Fmt> & GroupsCheck<"conv1d", C, O, G>,
): Conv1d<C, O, K, S, Dl, P, G, Bias, Fmt> {
  const options: Conv1dLayerOptions<S, Dl, P, G, Bias, Fmt> = given ?? {};
  const groups = options.groups ?? 1;
  const padding = options.padding ?? "valid";
  // a height-1 image: no padding on the height axis ("same" with a height-1 kernel pads nothing)
  const padding2d: Padding2d = typeof padding === "string" ? padding : typeof padding === "number" ? [[0, 0], [padding, padding]] : [[0, 0], padding];
  checkConfig("conv1d", { inChannels, outChannels, groups, kernelSize: [kernelSize], stride: options.stride, dilation: options.dilation, padding: padding2d });
  const channelsFirst = options.dataFormat === "NCW";
  // The filter shape [K, C / groups, O] of the parameter type, computed at run time from the same sizes.
  type Params = ConvParams<[K, PerGroup<C, G>, O], O, Bias>;
  const filter = [kernelSize, inChannels / groups, outChannels];
  return convLayer<Params, Conv1dFn<C, O, K, S, Dl, P, Fmt>>("conv1d", filter, outChannels, options, (x, w, addBias) => {
    const expects = channelsFirst ? `[N, ${inChannels}, W]` : `[N, W, ${inChannels}]`;
    if (x.shape.length !== 3 || x.shape[channelsFirst ? 1 : 2] !== inChannels) shapeError("conv1d", `expects ${expects} but gets ${formatShape(x.shape)}`);
    const nwc = channelsFirst ? transpose(x, [0, 2, 1]) : x;
    const [n = 0, width = 0] = nwc.shape;
    const image = conv2dOp(reshapeOp(nwc, [n, 1, width, inChannels]), reshapeOp(w, [1, kernelSize, inChannels / groups, outChannels]), {
      stride: [1, options.stride ?? 1],
      dilation: [1, options.dilation ?? 1],
      padding: padding2d,
      groups,
    });
    const y = reshapeOp(image, [n, image.shape[2] ?? 0, outChannels]);
    const biased = addBias(y);
    return channelsFirst ? transpose(biased, [0, 2, 1]) : biased;
  });
}

// ---------------------------------------------------------------------------
// convTranspose2d
// ---------------------------------------------------------------------------

/** The output shape of `convTranspose2d` on `X`, or a `ShapeError`. */
export type ConvTranspose2dLayerShape<
  X extends Shape,
  C extends number,
  O extends number,
  K extends Pair,
  S extends Pair,
  Dl extends Pair,
  P extends Padding2d,
  OP extends Pair,
  Fmt extends DataFormat2d,
> = IsTuple<X> extends false
  ? Dim[]
  : ToNHWC<X, Fmt> extends readonly [infer N, infer H, infer W, infer Ch]
    ? DimsMatch<Ch, C> extends true
      ? ConvTransposeOutSize<H, AxisOf<K, 0>, AxisOf<S, 0>, AxisOf<Dl, 0>, P, 0, AxisOf<OP, 0>> extends infer OH
        ? ConvTransposeOutSize<W, AxisOf<K, 1>, AxisOf<S, 1>, AxisOf<Dl, 1>, P, 1, AxisOf<OP, 1>> extends infer OW
          ? OH extends ShapeError<string>
            ? OH
            : OW extends ShapeError<string>
              ? OW
              : FromNHWC<[N, OH, OW, O], Fmt>
          : never
        : never
      : ShapeError<`convTranspose2d: expects ${ShowImage<C, Fmt>} but gets ${ShowShape<X>}`>
    : ShapeError<`convTranspose2d: expects ${ShowImage<C, Fmt>} but gets ${ShowShape<X>}`>;

/**
 * The shape function of `convTranspose2d(C, O, K, options)`.
 *
 * @example
 * type Y = ApplyShape<ConvTranspose2dFn<64, 32, 3, 2, 1, "same", 0, "NHWC">, [8, 7, 7, 64]>; // [8, 14, 14, 32]
 */
export interface ConvTranspose2dFn<
  C extends number,
  O extends number,
  K extends Pair,
  S extends Pair,
  Dl extends Pair,
  P extends Padding2d,
  OP extends Pair,
  Fmt extends DataFormat2d,
> extends ShapeFn {
  readonly output: ConvTranspose2dLayerShape<InputOf<this>, C, O, K, S, Dl, P, OP, Fmt>;
  readonly probe: ImageProbe<C, Fmt>;
  readonly expects: ShowImage<C, Fmt>;
}

/** The options of `convTranspose2d`. */
export interface ConvTranspose2dLayerOptions<
  S extends Pair = Pair,
  Dl extends Pair = Pair,
  P extends Padding2d = Padding2d,
  OP extends Pair = Pair,
  Bias extends boolean = true,
  Fmt extends DataFormat2d = DataFormat2d,
> extends Conv2dWindowOptions<S, Dl, Bias, Fmt> {
  /** `"valid"` (default), `"same"` (the output is the input times the stride), one size, or `[[top, bottom], [left, right]]`. */
  readonly padding?: P;
  /** Extra rows and columns at the bottom and right, each below the stride (default 0; not with `"same"`). */
  readonly outputPadding?: OP;
}

/** The layer `convTranspose2d(C, O, K, ...)`. */
export type ConvTranspose2d<
  C extends number,
  O extends number,
  K extends Pair,
  S extends Pair = 1,
  Dl extends Pair = 1,
  P extends Padding2d = "valid",
  OP extends Pair = 0,
  Bias extends boolean = true,
  Fmt extends DataFormat2d = "NHWC",
> = Layer<ConvParams<[AxisOf<K, 0>, AxisOf<K, 1>, O, C], O, Bias>, ConvTranspose2dFn<C, O, K, S, Dl, P, OP, Fmt>>;

/**
 * A transposed 2-D convolution layer (Keras's `Conv2DTranspose`): `[N, H, W, C]`
 * to `[N, OH, OW, O]` with `OH = (H - 1) * stride - padTotal + dilation * (KH - 1) + 1 + outputPadding`
 * (`H * stride` for `"same"`); the filter is `[KH, KW, O, C]`, as in Keras.
 * It is the gradient of `conv2d` with respect to its input.
 *
 * @example
 * const layer = convTranspose2d(64, 32, 3, { stride: 2, padding: "same" });
 * const p = layer.init(key(0)); // { w: Tensor<[3, 3, 32, 64]>; b: Tensor<[32]> }
 * layer.apply(p, zeros([8, 7, 7, 64])); // Tensor<[8, 14, 14, 32]>
 */
export function convTranspose2d<
  const C extends number,
  const O extends number,
  const K extends Pair,
  const S extends Pair = 1,
  const Dl extends Pair = 1,
  const P extends Padding2d = "valid",
  const OP extends Pair = 0,
  const Bias extends boolean = true,
  const Fmt extends DataFormat2d = "NHWC",
>(
  inChannels: C,
  outChannels: O,
  kernelSize: K,
  options: ConvTranspose2dLayerOptions<S, Dl, P, OP, Bias, Fmt> = {},
): ConvTranspose2d<C, O, K, S, Dl, P, OP, Bias, Fmt> {
  const [kh, kw] = pairOf(kernelSize);
  checkConfig("convTranspose2d", { inChannels, outChannels, groups: 1, kernelSize: [kh, kw], stride: options.stride, dilation: options.dilation, padding: options.padding });
  const fmt: DataFormat2d = options.dataFormat ?? "NHWC";
  // The filter shape [KH, KW, O, C] of the parameter type, computed at run time from the same sizes.
  type Params = ConvParams<[AxisOf<K, 0>, AxisOf<K, 1>, O, C], O, Bias>;
  const filter = [kh, kw, outChannels, inChannels];
  return convLayer<Params, ConvTranspose2dFn<C, O, K, S, Dl, P, OP, Fmt>>(
    "convTranspose2d",
    filter,
    outChannels,
    options,
    imageForward("convTranspose2d", inChannels, fmt, (x, w) =>
      convTranspose2dOp(x, w, { stride: options.stride ?? 1, dilation: options.dilation ?? 1, padding: options.padding ?? "valid", outputPadding: options.outputPadding ?? 0 }),
    ),
  );
}

// ---------------------------------------------------------------------------
// Shared run-time pieces
// ---------------------------------------------------------------------------

const pairOf = (x: Pair): readonly [number, number] => (typeof x === "number" ? [x, x] : x);

/** Checks a convolution's configuration; a `ShapeError` naming the layer and the bad value. */
function checkConfig(
  op: string,
  c: {
    readonly inChannels: number;
    readonly outChannels: number;
    readonly groups: number;
    readonly kernelSize: readonly number[];
    readonly stride: Pair | undefined;
    readonly dilation: Pair | undefined;
    readonly padding: Padding2d | undefined;
  },
): void {
  const positive = (name: string, n: number): void => {
    const bad = badDim(n) ?? (n === 0 ? "0 is not positive" : undefined);
    if (bad !== undefined) shapeError(op, `${name}: ${bad}`);
  };
  positive("inChannels", c.inChannels);
  positive("outChannels", c.outChannels);
  positive("groups", c.groups);
  c.kernelSize.forEach((k) => positive("kernelSize", k));
  pairOf(c.stride ?? 1).forEach((s) => positive("stride", s));
  pairOf(c.dilation ?? 1).forEach((d) => positive("dilation", d));
  const pads = typeof c.padding === "number" ? [c.padding] : typeof c.padding === "object" ? c.padding.flat() : [];
  for (const pad of pads) {
    const bad = badDim(pad);
    if (bad !== undefined) shapeError(op, `padding: ${bad}`);
  }
  if (c.inChannels % c.groups !== 0 || c.outChannels % c.groups !== 0) {
    shapeError(op, `groups ${c.groups} must divide both inChannels ${c.inChannels} and outChannels ${c.outChannels}`);
  }
}

/** Checks that `shape` is an image with `channels` channels in `fmt`. */
function checkImage(op: string, shape: readonly number[], channels: number, fmt: DataFormat2d): void {
  const at = fmt === "NCHW" ? 1 : 3;
  if (shape.length !== 4 || shape[at] !== channels) {
    shapeError(op, `expects ${fmt === "NCHW" ? `[N, ${channels}, H, W]` : `[N, H, W, ${channels}]`} but gets ${formatShape(shape)}`);
  }
}

/**
 * An image in `fmt` as NHWC.
 *
 * @example
 * toNHWC(zeros([8, 3, 32, 32]), "NCHW").shape; // [8, 32, 32, 3]
 */
export function toNHWC(x: Tensor<Shape>, fmt: DataFormat2d): Tensor<Shape> {
  return fmt === "NCHW" ? transpose(x, [0, 2, 3, 1]) : x;
}

/**
 * An NHWC image in `fmt`.
 *
 * @example
 * fromNHWC(zeros([8, 32, 32, 3]), "NCHW").shape; // [8, 3, 32, 32]
 */
export function fromNHWC(y: Tensor<Shape>, fmt: DataFormat2d): Tensor<Shape> {
  return fmt === "NCHW" ? transpose(y, [0, 3, 1, 2]) : y;
}

/** The `init` of a convolution: the filter of shape `filter` from the initialiser, the bias at zero. */
function paramsInit<P>(filter: readonly number[], outChannels: number, options: ConvLayerOptions<boolean>): (k: Key) => P {
  const filterInit = typeof options.init === "function" ? options.init : initializers[options.init ?? "glorotUniform"];
  const useBias = options.useBias !== false;
  return (k) => {
    const [kw = k, kb = k] = split(k, 2);
    const w = filterInit(kw, filter);
    // `filter` holds the sizes of P's filter type and `b` is present exactly when its Bias is not false.
    return (useBias ? { w, b: zeros(kb, [outChannels]) } : { w }) as P;
  };
}

/** The parameter shapes `checkParams` holds a convolution to: the filter, and the bias `[O]` unless it is turned off. */
function expectedParams(filter: readonly number[], outChannels: number, options: ConvLayerOptions<boolean>): { readonly w: readonly number[]; readonly b: readonly number[] | undefined } {
  return { w: filter, b: options.useBias !== false ? [outChannels] : undefined };
}

/** `y + b` per output channel when the layer has a bias, `y` itself otherwise. */
function withBias(y: Tensor<Shape>, b: Tensor<Shape> | undefined, expected: { readonly b: readonly number[] | undefined }): Tensor<Shape> {
  return expected.b === undefined || b === undefined ? y : add(y, b);
}

/** What a convolution's `apply` runs after the parameter check: the input, the filter, and `addBias` for a channels-last output. */
type ConvForward = (x: Tensor<Shape>, w: Tensor<Shape>, addBias: (y: Tensor<Shape>) => Tensor<Shape>) => Tensor<Shape>;

/**
 * The layer of convolution `op` with filter shape `filter`: `init` makes
 * the filter and the bias, and `apply` checks the parameters' shapes, then
 * runs `forward`.
 */
function convLayer<P extends { readonly w: Tensor<Shape>; readonly b?: Tensor<Shape> }, F extends ShapeFn>(
  op: string,
  filter: readonly number[],
  outChannels: number,
  options: ConvLayerOptions<boolean>,
  forward: ConvForward,
): Layer<P, F> {
  const expected = expectedParams(filter, outChannels, options);
  return makeLayer<P, F>(paramsInit<P>(filter, outChannels, options), (p, x) => {
    checkParams(op, p, expected);
    return forward(x, p.w, (y) => withBias(y, p.b, expected));
  }, { name: op });
}

/**
 * The `forward` of a 2-D layer `op` on `fmt` images with `channels`
 * channels: checks the input, runs `conv` on it channels-last, adds the
 * bias, and puts the output back in `fmt`.
 */
function imageForward(op: string, channels: number, fmt: DataFormat2d, conv: (x: Tensor<Shape>, w: Tensor<Shape>) => Tensor<Shape>): ConvForward {
  return (x, w, addBias) => {
    checkImage(op, x.shape, channels, fmt);
    return fromNHWC(addBias(conv(toNHWC(x, fmt), w)), fmt);
  };
}
