/**
 * Laws of the WebAssembly matmul's packing (`wasm-matmul.ts`): every layout
 * an operand may be read in (row-major, transposed, rows apart, from an
 * offset) is packed into the same panels, so a product gives the bits of the
 * same product over row-major copies of its operands, and at 1, 2 and 3
 * threads alike (on the pool, B's panels may be cut by the tasks
 * themselves). The epilogue kernel's bits are those of the JavaScript loop.
 *
 * Shapes cover partial register tiles (m % 4, n % 8), depth blocks of
 * `k % 4` steps (left to JavaScript by the transposing kernels), several
 * blocks of k (past 256) and of rows (past 128), and products big enough
 * for the pool. A failing law prints its seed (fast-check).
 */

import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { matmul } from "../src/backend/kernels/matmul.js";
import type { MatrixView } from "../src/backend/kernels/matrix-view.js";
import { wasmGemm, type WasmEpilogue } from "../src/backend/kernels/wasm-matmul.js";
import { setThreads, threadsReady } from "../src/backend/threads/pool.js";
import { randomValues } from "../test/backend/support.js";

const COUNTS = [1, 2, 3] as const;
const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 60 : 10;

afterAll(() => setThreads(1));

/** Seeded float32 values in [-3, 3) with full mantissas, so that any change of summation order shows in the bits. */
const floats = (size: number, seed: number): Float32Array => Float32Array.from(randomValues(size, seed));

/** `x` (`rows x cols`, row-major) stored as a view reads it: transposed or not, its stored rows `pad` floats longer than they need, from `offset` (NaN around it). */
function stored(x: Float32Array, rows: number, cols: number, transposed: boolean, pad: number, offset: number): MatrixView<Float32Array> {
  const [outer, inner] = transposed ? [cols, rows] : [rows, cols];
  const data = new Float32Array(offset + outer * (inner + pad)).fill(Number.NaN);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[offset + (transposed ? j * (rows + pad) + i : i * (cols + pad) + j)] = x[i * cols + j] ?? 0;
  return transposed ? { data, offset, rowStride: 1, colStride: rows + pad } : { data, offset, rowStride: cols + pad, colStride: 1 };
}

const bitsOf = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);
const plain: WasmEpilogue = { beta: false, bias: undefined, biasOffset: 0, relu: false };

describe("the WebAssembly matmul's packing", () => {
  test("every layout of A and B gives the bits of the row-major product, at 1, 2 and 3 threads", async () => {
    const dims = fc.tuple(fc.constantFrom(4, 7, 64, 129, 200), fc.constantFrom(3, 10, 128, 258, 520), fc.constantFrom(8, 13, 256, 300));
    const layout = fc.tuple(fc.boolean(), fc.boolean(), fc.constantFrom(0, 0, 5), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 1000 }));
    await fc.assert(
      fc.asyncProperty(dims, layout, async ([m, k, n], [transA, transB, pad, offset, seed]) => {
        const [a, b] = [floats(m * k, seed), floats(k * n, seed + 1)];
        setThreads(1);
        const want = matmul(new Float32Array(m * n), a, b, { m, k, n, backend: "wasm" });
        for (const threads of COUNTS) {
          setThreads(threads);
          await threadsReady();
          const c = new Float32Array(m * n).fill(Number.NaN);
          expect(wasmGemm(m, k, n, stored(a, m, k, transA, pad, offset), stored(b, k, n, transB, pad, offset + 1), { data: c, offset: 0, rowStride: n, colStride: 1 }, plain)).toBe(true);
          expect(bitsOf(c), `${m} x ${k} x ${n}, transA ${transA}, transB ${transB}, pad ${pad}, ${threads} threads`).toEqual(bitsOf(want));
        }
      }),
      { numRuns },
    );
  });

  test("the epilogue kernel gives the bits of the JavaScript loop over the plain product's sums", () => {
    const dims = fc.tuple(fc.integer({ min: 1, max: 140 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 70 }));
    const epilogue = fc.constantFrom([true, false, false], [true, false, true], [false, true, false], [false, true, true], [false, false, true], [true, true, true]);
    fc.assert(
      fc.property(dims, epilogue, fc.integer({ min: 1, max: 1000 }), ([m, k, n], [withBias, beta, relu], seed) => {
        const [a, b, bias, old] = [floats(m * k, seed), floats(k * n, seed + 1), floats(n + 2, seed + 2), floats(m * n, seed + 3)];
        const view = (data: Float32Array, cols: number): MatrixView => ({ data, offset: 0, rowStride: cols, colStride: 1 });
        const sums = new Float32Array(m * n);
        wasmGemm(m, k, n, view(a, k), view(b, n), view(sums, n), plain);
        const want = Float32Array.from(sums, (sum, i) => {
          const v = withBias ? sum + (bias[2 + (i % n)] ?? 0) : sum;
          const y = beta ? (old[i] ?? 0) + v : v;
          return relu && y < 0 ? 0 : y;
        });
        const c = old.slice();
        wasmGemm(m, k, n, view(a, k), view(b, n), view(c, n), { beta, bias: withBias ? bias : undefined, biasOffset: 2, relu });
        expect(bitsOf(c)).toEqual(bitsOf(want));
      }),
      { numRuns: numRuns * 5 },
    );
  });
});
