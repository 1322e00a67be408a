/**
 * Reductions and the normalisations built on them: `sum`, `mean`, `max`,
 * `min`, `argmax`, `argmin`, `logsumexp`, `softmax`, `logSoftmax`,
 * `variance` and `norm`.
 *
 * Every reduction takes `axis` (one axis, a list, or every axis when left
 * out; negative axes count from the end) and `keepDims` (keep the reduced
 * axes as size 1), and is typed by `ReduceShape`, so a bad axis is a compile
 * error. All are composites of `reduce_sum`, `reduce_max`, `argmax` and
 * elementwise primitives. The exponential ones subtract the maximum first
 * (the log-sum-exp trick), and shift by 0 instead where the maximum is not
 * finite, so a row of -Infinity gives -Infinity, a +Infinity gives +Infinity
 * and a NaN gives NaN, never an `Infinity - Infinity`. Semantics follow
 * NumPy's reductions and `jax.nn.logsumexp`/`softmax`.
 * Deliberately left out: `prod`, `any`/`all`, and a `ddof` for `variance`.
 */

import type { DType } from "../core/dtype.js";
import { reducedAxes, type ReduceAxes, type ReduceShape } from "../core/rules/reduce.js";
import type { Checked } from "../core/rules/dims.js";
import type { Dim, Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat, checkTensor } from "../core/validate.js";
import { bind } from "../prims/index.js";
import { stopGradient } from "../transforms/custom.js";
import { add, div, exp, greater, log, neg, sqrt, sub, where } from "./elementwise.js";
import { isFinite, square } from "./math.js";
import { reshape } from "./shape.js";
import type { FloatDType, NumericDType, ShapeOf } from "./types.js";

/**
 * A reduction whose result has the operand's dtype. The first two
 * signatures cover the last axis of `[...B, F]`, which generic code (a layer
 * over any batch prefix `B`) needs; the third is the general one.
 *
 * @example
 * const meanOfLast = <B extends Shape>(x: Tensor<[...B, 64]>): Tensor<B> => mean(x, -1);
 */
export interface Reduction<C extends DType, Op extends string = "reduce"> {
  <B extends Shape, F extends Dim, D extends C>(x: Tensor<[...B, F], D>, axis: -1): Tensor<B, D>;
  <B extends Shape, F extends Dim, D extends C>(x: Tensor<[...B, F], D>, axis: -1, keepDims: true): Tensor<[...B, 1], D>;
  <S extends Shape, D extends C, const Axes extends ReduceAxes = undefined, const KeepDims extends boolean = false>(
    x: Tensor<S, D>,
    axis?: Checked<ReduceShape<S, Axes, KeepDims, Op>, Axes>,
    keepDims?: KeepDims,
  ): Tensor<ShapeOf<ReduceShape<S, Axes, KeepDims, Op>>, D>;
}

/**
 * A reduction to int32 indices along one axis (or over the flattened operand).
 *
 * @example
 * const predicted: Tensor<["batch"], "int32"> = argmax(logits, -1); // logits: Tensor<["batch", 10]>
 */
export interface IndexReduction<Op extends string = "reduce"> {
  <B extends Shape, F extends Dim, D extends NumericDType>(x: Tensor<[...B, F], D>, axis: -1): Tensor<B, "int32">;
  <B extends Shape, F extends Dim, D extends NumericDType>(x: Tensor<[...B, F], D>, axis: -1, keepDims: true): Tensor<[...B, 1], "int32">;
  <S extends Shape, D extends NumericDType, const Axis extends number | undefined = undefined, const KeepDims extends boolean = false>(
    x: Tensor<S, D>,
    axis?: Checked<ReduceShape<S, Axis, KeepDims, Op>, Axis>,
    keepDims?: KeepDims,
  ): Tensor<ShapeOf<ReduceShape<S, Axis, KeepDims, Op>>, "int32">;
}

/**
 * A normalisation along `axis` (default -1): the result has the operand's shape.
 *
 * @example
 * const p: Tensor<["batch", 10]> = softmax(logits); // logits: Tensor<["batch", 10]>
 */
