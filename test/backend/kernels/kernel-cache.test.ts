import { describe, expect, test } from "vitest";
import { KernelCache, kernelBuilds } from "../../../src/backend/kernels/conv/kernel-cache.js";

describe("the convolution kernels' cache", () => {
  test("keeps at most its capacity, dropping the least recently used, and counts its builds", () => {
    const cache = new KernelCache<string>(2);
    const before = kernelBuilds();
    const made: string[] = [];
    const get = (key: string): string =>
      cache.get(key, () => {
        made.push(key);
        return `value ${key}`;
      });
    expect(get("a")).toBe("value a");
    expect(get("b")).toBe("value b");
    expect(get("a")).toBe("value a"); // a is now the most recently used
    expect(get("c")).toBe("value c"); // b goes
    expect(get("a")).toBe("value a");
    expect(get("b")).toBe("value b"); // built again; c goes
    expect(made).toEqual(["a", "b", "c", "b"]);
    expect(cache.size).toBe(2);
    expect(cache.builds).toBe(4);
    expect(kernelBuilds() - before).toBe(4);
  });

  test("keeps a null (a kernel this engine cannot build) without building it again", () => {
    const cache = new KernelCache<string | null>(4);
    let builds = 0;
    const get = (): string | null =>
      cache.get("k", () => {
        builds++;
        return null;
      });
    expect(get()).toBeNull();
    expect(get()).toBeNull();
    expect(builds).toBe(1);
  });

  test("with a weight limit, drops the least recently used until the new value fits, and keeps none heavier than the limit", () => {
    const cache = new KernelCache<Int32Array>(10, { maxWeight: 100, weigh: (t) => t.byteLength });
    const get = (key: string, length: number): Int32Array => cache.get(key, () => new Int32Array(length));
    const a = get("a", 10); // 40 bytes
    get("b", 10); // 80 in all
    expect(get("a", 10)).toBe(a);
    get("c", 10); // 120 past 100: b, the least recently used, goes
    expect(cache.size).toBe(2);
    expect(get("a", 10)).toBe(a);
    const huge = get("huge", 30); // 120 bytes alone: handed out, not kept
    expect(get("huge", 30)).not.toBe(huge);
    expect(cache.size).toBe(2);
  });
});
