import { afterEach, describe, expect, test, vi } from "vitest";
import { sharedHeap } from "../../../src/backend/wasm/runtime.js";
import { gemm, matmul, withPackedB, type MatmulOptions } from "../../../src/backend/kernels/matmul.js";
import type { MatrixView } from "../../../src/backend/kernels/matrix-view.js";
import { DEPTH_BLOCK, PackedOperands, wasmGemm, wasmGemmVariant, wasmMatmulAvailable, type WasmEpilogue } from "../../../src/backend/kernels/wasm-matmul.js";
import { naiveMatmul as naive } from "./support.js";

/** Small integers (sums of them are exact in float32 at these sizes). */
function ints(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => ((i * 7 + seed * 13) % 11) - 5);
}


const rowMajor = (data: Float32Array | Float64Array, cols: number): MatrixView => ({ data, offset: 0, rowStride: cols, colStride: 1 });
const plain: WasmEpilogue = { beta: false, bias: undefined, biasOffset: 0, relu: false };

/** `matmul` on the WebAssembly backend into a fresh float32 output. */
function wasmMatmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Float32Array {
  const { batch = 1, m, n } = options;
  return matmul(new Float32Array(batch * m * n).fill(Number.NaN), a, b, { ...options, backend: "wasm" });
}

describe("the WebAssembly matmul kernel", () => {
  test("WebAssembly SIMD is available on this platform", () => {
    expect(wasmMatmulAvailable()).toBe(true);
  });

  test("the example of the doc comment multiplies a 2 x 2 matrix by itself", () => {
    const a = Float32Array.of(1, 2, 3, 4);
    const c = new Float32Array(4);
    const view = (data: Float32Array): MatrixView => ({ data, offset: 0, rowStride: 2, colStride: 1 });
    expect(wasmGemm(2, 2, 2, view(a), view(a), view(c), plain)).toBe(true);
    expect(Array.from(c)).toEqual([7, 10, 15, 22]);
  });

  test("every small shape, tile multiple or not, equals the triple loop exactly", () => {
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13];
    for (const m of sizes) {
      for (const k of sizes) {
        for (const n of sizes) {
          const a = ints(m * k, m + k);
          const b = ints(k * n, k + n);
          expect(Array.from(wasmMatmul(a, b, { m, k, n })), `${m} x ${k} x ${n}`).toEqual(naive(a, b, m, k, n));
        }
      }
    }
  });

  test("a product past a block of rows (128) and of depth (256) equals the triple loop exactly", () => {
    const [m, k, n] = [131, 301, 19];
    const a = ints(m * k, 1);
    const b = ints(k * n, 2);
    expect(Array.from(wasmMatmul(a, b, { m, k, n }))).toEqual(naive(a, b, m, k, n));
  });

  test("transposed operands and a batch with a shared B read the same matrices", () => {
    const [batch, m, k, n] = [3, 6, 10, 9];
    const a = ints(batch * m * k, 3);
    const b = ints(k * n, 4);
    const want = Array.from({ length: batch }, (_, t) => naive(a.subarray(t * m * k, (t + 1) * m * k), b, m, k, n)).flat();
    expect(Array.from(wasmMatmul(a, b, { batch, m, k, n, bBatchStride: 0 }))).toEqual(want);
    // The same products with each A stored [k, m] and B stored [n, k].
    const aT = new Float32Array(batch * m * k);
    for (let t = 0; t < batch; t++) for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) aT[t * m * k + p * m + i] = a[t * m * k + i * k + p] ?? 0;
    const bT = new Float32Array(k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bT[j * k + p] = b[p * n + j] ?? 0;
    expect(Array.from(wasmMatmul(aT, bT, { batch, m, k, n, bBatchStride: 0, transA: true, transB: true }))).toEqual(want);
  });

  test("the epilogue adds the bias to every row, then applies relu (NaN stays NaN)", () => {
    const [m, k, n] = [5, 7, 10];
    const a = ints(m * k, 5);
    a[3] = Number.NaN; // row 0
    const b = ints(k * n, 6);
    const bias = Float64Array.from({ length: n + 2 }, (_, j) => j - 4.5);
    const got = wasmMatmul(a, b, { m, k, n, bias, biasOffset: 2, activation: "relu" });
    const want = naive(a, b, m, k, n).map((s, at) => {
      const y = s + (bias[2 + (at % n)] ?? 0);
      return y < 0 ? 0 : y;
    });
    expect(Array.from(got)).toEqual(want);
    expect(got.subarray(0, n).every(Number.isNaN)).toBe(true);
  });

  test("accumulate adds the product to what a strided C holds, and leaves the rest alone", () => {
    const [m, k, n] = [6, 20, 11];
    const a = ints(m * k, 7);
    const b = ints(k * n, 8);
    // C column-major with 2 padding rows, starting at element 3.
    const c = ints(3 + n * (m + 2), 9);
    const before = Array.from(c);
    gemm(m, k, n, rowMajor(a, k), rowMajor(b, n), { data: c, offset: 3, rowStride: 1, colStride: m + 2 }, { accumulate: true, backend: "wasm" });
    const product = naive(a, b, m, k, n);
    const want = before.slice();
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) want[3 + i + j * (m + 2)] = (before[3 + i + j * (m + 2)] ?? 0) + (product[i * n + j] ?? 0);
    expect(Array.from(c)).toEqual(want);
  });

  test("an empty product writes nothing, and k = 0 leaves act(bias)", () => {
    const out = Float32Array.of(9, 9);
    matmul(out, new Float32Array(0), ints(10, 1), { m: 0, k: 5, n: 2, backend: "wasm" });
    expect(Array.from(out)).toEqual([9, 9]);
    matmul(out, new Float32Array(0), new Float32Array(0), { m: 1, k: 0, n: 2, bias: Float32Array.of(-1, 2), activation: "relu", backend: "wasm" });
    expect(Array.from(out)).toEqual([0, 2]);
  });

  test("operands whose rows lie apart (blocks of wider matrices) are cut into panels from their rows, whole panels and the rest", () => {
    const [m, k, n, width, offset] = [9, 300, 21, 40, 7];
    const wide = ints(offset + k * width, 5);
    const wideA = ints(3 + m * (k + 8), 6);
    const a = Float32Array.from({ length: m * k }, (_, i) => wideA[3 + Math.floor(i / k) * (k + 8) + (i % k)] ?? 0);
    const b = Float32Array.from({ length: k * n }, (_, i) => wide[offset + Math.floor(i / n) * width + (i % n)] ?? 0);
    const c = new Float32Array(m * n);
    expect(wasmGemm(m, k, n, { data: wideA, offset: 3, rowStride: k + 8, colStride: 1 }, { data: wide, offset, rowStride: width, colStride: 1 }, rowMajor(c, n), plain)).toBe(true);
    expect(Array.from(c)).toEqual(Array.from(naive(a, b, m, k, n)));
  });

  test("float64 operands are left to the JavaScript kernel", () => {
    const a = Float64Array.of(1, 2, 3, 4);
    expect(wasmGemm(2, 2, 2, rowMajor(a, 2), rowMajor(a, 2), rowMajor(new Float64Array(4), 2), plain)).toBe(false);
    expect(Array.from(matmul(new Float64Array(4), a, a, { m: 2, k: 2, n: 2, backend: "wasm" }))).toEqual([7, 10, 15, 22]);
  });

  test("the shared memory grows to the largest call's need and no further", () => {
    const run = (size: number): void => void wasmMatmul(ints(size * size, 1), ints(size * size, 2), { m: size, k: size, n: size });
    run(200);
    const grown = sharedHeap(0)?.byteLength;
    for (let i = 0; i < 5; i++) run(200);
    run(30);
    expect(sharedHeap(0)?.byteLength).toBe(grown);
  });
});

