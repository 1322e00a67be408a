import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import {
  arange,
  arangeLength,
  assertShape,
  eye,
  fromArray,
  full,
  linspace,
  ones,
  tensor,
  zeros,
  type NestedInput,
} from "../../src/core/create.js";
import type { DType } from "../../src/core/dtype.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";

/** The message of a Left, or "Right" (so that a wrong success fails the comparison readably). */
function leftMessage(result: E.Either<ShapeError, unknown>): string {
  return E.isLeft(result) ? result.left.message : "Right";
}

/** The Right of an Either, failing the test on a Left. */
function right<S extends Shape, D extends DType>(result: E.Either<ShapeError, Tensor<S, D>>): Tensor<S, D> {
  if (E.isLeft(result)) throw result.left;
  return result.right;
}

/** A dtype name from outside (a file header, JSON), which the types cannot vouch for. */
function dtypeFromOutside(name: string): DType {
  // Deliberately unchecked: the constructors must refuse it at run time.
  return name as DType;
}

describe("tensor", () => {
  test("tensor reads a nested literal row by row into its shape", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.dtype).toBe("float32");
    expect(x.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(x.toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  test("tensor of a bare number is a rank-0 tensor", () => {
    const x = tensor(3);
    expect(x.shape).toEqual([]);
    expect(x.rank).toBe(0);
    expect(x.item()).toBe(3);
  });

  test("tensor of booleans is bool unless a dtype is named", () => {
    expect(tensor([true, false]).dtype).toBe("bool");
    expect(tensor([true, false]).toArray()).toEqual([true, false]);
    expect(tensor([true, false], "float32").toArray()).toEqual([1, 0]);
  });

  test("tensor takes the dtype it is given", () => {
    const x = tensor([[1, 2], [3, 4]], "int32");
    expect(x.dtype).toBe("int32");
    expect(x.data).toBeInstanceOf(Int32Array);
  });

  test("tensor rounds to float32 by default and keeps float64 exact", () => {
    expect(tensor([0.1]).toArray()).toEqual([Math.fround(0.1)]);
    expect(tensor([0.1], "float64").toArray()).toEqual([0.1]);
  });

  test("tensor of empty rows has a zero dim", () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  test("tensor refuses ragged rows, naming the row", () => {
    const ragged: NestedInput = [[1, 2, 3], [4, 5]];
    expect(() => tensor(ragged)).toThrow(ShapeError);
    expect(() => tensor(ragged)).toThrow("tensor: ragged nested array: row [1] has length 2, expected 3");
    const deep: NestedInput = [[[1, 2], [3]]];
    expect(() => tensor(deep)).toThrow("tensor: ragged nested array: row [0, 1] has length 1, expected 2");
  });

  test("tensor refuses a number where a row belongs, and a row where a number belongs", () => {
    const short: NestedInput = [[1, 2], 3];
    expect(() => tensor(short)).toThrow("tensor: ragged nested array: element [1] is a number, expected an array of length 2");
    const deep: NestedInput = [1, [2]];
    expect(() => tensor(deep)).toThrow("tensor: ragged nested array: element [1] is an array, expected a number");
  });

  test("tensor refuses leaves that are not numbers or booleans", () => {
    const strings: unknown = [1, "2"];
    // A value from untyped code: the run-time check is what is under test.
    expect(() => tensor(strings as NestedInput)).toThrow("tensor: element [1] is a string, not a number or boolean");
    const holes: NestedInput = [[1, 2], [3, null as unknown as number]]; // null sneaks past the types in plain JS
    expect(() => tensor(holes)).toThrow("tensor: element [1, 1] is null, not a number or boolean");
  });

  test("tensor refuses fractions and out-of-range values for int32", () => {
    expect(() => tensor([1, 2.5], "int32")).toThrow("tensor: element [1] is 2.5, not an integer (dtype int32)");
    expect(() => tensor([NaN], "int32")).toThrow("tensor: element [0] is NaN, not an integer (dtype int32)");
    expect(() => tensor([2 ** 31], "int32")).toThrow("tensor: element [0] is 2147483648, outside the int32 range");
    expect(tensor([-(2 ** 31), 2 ** 31 - 1], "int32").toArray()).toEqual([-(2 ** 31), 2 ** 31 - 1]);
  });

  test("tensor refuses numbers other than 0 and 1 for bool, and finite values float32 cannot hold", () => {
    expect(() => tensor([0, 2], "bool")).toThrow("tensor: element [1] is 2, not a bool (true, false, 0 or 1)");
    expect(tensor([0, 1], "bool").toArray()).toEqual([false, true]);
    expect(() => tensor([1e39])).toThrow("tensor: element [0] is 1e+39, outside the float32 range");
    expect(tensor([Infinity, NaN]).toArray()).toEqual([Infinity, NaN]);
  });

  test("tensor refuses a dtype that does not exist", () => {
    expect(() => tensor([1], dtypeFromOutside("float16"))).toThrow(
      'tensor: unknown dtype "float16" (expected float32, float64, int32 or bool)',
    );
  });
});

describe("zeros, ones and full", () => {
  test("zeros fills a shape with zeros", () => {
    const x = zeros([2, 3]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.toArray()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(zeros([2], "bool").toArray()).toEqual([false, false]);
  });

  test("zeros of an empty shape is a rank-0 zero, and a zero dim gives no elements", () => {
    expect(zeros([]).item()).toBe(0);
    expect(zeros([2, 0]).size).toBe(0);
    expect(zeros([2, 0]).toNested()).toEqual([[], []]);
  });

  test("ones fills a shape with ones", () => {
    expect(ones([3], "int32").toArray()).toEqual([1, 1, 1]);
    expect(ones([2], "bool").toArray()).toEqual([true, true]);
  });

  test("full fills a shape with one value, bool for a boolean", () => {
    expect(full([2, 2], 7, "int32").toNested()).toEqual([[7, 7], [7, 7]]);
    expect(full([2], 0.5).dtype).toBe("float32");
    expect(full([2], true).dtype).toBe("bool");
    expect(full([2], NaN, "float64").toArray()).toEqual([NaN, NaN]);
  });

  test("full refuses a value its dtype cannot hold", () => {
    expect(() => full([2], 2.5, "int32")).toThrow("full: value is 2.5, not an integer (dtype int32)");
  });

  test("the shape constructors refuse a bad dim, naming it and what is wrong", () => {
    // shapes known only at run time: as literals these do not compile, with the same messages (types/create.test-d.ts)
    const [negative, fractional]: number[][] = [[2, -1], [1.5]];
    expect(() => zeros(negative ?? [])).toThrow("zeros: dim 1 of [2, -1]: -1 is negative");
    expect(() => ones(fractional ?? [])).toThrow("ones: dim 0 of [1.5]: 1.5 is not an integer");
    expect(() => full([NaN], 0)).toThrow("full: dim 0 of [NaN]: NaN is not a size");
    expect(() => zeros([2 ** 31])).toThrow("zeros: dim 0 of [2147483648]: 2147483648 is larger than 2^31 - 1");
    const notAShape: unknown = 6;
    // Untyped input: the run-time check is what is under test.
    expect(() => zeros(notAShape as number[])).toThrow("zeros: shape must be an array of sizes, got number");
  });

  test("the shape constructors refuse a size no typed array holds instead of crashing", () => {
    expect(() => zeros([65536, 65536])).toThrow(
      "zeros: shape [65536, 65536] has 4294967296 elements, more than 2147483647",
    );
    expect(() => ones([2 ** 20, 2 ** 20, 2 ** 20])).toThrow(ShapeError);
  });

  test("the shape constructors refuse a dtype that does not exist", () => {
    expect(() => zeros([1], dtypeFromOutside("int64"))).toThrow('zeros: unknown dtype "int64"');
  });
});

describe("eye", () => {
  test("eye(n) is the n × n identity", () => {
    expect(eye(3).toNested()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  test("eye(n, m) is rectangular, with ones on the main diagonal", () => {
    expect(eye(2, 3).toNested()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(3, 2).toNested()).toEqual([
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
  });

  test("eye takes a dtype after n or after m", () => {
    expect(eye(2, "int32").dtype).toBe("int32");
    expect(eye(2, 2, "bool").toNested()).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  test("eye of size 0 is empty and eye of a negative size throws", () => {
    expect(eye(0).shape).toEqual([0, 0]);
    expect(() => eye(-1)).toThrow("eye: dim 0 of [-1, -1]: -1 is negative");
  });
});

describe("arange", () => {
  test("arange(stop) counts from 0 up to but not including stop", () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(4).shape).toEqual([4]);
  });

  test("arange(start, stop, step) has ceil((stop - start) / step) elements", () => {
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.3, "float64").toArray()).toEqual([0, 0.3, 0.6, 0.8999999999999999]);
    expect(arange(0.5).toArray()).toEqual([0]);
    expect(arangeLength(0, 10, 3)).toBe(4);
  });

  test("arange is empty when stop is not past start in the direction of step", () => {
    expect(arange(3, 3).shape).toEqual([0]);
    expect(arange(-3).shape).toEqual([0]);
    expect(arange(0, 5, -1).shape).toEqual([0]);
  });

  test("arange takes a dtype last", () => {
    expect(arange(3, "int32").data).toBeInstanceOf(Int32Array);
    expect(arange(1, 3, "float64").toArray()).toEqual([1, 2]);
    expect(arange(0, 6, 2, "int32").toArray()).toEqual([0, 2, 4]);
  });

  test("arange refuses a zero step, bounds that are not finite, and fractions for int32", () => {
    expect(() => arange(0, 5, 0)).toThrow("arange: step must not be 0");
    expect(() => arange(Infinity)).toThrow("arange: stop must be a finite number, got Infinity");
    expect(() => arange(NaN, 3)).toThrow("arange: start must be a finite number, got NaN");
    expect(() => arange(0, 1, 0.5, "int32")).toThrow("arange: element [1] is 0.5, not an integer (dtype int32)");
  });

  test("arange refuses a length no tensor can hold", () => {
    expect(() => arange(0, 1, 1e-12)).toThrow(
      "arange: [0, 1) in steps of 1e-12 has 1000000000000 elements, more than 2147483647",
    );
  });
});

describe("linspace", () => {
  test("linspace spaces num points evenly from start to stop, both included", () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(1, 0, 3).toArray()).toEqual([1, 0.5, 0]);
  });

  test("linspace computes start + i * step and ends exactly at stop, as NumPy does", () => {
    // the values np.linspace prints with .tolist()
    expect(linspace(0, 0.3, 4, "float64").toArray()).toEqual([0, 0.09999999999999999, 0.19999999999999998, 0.3]);
    expect(linspace(-1, 2.5, 6, "float64").toArray()).toEqual([
      -1, -0.30000000000000004, 0.3999999999999999, 1.0999999999999996, 1.7999999999999998, 2.5,
    ]);
  });

  test("linspace of one point is start, and of none is empty", () => {
    expect(linspace(2, 5, 1).toArray()).toEqual([2]);
    expect(linspace(2, 5, 0).shape).toEqual([0]);
  });

  test("linspace refuses a bad count and bounds that are not finite", () => {
    expect(() => linspace(0, 1, -1)).toThrow("linspace: dim 0 of [-1]: -1 is negative");
    expect(() => linspace(0, 1, 2.5)).toThrow("linspace: dim 0 of [2.5]: 2.5 is not an integer");
    expect(() => linspace(0, NaN, 3)).toThrow("linspace: stop must be a finite number, got NaN");
  });
});

describe("fromArray", () => {
  test("fromArray reads flat data row-major into any shape of the same size", () => {
    const x = right(fromArray([1, 2, 3, 4, 5, 6], [3, 2]));
    expect(x.shape).toEqual([3, 2]);
    expect(x.toNested()).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  test("fromArray reads typed arrays and copies them", () => {
    const source = Float64Array.of(1, 2, 3, 4);
    const x = right(fromArray(source, [2, 2], "float64"));
    source[0] = 99;
    expect(x.toArray()).toEqual([1, 2, 3, 4]);
    expect(right(fromArray(Int32Array.of(-1, 7), [2], "int32")).toArray()).toEqual([-1, 7]);
  });

  test("fromArray reads nested data that has the shape given", () => {
    expect(right(fromArray([[1, 2, 3], [4, 5, 6]], [2, 3])).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(right(fromArray([Float32Array.of(1, 2), Float32Array.of(3, 4)], [2, 2])).toArray()).toEqual([1, 2, 3, 4]);
    expect(leftMessage(fromArray([[1, 2], [3, 4], [5, 6]], [2, 3]))).toBe(
      "fromArray: expected shape [2, 3], nested data has shape [3, 2]: dim 0 is 3, not 2",
    );
  });

  test("fromArray sizes a symbolic dim from the data", () => {
    const x = right(fromArray(new Float32Array(12), ["batch", 3]));
    expect(x.shape).toEqual([4, 3]);
    expect(right(fromArray([], ["batch", 3])).shape).toEqual([0, 3]);
    expect(right(fromArray(new Float32Array(9), ["n", "n"])).shape).toEqual([3, 3]);
    expect(right(fromArray([[1, 2], [3, 4], [5, 6]], ["batch", 2])).shape).toEqual([3, 2]);
  });

  test("fromArray refuses a symbolic dim that no size or many sizes would fit", () => {
    expect(leftMessage(fromArray(new Float32Array(7), ["batch", 3]))).toBe(
      "fromArray: 7 elements do not fit shape [batch, 3]: 7 is not a multiple of 3",
    );
    expect(leftMessage(fromArray(new Float32Array(8), ["n", "n"]))).toBe(
      "fromArray: 8 elements do not fit shape [n, n]: no size of n gives n^2 = 8",
    );
    expect(leftMessage(fromArray(new Float32Array(6), ["batch", "seq"]))).toBe(
      "fromArray: cannot infer 2 symbolic dims (batch, seq) from one data length",
    );
    expect(leftMessage(fromArray([], ["batch", 0]))).toBe(
      "fromArray: cannot infer batch from empty data: the other dims have size 0, so any size fits",
    );
  });

  test("fromArray refuses a repeated name that binds two sizes", () => {
    expect(leftMessage(fromArray([[1, 2, 3], [4, 5, 6]], ["n", "n"]))).toBe(
      "fromArray: expected shape [n, n], nested data has shape [2, 3]: n is 2 at dim 0 but 3 at dim 1",
    );
  });

  test("fromArray refuses data whose length does not match the shape", () => {
    expect(leftMessage(fromArray([1, 2, 3], [2, 2]))).toBe("fromArray: 3 elements do not fit shape [2, 2] (of size 4)");
    expect(leftMessage(fromArray([1], []))).toBe("Right");
    expect(leftMessage(fromArray([], []))).toBe("fromArray: 0 elements do not fit shape [] (of size 1)");
  });

  test("fromArray refuses bad dims, naming them", () => {
    expect(leftMessage(fromArray([], ["batch", -1]))).toBe("fromArray: dim 1 of [batch, -1]: -1 is negative");
    expect(leftMessage(fromArray([], [1.5]))).toBe("fromArray: dim 0 of [1.5]: 1.5 is not an integer");
    expect(leftMessage(fromArray([], [NaN]))).toBe("fromArray: dim 0 of [NaN]: NaN is not a size");
    expect(leftMessage(fromArray([], [2 ** 40]))).toBe("fromArray: dim 0 of [1099511627776]: 1099511627776 is larger than 2^31 - 1");
    expect(leftMessage(fromArray([], ["", 3]))).toBe("fromArray: dim 0 of [, 3]: a name must not be empty");
    const notAShape: unknown = "2x3";
    // Untyped input: the run-time check is what is under test.
    expect(leftMessage(fromArray([], notAShape as Shape))).toBe(
      "fromArray: shape must be an array of sizes and names, got a string",
    );
  });

  test("fromArray refuses ragged nested data", () => {
    expect(leftMessage(fromArray([[1, 2, 3], [4, 5]], [2, 3]))).toBe(
      "fromArray: ragged nested array: row [1] has length 2, expected 3",
    );
  });

  test("fromArray refuses values that are not numbers, naming the element", () => {
    expect(leftMessage(fromArray([1, "2"], [2]))).toBe("fromArray: element [1] is a string, not a number or boolean");
    expect(leftMessage(fromArray([[1, 2], [3, {}]], [2, 2]))).toBe(
      "fromArray: element [1, 1] is an object, not a number or boolean",
    );
    expect(leftMessage(fromArray(BigInt64Array.of(1n), [1]))).toBe(
      "fromArray: element [0] is a bigint, not a number or boolean",
    );
  });

  test("fromArray refuses fractions for int32 and unknown dtypes", () => {
    expect(leftMessage(fromArray([1, 2.5], [2], "int32"))).toBe(
      "fromArray: element [1] is 2.5, not an integer (dtype int32)",
    );
    expect(leftMessage(fromArray([1], [1], dtypeFromOutside("uint8")))).toBe(
      'fromArray: unknown dtype "uint8" (expected float32, float64, int32 or bool)',
    );
  });

  test("fromArray never throws, even on data that throws when read", () => {
    const hostile: ArrayLike<unknown> = {
      length: 2,
      get 0(): number {
        throw new Error("boom");
      },
    };
    expect(leftMessage(fromArray(hostile, [2]))).toBe("fromArray: could not read the data: boom");
    expect(leftMessage(fromArray({ length: -1 }, [0]))).toBe("fromArray: data has no valid length (-1)");
  });
});

describe("assertShape", () => {
  test("assertShape returns the same tensor when the shape fits", () => {
    const x = zeros([2, 784]);
    expect(assertShape(x, ["batch", 784])).toBe(x);
    expect(assertShape(x, [2, 784])).toBe(x);
    expect(assertShape(zeros([3, 3]), ["n", "n"]).shape).toEqual([3, 3]);
  });

  test("assertShape throws a ShapeError naming both shapes when a dim differs", () => {
    expect(() => assertShape(zeros([2, 10]), ["batch", 784])).toThrow(ShapeError);
    expect(() => assertShape(zeros([2, 10]), ["batch", 784])).toThrow(
      "assertShape: expected shape [batch, 784], got [2, 10]: dim 1 is 10, not 784",
    );
  });

  test("assertShape throws when the rank differs", () => {
    expect(() => assertShape(zeros([2, 3]), [2, 3, 1])).toThrow(
      "assertShape: expected shape [2, 3, 1], got [2, 3]: rank 2, not 3",
    );
  });

  test("assertShape binds a repeated name to one size", () => {
    expect(() => assertShape(zeros([2, 3]), ["n", "n"])).toThrow(
      "assertShape: expected shape [n, n], got [2, 3]: n is 2 at dim 0 but 3 at dim 1",
    );
  });
});

describe("the doc examples run", () => {
  test("tensor, zeros, ones, full, eye", () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(zeros([2, 3]).toArray().every((v) => v === 0)).toBe(true);
    expect(ones([3], "int32").toArray()).toEqual([1, 1, 1]);
    expect(full([2, 2], 7, "int32").toNested()).toEqual([[7, 7], [7, 7]]);
    expect(eye(2).toNested()).toEqual([[1, 0], [0, 1]]);
    expect(eye(2, 3, "int32").shape).toEqual([2, 3]);
  });

  test("arange, linspace, fromArray, assertShape", () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const x = fromArray(new Float32Array(6), ["batch", 3]);
    expect(E.isRight(x) && x.right.shape).toEqual([2, 3]);
    const y = assertShape(zeros([5, 784]), ["batch", 784]);
    expect(y.shape).toEqual([5, 784]);
  });
});
