import { describe, expect, test } from "vitest";
import { arange, ones, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { dot, matmul, outer } from "../../src/ops/linalg.js";
import { reshape } from "../../src/ops/shape.js";

/** A tensor typed with an unknown shape, so that only the run-time rule checks it. */
const untyped = (x: Tensor<readonly number[]>): Tensor<number[]> => x as Tensor<number[]>; // the same tensor, its shape type widened

describe("matmul", () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([[1, 0], [0, 1], [1, 1]]);
  test("multiplies matrices of different shapes", () => {
    const y = matmul(a, b);
    expect(y.shape).toEqual([2, 2]);
    expect(y.toNested()).toEqual([[4, 5], [10, 11]]);
  });
  test("a rank-1 left operand is a row and a rank-1 right operand a column", () => {
    expect(matmul(tensor([1, 1]), a).toArray()).toEqual([5, 7, 9]);
    expect(matmul(a, tensor([1, 0, 1])).toArray()).toEqual([4, 10]);
    const inner = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
    expect(inner.shape).toEqual([]);
    expect(inner.item()).toBe(32);
  });
  test("batch dims broadcast", () => {
    const x = reshape(arange(12), [2, 1, 2, 3]); // [2, 1, 2, 3]
    const y = reshape(arange(18), [3, 3, 2]); // [3, 3, 2]
    const out = matmul(x, y);
    expect(out.shape).toEqual([2, 3, 2, 2]);
    // out[1, 2] = x[1, 0] @ y[2]
    const x10 = [[6, 7, 8], [9, 10, 11]];
    const y2 = [[12, 13], [14, 15], [16, 17]];
    const want = x10.map((row) => [0, 1].map((j) => row.reduce((s, v, p) => s + v * (y2[p]?.[j] ?? 0), 0)));
    expect(out.toNested()[1]?.[2]).toEqual(want);
  });
  test("a batched left operand times a matrix folds the batch into rows", () => {
    const x = reshape(arange(12), [2, 2, 3]);
    expect(matmul(x, b).toNested()).toEqual([[[2, 3], [8, 9]], [[14, 15], [20, 21]]]);
    expect(matmul(tensor([1, 2]), reshape(arange(12), [2, 2, 3])).toNested()).toEqual([[6, 9, 12], [24, 27, 30]]);
  });
  test("zero-size dims give zeros or empty results", () => {
    expect(matmul(zeros([2, 0]), zeros([0, 3])).toNested()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(matmul(zeros([0, 4]), ones([4, 3])).shape).toEqual([0, 3]);
    expect(matmul(zeros([5, 0, 4]), ones([4, 3])).shape).toEqual([5, 0, 3]);
  });
  test("float64 stays float64", () => {
    expect(matmul(tensor([[0.1]], "float64"), tensor([[0.2]], "float64")).toArray()).toEqual([0.1 * 0.2]);
  });
  test("mismatched inner dims are a ShapeError naming matmul", () => {
    expect(() => matmul(untyped(zeros([2, 3])), untyped(zeros([4, 5])))).toThrow(ShapeError);
    expect(() => matmul(untyped(zeros([2, 3])), untyped(zeros([4, 5])))).toThrow("matmul: inner dims 3 and 4 differ in [2, 3] and [4, 5]");
    expect(() => matmul(untyped(zeros([2, 2, 3])), untyped(zeros([3, 3, 1])))).toThrow(/^matmul batch: shapes \[2\] and \[3\] do not broadcast/);
    expect(() => matmul(untyped(zeros([])), untyped(zeros([3])))).toThrow(/^matmul: operands must have rank >= 1/);
  });
  test("int32 operands are refused", () => {
    const i = tensor([[1]], "int32") as unknown as Tensor<[1, 1]>; // an int32 tensor typed as float32 to reach the run-time check
    expect(() => matmul(i, i)).toThrow("matmul: needs float operands, got int32");
  });
});

describe("dot and outer", () => {
  test("dot of two vectors is a scalar", () => {
    expect(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item()).toBe(32);
    expect(dot(zeros([0]), zeros([0])).item()).toBe(0);
  });
  test("dot of vectors of different lengths is a ShapeError naming dot", () => {
    expect(() => dot(zeros([3]) as Tensor<[number]>, zeros([4]))).toThrow("dot: vectors of sizes 3 and 4 differ");
  });
  test("outer multiplies every pair", () => {
    const y = outer(tensor([1, 2]), tensor([3, 4, 5]));
    expect(y.shape).toEqual([2, 3]);
    expect(y.toNested()).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(outer(tensor([2], "int32"), tensor([3], "int32")).dtype).toBe("int32");
    expect(outer(zeros([0]), zeros([2])).shape).toEqual([0, 2]);
  });
});

describe("the doc examples", () => {
  test("run as written", () => {
    expect(matmul(zeros([32, 784]), zeros([784, 512])).shape).toEqual([32, 512]);
    expect(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item()).toBe(32);
    expect(outer(tensor([1, 2]), tensor([3, 4, 5])).toNested()).toEqual([[3, 4, 5], [6, 8, 10]]);
  });
});
