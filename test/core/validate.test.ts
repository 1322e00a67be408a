import { describe, expect, test } from "vitest";
import { ones, tensor } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import { checkDType, checkFloat, checkOperand, checkSameDType, checkTensor, describeValue } from "../../src/core/validate.js";
import { key } from "../../src/random/key.js";

describe("describeValue", () => {
  test("names what a value is, quoting a caller's string in part", () => {
    expect(describeValue("2")).toBe('the string "2"');
    expect(describeValue("x".repeat(50))).toBe(`the string "${"x".repeat(40)}..."`);
    expect(describeValue(null)).toBe("null");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(NaN)).toBe("the number NaN");
    expect(describeValue(true)).toBe("the boolean true");
    expect(describeValue(3n)).toBe("the bigint 3n");
    expect(describeValue([1, 2])).toBe("an array of 2 elements");
    expect(describeValue({})).toBe("an object");
    expect(describeValue(Object.create(null))).toBe("an object");
    expect(describeValue(() => 1)).toBe("a function");
    expect(describeValue(key(0))).toBe("a Key");
    expect(describeValue(tensor([[1, 2]], "int32"))).toBe("an int32 Tensor of shape [1, 2]");
  });
});

describe("the checks", () => {
  test("checkTensor refuses a non-tensor and a forged dtype, naming the function and the argument", () => {
    expect(() => checkTensor("f", "x", 1)).toThrow(new ShapeError("f: x must be a Tensor, got the number 1"));
    const forged = ones([1]);
    Object.defineProperty(forged, "dtype", { value: "int8" });
    expect(() => checkTensor("f", "x", forged)).toThrow(/^f: x: unknown dtype "int8"/);
    expect(() => checkTensor("f", "x", ones([1]))).not.toThrow();
  });

  test("checkOperand takes a tensor or a number", () => {
    expect(() => checkOperand("add", "y", 2)).not.toThrow();
    expect(() => checkOperand("add", "y", "2")).toThrow(new ShapeError('add: y must be a Tensor or a number, got the string "2"'));
  });

  test("checkSameDType names both dtypes", () => {
    expect(() => checkSameDType("add", [ones([1]), ones([1], "float64")])).toThrow(new ShapeError("add: operand dtypes float32 and float64 differ (cast one first)"));
    expect(() => checkSameDType("add", [])).not.toThrow();
  });

  test("checkFloat takes float32 and float64 only", () => {
    expect(() => checkFloat("mean", ones([1], "float64"))).not.toThrow();
    expect(() => checkFloat("mean", ones([1], "bool"))).toThrow(new ShapeError("mean: x must be float32 or float64, got bool"));
  });

  test("checkDType lists the dtypes", () => {
    expect(checkDType("zeros", "int32")).toBe("int32");
    expect(() => checkDType("zeros", "int8" as "int32")).toThrow('zeros: unknown dtype "int8" (expected float32, float64, int32 or bool)'); // a dtype from outside the types
  });
});
