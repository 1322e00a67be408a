/**
 * Laws of the worker pool (`src/backend/threads/`): a parallel kernel gives
 * the same bits for any thread count, because its tasks are fixed by the
 * shapes and every sum is formed in one order whoever runs it.
 *
 * - the float32 matmul (the WebAssembly kernel on the pool) over random
 *   shapes big enough to split (2^21 to 2^25 multiply-adds), with edge sizes (one row, rows and columns
 *   around the 4 x 8 register tile, the 128-row block and the 256-deep block
 *   of k), transposed operands, a bias, relu and accumulation, equals its
 *   one-thread result bit for bit at 2, 3 and 8 threads;
 * - the convolution, whose implicit product runs on the same path, likewise;
 * - large fused loop nests (`parallel-loops.ts`): a gelu chain, softmax and
 *   logsumexp over rows and a layer norm (whose cheap nests stay on the
 *   calling thread), over random shapes big enough to split (edge row
 *   counts: few rows of many columns, rows that do not divide into whole
 *   tasks), equal their one-thread results bit for bit;
 * - the Winograd kernels of 3 x 3 convolutions (`winograd-wasm.ts`): the
 *   forward (chunks of tiles as tasks) and the filter gradient (its
 *   products by entry and its transforms by tile as tasks, each entry's sum
 *   over a kind of tile's tiles in tile order) over random shapes big enough to split, one
 *   to 40 input channels, output channels around the 8-wide panel, padding
 *   or none, each kernel checked to have given workers tasks;
 * - the direct filter gradient of one-channel convolutions
 *   (`filter-grad-direct.ts`), which runs on the calling thread at every
 *   count (measured no slower there), with `dy` staged or, a compiled
 *   program's buffer, read in place: the same bits at every count and both
 *   ways;
 * - three SGD steps of a jitted MLP (every product of its forward and
 *   backward passes large enough to split) end at the same parameters, bit
 *   for bit, at 1, 2, 3 and 8 threads; so do three of a jitted conv, bias +
 *   relu, max pool and dense, whose convolutions and poolings run on the
 *   pool over buffers in the kernels' memory.
 *
 * Each law waits for the workers to boot and checks that they ran tasks, so
 * that it cannot pass with the calling thread doing everything.
 */

import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { matmul as matmulKernel, withPackedB, type MatmulOptions } from "../src/backend/kernels/matmul.js";
import { PackedOperands } from "../src/backend/kernels/wasm-matmul.js";
import { conv2dGeometry, type ConvGeometry } from "../src/backend/kernels/conv/index.js";
import { conv2dFilterGradDirect } from "../src/backend/kernels/conv/filter-grad-direct.js";
import { conv2dFilterGradWinogradWasm, conv2dWinogradWasm } from "../src/backend/kernels/conv/winograd-wasm.js";
import { setThreads, tasksRunByWorkers, threadsReady } from "../src/backend/threads/pool.js";
import { arenaAllocator } from "../src/backend/wasm/kernel-memory.js";
import type { Shape } from "../src/core/shape.js";
import { Tensor } from "../src/core/tensor.js";
import { add, conv2d, gelu, logsumexp, matmul, maxPool2d, mean, mul, relu, reshape, rsqrt, softmax, softmaxCrossEntropy, square, sub } from "../src/index.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { lstm } from "../src/layers/recurrent.js";

const COUNTS = [1, 2, 3, 8] as const;
const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 60 : 8;

afterAll(() => setThreads(1));

