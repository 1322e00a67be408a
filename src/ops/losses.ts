/**
 * Loss functions, per example: `softmaxCrossEntropy`,
 * `sigmoidBinaryCrossEntropy`, `mse` and `huber`, and the `accuracy` metric.
 * Reduce a loss with `mean` (or `sum`) separately.
 *
 * The cross-entropies take logits and go through `logSoftmax` and
 * `logSigmoid`, never the log of a probability, so extreme logits (±1000)
 * give finite losses and no `log(0)`. Where a label is 0 its term is 0 even
 * against a log-probability of -Infinity (the `x log y` convention), so
 * masked logits do not turn a loss into NaN. `softmaxCrossEntropy` sums over
 * the class axis; the others are elementwise (as optax's are) and broadcast.
 * Deliberately left out: class weights and label smoothing (a few ops on the
 * labels before the call).
 */

import { isFloatDType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import type { BroadcastIn } from "../core/rules/broadcast.js";
import type { Checked, DimsMatch, IsTuple, MergeDim } from "../core/rules/dims.js";
import { formatShape, sameShape, type Dim, type Shape, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { checkFloat, checkTensor } from "../core/validate.js";
import type { AnyTensor } from "../prims/types.js";
import { logSigmoid } from "./activations.js";
import { broadcastOperands } from "./broadcast.js";
import { add, cast, equal, minimum, mul, neg, sub, where } from "./elementwise.js";
import { abs, clip, square } from "./math.js";
import { argmax, logSoftmax, mean, sum } from "./reduce.js";
import { oneHot } from "./shape.js";
import type { FloatDType, ShapeOf } from "./types.js";

type Wide<D extends FloatDType = FloatDType> = Tensor<Shape, D>;

// ---------------------------------------------------------------------------
// softmaxCrossEntropy
// ---------------------------------------------------------------------------

/** Two shapes of one rank whose dims can be equal, merged; else "differ". */
type Fit<X extends Shape, Y extends Shape> = IsTuple<X> extends false
  ? Dim[]
  : IsTuple<Y> extends false
    ? Dim[]
    : X["length"] extends Y["length"]
      ? Merge<X, Y>
      : "differ";

type Merge<X extends Shape, Y extends Shape> = X extends readonly [infer DX, ...infer XR extends Shape]
  ? Y extends readonly [infer DY, ...infer YR extends Shape]
    ? DimsMatch<DX, DY> extends true
      ? Merge<XR, YR> extends infer R extends Dim[]
        ? [MergeDim<DX, DY> & Dim, ...R]
        : "differ"
      : "differ"
    : []
  : [];

/**
 * The shape of the loss for logits of shape `Logits` and labels of shape `L`
 * that should have shape `Expected`, or the `ShapeError` the op reports.
 */
type LabelsFit<Logits extends Shape, Expected extends Shape, L extends Shape> = Fit<Expected, L> extends infer R extends Dim[]
  ? R
  : ShapeError<`softmaxCrossEntropy: labels of shape ${ShowShape<L>} do not fit logits of shape ${ShowShape<Logits>}`>;

/** `-x`, but `0 - x`, so that a perfect prediction's loss is 0 rather than -0. */
function negated<D extends FloatDType>(x: Wide<D>): Wide<D> {
  return sub(0, x);
}

/** `p * logq`, and 0 where `p` is 0 whatever `logq` is (-Infinity included). */
function xlogy<D extends FloatDType>(p: Wide<D>, logq: Wide<D>): Wide<D> {
  return where(equal(p, 0), 0, mul(p, logq));
}

/**
 * The class count of `logits` and whether `labels` are int32 indices (else
 * probabilities of the logits' dtype); a `ShapeError` naming `op` when the
 * labels do not fit.
 */
function checkLabels(op: string, logits: Wide, labels: AnyTensor): { classes: number; indices: boolean } {
  checkFloat(op, logits, "logits");
  checkTensor(op, "labels", labels);
  const rank = logits.shape.length;
  if (rank === 0) shapeError(op, "logits of shape [] have no class axis");
  const indices = labels.dtype === "int32";
  if (!sameShape(labels.shape, indices ? logits.shape.slice(0, -1) : logits.shape)) {
    shapeError(op, `labels of shape ${formatShape(labels.shape)} do not fit logits of shape ${formatShape(logits.shape)}`);
  }
  if (!indices && labels.dtype !== logits.dtype) shapeError(op, `labels must be int32 or ${logits.dtype}, got ${labels.dtype}`);
  return { classes: logits.shape[rank - 1] ?? 0, indices };
}

/**
 * The cross-entropy between `softmax(logits)` over the last axis and the
 * labels, one loss per example: `[...B, C]` logits with int32 class indices
 * `[...B]`, or with probabilities (one-hot or soft) `[...B, C]` of the
 * logits' dtype. An index outside `[0, C)` gives a NaN loss rather than a
 * silent 0, and a NaN gradient on that example's logits, so that a loop that
 * watches either sees it.
 *
 * NOTE: the probability signatures come first: an int32 signature first
 * would make an inline `tensor([[0, 1]])` argument infer an int32 dtype
 * from its context.
 *
 * @example
 * softmaxCrossEntropy(tensor([[1000, -1000]]), tensor([1], "int32")).toArray(); // [2000]
 */
export function softmaxCrossEntropy<B extends Shape, C extends Dim, D extends FloatDType>(
  logits: Tensor<[...B, C], D>,
  labels: Tensor<[...NoInfer<B>, NoInfer<C>], NoInfer<D>>,
): Tensor<B, D>;
export function softmaxCrossEntropy<B extends Shape, C extends Dim, L extends Shape, D extends FloatDType>(
  logits: Tensor<[...B, C], D>,
  labels: Tensor<L, NoInfer<D>> & Checked<LabelsFit<[...B, C], [...B, C], L>, unknown>,
): Tensor<B, D>;
export function softmaxCrossEntropy<B extends Shape, C extends Dim, D extends FloatDType>(
  logits: Tensor<[...B, C], D>,
  labels: Tensor<NoInfer<B>, "int32">,
): Tensor<B, D>;
export function softmaxCrossEntropy<B extends Shape, C extends Dim, L extends Shape, D extends FloatDType>(
  logits: Tensor<[...B, C], D>,
  labels: Tensor<L, "int32"> & Checked<LabelsFit<[...B, C], B, L>, unknown>,
): Tensor<ShapeOf<LabelsFit<[...B, C], B, L>>, D>;
// The implementation returns `unknown` so that it is compatible with every overload, error types included.
export function softmaxCrossEntropy(logits: Wide, labels: AnyTensor): unknown {
  const { classes, indices } = checkLabels("softmaxCrossEntropy", logits, labels);
  const logp = logSoftmax(logits);
  if (!indices) {
    // -sum(p log q) over the classes
    return negated(sum(xlogy(labels as Wide, logp), -1)); // labels has the logits' float dtype, checked just above
  }
  if (classes === 0) return add(negated(sum(logp, -1)), NaN); // no class for any label: every loss is NaN
  const ids = labels as Tensor<Shape, "int32">; // labels is int32 in this branch
  const clipped = clip(ids, 0, classes - 1);
  // -log q[label], picked by a select so that a -Infinity elsewhere is never multiplied by 0
  const loss = negated(sum(where(oneHot(clipped, classes, "bool"), logp, 0), -1));
  // NOTE: an index outside [0, C) gives a NaN loss, not a silent 0, and a NaN gradient row: its loss
  // (at the clipped index, so that the select passes a cotangent on) is scaled by NaN.
  return mul(loss, cast(where(equal(clipped, ids), 1, NaN), logits.dtype));
}

/**
 * The fraction of examples whose largest logit is at the label: `[...B, C]`
 * logits with int32 class indices `[...B]`, or with probabilities `[...B, C]`
 * (the label is then their argmax). A float32 scalar; NaN for an empty batch,
 * and NaN when an index lies outside `[0, C)`, as the cross-entropy's loss is.
 * Ties go to the first largest logit. Not differentiable (it is a count).
 *
 * @example
 * accuracy(tensor([[2, 1], [0, 3]]), tensor([0, 0], "int32")).item(); // 0.5
 */
export function accuracy<B extends Shape, C extends Dim, D extends FloatDType>(
  logits: Tensor<[...B, C], D>,
  labels: Tensor<[...B, C], NoInfer<D>>,
): Tensor<[], "float32">;
export function accuracy<B extends Shape, C extends Dim, D extends FloatDType>(logits: Tensor<[...B, C], D>, labels: Tensor<B, "int32">): Tensor<[], "float32">;
export function accuracy(logits: Wide, labels: AnyTensor): Tensor<[], "float32"> {
  const { classes, indices } = checkLabels("accuracy", logits, labels);
  const predicted = argmax(logits, -1);
  // the int32 branch reads the labels as indices; the other takes the argmax of the probabilities (checked float just above)
  const target = indices ? (labels as Tensor<Shape, "int32">) : argmax(labels as Wide, -1);
  const hits = cast(equal(predicted, target), "float32");
  const inRange = equal(clip(target, 0, Math.max(classes - 1, 0)), target);
  return mean(where(classes === 0 ? equal(target, -1) : inRange, hits, NaN)) as Tensor<[], "float32">; // the mean of every element is a scalar
}

// ---------------------------------------------------------------------------
// Elementwise losses
// ---------------------------------------------------------------------------

/**
 * An elementwise loss of two float tensors that broadcast, named `Op` in its
 * errors, with the extra parameters `Rest`.
 *
 * @example
 * const loss: ElementwiseLoss<"mse"> = mse; // (Tensor<[B, 1]>, Tensor<[B, 1]>) => Tensor<[B, 1]>
 */
export interface ElementwiseLoss<Op extends string, Rest extends unknown[] = []> {
  <S extends Shape, D extends FloatDType>(x: Tensor<S, D>, y: Tensor<S, NoInfer<D>>, ...rest: Rest): Tensor<S, D>;
  <A extends Shape, B extends Shape, D extends FloatDType>(
    x: Tensor<A, D>,
    y: Tensor<B, NoInfer<D>> & Checked<BroadcastIn<Op, A, B>, unknown>,
    ...rest: Rest
  ): Tensor<ShapeOf<BroadcastIn<Op, A, B>>, D>;
}

/** Both operands broadcast to one shape, checked to be of one float dtype. */
function floatPair(op: string, x: AnyTensor, y: AnyTensor): [Wide, Wide] {
  const [a, b] = broadcastOperands(op, [x, y]);
  if (a === undefined || b === undefined) throw new Error(`${op}: broadcastOperands lost an operand`);
  checkFloat(op, a);
  return [a as Wide, b as Wide]; // both have the float dtype checked above
}

/**
 * The binary cross-entropy between `sigmoid(logits)` and targets in [0, 1],
 * elementwise: `-(z log sigmoid(x) + (1 - z) log sigmoid(-x))`, through
 * `logSigmoid`, so logits of ±1000 give finite losses.
 *
 * @example
 * sigmoidBinaryCrossEntropy(tensor([1000, -1000]), tensor([0, 0])).toArray(); // [1000, 0]
 */
export const sigmoidBinaryCrossEntropy: ElementwiseLoss<"sigmoidBinaryCrossEntropy"> = ((logits: AnyTensor, targets: AnyTensor) => {
  const [x, z] = floatPair("sigmoidBinaryCrossEntropy", logits, targets);
  return negated(add(xlogy(z, logSigmoid(x)), xlogy(sub(1, z), logSigmoid(neg(x)))));
}) as ElementwiseLoss<"sigmoidBinaryCrossEntropy">; // the signatures type the same function by BroadcastIn

/**
 * The squared error `(x - y)^2`, elementwise; `mean(mse(x, y))` is the mean
 * squared error.
 *
 * @example
 * mse(tensor([1, 2]), tensor([3, 2])).toArray(); // [4, 0]
 */
export const mse: ElementwiseLoss<"mse"> = ((x: AnyTensor, y: AnyTensor) => {
  const [a, b] = floatPair("mse", x, y);
  return square(sub(a, b));
}) as ElementwiseLoss<"mse">; // as for sigmoidBinaryCrossEntropy

/**
 * The Huber loss, elementwise: `0.5 r^2` for `|r| <= delta` and
 * `delta (|r| - 0.5 delta)` beyond, with `r = x - y` (default `delta` 1),
 * computed without branches as optax does.
 *
 * @example
 * huber(tensor([0.5, 3]), tensor([0, 0])).toArray(); // [0.125, 2.5]
 */
export const huber: ElementwiseLoss<"huber", [delta?: number]> = ((x: AnyTensor, y: AnyTensor, delta = 1) => {
  const [a, b] = floatPair("huber", x, y);
  const error = abs(sub(a, b));
  // quadratic up to delta, linear beyond: 0.5 min(|r|, delta)^2 + delta (|r| - min(|r|, delta))
  const quadratic = minimum(error, delta);
  return add(mul(0.5, square(quadratic)), mul(delta, sub(error, quadratic)));
}) as ElementwiseLoss<"huber", [delta?: number]>; // as for sigmoidBinaryCrossEntropy
