import { afterAll, describe, expect, test } from "vitest";
import { ALIGN_4, encodeModule, FunctionBody, Op, ValType } from "../../../src/backend/wasm/encoder.js";
import { compileKernel } from "../../../src/backend/kernels/wasm-matmul.js";
import { compileWithSharedMemory, sharedHeap } from "../../../src/backend/wasm/runtime.js";
import { MEMORY_MAX_PAGES, sharing } from "../../../src/backend/wasm/memory-type.js";
import { MEMORY_IMPORT, WASM_MAX_BYTES } from "../../../src/backend/wasm/codegen.js";
import { exitingCall, finishTasks, getThreads, MAX_MODULES, MAX_TASKS, poolKernel, runTasks, setThreads, startTasks, tasksRunByWorkers, threadsReady, threadStats, threadSupport, type PoolKernel, type TaskCall } from "../../../src/backend/threads/pool.js";

/** `kernel(at, value)`: stores the int32 `value` at byte `at` (traps when `at` is past the memory). */
function storeKernel(): PoolKernel {
  const f = new FunctionBody(2);
  f.get(0).get(1).op(Op.i32_store, FunctionBody.memarg(ALIGN_4));
  const kernel = compileKernel(f, 2);
  if (kernel === null) throw new Error("no WebAssembly here");
  return kernel;
}

/** The bytes of `storeKernel`'s module. */
function storeModuleBytes(): Uint8Array {
  const f = new FunctionBody(2);
  f.get(0).get(1).op(Op.i32_store, FunctionBody.memarg(ALIGN_4));
  return encodeModule({ imports: [], memory: { ...MEMORY_IMPORT, minPages: 0 }, functions: [{ type: { params: [ValType.i32, ValType.i32], results: [] }, body: f, export: "kernel" }] });
}

const store = storeKernel();
const BASE = 4096;

/** `count` tasks, task t storing t + 1 at int `t` of the heap past BASE, in `calls` calls of which the last writes. */
function tasksOf(count: number, calls = 1): TaskCall[][] {
  return Array.from({ length: count }, (_, t) => Array.from({ length: calls }, (_, c) => ({ kernel: store, args: [BASE + 4 * t, c === calls - 1 ? t + 1 : -1] })));
}

function written(count: number): number[] {
  const heap = sharedHeap(BASE + 4 * count);
  if (heap === undefined) throw new Error("no heap");
  return Array.from(new Int32Array(heap, BASE, count));
}

function clear(count: number): void {
  const heap = sharedHeap(BASE + 4 * count);
  if (heap !== undefined) new Int32Array(heap, BASE, count).fill(0);
}

const busy = (ms: number) => (): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

afterAll(() => setThreads(1));

