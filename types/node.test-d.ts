import type { Either } from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import type { LoadError } from "../src/io/index.js";
import { loadTreeFile, saveTreeFile, writeFileAtomic } from "../src/node/index.js";

const params = { layers: [{ w: zeros([784, 10]), b: zeros([10]) }] };

// loadTreeFile gives back exactly the type of the tree it loads into, or a LoadError.
expectType<Either<LoadError, typeof params>>(loadTreeFile("model.safetensors", params));
expectType<Either<LoadError, Tensor<[2, 3]>>>(loadTreeFile("x.safetensors", zeros([2, 3])));

// saveTreeFile takes any tree and string metadata; it returns nothing (it throws on I/O errors).
expectType<void>(saveTreeFile("model.safetensors", params, { epochs: "3" }));
expectError(saveTreeFile("model.safetensors", params, { epochs: 3 }));
expectError(saveTreeFile("model.safetensors", { w: [1, 2, 3] }));

// writeFileAtomic writes bytes or text.
expectType<void>(writeFileAtomic("a.bin", new Uint8Array(4)));
expectType<void>(writeFileAtomic("a.txt", "text"));
expectError(writeFileAtomic("a.txt", 42));
