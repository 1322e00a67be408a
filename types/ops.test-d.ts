import { expectError, expectType } from "tsd";
import { tensor, zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import {
  abs,
  add,
  argmax,
  argmin,
  broadcastTo,
  concat,
  dot,
  erf,
  erfc,
  exp,
  expandDims,
  flatten,
  gelu,
  huber,
  isFinite,
  logSigmoid,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  mean,
  min,
  mse,
  mul,
  norm,
  oneHot,
  outer,
  pad,
  reciprocal,
  relu,
  repeat,
  reshape,
  rsqrt,
  sigmoid,
  sigmoidBinaryCrossEntropy,
  slice,
  softmax,
  softmaxCrossEntropy,
  accuracy,
  softplus,
  square,
  squeeze,
  stack,
  sum,
  swapAxes,
  take,
  tile,
  transpose,
  variance,
  where,
  type SwapAxesShape,
} from "../src/ops/index.js";

/** A value of type T, for checking types that no constructor returns. */
declare function typeOf<T>(): T;

declare const batch: Tensor<["batch", 10]>;
declare const images: Tensor<["batch", 7, 7, 64]>;
declare const features: Tensor<["batch", 784]>;
declare const weights: Tensor<[784, 512]>;
declare const wide: Tensor<[number, number]>;
declare const anyRank: Tensor<number[]>;
declare const f64: Tensor<[3], "float64">;
declare const ints: Tensor<[3], "int32">;
declare const labels: Tensor<["batch"], "int32">;

// ---------------------------------------------------------------------------
// Reductions: ReduceShape, symbolic dims kept.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch"]>>(sum(batch, -1));
expectType<Tensor<["batch", 1]>>(sum(batch, -1, true));
expectType<Tensor<[10]>>(sum(batch, 0));
expectType<Tensor<[]>>(sum(batch));
expectType<Tensor<[1, 1]>>(sum(batch, undefined, true));
expectType<Tensor<[]>>(sum(batch, [0, 1]));
expectType<Tensor<[3], "int32">>(sum(zeros([2, 3], "int32"), 0));
expectType<Tensor<["batch"]>>(mean(batch, 1));
expectType<Tensor<[10]>>(max(batch, 0));
expectType<Tensor<["batch", 1]>>(min(batch, 1, true));
expectType<Tensor<["batch"], "int32">>(argmax(batch, -1));
expectType<Tensor<["batch", 1], "int32">>(argmax(batch, -1, true));
expectType<Tensor<[], "int32">>(argmin(batch));
expectType<Tensor<["batch"]>>(logsumexp(batch, -1));
expectType<Tensor<["batch"]>>(variance(batch, 1));
expectType<Tensor<[]>>(norm(batch));
expectType<Tensor<[number]>>(sum(wide, 1));
expectType<Tensor<(string | number)[]>>(sum(anyRank, 1));

// softmax and logSoftmax keep the shape.
expectType<Tensor<["batch", 10]>>(softmax(batch));
expectType<Tensor<["batch", 10]>>(softmax(batch, 0));
expectType<Tensor<["batch", 10]>>(logSoftmax(batch));
expectType<Tensor<[3], "float64">>(logSoftmax(f64));

// A layer generic in its batch prefix can reduce its last axis.
function meanOverFeatures<B extends (string | number)[]>(x: Tensor<[...B, 64]>): Tensor<B> {
  return mean(x, -1);
}
expectType<Tensor<["batch", 7, 7]>>(meanOverFeatures(images));

// Generic code over any batch prefix: softmax keeps the shape.
function attention<B extends (string | number)[]>(scores: Tensor<[...B, 5, 5]>): Tensor<[...B, 5, 5]> {
  return softmax(scores);
}
expectType<Tensor<["batch", 5, 5]>>(attention(typeOf<Tensor<["batch", 5, 5]>>()));

// An axis known only at run time: the rank of the result is unknown, visibly, and the run time checks the axis.
declare const runtimeAxis: number;
expectType<Tensor<(string | number)[]>>(sum(images, runtimeAxis));
expectType<Tensor<(string | number)[]>>(mean(images, [runtimeAxis]));

// A bad axis, a repeated axis, an int32 mean, a bool sum.
expectError(sum(batch, 2));
expectError(sum(batch, [0, 0]));
expectError(mean(ints));
expectError(sum(tensor([true, false])));
expectError(argmax(batch, 5));
expectError(softmax(batch, 2));
expectError(logsumexp(ints));

// ---------------------------------------------------------------------------
// Products.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch", 512]>>(matmul(features, weights));
expectType<Tensor<[8, 32, 512]>>(matmul(typeOf<Tensor<[8, 32, 784]>>(), weights));
expectType<Tensor<[2, 5, 3, 6]>>(matmul(typeOf<Tensor<[2, 1, 3, 4]>>(), typeOf<Tensor<[5, 4, 6]>>()));
expectType<Tensor<[512]>>(matmul(typeOf<Tensor<[784]>>(), weights));
expectType<Tensor<[]>>(matmul(typeOf<Tensor<[784]>>(), typeOf<Tensor<[784]>>()));
expectType<Tensor<[number, 512]>>(matmul(wide, weights));
expectType<Tensor<[], "float64">>(dot(f64, f64));
expectType<Tensor<[3, 3], "int32">>(outer(ints, ints));

// A dense layer generic in its batch prefix.
function dense<B extends (string | number)[]>(x: Tensor<[...B, 784]>, w: Tensor<[784, 512]>): Tensor<[...B, 512]> {
  return matmul(x, w);
}
expectType<Tensor<["batch", 512]>>(dense(features, weights));

// Inner dims that differ (the message names them), rank 0, int32, a dtype mix.
expectError(matmul(features, typeOf<Tensor<[512, 10]>>()));
expectError(matmul(typeOf<Tensor<[2, 2, 3]>>(), typeOf<Tensor<[3, 3, 4]>>()));
expectError(matmul(typeOf<Tensor<[]>>(), weights));
expectError(matmul(typeOf<Tensor<[2, 2], "int32">>(), typeOf<Tensor<[2, 2], "int32">>()));
expectError(matmul(typeOf<Tensor<[2, 784], "float64">>(), weights));
expectError(dot(f64, typeOf<Tensor<[4], "float64">>()));

// The argument's type carries the rule's message, which the compiler prints.
type MatmulArgument = Parameters<typeof matmul<[2, 784], [512, 10], "float32">>[1];
expectType<true>(typeOf<MatmulArgument extends { shapeError: `matmul: inner dims 784 and 512 differ${string}` } ? true : false>());

// ---------------------------------------------------------------------------
// Shape ops.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch", 3136]>>(flatten(images));
expectType<Tensor<[3136]>>(flatten(typeOf<Tensor<[7, 7, 64]>>(), 0));
expectType<Tensor<["batch", 49, 64]>>(flatten(images, 1, 2));
expectType<Tensor<[4, 6]>>(reshape(zeros([2, 3, 4]), [4, -1]));
expectType<Tensor<[number, 3136]>>(reshape(images, [-1, 3136]));
expectType<Tensor<[10, "batch"]>>(transpose(batch));
expectType<Tensor<["batch", 64, 7, 7]>>(transpose(images, [0, 3, 1, 2]));
expectType<Tensor<[64, 7, 7, "batch"]>>(swapAxes(images, 0, -1));
expectType<[4, 3, "batch"]>(typeOf<SwapAxesShape<["batch", 3, 4], 0, -1>>());
expectType<Tensor<["batch", 10]>>(squeeze(typeOf<Tensor<["batch", 1, 10]>>(), 1));
expectType<Tensor<[2, 3]>>(squeeze(zeros([2, 1, 3, 1])));
expectType<Tensor<["batch", 10, 1]>>(expandDims(batch, -1));
expectType<Tensor<["batch", 13]>>(concat([batch, typeOf<Tensor<["batch", 3]>>()], 1));
expectType<Tensor<[5, 3]>>(concat([zeros([2, 3]), zeros([3, 3])]));
expectType<Tensor<[2, "batch", 10]>>(stack([batch, batch]));
expectType<Tensor<["batch", 10, 2]>>(stack([batch, batch], -1));
expectType<Tensor<["batch", 7]>>(slice(typeOf<Tensor<["batch", 10, 4]>>(), [null, { start: 2, stop: -1 }, 0]));
expectType<Tensor<["batch", 10]>>(broadcastTo(typeOf<Tensor<["batch", 1]>>(), [typeOf<number>(), 10]));
expectType<Tensor<[2, 3]>>(broadcastTo(zeros([3]), [2, 3]));
expectType<Tensor<["batch", 10]>>(oneHot(labels, 10));
expectType<Tensor<["batch", 10], "int32">>(oneHot(labels, 10, "int32"));
expectType<Tensor<["batch", 64]>>(take(typeOf<Tensor<[256, 64]>>(), labels));
expectType<Tensor<[2, 3, 64], "float64">>(take(typeOf<Tensor<[256, 64], "float64">>(), typeOf<Tensor<[2, 3], "int32">>()));
expectType<Tensor<["batch", 32]>>(pad(typeOf<Tensor<["batch", 28]>>(), [[0, 0], [2, 2]]));
expectType<Tensor<["batch", 20]>>(tile(batch, [1, 2]));
expectType<Tensor<["batch", 30]>>(repeat(batch, 3, -1));

// Reshape sizes that differ, a concat mismatch, a dtype mix, a bad axis, a bad perm ...
expectError(reshape(zeros([2, 3]), [4, 2]));
expectError(reshape(zeros([2, 3]), [-1, -1]));
expectError(reshape(features, [28, 28]));
expectError(concat([batch, typeOf<Tensor<[5, 3]>>()], 1));
expectError(concat([zeros([2, 3]), zeros([2, 3], "float64")]));
expectError(stack([zeros([2]), zeros([3])]));
expectError(flatten(images, 5));
expectError(flatten(zeros([3])));
expectError(concat([zeros([2, 3]), zeros([2, 4])]));
expectError(transpose(batch, [0, 0]));
expectError(swapAxes(batch, 0, 2));
expectError(squeeze(batch, 1));
expectError(expandDims(batch, 4));
expectError(slice(batch, [null, 10]));
expectError(broadcastTo(zeros([2, 3]), [4, 3]));
expectError(pad(batch, [[1, 1]]));
expectError(oneHot(typeOf<Tensor<[3]>>(), 4));

// ---------------------------------------------------------------------------
// Elementwise ops and activations: number and symbolic dims, dtype rules.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch", 10]>>(add(batch, typeOf<Tensor<[10]>>()));
expectType<Tensor<["batch", 10]>>(add(batch, batch));
expectType<Tensor<[number, number]>>(mul(wide, 2));
expectType<Tensor<["batch", 10]>>(relu(batch));
expectType<Tensor<["batch", 10]>>(sigmoid(batch));
expectType<Tensor<["batch", 10]>>(softplus(batch));
expectType<Tensor<["batch", 10]>>(logSigmoid(batch));
expectType<Tensor<["batch", 10]>>(gelu(batch));
expectType<Tensor<["batch", 10]>>(gelu(batch, { approximate: "tanh" }));
expectType<Tensor<[3], "float64">>(gelu(f64, { approximate: "none" }));
expectType<Tensor<["batch", 10]>>(erf(batch));
expectType<Tensor<[3], "float64">>(erfc(f64));
expectType<Tensor<[3], "float64">>(rsqrt(f64));
expectType<Tensor<[3], "float64">>(reciprocal(f64));
expectType<Tensor<[3], "int32">>(square(ints));
expectType<Tensor<[3], "int32">>(abs(ints));
expectType<Tensor<["batch", 10], "bool">>(isFinite(batch));

// Generic code over any shape and float dtype: same-shape operands need no broadcast rule.
function residual<S extends (string | number)[], D extends "float32" | "float64">(x: Tensor<S, D>, y: Tensor<S, D>): Tensor<S, D> {
  return add(x, where(isFinite(y), relu(y), 0));
}
expectType<Tensor<["batch", 10]>>(residual(batch, batch));

// where: the three shapes broadcast; a number takes the other value's dtype (float32 when both are numbers).
declare const mask: Tensor<["batch", 10], "bool">;
declare const row: Tensor<[10]>;
expectType<Tensor<["batch", 10]>>(where(mask, batch, 0));
expectType<Tensor<["batch", 10]>>(where(mask, 0, batch));
expectType<Tensor<["batch", 10]>>(where(mask, row, batch));
expectType<Tensor<["batch", 10]>>(where(mask, 1, 0));
expectType<Tensor<["batch", 10], "float64">>(where(typeOf<Tensor<[1, 10], "bool">>(), typeOf<Tensor<["batch", 1], "float64">>(), 0));
expectType<Tensor<[3], "int32">>(where(typeOf<Tensor<[3], "bool">>(), ints, -1));
expectError(where(mask, batch, zeros([3]))); // [batch, 10] and [3]
expectError(where(mask, features, 0)); // the condition [batch, 10] and the value [batch, 784]
expectError(where(mask, batch, typeOf<Tensor<["batch", 10], "float64">>())); // two value dtypes
expectError(where(batch, batch, 0)); // a float32 condition
function clipNegative<S extends (string | number)[], D extends "float32" | "float64">(c: Tensor<S, "bool">, x: Tensor<S, D>): Tensor<S, D> {
  return where(c, 0, x);
}
expectType<Tensor<["batch", 10]>>(clipNegative(mask, batch));

// Shapes that do not broadcast, float32 with float64, exp and rsqrt of int32.
expectError(add(batch, typeOf<Tensor<[3]>>()));
expectError(add(zeros([3]), f64));
expectError(exp(ints));
expectError(rsqrt(ints));
expectError(sigmoid(ints));
expectError(erf(ints));
expectError(erfc(ints));
expectError(gelu(batch, { approximate: "erf" }));

// ---------------------------------------------------------------------------
// Losses: per example.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch"]>>(softmaxCrossEntropy(batch, labels));
expectType<Tensor<["batch"]>>(softmaxCrossEntropy(batch, batch));
expectType<Tensor<[32]>>(softmaxCrossEntropy(typeOf<Tensor<[32, 10]>>(), typeOf<Tensor<[number], "int32">>()));
expectType<Tensor<["batch", 10]>>(sigmoidBinaryCrossEntropy(batch, batch));
expectType<Tensor<["batch", 10]>>(mse(batch, batch));
expectType<Tensor<["batch", 10]>>(huber(batch, typeOf<Tensor<[10]>>(), 0.5));
expectType<Tensor<[], "float32">>(accuracy(batch, labels));
expectType<Tensor<[], "float32">>(accuracy(typeOf<Tensor<[32, 10], "float64">>(), typeOf<Tensor<[32, 10], "float64">>()));
expectError(accuracy(batch, typeOf<Tensor<["batch", 3], "int32">>()));
expectError(accuracy(typeOf<Tensor<[32, 10]>>(), typeOf<Tensor<[16], "int32">>()));

// A loss over any batch prefix, as a training step written once for every model.
function loss<B extends (string | number)[]>(logits: Tensor<[...B, 10]>, y: Tensor<B, "int32">): Tensor<B> {
  return softmaxCrossEntropy(logits, y);
}
expectType<Tensor<["batch"]>>(loss(batch, labels));

// Labels of the wrong shape or dtype, targets that do not broadcast.
expectError(softmaxCrossEntropy(batch, typeOf<Tensor<[32], "int32">>()));
expectError(softmaxCrossEntropy(batch, typeOf<Tensor<["batch", 3]>>()));
expectError(softmaxCrossEntropy(batch, typeOf<Tensor<["batch"], "float32">>()));
expectError(softmaxCrossEntropy(typeOf<Tensor<[]>>(), typeOf<Tensor<[], "int32">>()));
expectError(mse(batch, typeOf<Tensor<[3]>>()));
expectError(huber(batch, typeOf<Tensor<[10], "float64">>()));
