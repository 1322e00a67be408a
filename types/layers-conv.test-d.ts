import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { Dim } from "../src/core/shape.js";
import type { Tensor } from "../src/core/tensor.js";
import { key } from "../src/random/key.js";
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  avgPool2d,
  conv1d,
  conv2d,
  convTranspose2d,
  dense,
  flatten,
  globalAvgPool,
  maxPool2d,
  relu,
  sequential,
  summary,
  tanh,
  type NoParams,
} from "../src/layers/index.js";

const k = key(0);
declare const mnist: Tensor<["batch", 28, 28, 1]>;
declare const mnistNchw: Tensor<["batch", 1, 28, 28]>;
declare const features: Tensor<[8, 14, 14, 32]>;
declare const photos: Tensor<[8, 224, 224, 3]>;
declare const small: Tensor<[8, 7, 7, 64]>;
declare const seq: Tensor<[8, 100, 16]>;
declare const seqNcw: Tensor<[8, 16, 100]>;
declare const hidden: Tensor<["batch", 512]>;
declare const unknownRank: Tensor<number[]>;

// conv2d: parameters from the configuration, the conv arithmetic on the input
const c = conv2d(1, 32, 3, { padding: "same" });
const pc = c.init(k);
expectType<{ w: Tensor<[3, 3, 1, 32]>; b: Tensor<[32]> }>(pc);
expectType<{ w: Tensor<[3, 5, 1, 32]> }>(conv2d(1, 32, [3, 5], { useBias: false }).init(k));
expectType<{ w: Tensor<[3, 3, 16, 64]>; b: Tensor<[64]> }>(conv2d(32, 64, 3, { groups: 2 }).init(k));
expectType<Tensor<["batch", 28, 28, 32]>>(c.apply(pc, mnist));
expectType<Tensor<["batch", 26, 26, 32]>>(conv2d(1, 32, 3).apply(conv2d(1, 32, 3).init(k), mnist));
expectType<Tensor<[8, 112, 112, 64]>>(conv2d(3, 64, 7, { stride: 2, padding: 3 }).apply(conv2d(3, 64, 7).init(k), photos));
expectType<Tensor<[8, 10, 10, 64]>>(conv2d(32, 64, 3, { dilation: 2 }).apply(conv2d(32, 64, 3).init(k), features));
expectType<Tensor<[8, 7, 7, 64]>>(conv2d(32, 64, 3, { stride: 2, padding: "same" }).apply(conv2d(32, 64, 3).init(k), features));
expectType<Tensor<[8, 14, 14, 64]>>(conv2d(32, 64, 3, { groups: 2, padding: "same" }).apply(conv2d(32, 64, 3, { groups: 2 }).init(k), features));
expectType<Tensor<["batch", 32, 28, 28]>>(conv2d(1, 32, 3, { padding: "same", dataFormat: "NCHW" }).apply(pc, mnistNchw));
expectType<Tensor<[8, 5, 7, 32]>>(conv2d(32, 32, [3, 5], { padding: [[1, 0], [2, 2]], stride: [3, 2] }).apply(conv2d(32, 32, [3, 5]).init(k), features));
expectType<Tensor<Dim[]>>(c.apply(pc, unknownRank));
expectError(c.apply(pc, features)); // 32 channels, the layer takes 1
expectError(c.apply(pc, mnistNchw)); // NCHW input to an NHWC layer: 28 channels
expectError(c.apply(pc, seq)); // rank 3
expectError(c.apply(pc, zeros([8, 28, 28, 3])));
expectError(conv2d(1, 32, 30).apply(conv2d(1, 32, 30).init(k), mnist)); // the kernel is larger than the image

// conv1d
const c1 = conv1d(16, 32, 5, { padding: "same" });
const pc1 = c1.init(k);
expectType<{ w: Tensor<[5, 16, 32]>; b: Tensor<[32]> }>(pc1);
expectType<Tensor<[8, 100, 32]>>(c1.apply(pc1, seq));
expectType<Tensor<[8, 96, 32]>>(conv1d(16, 32, 5).apply(pc1, seq));
expectType<Tensor<[8, 50, 32]>>(conv1d(16, 32, 5, { stride: 2, padding: [2, 2] }).apply(pc1, seq));
expectType<Tensor<[8, 92, 32]>>(conv1d(16, 32, 5, { dilation: 2 }).apply(pc1, seq));
expectType<Tensor<[8, 32, 100]>>(conv1d(16, 32, 5, { padding: "same", dataFormat: "NCW" }).apply(pc1, seqNcw));
expectError(c1.apply(pc1, seqNcw));
expectError(c1.apply(pc1, features));

