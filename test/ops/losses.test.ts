import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { accuracy, huber, mse, sigmoidBinaryCrossEntropy, softmaxCrossEntropy } from "../../src/ops/losses.js";
import { mean } from "../../src/ops/reduce.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";

describe("softmaxCrossEntropy", () => {
  test("with int32 labels is -log softmax at the label, per example", () => {
    const loss = softmaxCrossEntropy(tensor([[0, 0], [0, Math.log(3)]], "float64"), tensor([0, 1], "int32"));
    expect(loss.shape).toEqual([2]);
    expect(loss.toArray()[0]).toBeCloseTo(Math.log(2), 14);
    expect(loss.toArray()[1]).toBeCloseTo(-Math.log(3 / 4), 14);
  });
  test("with one-hot or soft labels is -sum p log q", () => {
    const logits = tensor([[0, 0], [0, Math.log(3)]], "float64");
    const hot = softmaxCrossEntropy(logits, tensor([[1, 0], [0, 1]], "float64"));
    expect(hot.toArray()[1]).toBeCloseTo(-Math.log(3 / 4), 14);
    const soft = softmaxCrossEntropy(logits, tensor([[0.5, 0.5], [0.5, 0.5]], "float64"));
    expect(soft.toArray()[0]).toBeCloseTo(Math.log(2), 14);
  });
  test("extreme logits give finite losses", () => {
    const logits = tensor([[1000, -1000], [-1000, 1000]]);
    expect(softmaxCrossEntropy(logits, tensor([1, 1], "int32")).toArray()).toEqual([2000, 0]);
    expect(softmaxCrossEntropy(logits, tensor([[0, 1], [0, 1]])).toArray()).toEqual([2000, 0]);
  });
  test("a masked class of -Infinity does not make the loss NaN", () => {
    const logits = tensor([[0, -Infinity]]);
    expect(softmaxCrossEntropy(logits, tensor([0], "int32")).toArray()).toEqual([0]);
    expect(softmaxCrossEntropy(logits, tensor([[1, 0]])).toArray()).toEqual([0]);
  });
  test("a label out of range gives NaN, not 0", () => {
    expect(softmaxCrossEntropy(tensor([[0, 0], [0, 0]]), tensor([2, -1], "int32")).toArray()).toEqual([NaN, NaN]);
  });
  test("a label out of range makes that example's gradient NaN, eagerly and under jit; the others stay exact", () => {
    const labels = tensor([1, 5, 0], "int32");
    const loss = (logits: Tensor<[3, 2], "float64">) => mean(softmaxCrossEntropy(logits, labels));
    const logits = tensor([[0, 0], [1, 2], [0, Math.log(3)]], "float64");
    for (const g of [grad(loss)(logits), jit(grad(loss))(logits)]) {
      const rows = g.toNested();
      expect(rows[1]).toEqual([NaN, NaN]);
      // d/dlogits mean(-log softmax[label]) = (softmax - onehot) / 3 on the good rows
      expect(rows[0]?.[0]).toBeCloseTo(0.5 / 3, 14);
      expect(rows[2]?.[0]).toBeCloseTo((0.25 - 1) / 3, 14);
    }
  });
  test("batch dims of any rank, zero-size ones included", () => {
    expect(softmaxCrossEntropy(zeros([2, 3, 4]), zeros([2, 3], "int32")).shape).toEqual([2, 3]);
    expect(softmaxCrossEntropy(zeros([0, 4]), zeros([0], "int32")).shape).toEqual([0]);
  });
  test("labels that do not fit the logits are a ShapeError naming the op", () => {
    const logits = zeros([2, 3]) as Tensor<[number, number]>; // dims typed number: only the run-time rule checks them
    expect(() => softmaxCrossEntropy(logits, zeros([3], "int32"))).toThrow(ShapeError);
    expect(() => softmaxCrossEntropy(logits, zeros([3], "int32"))).toThrow("softmaxCrossEntropy: labels of shape [3] do not fit logits of shape [2, 3]");
  });
});

