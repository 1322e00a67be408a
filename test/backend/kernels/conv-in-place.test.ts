import { describe, expect, test } from "vitest";
import { conv2dGeometry } from "../../../src/backend/kernels/conv/index.js";
import { conv2d } from "../../../src/backend/kernels/conv/forward.js";
import { conv2dDirectWasm, fitsDirectWasm } from "../../../src/backend/kernels/conv/direct-wasm.js";
import { conv2dFilterGradWinogradWasm, conv2dWinogradWasm, usesWinogradWasm } from "../../../src/backend/kernels/conv/winograd-wasm.js";
import { arenaAllocator, watchArena } from "../../../src/backend/wasm/kernel-memory.js";
import { copiedByCall } from "../support.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";

/** Seeded values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * Runs `forward` on x and out taken from the kernels' memory (x of `inputs`
 * seeded values, out filled with 7, `channels` a pixel) and on plain copies,
 * expects the same bits and both buffers taken in place (and none by the
 * call on copies), with no staged copy of the output left in the working
 * memory, and returns the in-place buffers and the allocator (to release).
 */
function inPlaceForward(inputs: number, outputs: number, channels: number, seed: number, forward: (out: Float32Array, x: Float32Array) => boolean): { x: Float32Array; out: Float32Array; arena: ReturnType<typeof arenaAllocator> } {
  const arena = arenaAllocator({});
  const [x, out] = [arena.take(inputs), arena.take(outputs)];
  if (x === undefined || out === undefined) throw new Error("no buffers in the kernels' memory");
  x.set(values(inputs, seed));
  const staged = new Float32Array(outputs);
  const copies = watchArena(() => forward(staged, Float32Array.from(x)));
  expect(copies.result).toBe(true);
  expect(copies.addresses.size).toBe(0);
  out.fill(7);
  const inPlace = watchArena(() => forward(out, x));
  expect(inPlace.result).toBe(true);
  expect([...inPlace.addresses].sort()).toEqual([x.byteOffset, out.byteOffset].sort());
  expect(new Uint32Array(out.buffer, out.byteOffset, outputs)).toEqual(new Uint32Array(staged.buffer));
  // written where it is: the working memory holds no staged output (the last four channels of a pixel and the first four of the next)
  expect(copiedByCall(staged, channels - 4, () => void forward(out, x))).toBe(false);
  return { x, out, arena };
}

describe.runIf(sharing.shared)("convolution kernels on a compiled program's buffers in the kernels' memory", () => {
  test("the Winograd forward reads x and writes its output where they are, with the bits of the staged call; a NaN still declines to the direct sum", () => {
    // 14 x 14 outputs (F(6, 3) tiles and an F(2, 3) edge: whole tiles), 16 channels in, 32 out, bias and relu
    const params = { batch: 4, inHeight: 14, inWidth: 14, inChannels: 16, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" as const };
    const g = conv2dGeometry(params);
    expect(usesWinogradWasm(g)).toBe(true);
    const w = values(9 * 16 * 32, 3).map((v) => v / 4);
    const bias = values(32, 4);
    const epilogue = { beta: false, bias, biasOffset: 0, relu: true };
    const { x, out, arena } = inPlaceForward(4 * 14 * 14 * 16, 4 * 14 * 14 * 32, 32, 5, (y, xs) => conv2dWinogradWasm(y, xs, w, g, epilogue));
    // a NaN in x: Winograd declines, and the public function's direct sum writes every output (the same as for a plain array)
    x[100] = Number.NaN;
    const want = conv2d(new Float32Array(out.length), Float32Array.from(x), w, { ...params, bias, activation: "relu" });
    out.fill(7);
    expect(conv2d(out, x, w, { ...params, bias, activation: "relu" })).toBe(out);
    expect(new Uint32Array(out.buffer, out.byteOffset, out.length)).toEqual(new Uint32Array(want.buffer));
    arena.release();
  });

  test("the direct forward of a one-channel convolution reads x and writes its output where they are, with the bits of the staged call", () => {
    // 28 x 28, one channel to 32, as a CNN's first layer: whole vectors of pixels and channels
    const g = conv2dGeometry({ batch: 5, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" });
    expect(fitsDirectWasm(g)).toBe(true);
    const w = values(9 * 32, 6);
    const epilogue = { beta: false, bias: values(32, 7), biasOffset: 0, relu: false };
    inPlaceForward(5 * 28 * 28, 5 * 28 * 28 * 32, 32, 8, (y, xs) => conv2dDirectWasm(y, xs, w, g, epilogue)).arena.release();
  });

  test("the Winograd filter gradient reads dy where it is, with the bits of a call on a copy: directly where its tiles cover it, else by its staging pass", () => {
    // 16 x 16 and 14 x 14 outputs (4 x 4 tiles, F(2, 3)'s at 14's edges): the tiles cover dy, read by the tile transforms where it
    // is; 13 x 13: the last tiles reach past it, dy read where it is by the staging pass that lays the tiles out (the same bits either way)
    for (const size of [16, 14, 13]) {
      const g = conv2dGeometry({ batch: 3, inHeight: size, inWidth: size, inChannels: 8, kernelHeight: 3, kernelWidth: 3, outChannels: 16, padding: "same" });
      expect(usesWinogradWasm(g)).toBe(true);
      const x = values(3 * size * size * 8, 1);
      const arena = arenaAllocator({});
      const dy = arena.take(3 * size * size * 16);
      if (dy === undefined) throw new Error("no buffer in the kernels' memory");
      dy.set(values(dy.length, 2));
      const [staged, inPlace] = [new Float32Array(9 * 8 * 16), new Float32Array(9 * 8 * 16).fill(7)];
      expect(conv2dFilterGradWinogradWasm(staged, x, Float32Array.from(dy), g)).toBe(true);
      const call = watchArena(() => conv2dFilterGradWinogradWasm(inPlace, x, dy, g));
      expect(call.result).toBe(true);
      expect([...call.addresses]).toEqual([dy.byteOffset]);
      // read by the tiles' transforms where they cover dy: no copy of it in the working memory; else staged there (the last four
      // channels of its first pixel and the first four of the next, side by side in the staged copy)
      expect(copiedByCall(dy, 12, () => void conv2dFilterGradWinogradWasm(inPlace, x, dy, g))).toBe(size === 13);
      expect(new Uint32Array(inPlace.buffer)).toEqual(new Uint32Array(staged.buffer));
      expect(staged.some((v) => v !== 0)).toBe(true);
      arena.release();
    }
  });
});
