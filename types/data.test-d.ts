import type * as E from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { ShapeError } from "../src/core/errors.js";
import type { Tensor } from "../src/core/tensor.js";
import { assertBatch, batches, dataset, fromArrays, shuffle, splitAt, take, type Batch, type Dataset } from "../src/data/index.js";
import { key } from "../src/random/key.js";

const images = zeros([10000, 28, 28, 1]);
const labels = zeros([10000], "int32");
declare const someImages: Tensor<["n", 28, 28, 1]>;
declare const someLabels: Tensor<["n"], "int32">;
declare const wideImages: Tensor<number[]>;

// A dataset has the shapes and dtypes of its tensors.
const ds = dataset(images, labels);
expectType<Dataset<[10000, 28, 28, 1], [10000], "float32", "int32">>(ds);
expectType<Dataset<["n", 28, 28, 1], ["n"], "float32", "int32">>(dataset(someImages, someLabels));
expectType<Dataset<number[], [10000], "float32", "int32">>(dataset(wideImages, labels));

// Lengths that are known and differ do not compile.
expectError(dataset(images, zeros([9999], "int32")));
expectError(dataset(someImages, zeros([5], "int32")));
expectError(dataset(zeros([]), labels));

// Data from outside is an Either, shaped as asked.
expectType<E.Either<ShapeError, Dataset<["n", 784], ["n"], "float32", "int32">>>(fromArrays(new Float32Array(784), ["n", 784], [0], ["n"]));
expectType<E.Either<ShapeError, Dataset<[2, 2], [2], "float64", "float32">>>(fromArrays([1, 2, 3, 4], [2, 2], [0, 1], [2], { xDType: "float64", yDType: "float32" }));
expectError(fromArrays(new Float32Array(784), [1, 784], [0, 1], [2]));
expectError(fromArrays(new Float32Array(784), ["n", 784], [0], ["m"]));

// Selection keeps the rows; a split at a literal point has literal lengths.
expectType<Dataset<[10000, 28, 28, 1], [10000], "float32", "int32">>(shuffle(ds, key(0)));
expectType<Dataset<[number, 28, 28, 1], [number], "float32", "int32">>(take(ds, [1, 2, 3]));
const [train, test] = splitAt(ds, 8000);
expectType<Dataset<[8000, 28, 28, 1], [8000], "float32", "int32">>(train);
expectType<Dataset<[2000, 28, 28, 1], [2000], "float32", "int32">>(test);
expectType<Dataset<[number, 28, 28, 1], [number], "float32", "int32">>(splitAt(dataset(someImages, someLabels), 10)[1]);
expectError(splitAt(ds, 10001));
expectError(splitAt(ds, -1));

// Batches: the batch size is the batch dim when every batch is full, else number.
for (const batch of batches(train, 64, { key: key(0), epoch: 1, dropLast: true })) {
  expectType<Tensor<[64, 28, 28, 1]>>(batch.x);
  expectType<Tensor<[64], "int32">>(batch.y);
}
for (const batch of batches(train, 64)) {
  expectType<Batch<number, [8000, 28, 28, 1], [8000]>>(batch);
  expectType<Tensor<[number, 28, 28, 1]>>(batch.x);
}
expectType<number>(batches(train, 64).length);
expectError(batches(train, "64"));
expectError(batches(train, 64, { key: 0 }));

// A batch from outside is checked into the shapes a model expects.
declare const unknownBatch: Dataset<number[], number[]>;
expectType<Dataset<["batch", 28, 28, 1], ["batch"], "float32", "int32">>(assertBatch(unknownBatch, ["batch", 28, 28, 1], ["batch"]));
