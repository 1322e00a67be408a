import { expectError, expectType } from "tsd";
import { add, grad, jit, jvp, matmul, mul, softmaxCrossEntropy, sum, vjp, vmap, type Dim, type JitFunction, type Tensor } from "../src/index.js";

declare const w: Tensor<[784, 10]>;
const classify = (x: Tensor<[784]>): Tensor<[10]> => matmul(x, w);

// each vmap adds its own dim, inferred from the caller's arguments: literal, symbolic or number
declare const grid: Tensor<[5, 32, 784]>;
declare const gridSymbolic: Tensor<["outer", "inner", 784]>;
declare const gridAny: Tensor<[number, 32, 784]>;
const twice = vmap(vmap(classify));
expectType<Tensor<[5, 32, 10]>>(twice(grid));
expectType<Tensor<["outer", "inner", 10]>>(twice(gridSymbolic));
expectType<Tensor<[number, 32, 10]>>(twice(gridAny));
// three levels
declare const cube: Tensor<[2, 5, 32, 784]>;
expectType<Tensor<[2, 5, 32, 10]>>(vmap(vmap(vmap(classify)))(cube));
expectType<Tensor<[2, 5, 32, 10]>>(vmap(twice)(cube));
// an example of the wrong shape does not compile at any depth
expectError(twice({} as Tensor<[5, 32, 785]>));
expectError(vmap(twice)({} as Tensor<[2, 5, 32, 785]>));
// nor does a batch with a dim too few
expectError(twice({} as Tensor<[32, 784]>));

// inAxes and outAxes other than 0 at either level: each level inserts its dim where it says
declare const columns: Tensor<[5, 784, 32]>;
expectType<Tensor<[5, 10, 32]>>(vmap(vmap(classify, { inAxes: 1, outAxes: 1 }))(columns));
expectType<Tensor<[32, 10, 5]>>(vmap(vmap(classify), { inAxes: -1, outAxes: -1 })({} as Tensor<[32, 784, 5]>));
expectType<Tensor<[10, 5, 32, 2]>>(vmap(vmap(vmap(classify, { outAxes: -1 }), { inAxes: 2, outAxes: -1 }), { inAxes: -1, outAxes: -1 })({} as Tensor<[5, 784, 32, 2]>));
// an axis out of range at the outer level does not compile
expectError(vmap(twice, { inAxes: 4 })(grid));

// null axes: each level maps its own argument (a pairwise table), the order of the dims following outAxes
const score = (a: Tensor<[3]>, b: Tensor<[3]>): Tensor<[]> => sum(mul(a, b));
declare const left: Tensor<[5, 3]>;
declare const right: Tensor<[7, 3]>;
const table = vmap(vmap(score, { inAxes: [null, 0] }), { inAxes: [0, null] });
expectType<Tensor<[5, 7]>>(table(left, right));
expectType<Tensor<[7, 5]>>(vmap(vmap(score, { inAxes: [null, 0] }), { inAxes: [0, null], outAxes: 1 })(left, right));
expectType<Tensor<["n", number]>>(table({} as Tensor<["n", 3]>, {} as Tensor<[number, 3]>));
// an argument not mapped at a level keeps its example's dims there
expectError(table(left, {} as Tensor<[7, 4]>));
expectError(table({} as Tensor<[5, 7, 3]>, right));
// three arguments, one level each
const triple = (a: Tensor<[]>, b: Tensor<[]>, c: Tensor<[]>): Tensor<[]> => add(add(a, b), c);
const cubeTable = vmap(vmap(vmap(triple, { inAxes: [null, null, 0] }), { inAxes: [null, 0, null] }), { inAxes: [0, null, null] });
expectType<Tensor<[2, 3, 4]>>(cubeTable({} as Tensor<[2]>, {} as Tensor<[3]>, {} as Tensor<[4]>));

// mapped arguments whose literal sizes differ do not compile, at the inner level and at the outer
const pair = vmap(vmap((a: Tensor<[3]>, b: Tensor<[3]>): Tensor<[3]> => add(a, b)));
expectType<Tensor<[5, 7, 3]>>(pair({} as Tensor<[5, 7, 3]>, {} as Tensor<[5, 7, 3]>));
expectError(pair({} as Tensor<[5, 7, 3]>, {} as Tensor<[5, 8, 3]>));
expectError(pair({} as Tensor<[5, 7, 3]>, {} as Tensor<[6, 7, 3]>));
expectError(vmap(pair)({} as Tensor<[2, 5, 7, 3]>, {} as Tensor<[4, 5, 7, 3]>));
// nor do leaves of the first mapped argument whose literal dims differ, at either level
const sumPair = (p: { a: Tensor<[3]>; b: Tensor<[3]> }): Tensor<[3]> => add(p.a, p.b);
expectType<Tensor<[5, 32, 3]>>(vmap(vmap(sumPair))({ a: {} as Tensor<[5, 32, 3]>, b: {} as Tensor<[5, 32, 3]> }));
expectError(vmap(vmap(sumPair))({ a: {} as Tensor<[5, 32, 3]>, b: {} as Tensor<[5, 64, 3]> }));
expectError(vmap(vmap(sumPair))({ a: {} as Tensor<[5, 32, 3]>, b: {} as Tensor<[6, 32, 3]> }));
// an unknown size in the first mapped argument matches any other: the check is left to run time
expectType<Tensor<[number, number, 3]>>(pair({} as Tensor<[number, number, 3]>, {} as Tensor<[5, 7, 3]>));

