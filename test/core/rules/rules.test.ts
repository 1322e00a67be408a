import { describe, expect, test } from "vitest";
import { ShapeError } from "../../../src/core/errors.js";
import { broadcastShapes } from "../../../src/core/rules/broadcast.js";
import { concatShape, stackShape } from "../../../src/core/rules/concat.js";
import { convOutSize, convTransposeOutSize, poolOutSize, windowPadding } from "../../../src/core/rules/conv.js";
import { matmulShape } from "../../../src/core/rules/matmul.js";
import { permuteShape, transposeShape } from "../../../src/core/rules/permute.js";
import { reduceShape, reducedAxes } from "../../../src/core/rules/reduce.js";
import { flattenShape, reshapeRule, reshapeShape } from "../../../src/core/rules/reshape.js";
import { sliceRule, sliceShape } from "../../../src/core/rules/slice.js";
import { expandDimsShape, squeezeShape } from "../../../src/core/rules/squeeze.js";

/** Calls `f` and returns the message of the ShapeError it throws. */
function shapeErrorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ShapeError) return e.message;
    throw e;
  }
  throw new Error("expected a ShapeError");
}

// Run-time calls below pass shapes as plain number[] where the point is the
// run-time error: the type-level twin would (rightly) refuse the literal.
const dyn = (...s: number[]): number[] => s;

describe("broadcastShapes", () => {
  test("aligns trailing dims and stretches ones", () => {
    expect(broadcastShapes([2, 1, 3], [4, 3])).toEqual([2, 4, 3]);
    expect(broadcastShapes([], [5])).toEqual([5]);
    expect(broadcastShapes([0, 1], [1, 7])).toEqual([0, 7]);
  });
  test("names both shapes and the dims that differ", () => {
    expect(shapeErrorOf(() => broadcastShapes(dyn(2, 3), dyn(4)))).toBe(
      "broadcast: shapes [2, 3] and [4] do not broadcast (dims 3 and 4 differ)",
    );
  });
});

describe("matmulShape", () => {
  test("multiplies matrices, batches and vectors as NumPy does", () => {
    expect(matmulShape([32, 784], [784, 512])).toEqual([32, 512]);
    expect(matmulShape([8, 1, 2, 3], [5, 3, 4])).toEqual([8, 5, 2, 4]);
    expect(matmulShape([3], [3, 4])).toEqual([4]);
    expect(matmulShape([2, 3], [3])).toEqual([2]);
    expect(matmulShape([3], [3])).toEqual([]);
  });
  test("names the inner dims that differ", () => {
    expect(shapeErrorOf(() => matmulShape(dyn(2, 784), dyn(512, 10)))).toBe(
      "matmul: inner dims 784 and 512 differ in [2, 784] and [512, 10]",
    );
  });
  test("refuses rank 0 and batch dims that do not broadcast", () => {
    expect(shapeErrorOf(() => matmulShape(dyn(), dyn(3)))).toMatch(/rank >= 1/);
    expect(shapeErrorOf(() => matmulShape(dyn(2, 1, 3), dyn(3, 3, 4)))).toMatch(/^matmul batch: shapes \[2\] and \[3\]/);
  });
});

describe("permuteShape and transposeShape", () => {
  test("reorders axes, negative axes included", () => {
    expect(permuteShape([2, 3, 4], [2, 0, 1])).toEqual([4, 2, 3]);
    expect(permuteShape([2, 3, 4], [-1, 0, 1])).toEqual([4, 2, 3]);
    expect(transposeShape([2, 3, 4])).toEqual([4, 3, 2]);
  });
  test("refuses what is not a permutation", () => {
    expect(shapeErrorOf(() => permuteShape(dyn(2, 3), dyn(0, 0)))).toBe("permute: [0, 0] is not a permutation of the axes of [2, 3]");
    expect(shapeErrorOf(() => permuteShape(dyn(2, 3), dyn(0)))).toMatch(/not a permutation/);
    expect(shapeErrorOf(() => permuteShape(dyn(2, 3), dyn(0, 2)))).toBe("permute: axis 2 is out of range for rank 2");
  });
});

