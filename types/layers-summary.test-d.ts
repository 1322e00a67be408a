import { expectError, expectType } from "tsd";
import { conv2d, dense, embedding, flatten, lstm, maxPool2d, relu, sequential, summary, type ModelSummary } from "../src/layers/index.js";

const cnn = sequential(conv2d(1, 8, 5), relu(), maxPool2d(2), flatten(), dense(1152, 10));

// summary takes an input shape the model accepts, and gives a ModelSummary.
expectType<ModelSummary>(summary(cnn, [1, 28, 28, 1]));
expectType<ModelSummary>(summary(dense(784, 10), [32, 784]));
expectType<ModelSummary>(summary(sequential(embedding(100, 16), lstm(16, 32)), [2, 7], { dtype: "int32" }));

// An input shape the model does not take is a compile error, as it is for apply.
expectError(summary(cnn, [1, 28, 28, 3]));
expectError(summary(dense(784, 10), [32, 100]));
expectError(summary(cnn, [1, 28, 28, 1], { dtype: "float16" }));

// makeLayer takes what the layer says of itself: its name, and for a stack its layers.
import { makeLayer, type Layer, type NoParams, type SameShape } from "../src/layers/index.js";
expectType<Layer<NoParams, SameShape>>(makeLayer<NoParams, SameShape>(() => ({}), (_p, x) => x, { name: "identity" }));
expectType<Layer<NoParams, SameShape>>(makeLayer<NoParams, SameShape>(() => ({}), (_p, x) => x));
expectError(makeLayer<NoParams, SameShape>(() => ({}), (_p, x) => x, { name: 3 }));
