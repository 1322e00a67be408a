/**
 * The worker pool: threads that run WebAssembly kernels in the one shared
 * memory, so that a large kernel uses every core and no tensor is copied
 * between threads.
 *
 * A parallel kernel is a job: a list of tasks fixed by the shapes alone,
 * each a list of calls of registered kernels (`poolKernel`) with integer
 * arguments, each writing outputs no other task of the job touches. The
 * calling thread publishes the job in a block of control words (a
 * `SharedArrayBuffer` of its own), wakes the workers, claims tasks itself
 * like any worker (one atomic compare-and-exchange on a word that holds the
 * job's number and the next task), then waits until every claimed task is
 * done. Who runs a task never changes what it computes, so results are the
 * same bits for any number of threads; and since the caller claims tasks
 * too, a call never waits on a worker that has not started (workers boot
 * asynchronously, and until then the caller runs every task).
 *
 * `startTasks` and `finishTasks` split `runTasks` in two, so that the
 * calling thread can do other work (copies into and out of the memory, which
 * only it can make) while workers run a job; it takes its share of the
 * tasks when it finishes the job.
 *
 * Workers start lazily (on the first job that could use them), sleep on
 * `Atomics.wait` between jobs (Node; a browser worker returns to its event
 * loop), and are `unref`ed: they never keep a Node process alive. A kernel
 * reaches a worker as a compiled `WebAssembly.Module` (with the job, the
 * number of kernels it needs: a worker that lacks one leaves the job's tasks
 * to the others). A task that throws on a worker, or a worker that exits
 * during a task, marks the job failed with a message; the caller finishes
 * waiting (every task is then done or abandoned, so nothing writes after the
 * call returns), replaces a dead worker, and throws on the calling thread.
 *
 * Without `SharedArrayBuffer` (a browser page that is not cross-origin
 * isolated) or without a way to start workers, everything runs on the
 * calling thread, and `threadSupport()` says why. Left out: work stealing
 * across jobs, priorities, and any kernel code (see `../kernels/`). NOTE: a
 * worker killed without running any JavaScript of its own (terminated by
 * someone else, or out of memory in its own heap) while it holds a task
 * would leave that task undone and the call waiting: nothing here does
 * either (workers keep only a few kernels in their heaps; the pool
 * terminates only workers already dead).
 */

import { kernelMemory } from "../wasm/runtime.js";
import { sharing } from "../wasm/memory-type.js";
import { workerSource, type ControlLayout, type WorkerInit, type WorkerMessage } from "./worker-main.js";

/** A kernel the pool can run: its module (for workers) and the caller's own instance of it. */
export interface PoolKernel {
  readonly id: number;
  readonly local: (...args: number[]) => void;
}

/** One call of a task: a kernel and its integer arguments (at most `MAX_ARGS`). */
export interface TaskCall {
  readonly kernel: PoolKernel;
  readonly args: readonly number[];
}

/** The most threads `setThreads` accepts. */
export const MAX_THREADS = 64;
/** The most tasks one job may have (the claim word's low bits). */
export const MAX_TASKS = 4095;
/** The most integer arguments of one call. */
export const MAX_ARGS = 23;
/**
 * The most modules the pool sends to its workers. Kernels are compiled per
 * shape (a convolution's geometry, a fused nest), and every worker keeps
 * each module it is sent for the life of the process; a process that meets
 * ever new shapes would grow without end. Past this count a kernel is the
 * caller's alone (`CALLER_ONLY`), and a job using it runs on the calling
 * thread: the same bits, one thread's speed.
 */
export const MAX_MODULES = 512;
/** The id of a kernel that was not sent to the workers (`MAX_MODULES`). */
const CALLER_ONLY = -2; // not LAYOUT.exitKernel (-1), the tests' dying kernel

const NEXT_BITS = 12;
const CONTROL_INTS = 1 << 19;
const MESSAGE_MAX = 256;
/**
 * How long (ms) a thread watches for what it waits on before it sleeps in
 * `Atomics.wait`: a worker for the next job, the calling thread for the
 * last task of its job. A training step publishes a job every few tens of
 * microseconds (each matrix product, each large loop); a sleeping thread
 * costs its waker a futex call and itself the time to be scheduled again.
 * Measured (2-core Intel Xeon, quiet, 2 threads, steps of two builds
 * interleaved in one process, 2026-12-08), against no watching: 0.05 ms
 * gave MLP 1.00, LSTM 0.93, transformer 0.96 of the step time; 0.2 ms gave
 * MLP 0.96 to 0.98, LSTM 0.76 to 0.78, transformer 0.94 to 0.96; 1 ms the
 * same as 0.2. A thread with nothing to do burns at most this long.
 */