describe("reshapeShape and flattenShape", () => {
  test("infers one -1 and keeps sizes", () => {
    expect(reshapeShape([2, 3, 4], [4, -1])).toEqual([4, 6]);
    expect(reshapeShape([0, 3], [-1, 3])).toEqual([0, 3]);
    expect(reshapeShape([], [1, 1])).toEqual([1, 1]);
    expect(reshapeShape([50257, 768], [-1])).toEqual([38597376]);
  });
  test("refuses sizes that cannot agree", () => {
    expect(shapeErrorOf(() => reshapeShape(dyn(2, 3), dyn(4)))).toBe("reshape: cannot reshape [2, 3] into [4]: the sizes differ");
    expect(shapeErrorOf(() => reshapeShape(dyn(2, 3), dyn(4, -1)))).toMatch(/no size for -1 fits/);
    expect(shapeErrorOf(() => reshapeShape(dyn(0, 3), dyn(0, -1)))).toMatch(/no size for -1 fits/);
    expect(shapeErrorOf(() => reshapeShape(dyn(6), dyn(-1, -1)))).toBe("reshape: [-1, -1] has more than one -1");
    expect(shapeErrorOf(() => reshapeRule([6], [2.5, -1]))).toBe("reshape: dim 0 of the target is not a size or -1");
  });
  test("flattens all but the first axis by default", () => {
    expect(flattenShape([32, 7, 7, 64])).toEqual([32, 3136]);
    expect(flattenShape([2, 3, 4], 0)).toEqual([24]);
    expect(flattenShape([2, 3, 4, 5], 1, 2)).toEqual([2, 12, 5]);
    expect(shapeErrorOf(() => flattenShape(dyn(2, 3, 4), 2, 1))).toMatch(/start axis 2 is after end axis 1/);
    expect(shapeErrorOf(() => flattenShape(dyn(5)))).toBe("flatten: axis 1 is out of range for rank 1");
  });
});

describe("squeezeShape and expandDimsShape", () => {
  test("removes size-1 axes and inserts them", () => {
    expect(squeezeShape([2, 1, 3, 1])).toEqual([2, 3]);
    expect(squeezeShape([2, 1, 3, 1], [-1])).toEqual([2, 1, 3]);
    expect(expandDimsShape([2, 3], 0)).toEqual([1, 2, 3]);
    expect(expandDimsShape([2, 3], -1)).toEqual([2, 3, 1]);
    expect(expandDimsShape([2, 3], 2)).toEqual([2, 3, 1]);
  });
  test("refuses to squeeze an axis that is not 1", () => {
    expect(shapeErrorOf(() => squeezeShape(dyn(2, 3), dyn(1)))).toBe("squeeze: axis 1 of [2, 3] has size 3, not 1");
    expect(shapeErrorOf(() => squeezeShape(dyn(1, 3), dyn(0, -2)))).toMatch(/repeated/);
    expect(shapeErrorOf(() => expandDimsShape(dyn(2, 3), 4))).toBe("expandDims: axis 4 is out of range for rank 3");
  });
});

describe("concatShape and stackShape", () => {
  test("sums the concatenated axis and adds the stacked one", () => {
    expect(concatShape([[2, 3], [2, 5], [2, 1]], 1)).toEqual([2, 9]);
    expect(concatShape([[4]], 0)).toEqual([4]);
    expect(stackShape([[3, 4], [3, 4]], 0)).toEqual([2, 3, 4]);
    expect(stackShape([[3, 4]], -1)).toEqual([3, 4, 1]);
  });
  test("names the shapes that do not fit", () => {
    expect(shapeErrorOf(() => concatShape([dyn(2, 3), dyn(4, 3)], 1))).toBe(
      "concat: shapes [2, 3] and [4, 3] differ at axis 0 (dims 2 and 4)",
    );
    expect(shapeErrorOf(() => concatShape([dyn(2, 3), dyn(2)], 0))).toMatch(/differ in rank/);
    expect(shapeErrorOf(() => concatShape([] as number[][], 0))).toBe("concat: needs at least one operand");
    expect(shapeErrorOf(() => stackShape([dyn(3, 4), dyn(4, 3)], 0))).toBe("stack: shapes [3, 4] and [4, 3] differ");
  });
});

