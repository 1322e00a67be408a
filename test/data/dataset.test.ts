import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { assertBatch, dataset, fromArrays, type Dataset } from "../../src/data/dataset.js";

describe("dataset", () => {
  test("pairs inputs and targets with the same number of examples", () => {
    const x = zeros([4, 3]);
    const y = zeros([4], "int32");
    const ds = dataset(x, y);
    expect(ds.x).toBe(x);
    expect(ds.y).toBe(y);
  });

  test("throws a ShapeError naming both lengths when they differ", () => {
    const x: Tensor<Shape> = zeros([4, 3]);
    const y: Tensor<Shape, "int32"> = zeros([5], "int32");
    expect(() => dataset(x, y)).toThrow(ShapeError);
    expect(() => dataset(x, y)).toThrow("dataset: x has 4 examples but y has 5 (shapes [4, 3] and [5])");
  });

  test("refuses rank-0 inputs or targets", () => {
    const scalar: Tensor<Shape> = zeros([]);
    expect(() => dataset(scalar, zeros([1], "int32"))).toThrow("dataset: x needs a first dim");
    const scalarLabel: Tensor<Shape, "int32"> = zeros([], "int32");
    expect(() => dataset(zeros([1, 2]), scalarLabel)).toThrow("dataset: y needs a first dim");
  });
});

describe("fromArrays", () => {
  test("reads flat data with a symbolic number of examples as float32 inputs and int32 labels", () => {
    const ds = fromArrays(new Float32Array(12).fill(0.5), ["n", 2, 2], [0, 1, 2], ["n"]);
    expect(E.isRight(ds)).toBe(true);
    if (E.isLeft(ds)) return;
    expect(ds.right.x.shape).toEqual([3, 2, 2]);
    expect(ds.right.x.dtype).toBe("float32");
    expect(ds.right.y.dtype).toBe("int32");
    expect(ds.right.y.toArray()).toEqual([0, 1, 2]);
  });

  test("takes other dtypes when asked", () => {
    const ds = fromArrays([1, 2, 3, 4], [2, 2], [0.5, 1.5], [2], { xDType: "float64", yDType: "float32" });
    expect(E.isRight(ds) && [ds.right.x.dtype, ds.right.y.dtype]).toEqual(["float64", "float32"]);
  });

  test("gives a Left, never a throw, for inputs and labels of different lengths", () => {
    const yShape: Shape = ["n"]; // a shape known at run time only, as from a file
    const ds = fromArrays(new Float32Array(8), ["n", 4], [0, 1, 2], yShape);
    expect(E.isLeft(ds) && ds.left.message).toBe("fromArrays: x has 2 examples but y has 3 (shapes [2, 4] and [3])");
  });

  test("gives a Left naming x or y for malformed data", () => {
    const badX = fromArrays(new Float32Array(7), ["n", 4], [0], ["n"]);
    expect(E.isLeft(badX) && badX.left.message).toMatch(/^fromArrays: x: fromArray: /);
    const badY = fromArrays(new Float32Array(4), ["n", 4], [0.5], ["n"]);
    expect(E.isLeft(badY) && badY.left.message).toMatch(/^fromArrays: y: fromArray: /);
    expect(E.isLeft(badY) && badY.left).toBeInstanceOf(ShapeError);
  });
});

describe("assertBatch", () => {
  const batch: Dataset<Shape, Shape> = { x: zeros([8, 28, 28, 1]), y: zeros([8], "int32") };

  test("retypes a batch of the expected shapes, binding a symbolic dim across x and y", () => {
    const b = assertBatch(batch, ["batch", 28, 28, 1], ["batch"]);
    expect(b.x.shape).toEqual([8, 28, 28, 1]);
  });

  test("refuses images of the wrong shape with a ShapeError naming both shapes", () => {
    const wrong: Dataset<Shape, Shape> = { x: zeros([8, 28, 28, 3]), y: zeros([8], "int32") };
    expect(() => assertBatch(wrong, ["batch", 28, 28, 1], ["batch"])).toThrow(
      'assertBatch: x has shape [8, 28, 28, 3] but ["batch", 28, 28, 1] is expected',
    );
  });

  test("refuses targets whose symbolic dim is bound to another size", () => {
    const wrong: Dataset<Shape, Shape> = { x: zeros([8, 28, 28, 1]), y: zeros([8, 2], "int32") };
    expect(() => assertBatch(wrong, ["batch", 28, 28, 1], ["batch"])).toThrow(ShapeError);
    const ragged: Dataset<Shape, Shape> = { x: zeros([3, 2]), y: tensor([0, 1, 2, 3], "int32") };
    expect(() => assertBatch(ragged, ["b", 2], ["b"])).toThrow("assertBatch: x has 3 examples but y has 4");
    // the dtypes, when named: float32 labels where int32 class indices are expected
    const floatLabels = { x: zeros([2, 28, 28, 1]), y: zeros([2]) } as unknown as Dataset<Shape, Shape, "float32", "int32">; // a mislabelled batch, as untyped data could give
    expect(() => assertBatch(floatLabels, ["batch", 28, 28, 1], ["batch"], { x: "float32", y: "int32" })).toThrow("assertBatch: y has dtype float32 but int32 is expected");
  });
});

describe("the doc examples run", () => {
  test("dataset, fromArrays, assertBatch", () => {
    const ds = dataset(zeros([100, 784]), zeros([100], "int32"));
    expect([ds.x.shape, ds.y.shape]).toEqual([[100, 784], [100]]);
    const pixels = new Float32Array(3 * 784);
    const read = fromArrays(pixels, ["n", 28, 28, 1], [7, 2, 1], ["n"]);
    expect(E.isRight(read) && read.right.x.shape).toEqual([3, 28, 28, 1]);
    const batch: Dataset<Shape, Shape> = { x: zeros([2, 28, 28, 1]), y: zeros([2], "int32") };
    expect(assertBatch(batch, ["batch", 28, 28, 1], ["batch"]).y.shape).toEqual([2]);
  });
});
