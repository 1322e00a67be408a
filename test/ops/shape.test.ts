import { describe, expect, test } from "vitest";
import { arange, ones, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { broadcastTo } from "../../src/ops/broadcast.js";
import {
  concat,
  expandDims,
  flatten,
  oneHot,
  pad,
  take,
  repeat,
  reshape,
  slice,
  squeeze,
  stack,
  swapAxes,
  tile,
  transpose,
} from "../../src/ops/shape.js";

/** A tensor typed with an unknown shape, so that only the run-time rule checks it. */
const untyped = (x: Tensor<readonly number[]>): Tensor<number[]> => x as Tensor<number[]>; // the same tensor, its shape type widened

const m = tensor([[1, 2, 3], [4, 5, 6]]);

describe("reshape and flatten", () => {
  test("reshape infers one -1", () => {
    const y = reshape(arange(6), [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.toNested()).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(reshape(zeros([0, 3]), [3, 0]).shape).toEqual([3, 0]);
  });
  test("reshape to sizes that differ is a ShapeError naming reshape", () => {
    expect(() => reshape(untyped(m), [4, 2])).toThrow("reshape: cannot reshape [2, 3] into [4, 2]: the sizes differ");
  });
  test("flatten keeps the first axis by default", () => {
    expect(flatten(zeros([4, 7, 7, 64])).shape).toEqual([4, 3136]);
    expect(flatten(zeros([2, 3, 4]), 0).shape).toEqual([24]);
    expect(flatten(zeros([2, 3, 4, 5]), 1, 2).shape).toEqual([2, 12, 5]);
  });
});

describe("transpose and swapAxes", () => {
  test("transpose reverses the axes by default", () => {
    expect(transpose(m).toNested()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });
  test("transpose permutes by perm, negative axes included", () => {
    const x = reshape(arange(24), [2, 3, 4]);
    const y = transpose(x, [-1, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.toNested()[3]?.[1]?.[2]).toBe(x.toNested()[1]?.[2]?.[3]);
    expect(transpose(x, [0, 1, 2])).toBe(x);
  });
  test("a perm that is not a permutation is a ShapeError from the permute rule", () => {
    expect(() => transpose(untyped(m), [0, 0])).toThrow("transpose: [0, 0] is not a permutation of the axes of [2, 3]");
  });
  test("swapAxes exchanges two axes", () => {
    expect(swapAxes(zeros([2, 3, 4]), 0, -1).shape).toEqual([4, 3, 2]);
    expect(swapAxes(m, 0, 1).toNested()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(() => swapAxes(untyped(m), 0, 2)).toThrow("swapAxes: axis 2 is out of range for rank 2");
  });
});

describe("squeeze and expandDims", () => {
  test("squeeze removes size-1 axes", () => {
    expect(squeeze(zeros([2, 1, 3, 1])).shape).toEqual([2, 3]);
    expect(squeeze(zeros([2, 1, 3, 1]), 1).shape).toEqual([2, 3, 1]);
    expect(squeeze(zeros([2, 1, 3, 1]), [-1, 1]).shape).toEqual([2, 3]);
    expect(() => squeeze(untyped(zeros([2, 3])), 0)).toThrow("squeeze: axis 0 of [2, 3] has size 2, not 1");
  });
  test("expandDims inserts a size-1 axis", () => {
    expect(expandDims(zeros([2, 3]), 0).shape).toEqual([1, 2, 3]);
    expect(expandDims(zeros([2, 3]), -1).shape).toEqual([2, 3, 1]);
  });
});

describe("concat and stack", () => {
  test("concat joins along an axis", () => {
    expect(concat([m, tensor([[7, 8, 9]])]).toNested()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(concat([m, zeros([2, 0]), ones([2, 1])], -1).toNested()).toEqual([[1, 2, 3, 1], [4, 5, 6, 1]]);
    expect(concat([m])).toBe(m);
  });
  test("concat of shapes that do not fit, or of dtypes that differ, is a ShapeError naming concat", () => {
    expect(() => concat([untyped(m), untyped(zeros([3, 3]))], 1)).toThrow("concat: shapes [2, 3] and [3, 3] differ at axis 0 (dims 2 and 3)");
    const f64 = tensor([[1, 2, 3]], "float64") as unknown as Tensor<[1, 3]>; // a float64 tensor typed as float32 to reach the run-time check
    expect(() => concat([m, f64])).toThrow(/^concat: operands of different dtypes do not mix/);
  });
  test("stack adds an axis", () => {
    expect(stack([tensor([1, 2]), tensor([3, 4])]).toNested()).toEqual([[1, 2], [3, 4]]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], -1).toNested()).toEqual([[1, 3], [2, 4]]);
    expect(() => stack([untyped(zeros([2])), untyped(zeros([3]))])).toThrow("stack: shapes [2] and [3] differ");
  });
});

describe("slice", () => {
  const x = reshape(arange(24), [2, 3, 4]);
  test("an index removes the axis", () => {
    const y = slice(x, [1, null, -1]);
    expect(y.shape).toEqual([3]);
    expect(y.toArray()).toEqual([15, 19, 23]);
  });
  test("ranges follow Python: clamped bounds, negative steps", () => {
    expect(slice(arange(10), [{ start: 8, stop: 2, step: -3 }]).toArray()).toEqual([8, 5]);
    expect(slice(arange(5), [{ step: -1 }]).toArray()).toEqual([4, 3, 2, 1, 0]);
    expect(slice(arange(5), [{ start: -2, stop: 100 }]).toArray()).toEqual([3, 4]);
    expect(slice(arange(5), [{ start: 3, stop: 1 }]).shape).toEqual([0]);
    expect(slice(x, [null, { start: 1 }]).shape).toEqual([2, 2, 4]);
  });
  test("an index out of range is a ShapeError naming slice", () => {
    expect(() => slice(untyped(arange(3)), [3])).toThrow("slice: index 3 is out of range for axis 0 of size 3");
  });
  test("a whole slice is the tensor itself", () => {
    expect(slice(x, [null, {}])).toBe(x);
  });
});

describe("broadcastTo, tile, repeat, pad", () => {
  test("broadcastTo stretches size-1 and missing dims", () => {
    expect(broadcastTo(tensor([[1], [2]]), [2, 3]).toNested()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(broadcastTo(tensor([1, 2]), [2, 2]).toNested()).toEqual([[1, 2], [1, 2]]);
    expect(broadcastTo(zeros([1, 3]), [0, 3]).shape).toEqual([0, 3]);
    expect(() => broadcastTo(untyped(zeros([2, 3])), [4, 3])).toThrow("broadcastTo: cannot broadcast [2, 3] to [4, 3] (dims 2 and 4 differ)");
    expect(() => broadcastTo(untyped(zeros([2, 3])), [3])).toThrow("broadcastTo: cannot broadcast [2, 3] to [3] of lower rank");
  });
  test("tile repeats the whole tensor along each axis", () => {
    expect(tile(tensor([1, 2]), [3]).toArray()).toEqual([1, 2, 1, 2, 1, 2]);
    expect(tile(tensor([[1, 2]]), [2, 2]).toNested()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(tile(tensor([1, 2]), [0]).shape).toEqual([0]);
    expect(() => tile(untyped(zeros([2])), [1, 2])).toThrow("tile: 2 repetition counts for [2] of rank 1");
  });
  test("repeat repeats each element in a row", () => {
    expect(repeat(tensor([1, 2]), 2, 0).toArray()).toEqual([1, 1, 2, 2]);
    expect(repeat(m, 2, 0).toNested()).toEqual([[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]]);
    expect(() => repeat(untyped(m), -1, 0)).toThrow("repeat: repetition count -1 is not a non-negative integer");
  });
  test("pad adds constant borders", () => {
    expect(pad(tensor([1, 2]), [[1, 2]]).toArray()).toEqual([0, 1, 2, 0, 0]);
    expect(pad(tensor([[1]]), [[1, 0], [0, 1]], 9).toNested()).toEqual([[9, 9], [1, 9]]);
    expect(pad(zeros([0]), [[1, 1]]).toArray()).toEqual([0, 0]);
    expect(() => pad(untyped(zeros([2])), [[0, 0], [1, 1]])).toThrow("pad: 2 widths for [2] of rank 1");
    expect(() => pad(untyped(zeros([2])), [[-1, 0]])).toThrow("pad: width -1 of axis 0 is not a non-negative integer");
  });
});

describe("oneHot", () => {
  test("makes one-hot rows of the requested dtype", () => {
    const y = oneHot(tensor([2, 0], "int32"), 3);
    expect(y.dtype).toBe("float32");
    expect(y.toNested()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(oneHot(tensor([[1]], "int32"), 2, "int32").toNested()).toEqual([[[0, 1]]]);
  });
  test("an index out of range gives a row of zeros, as in TensorFlow", () => {
    expect(oneHot(tensor([-1, 3, 1], "int32"), 3).toNested()).toEqual([[0, 0, 0], [0, 0, 0], [0, 1, 0]]);
  });
  test("zero depth and zero indices give empty shapes", () => {
    expect(oneHot(tensor([1, 2], "int32"), 0).shape).toEqual([2, 0]);
    expect(oneHot(zeros([0], "int32"), 4).shape).toEqual([0, 4]);
  });
  test("float indices are refused", () => {
    const f = tensor([1]) as unknown as Tensor<[1], "int32">; // float32 typed as int32 to reach the run-time check
    expect(() => oneHot(f, 2)).toThrow(ShapeError);
  });
});

describe("the doc examples", () => {
  test("run as written", () => {
    expect(reshape(zeros([2, 3, 4]), [4, -1]).shape).toEqual([4, 6]);
    expect(flatten(zeros([32, 7, 7, 64])).shape).toEqual([32, 3136]);
    expect(squeeze(zeros([2, 1, 3]), 1).shape).toEqual([2, 3]);
    expect(expandDims(zeros([2, 3]), 0).shape).toEqual([1, 2, 3]);
    expect(transpose(zeros([2, 3, 4]), [2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(swapAxes(zeros([2, 3, 4]), 0, -1).shape).toEqual([4, 3, 2]);
    expect(concat([zeros([2, 3]), ones([2, 5])], -1).shape).toEqual([2, 8]);
    expect(stack([zeros([3]), ones([3])]).shape).toEqual([2, 3]);
    expect(slice(arange(10), [{ start: 8, stop: 2, step: -3 }]).toArray()).toEqual([8, 5]);
    expect(pad(tensor([1, 2]), [[1, 2]]).toArray()).toEqual([0, 1, 2, 0, 0]);
    expect(tile(tensor([1, 2]), [3]).toArray()).toEqual([1, 2, 1, 2, 1, 2]);
    expect(repeat(tensor([1, 2]), 2, 0).toArray()).toEqual([1, 1, 2, 2]);
    expect(oneHot(tensor([2, 0], "int32"), 3).toNested()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(broadcastTo(tensor([[1], [2]]), [2, 3]).toNested()).toEqual([[1, 1, 1], [2, 2, 2]]);
  });
});

describe("take", () => {
  test("takes the rows at the indices: the indices' shape, then a row's shape", () => {
    const rows = take(tensor([[1, 2], [3, 4], [5, 6]]), tensor([2, 0], "int32"));
    expect(rows.shape).toEqual([2, 2]);
    expect(rows.toNested()).toEqual([[5, 6], [1, 2]]);
    expect(take(tensor([[1, 2], [3, 4], [5, 6]]), tensor([[1, 1]], "int32")).toNested()).toEqual([[[3, 4], [3, 4]]]);
  });

  test("an index out of range is a ShapeError", () => {
    expect(() => take(tensor([[1, 2]]), tensor([1], "int32"))).toThrow(ShapeError);
  });
});
