import { expectError, expectType } from "tsd";
import type { Tensor } from "../src/core/tensor.js";
import {
  bernoulli,
  categorical,
  foldIn,
  key,
  normal,
  permutation,
  randint,
  randomBits,
  split,
  truncatedNormal,
  uniform,
  type Key,
  bernoulliMask,
  keyData,
  splitKeys,
  type KeyData,
} from "../src/random/index.js";
import { zeros } from "../src/core/create.js";

const k = key(0);
declare const logits: Tensor<["batch", 10]>;
declare const cube: Tensor<[2, 3, 4], "float64">;

// Keys.
expectType<Key>(k);
expectType<Key[]>(split(k));
expectType<Key>(foldIn(k, 3));
expectType<Uint32Array>(randomBits(k, 8));
expectType<readonly [number, number]>(k.words);
expectError(key("0"));
expectError(split(k, "2"));

// Float samplers: the shape is the shape argument, float32 unless named.
expectType<Tensor<[2, 3], "float32">>(uniform(k, [2, 3]));
expectType<Tensor<[], "float32">>(uniform(k, []));
expectType<Tensor<[4], "float64">>(uniform(k, [4], { dtype: "float64", minval: -1, maxval: 1 }));
expectType<Tensor<[5, 5], "float32">>(normal(k, [5, 5]));
expectType<Tensor<[8], "float64">>(normal(k, [8], { dtype: "float64" }));
expectType<Tensor<[3], "float32">>(truncatedNormal(k, [3]));
expectType<Tensor<[3], "float64">>(truncatedNormal(k, [3], -1, 1, { dtype: "float64" }));

// Discrete samplers.
expectType<Tensor<[2, 2], "bool">>(bernoulli(k, 0.5, [2, 2]));
expectType<Tensor<[6], "int32">>(randint(k, [6], 1, 7));
expectType<Tensor<[10], "int32">>(permutation(k, 10));
expectType<Tensor<["batch"], "int32">>(categorical(k, logits));
expectType<Tensor<[2, 4], "int32">>(categorical(k, cube, 1));

// Bad arguments.
expectError(uniform(k, 3));
expectError(uniform(k, [2], { dtype: "int32" }));
expectError(normal(k, [2], { dtype: "int32" }));
expectError(normal(k, [2], { dtype: "bool" }));
expectError(normal([0, 0], [2]));
expectError(bernoulli(k, [2], 0.5));
expectError(randint(k, [2], 0));
expectError(categorical(k, cube, 3));

// keys as tensors, for randomness under jit
expectType<KeyData>(keyData(key(0)));
expectType<Tensor<[2], "int32">>(keyData(key(0)));
expectType<KeyData[]>(splitKeys(keyData(key(0)), 3));
expectType<Key[]>(splitKeys(key(0), 3));
expectType<Tensor<[4, 5], "bool">>(bernoulliMask(keyData(key(0)), 0.9, [4, 5]));
expectType<Tensor<[4, 5], "bool">>(bernoulliMask(key(0), 0.9, [4, 5]));
expectError(bernoulliMask(zeros([2]), 0.5, [3]));
expectError(keyData(zeros([2], "int32")));