describe("sigmoidBinaryCrossEntropy", () => {
  test("is -z log sigmoid(x) - (1 - z) log sigmoid(-x)", () => {
    const loss = sigmoidBinaryCrossEntropy(tensor([0, 2], "float64"), tensor([1, 0.25], "float64")).toArray();
    expect(loss[0]).toBeCloseTo(Math.log(2), 14);
    const s = 1 / (1 + Math.exp(-2));
    expect(loss[1]).toBeCloseTo(-(0.25 * Math.log(s) + 0.75 * Math.log(1 - s)), 14);
  });
  test("extreme logits give finite losses", () => {
    const loss = sigmoidBinaryCrossEntropy(tensor([1000, -1000, 1000, -1000]), tensor([0, 0, 1, 1]));
    expect(loss.toArray()).toEqual([1000, 0, 0, 1000]);
  });
  test("shapes that do not broadcast are a ShapeError naming the op", () => {
    const x = zeros([2]) as Tensor<number[]>; // an unknown shape: only the run-time rule checks it
    expect(() => sigmoidBinaryCrossEntropy(x, zeros([3]) as Tensor<number[]>)).toThrow(/^sigmoidBinaryCrossEntropy: shapes \[2\] and \[3\] do not broadcast/);
  });
});

describe("mse and huber", () => {
  test("mse is the squared error, and its mean the mean squared error", () => {
    expect(mse(tensor([1, 2]), tensor([3, 2])).toArray()).toEqual([4, 0]);
    expect(mean(mse(tensor([[1, 2]]), tensor([3, 2]))).item()).toBe(2);
  });
  test("huber is quadratic within delta and linear beyond", () => {
    expect(huber(tensor([0.5, 3, -3]), tensor([0, 0, 0])).toArray()).toEqual([0.125, 2.5, 2.5]);
    expect(huber(tensor([3]), tensor([0]), 2).toArray()).toEqual([4]);
  });
  test("mse of shapes that do not broadcast is a ShapeError naming mse", () => {
    expect(() => mse(zeros([2]) as Tensor<number[]>, zeros([3]) as Tensor<number[]>)).toThrow(/^mse: shapes/);
  });
});

describe("the doc examples", () => {
  test("run as written", () => {
    expect(softmaxCrossEntropy(tensor([[1000, -1000]]), tensor([1], "int32")).toArray()).toEqual([2000]);
    expect(sigmoidBinaryCrossEntropy(tensor([1000, -1000]), tensor([0, 0])).toArray()).toEqual([1000, 0]);
    expect(mse(tensor([1, 2]), tensor([3, 2])).toArray()).toEqual([4, 0]);
    expect(huber(tensor([0.5, 3]), tensor([0, 0])).toArray()).toEqual([0.125, 2.5]);
  });
});

describe("accuracy", () => {
  const logits = tensor([[2, 1, 0], [0, 3, 1], [1, 1, 0], [0, 0, 5]]);
  test("counts the examples whose largest logit is at the int32 label", () => {
    expect(accuracy(logits, tensor([0, 1, 1, 0], "int32")).item()).toBe(0.5);
    expect(accuracy(logits, tensor([0, 1, 0, 2], "int32")).item()).toBe(1);
  });
  test("reads probabilities by their argmax", () => {
    const hot = tensor([[1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]);
    expect(accuracy(logits, hot).item()).toBe(0.75);
  });
  test("is a float32 scalar, also under a batch prefix", () => {
    const y = accuracy(zeros([2, 3, 4]), zeros([2, 3], "int32"));
    expect([y.shape, y.dtype, y.item()]).toEqual([[], "float32", 1]);
  });
  test("is NaN for a label outside the classes, and for an empty batch", () => {
    expect(accuracy(logits, tensor([0, 1, 0, 3], "int32")).item()).toBeNaN();
    expect(accuracy(logits, tensor([0, 1, 0, -1], "int32")).item()).toBeNaN();
    expect(accuracy(zeros([0, 3]), zeros([0], "int32")).item()).toBeNaN();
  });
  test("refuses labels that do not fit, naming both shapes", () => {
    // the dims widened to `number`, so that the mismatch reaches the run-time check
    expect(() => accuracy(logits as Tensor<[number, number]>, zeros([3], "int32") as Tensor<[number], "int32">)).toThrow(ShapeError);
    expect(() => accuracy(logits as Tensor<[number, number]>, zeros([3], "int32") as Tensor<[number], "int32">)).toThrow("accuracy: labels of shape [3] do not fit logits of shape [4, 3]");
  });
});