const SPIN_MS = 0.2;
const LAYOUT: ControlLayout = {
  claim: 0,
  wake: 1,
  done: 2,
  count: 3,
  required: 4,
  failed: 5,
  messageLength: 6,
  workers: 7,
  message: 8,
  messageMax: MESSAGE_MAX,
  dead: 8 + MESSAGE_MAX,
  taskStart: 8 + MESSAGE_MAX + MAX_THREADS,
  calls: 8 + MESSAGE_MAX + MAX_THREADS + MAX_TASKS + 1,
  callInts: 1 + MAX_ARGS,
  nextBits: NEXT_BITS,
  exitKernel: -1,
  spinMs: SPIN_MS,
};
/** The most calls one job may hold. */
export const MAX_CALLS = Math.floor((CONTROL_INTS - LAYOUT.calls) / LAYOUT.callInts);
/**
 * Jobs are numbered modulo 2^19, so that the claim word stays a positive
 * int32. NOTE: a worker that read the claim word and then stalled for
 * exactly 2^19 jobs before its compare-and-exchange would see the same word
 * again (ABA); at tens of microseconds a job at the least, that is a stall
 * of many seconds landing on one exact count.
 */
const JOB_NUMBERS = 1 << (31 - NEXT_BITS);
const NEXT_MASK = (1 << NEXT_BITS) - 1;

/** A started worker, as the pool holds it. */
interface PoolWorker {
  readonly post: (message: WorkerMessage) => void;
  readonly terminate: () => void;
  ready: boolean;
  dead: boolean;
}

/** How this host starts a worker, or undefined where it cannot. */
type Spawner = (init: WorkerInit, events: { ready(): void; died(): void }) => Omit<PoolWorker, "ready" | "dead">;

/** The members of Node's globals read here (typed without Node typings). */
interface NodeGlobals {
  readonly process?: {
    readonly env?: Record<string, string | undefined>;
    getBuiltinModule?(id: string): unknown;
  };
  readonly navigator?: { readonly hardwareConcurrency?: number };
  readonly Worker?: new (url: string) => {
    postMessage(message: unknown): void;
    terminate(): void;
    onmessage: ((event: { readonly data: unknown }) => void) | null;
    onerror: (() => void) | null;
  };
  readonly Blob?: new (parts: string[], options: { type: string }) => object;
  readonly URL?: { createObjectURL(blob: object): string };
  readonly setTimeout?: (callback: () => void, ms: number) => unknown;
  readonly performance?: { now(): number };
}

