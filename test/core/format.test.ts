/**
 * The repr against NumPy. Every expected string was printed by NumPy 2.4.6
 * (`np.array2string` with `prefix="tensor("`, as `repr` does for `array(`),
 * with the dtype always shown and shapes written `[2, 3]`.
 */

import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { arange, fromArray, full, linspace, tensor, zeros } from "../../src/core/create.js";
import type { DType } from "../../src/core/dtype.js";
import { formatTensor } from "../../src/core/format.js";
import type { Tensor } from "../../src/core/tensor.js";

/** The tensor of `values` with `shape` and `dtype` (the cases' data are valid, so a Left is a test bug). */
function make(values: ArrayLike<number | boolean>, shape: readonly number[], dtype: DType): Tensor<number[], DType> {
  const result = fromArray(values, shape, dtype);
  if (E.isLeft(result)) throw result.left;
  return result.right;
}

describe("formatTensor prints like NumPy's repr", () => {
  test("a matrix prints one row per line, aligned under the first bracket", () => {
    expect(formatTensor(tensor([[1, 2, 3], [4, 5, 6]]))).toBe(
      "tensor([[1., 2., 3.],\n        [4., 5., 6.]], dtype=float32)",
    );
  });

  test("toString is formatTensor", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(String(x)).toBe(formatTensor(x));
  });

  test("a rank-0 tensor prints its element without brackets", () => {
    expect(formatTensor(tensor(3))).toBe("tensor(3., dtype=float32)");
    expect(formatTensor(tensor(true))).toBe("tensor(True, dtype=bool)");
    expect(formatTensor(tensor(-7, "int32"))).toBe("tensor(-7, dtype=int32)");
  });

  test("an empty tensor prints [] and its shape unless that is [0]", () => {
    expect(formatTensor(zeros([0, 3]))).toBe("tensor([], shape=[0, 3], dtype=float32)");
    expect(formatTensor(zeros([0]))).toBe("tensor([], dtype=float32)");
  });

  test("floats share one width, padded with spaces after the point", () => {
    expect(formatTensor(tensor([1, 2.5, 3.25, NaN, -Infinity]))).toBe(
      "tensor([1.  , 2.5 , 3.25,  nan, -inf], dtype=float32)",
    );
    expect(formatTensor(tensor([NaN, Infinity]))).toBe("tensor([nan, inf], dtype=float32)");
    expect(formatTensor(tensor([-0, 1], "float64"))).toBe("tensor([-0.,  1.], dtype=float64)");
  });

  test("floats print at most 8 fractional digits, rounding ties to even", () => {
    expect(formatTensor(tensor([1 / 3, 2 / 3, 1], "float64"))).toBe(
      "tensor([0.33333333, 0.66666667, 1.        ], dtype=float64)",
    );
    expect(formatTensor(tensor([2 ** -9, 1], "float64"))).toBe("tensor([0.00195312, 1.        ], dtype=float64)");
  });

  test("float32 elements print their shortest float32 digits", () => {
    expect(formatTensor(linspace(0, 1, 7))).toBe(
      "tensor([0.        , 0.16666667, 0.33333334, 0.5       , 0.6666667 ,\n" +
        "        0.8333333 , 1.        ], dtype=float32)",
    );
  });

  test("floats switch to scientific notation where NumPy does", () => {
    // the largest magnitude reaches 1e8 (1e6 for float32)
    expect(formatTensor(tensor([1e8, 1], "float64"))).toBe("tensor([1.e+08, 1.e+00], dtype=float64)");
    expect(formatTensor(tensor([99999999, 1], "float64"))).toBe(
      "tensor([9.9999999e+07, 1.0000000e+00], dtype=float64)",
    );
    expect(formatTensor(tensor([1e6, 1]))).toBe("tensor([1.e+06, 1.e+00], dtype=float32)");
    // the smallest non-zero magnitude is below 1e-4
    expect(formatTensor(tensor([1e-5, 1e-4], "float64"))).toBe("tensor([1.e-05, 1.e-04], dtype=float64)");
    // the largest is more than 1000 times the smallest
    expect(formatTensor(tensor([1, 2000], "float64"))).toBe("tensor([1.e+00, 2.e+03], dtype=float64)");
  });

  test("ints are right-aligned and bools pad True to the width of False", () => {
    expect(formatTensor(tensor([[-5, 100], [7, 0]], "int32"))).toBe(
      "tensor([[ -5, 100],\n        [  7,   0]], dtype=int32)",
    );
    expect(formatTensor(tensor([true, false, true]))).toBe("tensor([ True, False,  True], dtype=bool)");
  });

  test("a long row wraps at 75 columns", () => {
    expect(formatTensor(arange(30))).toBe(
      "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n" +
        "        13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n" +
        "        26., 27., 28., 29.], dtype=float32)",
    );
  });

  test("blocks of rank 3 are separated by a blank line", () => {
    expect(formatTensor(make(Array.from({ length: 12 }, (_, i) => i), [2, 2, 3], "float32"))).toBe(
      "tensor([[[ 0.,  1.,  2.],\n" +
        "         [ 3.,  4.,  5.]],\n" +
        "\n" +
        "        [[ 6.,  7.,  8.],\n" +
        "         [ 9., 10., 11.]]], dtype=float32)",
    );
  });
});

