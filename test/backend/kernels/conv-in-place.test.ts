import { describe, expect, test } from "vitest";
import { conv2dGeometry } from "../../../src/backend/kernels/conv/index.js";
import { conv2dFilterGradWinogradWasm, usesWinogradWasm } from "../../../src/backend/kernels/conv/winograd-wasm.js";
import { arenaAllocator } from "../../../src/backend/wasm/kernel-memory.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";

/** Seeded values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe.runIf(sharing.shared)("convolution kernels on a compiled program's buffers in the kernels' memory", () => {
  test("the Winograd filter gradient reads a dy of whole tiles where it is, with the bits of the staged one; other sizes are staged", () => {
    // 16 x 16 outputs: whole 4 x 4 tiles, dy read in place; 14 x 14: edge tiles, dy staged (the same bits either way)
    for (const size of [16, 14]) {
      const g = conv2dGeometry({ batch: 3, inHeight: size, inWidth: size, inChannels: 8, kernelHeight: 3, kernelWidth: 3, outChannels: 16, padding: "same" });
      expect(usesWinogradWasm(g)).toBe(true);
      const x = values(3 * size * size * 8, 1);
      const arena = arenaAllocator({});
      const dy = arena.take(3 * size * size * 16);
      if (dy === undefined) throw new Error("no buffer in the kernels' memory");
      dy.set(values(dy.length, 2));
      const [staged, inPlace] = [new Float32Array(9 * 8 * 16), new Float32Array(9 * 8 * 16).fill(7)];
      expect(conv2dFilterGradWinogradWasm(staged, x, Float32Array.from(dy), g)).toBe(true);
      expect(conv2dFilterGradWinogradWasm(inPlace, x, dy, g)).toBe(true);
      expect(new Uint32Array(inPlace.buffer)).toEqual(new Uint32Array(staged.buffer));
      expect(staged.some((v) => v !== 0)).toBe(true);
      arena.release();
    }
  });
});
