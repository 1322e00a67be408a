import { describe, expect, test } from "vitest";
import { gelu as geluOp, relu as reluOp, sigmoid as sigmoidOp, silu as siluOp } from "../../src/ops/activations.js";
import { tanh as tanhOp } from "../../src/ops/elementwise.js";
import { softmax as softmaxOp } from "../../src/ops/reduce.js";
import { gelu, relu, sigmoid, silu, softmax, tanh, type Activation } from "../../src/layers/activations.js";
import type { Shape } from "../../src/core/shape.js";
import { flatten, reshape } from "../../src/layers/reshape.js";
import { key } from "../../src/random/key.js";
import { normal } from "../../src/random/distributions.js";
import { ShapeError } from "../../src/core/errors.js";
import { zeros } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";

describe("activation layers", () => {
  const x = normal(key(0), [2, 3, 5]);
  const pairs: readonly (readonly [string, Activation, (x: Tensor<[2, 3, 5]>) => Tensor<Shape>])[] = [
    ["relu", relu(), reluOp],
    ["gelu", gelu(), (x: Tensor<[2, 3, 5]>) => geluOp(x)],
    ["gelu tanh", gelu({ approximate: "tanh" }), (x: Tensor<[2, 3, 5]>) => geluOp(x, { approximate: "tanh" })],
    ["silu", silu(), siluOp],
    ["tanh", tanh(), tanhOp],
    ["sigmoid", sigmoid(), sigmoidOp],
    ["softmax", softmax(), (x: Tensor<[2, 3, 5]>) => softmaxOp(x)],
  ];
  test.each(pairs)("the %s layer has no parameters and applies the op of the same name", (_name, layer, op) => {
    const p = layer.init(key(1));
    expect(p).toEqual({});
    const y = layer.apply(p, x);
    expect(y.shape).toEqual([2, 3, 5]);
    expect(y.toArray()).toEqual(op(x).toArray());
  });
});

describe("shape layers", () => {
  test("flatten keeps the first dim and merges the rest", () => {
    const x = normal(key(0), [4, 7, 7, 2]);
    const y = flatten().apply({}, x);
    expect(y.shape).toEqual([4, 98]);
    expect(y.toArray()).toEqual(x.toArray());
  });
  test("reshape keeps the first dim and reshapes the rest, inferring a -1", () => {
    const x = normal(key(0), [4, 98]);
    expect(reshape([7, 7, 2]).apply({}, x).shape).toEqual([4, 7, 7, 2]);
    expect(reshape([7, -1]).apply({}, x).shape).toEqual([4, 7, 14]);
  });
  test("reshape to a size that differs throws a ShapeError", () => {
    const x: Tensor<[number, number]> = zeros([4, 98]); // sizes unknown to the types: only the run-time rule checks
    expect(() => reshape([7, 7, 3]).apply({}, x)).toThrow(ShapeError);
  });
});

describe("reshape on a scalar", () => {
  test("throws a ShapeError: there is no batch dim to keep", () => {
    const x: Tensor<number[]> = zeros([]); // rank unknown to the types
    expect(() => reshape([1]).apply({}, x)).toThrow("reshape: a scalar has no batch dim to keep");
  });
});
