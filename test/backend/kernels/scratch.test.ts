import { describe, expect, test } from "vitest";
import { ScratchAllocator } from "../../../src/backend/kernels/scratch.js";

describe("the scratch allocator", () => {
  test("hands back the same buffer while it is long enough, and grows it when asked for more", () => {
    const scratch = new ScratchAllocator();
    const small = scratch.float64("columns", 8);
    expect(small.length).toBe(8);
    expect(scratch.float64("columns", 4)).toBe(small);
    const large = scratch.float64("columns", 16);
    expect(large.length).toBe(16);
    expect(scratch.float64("columns", 8)).toBe(large);
  });

  test("keeps one buffer per purpose and element type, so buffers of two purposes never alias", () => {
    const scratch = new ScratchAllocator();
    const columns = scratch.float64("columns", 4);
    const gradient = scratch.float64("gradient", 4);
    expect(gradient).not.toBe(columns);
    expect(scratch.float32("columns32", 4)).toBeInstanceOf(Float32Array);
    expect(scratch.int32("positions", 4)).toBeInstanceOf(Int32Array);
    expect(scratch.bytes()).toBe(4 * 8 + 4 * 8 + 4 * 4 + 4 * 4);
  });
});
