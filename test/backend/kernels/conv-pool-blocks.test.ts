import { describe, expect, test } from "vitest";
import { maxPool2d, maxPool2dBackward, type Pool2dParams } from "../../../src/backend/kernels/conv/index.js";
import { blockMaxPool, blockMaxPoolBackward } from "../../../src/backend/kernels/conv/wasm-pool-blocks.js";
import { conv2dGeometry } from "../../../src/backend/kernels/conv/geometry.js";
import { wasmMatmulAvailable } from "../../../src/backend/kernels/wasm-matmul.js";
import { arenaAddress, arenaAllocator, watchArena } from "../../../src/backend/wasm/kernel-memory.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";
import { setThreads, tasksRunByWorkers, threadsReady, threadSupport } from "../../../src/backend/threads/pool.js";
import { copiedByCall } from "../support.js";

/** Seeded small integers in [-3, 3] (many ties, -0 among them), one in 16 NaN. */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    if (u < 1 / 16) return Number.NaN;
    const v = Math.round(u * 7 - 3.5);
    return v === 0 && u > 0.5 ? -0 : v;
  });
}

/** The geometry the pooling functions build (a pooling is a convolution of one channel per group). */
function geometryOf(p: Pool2dParams): ReturnType<typeof conv2dGeometry> {
  const stride = p.stride ?? [p.windowHeight, p.windowWidth];
  return conv2dGeometry({
    batch: p.batch, inHeight: p.inHeight, inWidth: p.inWidth, inChannels: p.channels, kernelHeight: p.windowHeight, kernelWidth: p.windowWidth,
    outChannels: p.channels, groups: p.channels, stride, padding: p.padding ?? "valid",
  });
}

/** The same bits (NaN payloads and the sign of 0 included); the arrays themselves when not, for the message. */
function expectSameBits(got: Float32Array, want: Float32Array): void {
  const [a, b] = [new Uint32Array(got.buffer, got.byteOffset, got.length), new Uint32Array(want.buffer, want.byteOffset, want.length)];
  // the integer views: toEqual takes any two NaNs as equal, whatever their payloads
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) expect(Array.from(a)).toEqual(Array.from(b));
}

