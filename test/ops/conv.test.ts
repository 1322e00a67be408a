import { describe, expect, test } from "vitest";
import { arange, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { avgPool2d, conv1d, conv2d, maxPool2d } from "../../src/ops/conv.js";
import { reshape } from "../../src/ops/shape.js";
import { jit } from "../../src/transforms/jit.js";

/** A naive NHWC convolution with explicit padding (stride 1, no dilation, one group). */
function naiveConv(x: number[][][][], w: number[][][][], top: number, left: number, oh: number, ow: number): number[][][][] {
  return x.map((img) =>
    Array.from({ length: oh }, (_, i) =>
      Array.from({ length: ow }, (_, j) =>
        Array.from({ length: w[0]?.[0]?.[0]?.length ?? 0 }, (_, o) => {
          let acc = 0;
          w.forEach((row, di) =>
            row.forEach((taps, dj) =>
              taps.forEach((outs, c) => {
                const v = img[i + di - top]?.[j + dj - left]?.[c];
                if (v !== undefined) acc += v * (outs[o] ?? 0);
              }),
            ),
          );
          return acc;
        }),
      ),
    ),
  );
}

describe("conv2d", () => {
  test("with 'same' padding equals a naive convolution and keeps the size", () => {
    const x = reshape(arange(2 * 5 * 4 * 2, "float64"), [2, 5, 4, 2]);
    const w = reshape(arange(3 * 3 * 2 * 3, "float64"), [3, 3, 2, 3]);
    const y = conv2d(x, w, { padding: "same" });
    expect(y.shape).toEqual([2, 5, 4, 3]);
    expect(y.toNested()).toEqual(naiveConv(x.toNested(), w.toNested(), 1, 1, 5, 4));
  });
  test("stride and padding give the conv arithmetic's size", () => {
    expect(conv2d(zeros([1, 224, 224, 3]), zeros([7, 7, 3, 8]), { stride: 2, padding: 3 }).shape).toEqual([1, 112, 112, 8]);
  });
  test("jit of a conv followed by relu equals eager", () => {
    const x = reshape(arange(1 * 6 * 6 * 1, "float64"), [1, 6, 6, 1]);
    const w = tensor([[[[1, -1]]], [[[-1, 1]]]], "float64");
    const f = (a: typeof x, b: typeof w): Tensor<[1, number, number, 2], "float64"> => conv2d(a, b, { padding: "same" });
    expect(jit(f)(x, w).toNested()).toEqual(f(x, w).toNested());
  });
  test("a filter that does not fit the channels is a ShapeError naming conv2d", () => {
    const x = zeros([1, 4, 4, 3]) as Tensor<number[]>;
    const w = zeros([3, 3, 2, 8]) as Tensor<number[]>;
    expect(() => conv2d(x, w)).toThrow(ShapeError);
    expect(() => conv2d(x, w)).toThrow(/^conv2d: filter \[3, 3, 2, 8\]/);
  });
});

describe("conv1d", () => {
  test("is a convolution along the sequence", () => {
    const x = tensor([[[1], [2], [3], [4]]], "float64");
    const w = tensor([[[1]], [[10]]], "float64");
    expect(conv1d(x, w).toNested()).toEqual([[[21], [32], [43]]]);
    expect(conv1d(x, w, { padding: "same" }).shape).toEqual([1, 4, 1]);
  });
});

describe("pooling", () => {
  test("maxPool2d takes the window maximum and avgPool2d the mean", () => {
    const x = reshape(arange(16, "float64"), [1, 4, 4, 1]);
    expect(maxPool2d(x, 2).toNested()).toEqual([[[[5], [7]], [[13], [15]]]]);
    expect(avgPool2d(x, 2).toNested()).toEqual([[[[2.5], [4.5]], [[10.5], [12.5]]]]);
  });
  test("'same' pooling counts only the elements inside the image", () => {
    const x = reshape(arange(9, "float64"), [1, 3, 3, 1]);
    expect(avgPool2d(x, 2, { padding: "same" }).toNested()).toEqual([[[[2], [3.5]], [[6.5], [8]]]]);
  });
});