// trees: an ensemble of models (weights mapped, biases shared) applied to a batch of images
type Layer = { w: Tensor<[784, 10]>; b: Tensor<[10]> };
const applyLayer = (p: Layer, x: Tensor<[784]>): Tensor<[10]> => add(matmul(x, p.w), p.b);
declare const ensemble: { w: Tensor<[4, 784, 10]>; b: Tensor<[10]> };
declare const images: Tensor<[32, 784]>;
const ensembleOnBatch = vmap(vmap(applyLayer, { inAxes: [{ w: 0, b: null }, null] }), { inAxes: [null, 0] });
expectType<Tensor<[32, 4, 10]>>(ensembleOnBatch(ensemble, images));
expectError(ensembleOnBatch({ w: {} as Tensor<[4, 784, 10]>, b: {} as Tensor<[4, 10]> }, images));

// composed with grad, jit, jvp and vjp, in any order
type Params = { w: Tensor<[784, 10]>; b: Tensor<[10]> };
declare const params: Params;
const loss = (p: Params, x: Tensor<[784]>, y: Tensor<[], "int32">): Tensor<[]> => sum(softmaxCrossEntropy(add(matmul(x, p.w), p.b), y));
declare const labels: Tensor<[5, 32], "int32">;
// per-example gradients over a grid of examples: each gradient leaf gets both dims
const perExample = vmap(vmap(grad(loss), { inAxes: [null, 0, 0] }), { inAxes: [null, 0, 0] });
expectType<{ w: Tensor<[5, 32, 784, 10]>; b: Tensor<[5, 32, 10]> }>(perExample(params, grid, labels));
expectType<{ w: Tensor<[5, 32, 784, 10]>; b: Tensor<[5, 32, 10]> }>(jit(perExample)(params, grid, labels));
expectError(perExample(params, grid, {} as Tensor<[5, 16], "int32">));
// jit inside, between and outside the levels
expectType<Tensor<[5, 32, 10]>>(vmap(vmap(jit(classify)))(grid));
// jit keeps its function's type (JitFunction<F>: F, not inferred from where the result goes, and JitInfo)
expectType<JitFunction<typeof classify>>(jit(classify));
expectType<number>(jit(classify).traces);
const jittedOnce = jit(vmap(classify));
expectType<Tensor<[5, 32, 10]>>(vmap(jittedOnce)(grid));
expectType<Tensor<[5, 32, 10]>>(jit(vmap(vmap(classify)))(grid));
// jvp and vjp of a nested vmap take and give batches with both dims
expectType<[Tensor<[5, 32, 10]>, Tensor<[5, 32, 10]>]>(jvp(twice, [grid], [grid]));
expectType<[Tensor<[5, 32, 10]>, (ct: Tensor<[5, 32, 10]>) => [Tensor<[5, 32, 784]>]]>(vjp(twice, grid));
// grad of a nested vmap's sum, and vmap of grad of a vmap
expectType<Tensor<[5, 32, 784]>>(grad((x: Tensor<[5, 32, 784]>) => sum(twice(x)))(grid));
const sumOfBatch = (x: Tensor<[32, 784]>): Tensor<[]> => sum(vmap(classify)(x));
expectType<Tensor<[5, 32, 784]>>(vmap(grad(sumOfBatch))(grid));

// four levels: every dim the caller's, with a mismatched inner literal rejected
expectType<Tensor<[3, 2, 5, 32, 10]>>(vmap(vmap(vmap(vmap(classify))))({} as Tensor<[3, 2, 5, 32, 784]>));
const fourPairs = vmap(vmap(vmap(vmap((x: Tensor<[784]>, y: Tensor<[784]>) => add(classify(x), classify(y))))));
expectType<Tensor<[3, 2, 5, 32, 10]>>(fourPairs({} as Tensor<[3, 2, 5, 32, 784]>, {} as Tensor<[3, 2, 5, 32, 784]>));
expectError(fourPairs({} as Tensor<[3, 2, 5, 32, 784]>, {} as Tensor<[3, 2, 6, 32, 784]>));

// NOTE: what the types do not follow (it holds at run time)
// a fifth level: its dim is the caller's, the four inner ones are `Dim`
expectType<Tensor<[7, Dim, Dim, Dim, Dim, 10]>>(vmap(vmap(vmap(vmap(vmap(classify)))))({} as Tensor<[7, 3, 2, 5, 32, 784]>));
// vmap of jit of a vmap written inline: both dims (jit's result is NoInfer, so vmap's parameter type does not fix jit's F)
expectType<Tensor<[5, 32, 10]>>(vmap(jit(vmap(classify)))(grid));
