import type { Either } from "fp-ts/lib/Either.js";
import { expectError, expectType } from "tsd";
import { tensor, zeros } from "../src/core/create.js";
import type { DType } from "../src/core/dtype.js";
import type { Tensor } from "../src/core/tensor.js";
import { encodeSafetensors, loadTree, readSafetensors, saveTree, writeSafetensors, type LoadError, type Safetensors } from "../src/io/index.js";

declare const bytes: Uint8Array;

const params = { layers: [{ w: zeros([2, 3]), b: zeros([3]) }], scale: tensor(1), mask: zeros([4], "bool") };

// loadTree gives back exactly the type of the tree it loads into.
expectType<Either<LoadError, typeof params>>(loadTree(bytes, params));
expectType<Either<LoadError, Tensor<[2, 3]>>>(loadTree(bytes, zeros([2, 3])));

// readSafetensors knows names and dtypes only at run time.
expectType<Either<LoadError, Safetensors>>(readSafetensors(bytes));
declare const file: Safetensors;
expectType<Map<string, Tensor<number[], DType>>>(file.tensors);
expectType<Map<string, string>>(file.metadata);

// The writers take maps or records of tensors and give bytes.
expectType<Uint8Array>(writeSafetensors({ w: zeros([2]) }, { format: "pt" }));
expectType<Uint8Array>(writeSafetensors(new Map([["w", zeros([2], "int32")]]), new Map([["k", "v"]])));
expectType<Uint8Array>(saveTree(params));

// Leaves must be tensors, and metadata values strings.
expectError(loadTree(bytes, { w: [1, 2, 3] }));
expectError(saveTree({ w: "weights" }));
expectError(writeSafetensors({ w: zeros([2]) }, { step: 3 }));

// encodeSafetensors writes every format dtype the reader reads, the unsigned and 64-bit ones included, and no other.
expectType<Uint8Array>(encodeSafetensors([{ name: "ids", dtype: "U16", shape: [1], bytes }, { name: "n", dtype: "U64", shape: [1], bytes }]));
expectType<Uint8Array>(encodeSafetensors([{ name: "x", dtype: "U32", shape: [1], bytes }]));
expectError(encodeSafetensors([{ name: "x", dtype: "F8_E4M3", shape: [1], bytes }]));
expectError(encodeSafetensors([{ name: "x", dtype: "float32", shape: [1], bytes }]));
