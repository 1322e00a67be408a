import { expectError, expectType } from "tsd";
import { add, grad, jit, matmul, softmaxCrossEntropy, sum, vmap, type Tensor, type VmapShape, type ShapeError } from "../src/index.js";

declare const w: Tensor<[784, 10]>;
const classify = (x: Tensor<[784]>): Tensor<[10]> => matmul(x, w);

// vmap over axis 0 adds the caller's batch dim: a literal, a symbolic dim or number
declare const images32: Tensor<[32, 784]>;
declare const imagesBatch: Tensor<["batch", 784]>;
declare const imagesAny: Tensor<[number, 784]>;
expectType<Tensor<[32, 10]>>(vmap(classify)(images32));
expectType<Tensor<["batch", 10]>>(vmap(classify)(imagesBatch));
expectType<Tensor<[number, 10]>>(vmap(classify)(imagesAny));

// an example of the wrong shape does not compile
declare const wrongWidth: Tensor<[32, 785]>;
expectError(vmap(classify)(wrongWidth));

// other axes: the batch dim is inserted where inAxes and outAxes say (negative from the end)
declare const imagesLast: Tensor<[784, 16]>;
expectType<Tensor<[10, 16]>>(vmap(classify, { inAxes: 1, outAxes: 1 })(imagesLast));
expectType<Tensor<[10, 16]>>(vmap(classify, { inAxes: -1, outAxes: -1 })(imagesLast));
// an axis out of range does not compile
expectError(vmap(classify, { inAxes: 2 })(imagesLast));

// per-example gradients: null for the unmapped parameters, each gradient leaf gets the batch dim
type Params = { w: Tensor<[784, 10]>; b: Tensor<[10]> };
declare const params: Params;
declare const labels32: Tensor<[32], "int32">;
const loss = (p: Params, x: Tensor<[784]>, y: Tensor<[], "int32">): Tensor<[]> => sum(softmaxCrossEntropy(add(matmul(x, p.w), p.b), y));
const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] });
expectType<{ w: Tensor<[32, 784, 10]>; b: Tensor<[32, 10]> }>(perExample(params, images32, labels32));
// jit keeps the batch dim generic
expectType<{ w: Tensor<[32, 784, 10]>; b: Tensor<[32, 10]> }>(jit(perExample)(params, images32, labels32));
expectType<{ w: Tensor<["batch", 784, 10]>; b: Tensor<["batch", 10]> }>(jit(vmap(grad(loss), { inAxes: [null, 0, 0] }))(params, imagesBatch, {} as Tensor<["batch"], "int32">));

// mapped arguments whose literal sizes differ do not compile
declare const labels64: Tensor<[64], "int32">;
expectError(perExample(params, images32, labels64));
// nor do leaves of one mapped argument with different literal batch dims
const sumPair = (p: { a: Tensor<[3]>; b: Tensor<[3]> }): Tensor<[3]> => add(p.a, p.b);
expectType<Tensor<[32, 3]>>(vmap(sumPair)({ a: {} as Tensor<[32, 3]>, b: {} as Tensor<[32, 3]> }));
expectError(vmap(sumPair)({ a: {} as Tensor<[32, 3]>, b: {} as Tensor<[64, 3]> }));
expectError(vmap(sumPair)({ a: {} as Tensor<["batch", 3]>, b: {} as Tensor<[64, 3]> }));
// nor does a batched argument where inAxes says null
declare const batchedParams: { w: Tensor<[32, 784, 10]>; b: Tensor<[32, 10]> };
expectError(perExample(batchedParams, images32, labels32));

// outAxes null: a result that is the same for every example keeps its type
expectType<Tensor<[784, 10]>>(vmap((_x: Tensor<[784]>) => w, { outAxes: null })(images32));

// nested vmap adds one dim per level (more in transforms-vmap-nested.test-d.ts)
const pairwise = vmap(vmap((a: Tensor<[3]>, b: Tensor<[3]>): Tensor<[]> => sum(add(a, b)), { inAxes: [null, 0] }), { inAxes: [0, null] });
declare const left: Tensor<[5, 3]>;
declare const right: Tensor<[7, 3]>;
expectType<Tensor<[5, 7]>>(pairwise(left, right));
expectError(pairwise(right, {} as Tensor<[7, 4]>));

// the shape rule itself
expectType<["batch", 784]>({} as VmapShape<[784], 0, "batch">);
expectType<[28, 28, 8]>({} as VmapShape<[28, 28], -1, 8>);
expectType<ShapeError<"vmap: axis 3 is out of range for rank 2">>({} as VmapShape<[784], 3, 8>);

// inAxes per part of an argument's tree: an ensemble's weights mapped, its biases shared
type Layer = { w: Tensor<[784, 10]>; b: Tensor<[10]> };
declare const ensemble: { w: Tensor<[5, 784, 10]>; b: Tensor<[10]> };
declare const image: Tensor<[784]>;
const applyLayer = (p: Layer, x: Tensor<[784]>): Tensor<[10]> => add(matmul(x, p.w), p.b);
expectType<Tensor<[5, 10]>>(vmap(applyLayer, { inAxes: [{ w: 0, b: null }, null] })(ensemble, image));
expectError(vmap(applyLayer, { inAxes: [{ w: 0, b: null }, null] })(batchedParams, image));
expectError(vmap(applyLayer, { inAxes: [{ w: 0 }, null] })(ensemble, image));
