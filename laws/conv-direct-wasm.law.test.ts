/**
 * Laws of the direct float32 convolution in WebAssembly (`direct-wasm.ts`),
 * the forward path of shallow windows (one or two input channels under a
 * 3 x 3 filter, any shallow window Winograd does not take):
 *
 * - it equals the float64 direct sum (the 7-deep loop, padding read as
 *   zeros) within its worst-case bound `directErrorBound(depth)` of the sum
 *   of `|x w|` and `|bias|`, plus DIRECT_ERROR_FLOOR per term, for every
 *   padding, stride and dilation, widths that are not whole register tiles,
 *   output channel counts that are not multiples of 8, the bias and relu,
 *   with edge values mixed in (+-0, subnormals, tiny and large magnitudes);
 * - a NaN or an infinity goes where the float64 loop has it (the kernel
 *   multiplies the padding's zeros too, as the loop does);
 * - the bits are the same run to run, whatever ran before, and at 1, 2, 3
 *   and 8 threads (runs of rows on the workers).
 */

import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { conv2dGeometry, type Conv2dParams, type ConvGeometry } from "../src/backend/kernels/conv/index.js";
import { conv2dDirectWasm, DIRECT_ERROR_FLOOR, directErrorBound, fitsDirectWasm } from "../src/backend/kernels/conv/direct-wasm.js";
import { wasmMatmulAvailable } from "../src/backend/kernels/wasm-matmul.js";
import { setThreads, tasksRunByWorkers, threadsReady } from "../src/backend/threads/pool.js";
import { padding, values } from "./support/conv-values.js";

const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 400 : 40;

afterAll(() => setThreads(1));

const directCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  inHeight: fc.integer({ min: 1, max: 13 }),
  inWidth: fc.integer({ min: 1, max: 13 }),
  inChannels: fc.integer({ min: 1, max: 4 }),
  kernelHeight: fc.integer({ min: 1, max: 4 }),
  kernelWidth: fc.integer({ min: 1, max: 4 }),
  outChannels: fc.integer({ min: 1, max: 20 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding,
  bias: fc.boolean(),
  relu: fc.boolean(),
  edgeEvery: fc.constantFrom(0, 3, 20),
  seed: fc.integer(),
});

type DirectCase = typeof directCase extends fc.Arbitrary<infer T> ? T : never;

/** The geometry, or undefined where the window does not fit (no output) or the kernel does not take it. */
function geometryOf(c: DirectCase): ConvGeometry | undefined {
  const params: Conv2dParams = { ...c, stride: c.stride, dilation: c.dilation };
  try {
    const g = conv2dGeometry(params);
    return g.outHeight > 0 && g.outWidth > 0 && fitsDirectWasm(g) ? g : undefined;
  } catch {
    return undefined;
  }
}

/** The float64 direct sum of each output and the sum of `|x w|` (a tap over the padding adds `0 * w`). */
function direct(x: Float32Array, w: Float32Array, g: ConvGeometry): { sums: Float64Array; magnitudes: Float64Array } {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outChannels: O } = g;
  const size = g.batch * g.outHeight * g.outWidth * O;
  const [sums, magnitudes] = [new Float64Array(size), new Float64Array(size)];
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let o = 0; o < O; o++) {
          const yi = ((n * g.outHeight + oh) * g.outWidth + ow) * O + o;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
              const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
              const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              for (let c = 0; c < C; c++) {
                const term = (inside ? (x[((n * H + ih) * W + iw) * C + c] ?? NaN) : 0) * (w[((kh * KW + kw) * C + c) * O + o] ?? NaN);
                sums[yi] = (sums[yi] ?? 0) + term;
                magnitudes[yi] = (magnitudes[yi] ?? 0) + Math.abs(term);
              }
            }
          }
        }
      }
    }
  }
  return { sums, magnitudes };
}

/** Where the bits of two float32 arrays first differ ("" where they do not): a cheap report for large arrays. */
function firstDifference(a: Float32Array, b: Float32Array): string {
  if (a.length !== b.length) return `${a.length} elements against ${b.length}`;
  const [ab, bb] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  for (let i = 0; i < ab.length; i++) if (ab[i] !== bb[i]) return `element ${i}: ${a[i]} against ${b[i]}`;
  return "";
}

const relu = (v: number): number => (v < 0 ? 0 : v);

/** The kernel's output for a case (NaN where it wrote nothing). */
function run(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | undefined, withRelu: boolean): Float32Array {
  const out = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels).fill(NaN);
  expect(conv2dDirectWasm(out, x, w, g, { beta: false, bias, biasOffset: 0, relu: withRelu })).toBe(true);
  return out;
}

