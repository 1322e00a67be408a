/**
 * The public ops, in one barrel for `src/index.ts` to re-export: elementwise
 * math, activations, reductions and normalisations, products, shape ops and
 * losses. Every op is a composite of primitives, typed by the type-level
 * twin of its shape rule, and runs eagerly or under `jit` alike.
 *
 * Internal helpers (`broadcastOperands`, `scalarOf`) are
 * left out on purpose, as is `activations.ts`'s `tanh`, which is the same op
 * as the elementwise `tanh` exported here.
 */

export {
  add,
  cast,
  cos,
  div,
  equal,
  erf,
  erfc,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  pow,
  sin,
  sqrt,
  sub,
  tanh,
  where,
  type BinaryCheck,
  type BinaryOp,
  type CompareOp,
  type OperandsFit,
  type UnaryOp,
  type WhereFit,
} from "./elementwise.js";
export { abs, clip, isFinite, isNaN, reciprocal, rsqrt, sign, square } from "./math.js";
export { gelu, logSigmoid, relu, sigmoid, silu, softplus, type GeluOptions } from "./activations.js";
export { broadcastTo, type BroadcastToShape } from "./broadcast.js";
export {
  argmax,
  argmin,
  logSoftmax,
  logsumexp,
  max,
  mean,
  min,
  norm,
  softmax,
  sum,
  variance,
  type IndexReduction,
  type Normalization,
  type Reduction,
} from "./reduce.js";
export { dot, matmul, outer } from "./linalg.js";
export {
  concat,
  expandDims,
  flatten,
  oneHot,
  pad,
  repeat,
  reshape,
  slice,
  squeeze,
  stack,
  swapAxes,
  take,
  tile,
  transpose,
  type PadShape,
  type PadWidths,
  type RepeatShape,
  type SwapAxesShape,
  type TakeShape,
  type TileShape,
} from "./shape.js";
export { accuracy, huber, mse, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, type ElementwiseLoss } from "./losses.js";
export type { FloatDType, NumericDType, ShapeOf } from "./types.js";
export {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  type AdaptiveOutSize,
  type AdaptivePool1dOp,
  type AdaptivePool1dShape,
  type AdaptivePool2dOp,
  type AdaptivePool2dShape,
} from "./adaptive-pool.js";
export { avgPool2d, conv1d, conv2d, maxPool2d, type AvgPool2dOptions, type Conv2dOptions, type Conv2dShape, type Pool2dOp, type Pool2dOptions, type Pool2dShape } from "./conv.js";