describe("formatTensor summarises tensors of more than 1000 elements", () => {
  test("a long vector shows 3 items at each end and its shape", () => {
    expect(formatTensor(arange(2000))).toBe(
      "tensor([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n" +
        "        1.999e+03], shape=[2000], dtype=float32)",
    );
  });

  test("a matrix elides rows with a ... line", () => {
    const x = make(Array.from({ length: 1200 }, (_, i) => i / 2), [40, 30], "float64");
    expect(formatTensor(x)).toBe(
      "tensor([[0.000e+00, 5.000e-01, 1.000e+00, ..., 1.350e+01, 1.400e+01,\n" +
        "         1.450e+01],\n" +
        "        [1.500e+01, 1.550e+01, 1.600e+01, ..., 2.850e+01, 2.900e+01,\n" +
        "         2.950e+01],\n" +
        "        [3.000e+01, 3.050e+01, 3.100e+01, ..., 4.350e+01, 4.400e+01,\n" +
        "         4.450e+01],\n" +
        "        ...,\n" +
        "        [5.550e+02, 5.555e+02, 5.560e+02, ..., 5.685e+02, 5.690e+02,\n" +
        "         5.695e+02],\n" +
        "        [5.700e+02, 5.705e+02, 5.710e+02, ..., 5.835e+02, 5.840e+02,\n" +
        "         5.845e+02],\n" +
        "        [5.850e+02, 5.855e+02, 5.860e+02, ..., 5.985e+02, 5.990e+02,\n" +
        "         5.995e+02]], shape=[40, 30], dtype=float64)",
    );
  });

  test("a rank-4 tensor keeps NumPy's blank lines and moves the extras to a new line", () => {
    const x = make(Array.from({ length: 2400 }, (_, i) => i), [2, 3, 4, 100], "int32");
    expect(formatTensor(x)).toBe(
      [
        "tensor([[[[   0,    1,    2, ...,   97,   98,   99],",
        "          [ 100,  101,  102, ...,  197,  198,  199],",
        "          [ 200,  201,  202, ...,  297,  298,  299],",
        "          [ 300,  301,  302, ...,  397,  398,  399]],",
        "",
        "         [[ 400,  401,  402, ...,  497,  498,  499],",
        "          [ 500,  501,  502, ...,  597,  598,  599],",
        "          [ 600,  601,  602, ...,  697,  698,  699],",
        "          [ 700,  701,  702, ...,  797,  798,  799]],",
        "",
        "         [[ 800,  801,  802, ...,  897,  898,  899],",
        "          [ 900,  901,  902, ...,  997,  998,  999],",
        "          [1000, 1001, 1002, ..., 1097, 1098, 1099],",
        "          [1100, 1101, 1102, ..., 1197, 1198, 1199]]],",
        "",
        "",
        "        [[[1200, 1201, 1202, ..., 1297, 1298, 1299],",
        "          [1300, 1301, 1302, ..., 1397, 1398, 1399],",
        "          [1400, 1401, 1402, ..., 1497, 1498, 1499],",
        "          [1500, 1501, 1502, ..., 1597, 1598, 1599]],",
        "",
        "         [[1600, 1601, 1602, ..., 1697, 1698, 1699],",
        "          [1700, 1701, 1702, ..., 1797, 1798, 1799],",
        "          [1800, 1801, 1802, ..., 1897, 1898, 1899],",
        "          [1900, 1901, 1902, ..., 1997, 1998, 1999]],",
        "",
        "         [[2000, 2001, 2002, ..., 2097, 2098, 2099],",
        "          [2100, 2101, 2102, ..., 2197, 2198, 2199],",
        "          [2200, 2201, 2202, ..., 2297, 2298, 2299],",
        "          [2300, 2301, 2302, ..., 2397, 2398, 2399]]]],",
        "       shape=[2, 3, 4, 100], dtype=int32)",
      ].join("\n"),
    );
  });

  test("a long bool vector is summarised too", () => {
    const x = make(Array.from({ length: 1001 }, (_, i) => i % 3 === 0), [1001], "bool");
    expect(formatTensor(x)).toBe(
      "tensor([ True, False, False, ..., False,  True, False],\n       shape=[1001], dtype=bool)",
    );
  });

  test("1000 elements are not summarised", () => {
    expect(formatTensor(full([1000], 1, "int32"))).not.toContain("...");
  });
});
