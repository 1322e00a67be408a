import { pipe } from "fp-ts/lib/function.js";
import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { ShapeError } from "../src/core/errors.js";
import type { Tensor } from "../src/core/tensor.js";
import { key } from "../src/random/key.js";
import { dense, flatten, gelu, relu, reshape, residual, sequential, sigmoid, silu, softmax, tanh, type Activation, type CheckStack, type Dense, type NoParams } from "../src/layers/index.js";

const k = key(0);
declare const batch: Tensor<["batch", 784]>;
declare const prefixed: Tensor<[2, "batch", 784]>;
declare const feature: Tensor<["batch", 7, 7, 64]>;
declare const flat: Tensor<["batch", 3136]>;
declare const hidden: Tensor<["batch", 512]>;

// dense: parameters from the configuration, any batch prefix
const d = dense(784, 512);
const pd = d.init(k);
expectType<{ w: Tensor<[784, 512]>; b: Tensor<[512]> }>(pd);
expectType<{ w: Tensor<[784, 512]> }>(dense(784, 512, { useBias: false }).init(k));
expectType<Tensor<[32, 512]>>(d.apply(pd, zeros([32, 784])));
expectType<Tensor<[784]>>(dense(784, 784).apply(dense(784, 784).init(k), zeros([784])));
expectType<Tensor<["batch", 512]>>(d.apply(pd, batch));
expectType<Tensor<[2, "batch", 512]>>(d.apply(pd, prefixed));
expectError(d.apply(pd, zeros([32, 100])));
expectError(d.apply(pd, zeros([32, 7, 7, 64])));

// activations keep the shape and have no parameters
expectType<NoParams>(relu().init(k));
expectType<Tensor<["batch", 784]>>(relu().apply({}, batch));
expectType<Tensor<[2, "batch", 784]>>(gelu().apply({}, prefixed));
expectType<Tensor<["batch", 784]>>(gelu({ approximate: "tanh" }).apply({}, batch));
expectError(gelu({ approximate: "fast" }));
expectType<Tensor<["batch", 784]>>(silu().apply({}, batch));
expectType<Tensor<["batch", 784]>>(tanh().apply({}, batch));
expectType<Tensor<["batch", 784]>>(sigmoid().apply({}, batch));
expectType<Tensor<["batch", 784]>>(softmax().apply({}, batch));

// flatten and reshape keep the first dim
expectType<Tensor<["batch", 3136]>>(flatten().apply({}, feature));
expectType<Tensor<[32, 3136]>>(flatten().apply({}, zeros([32, 7, 7, 64])));
expectType<Tensor<[32, 7, 7, 64]>>(reshape([7, 7, 64]).apply({}, zeros([32, 3136])));
expectType<Tensor<["batch", 7, 7, 64]>>(reshape([7, 7, -1]).apply({}, flat));
expectError(reshape([7, 7, 64]).apply({}, zeros([32, 3000])));

// sequential of 3 layers: a tuple of parameters, the folded output shape
const mlp = sequential(dense(784, 512), relu(), dense(512, 10));
const pm = mlp.init(k);
expectType<[{ w: Tensor<[784, 512]>; b: Tensor<[512]> }, NoParams, { w: Tensor<[512, 10]>; b: Tensor<[10]> }]>(pm);
expectType<Tensor<["batch", 10]>>(mlp.apply(pm, batch));
expectType<Tensor<[2, "batch", 10]>>(mlp.apply(pm, prefixed));
expectError(mlp.apply(pm, zeros([32, 100])));

// sequential of 10 layers, conv-like reshape and flatten included
const deep = sequential(
  dense(784, 3136),
  relu(),
  reshape([7, 7, 64]),
  flatten(),
  dense(3136, 256),
  gelu(),
  dense(256, 128),
  silu(),
  dense(128, 10),
  softmax(),
);
expectType<Tensor<["batch", 10]>>(deep.apply(deep.init(k), batch));
expectType<Tensor<[8, 10]>>(deep.apply(deep.init(k), zeros([8, 784])));

// residual keeps the shape
const block = residual(sequential(dense(512, 512), relu()));
expectType<Tensor<["batch", 512]>>(block.apply(block.init(k), hidden));
expectError(residual(dense(512, 256)));

