import type { Either } from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import {
  arange,
  assertShape,
  eye,
  fromArray,
  full,
  linspace,
  ones,
  tensor,
  zeros,
  type ArangeLength,
  type DefaultDType,
  type NestedShape,
  type RaggedLiteral,
} from "../src/core/create.js";
import type { ShapeError } from "../src/core/errors.js";
import type { Tensor } from "../src/core/tensor.js";

/** A value of type T, for checking types that no constructor returns. */
declare function typeOf<T>(): T;

// NestedShape: one dim per level of a literal.
expectType<[2, 3]>(typeOf<NestedShape<readonly [readonly [1, 2, 3], readonly [4, 5, 6]]>>());
expectType<[]>(typeOf<NestedShape<7>>());
expectType<[0]>(typeOf<NestedShape<readonly []>>());
expectType<[number]>(typeOf<NestedShape<number[]>>());
expectType<[2, number]>(typeOf<NestedShape<readonly [number[], number[]]>>());
expectType<[number, number]>(typeOf<NestedShape<number[][]>>());

// DefaultDType: bool for boolean leaves, else float32.
expectType<"bool">(typeOf<DefaultDType<readonly [true, false]>>());
expectType<"float32">(typeOf<DefaultDType<readonly [1, 2]>>());
expectType<"float32">(typeOf<DefaultDType<readonly []>>());

// RaggedLiteral: the message for rows of different shapes.
expectType<"ragged nested literal: rows of shapes [3] and [2]">(
  typeOf<RaggedLiteral<readonly [readonly [1, 2, 3], readonly [4, 5]]>>(),
);
expectType<never>(typeOf<RaggedLiteral<readonly [readonly [1, 2], readonly [3, 4]]>>());

// tensor: the shape of the literal, with or without `as const`.
expectType<Tensor<[2, 3]>>(tensor([[1, 2, 3], [4, 5, 6]] as const));
expectType<Tensor<[2, 3]>>(tensor([[1, 2, 3], [4, 5, 6]]));
expectType<Tensor<[]>>(tensor(3));
expectType<Tensor<[0]>>(tensor([]));
expectType<Tensor<[2], "bool">>(tensor([true, false]));
expectType<Tensor<[1, 2], "int32">>(tensor([[1, 2]], "int32"));
expectType<Tensor<[2, 2, 1], "float64">>(tensor([[[1], [2]], [[3], [4]]], "float64"));
declare const rows: number[][];
expectType<Tensor<[number, number]>>(tensor(rows));
declare const anyRank: Tensor<number[]>;
expectType<Tensor<number[]>>(tensor(anyRank.toNested()));

// zeros, ones, full: the shape given.
expectType<Tensor<[2, 3]>>(zeros([2, 3]));
expectType<Tensor<[]>>(zeros([]));
expectType<Tensor<[4], "int32">>(ones([4], "int32"));
expectType<Tensor<[2, 2]>>(full([2, 2], 7));
expectType<Tensor<[3], "bool">>(full([3], true));
expectType<Tensor<[3], "float64">>(full([3], 0.5, "float64"));
declare const sizes: number[];
expectType<Tensor<number[]>>(zeros(sizes));

// eye: [N, N] or [N, M].
expectType<Tensor<[3, 3]>>(eye(3));
expectType<Tensor<[3, 3], "int32">>(eye(3, "int32"));
expectType<Tensor<[2, 4]>>(eye(2, 4));
expectType<Tensor<[2, 4], "bool">>(eye(2, 4, "bool"));

// arange: a literal length from 0 in steps of 1, else number.
expectType<Tensor<[5]>>(arange(5));
expectType<Tensor<[5], "int32">>(arange(5, "int32"));
expectType<Tensor<[5]>>(arange(0, 5));
expectType<Tensor<[number]>>(arange(1, 5));
expectType<Tensor<[number]>>(arange(0, 5, 2));
expectType<Tensor<[number]>>(arange(2.5));
expectType<0>(typeOf<ArangeLength<0, -3, 1>>());
declare const stop: number;
expectType<Tensor<[number]>>(arange(stop));

// linspace: [N].
expectType<Tensor<[5]>>(linspace(0, 1, 5));
expectType<Tensor<[50], "float64">>(linspace(-1, 1, 50, "float64"));

// fromArray: an Either over the shape given, symbolic dims included.
expectType<Either<ShapeError, Tensor<["batch", 784]>>>(fromArray(new Float32Array(784), ["batch", 784]));
expectType<Either<ShapeError, Tensor<[2, 3], "int32">>>(fromArray([1, 2, 3, 4, 5, 6], [2, 3], "int32"));
declare const json: unknown[];
expectType<Either<ShapeError, Tensor<["n"], "bool">>>(fromArray(json, ["n"], "bool"));

// assertShape: the same tensor, retyped.
declare const x: Tensor<number[]>;
expectType<Tensor<["batch", 784]>>(assertShape(x, ["batch", 784]));
declare const y: Tensor<[2, 3], "int32">;
expectType<Tensor<["rows", 3], "int32">>(assertShape(y, ["rows", 3]));

// What must not compile.
expectError(tensor([[1, 2, 3], [4, 5]]));
expectError(tensor([[[1, 2], [3]], [[4, 5], [6, 7]]]));
expectError(tensor([1, 2], "float16"));
expectError(tensor(["a", "b"]));
expectError(zeros([2, 3], "complex64"));
expectError(zeros(6));
expectError(zeros(["batch", 3]));

// literal dims that are not sizes do not compile (the run-time message, at the shape argument)
expectError(zeros([-1, 2.5]));
expectError(zeros([2, -1]));
expectError(ones([1.5]));
expectError(full([2, 3e9], 0));
expectError(zeros([1e21]));
expectType<Tensor<[2147483647]>>(zeros([2147483647]));
// policies: a union dim is widened to number (checked at run time); a spread of a number[] has unknown rank
declare const choice: boolean;
expectType<Tensor<[2, number]>>(zeros([2, choice ? 3 : 4]));
expectType<Tensor<[number, 5], "int32">>(ones([choice ? 3 : 4, 5], "int32"));
expectType<Tensor<[number]>>(full([choice ? 1 : 2], 0));
expectType<Tensor<number[]>>(zeros([...sizes]));
expectType<Tensor<[2, ...number[]]>>(zeros([2, ...sizes]));
expectType<Tensor<[2, 3, 4]>>(zeros([...([2, 3] as const), 4]));
expectError(full([2], "x"));
expectError(eye(2, 3, "int64"));
expectError(arange(5, "uint8"));
expectError(linspace(0, 1, 5, "half"));
expectError(fromArray([1, 2], [2], "string"));
expectError(fromArray([1, 2], 2));
expectError(assertShape([1, 2], [2]));
declare const twoByThree: Tensor<[2, 3]>;
expectError<Tensor<[3, 2]>>(twoByThree);
declare const batchBy3: Tensor<["batch", 3]>;
expectError<Tensor<["seq", 3]>>(batchBy3);
expectError<Tensor<[2, 3], "int32">>(twoByThree);
