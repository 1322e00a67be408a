import { describe, expect, test } from "vitest";
import { accumulate, emptyReduction, nestKey, outputMap, outputShape, validateNest } from "../../src/backend/loop-ir.js";
import { nest, op, read } from "./support.js";

describe("loop IR", () => {
  const addRow = nest({
    shape: [2, 3],
    inputs: [
      { dtype: "float32", size: 6 },
      { dtype: "float32", size: 3 },
    ],
    nodes: [read(0, "float32", 0, [3, 1]), read(1, "float32", 0, [0, 1]), op("add", {}, [0, 1], "float32")],
    outputs: [{ node: 2 }],
  });

  test("a well-formed nest validates", () => {
    expect(() => validateNest(addRow)).not.toThrow();
  });

  test("a read past the end of its buffer is refused", () => {
    const bad = { ...addRow, nodes: [read(0, "float32", 1, [3, 1]), ...addRow.nodes.slice(1)] };
    expect(() => validateNest(bad)).toThrow(/reads \[1, 6\] of a buffer of 6/);
  });

  test("a read with a negative stride is checked at both ends", () => {
    const reversed = nest({ shape: [3], inputs: [{ dtype: "int32", size: 3 }], nodes: [read(0, "int32", 2, [-1])], outputs: [{ node: 0 }] });
    expect(() => validateNest(reversed)).not.toThrow();
    expect(() => validateNest({ ...reversed, nodes: [read(0, "int32", 1, [-1])] })).toThrow(/reads \[-1, 1\]/);
  });

  test("an op whose dtype is not what its primitive gives is refused", () => {
    const bad = { ...addRow, nodes: [...addRow.nodes.slice(0, 2), op("add", {}, [0, 1], "float64")] };
    expect(() => validateNest(bad)).toThrow(/add gives float32, not float64/);
  });

  test("an op may only use earlier nodes", () => {
    const bad = { ...addRow, nodes: [...addRow.nodes.slice(0, 2), op("add", {}, [0, 2], "float32")] };
    expect(() => validateNest(bad)).toThrow(/takes 2 earlier nodes/);
  });

  test("a reduced output drops the reduced axes and stores with stride 0 along them", () => {
    const sum = { ...addRow, reducedAxes: [0], outputs: [{ node: 2, reduce: "sum" as const }] };
    expect(outputShape(sum, { node: 2, reduce: "sum" })).toEqual([3]);
    expect(outputMap(sum, { node: 2, reduce: "sum" })).toEqual({ offset: 0, strides: [0, 1] });
  });

  test("the key does not depend on the order of object keys, and does depend on shapes", () => {
    const reordered = { outputs: addRow.outputs, nodes: addRow.nodes, inputs: addRow.inputs, constants: [], reducedAxes: [], shape: [2, 3] };
    expect(nestKey(reordered)).toBe(nestKey(addRow));
    expect(nestKey({ ...addRow, shape: [3, 2] })).not.toBe(nestKey(addRow));
  });

  test("a max keeps the first of equal values and any NaN; a sum of nothing is 0", () => {
    expect(Object.is(accumulate("max", -0, 0), -0)).toBe(true);
    expect(accumulate("max", NaN, 5)).toBeNaN();
    expect(accumulate("max", 1, NaN)).toBeNaN();
    expect(emptyReduction("sum", "float32")).toBe(0);
    expect(emptyReduction("max", "int32")).toBe(-(2 ** 31));
    expect(emptyReduction("max", "float64")).toBe(-Infinity);
  });
});
