/**
 * The geometry of a 2-D convolution or pooling: the public parameter types,
 * their checks, the resolved sizes and padding (`conv2dGeometry`, from the
 * shared shape rules `convOutSize` and `windowPadding`, so a kernel never
 * disagrees with its op's shape), and the walk over the input window under
 * each output position that columns, col2im and pooling share.
 * Left out: arithmetic on values (the kernels' files do that).
 */

import { shapeError } from "../../../core/errors.js";
import { convOutSize, type Padding, windowPadding } from "../../../core/rules/conv.js";
import type { Epilogue } from "../matmul.js";
import type { WasmEpilogue } from "../wasm-matmul.js";

/** Padding of both spatial axes: one scheme for both, or one per axis. */
export type Padding2d = Padding | { readonly height: Padding; readonly width: Padding };

/** A size per spatial axis: one for both, or `[height, width]`. */
export type Size2d = number | readonly [number, number];

/** The sizes of a 2-D convolution: input `[N, H, W, C]`, filter `[KH, KW, C / groups, O]`. */
export interface Conv2dSizes {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly outChannels: number;
}

/** The sizes and window options of a 2-D convolution. */
export interface Conv2dParams extends Conv2dSizes {
  /** Default 1. */
  readonly stride?: Size2d | undefined;
  /** Default 1. */
  readonly dilation?: Size2d | undefined;
  /** Default `"valid"`. */
  readonly padding?: Padding2d | undefined;
  /** Channel groups: input and output channels split into this many independent convolutions (default 1; `inChannels` is depthwise). */
  readonly groups?: number | undefined;
}

/** A convolution's sizes resolved: output sizes, per-axis strides, the padding before each axis. */
export interface ConvGeometry extends Conv2dSizes {
  readonly outHeight: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Padding above row 0 (the rows below follow from the output size). */
  readonly padTop: number;
  /** Padding left of column 0. */
  readonly padLeft: number;
  readonly groups: number;
  /** Input channels per group: `inChannels / groups`. */
  readonly groupInChannels: number;
  /** Output channels per group: `outChannels / groups`. */
  readonly groupOutChannels: number;
}

/** The sizes and window options of a 2-D pooling. */
export interface Pool2dParams {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly channels: number;
  readonly windowHeight: number;
  readonly windowWidth: number;
  /** Default: the window size. */
  readonly stride?: Size2d | undefined;
  /** Default `"valid"`. */
  readonly padding?: Padding2d | undefined;
}

export function pair(size: Size2d): readonly [number, number] {
  return typeof size === "number" ? [size, size] : size;
}

export function paddingOf(padding: Padding2d): { readonly height: Padding; readonly width: Padding } {
  if (typeof padding === "object" && "height" in padding) return padding;
  return { height: padding, width: padding };
}

export function checkSizes(op: string, sizes: Record<string, number>): void {
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isInteger(size) || size < 0) shapeError(op, `${name} ${size} must be a non-negative integer`);
  }
}

export function checkLength(op: string, what: string, array: ArrayLike<number>, size: number): void {
  if (array.length < size) shapeError(op, `${what} holds ${array.length} elements, needs ${size}`);
}

/**
 * Resolves a convolution's options: output sizes (by `convOutSize`), strides,
 * dilations and the padding before each axis. Throws a `ShapeError` for a
 * size that is not a non-negative integer, a window larger than the padded
 * input, or groups that do not divide both channel counts.
 *
 * @example
 * conv2dGeometry({ batch: 1, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 8, padding: "same", stride: 2 });
 * // { outHeight: 14, outWidth: 14, padTop: 0, padLeft: 0, ... }
 */