/** Seeded float32 values in [-1, 1) with full mantissas, so that any change of summation order shows in the bits. */
function floats(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Where the bits of two lists of float32 arrays first differ ("" when they do not): a cheap report for large arrays. */
function firstDifference(a: readonly Float32Array[], b: readonly Float32Array[]): string {
  if (a.length !== b.length) return `${a.length} arrays against ${b.length}`;
  for (const [i, x] of a.entries()) {
    const y = b[i] ?? new Float32Array(0);
    if (x.length !== y.length) return `array ${i}: ${x.length} elements against ${y.length}`;
    const [xb, yb] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
    for (let j = 0; j < xb.length; j++) if (xb[j] !== yb[j]) return `array ${i}, element ${j}: ${x[j]} against ${y[j]}`;
  }
  return "";
}

/** Expects every result to have the first one's bits. */
function expectSameBits(results: readonly (readonly Float32Array[])[]): void {
  const [first = []] = results;
  results.forEach((result, i) => expect(firstDifference(result, first), `at ${COUNTS[i] ?? "?"} threads against 1`).toBe(""));
}

/** `run()` at each thread count, workers booted first; the results, and whether workers ran tasks. */
async function atEachCount<T>(run: () => T): Promise<{ results: T[]; workersRan: boolean }> {
  const before = tasksRunByWorkers();
  const results: T[] = [];
  for (const threads of COUNTS) {
    setThreads(threads);
    await threadsReady();
    results.push(run());
  }
  return { results, workersRan: tasksRunByWorkers() > before };
}

/** Three steps of `step` from `initial()` at each thread count: the same bits of every float32 leaf, in the order of its keys, and workers took part. */
async function expectStepsAgree<P extends Readonly<Record<string, Tensor<Shape>>>>(initial: () => P, step: (p: P) => P): Promise<void> {
  const seen = await atEachCount(() => {
    let p = initial();
    for (let i = 0; i < 3; i++) p = step(p);
    return Object.values(p).map((leaf) => leaf.data);
  });
  expectSameBits(seen.results);
  expect(seen.workersRan).toBe(true);
}

const rows = fc.constantFrom(1, 3, 4, 5, 127, 128, 129, 200, 300);
const depth = fc.constantFrom(1, 255, 256, 257, 513, 700, 2049);
const cols = fc.constantFrom(7, 8, 9, 255, 256, 257, 300, 1025);

describe("parallel kernels give the same bits at 1, 2, 3 and 8 threads", () => {
  test("the float32 matmul, with transposes, bias, relu and accumulation", async () => {
    let workersRan = false;
    const shapes = fc.tuple(rows, depth, cols, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 1000 }));
    await fc.assert(
      fc.asyncProperty(shapes.filter(([m, k, n]) => m * k * n >= 2 ** 21 && m * k * n <= 2 ** 25), async ([m, k, n, transA, transB, epilogue, accumulate, seed]) => {
        const [a, b, bias, old] = [floats(m * k, seed), floats(k * n, seed + 1), floats(n, seed + 2), floats(m * n, seed + 3)];
        const options: MatmulOptions = { m, k, n, transA, transB, backend: "wasm", ...(epilogue ? { bias, activation: "relu" } : {}), ...(accumulate ? { accumulate: true } : {}) };
        const seen = await atEachCount(() => [matmulKernel(old.slice(), a, b, options)]);
        workersRan ||= seen.workersRan;
        expectSameBits(seen.results);
      }),
      { numRuns },
    );
    expect(workersRan).toBe(true);
  });

  test("products of few rows and few columns, cut into runs of register tiles or with B's panels cut by the tasks, with and without a kept packing of B", async () => {
    const shapes: readonly (readonly [number, number, number, boolean])[] = [[32, 512, 128, true], [32, 128, 512, false], [128, 128, 128, false], [13, 1025, 160, false], [130, 128, 128, true], [128, 258, 516, true], [100, 520, 260, false]];
    for (const [m, k, n, transB] of shapes) {
      const [a, b] = [floats(m * k, m + k), floats(k * n, k + n)];
      const operands = new PackedOperands();
      const run = (): Float32Array[] => {
        operands.begin();
        const product = (): Float32Array => matmulKernel(new Float32Array(m * n), a, b, { m, k, n, transB, backend: "wasm" });
        return [product(), withPackedB(operands.slot(0), product), withPackedB(operands.slot(0), product)];
      };
      const before = tasksRunByWorkers();
      const seen = await atEachCount(run);
      expectSameBits(seen.results);
      // NOTE: these products are small (about 0.1 ms): the calling thread may claim every task before a worker wakes, so they run again at 2 threads until a worker has taken one
      setThreads(2);
      for (let i = 0; i < 50 && tasksRunByWorkers() === before; i++) expect(firstDifference(run(), seen.results[0] ?? []), `${m} x ${k} x ${n} again at 2 threads`).toBe("");
      expect(tasksRunByWorkers() > before, `${m} x ${k} x ${n}`).toBe(true);
    }
  });

  test("a 3 x 3 convolution and both its gradients", async () => {
    const x: Tensor<[8, 16, 16, 32]> = new Tensor([8, 16, 16, 32], "float32", floats(8 * 16 * 16 * 32, 11));
    const w: Tensor<[3, 3, 32, 64]> = new Tensor([3, 3, 32, 64], "float32", floats(3 * 3 * 32 * 64, 12));
    const loss = (xs: Tensor<[8, 16, 16, 32]>, ws: Tensor<[3, 3, 32, 64]>): Tensor<[], "float32"> => mean(square(conv2d(xs, ws, { padding: "same" })));
    const step = jit((xs: Tensor<[8, 16, 16, 32]>, ws: Tensor<[3, 3, 32, 64]>) => valueAndGrad(loss, { argnums: [0, 1] })(xs, ws));
    const seen = await atEachCount(() => {
      const [l, [dx, dw]] = step(x, w);
      return [l.data, dx.data, dw.data];
    });
    expectSameBits(seen.results);
    expect(seen.workersRan).toBe(true);
  });

  test("large fused elementwise nests and row reductions: gelu chain, softmax, logsumexp, layer norm", async () => {
    let workersRan = false;
    const shapes = fc.tuple(fc.constantFrom(5, 257, 300, 513, 1000), fc.constantFrom(1021, 1024, 1031, 70001), fc.integer({ min: 1, max: 1000 }));
    const f = jit((x: Tensor<[number, number]>, a: Tensor<[number]>, b: Tensor<[number]>) => {
      const centred = sub(x, mean(x, -1, true));
      // (x - mean) / sqrt(mean((x - mean)²) + eps)
      const normed = mul(centred, rsqrt(add(mean(square(centred), -1, true), 1e-5)));
      return [gelu(add(mul(x, a), b), { approximate: "tanh" }), softmax(x), logsumexp(x, -1), normed] as const;
    });
    await fc.assert(
      fc.asyncProperty(shapes.filter(([m, n]) => m * n >= 2 ** 18 && m * n <= 2 ** 20), async ([m, n, seed]) => {
        const x: Tensor<[number, number]> = new Tensor([m, n], "float32", floats(m * n, seed).map((v) => 4 * v));
        const a: Tensor<[number]> = new Tensor([n], "float32", floats(n, seed + 1));
        const b: Tensor<[number]> = new Tensor([n], "float32", floats(n, seed + 2));
        const seen = await atEachCount(() => f(x, a, b).map((t) => t.data));
        workersRan ||= seen.workersRan;
        expectSameBits(seen.results);
      }),
      { numRuns },
    );
    expect(workersRan).toBe(true);
  });

  test("the Winograd forward and filter gradient of 3 x 3 convolutions, each on the workers", async () => {
    const [forwardRan, gradientRan] = [{ ran: false }, { ran: false }];
    const shapes = fc.record({
      batch: fc.integer({ min: 1, max: 8 }),
      side: fc.integer({ min: 6, max: 30 }),
      inChannels: fc.constantFrom(1, 3, 4, 16, 32, 40),
      outChannels: fc.constantFrom(7, 8, 9, 32, 64),
      padding: fc.constantFrom("same" as const, "valid" as const),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    /**
     * The geometry, where its products are enough to split and not much more: 2^21 multiply-adds of whole 4 x 4 tiles, the kernels'
     * threshold (their edge tiles take fewer, so a shape near it may run on one thread: some of the drawn shapes do split, checked below).
     */
    const geometryOf = (c: typeof shapes extends fc.Arbitrary<infer T> ? T : never): ConvGeometry | undefined => {
      const g = conv2dGeometry({ batch: c.batch, inHeight: c.side, inWidth: c.side, inChannels: c.inChannels, kernelHeight: 3, kernelWidth: 3, outChannels: c.outChannels, padding: c.padding });
      const products = c.batch * Math.ceil(g.outHeight / 4) * Math.ceil(g.outWidth / 4) * 36 * Math.ceil(c.inChannels / 4) * 4 * Math.ceil(c.outChannels / 8) * 8;
      return products >= 2 ** 21 && products <= 2 ** 24 ? g : undefined;
    };
    /** `run()` at each count, and whether workers ran tasks during its calls alone. */
    const countingWorkers = async (ran: { ran: boolean }, run: () => Float32Array): Promise<Float32Array[]> => {
      const results: Float32Array[] = [];
      for (const threads of COUNTS) {
        setThreads(threads);
        await threadsReady();
        const before = tasksRunByWorkers();
        results.push(run());
        ran.ran ||= tasksRunByWorkers() > before;
      }
      return results;
    };
    await fc.assert(
      fc.asyncProperty(shapes.filter((c) => geometryOf(c) !== undefined), async (c) => {
        const g = geometryOf(c);
        if (g === undefined) throw new Error("the filter let a shape through that does not split");
        const x = floats(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed);
        const w = floats(9 * g.inChannels * g.outChannels, c.seed + 1);
        const dy = floats(g.batch * g.outHeight * g.outWidth * g.outChannels, c.seed + 2);
        const y = await countingWorkers(forwardRan, () => {
          const out = new Float32Array(dy.length);
          expect(conv2dWinogradWasm(out, x, w, g, { beta: false, bias: undefined, biasOffset: 0, relu: false })).toBe(true);
          return out;
        });
        const dw = await countingWorkers(gradientRan, () => {
          const out = new Float32Array(w.length);
          expect(conv2dFilterGradWinogradWasm(out, x, dy, g)).toBe(true);
          return out;
        });
        expectSameBits(y.map((r) => [r]));
        expectSameBits(dw.map((r) => [r]));
      }),
      { numRuns },
    );
    expect(forwardRan.ran).toBe(true);
    expect(gradientRan.ran).toBe(true);
  });

  test("the direct filter gradient of one-channel convolutions gives the same bits at every thread count (on the calling thread, with dy staged or read in place)", async () => {
    const shapes = fc.record({
      batch: fc.integer({ min: 8, max: 64 }),
      side: fc.integer({ min: 12, max: 30 }),
      outChannels: fc.constantFrom(7, 8, 13, 32, 64),
      padding: fc.constantFrom("same" as const, "valid" as const),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    /** The geometry, where its multiply-adds (with the output channels rounded up to 4) reach 2^21 (the sizes the pool once took). */
    const geometryOf = (c: typeof shapes extends fc.Arbitrary<infer T> ? T : never): ConvGeometry | undefined => {
      const g = conv2dGeometry({ batch: c.batch, inHeight: c.side, inWidth: c.side, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: c.outChannels, padding: c.padding });
      return g.batch * g.outHeight * g.outWidth * 9 * Math.ceil(c.outChannels / 4) * 4 >= 2 ** 21 ? g : undefined;
    };
    await fc.assert(
      fc.asyncProperty(shapes.filter((c) => geometryOf(c) !== undefined), async (c) => {
        const g = geometryOf(c);
        if (g === undefined) throw new Error("the filter let a shape through below 2^21 multiply-adds");
        const x = floats(g.batch * g.inHeight * g.inWidth, c.seed);
        const dy = floats(g.batch * g.outHeight * g.outWidth * g.outChannels, c.seed + 1);
        // the same dy as a compiled program's buffer (read in place where its channels go in fours)
        const arena = arenaAllocator({});
        const dyIn = arena.take(dy.length);
        dyIn?.set(dy);
        const seen = await atEachCount(() => {
          const [dw, dwIn] = [new Float32Array(9 * g.outChannels), new Float32Array(9 * g.outChannels)];
          expect(conv2dFilterGradDirect(dw, x, dy, g)).toBe(true);
          expect(conv2dFilterGradDirect(dwIn, x, dyIn ?? dy, g)).toBe(true);
          return [dw, dwIn];
        });
        arena.release();
        expectSameBits(seen.results);
        // in place or staged, the same sums
        const [[dw, dwIn] = []] = seen.results;
        expect(firstDifference([dw ?? new Float32Array(0)], [dwIn ?? new Float32Array(0)])).toBe("");
      }),
      { numRuns: Math.min(numRuns, 4) },
    );
  });

  test("three SGD steps of a jitted MLP end at the same parameters", async () => {
    type Params = { readonly w1: Tensor<[256, 256]>; readonly b1: Tensor<[256]>; readonly w2: Tensor<[256, 10]>; readonly b2: Tensor<[10]> };
    const x: Tensor<[64, 256]> = new Tensor([64, 256], "float32", floats(64 * 256, 21));
    const y: Tensor<[64], "int32"> = new Tensor([64], "int32", Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 10));
    const initial = (): Params => ({
      w1: new Tensor([256, 256], "float32", floats(256 * 256, 22).map((v) => v / 16)),
      b1: new Tensor([256], "float32", floats(256, 23)),
      w2: new Tensor([256, 10], "float32", floats(2560, 24).map((v) => v / 16)),
      b2: new Tensor([10], "float32", floats(10, 25)),
    });
    const loss = (p: Params, xs: Tensor<[64, 256]>, ys: Tensor<[64], "int32">): Tensor<[], "float32"> => mean(softmaxCrossEntropy(add(matmul(relu(add(matmul(xs, p.w1), p.b1)), p.w2), p.b2), ys));
    const lossAndGrad = valueAndGrad(loss);
    const step = jit((p: Params, xs: Tensor<[64, 256]>, ys: Tensor<[64], "int32">): Params => {
      const [, g] = lossAndGrad(p, xs, ys);
      // p - 0.1 g, leaf by leaf
      return { w1: sub(p.w1, mul(g.w1, 0.1)), b1: sub(p.b1, mul(g.b1, 0.1)), w2: sub(p.w2, mul(g.w2, 0.1)), b2: sub(p.b2, mul(g.b2, 0.1)) };
    });
    await expectStepsAgree(initial, (p) => step(p, x, y));
  });

  test("three SGD steps of a jitted conv, bias + relu, max pool and dense end at the same parameters (its convolutions and poolings run on the pool in the kernels' memory)", async () => {
    // batch 48: the poolings are 24 tasks of whole images
    type Params = { readonly w: Tensor<[3, 3, 1, 32]>; readonly b: Tensor<[32]>; readonly v: Tensor<[6272, 10]>; readonly c: Tensor<[10]> };
    const x: Tensor<[48, 28, 28, 1]> = new Tensor([48, 28, 28, 1], "float32", floats(48 * 28 * 28, 41));
    const y: Tensor<[48], "int32"> = new Tensor([48], "int32", Int32Array.from({ length: 48 }, (_, i) => (i * 3) % 10));
    const initial = (): Params => ({
      w: new Tensor([3, 3, 1, 32], "float32", floats(288, 42).map((v) => v / 2)),
      b: new Tensor([32], "float32", floats(32, 43).map((v) => v / 8)),
      v: new Tensor([6272, 10], "float32", floats(62720, 44).map((v) => v / 64)),
      c: new Tensor([10], "float32", floats(10, 45)),
    });
    const loss = (p: Params, xs: Tensor<[48, 28, 28, 1]>, ys: Tensor<[48], "int32">): Tensor<[], "float32"> => {
      const pooled = maxPool2d(relu(add(conv2d(xs, p.w, { padding: "same" }), p.b)), [2, 2]);
      return mean(softmaxCrossEntropy(add(matmul(reshape(pooled, [48, 6272]), p.v), p.c), ys));
    };
    const lossAndGrad = valueAndGrad(loss);
    const step = jit((p: Params, xs: Tensor<[48, 28, 28, 1]>, ys: Tensor<[48], "int32">): Params => {
      const [, g] = lossAndGrad(p, xs, ys);
      return { w: sub(p.w, mul(g.w, 0.1)), b: sub(p.b, mul(g.b, 0.1)), v: sub(p.v, mul(g.v, 0.1)), c: sub(p.c, mul(g.c, 0.1)) };
    });
    await expectStepsAgree(initial, (p) => step(p, x, y));
  });

  test("a jitted LSTM's forward and backward, whose products share one packing of the recurrent weights per call", async () => {
    // 32 x 128 @ 128 x 512 (2^21 multiply-adds) per time step: the parallel product, its B copied from the call's packing
    const layer = lstm(16, 128);
    const xs: Tensor<[32, 6, 16]> = new Tensor([32, 6, 16], "float32", floats(32 * 6 * 16, 31));
    const p = { wx: new Tensor([16, 512], "float32", floats(16 * 512, 32).map((v) => v / 4)), wh: new Tensor([128, 512], "float32", floats(128 * 512, 33).map((v) => v / 8)), b: new Tensor([512], "float32", floats(512, 34)) };
    const step = jit(valueAndGrad((q: typeof p, x: Tensor<[32, 6, 16]>): Tensor<[], "float32"> => mean(square(layer.apply(q, x)))));
    const seen = await atEachCount(() => {
      const [l, g] = step(p, xs);
      return [l.data, g.wx.data, g.wh.data, g.b.data];
    });
    expectSameBits(seen.results);
    expect(seen.workersRan).toBe(true);
  });
});
