import { expectError, expectType } from "tsd";
import { add, foriLoop, grad, jit, key, layers, less, matmul, mul, scan, sum, tanh, whileLoop, type Tensor } from "../src/index.js";

declare const w: Tensor<[3, 3]>;
declare const h0: Tensor<[3]>;
declare const xs: Tensor<[50, 3]>;

// the carry keeps its type; per-step outputs are stacked along a new leading dim
const cell = (h: Tensor<[3]>, x: Tensor<[3]>): readonly [Tensor<[3]>, Tensor<[3]>] => {
  const next = tanh(add(matmul(h, w), x));
  return [next, next];
};
expectType<[Tensor<[3]>, Tensor<[number, 3]>]>(scan(cell, h0, xs));
expectType<[Tensor<[3]>, Tensor<[number, 3]>]>(scan(cell, h0, xs, { reverse: true }));
// the checkpoint policy is a boolean option and changes no type
expectType<[Tensor<[3]>, Tensor<[number, 3]>]>(scan(cell, h0, xs, { checkpoint: true }));
expectError(scan(cell, h0, xs, { checkpoint: "dots" }));

// the step's input is one slice of xs: its leading dim dropped, leaf by leaf in a tree
declare const seq: { a: Tensor<[50, 3]>; b: Tensor<[50], "int32"> };
expectType<[Tensor<[3]>, { a: Tensor<[number, 3]> }]>(
  scan((h: Tensor<[3]>, x: { readonly a: Tensor<[3]>; readonly b: Tensor<[], "int32"> }) => [add(h, x.a), { a: h }] as const, h0, seq),
);

// trees of carries: the same tree comes back
type State = { h: Tensor<[3]>; c: Tensor<[3]> };
declare const s0: State;
expectType<[State, Tensor<[number]>]>(scan((s: State, x: Tensor<[3]>) => [{ h: add(s.h, x), c: s.c }, sum(s.h, 0)] as const, s0, xs));

// without inputs: the body takes only the carry, and length is required
expectType<[Tensor<[3]>, Tensor<[number, 3]>]>(scan((h: Tensor<[3]>) => [tanh(h), h] as const, h0, null, { length: 10 }));
expectError(scan((h: Tensor<[3]>) => [tanh(h), h] as const, h0, null));

// a carry whose shape changes does not compile
declare const grow: (h: Tensor<[3]>, x: Tensor<[3]>) => readonly [Tensor<[4]>, Tensor<[3]>];
expectError(scan(grow, h0, xs));
// nor one whose dtype changes
declare const toF64: (h: Tensor<[3]>, x: Tensor<[3]>) => readonly [Tensor<[3], "float64">, Tensor<[3]>];
expectError(scan(toF64, h0, xs));
// nor a tree whose structure changes
declare const drop: (s: State, x: Tensor<[3]>) => readonly [{ h: Tensor<[3]> }, Tensor<[3]>];
expectError(scan(drop, s0, xs));
// nor an init that is not the body's carry
declare const h4: Tensor<[4]>;
expectError(scan(cell, h4, xs));
// nor inputs whose slice is not the body's step
declare const xs4: Tensor<[50, 4]>;
expectError(scan(cell, h0, xs4));

// scan composes with jit and grad
const loss = (w2: Tensor<[3, 3]>): Tensor<[]> => sum(scan((h: Tensor<[3]>, x: Tensor<[3]>) => [tanh(add(matmul(h, w2), x)), h] as const, h0, xs)[0]);
expectType<Tensor<[3, 3]>>(grad(loss)(w));
expectType<Tensor<[]>>(jit(loss)(w));

// foriLoop: the body maps the index and carry to the carry's type
expectType<Tensor<[3]>>(foriLoop(0, 10, (i: Tensor<[], "int32">, h: Tensor<[3]>) => tanh(h), h0));
declare const shrink: (i: Tensor<[], "int32">, h: Tensor<[3]>) => Tensor<[2]>;
expectError(foriLoop(0, 10, shrink, h0));

// whileLoop: a bool scalar condition, a body of the carry's type
declare const one: Tensor<[]>;
declare const hundred: Tensor<[]>;
expectType<Tensor<[]>>(whileLoop((c: Tensor<[]>) => less(c, hundred), (c) => mul(c, c), one));
expectError(whileLoop((c: Tensor<[]>) => c, (c) => mul(c, c), one));
// under jit too, with a carry tree of mixed dtypes
type Count = readonly [Tensor<[], "int32">, Tensor<[3]>];
declare const count0: Count;
declare const five: Tensor<[], "int32">;
expectType<Count>(jit((c: Count) => whileLoop((k: Count) => less(k[0], five), (k: Count): Count => [k[0], tanh(k[1])], c))(count0));
declare const toVector: (k: Count) => readonly [Tensor<[], "int32">, Tensor<[4]>];
expectError(whileLoop((k: Count) => less(k[0], five), toVector, count0));

// the recurrent layers take how many steps to unroll before they scan
declare const seq32: Tensor<[8, 100, 3]>;
expectType<Tensor<[8, 100, 4]>>(layers.lstm(3, 4, { unroll: 0 }).apply(layers.lstm(3, 4).init(key(0)), seq32));
expectError(layers.gru(3, 4, { unroll: "all" }));
expectType<Tensor<[8, 100, 4]>>(layers.lstm(3, 4, { checkpoint: true }).apply(layers.lstm(3, 4).init(key(0)), seq32));
expectError(layers.rnn(3, 4, { checkpoint: 1 }));
