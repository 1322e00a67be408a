/**
 * Output sizes of convolution and pooling along one spatial axis.
 *
 * With effective kernel `ek = dilation * (kernel - 1) + 1`:
 *  - `"valid"` (no padding): `floor((in - ek) / stride) + 1`, and the input
 *    must be at least `ek`;
 *  - `"same"`: `ceil(in / stride)`, padding split as TensorFlow and XLA do
 *    (the extra element, if any, goes after);
 *  - explicit padding `p` or `[lo, hi]`: `floor((in + lo + hi - ek) / stride) + 1`.
 * At the type level the same formulas run on exact digit arithmetic, so a
 * 224-wide input with kernel 7, stride 2 and padding 3 gives 112; a dim that
 * is not a known size gives `number`.
 */

import type { Add, CeilDiv, FloorDiv, IsNatural, Lt, Mul, Sub } from "../arith/index.js";
import { shapeError, type ShapeError } from "../errors.js";
import type { Checked } from "./dims.js";

/** Padding of one spatial axis: a named scheme, one size for both sides, or `[lo, hi]`. */
export type Padding = "valid" | "same" | number | readonly [number, number];

/** The options of a convolution or pooling window along one axis. */
export interface WindowOptions<
  Stride extends number = number,
  Dilation extends number = number,
  Pad extends Padding = Padding,
> {
  readonly stride?: Stride;
  readonly dilation?: Dilation;
  readonly padding?: Pad;
}

/**
 * The output size of a convolution along one axis, or a `ShapeError` when the
 * (padded) input is smaller than the dilated kernel or an option is invalid.
 *
 * @example
 * type N = ConvOutSize<224, 7, 2, 1, 3>; // 112
 */
export type ConvOutSize<
  In,
  Kernel extends number,
  Stride extends number = 1,
  Dilation extends number = 1,
  Pad extends Padding = "valid",
> = WindowOutSize<"conv", In, Kernel, Stride, Dilation, Pad>;

/**
 * The output size of a pooling window along one axis (a convolution rule
 * without dilation).
 *
 * @example
 * type N = PoolOutSize<28, 2, 2>; // 14
 */
export type PoolOutSize<In, Window extends number, Stride extends number = Window, Pad extends Padding = "valid"> = WindowOutSize<
  "pool",
  In,
  Window,
  Stride,
  1,
  Pad
>;

type WindowOutSize<Op extends string, In, K extends number, S extends number, D extends number, Pad extends Padding> = OptionError<
  Op,
  K,
  S,
  D,
  Pad
> extends infer E
  ? [E] extends [never]
    ? number extends In | K | S | D
      ? number
      : In extends number
        ? SizeFor<Op, In, K, S, D, Mul<D, Sub<K, 1>> extends infer R extends number ? Add<R, 1> : never, Pad>
        : number
    : E
  : never;

type OptionError<Op extends string, K extends number, S extends number, D extends number, Pad extends Padding> = Positive<K> extends false
  ? ShapeError<`${Op}: kernel size ${K} must be a positive integer`>
  : Positive<S> extends false
    ? ShapeError<`${Op}: stride ${S} must be a positive integer`>
    : Positive<D> extends false
      ? ShapeError<`${Op}: dilation ${D} must be a positive integer`>
      : Pad extends number
        ? IsNatural<Pad> extends false
          ? ShapeError<`${Op}: padding ${Pad} must be a non-negative integer`>
          : never
        : Pad extends readonly [infer Lo extends number, infer Hi extends number]
          ? IsNatural<Lo> extends false
            ? ShapeError<`${Op}: padding ${Lo} must be a non-negative integer`>
            : IsNatural<Hi> extends false
              ? ShapeError<`${Op}: padding ${Hi} must be a non-negative integer`>
              : never
          : never;

/** false only for a literal that is not a positive integer. */
type Positive<X extends number> = number extends X ? true : X extends 0 ? false : IsNatural<X>;

type SizeFor<Op extends string, In extends number, K extends number, S extends number, D extends number, EK extends number, Pad extends Padding> = Pad extends "same"
  ? CeilDiv<In, S>
  : Pad extends "valid"
    ? Padded<Op, In, In, K, S, D, EK>
    : Pad extends number
      ? number extends Pad
        ? number
        : Padded<Op, In, Add<In, Mul<Pad, 2>>, K, S, D, EK>
      : Pad extends readonly [infer Lo extends number, infer Hi extends number]
        ? number extends Lo | Hi
          ? number
          : Padded<Op, In, Add<Add<In, Lo>, Hi>, K, S, D, EK>
        : number;

