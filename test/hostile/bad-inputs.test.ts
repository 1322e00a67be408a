/**
 * Bad input through the public API, as a hostile caller writes it: types
 * bypassed with casts, forged tensors, options of the wrong kind. Each row
 * must throw the named error class with a message that names the function,
 * the argument and what it got; never an internal TypeError, never a wrong
 * answer.
 */

import { describe, expect, test } from "vitest";
import {
  add,
  cast,
  conv2d,
  encodeSafetensors,
  exp,
  gelu,
  jit,
  key,
  keyData,
  log,
  logSoftmax,
  matmul,
  maximum,
  maxPool2d,
  mean,
  normal,
  ones,
  sgd,
  ShapeError,
  sigmoid,
  slice,
  softmax,
  softmaxCrossEntropy,
  split,
  sqrt,
  sum,
  tanh,
  tensor,
  uniform,
  where,
  writeSafetensors,
  zeros,
  type Tensor,
} from "../../src/index.js";

/** A value of any type, as a caller who bypasses the types passes it (`never` fits every parameter). */
function hostile(x: unknown): never {
  return x as never; // the point of this suite: the value does not have the type the signature claims
}

/** A float32 tensor whose `dtype` property a caller has overwritten. */
function forged(dtype: string): Tensor<[2]> {
  const x = ones([2]);
  Object.defineProperty(x, "dtype", { value: dtype });
  return x;
}

type Row = readonly [what: string, call: () => unknown, error: new (...args: never[]) => Error, message: RegExp];

const x = tensor([1, 2, 3]);
const ints = tensor([2, 3], "int32");