export interface Normalization<Op extends string = "reduce"> {
  <S extends Shape, D extends FloatDType>(x: Tensor<S, D>): Tensor<S, D>;
  <S extends Shape, D extends FloatDType, const Axes extends number | readonly number[]>(
    x: Tensor<S, D>,
    axis: Checked<ReduceShape<S, Axes, false, Op>, Axes>,
  ): Tensor<S, D>;
}

type Wide<D extends DType> = Tensor<Shape, D>;

/**
 * `f` with its operand and axes checked first under the op's own name, so
 * that a bad axis, a non-tensor or (for the `"float"` ops) an int32 operand
 * is a `ShapeError` naming `sum` or `softmax` rather than a primitive.
 */
function named<F extends (...args: never[]) => unknown>(op: string, f: F, operand: "numeric" | "float" = "numeric"): F {
  const call = f as unknown as (...args: unknown[]) => unknown; // every reduction takes (x, axis?, ...) as g passes them on
  const g = (x: Wide<DType>, axis?: ReduceAxes, ...rest: unknown[]): unknown => {
    if (operand === "float") checkFloat(op, x);
    else checkTensor(op, "x", x);
    reducedAxes(x.shape, axis, op);
    return call(x, axis, ...rest);
  };
  return g as unknown as F; // g has f's parameters and returns what f returns
}

/** Runs `reduce_sum` or `reduce_max` over `axis`, keeping the reduced axes as 1s when asked. */
function reduceWith<D extends DType>(prim: "reduce_sum" | "reduce_max", x: Wide<D>, axis: ReduceAxes, keepDims: boolean): Wide<D> {
  const axes = reducedAxes(x.shape, axis);
  // reduce_sum and reduce_max keep the operand's dtype
  const out = axes.length === 0 ? x : (bind(prim, [x], { axes }) as Wide<D>);
  return keepDims ? reshape(out, keptShape(x.shape, axes)) : out;
}

/** The shape of a reduction over `axes` with `keepDims`: those axes become 1. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The number of elements each output of a reduction over `axis` combines. */
function countOver(shape: readonly number[], axis: ReduceAxes): number {
  return reducedAxes(shape, axis).reduce((n, a) => n * (shape[a] ?? 1), 1);
}

/**
 * The maximum over `axis` with the reduced axes kept, where it is finite, and
 * 0 elsewhere: the shift of the log-sum-exp trick. Its gradient is stopped:
 * softmax and logsumexp do not depend on the shift (d/dm of m + log(sum(exp(x - m))) is 0),
 * so differentiating through the maximum would only add terms that cancel.
 */
function shiftOf<D extends FloatDType>(x: Wide<D>, axis: ReduceAxes): Wide<D> {
  const m = reduceWith("reduce_max", x, axis, true);
  // NOTE: a non-finite maximum (±Infinity, NaN) shifts by 0, so that no row computes Infinity - Infinity.
  return stopGradient(where(isFinite(m), m, 0));
}

/**
 * The sum over `axis` (every axis when left out); int32 sums wrap as int32 does.
 *
 * @example
 * sum(tensor([[1, 2], [3, 4]]), -1).toArray(); // [3, 7], a Tensor<[2]>
 */
export const sum: Reduction<NumericDType, "sum"> = named("sum", (x: Wide<NumericDType>, axis?: ReduceAxes, keepDims = false) =>
  reduceWith("reduce_sum", x, axis, keepDims)) as Reduction<NumericDType, "sum">; // the signatures type the same function by ReduceShape

/**
 * The mean over `axis`; NaN over an empty axis (0 / 0).
 *
 * @example
 * mean(tensor([[1, 2], [3, 4]]), 0).toArray(); // [2, 3]
 */
export const mean: Reduction<FloatDType, "mean"> = named("mean", <D extends FloatDType>(x: Wide<D>, axis?: ReduceAxes, keepDims = false) =>
  div(reduceWith("reduce_sum", x, axis, keepDims), countOver(x.shape, axis)), "float") as Reduction<FloatDType, "mean">; // as for sum

