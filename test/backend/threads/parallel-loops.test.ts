import { afterAll, describe, expect, test } from "vitest";
import { nestCost, parallelLoopKernel, PARALLEL_MIN_WORK } from "../../../src/backend/threads/parallel-loops.js";
import { setThreads, tasksRunByWorkers, threadsReady, threadSupport } from "../../../src/backend/threads/pool.js";
import type { LoopNest } from "../../../src/backend/loop-ir.js";
import { wasmAvailable } from "../../../src/backend/wasm/runtime.js";
import { arenaAllocator, loopHeap } from "../../../src/backend/wasm/kernel-memory.js";
import { selectLoopKernel } from "../../../src/backend/compile.js";

import { Tensor } from "../../../src/core/tensor.js";
import { add, exp, gelu, logsumexp, mul, slice, sum } from "../../../src/index.js";
import { fuseProgram } from "../../../src/ir/fusion/fuse.js";
import type { AnyTensor, Aval } from "../../../src/prims/types.js";
import { jit } from "../../../src/transforms/jit.js";
import { traceProgram } from "../../../src/transforms/trace.js";

afterAll(() => setThreads(1));

const f32 = (...shape: number[]): Aval => ({ shape, dtype: "float32" });

/** The loop nests of the fused plan of `f` on inputs of `avals`. */
function nestsOf(f: (inputs: readonly AnyTensor[]) => readonly AnyTensor[], avals: readonly Aval[]): LoopNest[] {
  return fuseProgram(traceProgram(f, avals)).steps.flatMap((s) => (s.kind === "kernel" ? [s.nest] : []));
}

/** A traced input, of the float32 avals each test passes. */
const float = (x: AnyTensor | undefined): Tensor<number[], "float32"> => x as Tensor<number[], "float32">; // every aval below is float32

const geluChain = ([x, a, b]: readonly AnyTensor[]): AnyTensor[] => [gelu(add(mul(float(x), float(a)), float(b)), { approximate: "tanh" })];