const rows: readonly Row[] = [
  // 1. dtypes never mix, and float-only ops refuse other dtypes
  ["add of int32 and float32", () => add(tensor([1], "int32"), hostile(tensor([0.7]))), ShapeError, /^add: operand dtypes int32 and float32 differ/],
  ["add of float32 and int32", () => add(tensor([0.5]), hostile(tensor([1], "int32"))), ShapeError, /^add: operand dtypes float32 and int32 differ/],
  ["maximum of float32 and float64", () => maximum(x, hostile(tensor([1, 2, 3], "float64"))), ShapeError, /^maximum: operand dtypes float32 and float64 differ/],
  ["where of int32 and float32 values", () => where(tensor([true]), ints, hostile(x)), ShapeError, /^where: operand dtypes int32 and float32 differ/],
  ["log of int32", () => log(hostile(ints)), ShapeError, /^log: needs a float dtype, got int32/],
  ["exp of bool", () => exp(hostile(tensor([true]))), ShapeError, /^exp: needs a float dtype, got bool/],
  ["sqrt of int32", () => sqrt(hostile(ints)), ShapeError, /^sqrt: needs a float dtype, got int32/],
  ["tanh of int32", () => tanh(hostile(ints)), ShapeError, /^tanh: needs a float dtype, got int32/],
  ["sigmoid of int32", () => sigmoid(hostile(ints)), ShapeError, /^sigmoid: x must be float32 or float64, got int32/],
  ["gelu of bool", () => gelu(hostile(tensor([true]))), ShapeError, /^gelu: x must be float32 or float64, got bool/],
  ["mean of int32", () => mean(hostile(ints)), ShapeError, /^mean: x must be float32 or float64, got int32/],
  ["softmax of int32", () => softmax(hostile(ints)), ShapeError, /^softmax: x must be float32 or float64, got int32/],
  ["logSoftmax of int32", () => logSoftmax(hostile(ints)), ShapeError, /^logSoftmax: x must be float32 or float64, got int32/],
  ["cross-entropy of int32 logits", () => softmaxCrossEntropy(hostile(tensor([[1, 2]], "int32")), tensor([0], "int32")), ShapeError, /^softmaxCrossEntropy: logits must be float32 or float64, got int32/],
  ["maxPool2d of int32", () => maxPool2d(hostile(zeros([1, 2, 2, 1], "int32")), 2), ShapeError, /^maxPool2d: x must be float32 or float64, got int32/],
  ["matmul of int32", () => matmul(hostile(tensor([[1]], "int32")), hostile(tensor([[1]], "int32"))), ShapeError, /^matmul: /],
  // 2. every slice spec is validated
  ["slice with an array spec", () => slice(ones([3]), hostile([[5, 9]])), ShapeError, /^slice: spec 0 must be an index, null or \{ start, stop, step \}, got an array of 2 elements/],
  ["slice with a misspelt field", () => slice(ones([3]), hostile([{ begin: 1 }])), ShapeError, /^slice: spec 0 has an unknown field "begin"/],
  ["slice with a string bound", () => slice(ones([3]), hostile([{ start: "1" }])), ShapeError, /^slice: spec 0: start must be an integer, got the string "1"/],
  ["slice with a string index", () => slice(ones([3]), hostile(["1"])), ShapeError, /^slice: spec 0 must be an index, null or \{ start, stop, step \}, got the string "1"/],
  ["slice with specs that are not an array", () => slice(ones([3]), hostile(0)), ShapeError, /^slice: the specs must be an array, got the number 0/],
  // 3. clear errors instead of internal TypeErrors
  ["add of a string", () => add(x, hostile("2")), ShapeError, /^add: y must be a Tensor or a number, got the string "2"/],
  ["add of null", () => add(x, hostile(null)), ShapeError, /^add: y must be a Tensor or a number, got null/],
  ["add of an object", () => add(x, hostile({})), ShapeError, /^add: y must be a Tensor or a number, got an object/],
  ["add of undefined first", () => add(hostile(undefined), x), ShapeError, /^add: x must be a Tensor or a number, got undefined/],
  ["exp of a number", () => exp(hostile(2)), ShapeError, /^exp: operand 0 must be a Tensor, got the number 2/],
  ["sum of an array", () => sum(hostile([1, 2])), ShapeError, /^sum: x must be a Tensor, got an array of 2 elements/],
  ["cast to an unknown dtype", () => cast(x, hostile("complex64")), ShapeError, /^cast: unknown dtype "complex64"/],
  ["a forged dtype in add", () => add(forged("complex64"), 1), ShapeError, /^add: x: unknown dtype "complex64"/],
  ["a forged dtype in exp", () => exp(forged("float16")), ShapeError, /^exp: operand 0: unknown dtype "float16"/],
  ["a forged dtype under jit", () => jit((a: Tensor<[2]>) => exp(a))(forged("float16")), ShapeError, /unknown dtype "float16"/],
  ["a forged dtype written to a file", () => writeSafetensors({ w: forged("float16") }), ShapeError, /^writeSafetensors: tensor "w": unknown dtype "float16"/],
  ["sgd with a string learning rate", () => sgd({ learningRate: hostile("0.1") }), RangeError, /^sgd: learningRate must be a non-negative finite number, got the string "0.1"/],
  ["sgd with a string momentum", () => sgd({ learningRate: 0.1, momentum: hostile("0.9") }), RangeError, /^sgd: momentum must be in \[0, 1\), got the string "0.9"/],
  [
    "a schedule that gives a number for the step count",
    () => {
      const opt = sgd({ learningRate: hostile(() => 0.1) });
      return opt.update({ w: ones([2]) }, opt.init({ w: ones([2]) }), { w: ones([2]) });
    },
    RangeError,
    /^sgd: a learningRate schedule must give a rank-0 float tensor for the step count, got the number 0.1/,
  ],
  ["jit with no room for a signature", () => jit((a: Tensor<[2]>) => exp(a), { maxSignatures: 0 }), RangeError, /^jit: maxSignatures must be an integer of at least 1, got 0/],
  ["uniform of a key tensor", () => uniform(hostile(keyData(key(0))), [2]), RangeError, /^uniform: k must be a Key from key\(seed\), split or foldIn, got an int32 Tensor of shape \[2\] \(a key tensor/],
  ["normal of a seed", () => normal(hostile(0), [2]), RangeError, /^normal: k must be a Key .*, got the number 0/],
  ["split of a string", () => split(hostile("k")), RangeError, /^split: k must be a Key .*, got the string "k"/],
  ["keyData of a number", () => keyData(hostile(1)), RangeError, /^keyData: k must be a Key .*, got the number 1/],
  ["conv2d with a bogus padding", () => conv2d(zeros([1, 4, 4, 1]), hostile(zeros([3, 3, 1, 1])), { padding: hostile("bogus") }), ShapeError, /^conv2d: padding must be "valid", "same", a size or explicit \[lo, hi\] sizes, got the string "bogus"/],
  ["maxPool2d with a bogus padding", () => maxPool2d(hostile(zeros([1, 4, 4, 1])), 2, { padding: hostile("SAME") }), ShapeError, /^maxPool2d: padding must be .*, got the string "SAME"/],
  ["conv2d of a string", () => conv2d(hostile("x"), zeros([3, 3, 1, 1])), ShapeError, /^conv2d: x must be a Tensor, got the string "x"/],
  [
    "encodeSafetensors with an unknown dtype",
    () => encodeSafetensors([{ name: "w", dtype: hostile("F128"), shape: [1], bytes: new Uint8Array(16) }]),
    RangeError,
    /^encodeSafetensors: tensor "w": dtype must be one of .*, got the string "F128"/,
  ],
];

describe("hostile input through the public API", () => {
  test.each(rows)("%s is refused with a clear error", (_, call, error, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(error);
    expect(thrown).not.toBeInstanceOf(TypeError);
    expect(thrown instanceof Error ? thrown.message : String(thrown)).toMatch(message);
  });

  test("a long string is quoted only in part", () => {
    expect(() => add(x, hostile("a".repeat(1000)))).toThrow(/got the string "a{40}\.\.\."$/);
  });
});
