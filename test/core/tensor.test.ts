import { describe, expect, test } from "vitest";
import { arange, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import { formatTensor } from "../../src/core/format.js";

describe("Tensor", () => {
  test("a tensor knows its rank and size", () => {
    const x = zeros([2, 3, 4]);
    expect(x.rank).toBe(3);
    expect(x.size).toBe(24);
    expect(zeros([]).size).toBe(1);
    expect(zeros([3, 0]).size).toBe(0);
  });

  test("the shape of a tensor is a frozen copy", () => {
    const shape = [2, 3];
    const x = zeros(shape);
    shape[0] = 5;
    expect(x.shape).toEqual([2, 3]);
    expect(Object.isFrozen(x.shape)).toBe(true);
  });

  test("toArray lists the elements row-major, as booleans for bool", () => {
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([1, 2, 3, 4]);
    expect(tensor([[true], [false]]).toArray()).toEqual([true, false]);
    expect(zeros([0, 2]).toArray()).toEqual([]);
  });

  test("toNested nests the elements one level per dim", () => {
    expect(arange(6).toNested()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tensor([[[1, 2]], [[3, 4]]]).toNested()).toEqual([[[1, 2]], [[3, 4]]]);
    expect(tensor([[true, false]]).toNested()).toEqual([[true, false]]);
  });

  test("toNested of a rank-0 tensor is its element", () => {
    expect(tensor(7).toNested()).toBe(7);
  });

  test("toNested keeps the dims before a zero dim and drops the ones after it", () => {
    expect(zeros([2, 0]).toNested()).toEqual([[], []]);
    expect(zeros([2, 0, 3]).toNested()).toEqual([[], []]);
    expect(zeros([0, 3]).toNested()).toEqual([]);
  });

  test("item reads the one element of a tensor of size 1, at any rank", () => {
    expect(tensor(2.5).item()).toBe(2.5);
    expect(tensor([[[4]]], "int32").item()).toBe(4);
    expect(tensor([true]).item()).toBe(true);
  });

  test("item throws a ShapeError for a tensor of another size", () => {
    expect(() => arange(2).item()).toThrow(ShapeError);
    expect(() => arange(2).item()).toThrow("item: a tensor of shape [2] has 2 elements, not 1");
    expect(() => zeros([0]).item()).toThrow("item: a tensor of shape [0] has 0 elements, not 1");
  });

  test("toString is the NumPy-style repr", () => {
    const x = tensor([1, 2]);
    expect(x.toString()).toBe(formatTensor(x));
    expect(`${x}`).toBe("tensor([1., 2.], dtype=float32)");
  });
});
