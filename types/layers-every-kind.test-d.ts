// Every layer kind composes in `sequential`, between other layers, with the right inferred output type.
// (Cross-attention, which takes a second input, is typed in layers-attention.test-d.ts.)
import { expectType } from "tsd";
import type { Tensor } from "../src/core/tensor.js";
import { key } from "../src/random/key.js";
import { gelu as geluOp } from "../src/ops/activations.js";
import {
  activation,
  avgPool2d,
  batchNorm,
  conv1d,
  conv2d,
  convTranspose2d,
  dense,
  dropout,
  embedding,
  flatten,
  frozen,
  gelu,
  globalAvgPool,
  gru,
  layerNorm,
  lstm,
  maxPool2d,
  multiHeadAttention,
  relu,
  reshape,
  residual,
  rmsNorm,
  rnn,
  sequential,
  sigmoid,
  silu,
  softmax,
  tanh,
  transformerEncoderBlock,
} from "../src/layers/index.js";

const k = key(0);
declare const features: Tensor<["N", 784]>;
declare const images: Tensor<["N", 28, 28, 1]>;
declare const signals: Tensor<["N", 100, 16]>;
declare const ids: Tensor<["N", 32], "int32">;
declare const sequences: Tensor<["N", 32, 64]>;


const denseStack = sequential(dense(784, 512), dense(512, 10));
expectType<Tensor<["N", 10]>>(denseStack.apply(denseStack.init(k), features));

const activations = sequential(dense(784, 10), relu(), gelu(), silu(), sigmoid(), tanh(), softmax(), activation(geluOp));
expectType<Tensor<["N", 10]>>(activations.apply(activations.init(k), features));

const dropped = sequential(dense(784, 10), dropout(0.5), dense(10, 2));
expectType<Tensor<["N", 2]>>(dropped.apply(dropped.init(k), features, { training: true, key: k }));

const convs = sequential(conv2d(1, 8, 3), relu(), maxPool2d(2), conv2d(8, 16, 3, { padding: "same" }), avgPool2d(2), flatten(), dense(576, 10));
expectType<Tensor<["N", 10]>>(convs.apply(convs.init(k), images));

const pooled = sequential(conv2d(1, 64, 3), globalAvgPool(), dense(64, 10));
expectType<Tensor<["N", 10]>>(pooled.apply(pooled.init(k), images));

const upsample = sequential(conv2d(1, 8, 2, { stride: 2 }), convTranspose2d(8, 1, 2, { stride: 2 }));
expectType<Tensor<["N", 28, 28, 1]>>(upsample.apply(upsample.init(k), images));

const conv1 = sequential(conv1d(16, 32, 3), relu(), conv1d(32, 8, 5));
expectType<Tensor<["N", 94, 8]>>(conv1.apply(conv1.init(k), signals));

const reshaped = sequential(dense(784, 784), reshape([28, 28, 1]), conv2d(1, 4, 3));
expectType<Tensor<["N", 26, 26, 4]>>(reshaped.apply(reshaped.init(k), features));

const recurrent = sequential(embedding(1000, 64), rnn(64, 32), gru(32, 32), lstm(32, 16, { returnSequences: false }), dense(16, 2));
expectType<Tensor<["N", 2]>>(recurrent.apply(recurrent.init(k), ids));

const attention = sequential(embedding(1000, 64), multiHeadAttention(64, 8), transformerEncoderBlock(64, 4, 256), layerNorm(64), rmsNorm(64), dense(64, 1000));
expectType<Tensor<["N", 32, 1000]>>(attention.apply(attention.init(k), ids));

const normed = sequential(dense(784, 10), batchNorm(10), relu());
expectType<Tensor<["N", 10]>>(normed.apply(normed.init(k), normed.initState(), features, { training: true })[0]);

const inference = sequential(dense(784, 10), frozen(batchNorm(10)), relu());
expectType<Tensor<["N", 10]>>(inference.apply(inference.init(k), features));

const skipped = sequential(dense(784, 64), residual(sequential(dense(64, 64), relu())), sequential(layerNorm(64), dense(64, 10)));
expectType<Tensor<["N", 10]>>(skipped.apply(skipped.init(k), features));
expectType<Tensor<["N", 32, 64]>>(sequential(residual(multiHeadAttention(64, 8))).apply(sequential(residual(multiHeadAttention(64, 8))).init(k), sequences));

// A stateful stack that starts with an embedding takes int32 indices.
const embedded = sequential(embedding(1000, 64), batchNorm(64), dense(64, 2));
expectType<Tensor<["N", 32, 2]>>(embedded.apply(embedded.init(k), embedded.initState(), ids, { training: true })[0]);
