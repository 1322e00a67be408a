import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import { abs, clip, isFinite, isNaN, reciprocal, rsqrt, sign, square } from "../../src/ops/math.js";

describe("math", () => {
  test("abs, square, sign, clip", () => {
    expect(abs(tensor([-2, 3])).toArray()).toEqual([2, 3]);
    expect(square(tensor([3], "int32")).toArray()).toEqual([9]);
    expect(sign(tensor([-2, 0, 5, NaN])).toArray()).toEqual([-1, 0, 1, NaN]);
    expect(clip(tensor([-2, 0.5, 3]), 0, 1).toArray()).toEqual([0, 0.5, 1]);
  });
  test("reciprocal and rsqrt", () => {
    expect(reciprocal(tensor([2, 4, 0])).toArray()).toEqual([0.5, 0.25, Infinity]);
    expect(rsqrt(tensor([4, 16])).toArray()).toEqual([0.5, 0.25]);
  });
  test("isFinite and isNaN", () => {
    const x = tensor([1, Infinity, -Infinity, NaN]);
    expect(isFinite(x).toArray()).toEqual([true, false, false, false]);
    expect(isNaN(x).toArray()).toEqual([false, false, false, true]);
  });
});

describe("the doc examples", () => {
  test("run as written", () => {
    expect(sign(tensor([-2, 0, 5])).toArray()).toEqual([-1, 0, 1]);
    expect(isFinite(tensor([1, Infinity, NaN])).toArray()).toEqual([true, false, false]);
    expect(isNaN(tensor([1, NaN])).toArray()).toEqual([false, true]);
  });
});