type Padded<Op extends string, In extends number, P extends number, K extends number, S extends number, D extends number, EK extends number> = Lt<
  P,
  EK
> extends true
  ? ShapeError<`${Op}: input size ${In} (padded ${P}) is smaller than kernel ${K} with dilation ${D}`>
  : Add<FloorDiv<Sub<P, EK>, S>, 1>;

/**
 * The padding `[lo, hi]` that a window's options put on an axis of size
 * `size`; `"same"` pads so that the output size is `ceil(size / stride)`.
 */
export function windowPadding(size: number, kernel: number, stride: number, dilation: number, padding: Padding): [number, number] {
  if (padding === "valid") return [0, 0];
  if (typeof padding === "number") return [padding, padding];
  if (padding === "same") {
    const effective = dilation * (kernel - 1) + 1;
    const total = Math.max((Math.ceil(size / stride) - 1) * stride + effective - size, 0);
    const lo = Math.floor(total / 2);
    return [lo, total - lo];
  }
  return [padding[0], padding[1]];
}

function windowOutSize(op: string, size: number, kernel: number, options: WindowOptions): number {
  const { stride = 1, dilation = 1, padding = "valid" } = options;
  const positive = (x: number, what: string): void => {
    if (!Number.isInteger(x) || x < 1) shapeError(op, `${what} ${x} must be a positive integer`);
  };
  positive(kernel, "kernel size");
  positive(stride, "stride");
  positive(dilation, "dilation");
  const pads = typeof padding === "number" ? [padding] : typeof padding === "string" ? [] : padding;
  for (const p of pads) {
    if (!Number.isInteger(p) || p < 0) shapeError(op, `padding ${p} must be a non-negative integer`);
  }
  if (padding === "same") return Math.ceil(size / stride);
  const [lo, hi] = windowPadding(size, kernel, stride, dilation, padding);
  const padded = size + lo + hi;
  const effective = dilation * (kernel - 1) + 1;
  if (padded < effective) {
    shapeError(op, `input size ${size} (padded ${padded}) is smaller than kernel ${kernel} with dilation ${dilation}`);
  }
  return Math.floor((padded - effective) / stride) + 1;
}

/**
 * The output size of a convolution along one axis; throws a `ShapeError` when
 * the padded input is smaller than the dilated kernel or an option is invalid.
 *
 * @example
 * convOutSize(224, 7, { stride: 2, padding: 3 }); // 112
 */
export function convOutSize<
  const In extends number,
  const Kernel extends number,
  const Stride extends number = 1,
  const Dilation extends number = 1,
  const Pad extends Padding = "valid",
>(
  size: In,
  kernel: Checked<ConvOutSize<In, Kernel, Stride, Dilation, Pad>, Kernel>,
  options: WindowOptions<Stride, Dilation, Pad> = {},
): NoInfer<ConvOutSize<In, Kernel, Stride, Dilation, Pad>> {
  // Checked<R, Kernel> is Kernel whenever this call type-checks; the type-level
  // twin runs the same formula (the twin laws check it).
  return windowOutSize("conv", size, kernel as number, options) as ConvOutSize<In, Kernel, Stride, Dilation, Pad>;
}

/**
 * The output size of a pooling window along one axis; the stride defaults to
 * the window size, as in Keras and PyTorch.
 *
 * @example
 * poolOutSize(28, 2); // 14
 */
export function poolOutSize<
  const In extends number,
  const Window extends number,
  const Stride extends number = Window,
  const Pad extends Padding = "valid",
>(
  size: In,
  window: Checked<PoolOutSize<In, Window, Stride, Pad>, Window>,
  options: Omit<WindowOptions<Stride, 1, Pad>, "dilation"> = {},
): NoInfer<PoolOutSize<In, Window, Stride, Pad>> {
  // Checked<R, Window> is Window whenever this call type-checks.
  const { stride = window as number, padding = "valid" } = options;
  // The type-level twin runs the same formula (the twin laws check it).
  return windowOutSize("pool", size, window as number, { stride, padding }) as PoolOutSize<In, Window, Stride, Pad>;
}

// ---------------------------------------------------------------------------
// Transposed convolutions: the type and its run-time twin
// ---------------------------------------------------------------------------

/** Padding of a 2-D window: a scheme, one size for all sides, or `[[top, bottom], [left, right]]`. */
export type Padding2d = "valid" | "same" | number | readonly [readonly [number, number], readonly [number, number]];

