import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { argmax, argmin, logSoftmax, logsumexp, maskedSoftmax, max, mean, min, norm, softmax, sum, variance } from "../../src/ops/reduce.js";

/** A tensor typed with an unknown shape, so that only the run-time rule checks it. */
const untyped = <D extends "float32" | "int32">(x: Tensor<Shape, D>): Tensor<number[], D> => x as Tensor<number[], D>; // the same tensor, typed with an unknown shape

const m = tensor([[1, 2, 3], [4, 5, 6]]);

describe("sum and mean", () => {
  test("sum over every axis is a scalar", () => {
    expect(sum(m).shape).toEqual([]);
    expect(sum(m).item()).toBe(21);
  });
  test("sum over the last axis, a negative axis, a list, and with keepDims", () => {
    expect(sum(m, -1).toArray()).toEqual([6, 15]);
    expect(sum(m, 0).toArray()).toEqual([5, 7, 9]);
    expect(sum(m, [0, 1]).item()).toBe(21);
    expect(sum(m, -1, true).toNested()).toEqual([[6], [15]]);
    expect(sum(m, undefined, true).shape).toEqual([1, 1]);
  });
  test("sum keeps int32", () => {
    const s = sum(tensor([[1, 2], [3, 4]], "int32"), 0);
    expect(s.dtype).toBe("int32");
    expect(s.toArray()).toEqual([4, 6]);
  });
  test("mean divides by the number of reduced elements", () => {
    expect(mean(m, 0).toArray()).toEqual([2.5, 3.5, 4.5]);
    expect(mean(m).item()).toBe(3.5);
    expect(mean(m, 1, true).toNested()).toEqual([[2], [5]]);
  });
  test("over a zero-size axis, sum is 0 and mean is NaN", () => {
    const empty = zeros([2, 0]);
    expect(sum(empty, 1).toArray()).toEqual([0, 0]);
    expect(mean(empty, 1).toArray()).toEqual([NaN, NaN]);
    expect(sum(zeros([0, 3]), 1).shape).toEqual([0]);
  });
  test("a bad axis is a ShapeError from the reduce rule", () => {
    expect(() => sum(untyped(m), 2)).toThrow(ShapeError);
    expect(() => sum(untyped(m), 2)).toThrow("sum: axis 2 is out of range for rank 2");
    expect(() => sum(untyped(m), [0, -2])).toThrow("sum: an axis is repeated in [0, -2]");
  });
});

describe("max, min, argmax, argmin", () => {
  const x = tensor([[1, 5, 5], [7, -2, 7]]);
  test("max and min over an axis and over all", () => {
    expect(max(x, 1).toArray()).toEqual([5, 7]);
    expect(min(x, 1).toArray()).toEqual([1, -2]);
    expect(max(x).item()).toBe(7);
    expect(min(x, 0, true).toNested()).toEqual([[1, -2, 5]]);
  });
  test("NaN propagates through max and min", () => {
    const y = tensor([1, NaN, 3]);
    expect(max(y).item()).toBeNaN();
    expect(min(y).item()).toBeNaN();
  });
  test("min of int32 is exact at the int32 limits", () => {
    const y = tensor([-(2 ** 31), 0, 2 ** 31 - 1], "int32");
    expect(min(y).item()).toBe(-(2 ** 31));
    expect(max(y).item()).toBe(2 ** 31 - 1);
    expect(argmin(y).item()).toBe(0);
  });
  test("argmax and argmin give int32 indices of the first extreme", () => {
    const a = argmax(x, -1);
    expect(a.dtype).toBe("int32");
    expect(a.toArray()).toEqual([1, 0]);
    expect(argmin(x, 1).toArray()).toEqual([0, 1]);
    expect(argmax(x, 0).toArray()).toEqual([1, 0, 1]);
    expect(argmax(x, -1, true).toNested()).toEqual([[1], [0]]);
  });
  test("without an axis, argmax indexes the flattened tensor", () => {
    expect(argmax(x).item()).toBe(3);
    expect(argmin(x).item()).toBe(4);
    expect(argmax(x, undefined, true).shape).toEqual([1, 1]);
  });
  test("argmax of an empty axis is a ShapeError", () => {
    expect(() => argmax(zeros([2, 0]), 1)).toThrow(ShapeError);
  });
});