// convTranspose2d: Keras's filter layout, PyTorch's and Keras's output size
const ct = convTranspose2d(64, 32, 3, { stride: 2, padding: "same" });
const pct = ct.init(k);
expectType<{ w: Tensor<[3, 3, 32, 64]>; b: Tensor<[32]> }>(pct);
expectType<Tensor<[8, 14, 14, 32]>>(ct.apply(pct, small));
expectType<Tensor<[8, 15, 15, 32]>>(convTranspose2d(64, 32, 3, { stride: 2 }).apply(pct, small));
expectType<Tensor<[8, 14, 14, 32]>>(convTranspose2d(64, 32, 3, { stride: 2, padding: 1, outputPadding: 1 }).apply(pct, small));
expectType<Tensor<[8, 11, 11, 32]>>(convTranspose2d(64, 32, 3, { dilation: 2 }).apply(pct, small));
expectError(ct.apply(pct, features));

// configurations the run-time rules reject do not compile: groups must divide both channel counts
declare const someGroups: number;
expectType<{ w: Tensor<[3, 3, 2, 6]>; b: Tensor<[6]> }>(conv2d(4, 6, 3, { groups: 2 }).init(k));
expectType<{ w: Tensor<[3, 3, number, 6]>; b: Tensor<[6]> }>(conv2d(3, 6, 3, { groups: someGroups }).init(k)); // checked at run time
expectError(conv2d(3, 6, 3, { groups: 2 })); // 2 does not divide 3 input channels
expectError(conv2d(4, 6, 3, { groups: 4 })); // 4 does not divide 6 output channels
expectError(conv1d(3, 6, 3, { groups: 2 }));
// and the output padding must be below the stride, and 0 with "same"
const ct4 = convTranspose2d(4, 2, 3);
expectType<Tensor<[1, 18, 18, 2]>>(convTranspose2d(4, 2, 3, { stride: 2, outputPadding: 1 }).apply(ct4.init(k), zeros([1, 8, 8, 4])));
expectError(convTranspose2d(4, 2, 3, { stride: 2, outputPadding: 3 }).apply(ct4.init(k), zeros([1, 8, 8, 4])));
expectError(convTranspose2d(4, 2, 3, { stride: 2, outputPadding: [0, 2] }).apply(ct4.init(k), zeros([1, 8, 8, 4])));
expectError(convTranspose2d(4, 2, 3, { stride: 2, padding: "same", outputPadding: 1 }).apply(ct4.init(k), zeros([1, 8, 8, 4])));

// pools: no parameters, the stride defaults to the window
expectType<NoParams>(maxPool2d(2).init(k));
expectType<Tensor<[8, 7, 7, 32]>>(maxPool2d(2).apply({}, features));
expectType<Tensor<[8, 5, 5, 32]>>(maxPool2d(3, { stride: 3, padding: "same" }).apply({}, features));
expectType<Tensor<[8, 13, 13, 32]>>(avgPool2d(2, { stride: 1 }).apply({}, features));
expectType<Tensor<["batch", 1, 14, 14]>>(avgPool2d(2, { dataFormat: "NCHW" }).apply({}, mnistNchw));
expectType<Tensor<[8, 64]>>(globalAvgPool().apply({}, small));
expectType<Tensor<[8, 1, 1, 64]>>(globalAvgPool({ keepDims: true }).apply({}, small));
expectType<Tensor<["batch", 1]>>(globalAvgPool({ dataFormat: "NCHW" }).apply({}, mnistNchw));
expectType<Tensor<["batch", 1, 1, 1]>>(globalAvgPool({ dataFormat: "NCHW", keepDims: true }).apply({}, mnistNchw));
expectError(maxPool2d(2).apply({}, hidden));
expectError(maxPool2d(29).apply({}, mnist));
expectError(globalAvgPool().apply({}, hidden));

// the MNIST CNN: [B, 28, 28, 1] to [B, 10]
const cnn = sequential(
  conv2d(1, 32, 3, { padding: "same" }),
  relu(),
  maxPool2d(2),
  conv2d(32, 64, 3, { padding: "same" }),
  relu(),
  maxPool2d(2),
  flatten(),
  dense(3136, 10),
);
const pcnn = cnn.init(k);
expectType<Tensor<["batch", 10]>>(cnn.apply(pcnn, mnist));
expectType<Tensor<[64, 10]>>(cnn.apply(pcnn, zeros([64, 28, 28, 1])));
expectType<{ w: Tensor<[3, 3, 32, 64]>; b: Tensor<[64]> }>(pcnn[3]);
expectError(cnn.apply(pcnn, zeros([64, 32, 32, 1]))); // flatten gives 4096, dense takes 3136
expectError(cnn.apply(pcnn, mnistNchw));

