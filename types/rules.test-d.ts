import { expectError, expectType } from "tsd";
import {
  broadcastShapes,
  concatShape,
  convOutSize,
  expandDimsShape,
  flattenShape,
  matmulShape,
  permuteShape,
  poolOutSize,
  reduceShape,
  reshapeShape,
  sliceShape,
  squeezeShape,
  stackShape,
  transposeShape,
  type BroadcastShapes,
  type ConcatShape,
  type ConvOutSize,
  type ExpandDimsShape,
  type FlattenShape,
  type MatmulShape,
  type PermuteShape,
  type PoolOutSize,
  type ReduceShape,
  type ReshapeShape,
  type ShapeError,
  type SliceShape,
  type SqueezeShape,
  type StackShape,
  type TransposeShape,
} from "../src/index.js";

declare const anyDim: number;

// broadcast: symbolic dims match themselves and 1; `number` defers to run time.
expectType<["batch", 4, 3]>({} as BroadcastShapes<["batch", 1, 3], [4, 3]>);
expectType<["batch", 3]>({} as BroadcastShapes<[number, 3], ["batch", 1]>);
expectType<[2, 4, 3]>(broadcastShapes([2, 1, 3], [4, 3]));
expectType<ShapeError<"broadcast: shapes [batch, 3] and [seq, 3] do not broadcast (dims batch and seq differ)">>(
  {} as BroadcastShapes<["batch", 3], ["seq", 3]>,
);
expectError(broadcastShapes([2, 3], [4]));

// matmul: the example names the inner dims.
expectType<["batch", 512]>({} as MatmulShape<["batch", 784], [784, 512]>);
expectType<[8, 5, 2, 4]>(matmulShape([8, 1, 2, 3], [5, 3, 4]));
expectType<[]>(matmulShape([3], [3]));
expectType<[2, 50257]>({} as MatmulShape<[2, 768], [768, 50257]>);
expectType<[number, 10]>({} as MatmulShape<[number, number], [784, 10]>);
expectType<ShapeError<"matmul: inner dims 784 and 512 differ in [batch, 784] and [512, 10]">>(
  {} as MatmulShape<["batch", 784], [512, 10]>,
);
expectError(matmulShape([2, 784], [512, 10]));
expectError(matmulShape([], [3]));
expectError(matmulShape([2, 2, 3], [3, 3, 4]));

// permute and transpose
expectType<["batch", 3, 28, 28]>({} as PermuteShape<["batch", 28, 28, 3], [0, 3, 1, 2]>);
expectType<[4, 2, 3]>(permuteShape([2, 3, 4], [-1, 0, 1]));
expectType<[4, 3, 2]>(transposeShape([2, 3, 4]));
expectType<["c", "b", "a"]>({} as TransposeShape<["a", "b", "c"]>);
expectError(permuteShape([2, 3], [0, 0]));
expectError(permuteShape([2, 3], [0]));
expectError(permuteShape([2, 3], [0, 2]));

// reshape and flatten: exact digit arithmetic, symbolic dims cancel.
expectType<["batch", 3136]>({} as ReshapeShape<["batch", 7, 7, 64], ["batch", -1]>);
expectType<["batch", 3136]>({} as FlattenShape<["batch", 7, 7, 64]>);
expectType<[38597376]>(reshapeShape([50257, 768], [-1]));
expectType<[4, 6]>(reshapeShape([2, 3, 4], [4, -1]));
expectType<[32, 3136]>(flattenShape([32, 7, 7, 64]));
expectType<[24]>(flattenShape([2, 3, 4], 0));
expectType<[number, 10]>({} as ReshapeShape<[number, 2, 5], [-1, 10]>);
expectType<[2147483647000]>({} as FlattenShape<[2147483647, 1000], 0>);
expectError(reshapeShape([2, 3], [4]));
expectError(reshapeShape([2, 3], [4, -1]));
expectError(reshapeShape([6], [-1, -1]));
// a symbolic dim needs a place in the target: a fixed target would hold for one size of it only
expectType<ShapeError<"reshape: cannot reshape [batch, 784] into [28, 28]: batch has no place in the target (keep it, or use -1)">>({} as ReshapeShape<["batch", 784], [28, 28]>);
expectType<["batch", 28, 28]>({} as ReshapeShape<["batch", 784], ["batch", 28, 28]>);
expectType<[number, 28, 28]>({} as ReshapeShape<["batch", 784], [-1, 28, 28]>);
expectType<[number, 28]>({} as ReshapeShape<["batch", 784], [number, 28]>);
expectType<[28, 28]>({} as ReshapeShape<[number, 784], [28, 28]>);
expectError(flattenShape([2, 3, 4], 2, 1));

