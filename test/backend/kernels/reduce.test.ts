import { describe, expect, test } from "vitest";
import { ShapeError } from "../../../src/core/errors.js";
import { argReduce, reduce } from "../../../src/backend/kernels/reduce.js";

/** 0, 1, 2, ... as float64 over `size` elements. */
const iota = (size: number): Float64Array => Float64Array.from({ length: size }, (_, i) => i);

describe("reduce", () => {
  test("the example of the doc comment sums each row", () => {
    expect(Array.from(reduce("sum", new Float64Array(2), Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3], 1))).toEqual([6, 15]);
  });

  test("a sum over the outermost axis adds the rows", () => {
    expect(Array.from(reduce("sum", new Float64Array(3), iota(6), [2, 3], 0))).toEqual([3, 5, 7]);
  });

  test("a sum over a middle axis keeps the axes on both sides", () => {
    // x[i, j, k] = 12 i + 4 j + k over [2, 3, 4]; summing j gives 36 i + 12 + 3 k
    const out = reduce("sum", new Float64Array(8), iota(24), [2, 3, 4], 1);
    expect(Array.from(out)).toEqual([12, 15, 18, 21, 48, 51, 54, 57]);
  });

  test("a sum over axes that are not neighbours gathers each output's elements", () => {
    // x[i, j, k] = 12 i + 4 j + k over [2, 3, 4]; summing i and k gives 60 + 32 j
    expect(Array.from(reduce("sum", new Float64Array(3), iota(24), [2, 3, 4], [0, 2]))).toEqual([60, 92, 124]);
  });

  test("no axes reduces everything, and negative axes count from the end", () => {
    expect(Array.from(reduce("max", new Float64Array(1), Float64Array.of(3, 9, 2, 4), [2, 2]))).toEqual([9]);
    expect(Array.from(reduce("min", new Float64Array(2), Float64Array.of(3, 9, 2, 4), [2, 2], -1))).toEqual([3, 2]);
    expect(Array.from(reduce("prod", new Float64Array(2), Float64Array.of(3, 9, 2, 4), [2, 2], -2))).toEqual([6, 36]);
  });

  test("size-1 dims change nothing, kept or reduced", () => {
    expect(Array.from(reduce("sum", new Float64Array(2), iota(6), [1, 2, 1, 3, 1], [0, 3]))).toEqual([3, 12]);
    expect(Array.from(reduce("sum", new Float64Array(6), iota(6), [2, 1, 3], 1))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("a float32 sum accumulates in float64 and rounds once", () => {
    // In float32 arithmetic 2^24 + 1 is 2^24 again, so a float32 running sum would stay at 2^24.
    const x = Float32Array.of(2 ** 24, 1, 1, 1, 1);
    expect(Array.from(reduce("sum", new Float32Array(1), x, [5], 0))).toEqual([2 ** 24 + 4]);
    expect(Array.from(reduce("sum", new Float32Array(1), Float32Array.of(2 ** 24, 1, 1, 1, 1).reverse(), [5, 1], 0))).toEqual([2 ** 24 + 4]);
  });

  test("NaN propagates through max and min, on every path", () => {
    const x = Float64Array.of(1, Number.NaN, 3, 4, 5, 6);
    expect(Array.from(reduce("max", new Float64Array(2), x, [2, 3], 1))).toEqual([Number.NaN, 6]);
    expect(Array.from(reduce("min", new Float64Array(3), x, [2, 3], 0))).toEqual([1, Number.NaN, 3]);
    expect(Array.from(reduce("max", new Float64Array(1), x, [2, 1, 3], [0, 2]))).toEqual([Number.NaN]);
  });

  test("empty reductions give the identity: 0, 1, -Infinity, +Infinity (int32 limits for int32)", () => {
    const empty = new Float64Array(0);
    expect(Array.from(reduce("sum", new Float64Array(2), empty, [2, 0], 1))).toEqual([0, 0]);
    expect(Array.from(reduce("prod", new Float64Array(2), empty, [2, 0], 1))).toEqual([1, 1]);
    expect(Array.from(reduce("max", new Float64Array(2), empty, [2, 0], 1))).toEqual([-Infinity, -Infinity]);
    expect(Array.from(reduce("min", new Int32Array(2), new Int32Array(0), [0, 2], 0))).toEqual([2 ** 31 - 1, 2 ** 31 - 1]);
    expect(Array.from(reduce("max", new Int32Array(1), new Int32Array(0), [0]))).toEqual([-(2 ** 31)]);
  });

  test("int32 sums wrap like int32 stores", () => {
    expect(Array.from(reduce("sum", new Int32Array(1), Int32Array.of(2 ** 31 - 1, 1), [2]))).toEqual([-(2 ** 31)]);
  });

  test("an output too small or a repeated axis is a ShapeError", () => {
    expect(() => reduce("sum", new Float64Array(1), iota(6), [2, 3], 1)).toThrow(ShapeError);
    expect(() => reduce("sum", new Float64Array(6), iota(6), [2, 3], [1, -1])).toThrow(ShapeError);
  });
});

describe("argReduce", () => {
  test("the example of the doc comment finds the first maximum of each row", () => {
    expect(Array.from(argReduce("argmax", new Int32Array(2), Float64Array.of(1, 9, 9, 4, 0, 4), [2, 3], -1))).toEqual([1, 0]);
  });

  test("argmin takes the first minimum on ties, down columns as well as along rows", () => {
    const x = Float64Array.of(2, 1, 1, 0, 1, 0);
    expect(Array.from(argReduce("argmin", new Int32Array(2), x, [2, 3], 1))).toEqual([1, 0]);
    expect(Array.from(argReduce("argmin", new Int32Array(3), x, [2, 3], 0))).toEqual([1, 0, 1]);
  });

  test("the first NaN wins argmax and argmin, as in NumPy", () => {
    const x = Float64Array.of(1, Number.NaN, 5, Number.NaN);
    expect(Array.from(argReduce("argmax", new Int32Array(1), x, [4], 0))).toEqual([1]);
    expect(Array.from(argReduce("argmin", new Int32Array(1), x, [4], 0))).toEqual([1]);
    expect(Array.from(argReduce("argmax", new Int32Array(2), x, [2, 2], 0))).toEqual([1, 0]);
  });

  test("over several axes the index counts row-major over the reduced axes", () => {
    // [2, 2, 2] over axes 0 and 2: output j reads x[i, j, k] at index 2 i + k
    const x = Float64Array.of(0, 1, 2, 3, 9, 5, 6, 7);
    expect(Array.from(argReduce("argmax", new Int32Array(2), x, [2, 2, 2], [0, 2]))).toEqual([2, 3]);
  });

  test("an argmax over no elements is a ShapeError, but an empty output is fine", () => {
    expect(() => argReduce("argmax", new Int32Array(2), new Float64Array(0), [2, 0], 1)).toThrow(ShapeError);
    expect(Array.from(argReduce("argmax", new Int32Array(0), new Float64Array(0), [0, 3], 1))).toEqual([]);
  });
});