export function conv2dGeometry(params: Conv2dParams): ConvGeometry {
  const { batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels, groups = 1 } = params;
  checkSizes("conv2d", { batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels });
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    shapeError("conv2d", `groups ${groups} must be a positive integer dividing ${inChannels} input and ${outChannels} output channels`);
  }
  const [strideHeight, strideWidth] = pair(params.stride ?? 1);
  const [dilationHeight, dilationWidth] = pair(params.dilation ?? 1);
  const padding = paddingOf(params.padding ?? "valid");
  const outHeight = convOutSize(inHeight, kernelHeight, { stride: strideHeight, dilation: dilationHeight, padding: padding.height });
  const outWidth = convOutSize(inWidth, kernelWidth, { stride: strideWidth, dilation: dilationWidth, padding: padding.width });
  const [padTop] = windowPadding(inHeight, kernelHeight, strideHeight, dilationHeight, padding.height);
  const [padLeft] = windowPadding(inWidth, kernelWidth, strideWidth, dilationWidth, padding.width);
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    kernelHeight,
    kernelWidth,
    outChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padLeft,
    groups,
    groupInChannels: inChannels / groups,
    groupOutChannels: outChannels / groups,
  };
}

/** The options of the convolution kernels: the geometry and an epilogue. */
export type Conv2dOptions = Conv2dParams & Epilogue;

/** The elements of each kernel's arrays. */
export function sizes(g: ConvGeometry): { x: number; w: number; y: number } {
  return {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    w: g.kernelHeight * g.kernelWidth * g.groupInChannels * g.outChannels,
    y: g.batch * g.outHeight * g.outWidth * g.outChannels,
  };
}

/** True when the columns of a group are the input itself (1 x 1 filter, stride 1, no padding on any side). */
export function isPointwise(g: ConvGeometry): boolean {
  const unpadded = g.padTop === 0 && g.padLeft === 0 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
  return g.kernelHeight === 1 && g.kernelWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && unpadded;
}

export function checkBias(op: string, epilogue: Epilogue, channels: number): void {
  const { bias, biasOffset = 0 } = epilogue;
  if (bias !== undefined && channels > 0 && (biasOffset < 0 || biasOffset + channels > bias.length)) {
    shapeError(op, `bias of ${bias.length} elements has no ${channels} entries from ${biasOffset}`);
  }
}

/** Just the epilogue of a kernel's options (what `gemm` takes). */
export function epilogueOf(options: Epilogue): Epilogue {
  return { bias: options.bias, biasOffset: options.biasOffset, activation: options.activation };
}

/** An epilogue as the WebAssembly matmul takes it (no accumulation). */
export function wasmEpilogueOf(options: Epilogue): WasmEpilogue {
  return { beta: false, bias: options.bias, biasOffset: options.biasOffset ?? 0, relu: options.activation === "relu" };
}

/**
 * Walks output rows `r0 .. r0 + count` (of `N * OH * OW`). For each it calls
 * `visit(row - r0, xAt, taps)`, where `xAt` is the input offset of image `n`
 * and `taps[(kh * KW + kw)]` is the offset within that image of the pixel under
 * tap `(kh, kw)`, or -1 when the tap falls in the padding.
 */
export function forEachWindowRow(g: ConvGeometry, r0: number, count: number, visit: (row: number, xAt: number, taps: Int32Array) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  const taps = new Int32Array(KH * KW);
  let n = Math.floor(r0 / (OH * OW));
  let oh = Math.floor(r0 / OW) % OH;
  let ow = r0 % OW;
  for (let row = 0; row < count; row++) {
    const top = oh * g.strideHeight - g.padTop;
    const left = ow * g.strideWidth - g.padLeft;
    for (let kh = 0, t = 0; kh < KH; kh++) {
      const ih = top + kh * g.dilationHeight;
      for (let kw = 0; kw < KW; kw++, t++) {
        const iw = left + kw * g.dilationWidth;
        taps[t] = ih >= 0 && ih < H && iw >= 0 && iw < W ? (ih * W + iw) * C : -1;
      }
    }
    visit(row, n * H * W * C, taps);
    if (++ow === OW) {
      ow = 0;
      if (++oh === OH) {
        oh = 0;
        n++;
      }
    }
  }
}
