/**
 * Ops that move elements without computing: reshape, flatten, transpose,
 * swapAxes, squeeze, expandDims, concat, stack, slice, pad, tile, repeat,
 * and oneHot (a comparison against a range).
 *
 * Each is typed by the type-level twin of its run-time shape rule (see
 * `core/rules/`), so a mismatch is a compile error at the argument that
 * causes it, and runs the same rule at run time, which throws a `ShapeError`
 * naming the op. Each is a composite of the structural primitives (reshape,
 * broadcast, transpose, slice, pad, concatenate): an index in `slice` is a
 * size-1 slice and then a reshape, and `tile`/`repeat` are a broadcast into a
 * new axis and then a reshape. Ops that would change nothing return their
 * operand. Semantics follow NumPy (`reshape`, `transpose`, `concatenate`,
 * `tile`, `pad`) and Python's slicing. Deliberately left out: gather-style
 * fancy indexing (see `gather`) and NumPy's rank-changing `tile` (the
 * repetitions give one count per axis).
 */

import type { Add, IsNatural, Mul } from "../core/arith/index.js";
import { arange } from "../core/create.js";
import type { DType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import { concatShape, stackShape, type ConcatShape, type StackShape } from "../core/rules/concat.js";
import type { Checked, FirstError, IsError, IsLiteralSize, IsTuple, NormalizeAxis, SetAt } from "../core/rules/dims.js";
import { permuteRule, type PermuteShape, type TransposeShape } from "../core/rules/permute.js";
import { flattenShape, reshapeRule, type FlattenShape, type ReshapeShape } from "../core/rules/reshape.js";
import { sliceRule, type SliceSpec, type SliceShape } from "../core/rules/slice.js";
import { expandDimsShape, squeezeShape, type ExpandDimsShape, type SqueezeShape } from "../core/rules/squeeze.js";
import { formatShape, normalizeAxis, sameShape, type Dim, type RuntimeShape, type Shape, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../prims/index.js";
import { cast, equal } from "./elementwise.js";
import type { ShapeOf } from "./types.js";

// ---------------------------------------------------------------------------
// reshape, flatten, squeeze, expandDims
// ---------------------------------------------------------------------------

/**
 * The same elements in row-major order under `shape`, in which one dim may be
 * `-1` (inferred). Typed by `ReshapeShape`: sizes that cannot agree are a
 * compile error. A target holds run-time sizes only, so a symbolic dim of
 * `x` becomes `number` unless `flatten` does the job.
 *
 * @example
 * reshape(zeros([2, 3, 4]), [4, -1]); // Tensor<[4, 6]>
 */
export function reshape<S extends Shape, D extends DType, const T extends readonly number[]>(
  x: Tensor<S, D>,
  shape: Checked<ReshapeShape<S, T>, T>,
): Tensor<ShapeOf<ReshapeShape<S, T>>, D>;
export function reshape(x: AnyTensor, shape: readonly number[]): AnyTensor {
  const target = reshapeRule(x.shape, shape);
  return sameShape(x.shape, target) ? x : bind("reshape", [x], { shape: target });
}

/**
 * The axes `start..end` (both included; default all but the first, which
 * keeps the batch dim) merged into one.
 *
 * @example
 * flatten(zeros([32, 7, 7, 64])); // Tensor<[32, 3136]>
 */
export function flatten<S extends Shape, D extends DType>(x: Tensor<S, D> & Checked<FlattenShape<S>, unknown>): Tensor<ShapeOf<FlattenShape<S>>, D>;
export function flatten<S extends Shape, D extends DType, const Start extends number>(
  x: Tensor<S, D>,
  start: Checked<FlattenShape<S, Start>, Start>,
): Tensor<ShapeOf<FlattenShape<S, Start>>, D>;
export function flatten<S extends Shape, D extends DType, const Start extends number, const End extends number>(
  x: Tensor<S, D>,
  start: Start,
  end: Checked<FlattenShape<S, Start, End>, End>,
): Tensor<ShapeOf<FlattenShape<S, Start, End>>, D>;
// The implementation returns `unknown` so that it is compatible with every overload, error types included.
export function flatten(x: AnyTensor, start = 1, end = -1): unknown {
  return reshape(x, flattenShape(x.shape, start, end));
}

/** One axis as a list of one; a wide `number` as a list of unknown length. */
type AxesList<A> = A extends number ? (number extends A ? number[] : [A]) : A;

/**
 * `x` without the named axes, each of which must have size 1; without axes,
 * without every size-1 axis.
 *
 * @example
 * squeeze(zeros([2, 1, 3]), 1); // Tensor<[2, 3]>
 */
export function squeeze<S extends Shape, D extends DType, const Axes extends number | readonly number[] | undefined = undefined>(
  x: Tensor<S, D>,
  axes?: Checked<SqueezeShape<S, AxesList<Axes>>, Axes>,
): Tensor<ShapeOf<SqueezeShape<S, AxesList<Axes>>>, D>;
// The implementation returns `unknown` so that it is compatible with every overload, error types included.
export function squeeze(x: AnyTensor, axes?: number | readonly number[]): unknown {
  return reshape(x, squeezeShape(x.shape, typeof axes === "number" ? [axes] : axes));
}

/**
 * `x` with a size-1 axis inserted so that it sits at `axis` in the result
 * (`-1` appends one).
 *
 * @example
 * expandDims(zeros([2, 3]), 0); // Tensor<[1, 2, 3]>
 */
export function expandDims<S extends Shape, D extends DType, const Axis extends number>(
  x: Tensor<S, D>,
  axis: Checked<ExpandDimsShape<S, Axis>, Axis>,
): Tensor<ShapeOf<ExpandDimsShape<S, Axis>>, D>;
export function expandDims(x: AnyTensor, axis: number): AnyTensor {
  return reshape(x, expandDimsShape(x.shape, axis));
}

// ---------------------------------------------------------------------------
// transpose, swapAxes
// ---------------------------------------------------------------------------

/**
 * `x` with its axes permuted: result axis `i` is axis `perm[i]` of `x`
 * (negative axes count from the end); the axes reversed when `perm` is left
 * out, as in NumPy.
 *
 * @example
 * transpose(zeros([2, 3, 4]), [2, 0, 1]); // Tensor<[4, 2, 3]>
 */
export function transpose<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<ShapeOf<TransposeShape<S>>, D>;
export function transpose<S extends Shape, D extends DType, const P extends readonly number[]>(
  x: Tensor<S, D>,
  perm: Checked<PermuteShape<S, P, "transpose">, P>,
): Tensor<ShapeOf<PermuteShape<S, P, "transpose">>, D>;
export function transpose(x: AnyTensor, perm?: readonly number[]): AnyTensor {
  const rank = x.shape.length;
  if (perm !== undefined) permuteRule(x.shape, perm, "transpose"); // throws unless perm is a permutation
  const axes = perm === undefined ? x.shape.map((_, i) => rank - 1 - i) : perm.map((a) => normalizeAxis("permute", a, rank));
  return axes.every((a, i) => a === i) ? x : bind("transpose", [x], { perm: axes });
}

/**
 * The shape of `swapAxes(x, A1, A2)` for `x` of shape `S`: the two dims
 * exchanged, or a `ShapeError` for an axis out of range.
 *
 * @example
 * type S = SwapAxesShape<["batch", 3, 4], 0, -1>; // [4, 3, "batch"]
 */
export type SwapAxesShape<S extends Shape, A1 extends number, A2 extends number> = IsTuple<S> extends false
  ? Dim[]
  : [NormalizeAxis<"swapAxes", A1, S["length"]>, NormalizeAxis<"swapAxes", A2, S["length"]>] extends [infer I, infer J]
    ? IsError<I> extends true
      ? I
      : IsError<J> extends true
        ? J
        : [I, J] extends [infer I extends number, infer J extends number]
          ? number extends I | J
            ? Dim[]
            : { -readonly [K in keyof S]: K extends `${I}` ? S[J] : K extends `${J}` ? S[I] : S[K] }
          : never
    : never;

/**
 * `x` with two axes exchanged.
 *
 * @example
 * swapAxes(zeros([2, 3, 4]), 0, -1); // Tensor<[4, 3, 2]>
 */
export function swapAxes<S extends Shape, D extends DType, const A1 extends number, const A2 extends number>(
  x: Tensor<S, D>,
  axis1: A1,
  axis2: Checked<SwapAxesShape<S, A1, A2>, A2>,
): Tensor<ShapeOf<SwapAxesShape<S, A1, A2>>, D>;
export function swapAxes(x: AnyTensor, axis1: number, axis2: number): AnyTensor {
  const rank = x.shape.length;
  const [i, j] = [normalizeAxis("swapAxes", axis1, rank), normalizeAxis("swapAxes", axis2, rank)];
  return transpose(x, x.shape.map((_, k) => (k === i ? j : k === j ? i : k)));
}

// ---------------------------------------------------------------------------
// concat, stack
// ---------------------------------------------------------------------------

/** A list of tensors of any shapes and dtypes, as `concat` and `stack` take them. */
type Tensors = readonly Tensor<Shape, DType>[];

/** The shapes of a tuple of tensors. */
type ShapesOf<Xs extends Tensors> = { [K in keyof Xs]: Xs[K] extends { readonly shapeType: infer S } ? S : never } extends infer Ss extends
  readonly Shape[]
  ? Ss
  : never;

/**
 * `unknown` when the tensors of a list have one dtype `D`, else a
 * `ShapeError`. A wide `DType` (a tensor of unknown dtype) is not checked.
 */
type OneDType<Op extends string, D extends DType> = DType extends D
  ? unknown
  : IsUnion<D> extends true
    ? ShapeError<`${Op}: operands of different dtypes do not mix (cast first)`>
    : unknown;

type IsUnion<T> = [T] extends [UnionToIntersection<T>] ? false : true;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

function checkOneDType(op: string, xs: readonly AnyTensor[]): void {
  const dtypes = [...new Set(xs.map((x) => x.dtype))];
  if (dtypes.length > 1) shapeError(op, `operands of different dtypes do not mix (cast first): got ${dtypes.join(" and ")}`);
}

/**
 * The tensors joined along an existing `axis` (default 0); they must agree
 * on every other dim and have one dtype `D` (inferred from all of them, so
 * that a mix is a compile error). A mismatch is reported at `xs`, since
 * `axis` may be left out.
 *
 * @example
 * concat([zeros([2, 3]), ones([2, 5])], -1); // Tensor<[2, 8]>
 */
export function concat<const Xs extends readonly Tensor<Shape, D>[], D extends DType, const Axis extends number = 0>(
  xs: Xs & readonly Tensor<Shape, D>[] & OneDType<"concat", D> & Checked<ConcatShape<ShapesOf<Xs>, Axis>, unknown>,
  axis?: Axis,
): Tensor<ShapeOf<ConcatShape<ShapesOf<Xs>, Axis>>, D> {
  const a = axis ?? 0;
  concatShape(xs.map((x) => x.shape), a); // throws unless the shapes fit
  checkOneDType("concat", xs);
  const [first] = xs;
  const out = first === undefined || xs.length === 1 ? first : bind("concatenate", xs, { axis: normalizeAxis("concat", a, first.shape.length) });
  // concatShape checked that there is an operand and computed the shape ConcatShape gives (the twin laws check it).
  return out as Tensor<ShapeOf<ConcatShape<ShapesOf<Xs>, Axis>>, D>;
}

/**
 * Tensors of one shape and dtype stacked along a new `axis` (default 0) of
 * size `xs.length`.
 *
 * @example
 * stack([zeros([3]), ones([3])]); // Tensor<[2, 3]>
 */
export function stack<const Xs extends readonly Tensor<Shape, D>[], D extends DType, const Axis extends number = 0>(
  xs: Xs & readonly Tensor<Shape, D>[] & OneDType<"stack", D> & Checked<StackShape<ShapesOf<Xs>, Axis>, unknown>,
  axis?: Axis,
): Tensor<ShapeOf<StackShape<ShapesOf<Xs>, Axis>>, D> {
  const shape = stackShape(xs.map((x) => x.shape), axis ?? 0); // throws unless the shapes are equal
  checkOneDType("stack", xs);
  const at = normalizeAxis("stack", axis ?? 0, shape.length);
  const rows = xs.map((x) => reshape(x, expandDimsShape(x.shape, at)));
  const out = rows.length === 1 ? rows[0] : bind("concatenate", rows, { axis: at });
  // stackShape checked that there is an operand and computed the shape StackShape gives (the twin laws check it).
  return out as Tensor<ShapeOf<StackShape<ShapesOf<Xs>, Axis>>, D>;
}

// ---------------------------------------------------------------------------
// slice, pad
// ---------------------------------------------------------------------------

/**
 * `x[spec0, spec1, ...]` with Python's semantics, one spec per leading axis:
 * a number picks one index (negative from the end) and removes the axis,
 * `null` keeps the axis, `{ start, stop, step }` keeps a range (clamped to
 * the axis; a negative step walks backwards). Axes past the specs are kept.
 *
 * @example
 * slice(arange(10), [{ start: 8, stop: 2, step: -3 }]).toArray(); // [8, 5]
 */
export function slice<S extends Shape, D extends DType, const Specs extends readonly SliceSpec[]>(
  x: Tensor<S, D>,
  specs: Checked<SliceShape<S, Specs>, Specs>,
): Tensor<ShapeOf<SliceShape<S, Specs>>, D>;
export function slice(x: AnyTensor, specs: readonly SliceSpec[]): AnyTensor {
  const axes = sliceRule(x.shape, specs);
  const whole = axes.every((a, i) => a.start === 0 && a.step === 1 && a.size === x.shape[i]);
  const window = whole
    ? x
    : bind("slice", [x], {
        starts: axes.map((a) => a.start),
        steps: axes.map((a) => a.step),
        sizes: axes.map((a) => (a.size < 0 ? 1 : a.size)), // an index reads one element ...
      });
  return reshape(window, axes.filter((a) => a.size >= 0).map((a) => a.size)); // ... and its axis goes
}

/**
 * The padding of every axis: `[before, after]` counts.
 *
 * @example
 * const widths: PadWidths = [[0, 0], [2, 2]]; // two on each side of axis 1
 */
export type PadWidths = readonly (readonly [number, number])[];

/**
 * The shape of `pad(x, W)` for `x` of shape `S`: each dim grown by its two
 * widths, or a `ShapeError` when there is not one pair per axis or a width
 * is not a non-negative integer.
 *
 * @example
 * type S = PadShape<["batch", 28], [[0, 0], [2, 2]]>; // ["batch", 32]
 */
export type PadShape<S extends Shape, W extends PadWidths> = IsTuple<S> extends false
  ? Dim[]
  : IsTuple<W> extends false
    ? Dim[]
    : W["length"] extends S["length"]
      ? FirstError<WidthErrors<W>, { -readonly [K in keyof S]: K extends keyof W ? PaddedDim<S[K], W[K]> : S[K] }>
      : ShapeError<`pad: ${W["length"]} widths for ${ShowShape<S>} of rank ${S["length"]}`>;

type WidthErrors<W extends PadWidths, I extends unknown[] = []> = W extends readonly [
  readonly [infer Lo extends number, infer Hi extends number],
  ...infer Rest extends PadWidths,
]
  ? [NotAWidth<Lo, I["length"]>, NotAWidth<Hi, I["length"]>, ...WidthErrors<Rest, [...I, unknown]>]
  : [];

type NotAWidth<P extends number, Axis extends number> = IsNatural<P> extends false
  ? ShapeError<`pad: width ${P} of axis ${Axis} is not a non-negative integer`>
  : "ok";

type PaddedDim<D, P> = P extends readonly [infer Lo extends number, infer Hi extends number]
  ? [Lo, Hi] extends [0, 0]
    ? D
    : IsLiteralSize<D> extends true
      ? Add<D & number, Add<Lo, Hi>>
      : number
  : never;

/** The run-time twin of `PadShape`. */
function padShape(shape: RuntimeShape, widths: PadWidths): number[] {
  if (widths.length !== shape.length) {
    shapeError("pad", `${widths.length} widths for ${formatShape(shape)} of rank ${shape.length}`);
  }
  return shape.map((d, axis) => {
    const [lo = 0, hi = 0] = widths[axis] ?? [];
    for (const p of [lo, hi]) {
      if (!Number.isInteger(p) || p < 0) shapeError("pad", `width ${p} of axis ${axis} is not a non-negative integer`);
    }
    return d + lo + hi;
  });
}

/**
 * `x` padded with `value` (default 0): `widths[i] = [before, after]` new
 * elements on each side of axis `i`.
 *
 * @example
 * pad(tensor([1, 2]), [[1, 2]]).toArray(); // [0, 1, 2, 0, 0]
 */
export function pad<S extends Shape, D extends DType, const W extends PadWidths>(
  x: Tensor<S, D>,
  widths: Checked<PadShape<S, W>, W>,
  value?: number,
): Tensor<ShapeOf<PadShape<S, W>>, D>;
export function pad(x: AnyTensor, widths: PadWidths, value = 0): AnyTensor {
  const shape = padShape(x.shape, widths);
  if (sameShape(shape, x.shape)) return x;
  return bind("pad", [x], { lo: widths.map(([lo]) => lo), hi: widths.map(([, hi]) => hi), value });
}

// ---------------------------------------------------------------------------
// tile, repeat
// ---------------------------------------------------------------------------

/** A dim repeated `R` times: exact for a known size, the dim itself for 1. */
type TimesDim<D, R extends number> = [R] extends [1]
  ? D
  : IsLiteralSize<D> extends true
    ? IsLiteralSize<R> extends true
      ? Mul<D & number, R>
      : number
    : [R] extends [0]
      ? 0
      : number;

type CountError<Op extends string, R extends number> = IsNatural<R> extends false
  ? ShapeError<`${Op}: repetition count ${R} is not a non-negative integer`>
  : "ok";

/**
 * The shape of `tile(x, R)` for `x` of shape `S`: dim `i` times `R[i]`, or a
 * `ShapeError` when there is not one count per axis.
 *
 * @example
 * type S = TileShape<["batch", 3], [1, 2]>; // ["batch", 6]
 */
export type TileShape<S extends Shape, R extends readonly number[]> = IsTuple<S> extends false
  ? Dim[]
  : IsTuple<R> extends false
    ? Dim[]
    : R["length"] extends S["length"]
      ? FirstError<{ [K in keyof R]: CountError<"tile", R[K]> }, { -readonly [K in keyof S]: K extends keyof R ? TimesDim<S[K], R[K] & number> : S[K] }>
      : ShapeError<`tile: ${R["length"]} repetition counts for ${ShowShape<S>} of rank ${S["length"]}`>;

function checkCount(op: string, r: number): number {
  if (!Number.isInteger(r) || r < 0) shapeError(op, `repetition count ${r} is not a non-negative integer`);
  return r;
}

/**
 * `x` repeated `reps[i]` times along each axis `i` (the whole of `x`, end to
 * end, as NumPy's `tile`).
 *
 * @example
 * tile(tensor([1, 2]), [3]).toArray(); // [1, 2, 1, 2, 1, 2]
 */
export function tile<S extends Shape, D extends DType, const R extends readonly number[]>(
  x: Tensor<S, D>,
  reps: Checked<TileShape<S, R>, R>,
): Tensor<ShapeOf<TileShape<S, R>>, D>;
export function tile(x: AnyTensor, reps: readonly number[]): AnyTensor {
  if (reps.length !== x.shape.length) {
    shapeError("tile", `${reps.length} repetition counts for ${formatShape(x.shape)} of rank ${x.shape.length}`);
  }
  const counts = reps.map((r) => checkCount("tile", r));
  if (counts.every((r) => r === 1)) return x;
  // [d0, d1] -> broadcast into [r0, d0, r1, d1] -> reshape to [r0 * d0, r1 * d1]
  const spread = x.shape.flatMap((d, i) => [counts[i] ?? 1, d]);
  const wide = bind("broadcast", [x], { shape: spread, dims: x.shape.map((_, i) => 2 * i + 1) });
  return reshape(wide, x.shape.map((d, i) => d * (counts[i] ?? 1)));
}

/**
 * The shape of `repeat(x, R, Axis)` for `x` of shape `S`: the dim at `Axis`
 * times `R`, or a `ShapeError` for a bad axis or count.
 *
 * @example
 * type S = RepeatShape<["batch", 3], 2, -1>; // ["batch", 6]
 */
export type RepeatShape<S extends Shape, R extends number, Axis extends number> = IsTuple<S> extends false
  ? Dim[]
  : NormalizeAxis<"repeat", Axis, S["length"]> extends infer A
    ? IsError<A> extends true
      ? A
      : CountError<"repeat", R> extends infer E
        ? IsError<E> extends true
          ? E
          : A extends number
            ? number extends A
              ? Dim[]
              : { -readonly [K in keyof SetAt<S, A, TimesDim<S[A], R>>]: SetAt<S, A, TimesDim<S[A], R>>[K] }
            : never
        : never
    : never;

/**
 * Each element of `x` repeated `repeats` times in a row along `axis` (NumPy's
 * `repeat` with one count).
 *
 * @example
 * repeat(tensor([1, 2]), 2, 0).toArray(); // [1, 1, 2, 2]
 */
export function repeat<S extends Shape, D extends DType, const R extends number, const Axis extends number>(
  x: Tensor<S, D>,
  repeats: R,
  axis: Checked<RepeatShape<S, R, Axis>, Axis>,
): Tensor<ShapeOf<RepeatShape<S, R, Axis>>, D>;
export function repeat(x: AnyTensor, repeats: number, axis: number): AnyTensor {
  const a = normalizeAxis("repeat", axis, x.shape.length);
  const r = checkCount("repeat", repeats);
  if (r === 1) return x;
  // [.., d, ..] -> broadcast into [.., d, r, ..] -> reshape to [.., d * r, ..]
  const spread = [...x.shape.slice(0, a + 1), r, ...x.shape.slice(a + 1)];
  const wide = bind("broadcast", [x], { shape: spread, dims: x.shape.map((_, i) => (i <= a ? i : i + 1)) });
  return reshape(wide, x.shape.map((d, i) => (i === a ? d * r : d)));
}

// ---------------------------------------------------------------------------
// take
// ---------------------------------------------------------------------------

/** The shape of `take(x, indices)`: the indices' shape, then the rows' shape. */
export type TakeShape<S extends Shape, I extends Shape> = S extends readonly [Dim, ...infer Row extends Shape] ? [...I, ...Row] : Shape;

/**
 * The rows of `x` at int32 `indices` (NumPy's `take` along axis 0): the
 * result has the indices' shape followed by a row's shape. An index out of
 * `[0, x.shape[0])` is an error (the `gather` primitive checks every one, eagerly
 * and under `jit`). Its gradient adds each row's cotangent back at its index.
 *
 * @example
 * take(tensor([[1, 2], [3, 4], [5, 6]]), tensor([2, 0], "int32")).toNested(); // [[5, 6], [1, 2]], a Tensor<[2, 2]>
 */
export function take<S extends Shape, I extends Shape, D extends DType>(x: Tensor<S, D>, indices: Tensor<I, "int32">): Tensor<TakeShape<S, I>, D>;
export function take(x: AnyTensor, indices: AnyTensor): AnyTensor {
  return bind("gather", [x, indices], { axis: 0 });
}

// ---------------------------------------------------------------------------
// oneHot
// ---------------------------------------------------------------------------

/**
 * One-hot rows: `oneHot(i, depth)[..., k]` is 1 where `i[...] == k`, else 0,
 * in `dtype` (default float32). An index out of `[0, depth)` gives a row of
 * zeros, as in TensorFlow; it is not an error.
 *
 * @example
 * oneHot(tensor([2, 0], "int32"), 3).toNested(); // [[0, 0, 1], [1, 0, 0]], a Tensor<[2, 3]>
 */
export function oneHot<S extends Shape, N extends number, D extends DType = "float32">(
  indices: Tensor<S, "int32">,
  depth: N,
  dtype?: D,
): Tensor<[...S, N], D>;
export function oneHot(indices: AnyTensor, depth: number, dtype: DType = "float32"): AnyTensor {
  if (indices.dtype !== "int32") shapeError("oneHot", `indices must be int32, got ${indices.dtype}`);
  if (!Number.isInteger(depth) || depth < 0) shapeError("oneHot", `depth ${depth} is not a size`);
  const column = reshape(indices, [...indices.shape, 1]);
  return cast(equal(column, arange(depth, "int32")), dtype); // [...S, 1] == [N] broadcasts to [...S, N]
}
