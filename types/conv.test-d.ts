import { expectError, expectType } from "tsd";
import { adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveMaxPool1d, adaptiveMaxPool2d, avgPool2d, conv1d, conv2d, maxPool2d, type Tensor } from "../src/index.js";

declare const images: Tensor<[32, 28, 28, 1]>;
declare const batchImages: Tensor<["batch", 28, 28, 1]>;
declare const k3: Tensor<[3, 3, 1, 32]>;
declare const k3x32: Tensor<[3, 3, 32, 64]>;
declare const big: Tensor<[224, 224, 3, 64]>;
declare const photos: Tensor<[8, 224, 224, 3]>;
declare const k7: Tensor<[7, 7, 3, 64]>;
declare const depthwise: Tensor<[3, 3, 1, 32]>;
declare const features: Tensor<[32, 14, 14, 32]>;
declare const seq: Tensor<[8, 100, 16]>;
declare const k5: Tensor<[5, 16, 32]>;
declare const f64: Tensor<[3, 3, 1, 32], "float64">;

// conv2d: the conv arithmetic runs at the type level
expectType<Tensor<[32, 28, 28, 32]>>(conv2d(images, k3, { padding: "same" }));
expectType<Tensor<[32, 26, 26, 32]>>(conv2d(images, k3));
expectType<Tensor<["batch", 28, 28, 32]>>(conv2d(batchImages, k3, { padding: "same" }));
expectType<Tensor<[32, 14, 14, 64]>>(conv2d(features, k3x32, { padding: "same" }));
expectType<Tensor<[8, 112, 112, 64]>>(conv2d(photos, k7, { stride: 2, padding: 3 }));
expectType<Tensor<[32, 7, 7, 64]>>(conv2d(features, k3x32, { stride: 2, padding: [[1, 1], [1, 1]] }));
expectType<Tensor<[32, 10, 10, 64]>>(conv2d(features, k3x32, { dilation: 2 }));
expectType<Tensor<[32, 14, 14, 32]>>(conv2d(features, depthwise, { groups: 32, padding: "same" }));
expectError(conv2d(images, k3x32)); // 32 filter input channels, 1 image channel
expectError(conv2d(images, big)); // the kernel is larger than the image
expectError(conv2d(images, f64)); // float32 image, float64 filter
expectError(conv2d(features, depthwise, { groups: 16 }));

// conv1d
expectType<Tensor<[8, 100, 32]>>(conv1d(seq, k5, { padding: "same" }));
expectType<Tensor<[8, 96, 32]>>(conv1d(seq, k5));
expectType<Tensor<[8, 50, 32]>>(conv1d(seq, k5, { stride: 2, padding: [2, 2] }));

// pooling: the stride defaults to the window
expectType<Tensor<[32, 14, 14, 1]>>(maxPool2d(images, 2));
expectType<Tensor<[32, 10, 10, 1]>>(maxPool2d(images, 3, { stride: [3, 3], padding: "same" }));
expectType<Tensor<[32, 1, 1, 32]>>(avgPool2d(features, 14));
expectType<Tensor<["batch", 14, 14, 1]>>(maxPool2d(batchImages, 2));

// countIncludePad: average pooling only
expectType<Tensor<[32, 14, 14, 1]>>(avgPool2d(images, 3, { stride: 2, padding: 1, countIncludePad: true }));
expectError(maxPool2d(images, 3, { stride: 2, padding: 1, countIncludePad: true }));
expectError(avgPool2d(images, 3, { countIncludePad: "yes" }));

// adaptive pooling: the output size is the shape when it is a literal
expectType<Tensor<[32, 7, 7, 32]>>(adaptiveAvgPool2d(features, 7));
expectType<Tensor<[32, 1, 1, 32]>>(adaptiveAvgPool2d(features, [1, 1]));
expectType<Tensor<["batch", 3, 5, 1]>>(adaptiveMaxPool2d(batchImages, [3, 5]));
expectType<Tensor<[8, 100, 100, 3]>>(adaptiveMaxPool2d(photos, 100));
expectType<Tensor<[8, 10, 16]>>(adaptiveAvgPool1d(seq, 10));
expectType<Tensor<[8, 7, 16]>>(adaptiveMaxPool1d(seq, 7));
declare const outSize: number;
expectType<Tensor<[32, number, number, 32]>>(adaptiveAvgPool2d(features, outSize));
expectType<Tensor<[8, number, 16]>>(adaptiveMaxPool1d(seq, outSize));
expectError(adaptiveAvgPool2d(features, 0)); // an output size of 0
expectError(adaptiveMaxPool2d(features, [7, 2.5])); // not whole
expectError(adaptiveAvgPool2d(seq, 7)); // rank 3 into a 2-D pool
expectError(adaptiveAvgPool1d(features, 7)); // rank 4 into a 1-D pool
expectError(adaptiveAvgPool1d(seq, -1));
expectError(maxPool2d(images, 29));
