import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import { key } from "../../src/random/key.js";
import { conv2d, dense, dropout, embedding, flatten, lstm, maxPool2d, relu, residual, sequential, summary } from "../../src/layers/index.js";

const cnn = sequential(conv2d(1, 8, 5), relu(), maxPool2d(2), conv2d(8, 16, 5), relu(), maxPool2d(2), flatten(), dense(256, 128), relu(), dense(128, 10));

describe("summary", () => {
  test("lists each layer of a stack with its output shape and parameter count", () => {
    const s = summary(cnn, [1, 28, 28, 1]);
    expect(s.rows.map((r) => [r.name, r.outputShape, r.params])).toEqual([
      ["conv2d", [1, 24, 24, 8], 5 * 5 * 1 * 8 + 8],
      ["relu", [1, 24, 24, 8], 0],
      ["maxPool2d", [1, 12, 12, 8], 0],
      ["conv2d", [1, 8, 8, 16], 5 * 5 * 8 * 16 + 16],
      ["relu", [1, 8, 8, 16], 0],
      ["maxPool2d", [1, 4, 4, 16], 0],
      ["flatten", [1, 256], 0],
      ["dense", [1, 128], 256 * 128 + 128],
      ["relu", [1, 128], 0],
      ["dense", [1, 10], 128 * 10 + 10],
    ]);
    expect(s.totalParams).toBe(37_610);
    expect(s.paramBytes).toBe(4 * 37_610);
    expect(s.text).toContain("Total: 37,610 parameters (146.9 KiB)");
    expect(String(s)).toBe(s.text);
  });

  test("indents a nested stack under its own row, and names a residual by its layer", () => {
    const model = sequential(sequential(dense(4, 8), relu()), residual(dense(8, 8)), dropout(0.5), dense(8, 2));
    const s = summary(model, [3, 4]);
    expect(s.rows.map((r) => [r.depth, r.name, r.outputShape, r.params])).toEqual([
      [0, "sequential", [3, 8], 40],
      [1, "dense", [3, 8], 40],
      [1, "relu", [3, 8], 0],
      [0, "residual(dense)", [3, 8], 72],
      [0, "dropout", [3, 8], 0],
      [0, "dense", [3, 2], 18],
    ]);
    expect(s.text.split("\n")[4]).toMatch(/^ {2}dense +\[3, 8\] +40$/);
  });

  test("a model that starts with an embedding takes int32 indices by default", () => {
    const s = summary(sequential(embedding(100, 16), lstm(16, 32, { returnSequences: false }), dense(32, 3)), [2, 7]);
    expect(s.inputDType).toBe("int32");
    expect(s.rows.map((r) => r.outputShape)).toEqual([[2, 7, 16], [2, 32], [2, 3]]);
    expect(s.rows[1]?.params).toBe(4 * 32 * (16 + 32) + 4 * 32); // four gates: input and recurrent kernels, one bias
  });

  test("a single layer is one row; counts do not depend on the key", () => {
    const s = summary(dense(4, 8, { useBias: false }), [5, 4], { key: key(3) });
    expect(s.rows).toEqual([{ depth: 0, name: "dense", outputShape: [5, 8], params: 32 }]);
  });

  test("an input the model does not take is the layer's ShapeError", () => {
    const wrong: readonly number[] = [1, 28, 28, 3];
    expect(() => summary(cnn, wrong)).toThrow(ShapeError);
  });
});