describe.runIf(wasmMatmulAvailable())("the direct float32 convolution in WebAssembly", () => {
  // NOTE: first, while few kernels are compiled: a worker that starts compiles every kernel registered before it
  test("gives the same bits at 1, 2, 3 and 8 threads, runs of rows on the workers", async () => {
    const shapes: readonly Conv2dParams[] = [
      { batch: 64, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" },
      { batch: 33, inHeight: 31, inWidth: 29, inChannels: 2, kernelHeight: 3, kernelWidth: 3, outChannels: 13, padding: "valid" },
      { batch: 16, inHeight: 32, inWidth: 32, inChannels: 3, kernelHeight: 5, kernelWidth: 5, outChannels: 16, stride: 2, padding: "same" },
    ];
    for (const params of shapes) {
      const g = conv2dGeometry(params);
      const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, 7, 0);
      const w = values(g.kernelHeight * g.kernelWidth * g.inChannels * g.outChannels, 8, 0);
      const bias = values(g.outChannels, 9, 0);
      const before = tasksRunByWorkers();
      const results: Float32Array[] = [];
      for (const threads of [1, 2, 3, 8]) {
        setThreads(threads);
        await threadsReady();
        results.push(run(g, x, w, bias, true));
      }
      const first = results[0] ?? new Float32Array(0);
      for (const result of results) expect(firstDifference(result, first)).toBe("");
      // NOTE: on a busy machine the calling thread may claim every task before a worker wakes: again at 2 threads until a worker has taken one
      setThreads(2);
      for (let i = 0; i < 50 && tasksRunByWorkers() === before; i++) expect(firstDifference(run(g, x, w, bias, true), first)).toBe("");
      expect(tasksRunByWorkers() > before, `workers ran tasks for ${JSON.stringify(params)}`).toBe(true);
    }
  });

  test("equals the float64 direct sum within directErrorBound(depth) of the sum of |x w| and |bias|, edge values included", () => {
    fc.assert(
      fc.property(directCase, (c) => {
        const g = geometryOf(c);
        fc.pre(g !== undefined);
        const depth = g.kernelHeight * g.kernelWidth * g.inChannels;
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, c.edgeEvery);
        const w = values(depth * g.outChannels, c.seed + 1, c.edgeEvery);
        const bias = c.bias ? values(g.outChannels, c.seed + 2, c.edgeEvery) : undefined;
        const out = run(g, x, w, bias, c.relu);
        const { sums, magnitudes } = direct(x, w, g);
        for (let i = 0; i < out.length; i++) {
          const b = bias?.[i % g.outChannels] ?? 0;
          const want = c.relu ? relu((sums[i] ?? 0) + b) : (sums[i] ?? 0) + b;
          const bound = directErrorBound(depth) * ((magnitudes[i] ?? 0) + Math.abs(b)) + DIRECT_ERROR_FLOOR * (depth + 1);
          const got = out[i] ?? NaN;
          if (!(Math.abs(got - want) <= bound)) expect([i, got]).toEqual([i, want]);
        }
      }),
      { numRuns },
    );
  });

  test("a NaN or an infinity goes where the float64 loop has it", () => {
    fc.assert(
      fc.property(directCase, fc.constantFrom(NaN, Infinity, -Infinity), fc.boolean(), fc.nat(), (c, bad, inFilter, where) => {
        const g = geometryOf(c);
        fc.pre(g !== undefined);
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, 0);
        const w = values(g.kernelHeight * g.kernelWidth * g.inChannels * g.outChannels, c.seed + 1, 0);
        const target = inFilter ? w : x;
        target[where % target.length] = bad;
        const out = run(g, x, w, undefined, false);
        const { sums } = direct(x, w, g);
        for (let i = 0; i < out.length; i++) {
          const [want, got] = [sums[i] ?? 0, out[i] ?? NaN];
          if (Number.isFinite(want)) expect(Number.isFinite(got), `output ${i}: ${got} for ${want}`).toBe(true);
          else expect([i, got]).toEqual([i, want]);
        }
      }),
      { numRuns },
    );
  });

  test("gives the same bits run to run, whatever ran before", () => {
    fc.assert(
      fc.property(directCase, directCase, (c, other) => {
        const [g, h] = [geometryOf(c), geometryOf(other)];
        fc.pre(g !== undefined && h !== undefined);
        const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, c.edgeEvery);
        const w = values(g.kernelHeight * g.kernelWidth * g.inChannels * g.outChannels, c.seed + 1, c.edgeEvery);
        const first = run(g, x, w, undefined, c.relu);
        // another convolution in between leaves other values in the shared memory
        run(h, values(h.batch * h.inHeight * h.inWidth * h.inChannels, other.seed, 0), values(h.kernelHeight * h.kernelWidth * h.inChannels * h.outChannels, other.seed + 1, 0), undefined, false);
        const second = run(g, x, w, undefined, c.relu);
        expect(firstDifference(second, first)).toBe("");
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

});