/** Seeded values in [-3, 3). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 6 - 3;
  });
}

describe.runIf(wasmAvailable())("fused loop nests on the worker pool", () => {
  test("a large gelu chain splits into row tasks; a small one, a column sum, a sum over every axis and a cheap copy do not", () => {
    const [large] = nestsOf(geluChain, [f32(1024, 1024), f32(1024), f32(1024)]);
    const [small] = nestsOf(geluChain, [f32(8, 64), f32(64), f32(64)]);
    const [columns] = nestsOf(([x]) => [sum(exp(float(x)), 0)], [f32(4096, 1024)]);
    const [whole] = nestsOf(([x]) => [sum(float(x))], [f32(4096, 1024)]);
    const [cheap] = nestsOf(([x]) => [add(float(x), 1)], [f32(4096, 1024)]);
    expect(columns && parallelLoopKernel(columns)).toBeUndefined();
    expect(cheap && parallelLoopKernel(cheap)).toBeUndefined();
    expect(large !== undefined && 1024 * 1024 * nestCost(large) >= PARALLEL_MIN_WORK).toBe(true);
    expect(large && parallelLoopKernel(large)).toBeDefined();
    expect(small && parallelLoopKernel(small)).toBeUndefined();
    expect(whole && parallelLoopKernel(whole)).toBeUndefined();
  });

  test.runIf(threadSupport().available)("buffers that live in the kernels' memory are read and written in place by the tasks, with one thread's bits", async () => {
    const [nest] = nestsOf(geluChain, [f32(1024, 1024), f32(1024), f32(1024)]);
    const run = nest && parallelLoopKernel(nest);
    if (nest === undefined || run === undefined) throw new Error("the nest should run on the pool");
    const constants = [Math.fround(Math.sqrt(2 / Math.PI)), Math.fround(0.044715), 0.5, 1];
    const size = 1024 * 1024;
    const [xs, as, bs] = [values(size, 12), values(1024, 13), values(1024, 14)];
    setThreads(1);
    const one = new Float32Array(size);
    selectLoopKernel(nest, () => {
      throw new Error("the WebAssembly kernel should run");
    })([xs, as, bs, one], constants);
    setThreads(2);
    await threadsReady();
    const arena = arenaAllocator({});
    const [x, out] = [arena.take(size), arena.take(size)];
    if (x === undefined || out === undefined) throw new Error("the arena should make the buffers");
    x.set(xs);
    // a marker where a call that copied would lay its buffers out: an in-place call leaves it
    const heap = loopHeap(8 * size);
    if (heap === undefined) throw new Error("no working memory");
    heap.fill(5, 0, 2 * size);
    const before = tasksRunByWorkers();
    for (let i = 0; i < 20 && tasksRunByWorkers() === before; i++) expect(run([x, as, bs, out], constants)).toBe(true);
    expect(tasksRunByWorkers()).toBeGreaterThan(before);
    let wrong = 0;
    for (let i = 0; i < size; i++) if (!Object.is(out[i], one[i])) wrong++;
    expect(wrong).toBe(0);
    expect(heap.subarray(2 * 1024 + 64, 2 * size).every((v) => v === 5)).toBe(true);
    arena.release();
  });

  test("the runner leaves a call to the calling thread at one thread, and runs it on the pool at two", async () => {
    const [nest] = nestsOf(geluChain, [f32(512, 1024), f32(1024), f32(1024)]);
    const run = nest && parallelLoopKernel(nest);
    if (run === undefined) throw new Error("the nest should run on the pool");
    const out = new Float32Array(512 * 1024);
    const constants = [Math.fround(Math.sqrt(2 / Math.PI)), Math.fround(0.044715), 0.5, 1];
    setThreads(1);
    expect(run([values(512 * 1024, 1), values(1024, 2), values(1024, 3), out], constants)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
    setThreads(2);
    await threadsReady();
    expect(run([values(512 * 1024, 1), values(1024, 2), values(1024, 3), out], constants)).toBe(threadSupport().available);
  });

  test.runIf(threadSupport().available)("a nest that reads half of its input (copied in packed) runs on the pool too, with one thread's bits", async () => {
    const x: Tensor<[1024, 2048]> = new Tensor([1024, 2048], "float32", values(1024 * 2048, 7));
    const f = jit((xs: Tensor<[1024, 2048]>) => gelu(slice(xs, [null, { start: 0, stop: 1024 }]), { approximate: "tanh" }));
    const [nest] = nestsOf(([xs]) => [gelu(slice(float(xs), [null, { start: 0, stop: 1024 }]), { approximate: "tanh" })], [f32(1024, 2048)]);
    const run = nest && parallelLoopKernel(nest);
    if (run === undefined) throw new Error("the nest should run on the pool");
    setThreads(1);
    const one = f(x);
    setThreads(2);
    await threadsReady();
    const out = new Float32Array(1024 * 1024);
    expect(run([x.data, out], nest?.constants.map(() => 0) ?? [])).toBe(true);
    const before = tasksRunByWorkers();
    let two = f(x);
    // NOTE: the calling thread may claim every task of a call before a worker wakes; a few calls give the worker its turn
    for (let i = 0; i < 20 && tasksRunByWorkers() === before; i++) two = f(x);
    expect(tasksRunByWorkers()).toBeGreaterThan(before);
    expect(new Uint32Array(two.data.buffer)).toEqual(new Uint32Array(one.data.buffer));
  });

  test.runIf(threadSupport().available)("a jitted gelu chain and a logsumexp over rows take the pool at two threads, with one thread's bits", async () => {
    const x: Tensor<[512, 1024]> = new Tensor([512, 1024], "float32", values(512 * 1024, 4));
    const a: Tensor<[1024]> = new Tensor([1024], "float32", values(1024, 5));
    const b: Tensor<[1024]> = new Tensor([1024], "float32", values(1024, 6));
    const f = jit((xs: Tensor<[512, 1024]>, as: Tensor<[1024]>, bs: Tensor<[1024]>) => [gelu(add(mul(xs, as), bs), { approximate: "tanh" }), logsumexp(xs, -1)] as const);
    setThreads(1);
    const [one, oneRows] = f(x, a, b);
    setThreads(2);
    await threadsReady();
    const before = tasksRunByWorkers();
    let two = f(x, a, b);
    // NOTE: the calling thread may claim every task of a call before a worker wakes; a few calls give the worker its turn
    for (let i = 0; i < 20 && tasksRunByWorkers() === before; i++) two = f(x, a, b);
    expect(tasksRunByWorkers()).toBeGreaterThan(before);
    expect(new Uint32Array(two[0].data.buffer)).toEqual(new Uint32Array(one.data.buffer));
    expect(new Uint32Array(two[1].data.buffer)).toEqual(new Uint32Array(oneRows.data.buffer));
  });
});
