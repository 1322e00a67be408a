import type { Either } from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import type { DType } from "../src/core/dtype.js";
import type { Shape } from "../src/core/shape.js";
import type { Tensor } from "../src/core/tensor.js";
import type { LoadError } from "../src/io/index.js";
import {
  batchNorm,
  conv2d,
  dense,
  flatten,
  fromTorchStateDict,
  frozen,
  lstm,
  maxPool2d,
  relu,
  sequential,
  toTorchStateDict,
  transformerEncoderBlock,
  type BatchNormParams,
  type BatchNormState,
  type DenseParams,
  type FrozenParams,
  type LstmParams,
  type NoParams,
  type TorchImportError,
  type TorchParamsOf,
  type TransformerEncoderParams,
} from "../src/layers/index.js";
import { loadTorchStateDictFile, saveTorchStateDictFile } from "../src/node/index.js";
import { key } from "../src/random/key.js";

const bytes = new Uint8Array(0);
const mlp = sequential(dense(784, 64), relu(), dense(64, 10));

// fromTorchStateDict gives the model's own parameter type, or a TorchImportError.
expectType<Either<TorchImportError, [DenseParams<784, 64>, NoParams, DenseParams<64, 10>]>>(fromTorchStateDict(mlp, bytes));
expectType<Either<TorchImportError, LstmParams<3, 5>>>(fromTorchStateDict(lstm(3, 5), new Map<string, Tensor<Shape, DType>>()));
expectType<Either<TorchImportError, TransformerEncoderParams<8, 2, 16>>>(fromTorchStateDict(transformerEncoderBlock(8, 2, 16, { normFirst: false }), {}));

// A stateful layer loads as its parameters and its state; frozen in a stack, the same record is its parameters.
expectType<Either<TorchImportError, FrozenParams<BatchNormParams<4>, BatchNormState<4>>>>(fromTorchStateDict(batchNorm(4), bytes));
const bnState: TorchParamsOf<ReturnType<typeof batchNorm<4>>> = { params: batchNorm(4).init(key(0)), state: batchNorm(4).initState() };
expectType<FrozenParams<BatchNormParams<4>, BatchNormState<4>>>(bnState);
const cnn = sequential(conv2d(1, 4, 3), frozen(batchNorm(4)), relu(), maxPool2d(2), flatten(), dense(676, 10));
const loaded = fromTorchStateDict(cnn, bytes, { flatten: "channelsLast", convert: true, prefix: "model.", rename: { "5": "fc" } });
if (loaded._tag === "Right") expectType<FrozenParams<BatchNormParams<4>, BatchNormState<4>>>(loaded.right[1]);

// The options are checked: the flatten layout is one of two names, rename a record or a function of the key.
expectError(fromTorchStateDict(mlp, bytes, { flatten: "NHWC" }));
expectError(fromTorchStateDict(mlp, bytes, { rename: { "0": 1 } }));
expectError(fromTorchStateDict(mlp, bytes, { convert: "yes" }));
expectType<Either<TorchImportError, TorchParamsOf<typeof mlp>>>(fromTorchStateDict(mlp, bytes, { rename: (k: string) => k }));

// What is not a state_dict or not a model does not compile.
expectError(fromTorchStateDict(mlp, [1, 2, 3]));
expectError(fromTorchStateDict({ name: "dense" }, bytes));

// toTorchStateDict takes the model's parameters (or { params, state }) and gives tensors by name.
const p = mlp.init(key(0));
expectType<Map<string, Tensor<Shape, DType>>>(toTorchStateDict(mlp, p));
expectType<Map<string, Tensor<Shape, DType>>>(toTorchStateDict(batchNorm(4), { params: batchNorm(4).init(key(0)), state: batchNorm(4).initState() }));
expectError(toTorchStateDict(mlp, [p[0], p[1]]));
expectError(toTorchStateDict(batchNorm(4), batchNorm(4).init(key(0))));
expectError(toTorchStateDict(mlp, p, { convert: true }));

// The file forms: loading gives a LoadError (a TorchImportError is one), saving returns nothing.
expectType<Either<LoadError, TorchParamsOf<typeof mlp>>>(loadTorchStateDictFile("mlp.safetensors", mlp));
expectType<void>(saveTorchStateDictFile("mlp.safetensors", mlp, p));
expectError(saveTorchStateDictFile("mlp.safetensors", mlp, p, {}, { epochs: 3 }));
