/**
 * The run-time shape rules and their type-level twins, side by side under one
 * name each (`matmulShape` / `MatmulShape`). Every rule throws a `ShapeError`
 * naming the op and the shapes; every twin gives `ShapeError<"the same
 * message">`, which a `Checked` argument turns into a compile error.
 */

export { broadcastShapes, type BroadcastDim, type BroadcastShapes } from "./broadcast.js";
export { concatShape, stackShape, type ConcatShape, type StackShape } from "./concat.js";
export {
  convOutSize,
  convTransposeOutSize,
  poolOutSize,
  windowPadding,
  type ConvOutSize,
  type ConvTransposeOutSize,
  type Padding,
  type PoolOutSize,
  type WindowOptions,
} from "./conv.js";
export type { Checked, DimsMatch, IsError, MergeDim, NormalizeAxis } from "./dims.js";
export { matmulShape, type MatmulShape } from "./matmul.js";
export { permuteShape, transposeShape, type PermuteShape, type TransposeShape } from "./permute.js";
export { reduceShape, reducedAxes, type ReduceAxes, type ReduceShape } from "./reduce.js";
export { flattenShape, reshapeShape, type FlattenShape, type ReshapeShape } from "./reshape.js";
export { sliceRule, sliceShape, type AxisSlice, type SliceRange, type SliceShape, type SliceSpec } from "./slice.js";
export { expandDimsShape, squeezeShape, type ExpandDimsShape, type SqueezeShape } from "./squeeze.js";
export { vmapShape, type VmapShape } from "./vmap.js";
