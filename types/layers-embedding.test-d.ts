import { expectError, expectType } from "tsd";
import { tensor, zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import { key } from "../src/random/key.js";
import { checkParams, dense, dropout, embedding, gru, layerNorm, lstm, multiHeadAttention, relu, rnn, sequential, transformerEncoderBlock, type DenseFn, type Dropout, type EmbeddingFn, type EmbeddingParams, type InputDType, type NoParams } from "../src/layers/index.js";

/** A value of type `T`, for type tests of type-level functions. */
declare function typeOf<T>(): T;

const k = key(0);
declare const ids: Tensor<["batch", 32], "int32">;
declare const hidden: Tensor<["batch", 512]>;
declare const input: Tensor<["batch", 784]>;

// embedding: int32 indices of any shape to rows of the table
const embed = embedding(256, 64);
const pe = embed.init(k);
expectType<EmbeddingParams<256, 64>>(pe);
expectType<Tensor<[256, 64]>>(pe.table);
expectType<Tensor<["batch", 32, 64]>>(embed.apply(pe, ids));
expectType<Tensor<[2, 64]>>(embed.apply(pe, tensor([1, 2], "int32")));
expectType<Tensor<[64]>>(embed.apply(pe, tensor(7, "int32")));
// float indices are refused, and so is a table of another size
expectError(embed.apply(pe, zeros([2, 3])));
expectError(embed.apply(embedding(128, 64).init(k), ids));
expectError(embedding(256, 32).apply(pe, ids));

// dropout: no parameters, the shape of its input, with a key and a training flag
const drop = dropout(0.1);
expectType<Dropout>(drop);
expectType<NoParams>(drop.init(k));
expectType<Tensor<["batch", 512]>>(drop.apply({}, hidden, { training: true, key: k }));
expectType<Tensor<["batch", 512]>>(drop.apply({}, hidden));
expectError(drop.apply({}, hidden, { training: true, key: 3 }));
expectError(drop.apply({}, hidden, { train: true }));

// in a stack, dropout keeps the shape that the next layer checks
const mlp = sequential(dense(784, 512), relu(), dropout(0.5), dense(512, 10));
expectType<Tensor<["batch", 10]>>(mlp.apply(mlp.init(k), input, { training: true, key: k }));
expectError(sequential(dense(784, 512), dropout(0.5), dense(256, 10)));

// an embedding starts a stack: the stack takes int32 indices, and later layers see float32 rows
const charModel = sequential(embedding(256, 64), lstm(64, 128, { returnSequences: false }), dense(128, 10));
expectType<Tensor<["batch", 10]>>(charModel.apply(charModel.init(k), ids));
expectError(charModel.apply(charModel.init(k), zeros([2, 32])));
// anywhere else, an embedding would be fed float32 values: a compile error naming it
expectError(sequential(dense(784, 64), embedding(256, 64)));
// the embedding's width (and rank [...B, L, F]) is carried into the next layer, which checks it
const tinyLm = sequential(embedding(1000, 64), transformerEncoderBlock(64, 4, 256), layerNorm(64), dense(64, 1000));
expectType<Tensor<["batch", 32, 1000]>>(tinyLm.apply(tinyLm.init(k), ids));
expectType<Tensor<["batch", 32, 64]>>(sequential(embedding(1000, 64), multiHeadAttention(64, 8)).apply(sequential(embedding(1000, 64), multiHeadAttention(64, 8)).init(k), ids));
expectError(sequential(embedding(256, 64), dense(32, 10)));
expectError(sequential(embedding(256, 64), transformerEncoderBlock(128, 4, 512)));
expectError(sequential(embedding(256, 64), multiHeadAttention(32, 4)));
expectError(sequential(embedding(256, 64), layerNorm(128)));
// recurrent layers check their input width in a stack
expectError(sequential(embedding(256, 64), lstm(32, 128)));
expectError(sequential(embedding(256, 64), gru(128, 128)));
expectError(sequential(embedding(256, 64), rnn(16, 128)));
expectError(sequential(embedding(256, 64), lstm(64, 128), gru(64, 32)));

// the input dtype of a shape function, and the parameter check for layer implementations
expectType<"int32">(typeOf<InputDType<EmbeddingFn<64>>>());
expectType<"float32">(typeOf<InputDType<DenseFn<784, 512>>>());
expectType<void>(checkParams("dense", dense(784, 512).init(k), { w: [784, 512], b: [512] }));
expectError(checkParams("dense", dense(784, 512).init(k), { w: "784x512" }));
