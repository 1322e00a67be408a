import { describe, expect, test } from "vitest";
import { ones, zeros } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, mul } from "../../src/ops/elementwise.js";
import { DEFAULT_MAX_SIGNATURES, jitCacheStats, programBytes, setJitCacheBudget } from "../../src/transforms/jit-cache.js";
import { jit } from "../../src/transforms/jit.js";
import { collectGarbage } from "../support/gc.js";

/** A function whose program holds a constant as large as its input (the case that grows fastest). */
const withConstant = (x: Tensor<[number]>) => mul(add(x, ones([x.shape[0]])), 2);

describe("the jit cache", () => {
  test("one jitted function keeps at most 64 signatures by default, least recently used evicted first", () => {
    const f = jit(withConstant);
    for (let n = 1; n <= 100; n++) f(zeros([n]));
    expect(f.traces).toBe(100);
    expect(f.cached).toBe(DEFAULT_MAX_SIGNATURES);
    f(zeros([100])); // the most recent: still compiled
    expect(f.traces).toBe(100);
    f(zeros([1])); // evicted long ago: traced again
    expect(f.traces).toBe(101);
    expect(f(zeros([1])).toArray()).toEqual([2]);
  });

  test("maxSignatures bounds one function, and a bad value is a RangeError", () => {
    const f = jit(withConstant, { maxSignatures: 2 });
    for (const n of [1, 2, 1, 3]) f(zeros([n]));
    expect(f.cached).toBe(2);
    expect(f.traces).toBe(3); // 1 was used again before 3 came, so 2 went
    f(zeros([1]));
    expect(f.traces).toBe(3);
    expect(() => jit(withConstant, { maxSignatures: 0 })).toThrow(new RangeError("jit: maxSignatures must be an integer of at least 1, got 0"));
  });

  test("the byte budget bounds every jitted function together, and evicts the least recently used anywhere", () => {
    const before = setJitCacheBudget(64 * 1024);
    try {
      const f = jit(withConstant);
      const g = jit(withConstant);
      f(zeros([4096])); // a 16 KiB constant
      g(zeros([4096]));
      for (let n = 1; n <= 40; n++) g(zeros([4096 + n]));
      expect(jitCacheStats().bytes).toBeLessThanOrEqual(64 * 1024);
      expect(f.cached).toBe(0); // f's program was the least recently used of all
      expect(g.cached).toBeGreaterThan(0);
      expect(() => setJitCacheBudget(-1)).toThrow(RangeError);
    } finally {
      setJitCacheBudget(before);
    }
  });

  test("a program's size counts its constants and its equations", () => {
    const f = jit(withConstant);
    f(zeros([1000]));
    const program = f.lastProgram;
    expect(program === undefined ? 0 : programBytes(program)).toBeGreaterThanOrEqual(4000);
  });

  test("1,000 signatures through one jitted function keep memory bounded by the budget", async () => {
    const budget = 8 * 2 ** 20;
    const before = setJitCacheBudget(budget);
    try {
      await collectGarbage();
      const start = process.memoryUsage();
      const f = jit(withConstant);
      let largest = 0;
      for (let n = 1; n <= 1000; n++) {
        f(zeros([n * 64])); // constants of 256 B .. 256 KiB: 125 MiB if all were kept
        largest = Math.max(largest, jitCacheStats().bytes);
        expect(f.cached).toBeLessThanOrEqual(DEFAULT_MAX_SIGNATURES);
      }
      expect(f.traces).toBe(1000);
      expect(largest).toBeLessThanOrEqual(budget);
      // after a full collection, what is still held is the budget plus a little (the kernel cache, the WebAssembly memory)
      await collectGarbage();
      const end = process.memoryUsage();
      const grown = { heap: end.heapUsed - start.heapUsed, arrayBuffers: end.arrayBuffers - start.arrayBuffers };
      if (process.env["STRATUM_MEMORY_REPORT"] !== undefined) console.log(`jit cache: ${largest} bytes counted at most; after gc heap +${grown.heap}, array buffers +${grown.arrayBuffers}`);
      expect(grown.arrayBuffers).toBeLessThan(budget + 16 * 2 ** 20);
      expect(grown.heap).toBeLessThan(64 * 2 ** 20);
    } finally {
      setJitCacheBudget(before);
    }
  });
});
