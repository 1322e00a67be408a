import type { Either } from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { DType } from "../src/core/dtype.js";
import type { Tensor } from "../src/core/tensor.js";
import {
  encodeNpy,
  gunzip,
  inflateRaw,
  readIdx,
  readIdxAs,
  readIdxHeader,
  readNpy,
  readNpyAs,
  readNpz,
  readZip,
  type IdxDType,
  type IdxHeader,
  type LoadError,
} from "../src/io/index.js";
import { readIdxFile, readIdxFileAs, readNpyFile, readNpzFile } from "../src/node/index.js";

declare const bytes: Uint8Array;

// Untyped readers: the shape and dtype are known at run time only.
expectType<Either<LoadError, Tensor<number[], IdxDType>>>(readIdx(bytes));
expectType<Either<LoadError, Tensor<number[], IdxDType>>>(readIdx(bytes, { maxBytes: 2 ** 20 }));
expectType<Either<LoadError, IdxHeader>>(readIdxHeader(bytes));
expectType<Either<LoadError, Tensor<number[], DType>>>(readNpy(bytes));
expectType<Either<LoadError, Map<string, Tensor<number[], DType>>>>(readNpz(bytes));
expectType<Either<LoadError, Map<string, Uint8Array>>>(readZip(bytes, { maxBytes: 1000 }));
expectType<Either<LoadError, Uint8Array>>(gunzip(bytes, 1000));
expectType<Either<LoadError, Uint8Array>>(inflateRaw(bytes, 1000));

// The typed IDX reader gives the stated shape, int32 unless a dtype is named.
expectType<Either<LoadError, Tensor<[60000, 28, 28], "int32">>>(readIdxAs(bytes, [60000, 28, 28]));
expectType<Either<LoadError, Tensor<["n", 28, 28], "int32">>>(readIdxAs(bytes, ["n", 28, 28]));
expectType<Either<LoadError, Tensor<["n"], "float32">>>(readIdxAs(bytes, ["n"], { dtype: "float32" }));
expectType<Either<LoadError, Tensor<[10, 3], "float64">>>(readIdxAs(bytes, [10, 3], { dtype: "float64", maxBytes: 4096 }));
expectType<Either<LoadError, Tensor<[2], "int32">>>(readIdxAs(bytes, [2], { dtype: "int32" }));

// The typed .npy reader takes the shape and the dtype.
expectType<Either<LoadError, Tensor<[784, "h"], "float32">>>(readNpyAs(bytes, [784, "h"], "float32"));
expectType<Either<LoadError, Tensor<[], "bool">>>(readNpyAs(bytes, [], "bool"));

// IDX has no bool; shapes are tuples of dims; a gzip limit is a number; the .npy dtype is required.
expectError(readIdxAs(bytes, [2], { dtype: "bool" }));
expectError(readIdxAs(bytes, [true]));
expectError(readIdxAs<[2], "float32">(bytes, [2])); // a dtype in the type must be passed as a value too
expectError(readIdxAs(bytes, 784));
expectError(readIdx(bytes, { maxBytes: "1 GiB" }));
expectError(readNpyAs(bytes, [2, 3]));
expectError(readNpyAs(bytes, [2, 3], "float16"));
expectError(gunzip(bytes));

// The writer takes any tensor and gives bytes; not a plain array.
expectType<Uint8Array>(encodeNpy(zeros([2, 3], "int32")));
expectError(encodeNpy([1, 2, 3]));

// The Node entry's file readers mirror them over a path.
expectType<Either<LoadError, Tensor<number[], IdxDType>>>(readIdxFile("train-labels-idx1-ubyte"));
expectType<Either<LoadError, Tensor<[60000, 28, 28], "int32">>>(readIdxFileAs("train-images-idx3-ubyte.gz", [60000, 28, 28]));
expectType<Either<LoadError, Tensor<number[], DType>>>(readNpyFile("x.npy"));
expectType<Either<LoadError, Map<string, Tensor<number[], DType>>>>(readNpzFile("x.npz"));
expectType<Either<LoadError, Tensor<["n"], "float64">>>(readIdxFileAs("x-idx1-double", ["n"], { dtype: "float64" }));
expectError(readIdxFile(bytes));
