import { describe, expect, test } from "vitest";
import { ShapeError } from "../../../src/core/errors.js";
import { gemm, matmul } from "../../../src/backend/kernels/matmul.js";
import type { FloatArray, MatrixView } from "../../../src/backend/kernels/matrix-view.js";
import { naiveMatmul as naive } from "./support.js";

/** Integer-valued data (exact in float32 and float64 sums of moderate length). */
function ints(size: number, seed: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => ((i * 7 + seed * 13) % 11) - 5);
}


/** The transpose of a row-major `[rows, cols]` array. */
function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j] ?? 0;
  return out;
}

const rowMajor = (data: FloatArray, cols: number): MatrixView => ({ data, offset: 0, rowStride: cols, colStride: 1 });

describe("matmul", () => {
  test("the example of the doc comment multiplies two 2 x 2 matrices", () => {
    const out = new Float64Array(4);
    matmul(out, Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6, 7, 8), { m: 2, k: 2, n: 2 });
    expect(Array.from(out)).toEqual([19, 22, 43, 50]);
  });

  test("a 1 x 1 product is the product of the two numbers", () => {
    expect(Array.from(matmul(new Float32Array(1), Float32Array.of(3), Float32Array.of(-2.5), { m: 1, k: 1, n: 1 }))).toEqual([-7.5]);
  });

  test.each([
    [5, 7, 3],
    [3, 5, 7],
    [7, 3, 5],
    [13, 9, 11],
    [64, 64, 64],
    [67, 400, 17],
    [130, 20, 9],
    [4, 2, 1540],
    [260, 20, 6],
    [9, 290, 5],
    [5, 600, 4],
  ])("a %i x %i times %i product equals the triple loop (sweep edges and block edges)", (m, k, n) => {
    const a = ints(m * k, 1);
    const b = ints(k * n, 2);
    const want = naive(a, b, m, k, n);
    expect(Array.from(matmul(new Float64Array(m * n), a, b, { m, k, n }))).toEqual(want);
    expect(Array.from(matmul(new Float32Array(m * n), Float32Array.from(a), Float32Array.from(b), { m, k, n }))).toEqual(want);
  });

  test("transposed operands are read in place, in all four combinations", () => {
    const [m, k, n] = [9, 70, 6];
    const a = ints(m * k, 3);
    const b = ints(k * n, 4);
    const want = naive(a, b, m, k, n);
    const aT = transpose(a, m, k);
    const bT = transpose(b, k, n);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const out = matmul(new Float64Array(m * n), transA ? aT : a, transB ? bT : b, { m, k, n, transA, transB });
      expect([transA, transB, Array.from(out)]).toEqual([transA, transB, want]);
    }
  });

  test("k = 0 gives zeros, or the bias through the activation", () => {
    const empty = new Float64Array(0);
    expect(Array.from(matmul(new Float64Array(6).fill(9), empty, empty, { m: 2, k: 0, n: 3 }))).toEqual([0, 0, 0, 0, 0, 0]);
    const bias = Float64Array.of(1, -2, 3);
    expect(Array.from(matmul(new Float64Array(6), empty, empty, { m: 2, k: 0, n: 3, bias, activation: "relu" }))).toEqual([1, 0, 3, 1, 0, 3]);
  });

  test("m = 0, n = 0 and batch = 0 write nothing", () => {
    const out = Float64Array.of(7);
    matmul(out, new Float64Array(0), ints(12, 1), { m: 0, k: 3, n: 4 });
    matmul(out, ints(12, 1), new Float64Array(0), { m: 4, k: 3, n: 0 });
    matmul(out, new Float64Array(0), new Float64Array(0), { batch: 0, m: 4, k: 3, n: 5 });
    expect(Array.from(out)).toEqual([7]);
  });

  test("a batch stride of 0 repeats one operand for every product", () => {
    const [batch, m, k, n] = [3, 5, 4, 6];
    const a = ints(batch * m * k, 5);
    const b = ints(k * n, 6);
    const shared = matmul(new Float64Array(batch * m * n), a, b, { batch, m, k, n, bBatchStride: 0 });
    const aOne = ints(m * k, 7);
    const bMany = ints(batch * k * n, 8);
    const sharedA = matmul(new Float64Array(batch * m * n), aOne, bMany, { batch, m, k, n, aBatchStride: 0 });
    for (let t = 0; t < batch; t++) {
      expect(Array.from(shared.subarray(t * m * n, (t + 1) * m * n))).toEqual(naive(a.subarray(t * m * k), b, m, k, n));
      expect(Array.from(sharedA.subarray(t * m * n, (t + 1) * m * n))).toEqual(naive(aOne, bMany.subarray(t * k * n), m, k, n));
    }
  });

  test("a repeated B under a transposed A is still one B per product", () => {
    const [batch, m, k, n] = [2, 6, 5, 7];
    const a = ints(batch * m * k, 9);
    const b = ints(k * n, 10);
    const aT = Float64Array.from([...transpose(a.subarray(0, m * k), m, k), ...transpose(a.subarray(m * k), m, k)]);
    const out = matmul(new Float64Array(batch * m * n), aT, b, { batch, m, k, n, bBatchStride: 0, transA: true });
    expect(Array.from(out)).toEqual([...naive(a.subarray(0, m * k), b, m, k, n), ...naive(a.subarray(m * k), b, m, k, n)]);
  });

  test("the epilogue adds the bias to every row and then applies relu", () => {
    const [m, k, n] = [11, 8, 10];
    const a = ints(m * k, 11);
    const b = ints(k * n, 12);
    const bias = Float64Array.from({ length: n }, (_, j) => j - 5);
    const out = matmul(new Float64Array(m * n), a, b, { m, k, n, bias, activation: "relu" });
    const want = naive(a, b, m, k, n).map((s, i) => Math.max(s + (bias[i % n] ?? 0), 0));
    expect(Array.from(out)).toEqual(want);
  });

  test("relu lets NaN through, as max(x, 0) in NumPy does", () => {
    const out = matmul(new Float64Array(2), Float64Array.of(Number.NaN, -1), Float64Array.of(1), { m: 2, k: 1, n: 1, activation: "relu" });
    expect(Array.from(out)).toEqual([Number.NaN, 0]);
  });

  test("an output array too small, or a bad size, is a ShapeError", () => {
    expect(() => matmul(new Float64Array(3), ints(4, 1), ints(4, 2), { m: 2, k: 2, n: 2 })).toThrow(ShapeError);
    expect(() => matmul(new Float64Array(4), ints(4, 1), ints(4, 2), { m: 2, k: 2.5, n: 2 })).toThrow(ShapeError);
    expect(() => matmul(new Float64Array(4), ints(3, 1), ints(4, 2), { m: 2, k: 2, n: 2 })).toThrow(ShapeError);
  });
});