describe("sliceShape", () => {
  test("follows Python's slice semantics", () => {
    expect(sliceShape([8, 10, 4], [null, { start: 2, stop: -1 }, 0])).toEqual([8, 7]);
    expect(sliceShape([10], [{ step: 3 }])).toEqual([4]);
    expect(sliceShape([10], [{ step: -1 }])).toEqual([10]);
    expect(sliceShape([10], [{ start: 8, stop: 2, step: -2 }])).toEqual([3]);
    expect(sliceShape([10], [{ start: 20 }])).toEqual([0]);
    expect(sliceShape([3, 4], [-1])).toEqual([4]);
  });
  test("resolves where each axis reads", () => {
    expect(sliceRule([10, 5], [{ start: -3 }, 2])).toEqual([
      { start: 7, step: 1, size: 3 },
      { start: 2, step: 1, size: -1 },
    ]);
  });
  test("refuses out-of-range indices, zero steps and too many specs", () => {
    expect(shapeErrorOf(() => sliceShape(dyn(3), [3]))).toBe("slice: index 3 is out of range for axis 0 of size 3");
    expect(shapeErrorOf(() => sliceShape(dyn(3), [{ step: 0 }]))).toBe("slice: step must not be 0");
    expect(shapeErrorOf(() => sliceShape(dyn(3), [null, null]))).toBe("slice: 2 specs for [3] of rank 1");
  });
});

describe("reduceShape", () => {
  test("removes or keeps the reduced axes", () => {
    expect(reduceShape([8, 10, 4], [0, -1])).toEqual([10]);
    expect(reduceShape([8, 10, 4], 1, true)).toEqual([8, 1, 4]);
    expect(reduceShape([8, 10])).toEqual([]);
    expect(reduceShape([8, 10], undefined, true)).toEqual([1, 1]);
    expect(reducedAxes([2, 3, 4], [2, -3])).toEqual([0, 2]);
  });
  test("refuses repeated and out-of-range axes", () => {
    expect(shapeErrorOf(() => reduceShape(dyn(2, 3), [0, -2]))).toBe("reduce: an axis is repeated in [0, -2]");
    expect(shapeErrorOf(() => reduceShape(dyn(2, 3), 2))).toBe("reduce: axis 2 is out of range for rank 2");
  });
});

describe("convOutSize and poolOutSize", () => {
  test("follow the convolution arithmetic", () => {
    expect(convOutSize(224, 7, { stride: 2, padding: 3 })).toBe(112);
    expect(convOutSize(28, 3, { padding: "same" })).toBe(28);
    expect(convOutSize(28, 3)).toBe(26);
    expect(convOutSize(10, 3, { dilation: 2 })).toBe(6);
    expect(convOutSize(5, 2, { stride: 2, padding: [0, 1] })).toBe(3);
    expect(poolOutSize(28, 2)).toBe(14);
    expect(poolOutSize(7, 2, { stride: 2, padding: "same" })).toBe(4);
  });
  test("split 'same' padding with the extra element after", () => {
    expect(windowPadding(28, 3, 1, 1, "same")).toEqual([1, 1]);
    expect(windowPadding(7, 2, 2, 1, "same")).toEqual([0, 1]);
    expect(windowPadding(5, 4, 1, 1, "same")).toEqual([1, 2]);
  });
  test("refuse kernels larger than the input and invalid options", () => {
    expect(shapeErrorOf(() => convOutSize(dyn(5)[0] ?? 5, 7))).toBe("conv: input size 5 (padded 5) is smaller than kernel 7 with dilation 1");
    expect(shapeErrorOf(() => convOutSize(5, 3, { stride: dyn(0)[0] ?? 0 }))).toBe("conv: stride 0 must be a positive integer");
    expect(shapeErrorOf(() => poolOutSize(5, 2, { padding: dyn(-1)[0] ?? -1 }))).toBe("pool: padding -1 must be a non-negative integer");
  });
});

describe("convTransposeOutSize", () => {
  test("inverts the forward size: size times stride for same, (size - 1) s - pads + d (k - 1) + 1 + outputPadding otherwise", () => {
    expect(convTransposeOutSize(14, 3, 2, 1, "same", 0, "x")).toEqual({ out: 28, pads: windowPadding(28, 3, 2, 1, "same") });
    expect(convTransposeOutSize(7, 3, 2, 1, "valid", 1, "x").out).toBe(16);
    expect(convOutSize(16, 3, { stride: 2 })).toBe(7);
  });

  test("refuses an output padding outside [0, stride), or with same padding, and padding that leaves nothing", () => {
    expect(() => convTransposeOutSize(7, 3, 2, 1, "valid", 2, "x")).toThrow(/outputPadding 2 must be an integer in \[0, stride 2\)/);
    expect(() => convTransposeOutSize(7, 3, 2, 1, "same", 1, "x")).toThrow(/does not go with "same" padding/);
    expect(() => convTransposeOutSize(1, 1, 1, 1, [1, 1], 0, "input x")).toThrow(/leaves no output of input x/);
  });
});