/** The part of `node:worker_threads` used here. */
interface NodeWorkerModule {
  readonly Worker: new (
    source: string,
    options: { eval: true; workerData: WorkerInit },
  ) => {
    postMessage(message: WorkerMessage): void;
    terminate(): Promise<number>;
    unref(): void;
    on(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  };
}

// Sound: reading possibly-absent properties of the global object; each is checked before use.
const host = globalThis as NodeGlobals;

function nodeWorkers(): NodeWorkerModule | undefined {
  try {
    const module = host.process?.getBuiltinModule?.("node:worker_threads");
    // Sound: Node's worker_threads module has the member NodeWorkerModule names.
    return module === undefined ? undefined : (module as NodeWorkerModule);
  } catch {
    return undefined;
  }
}

/** How workers start here: Node's worker_threads, a browser's Web Workers from a blob URL, or not at all. */
function findSpawner(): { readonly spawn: Spawner | undefined; readonly blocking: boolean } {
  const node = nodeWorkers();
  if (node !== undefined) {
    const spawn: Spawner = (init, events) => {
      const worker = new node.Worker(workerSource(), { eval: true, workerData: init });
      worker.on("message", () => events.ready());
      worker.on("error", () => events.died());
      worker.on("exit", () => events.died());
      worker.unref(); // NOTE: after the listeners, as a "message" listener refs the port again: an idle pool never keeps the process alive
      return { post: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
    };
    return { spawn, blocking: true };
  }
  const { Worker, Blob, URL } = host;
  if (Worker === undefined || Blob === undefined || URL === undefined) return { spawn: undefined, blocking: false };
  let url: string | undefined;
  const spawn: Spawner = (init, events) => {
    url ??= URL.createObjectURL(new Blob([workerSource()], { type: "text/javascript" }));
    const worker = new Worker(url);
    worker.onmessage = () => events.ready();
    worker.onerror = () => events.died();
    worker.postMessage(init);
    return { post: (m) => worker.postMessage(m), terminate: () => worker.terminate() };
  };
  return { spawn, blocking: false };
}

const spawner = findSpawner();

/** Whether kernels can run on more than one thread here, and if not, why. */
export interface ThreadSupport {
  readonly available: boolean;
  /** Why not (empty when they can). */
  readonly reason: string;
}

const support: ThreadSupport = !sharing.shared
  ? { available: false, reason: sharing.reason }
  : spawner.spawn === undefined
    ? { available: false, reason: "this host cannot start workers" }
    : { available: true, reason: "" };

/**
 * Whether Stratum can run kernels on more than one thread here, and if not,
 * why (for example a browser page that is not cross-origin isolated, which
 * has no `SharedArrayBuffer`). Where it cannot, everything runs on the
 * calling thread and `getThreads()` is 1; nothing else changes.
 *
 * @example
 * const { available, reason } = threadSupport();
 * if (!available) console.info(`stratum runs on one thread: ${reason}`);
 */
export function threadSupport(): ThreadSupport {
  return support;
}

function defaultThreads(): number {
  const env = host.process?.env?.["STRATUM_NUM_THREADS"];
  if (env !== undefined && /^\s*\d+\s*$/.test(env)) return Math.min(MAX_THREADS, Math.max(1, Number(env)));
  const os = host.process?.getBuiltinModule?.("node:os");
  // Sound: Node's os module; availableParallelism is checked to be a function before the call.
  const cores = (os as { availableParallelism?: () => number } | undefined)?.availableParallelism;
  const count = typeof cores === "function" ? cores() : host.navigator?.hardwareConcurrency;
  return typeof count === "number" && count >= 1 ? Math.min(MAX_THREADS, Math.floor(count)) : 1;
}

let requested: number | undefined;

/**
 * Sets how many threads (the calling one included) large kernels run on:
 * an integer from 1 to 64. One runs everything on the calling thread;
 * workers started for a larger count stay asleep (they never keep a Node
 * process alive). Results are the same bits for every count. The default
 * is the environment variable `STRATUM_NUM_THREADS` where set, else the
 * number of cores (`os.availableParallelism()` in Node,
 * `navigator.hardwareConcurrency` in a browser).
 *
 * @example
 * setThreads(2);
 * getThreads(); // 2 (1 where threadSupport().available is false)
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(`setThreads: the thread count must be an integer from 1 to ${MAX_THREADS}, got ${String(n)}`);
  requested = n;
}

/**
 * How many threads (the calling one included) large kernels run on: what
 * `setThreads` set, or the default; 1 where threads are not available here
 * (`threadSupport`).
 *
 * @example
 * getThreads(); // 2 on a two-core machine with STRATUM_NUM_THREADS unset
 */
export function getThreads(): number {
  if (!support.available) return 1;
  requested ??= defaultThreads();
  return requested;
}

let control: Int32Array | undefined;
const workers: PoolWorker[] = [];
const modules: object[] = [];
const locals: ((...args: number[]) => void)[] = [];
let job = 0;
/** Whether this thread may block in `Atomics.wait` (not a browser's main thread). */
let canBlock: boolean | undefined;
/** Tasks run by workers, over the life of the pool: for tests that check workers took part. */
let workerTasks = 0;

function controlWords(): Int32Array {
  control ??= new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  return control;
}

/**
 * Registers a kernel with the pool: `module` (a compiled
 * `WebAssembly.Module` that imports the kernel memory and exports
 * `kernel`) goes to every worker; `local` is the caller's own instance of
 * its `kernel`. Past `MAX_MODULES` registrations the module goes to no
 * worker and jobs that use the kernel run on the calling thread.
 */
export function poolKernel(module: object, local: (...args: number[]) => void): PoolKernel {
  if (modules.length >= MAX_MODULES) return { id: CALLER_ONLY, local }; // jobs that use it run on the calling thread
  const id = modules.push(module) - 1;
  locals.push(local);
  for (const w of workers) if (!w.dead) w.post({ kind: "kernel", module });
  return { id, local };
}

/** The workers a job with `threads` threads uses: started (or replaced when dead) up to `threads - 1`. */
function ensureWorkers(threads: number): void {
  const spawn = spawner.spawn;
  if (threads < 2 || spawn === undefined || !support.available) return; // NOTE: without threads there may be no SharedArrayBuffer for the control words
  const memory = kernelMemory();
  if (memory === undefined) return;
  const words = controlWords();
  for (let index = 0; index < threads - 1; index++) {
    const old = workers[index];
    if (old !== undefined && !old.dead && Atomics.load(words, LAYOUT.dead + index) === 0) continue;
    old?.terminate();
    Atomics.store(words, LAYOUT.dead + index, 0);
    // Sound: the control words' buffer is the SharedArrayBuffer made in controlWords.
    const init: WorkerInit = { memory, control: words.buffer as SharedArrayBuffer, layout: LAYOUT, index, modules: [...modules], blocking: spawner.blocking };
    const state = { ready: false, dead: false };
    const started = spawn(init, { ready: () => void (state.ready = true), died: () => void (state.dead = true) });
    const worker: PoolWorker = Object.assign(state, started);
    workers[index] = worker;
  }
}

/**
 * Runs `tasks` (each a list of calls, run in order) on up to `getThreads()`
 * threads, the calling one included, and returns when all are done. Tasks
 * must write disjoint outputs and read nothing another task of the job
 * writes. Throws, after every task has finished or been abandoned, when a
 * task threw (on this thread: its error; on a worker: an `Error` naming the
 * worker) or a worker died during one.
 */
export function runTasks(tasks: readonly (readonly TaskCall[])[]): void {
  finishTasks(startTasks(tasks, false));
}

/** A job `startTasks` began: its tasks, and whether they were published to the workers (else `finishTasks` runs them all here). */
export interface StartedJob {
  readonly tasks: readonly (readonly TaskCall[])[];
  readonly published: boolean;
}

/**
 * Begins `tasks` as `runTasks` does, and returns without running any of
 * them on the calling thread, which may do other work (work that touches
 * nothing the tasks read or write, and starts no other job) until it calls
 * `finishTasks`, which runs the tasks no worker has claimed and waits for
 * the rest. With `overlap`, a job of fewer tasks than threads is still
 * published, so that workers run it while the calling thread works on;
 * without it, such a job uses as many threads as it has tasks. Where
 * workers cannot take the job (one thread, too many calls, a kernel the
 * workers lack) nothing is published and `finishTasks` runs it all here.
 *
 * @example
 * const job = startTasks(tasks, true);
 * copyNextBlock(); // meanwhile, on the calling thread
 * finishTasks(job);
 */
export function startTasks(tasks: readonly (readonly TaskCall[])[], overlap: boolean): StartedJob {
  const calls = tasks.reduce((sum, t) => sum + t.length, 0);
  const threads = overlap ? getThreads() : Math.min(getThreads(), tasks.length);
  if (threads <= 1 || tasks.length === 0 || tasks.length > MAX_TASKS || calls > MAX_CALLS || tasks.some((t) => t.some((c) => c.args.length > MAX_ARGS || c.kernel.id === CALLER_ONLY))) {
    return { tasks, published: false };
  }
  ensureWorkers(threads);
  publish(controlWords(), tasks, threads);
  return { tasks, published: true };
}

/** Ends a job `startTasks` began: runs every task no worker has claimed on the calling thread, waits for the rest, and throws as `runTasks` does. */
export function finishTasks(started: StartedJob): void {
  const { tasks } = started;
  if (!started.published) {
    for (const task of tasks) for (const { kernel, args } of task) kernel.local(...args);
    return;
  }
  const words = controlWords();
  let error: unknown;
  let ran = 0;
  for (;;) {
    const task = claim(words);
    if (task < 0) break;
    if (error === undefined) {
      try {
        for (const { kernel, args } of tasks[task] ?? []) kernel.local(...args);
      } catch (e) {
        error = e;
      }
    }
    ran++;
    Atomics.add(words, LAYOUT.done, 1);
  }
  waitForDone(words, tasks.length);
  Atomics.store(words, LAYOUT.claim, (job << NEXT_BITS) | NEXT_MASK); // closed: no task left to claim
  workerTasks += tasks.length - ran;
  if (error !== undefined) throw error;
  if (Atomics.load(words, LAYOUT.failed) !== 0) {
    const length = Atomics.load(words, LAYOUT.messageLength);
    const message = String.fromCharCode(...words.subarray(LAYOUT.message, LAYOUT.message + length));
    Atomics.store(words, LAYOUT.failed, 0);
    throw new Error(`stratum: a worker thread failed in a parallel kernel (${message}); the pool replaces it`);
  }
}

/** Writes `tasks` into the control words and opens them to claims under a new job number. */
function publish(words: Int32Array, tasks: readonly (readonly TaskCall[])[], threads: number): void {
  let call = 0;
  tasks.forEach((task, t) => {
    words[LAYOUT.taskStart + t] = call;
    for (const { kernel, args } of task) {
      const at = LAYOUT.calls + call * LAYOUT.callInts;
      words[at] = kernel.id;
      words.fill(0, at + 1, at + LAYOUT.callInts);
      words.set(args, at + 1);
      call++;
    }
  });
  words[LAYOUT.taskStart + tasks.length] = call;
  Atomics.store(words, LAYOUT.count, tasks.length);
  Atomics.store(words, LAYOUT.workers, threads - 1);
  Atomics.store(words, LAYOUT.required, modules.length);
  Atomics.store(words, LAYOUT.done, 0);
  Atomics.store(words, LAYOUT.failed, 0);
  job = (job + 1) % JOB_NUMBERS;
  Atomics.store(words, LAYOUT.claim, job << NEXT_BITS); // open, from task 0
  Atomics.add(words, LAYOUT.wake, 1);
  Atomics.notify(words, LAYOUT.wake);
  if (!spawner.blocking) for (const w of workers.slice(0, threads - 1)) if (!w.dead) w.post({ kind: "job" });
}

/** The next task of the open job, claimed for this thread, or -1 when none is left. */
function claim(words: Int32Array): number {
  for (;;) {
    const word = Atomics.load(words, LAYOUT.claim);
    const task = word & NEXT_MASK;
    if (task >= Atomics.load(words, LAYOUT.count)) return -1;
    if (Atomics.compareExchange(words, LAYOUT.claim, word, word + 1) === word) return task;
  }
}

/** Returns when `count` tasks are done: blocking in `Atomics.wait` where this thread may, spinning where not. */
function waitForDone(words: Int32Array, count: number): void {
  if (canBlock === undefined) {
    try {
      Atomics.wait(words, LAYOUT.wake, Atomics.load(words, LAYOUT.wake) + 1, 0); // a value it cannot have: returns at once where waiting is allowed
      canBlock = true;
    } catch {
      canBlock = false; // a browser's main thread
    }
  }
  // watched for SPIN_MS first, where the host has a clock (else it sleeps at once)
  const clock = host.performance;
  const until = (clock?.now() ?? 0) + SPIN_MS;
  for (let done = Atomics.load(words, LAYOUT.done); done < count; done = Atomics.load(words, LAYOUT.done)) {
    if (canBlock && (clock === undefined || clock.now() > until)) Atomics.wait(words, LAYOUT.done, done);
  }
}

/**
 * Starts the workers `getThreads()` asks for, if they are not running yet,
 * and resolves when they have booted. Never needed for correct results:
 * until a worker has booted, the calling thread does its share of the work
 * (workers start on the first large kernel, asynchronously). Useful before
 * timing, or to see workers take part from the first call.
 *
 * @example
 * setThreads(2);
 * await threadsReady();
 * matmul(x, x); // both threads work on a large product
 */
export async function threadsReady(): Promise<void> {
  ensureWorkers(getThreads());
  const { setTimeout } = host;
  if (setTimeout === undefined) return;
  while (workers.some((w) => !w.ready && !w.dead)) await new Promise<void>((resolve) => setTimeout(resolve, 5));
}

/** How many tasks workers (not the calling thread) have run so far. */
export function tasksRunByWorkers(): number {
  return workerTasks;
}

/** What the pool has done so far (`threadStats`). */
export interface ThreadStats {
  /** Workers running now (booted or booting). */
  readonly workers: number;
  /** Tasks of parallel kernels that workers, not the calling thread, ran. */
  readonly workerTasks: number;
}

/**
 * What the worker pool has done so far: how many workers run, and how many
 * tasks of parallel kernels they (not the calling thread) ran. For checking
 * that threads take part (a page that is not cross-origin isolated has none).
 *
 * @example
 * const before = threadStats().workerTasks;
 * matmul(x, x);
 * threadStats().workerTasks > before; // true when workers shared the product
 */
export function threadStats(): ThreadStats {
  return { workers: workers.filter((w) => !w.dead).length, workerTasks };
}

/** A call that makes the worker running it exit (tests of a dying worker); the calling thread runs `local` instead. */
export function exitingCall(local: () => void): TaskCall {
  return { kernel: { id: LAYOUT.exitKernel, local }, args: [] };
}