describe("the worker pool", () => {
  test("threads are available in Node, over a shared memory as large as the backend allows", () => {
    expect(threadSupport()).toEqual({ available: true, reason: "" });
    expect(sharing.shared).toBe(true);
    expect(MEMORY_MAX_PAGES * 65536).toBe(WASM_MAX_BYTES);
  });

  test("setThreads takes an integer from 1 to 64 and getThreads returns it", () => {
    setThreads(3);
    expect(getThreads()).toBe(3);
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) expect(() => setThreads(bad)).toThrow(/thread count must be an integer from 1 to 64/);
    expect(getThreads()).toBe(3);
  });

  test("at one thread, threadsReady starts no worker and jobs run on the calling thread", async () => {
    setThreads(1);
    const before = threadStats();
    await threadsReady();
    clear(50);
    runTasks(tasksOf(50));
    expect(written(50)).toEqual(Array.from({ length: 50 }, (_, t) => t + 1));
    expect(threadStats()).toEqual(before);
  });

  test.each([1, 2, 3, 8])("runs every task exactly once on %i threads, the workers taking part", async (threads) => {
    setThreads(threads);
    await threadsReady();
    const count = 400;
    clear(count);
    const before = tasksRunByWorkers();
    // each task's last call slower on the caller, so that ready workers surely claim some
    runTasks(tasksOf(count, 3).map((task) => [...task, { kernel: { id: store.id, local: (...args: number[]) => (busy(0.05)(), store.local(...args)) }, args: task[2]?.args ?? [] }]));
    expect(written(count)).toEqual(Array.from({ length: count }, (_, t) => t + 1));
    if (threads > 1) expect(tasksRunByWorkers()).toBeGreaterThan(before);
  });

  test("a job begun with startTasks runs on a worker while the calling thread works on; finishTasks runs what is left and waits", async () => {
    setThreads(2);
    await threadsReady();
    // one task, published for the worker alone (overlap): the calling thread watches it get done before finishing
    clear(1);
    const before = tasksRunByWorkers();
    const started = startTasks(tasksOf(1), true);
    expect(started.published).toBe(true);
    const end = performance.now() + 2000;
    while (written(1)[0] !== 1 && performance.now() < end);
    expect(written(1)).toEqual([1]);
    finishTasks(started);
    expect(tasksRunByWorkers()).toBe(before + 1);
    // without overlap a one-task job is the calling thread's, run by finishTasks
    clear(1);
    const local = startTasks(tasksOf(1), false);
    expect(local.published).toBe(false);
    expect(written(1)).toEqual([0]);
    finishTasks(local);
    expect(written(1)).toEqual([1]);
    // many tasks, the calling thread busy meanwhile: every task once
    clear(300);
    const many = startTasks(tasksOf(300), true);
    busy(1)();
    finishTasks(many);
    expect(written(300)).toEqual(Array.from({ length: 300 }, (_, t) => t + 1));
  });

  test("a job of more tasks than the control words hold runs on the calling thread, the same", () => {
    setThreads(2);
    const count = MAX_TASKS + 1;
    clear(count);
    runTasks(tasksOf(count));
    expect(written(count)).toEqual(Array.from({ length: count }, (_, t) => t + 1));
  });

  test("a task that traps surfaces as an error on the calling thread, and the next job runs", async () => {
    setThreads(2);
    await threadsReady();
    const trap = Array.from({ length: 64 }, () => [{ kernel: store, args: [2 ** 31 - 4, 1] }]);
    expect(() => runTasks(trap)).toThrow(/memory access out of bounds/);
    clear(100);
    runTasks(tasksOf(100));
    expect(written(100)).toEqual(Array.from({ length: 100 }, (_, t) => t + 1));
  });

  test("a worker that exits during a task fails the call with an error, and the pool replaces it", async () => {
    setThreads(2);
    await threadsReady();
    const dying = Array.from({ length: 200 }, () => [exitingCall(busy(1))]);
    expect(() => runTasks(dying)).toThrow(/worker thread failed in a parallel kernel \(worker 0 exited during a task\)/);
    await threadsReady(); // the replacement has booted
    const before = tasksRunByWorkers();
    clear(400);
    runTasks(tasksOf(400).map((task) => [...task, { kernel: { id: store.id, local: busy(0.05) }, args: [0, 0] }]));
    expect(written(400)).toEqual(Array.from({ length: 400 }, (_, t) => t + 1));
    expect(tasksRunByWorkers()).toBeGreaterThan(before);
  });
  // NOTE: the last test of the file: it fills the registry for the rest of this process
  test("past MAX_MODULES registrations a kernel stays the caller's: its jobs run on the calling thread, the same", async () => {
    setThreads(2);
    await threadsReady();
    // the module of `store`, registered again until the registry is full (each registration is one more module for the workers)
    const module = compileWithSharedMemory(storeModuleBytes())?.module;
    if (module === undefined) throw new Error("no WebAssembly here");
    let last = poolKernel(module, store.local);
    for (let i = 0; i < MAX_MODULES && last.id >= 0; i++) last = poolKernel(module, store.local);
    expect(last.id).toBe(-2);
    clear(400);
    const before = tasksRunByWorkers();
    runTasks(tasksOf(400).map((task) => task.map((call) => ({ ...call, kernel: last }))));
    expect(written(400)).toEqual(Array.from({ length: 400 }, (_, t) => t + 1));
    expect(tasksRunByWorkers()).toBe(before);
    // a kernel registered before the cap still runs on the workers
    clear(400);
    runTasks(tasksOf(400, 3).map((task) => [...task, { kernel: { id: store.id, local: (...args: number[]) => (busy(0.05)(), store.local(...args)) }, args: task[2]?.args ?? [] }]));
    expect(written(400)).toEqual(Array.from({ length: 400 }, (_, t) => t + 1));
    expect(tasksRunByWorkers()).toBeGreaterThan(before);
  });
});