// squeeze and expandDims
expectType<["batch", 10]>({} as SqueezeShape<["batch", 1, 10], [1]>);
expectType<[2, 3]>(squeezeShape([2, 1, 3, 1]));
expectType<(string | number)[]>({} as SqueezeShape<["batch", 1, 10]>);
expectType<["batch", 10, 1]>({} as ExpandDimsShape<["batch", 10], -1>);
expectType<[1, 2, 3]>(expandDimsShape([2, 3], 0));
expectError(squeezeShape([2, 3], [1]));
expectError(expandDimsShape([2, 3], 4));

// concat and stack
expectType<["batch", 8]>({} as ConcatShape<[["batch", 3], ["batch", 5]], -1>);
expectType<[2, 9]>(concatShape([[2, 3], [2, 5], [2, 1]], 1));
expectType<[2, number]>({} as ConcatShape<[[2, 3], [2, number]], 1>);
expectType<[2, 3, 4]>({} as StackShape<[[3, 4], [3, 4]], 0>);
expectType<[3, 4, 2]>(stackShape([[3, 4], [3, 4]], -1));
expectError(concatShape([[2, 3], [4, 3]], 1));
expectError(concatShape([[2, 3], [2]], 0));
expectError(stackShape([[3, 4], [4, 3]], 0));

// slicing and indexing
expectType<["batch", 7]>({} as SliceShape<["batch", 10, 4], [null, { start: 2; stop: -1 }, 0]>);
expectType<[8, 7]>(sliceShape([8, 10, 4], [null, { start: 2, stop: -1 }, 0]));
expectType<[4]>(sliceShape([10], [{ step: 3 }]));
expectType<[0]>(sliceShape([10], [{ start: 20 }]));
expectError(sliceShape([3], [3]));
expectError(sliceShape([3], [{ step: 0 }]));
expectError(sliceShape([3], [null, null]));

// reductions
expectType<["batch"]>({} as ReduceShape<["batch", 10], -1>);
expectType<["batch", 1]>({} as ReduceShape<["batch", 10], [1], true>);
expectType<[10]>(reduceShape([8, 10, 4], [0, -1]));
expectType<[]>(reduceShape([8, 10]));
expectError(reduceShape([2, 3], [0, -2]));
expectError(reduceShape([2, 3], 2));

// conv and pool output sizes
expectType<112>({} as ConvOutSize<224, 7, 2, 1, 3>);
expectType<112>(convOutSize(224, 7, { stride: 2, padding: 3 }));
expectType<28>(convOutSize(28, 3, { padding: "same" }));
expectType<14>(poolOutSize(28, 2));
expectType<4>({} as PoolOutSize<7, 2, 2, "same">);
expectType<number>(convOutSize(anyDim, 3));
expectType<ShapeError<"conv: input size 5 (padded 5) is smaller than kernel 7 with dilation 1">>({} as ConvOutSize<5, 7>);
expectType<ShapeError<"conv: stride 0 must be a positive integer">>({} as ConvOutSize<5, 3, 0>);
expectError(convOutSize(5, 7));
expectError(convOutSize(28, 3, { stride: 0 }));
expectError(poolOutSize(1, 2));
