import { describe, expect, test } from "vitest";
import { broadcastView, reshapeView, rowMajorView, sliceView, transposeView } from "../../src/backend/strided-view.js";

describe("strided views", () => {
  test("broadcasting a row gives stride 0 along the new axis", () => {
    expect(broadcastView(rowMajorView([3]), [4, 3], [1])).toEqual({ shape: [4, 3], offset: 0, strides: [0, 1] });
  });

  test("a stretched axis of size 1 gets stride 0", () => {
    expect(broadcastView(rowMajorView([4, 1]), [4, 5], [0, 1]).strides).toEqual([1, 0]);
  });

  test("transposing permutes the strides", () => {
    expect(transposeView(rowMajorView([2, 3, 4]), [2, 0, 1]).strides).toEqual([1, 12, 4]);
  });

  test("a slice moves the offset and scales the strides, negative steps included", () => {
    const v = sliceView(rowMajorView([4, 5]), { starts: [1, 4], steps: [2, -2], sizes: [2, 3] });
    expect(v).toEqual({ shape: [2, 3], offset: 9, strides: [10, -2] });
  });

  test("reshaping a contiguous buffer is always a view", () => {
    expect(reshapeView(rowMajorView([2, 3, 4]), [6, 4])).toEqual({ shape: [6, 4], offset: 0, strides: [4, 1] });
    expect(reshapeView(rowMajorView([6]), [1, 2, 1, 3])?.strides).toEqual([0, 3, 0, 1]);
  });

  test("merging transposed axes needs a copy, splitting one does not", () => {
    const t = transposeView(rowMajorView([3, 4]), [1, 0]); // strides [1, 4]
    expect(reshapeView(t, [12])).toBeUndefined();
    expect(reshapeView(t, [2, 2, 3])?.strides).toEqual([2, 1, 4]);
  });

  test("a broadcast axis can be split but not merged with a moving one", () => {
    const b = broadcastView(rowMajorView([3]), [4, 3], [1]); // strides [0, 1]
    expect(reshapeView(b, [2, 2, 3])?.strides).toEqual([0, 0, 1]);
    expect(reshapeView(b, [12])).toBeUndefined();
  });

  test("an empty view reshapes to anything of size 0", () => {
    expect(reshapeView(rowMajorView([0, 3]), [3, 0])?.strides).toEqual([0, 0]);
  });
});
