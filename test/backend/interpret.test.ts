import { describe, expect, test } from "vitest";
import { interpretLoopNest } from "../../src/backend/interpret.js";
import { nest, op, read } from "./support.js";

describe("the loop-IR interpreter", () => {
  test("adds a broadcast row to every row of a matrix", () => {
    const out = new Float32Array(6);
    const n = nest({
      shape: [2, 3],
      inputs: [
        { dtype: "float32", size: 6 },
        { dtype: "float32", size: 3 },
      ],
      nodes: [read(0, "float32", 0, [3, 1]), read(1, "float32", 0, [0, 1]), op("add", {}, [0, 1], "float32")],
      outputs: [{ node: 2 }],
    });
    interpretLoopNest(n, [Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(10, 20, 30), out], []);
    expect([...out]).toEqual([11, 22, 33, 14, 25, 36]);
  });

  test("rounds every primitive's result to float32", () => {
    const out = new Float32Array(1);
    const n = nest({
      shape: [],
      inputs: [{ dtype: "float32", size: 1 }],
      constants: ["float32"],
      nodes: [read(0, "float32", 0, []), { kind: "const", dtype: "float32", index: 0 }, op("div", {}, [0, 1], "float32"), op("mul", {}, [2, 1], "float32")],
      outputs: [{ node: 3 }],
    });
    interpretLoopNest(n, [Float32Array.of(1), out], [3]);
    expect(out[0]).toBe(Math.fround(Math.fround(1 / 3) * 3));
  });

  test("sums over the middle axis in float64, rounded once", () => {
    const out = new Float32Array(2);
    const n = nest({
      shape: [2, 3, 1],
      reducedAxes: [1],
      inputs: [{ dtype: "float32", size: 6 }],
      nodes: [read(0, "float32", 0, [3, 1, 0])],
      outputs: [{ node: 0, reduce: "sum" }],
    });
    interpretLoopNest(n, [Float32Array.of(1e8, 1, -1e8, 1, 2, 3), out], []);
    expect([...out]).toEqual([1, 6]);
  });

  test("a reduction over an empty axis gives 0 for a sum and the lowest int32 for a max", () => {
    const sums = new Int32Array(2);
    const maxes = new Int32Array(2);
    const n = nest({ shape: [2, 0], reducedAxes: [1], inputs: [{ dtype: "int32", size: 0 }], nodes: [read(0, "int32", 0, [0, 0])], outputs: [{ node: 0, reduce: "sum" }, { node: 0, reduce: "max" }] });
    interpretLoopNest(n, [new Int32Array(0), sums, maxes], []);
    expect([...sums]).toEqual([0, 0]);
    expect([...maxes]).toEqual([-(2 ** 31), -(2 ** 31)]);
  });
});