/** The padding of one axis `I` of a 2-D padding, as its total `lo + hi`. */
type PadTotal<P extends Padding2d, I extends 0 | 1> = P extends "valid"
  ? 0
  : P extends number
    ? Mul<P, 2>
    : P extends readonly [readonly [number, number], readonly [number, number]]
      ? Add<P[I][0], P[I][1]>
      : number;

/**
 * A `ShapeError` when the output padding `OP` is not in `[0, S)` for the
 * stride `S`, or is not 0 with `"same"` padding (the run-time rule's two
 * errors); `never` when it is fine or not known.
 *
 * @example
 * type E = OutputPaddingError<2, "valid", 3>; // ShapeError<"convTranspose2d: outputPadding 3 must be an integer in [0, stride 2)">
 */
export type OutputPaddingError<S extends number, P extends Padding2d, OP extends number> = number extends S | OP
  ? never
  : [Lt<OP, 0>, Lt<OP, S>] extends [false, true]
    ? [P] extends ["same"]
      ? [OP] extends [0]
        ? never
        : ShapeError<`convTranspose2d: outputPadding ${OP} does not go with "same" padding`>
      : never
    : ShapeError<`convTranspose2d: outputPadding ${OP} must be an integer in [0, stride ${S})`>;

/**
 * The output size of a transposed convolution along one axis:
 * `(In - 1) * S - padTotal + D * (K - 1) + 1 + OP`, or `In * S` for `"same"`;
 * a `ShapeError` for an output padding the run-time rule rejects.
 *
 * @example
 * type N = ConvTransposeOutSize<14, 3, 2, 1, "same", 0, 0>; // 28
 */
export type ConvTransposeOutSize<In, K extends number, S extends number, D extends number, P extends Padding2d, I extends 0 | 1, OP extends number> =
  [OutputPaddingError<S, P, OP>] extends [never] ? ConvTransposeOutSizeOk<In, K, S, D, P, I, OP> : OutputPaddingError<S, P, OP>;

/** `ConvTransposeOutSize` for an output padding already known to be fine. */
type ConvTransposeOutSizeOk<In, K extends number, S extends number, D extends number, P extends Padding2d, I extends 0 | 1, OP extends number> = In extends number
  ? number extends In | K | S | D | OP
    ? number
    : P extends "same"
      ? Mul<In, S>
      : PadTotal<P, I> extends infer T extends number
        ? number extends T
          ? number
          : Add<Add<Mul<Sub<In, 1>, S>, Add<Mul<D, Sub<K, 1>>, 1>>, OP> extends infer Full extends number
            ? Lt<T, Full> extends true
              ? Sub<Full, T>
              : ShapeError<`convTranspose2d: padding ${T} leaves no output of input size ${In}`>
            : never
        : never
  : number;

/**
 * The output size of a transposed convolution along one axis, and the
 * padding of the forward convolution it transposes: `(size - 1) stride -
 * (lo + hi) + dilation (kernel - 1) + 1 + outputPadding`, or `size · stride`
 * for `"same"`. The run-time twin of `ConvTransposeOutSize`; throws a
 * `ShapeError` for an output padding outside `[0, stride)` or not 0 with
 * `"same"`, and for padding that leaves no output (`where` names the operands).
 *
 * @example
 * convTransposeOutSize(14, 3, 2, 1, "same", 0, "input [1, 14, 14, 1]"); // { out: 28, pads: [0, 1] }
 */
export function convTransposeOutSize(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
  outputPadding: number,
  where: string,
): { readonly out: number; readonly pads: [number, number] } {
  if (!Number.isInteger(outputPadding) || outputPadding < 0 || outputPadding >= stride) {
    shapeError("convTranspose2d", `outputPadding ${outputPadding} must be an integer in [0, stride ${stride})`);
  }
  if (padding === "same") {
    if (outputPadding !== 0) shapeError("convTranspose2d", `outputPadding ${outputPadding} does not go with "same" padding`);
    // the forward "same" convolution of an input of size·stride has `size` outputs
    return { out: size * stride, pads: windowPadding(size * stride, kernel, stride, dilation, "same") };
  }
  const pads = windowPadding(size, kernel, stride, dilation, padding);
  // OH = (H - 1) s - (lo + hi) + d (K - 1) + 1 + outputPadding
  const out = (size - 1) * stride - pads[0] - pads[1] + dilation * (kernel - 1) + 1 + outputPadding;
  if (out < 1) shapeError("convTranspose2d", `padding [${pads.join(", ")}] leaves no output of ${where}`);
  return { out, pads };
}