describe("gemm", () => {
  test("the example of the doc comment computes A^T A from one array", () => {
    const a = Float64Array.of(1, 2, 3, 4);
    const c = new Float64Array(4);
    gemm(2, 2, 2, { data: a, offset: 0, rowStride: 1, colStride: 2 }, rowMajor(a, 2), rowMajor(c, 2));
    expect(Array.from(c)).toEqual([10, 14, 14, 20]);
  });

  test("accumulate adds the product to what C holds, on both the small and the blocked path", () => {
    for (const [m, k, n] of [[2, 3, 2], [20, 400, 20]] as const) {
      const a = ints(m * k, 13);
      const b = ints(k * n, 14);
      const c = Float64Array.from({ length: m * n }, (_, i) => i);
      gemm(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(c, n), { accumulate: true });
      expect(Array.from(c)).toEqual(naive(a, b, m, k, n).map((s, i) => i + s));
    }
  });

  test("a bias offset picks the bias entries of the columns written", () => {
    const c = new Float64Array(4);
    gemm(2, 1, 2, rowMajor(Float64Array.of(1, 2), 1), rowMajor(Float64Array.of(1, 1), 2), rowMajor(c, 2), { bias: Float64Array.of(0, 10, 20), biasOffset: 1 });
    expect(Array.from(c)).toEqual([11, 21, 12, 22]);
  });

  test("a view that reaches past its array is a ShapeError", () => {
    const a = new Float64Array(6);
    expect(() => gemm(2, 3, 1, { data: a, offset: 1, rowStride: 3, colStride: 1 }, rowMajor(a, 1), rowMajor(new Float64Array(2), 1))).toThrow(ShapeError);
    expect(() => gemm(1, 1, 1, rowMajor(a, 1), rowMajor(a, 1), rowMajor(new Float64Array(1), 1), { bias: new Float64Array(0) })).toThrow(ShapeError);
  });
});
