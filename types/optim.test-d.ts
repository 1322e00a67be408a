import { expectError, expectType } from "tsd";
import { jit, tensor, zeros, type Tensor } from "../src/index.js";
import {
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  rmsprop,
  sgd,
  type AdamState,
  type Count,
  type EmptyState,
  type RmspropState,
  type SgdState,
} from "../src/optim/index.js";

const params = { layers: [{ w: zeros([2, 3]), b: zeros([3]) }], scale: tensor(1, "float64") };
type P = typeof params;
declare const grads: P;

// The state follows the params tree: its moments have the params' type.
const opt = adam({ learningRate: 1e-3 });
const state = opt.init(params);
expectType<AdamState<P>>(state);
expectType<Tensor<[], "int32">>(state.count);
expectType<Tensor<[2, 3]>>(state.mu.layers[0]!.w);
expectType<SgdState<P>>(sgd({ learningRate: 0.1, momentum: 0.9 }).init(params));
expectType<RmspropState<P>>(rmsprop({ learningRate: 0.1 }).init(params));

// The updates have the params' type, and so does applyUpdates' result.
const [updates, next] = opt.update(grads, state, params);
expectType<P>(updates);
expectType<AdamState<P>>(next);
expectType<P>(applyUpdates(params, updates));
expectType<AdamState<P>>(adamw({ learningRate: cosineDecay(1e-3, 100) }).update(grads, state, params)[1]);

// A chain's state is the tuple of its parts' states.
const chained = chain(clipByGlobalNorm(1), sgd({ learningRate: 0.1 }));
expectType<[EmptyState, SgdState<P>]>(chained.init(params));

// A schedule gives a number for a number, and a float64 scalar for the count.
expectType<number>(cosineDecay(0.1, 100)(5));
declare const count: Count;
expectType<Tensor<[], "float64">>(cosineDecay(0.1, 100)(count));

// An update runs inside jit with the state as an argument.
const step = jit((p: P, s: AdamState<P>, g: P) => opt.update(g, s, p));
expectType<[P, AdamState<P>]>(step(params, state, grads));

// Grads, state or updates of another tree are compile errors.
const other = { w: zeros([4]) };
expectError(opt.update(other, state, params));
expectError(opt.update({ layers: [{ w: zeros([3, 2]), b: zeros([3]) }], scale: tensor(1, "float64") }, state, params));
expectError(opt.update(grads, opt.init(other), params));
expectError(opt.update(grads, sgd({ learningRate: 0.1 }).init(params), params));
expectError(applyUpdates(params, other));

// Options have their types: a learning rate is a number or a schedule.
expectError(sgd({ learningRate: "0.1" }));
expectError(adam({ learningRate: 0.1, beta1: 0.9 }));
