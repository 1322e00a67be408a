// Symbolic dims, `number` dims and type parameters against literal dims: what unifies and what must not.
//
// Policy (README, "Shapes"): a string dim ("batch") matches only itself; `number` matches anything and
// leaves the check to run time; a dim that is a type parameter of generic code (`B extends number`) matches
// only itself, and 1 where shapes broadcast. Against anything else (a literal, another parameter, `number`)
// the rule cannot be evaluated on it, so the call does not compile: cast to `number` to defer to run time.
import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import { add, matmul, mul, sub, where, greater, less, type BinaryCheck } from "../src/ops/index.js";

/** A value of type T, for checking types that no constructor returns. */
declare function typeOf<T>(): T;

// ---------------------------------------------------------------------------
// Generic in one dim: the parameter is kept, never unified with a literal.
// ---------------------------------------------------------------------------

function logits<B extends number>(x: Tensor<[B, 784]>, w: Tensor<[784, 10]>): Tensor<[B, 10]> {
  const y = matmul(x, w);
  expectType<Tensor<[B, 10]>>(y);
  return y;
}
expectType<Tensor<[32, 10]>>(logits(typeOf<Tensor<[32, 784]>>(), typeOf<Tensor<[784, 10]>>()));

function withBias<B extends number>(x: Tensor<[B, 3]>, row: Tensor<[1, 3]>, bias: Tensor<[3]>, same: Tensor<[B, 3]>): void {
  expectType<Tensor<[B, 3]>>(add(x, row)); // B broadcast with 1
  expectType<Tensor<[B, 3]>>(add(x, bias)); // missing leading dims
  expectType<Tensor<[B, 3]>>(mul(x, same));
  expectType<Tensor<[B, 3]>>(mul(x, 2));
  expectType<Tensor<[B, 3]>>(sub(0.5, x));
  expectType<Tensor<[B, 3]>>(where(greater(x, 0), x, 0));
  expectType<Tensor<[B, 3], "bool">>(less(x, bias));
  expectType<Tensor<[B, 3], "bool">>(less(x, same));
}
void withBias;

// A generic inner dim, as a dense layer written once for every width.
function project<K extends number, N extends number>(x: Tensor<[32, K]>, w: Tensor<[K, N]>): Tensor<[32, N]> {
  expectType<Tensor<[32, N]>>(matmul(x, w));
  return matmul(x, w);
}
expectType<Tensor<[32, 10]>>(project(typeOf<Tensor<[32, 784]>>(), typeOf<Tensor<[784, 10]>>()));

// Generic over the batch prefix, and over the whole shape and dtype.
function head<S extends (string | number)[]>(x: Tensor<[...S, 784]>, w: Tensor<[784, 10]>): Tensor<[...S, 10]> {
  return matmul(x, w);
}
expectType<Tensor<[4, "batch", 10]>>(head(typeOf<Tensor<[4, "batch", 784]>>(), typeOf<Tensor<[784, 10]>>()));
function average<S extends (string | number)[], D extends "float32" | "float64">(x: Tensor<S, D>, y: Tensor<S, D>): Tensor<S, D> {
  expectType<Tensor<S, "bool">>(less(x, y));
  expectType<Tensor<S, "bool">>(greater(x, 0));
  return mul(add(x, y), 0.5);
}
expectType<Tensor<[2, 3], "float64">>(average(typeOf<Tensor<[2, 3], "float64">>(), typeOf<Tensor<[2, 3], "float64">>()));

// A type parameter is not a literal: [B, 3] + [4, 3] would hold for B = 4 or 1 only, and does not compile.
function mixed<B extends number, C extends number>(x: Tensor<[B, 3]>, y: Tensor<[C, 3]>): void {
  expectError(add(x, typeOf<Tensor<[4, 3]>>()));
  expectError(add(x, zeros([4, 3])));
  expectError(add(x, typeOf<Tensor<["batch", 3]>>()));
  expectError(add(x, y));
  expectError(less(x, y));
  expectError(add(x, typeOf<Tensor<[number, 3]>>())); // cast x to Tensor<[number, 3]> to check at run time
  expectError(matmul(x, typeOf<Tensor<[4, 10]>>()));
  expectError(matmul(typeOf<Tensor<[8, B]>>(), typeOf<Tensor<[4, 10]>>()));
}
void mixed;
function symbolic<B extends string>(x: Tensor<[B, 3]>): void {
  expectError(add(x, typeOf<Tensor<[4, 3]>>()));
  expectError(add(x, typeOf<Tensor<["batch", 3]>>()));
}
void symbolic;

// ---------------------------------------------------------------------------
// Symbolic dims and `number` against literals, outside generic code.
// ---------------------------------------------------------------------------

expectType<Tensor<["batch", 3]>>(add(typeOf<Tensor<["batch", 3]>>(), typeOf<Tensor<[number, 3]>>()));
expectType<Tensor<["batch", 3]>>(add(typeOf<Tensor<[number, 3]>>(), typeOf<Tensor<["batch", 3]>>()));
expectType<Tensor<[4, 3]>>(add(typeOf<Tensor<[number, 3]>>(), typeOf<Tensor<[4, 3]>>()));
expectType<Tensor<["batch", 3]>>(add(typeOf<Tensor<["batch", 3]>>(), typeOf<Tensor<[1, 3]>>()));
expectType<Tensor<["batch", 10]>>(matmul(typeOf<Tensor<["batch", number]>>(), typeOf<Tensor<[784, 10]>>()));
expectError(add(typeOf<Tensor<["batch", 3]>>(), typeOf<Tensor<[4, 3]>>()));
expectError(add(typeOf<Tensor<["batch", 3]>>(), typeOf<Tensor<["time", 3]>>()));
expectError(matmul(typeOf<Tensor<["batch", 784]>>(), typeOf<Tensor<["batch", 10]>>()));
expectError(matmul(typeOf<Tensor<[2, "k"]>>(), typeOf<Tensor<[784, 10]>>()));

// Two dtypes, two numbers: the check names the op.
expectType<true>(typeOf<BinaryCheck<"add", Tensor<[3]>, Tensor<[3], "float64">> extends { shapeError: "add: operand dtypes float32 and float64 differ (cast one first)" } ? true : false>());
expectError(add(1, 2));