/**
 * The largest element over `axis` (NaN if any is NaN; -Infinity over an
 * empty float axis).
 *
 * @example
 * max(tensor([[1, 5], [7, 2]]), 1).toArray(); // [5, 7]
 */
export const max: Reduction<NumericDType, "max"> = named("max", (x: Wide<NumericDType>, axis?: ReduceAxes, keepDims = false) =>
  reduceWith("reduce_max", x, axis, keepDims)) as Reduction<NumericDType, "max">; // as for sum

/**
 * The smallest element over `axis` (NaN if any is NaN; Infinity over an
 * empty float axis).
 *
 * @example
 * min(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 2]
 */
export const min: Reduction<NumericDType, "min"> = named("min", (x: Wide<NumericDType>, axis?: ReduceAxes, keepDims = false) =>
  reversed(reduceWith("reduce_max", reversed(x), axis, keepDims))) as Reduction<NumericDType, "min">; // as for sum

/**
 * An order-reversing map that is its own inverse: `-x` for floats, and
 * `-1 - x` (bitwise not) for int32, where `-x` overflows at -2^31.
 */
function reversed<D extends NumericDType>(x: Wide<D>): Wide<D> {
  return x.dtype === "int32" ? sub(-1, x) : neg(x);
}

/** `argmax` over one axis, or over the flattened operand when `axis` is undefined. */
function argmaxOf(x: Wide<NumericDType>, axis: number | undefined, keepDims: boolean): Wide<"int32"> {
  const flat = axis === undefined;
  const [a = 0] = flat ? [0] : reducedAxes(x.shape, axis);
  const operand = flat ? reshape(x, [x.size]) : x;
  const out = bind("argmax", [operand], { axis: a }) as Wide<"int32">; // argmax gives int32
  if (!keepDims) return out;
  return reshape(out, flat ? x.shape.map(() => 1) : keptShape(x.shape, [a]));
}

/**
 * The index of the largest element along `axis`, as int32 (the first on ties;
 * a NaN counts as the largest). Without `axis`, the index into the flattened
 * operand. An empty axis is an error.
 *
 * @example
 * argmax(tensor([[1, 5], [7, 2]]), -1).toArray(); // [1, 0], a Tensor<[2], "int32">
 */
export const argmax: IndexReduction<"argmax"> = named("argmax", (x: Wide<NumericDType>, axis?: number, keepDims = false) =>
  argmaxOf(x, axis, keepDims)) as IndexReduction<"argmax">; // the signatures type the same function by ReduceShape

/**
 * The index of the smallest element along `axis`, as int32 (the first on
 * ties; a NaN counts as the smallest). Without `axis`, the index into the
 * flattened operand.
 *
 * @example
 * argmin(tensor([[1, 5], [7, 2]]), -1).toArray(); // [0, 1]
 */
export const argmin: IndexReduction<"argmin"> = named("argmin", (x: Wide<NumericDType>, axis?: number, keepDims = false) =>
  argmaxOf(reversed(x), axis, keepDims)) as IndexReduction<"argmin">; // as for argmax

/**
 * `log(sum(exp(x)))` over `axis`, computed stably: `m + log(sum(exp(x - m)))`
 * with `m` the maximum. A row of -Infinity gives -Infinity, a +Infinity gives
 * +Infinity, a NaN gives NaN, and an empty axis gives -Infinity.
 *
 * @example
 * logsumexp(tensor([1000, 1000])).item(); // 1000.6931...
 */
export const logsumexp: Reduction<FloatDType, "logsumexp"> = named("logsumexp", <D extends FloatDType>(x: Wide<D>, axis?: ReduceAxes, keepDims = false) => {
  const m = shiftOf(x, axis);
  // logsumexp(x) = m + log(sum(exp(x - m)))
  const s = reduceWith("reduce_sum", exp(sub(x, m)), axis, keepDims);
  return add(log(s), keepDims ? m : reshape(m, s.shape));
}, "float") as Reduction<FloatDType, "logsumexp">; // as for sum

