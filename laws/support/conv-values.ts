/**
 * Inputs of the float32 convolution kernels' laws (`conv-winograd.law.test.ts`,
 * `conv-direct-wasm.law.test.ts`): seeded values with the edge values a
 * kernel can meet mixed in, and the paddings to draw.
 */

import fc from "fast-check";

/** Values a float32 convolution can meet at its edges (finite ones: the laws add NaN and infinities where they mean to). */
export const EDGES = [0, -0, 1e-40, -3e-42, 1.5e-45, 1e-30, -2e-20, 1e6, -3e9, 1, -1];

/** Seeded values in [-1, 1), one in `edgeEvery` replaced by an edge value (mulberry32). */
export function values(size: number, seed: number, edgeEvery: number): Float32Array {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: size }, () => {
    const u = next();
    return edgeEvery > 0 && next() * edgeEvery < 1 ? (EDGES[Math.floor(u * EDGES.length)] ?? 0) : 2 * u - 1;
  });
}

/** "valid", "same", or explicit padding of 0 to 2 on each side. */
export const padding = fc.oneof(
  fc.constantFrom<"valid" | "same">("valid", "same"),
  fc.record({ height: fc.tuple(fc.nat(2), fc.nat(2)), width: fc.tuple(fc.nat(2), fc.nat(2)) }),
);