describe("logsumexp", () => {
  test("is stable for large inputs", () => {
    expect(logsumexp(tensor([1000, 1000], "float64")).item()).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logsumexp(tensor([-1000, -1000], "float64")).item()).toBeCloseTo(-1000 + Math.log(2), 12);
  });
  test("of a row of -Infinity is -Infinity, of a +Infinity is +Infinity, of a NaN is NaN", () => {
    const x = tensor([[-Infinity, -Infinity], [Infinity, 1], [NaN, 1], [Infinity, -Infinity]]);
    expect(logsumexp(x, -1).toArray()).toEqual([-Infinity, Infinity, NaN, Infinity]);
  });
  test("over an empty axis is -Infinity", () => {
    expect(logsumexp(zeros([2, 0]), 1).toArray()).toEqual([-Infinity, -Infinity]);
  });
  test("keepDims keeps the reduced axis", () => {
    const y = logsumexp(tensor([[0, 0], [1, 1]], "float64"), 1, true);
    expect(y.shape).toEqual([2, 1]);
    expect(y.toArray()[1]).toBeCloseTo(1 + Math.log(2), 14);
  });
});

describe("softmax and logSoftmax", () => {
  test("softmax rows sum to 1 and are stable for logits of 1000", () => {
    const p = softmax(tensor([[1000, 1000, 1000], [1000, 0, -1000], [1, 2, 3]], "float64"));
    for (const row of p.toNested()) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(p.toNested()[0]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(p.toNested()[1]).toEqual([1, 0, 0]);
    expect(p.toArray().every((v) => Number.isFinite(v))).toBe(true);
  });
  test("softmax over another axis", () => {
    const p = softmax(tensor([[0, 1], [0, 1]]), 0);
    expect(p.toNested()).toEqual([[0.5, 0.5], [0.5, 0.5]]);
  });
  test("logSoftmax of extreme logits is finite", () => {
    expect(logSoftmax(tensor([0, -1000])).toArray()).toEqual([0, -1000]);
    expect(logSoftmax(tensor([1000, -1000])).toArray()).toEqual([0, -2000]);
  });
  test("logSoftmax is log of softmax", () => {
    const x = tensor([0.5, -1, 2], "float64");
    const direct = softmax(x).toArray().map(Math.log);
    logSoftmax(x).toArray().forEach((v, i) => expect(v).toBeCloseTo(direct[i] ?? 0, 14));
  });
  test("masked logits of -Infinity get probability 0", () => {
    expect(softmax(tensor([0, -Infinity])).toArray()).toEqual([1, 0]);
    expect(logSoftmax(tensor([0, -Infinity])).toArray()).toEqual([0, -Infinity]);
  });
  test("zero-size dims keep their shape", () => {
    expect(softmax(zeros([0, 3])).shape).toEqual([0, 3]);
  });
});

describe("variance and norm", () => {
  test("variance is the mean squared deviation", () => {
    expect(variance(tensor([1, 2, 3, 4])).item()).toBe(1.25);
    expect(variance(tensor([[1, 3], [2, 2]]), 1).toArray()).toEqual([1, 0]);
  });
  test("variance does not cancel for a large offset", () => {
    expect(variance(tensor([1e9 + 1, 1e9 + 3], "float64")).item()).toBe(1);
  });
  test("norm is the Euclidean length", () => {
    expect(norm(tensor([3, 4])).item()).toBe(5);
    expect(norm(tensor([[3, 4], [6, 8]]), -1).toArray()).toEqual([5, 10]);
    expect(norm(zeros([0])).item()).toBe(0);
  });
});

describe("the doc examples", () => {
  const x = tensor([[1, 5], [7, 2]]);
  test("run as written", () => {
    expect(sum(tensor([[1, 2], [3, 4]]), -1).toArray()).toEqual([3, 7]);
    expect(mean(tensor([[1, 2], [3, 4]]), 0).toArray()).toEqual([2, 3]);
    expect(max(x, 1).toArray()).toEqual([5, 7]);
    expect(min(x, 1).toArray()).toEqual([1, 2]);
    expect(argmax(x, -1).toArray()).toEqual([1, 0]);
    expect(argmin(x, -1).toArray()).toEqual([0, 1]);
    expect(logsumexp(tensor([1000, 1000])).item()).toBeCloseTo(1000.6931, 3);
    expect(softmax(tensor([[1000, 1000]])).toNested()).toEqual([[0.5, 0.5]]);
    expect(logSoftmax(tensor([0, -1000])).toArray()).toEqual([0, -1000]);
    expect(variance(tensor([1, 2, 3, 4])).item()).toBe(1.25);
    expect(norm(tensor([3, 4])).item()).toBe(5);
  });
});

describe("maskedSoftmax", () => {
  test("gives masked entries weight 0 and the rest a softmax among themselves", () => {
    expect(maskedSoftmax(tensor([[1, 1, 5]]), [tensor([[true, true, false]], "bool")]).toNested()).toEqual([[0.5, 0.5, 0]]);
  });

  test("gives a row with no entry allowed zeros, and equals softmax without masks", () => {
    expect(maskedSoftmax(tensor([[1, 2]]), [tensor([[false, false]], "bool")]).toNested()).toEqual([[0, 0]]);
    expect(maskedSoftmax(tensor([[0, 0]]), []).toNested()).toEqual([[0.5, 0.5]]);
  });
});
