import { describe, expect, test } from "vitest";
import { ARENA_BASE, arenaAddress, arenaAllocator, arenaState, loopHeap, watchArena, workingMemory } from "../../../src/backend/wasm/kernel-memory.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";
import { wasmKernel } from "../../../src/backend/wasm/runtime.js";
import { nest, op, read } from "../support.js";

describe.runIf(sharing.shared)("the kernels' memory and the buffers that live in it", () => {
  test("buffers are zero, 64-byte aligned, disjoint, above every kernel's working memory, and known as views of the memory", () => {
    const arena = arenaAllocator({});
    const [a, b] = [arena.take(10), arena.take(3)];
    if (a === undefined || b === undefined) throw new Error("no buffer");
    expect([...a, ...b].every((v) => v === 0)).toBe(true);
    const [at, bt] = [arenaAddress(a), arenaAddress(b)];
    expect(at !== undefined && bt !== undefined && at % 64 === 0 && bt % 64 === 0).toBe(true);
    expect(Math.abs((at ?? 0) - (bt ?? 0))).toBeGreaterThanOrEqual(64);
    expect(Math.min(at ?? 0, bt ?? 0)).toBeGreaterThanOrEqual(ARENA_BASE);
    // a working memory reaching into the arena is refused
    expect(workingMemory(ARENA_BASE + 1)).toBeUndefined();
    expect(workingMemory(ARENA_BASE)).toBeDefined();
    a.fill(1);
    expect([...b].every((v) => v === 0)).toBe(true);
    expect(arenaAddress(new Float32Array(4))).toBeUndefined();
    // nor is a view of a kernel call's working memory
    const heap = loopHeap(1024);
    expect(heap && arenaAddress(heap.subarray(0, 16))).toBeUndefined();
    // a view made after the memory grew still sees the buffer's values
    loopHeap(64 * 65536);
    expect(a[9]).toBe(1);
    arena.release();
  });

  test("an in-place kernel call reads and writes the buffers where they are and agrees with the copying one", () => {
    const n = nest({ shape: [6, 5], inputs: [{ dtype: "float32", size: 30 }], nodes: [read(0, "float32", 0, [5, 1]), op("exp", {}, [0], "float32")], outputs: [{ node: 1 }] });
    const arena = arenaAllocator({});
    const [x, y] = [arena.take(30), arena.take(30)];
    if (x === undefined || y === undefined) throw new Error("no buffer");
    x.set(Float32Array.from({ length: 30 }, (_, i) => i / 7 - 2));
    const want = new Float32Array(30);
    const kernel = wasmKernel(n);
    const copied = watchArena(() => kernel?.run([Float32Array.from(x), want], []));
    expect(copied).toEqual({ result: true, addresses: new Set() });
    // watched inside another watch: both see the buffers taken in place
    const outer = watchArena(() => watchArena(() => kernel?.run([x, y], [])));
    expect(outer.result).toEqual({ result: true, addresses: new Set([x.byteOffset, y.byteOffset]) });
    expect(outer.addresses).toEqual(new Set([x.byteOffset, y.byteOffset]));
    expect(y.every((v, i) => Object.is(v, want[i]))).toBe(true);
    // blocks of one row: the in-place buffers run whole, and a mixed call (input in place, output not) in blocks
    const blocked = wasmKernel(n, 40);
    expect(blocked?.blockRows).toBe(1);
    const mixed = new Float32Array(30);
    expect(watchArena(() => blocked?.run([x, mixed], []))).toEqual({ result: true, addresses: new Set([x.byteOffset]) });
    expect(mixed.every((v, i) => Object.is(v, want[i]))).toBe(true);
    arena.release();
  });

  test("a call with every buffer in place takes no working memory: it writes nothing below the arena", () => {
    const size = 2 ** 20; // 4 MB each
    const n = nest({ shape: [size], inputs: [{ dtype: "float32", size }], nodes: [read(0, "float32", 0, [1]), op("neg", {}, [0], "float32")], outputs: [{ node: 1 }] });
    const arena = arenaAllocator({});
    const [x, y] = [arena.take(size), arena.take(size)];
    if (x === undefined || y === undefined) throw new Error("no buffer");
    x.fill(2);
    // a marker where a call that copied would lay its buffers out (its working memory, from address 0)
    const heap = loopHeap(8 * size);
    if (heap === undefined) throw new Error("no working memory");
    heap.fill(5, 0, 2 * size);
    expect(wasmKernel(n)?.run([x, y], [])).toBe(true);
    expect(y[size - 1]).toBe(-2);
    expect(heap.subarray(0, 2 * size).every((v) => v === 5)).toBe(true);
    // and a call with a buffer to copy lays it out there
    const copied = new Float32Array(size);
    expect(wasmKernel(n)?.run([x, copied], [])).toBe(true);
    expect(copied[0]).toBe(-2);
    expect(heap.subarray(0, 2 * size).every((v) => v === 5)).toBe(false);
    arena.release();
  });

  test("blocks given back merge with their free neighbours, and the top comes down past free blocks", () => {
    // the tests before gave back every block: the arena is empty
    expect(arenaState()).toEqual({ top: 0, free: [] });
    const [first, second, third] = [arenaAllocator({}), arenaAllocator({}), arenaAllocator({})];
    const [a, b, c] = [first.take(16), second.take(32), third.take(16)]; // 64, 128 and 64 bytes
    expect([a, b, c].map((v) => (v === undefined ? -1 : (arenaAddress(v) ?? -1) - ARENA_BASE))).toEqual([0, 64, 192]);
    expect(arenaState().top).toBe(256);
    second.release();
    expect(arenaState().free).toEqual([{ at: 64, bytes: 128 }]);
    // a buffer that fits takes the free block's start
    const again = arenaAllocator({});
    expect(arenaAddress(again.take(8) ?? new Float32Array(0))).toBe(ARENA_BASE + 64);
    expect(arenaState().free).toEqual([{ at: 128, bytes: 64 }]);
    again.release();
    expect(arenaState().free).toEqual([{ at: 64, bytes: 128 }]);
    first.release(); // merges with the free block after it
    expect(arenaState().free).toEqual([{ at: 0, bytes: 192 }]);
    third.release(); // the last block: the top comes down past every free block
    expect(arenaState()).toEqual({ top: 0, free: [] });
  });
});