// a sequential nests in another
const nested = sequential(sequential(dense(784, 512), relu()), dense(512, 10));
expectType<Tensor<["batch", 10]>>(nested.apply(nested.init(k), batch));

// plain composition with fp-ts pipe
const [p1, p2] = [dense(784, 512).init(k), dense(512, 10).init(k)];
expectType<Tensor<["batch", 10]>>(pipe(batch, (x) => dense(784, 512).apply(p1, x), (x) => relu().apply({}, x), (x) => dense(512, 10).apply(p2, x)));

// each kind of mismatched stack fails at the offending argument
expectError(sequential(dense(784, 512), relu(), dense(256, 10)));
expectError(sequential(dense(784, 512), dense(512, 10), dense(256, 10)));
expectError(sequential(reshape([7, 7, 64]), dense(3136, 10)));
expectError(sequential(dense(784, 3136), reshape([7, 7, 64]), dense(3136, 10)));
expectError(sequential(dense(784, 512), reshape([7, 7, 64])));
expectError(sequential(dense(784, 512), relu(), residual(dense(512, 512)), dense(784, 10)));
expectError(sequential(sequential(dense(784, 512), relu()), dense(256, 10)));

// the message names the position and both shapes
declare const check: CheckStack<[Dense<784, 512>, Activation, Dense<256, 10>]>;
expectType<[unknown, unknown, ShapeError<"sequential: layer 2 expects [..., 256] but gets [..., 512]">, ...unknown[]]>(check);
declare const checkConv: CheckStack<[Dense<784, 3136>, ReturnType<typeof reshape<[7, 7, 64]>>, Dense<3136, 10>]>;
expectType<[unknown, unknown, ShapeError<"sequential: layer 2 expects [..., 3136] but gets [..., 7, 7, 64]">, ...unknown[]]>(checkConv);
declare const fits: CheckStack<[Dense<784, 512>, Activation, Dense<512, 10>]>;
expectType<unknown>(fits);

// deep stacks fold eight layers a step: the first wrong layer is named after the first chunk and in the remainder
type Pair = [Dense<512, 512>, Activation];
type Deep<L extends unknown[]> = [Dense<784, 512>, ...Pair, ...Pair, ...Pair, ...Pair, ...Pair, ...Pair, ...L];
declare const deepFits: CheckStack<Deep<[Dense<512, 10>]>>;
expectType<unknown>(deepFits);
declare const deepWrong: CheckStack<Deep<[Dense<256, 10>]>>;
expectType<ShapeError<"sequential: layer 13 expects [..., 256] but gets [..., 512]">>(deepWrong[13]);
declare const chunkWrong: CheckStack<[Dense<784, 512>, ...Pair, ...Pair, ...Pair, Dense<256, 10>, ...Pair]>;
expectType<ShapeError<"sequential: layer 7 expects [..., 256] but gets [..., 512]">>(chunkWrong[7]);
const deep17 = sequential(
  dense(784, 512), relu(), dense(512, 512), relu(), dense(512, 512), relu(), dense(512, 512), relu(),
  dense(512, 256), relu(), dense(256, 256), relu(), dense(256, 256), relu(), dense(256, 128), relu(),
  dense(128, 10),
);
expectType<Tensor<["batch", 10]>>(deep17.apply(deep17.init(k), batch));
expectError(sequential(
  dense(784, 512), relu(), dense(512, 512), relu(), dense(512, 512), relu(), dense(512, 512), relu(),
  dense(512, 256), relu(), dense(256, 256), relu(), dense(128, 256), relu(), dense(256, 128), relu(),
  dense(128, 10),
));

// a width known only at run time flows through a stack as unknown: the next layer's check is left to the run time
declare const runtimeWidth: number;
const unknownWidth = sequential(dense(784, runtimeWidth), relu(), dense(512, 10));
expectType<Tensor<["batch", 10]>>(unknownWidth.apply(unknownWidth.init(k), batch));
expectError(sequential(dense(784, runtimeWidth), dense(512, 10)).apply(sequential(dense(784, runtimeWidth), dense(512, 10)).init(k), zeros([2, 100])));