describe.runIf(wasmMatmulAvailable())("max pooling a block at a time in WebAssembly", () => {
  // 70 x 70 x 8 float32 is 153 KiB an image: blocks of rows; 7 x 7 x 4, blocks of whole images
  const cases: readonly [string, Pool2dParams, boolean][] = [
    ["2 x 2, stride 2, blocks of rows", { batch: 2, inHeight: 70, inWidth: 70, channels: 8, windowHeight: 2, windowWidth: 2 }, true],
    ["2 x 2, stride 2, odd sizes (a row and a column under no window)", { batch: 2, inHeight: 71, inWidth: 69, channels: 8, windowHeight: 2, windowWidth: 2 }, true],
    ["2 x 3, stride 3 x 4 (gaps between windows)", { batch: 1, inHeight: 80, inWidth: 70, channels: 8, windowHeight: 2, windowWidth: 3, stride: [3, 4] }, true],
    ["3 x 3, stride 2 (windows overlap: the forward only)", { batch: 2, inHeight: 71, inWidth: 70, channels: 8, windowHeight: 3, windowWidth: 3, stride: 2 }, false],
    ["2 x 2, stride 2, 'same' on even sizes (no padding), blocks of images", { batch: 9, inHeight: 6, inWidth: 8, channels: 4, windowHeight: 2, windowWidth: 2, padding: "same" }, true],
  ];

  test.each(cases)("%s: the bits of the float64 loops", (_name, params, gradient) => {
    const g = geometryOf(params);
    const x = values(params.batch * params.inHeight * params.inWidth * params.channels, 1);
    const outSize = params.batch * g.outHeight * g.outWidth * params.channels;
    const dy = values(outSize, 2);
    const out = new Float32Array(outSize).fill(7);
    expect(blockMaxPool(g, x, out)).toBe(true);
    const want = maxPool2d(new Float64Array(outSize), Float64Array.from(x), params);
    expectSameBits(out, Float32Array.from(want));
    const dx = new Float32Array(x.length).fill(7);
    expect(blockMaxPoolBackward(g, x, dy, dx)).toBe(gradient);
    if (!gradient) return;
    const wantDx = maxPool2dBackward(new Float64Array(x.length), Float64Array.from(x), Float64Array.from(dy), params);
    expectSameBits(dx, Float32Array.from(wantDx));
    // and through the public functions, which take these kernels first
    expectSameBits(maxPool2dBackward(new Float32Array(x.length).fill(7), x, dy, params), dx);
  });

  test.runIf(sharing.shared).each(cases)("%s: on a compiled program's buffers in the kernels' memory, pooled in place with the same bits", (_name, params, gradient) => {
    const g = geometryOf(params);
    const size = params.batch * params.inHeight * params.inWidth * params.channels;
    const outSize = params.batch * g.outHeight * g.outWidth * params.channels;
    const arena = arenaAllocator({});
    const [x, dy, out, dx] = [arena.take(size), arena.take(outSize), arena.take(outSize), arena.take(size)];
    if (x === undefined || dy === undefined || out === undefined || dx === undefined) throw new Error("no buffers in the kernels' memory");
    x.set(values(size, 1));
    dy.set(values(outSize, 2));
    const want = new Float32Array(outSize);
    expect(blockMaxPool(g, Float32Array.from(x), want)).toBe(true);
    out.fill(7);
    const forward = watchArena(() => blockMaxPool(g, x, out));
    expect(forward.result).toBe(true);
    expect([...forward.addresses].sort()).toEqual([x.byteOffset, out.byteOffset].sort());
    // read where it is, not staged block by block (the last four channels of a pixel and the first four of the next)
    expect(copiedByCall(x, params.channels - 4, () => void blockMaxPool(g, x, out))).toBe(false);
    expectSameBits(out, want);
    if (gradient) {
      const wantDx = new Float32Array(size);
      expect(blockMaxPoolBackward(g, Float32Array.from(x), Float32Array.from(dy), wantDx)).toBe(true);
      dx.fill(7); // elements under no window must come out 0
      const backward = watchArena(() => blockMaxPoolBackward(g, x, dy, dx));
      expect(backward.result).toBe(true);
      expect([...backward.addresses].sort()).toEqual([x.byteOffset, dy.byteOffset, dx.byteOffset].sort());
      expect(copiedByCall(x, params.channels - 4, () => void blockMaxPoolBackward(g, x, dy, dx))).toBe(false);
      expect(copiedByCall(dy, params.channels - 4, () => void blockMaxPoolBackward(g, x, dy, dx))).toBe(false);
      expectSameBits(dx, wantDx);
    }
    arena.release();
  });

  test.runIf(threadSupport().available)("in place at two threads: tasks of whole images, some run by a worker, with the same bits", async () => {
    // 24 images of 28 x 28 x 32 (98 KiB each): 12 tasks of two images
    const params: Pool2dParams = { batch: 24, inHeight: 28, inWidth: 28, channels: 32, windowHeight: 2, windowWidth: 2 };
    const g = geometryOf(params);
    const size = 24 * 28 * 28 * 32;
    const outSize = 24 * 14 * 14 * 32;
    const arena = arenaAllocator({});
    const [x, dy, out, dx] = [arena.take(size), arena.take(outSize), arena.take(outSize), arena.take(size)];
    if (x === undefined || dy === undefined || out === undefined || dx === undefined) throw new Error("no buffers in the kernels' memory");
    x.set(values(size, 5));
    dy.set(values(outSize, 6));
    const [want, wantDx] = [new Float32Array(outSize), new Float32Array(size)];
    expect(blockMaxPool(g, Float32Array.from(x), want)).toBe(true);
    expect(blockMaxPoolBackward(g, Float32Array.from(x), Float32Array.from(dy), wantDx)).toBe(true);
    setThreads(2);
    try {
      await threadsReady();
      const before = tasksRunByWorkers();
      // NOTE: the calling thread may claim every task of a call before a worker wakes; a few calls give the worker its turn
      for (let i = 0; i < 20 && tasksRunByWorkers() === before; i++) {
        out.fill(7);
        dx.fill(7);
        expect(blockMaxPool(g, x, out)).toBe(true);
        expect(blockMaxPoolBackward(g, x, dy, dx)).toBe(true);
      }
      expect(tasksRunByWorkers()).toBeGreaterThan(before);
    } finally {
      setThreads(1);
    }
    expectSameBits(out, want);
    expectSameBits(dx, wantDx);
    arena.release();
  });

  test.runIf(sharing.shared)("the in-place gradient takes dx below x in the memory (a negative distance)", () => {
    const params: Pool2dParams = { batch: 2, inHeight: 8, inWidth: 6, channels: 4, windowHeight: 2, windowWidth: 2 };
    const g = geometryOf(params);
    const size = 2 * 8 * 6 * 4;
    const outSize = 2 * 4 * 3 * 4;
    const arena = arenaAllocator({});
    const [dx, x, dy] = [arena.take(size), arena.take(size), arena.take(outSize)];
    if (x === undefined || dy === undefined || dx === undefined) throw new Error("no buffers in the kernels' memory");
    expect((arenaAddress(dx) ?? 0) < (arenaAddress(x) ?? 0)).toBe(true);
    x.set(values(size, 3));
    dy.set(values(outSize, 4));
    const want = new Float32Array(size);
    expect(blockMaxPoolBackward(g, Float32Array.from(x), Float32Array.from(dy), want)).toBe(true);
    expect(blockMaxPoolBackward(g, x, dy, dx)).toBe(true);
    expectSameBits(dx, want);
    arena.release();
  });

  test("leaves padding and channels that are not in fours to the other kernels", () => {
    const base: Pool2dParams = { batch: 1, inHeight: 5, inWidth: 5, channels: 4, windowHeight: 2, windowWidth: 2 };
    const padded = { ...base, padding: "same" as const };
    const out = new Float32Array(9);
    expect(blockMaxPool(geometryOf(padded), values(100, 1), out.fill(7))).toBe(false);
    expect(out.every((v) => v === 7)).toBe(true);
    expect(blockMaxPool(geometryOf({ ...base, channels: 3 }), values(75, 1), new Float32Array(12))).toBe(false);
  });
});