/** Seeded float32 values in [-1, 1) with full mantissas, so that every change of summation order shows in the bits. */
function floats(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * The kernel's sums written as plain loops in float32: each block of
 * `DEPTH_BLOCK` steps of k summed from 0 in order, `s + a * b` rounded per
 * operation, then added to the sum of the blocks before it.
 */
function float32Matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let p0 = 0; p0 < k; p0 += DEPTH_BLOCK) {
        let s = 0;
        for (let p = p0; p < Math.min(k, p0 + DEPTH_BLOCK); p++) s = Math.fround(s + Math.fround((a[i * k + p] ?? 0) * (b[p * n + j] ?? 0)));
        total = p0 === 0 ? s : Math.fround(total + s);
      }
      out[i * n + j] = total;
    }
  }
  return out;
}

describe("the bits of the WebAssembly matmul", () => {
  const shapes: readonly (readonly [number, number, number])[] = [[1, 1, 1], [5, 3, 7], [13, 31, 9], [37, 517, 29], [133, 259, 21]];
  const variants = [1, 2, 4, 8].flatMap((unroll) => [false, true].map((shuffleA) => ({ unroll, shuffleA })));

  test("equal a float32 loop in the kernel's summation order, on odd shapes and past blocks of k and rows", () => {
    for (const [m, k, n] of shapes) {
      const a = floats(m * k, m + k);
      const b = floats(k * n, k + n);
      const c = new Float32Array(m * n).fill(Number.NaN);
      expect(wasmGemm(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(c, n), plain)).toBe(true);
      expect(new Uint32Array(c.buffer), `${m} x ${k} x ${n}`).toEqual(new Uint32Array(float32Matmul(a, b, m, k, n).buffer));
    }
  });

  test("equal that loop for every layout the packing kernels read: transposed A and B, rows apart, partial panels, k % 4 steps", () => {
    /** `x` (`rows x cols`, row-major) stored as the view reads it: transposed or not, rows `pad` floats apart past their length, from `offset`. */
    const stored = (x: Float32Array, rows: number, cols: number, transposed: boolean, pad: number, offset: number): MatrixView => {
      const [outer, inner] = transposed ? [cols, rows] : [rows, cols];
      const data = new Float32Array(offset + outer * (inner + pad)).fill(Number.NaN);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[offset + (transposed ? j * (rows + pad) + i : i * (cols + pad) + j)] = x[i * cols + j] ?? 0;
      return transposed ? { data, offset, rowStride: 1, colStride: rows + pad } : { data, offset, rowStride: cols + pad, colStride: 1 };
    };
    const shapes: readonly (readonly [number, number, number])[] = [[4, 4, 8], [9, 10, 17], [37, 261, 29], [133, 259, 21], [130, 514, 40], [64, 7, 16]];
    for (const [m, k, n] of shapes) {
      const [a, b] = [floats(m * k, m + 2 * k), floats(k * n, k + 3 * n)];
      const want = new Uint32Array(float32Matmul(a, b, m, k, n).buffer);
      for (const [transA, transB, pad] of [[true, false, 0], [false, true, 0], [true, true, 0], [true, true, 3], [false, false, 5]] as const) {
        const c = new Float32Array(m * n).fill(Number.NaN);
        expect(wasmGemm(m, k, n, stored(a, m, k, transA, pad, 2), stored(b, k, n, transB, pad, 1), rowMajor(c, n), plain)).toBe(true);
        expect(new Uint32Array(c.buffer), `${m} x ${k} x ${n}, transA ${transA}, transB ${transB}, pad ${pad}`).toEqual(want);
      }
    }
  });

  test("with an epilogue, equal the plain product's sums finished as the JavaScript store loop finishes them (bias or C's old values, relu; zeros, -0, NaN, Inf)", () => {
    const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -1e-45, 3.4e38];
    for (const [m, k, n] of [[5, 3, 7], [37, 261, 29], [133, 40, 64], [140, 300, 300]] as const) {
      const [a, b] = [floats(m * k, m + k), floats(k * n, k + n)];
      const sums = new Float32Array(m * n);
      wasmGemm(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(sums, n), plain);
      // a bias that cancels some sums exactly (0 and -0 results) and holds the special values
      const bias = Float32Array.from({ length: n + 3 }, (_, j) => (j < 3 ? 9 : j % 5 === 0 ? -(sums[j - 3] ?? 0) : (special[j % special.length] ?? 0) + ((j * 7) % 3) - 1));
      const old = Float32Array.from({ length: m * n }, (_, i) => (i % 7 === 0 ? -(sums[i] ?? 0) : (special[i % special.length] ?? 0) + (i % 3)));
      for (const e of [{ bias: true, beta: false, relu: false }, { bias: true, beta: false, relu: true }, { bias: false, beta: true, relu: false }, { bias: false, beta: true, relu: true }, { bias: false, beta: false, relu: true }, { bias: true, beta: true, relu: true }]) {
        const epilogue: WasmEpilogue = { beta: e.beta, bias: e.bias ? bias : undefined, biasOffset: 3, relu: e.relu };
        const want = new Float32Array(m * n);
        for (let i = 0; i < m * n; i++) {
          const v = e.bias ? (sums[i] ?? 0) + (bias[3 + (i % n)] ?? 0) : (sums[i] ?? 0);
          const y = e.beta ? (old[i] ?? 0) + v : v;
          want[i] = e.relu && y < 0 ? 0 : y;
        }
        const c = old.slice();
        expect(wasmGemm(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(c, n), epilogue)).toBe(true);
        const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer), (u, i) => (Number.isNaN(x[i]) ? -1 : u));
        expect(bits(c), `${m} x ${k} x ${n}, ${JSON.stringify(e)}`).toEqual(bits(want));
      }
    }
  });

  test("are the same for every unroll of the loop over k and either way of splatting A", () => {
    for (const variant of variants) {
      const gemmOf = wasmGemmVariant(variant);
      expect(gemmOf).not.toBeNull();
      for (const [m, k, n] of shapes) {
        const a = floats(m * k, m * k);
        const b = floats(k * n, k * n);
        const want = new Float32Array(m * n);
        const got = new Float32Array(m * n).fill(Number.NaN);
        wasmGemm(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(want, n), plain);
        expect(gemmOf?.(m, k, n, rowMajor(a, k), rowMajor(b, n), rowMajor(got, n), plain)).toBe(true);
        expect(new Uint32Array(got.buffer), `${JSON.stringify(variant)}: ${m} x ${k} x ${n}`).toEqual(new Uint32Array(want.buffer));
      }
    }
  });

  test("an unsupported unroll is refused", () => {
    expect(() => wasmGemmVariant({ unroll: 3, shuffleA: false })).toThrow(/unroll of 3/);
  });
});