/**
 * `exp(x) / sum(exp(x))` along `axis` (default -1), computed stably from
 * `x - max(x)`: logits of 1000 are fine. A row holding +Infinity, or only
 * -Infinity, gives NaN, as in JAX.
 *
 * @example
 * softmax(tensor([[1000, 1000]])).toNested(); // [[0.5, 0.5]]
 */
export const softmax: Normalization<"softmax"> = named("softmax", <D extends FloatDType>(x: Wide<D>, axis: number | readonly number[] = -1) => {
  const e = exp(sub(x, shiftOf(x, axis)));
  return div(e, reduceWith("reduce_sum", e, axis, true));
}, "float") as Normalization<"softmax">; // the result has the operand's shape and dtype

/**
 * `log(softmax(x))` along `axis` (default -1), computed as
 * `(x - m) - log(sum(exp(x - m)))`: never the log of 0 for finite logits.
 *
 * @example
 * logSoftmax(tensor([0, -1000])).toArray(); // [0, -1000]
 */
export const logSoftmax: Normalization<"logSoftmax"> = named("logSoftmax", <D extends FloatDType>(x: Wide<D>, axis: number | readonly number[] = -1) => {
  const shifted = sub(x, shiftOf(x, axis));
  return sub(shifted, log(reduceWith("reduce_sum", exp(shifted), axis, true)));
}, "float") as Normalization<"logSoftmax">; // as for softmax

/**
 * The population variance over `axis`: the mean of the squared deviations
 * from the mean (two passes, so no cancellation of large squares).
 *
 * @example
 * variance(tensor([1, 2, 3, 4])).item(); // 1.25
 */
export const variance: Reduction<FloatDType, "variance"> = named("variance", <D extends FloatDType>(x: Wide<D>, axis?: ReduceAxes, keepDims = false) => {
  const deviation = sub(x, mean(x, axis, true));
  return mean(square(deviation), axis, keepDims);
}, "float") as Reduction<FloatDType, "variance">; // as for sum

/**
 * The Euclidean (L2) norm over `axis`, `sqrt(sum(x^2))`.
 * NOTE: as in NumPy, squares past the dtype's range overflow to Infinity
 * (entries beyond about 1e19 in float32, 1e154 in float64).
 *
 * @example
 * norm(tensor([3, 4])).item(); // 5
 */
export const norm: Reduction<FloatDType, "norm"> = named("norm", <D extends FloatDType>(x: Wide<D>, axis?: ReduceAxes, keepDims = false) =>
  sqrt(reduceWith("reduce_sum", square(x), axis, keepDims)), "float") as Reduction<FloatDType, "norm">; // as for sum

/**
 * Softmax over the last axis of `scores` restricted to where every mask is
 * true (each mask broadcasts against `scores`): zero weights elsewhere, and
 * zero rows where no entry is allowed. Attention's masked softmax.
 * NOTE: masked scores become -Infinity before the exponential, never after,
 * so that no `0 · Infinity` reaches the gradient.
 *
 * @example
 * maskedSoftmax(tensor([[1, 1, 5]]), [tensor([[true, true, false]], "bool")]).toNested(); // [[0.5, 0.5, 0]]
 */
export function maskedSoftmax(scores: Tensor<Shape>, masks: readonly Tensor<Shape, "bool">[]): Tensor<Shape> {
  if (masks.length === 0) return softmax(scores);
  const masked = masks.reduce((s, m) => where(m, s, -Infinity), scores);
  const top = stopGradient(max(masked, -1, true));
  // the shift cancels in the ratio; a row with no entry allowed shifts by 0
  const e = exp(sub(masked, where(isFinite(top), top, 0)));
  const total = sum(e, -1, true);
  // p = e / sum(e), and 0 for a row whose sum is 0
  return div(e, where(greater(total, 0), total, 1));
}