// adaptive pooling layers and countIncludePad
expectType<Tensor<[8, 7, 7, 3]>>(adaptiveAvgPool2d(7).apply({}, photos));
expectType<Tensor<["batch", 1, 2, 3]>>(adaptiveMaxPool2d([2, 3], { dataFormat: "NCHW" }).apply({}, mnistNchw));
expectType<Tensor<[8, 7, 7, 32]>>(avgPool2d(3, { stride: 2, padding: 1, countIncludePad: true }).apply({}, features));
expectError(adaptiveAvgPool2d(0));
expectError(adaptiveMaxPool2d([3, 0]));
expectError(adaptiveAvgPool2d(7).apply({}, hidden));
expectError(maxPool2d(3, { countIncludePad: true }));
const adaptiveHead = sequential(conv2d(3, 64, 7, { stride: 2, padding: 3 }), relu(), adaptiveAvgPool2d(1), flatten(), dense(64, 10));
expectType<Tensor<[8, 10]>>(adaptiveHead.apply(adaptiveHead.init(k), photos));
expectError(sequential(conv2d(3, 64, 7), adaptiveAvgPool2d(2), flatten(), dense(64, 10))); // flatten gives 256

// adaptive 1-D pooling layers, channels last or first
expectType<Tensor<[8, 10, 16]>>(adaptiveAvgPool1d(10).apply({}, seq));
expectType<Tensor<[8, 16, 7]>>(adaptiveMaxPool1d(7, { dataFormat: "NCW" }).apply({}, seqNcw));
declare const someLength: number;
expectType<Tensor<[8, number, 16]>>(adaptiveAvgPool1d(someLength).apply({}, seq));
expectError(adaptiveAvgPool1d(0));
expectError(adaptiveMaxPool1d(2.5));
expectError(adaptiveAvgPool1d(4).apply({}, photos)); // rank 4 into a 1-D pool
const sequenceHead = sequential(conv1d(16, 32, 3), relu(), adaptiveMaxPool1d(1), flatten(), dense(32, 10));
expectType<Tensor<[8, 10]>>(sequenceHead.apply(sequenceHead.init(k), seq));
expectError(sequential(conv1d(16, 32, 3), adaptiveAvgPool1d(2), flatten(), dense(32, 10))); // flatten gives 64

// a global-pooling head
const head = sequential(conv2d(3, 64, 7, { stride: 2, padding: 3 }), relu(), globalAvgPool(), dense(64, 10));
expectType<Tensor<[8, 10]>>(head.apply(head.init(k), photos));

// stacks that do not fit fail to compile with the sequential message
expectError(sequential(conv2d(1, 32, 3), relu(), conv2d(16, 64, 3))); // mismatched channels
expectError(sequential(dense(784, 512), conv2d(1, 32, 3))); // a conv after dense
expectError(sequential(conv2d(1, 32, 3), dense(800, 10))); // dense after conv without flatten
expectError(sequential(conv2d(1, 32, 3, { dataFormat: "NCHW" }), conv2d(1, 32, 3, { dataFormat: "NCHW" }))); // 32 channels in, 1 expected
expectError(sequential(dense(784, 512), maxPool2d(2))); // pooling a rank-2 output
expectError(sequential(conv1d(16, 32, 3), conv2d(32, 64, 3))); // a rank-3 output into a 2-D conv

// LeNet-5: the flatten width after conv and pool is exact once the input size is known (at apply, or in a summary);
// the stack alone cannot know it, as its height and width are the input's
const lenet = sequential(
  conv2d(1, 6, 5, { padding: "same" }), tanh(), avgPool2d(2),
  conv2d(6, 16, 5), tanh(), avgPool2d(2),
  flatten(), dense(400, 120), tanh(), dense(120, 84), tanh(), dense(84, 10),
);
expectType<Tensor<[32, 10]>>(lenet.apply(lenet.init(k), zeros([32, 28, 28, 1])));
expectType<Tensor<["batch", 10]>>(lenet.apply(lenet.init(k), mnist));
const wrongLenet = sequential(
  conv2d(1, 6, 5, { padding: "same" }), tanh(), avgPool2d(2),
  conv2d(6, 16, 5), tanh(), avgPool2d(2),
  flatten(), dense(256, 120), tanh(), dense(120, 84), tanh(), dense(84, 10),
);
expectError(wrongLenet.apply(wrongLenet.init(k), zeros([32, 28, 28, 1]))); // flatten gives 5 * 5 * 16 = 400
expectError(wrongLenet.apply(wrongLenet.init(k), mnist));
expectError(summary(wrongLenet, [1, 28, 28, 1]));
expectError(lenet.apply(lenet.init(k), zeros([32, 32, 32, 1]))); // 32 x 32 gives 6 * 6 * 16 = 576