describe("without WebAssembly", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  test("the kernel reports it cannot run, and matmul falls back to JavaScript", async () => {
    vi.stubGlobal("WebAssembly", undefined);
    vi.resetModules();
    const kernels = await import("../../../src/backend/kernels/matmul.js");
    const wasm = await import("../../../src/backend/kernels/wasm-matmul.js");
    expect(wasm.wasmMatmulAvailable()).toBe(false);
    const [m, k, n] = [33, 40, 35];
    const a = ints(m * k, 1);
    const b = ints(k * n, 2);
    for (const backend of ["wasm", "auto"] as const) {
      expect(Array.from(kernels.matmul(new Float32Array(m * n), a, b, { m, k, n, backend }))).toEqual(naive(a, b, m, k, n));
    }
  });
});

describe("packed B operands kept for a call (PackedOperands)", () => {
  test("the example of withPackedB's doc comment packs w once and copies it for the second product", () => {
    const operands = new PackedOperands();
    operands.begin();
    const [h, w, out] = [new Float32Array(32 * 128).fill(1), new Float32Array(128 * 512).fill(0.5), new Float32Array(32 * 512)];
    withPackedB(operands.slot(0), () => matmul(out, h, w, { m: 32, k: 128, n: 512 }));
    out.fill(0);
    withPackedB(operands.slot(0), () => matmul(out, h, w, { m: 32, k: 128, n: 512 }));
    expect(out.every((x) => x === 64)).toBe(true);
    expect(operands.bytes()).toBe(128 * 512 * 4);
  });

  const [m, k, n] = [37, 300, 45];
  const a = floats(m * k, 41);
  const product = (b: Float32Array, options: Partial<MatmulOptions> = {}): Float32Array => wasmMatmul(a, b, { m, k, n, ...options });

  test("a second product with the same B copies its packing and gives the bits of a fresh packing", () => {
    const b = floats(k * n, 42);
    const operands = new PackedOperands();
    operands.begin();
    const packed = vi.spyOn(operands, "packed");
    const first = withPackedB(operands.slot(0), () => product(b));
    const second = withPackedB(operands.slot(0), () => product(b));
    expect(packed.mock.results.map((r) => r.value !== undefined)).toEqual([false, true]);
    expect(operands.bytes()).toBe(k * 48 * 4);
    expect(second).toEqual(first);
    expect(second).toEqual(product(b));
  });

  test("a transposed B is packed once as well, and a batch that repeats one B packs it once", () => {
    const bt = floats(n * k, 43);
    const operands = new PackedOperands();
    operands.begin();
    const keep = vi.spyOn(operands, "keep");
    const one = withPackedB(operands.slot(0), () => product(bt, { transB: true }));
    expect(withPackedB(operands.slot(0), () => product(bt, { transB: true }))).toEqual(one);
    const batched = withPackedB(operands.slot(1), () => wasmMatmul(floats(3 * k * m, 44), bt, { batch: 3, m, k, n, transA: true, transB: true, bBatchStride: 0 }));
    expect(keep).toHaveBeenCalledTimes(2);
    expect(batched).toEqual(wasmMatmul(floats(3 * k * m, 44), bt, { batch: 3, m, k, n, transA: true, transB: true, bBatchStride: 0 }));
  });

  test("a packing is never read stale: a new call, another array or another view packs again", () => {
    const b = floats(k * n, 45);
    const operands = new PackedOperands();
    operands.begin();
    withPackedB(operands.slot(0), () => product(b));
    // the same array, new values, in the next call
    b.set(floats(k * n, 46));
    operands.begin();
    expect(withPackedB(operands.slot(0), () => product(b))).toEqual(product(b));
    // another array under the same key in the same call
    const other = floats(k * n, 47);
    expect(withPackedB(operands.slot(0), () => product(other))).toEqual(product(other));
    // another view of the same array (B one row further on)
    const longer = floats((k + 1) * n, 48);
    withPackedB(operands.slot(1), () => product(longer));
    const shifted = longer.subarray(n);
    expect(withPackedB(operands.slot(1), () => product(shifted))).toEqual(product(shifted.slice()));
  });

  test("a batch of distinct B's neither reads nor keeps a packing", () => {
    const bs = floats(2 * k * n, 49);
    const operands = new PackedOperands();
    operands.begin();
    const got = withPackedB(operands.slot(0), () => wasmMatmul(floats(2 * m * k, 50), bs, { batch: 2, m, k, n }));
    expect(operands.bytes()).toBe(0);
    expect(got).toEqual(wasmMatmul(floats(2 * m * k, 50), bs, { batch: 2, m, k, n }));
  });
});
