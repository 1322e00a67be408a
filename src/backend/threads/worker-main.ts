/**
 * The program a pool worker runs: instantiate the kernels it is sent over
 * the shared memory, then claim tasks of published jobs and run them.
 *
 * The pool starts a worker from this function's source text
 * (`workerSource`), so it must be self-contained: no imports, no names from
 * the module around it, only the globals of a worker (Node's
 * `process.getBuiltinModule("node:worker_threads")`, or a Web Worker's
 * `self`). The layout of the control words comes in the first message, so
 * that it is written down once, in `pool.ts`; the protocol is described
 * there too. Left out: kernel code of its own (every kernel arrives as a
 * compiled `WebAssembly.Module`) and any work beyond calling exports.
 */

/** The layout of the control words (indices into an `Int32Array`), sent to each worker. */
export interface ControlLayout {
  readonly claim: number;
  readonly wake: number;
  readonly done: number;
  readonly count: number;
  readonly required: number;
  readonly failed: number;
  readonly messageLength: number;
  /** How many workers (those numbered below it) may claim the open job's tasks. */
  readonly workers: number;
  readonly message: number;
  readonly messageMax: number;
  readonly dead: number;
  readonly taskStart: number;
  readonly calls: number;
  readonly callInts: number;
  readonly nextBits: number;
  /** The kernel number of a call that makes the worker exit (the pool's tests of a dying worker). */
  readonly exitKernel: number;
  /** How long (ms) a worker that ran out of tasks watches for the next job before it sleeps. */
  readonly spinMs: number;
}

/** The first message a worker gets (Node: its `workerData`). */
export interface WorkerInit {
  readonly memory: object;
  readonly control: SharedArrayBuffer;
  readonly layout: ControlLayout;
  readonly index: number;
  readonly modules: readonly object[];
  /** Whether the worker sleeps on `Atomics.wait` (Node) or returns to its event loop between jobs (a browser). */
  readonly blocking: boolean;
}

/** A later message: one more kernel, or (browsers) a job to look at. */
export type WorkerMessage = { readonly kind: "kernel"; readonly module: object } | { readonly kind: "job" };

/** The members of a worker's globals read here (typed without DOM or Node typings). */
interface WorkerGlobals {
  readonly process?: {
    getBuiltinModule?(id: string): unknown;
    on(event: "exit", listener: () => void): void;
    exit(code: number): void;
  };
  onmessage?: (event: { readonly data: WorkerInit | WorkerMessage }) => void;
  postMessage?(message: "ready"): void;
  readonly WebAssembly: {
    readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  };
  readonly performance?: { now(): number };
}

/** The part of `node:worker_threads` read here. */
interface NodeWorkerThreads {
  readonly workerData: WorkerInit;
  readonly parentPort: { postMessage(message: "ready"): void };
  receiveMessageOnPort(port: object): { readonly message: WorkerMessage } | undefined;
}

/**
 * The worker's program (run as the text `(${workerMain.toString()})()`).
 * NOTE: everything it uses is declared inside it.
 */
export function workerMain(): void {
  // Sound: the worker's global object, whose members are checked before use where they may be absent.
  const scope = globalThis as unknown as WorkerGlobals;
  const builtin = scope.process?.getBuiltinModule?.("node:worker_threads");
  // Sound: Node's worker_threads module has the members NodeWorkerThreads names.
  const node = builtin === undefined ? undefined : (builtin as NodeWorkerThreads);

  type Kernel = (...args: number[]) => void;
  const kernels: Kernel[] = [];
  let init: WorkerInit | undefined;
  let control: Int32Array<ArrayBufferLike> = new Int32Array(0);
  let running = -1; // the task being run, or -1

  const addKernel = (module: object): void => {
    if (init === undefined) return;
    const exports = new scope.WebAssembly.Instance(module, { env: { memory: init.memory } }).exports;
    const kernel = exports["kernel"];
    if (typeof kernel !== "function") throw new Error("stratum worker: a module exports no kernel");
    kernels.push(kernel as Kernel); // an exported WebAssembly function of numbers
  };
  const drain = (): void => {
    if (node === undefined) return;
    for (let m = node.receiveMessageOnPort(node.parentPort); m !== undefined; m = node.receiveMessageOnPort(node.parentPort)) {
      if (m.message.kind === "kernel") addKernel(m.message.module);
    }
  };
  const fail = (layout: ControlLayout, text: string): void => {
    if (Atomics.compareExchange(control, layout.failed, 0, 1) !== 0) return; // the first failure's message is kept
    const length = Math.min(text.length, layout.messageMax);
    for (let i = 0; i < length; i++) control[layout.message + i] = text.charCodeAt(i);
    Atomics.store(control, layout.messageLength, length);
  };
  const finish = (layout: ControlLayout): void => {
    running = -1;
    const done = Atomics.add(control, layout.done, 1) + 1;
    if (done >= Atomics.load(control, layout.count)) Atomics.notify(control, layout.done);
  };
  /** Claims and runs tasks of the open job, if any, while it has some left and this worker has its kernels. */
  const work = (layout: ControlLayout): void => {
    const mask = (1 << layout.nextBits) - 1;
    for (;;) {
      const word = Atomics.load(control, layout.claim);
      const count = Atomics.load(control, layout.count);
      const required = Atomics.load(control, layout.required);
      const workers = Atomics.load(control, layout.workers);
      if (Atomics.load(control, layout.claim) >>> layout.nextBits !== word >>> layout.nextBits) continue; // a new job was published meanwhile
      const task = word & mask;
      if (task >= count || (init?.index ?? workers) >= workers) return;
      if (required > kernels.length) drain();
      if (required > kernels.length) return; // not yet sent this job's kernels: leave its tasks to the others
      if (Atomics.compareExchange(control, layout.claim, word, word + 1) !== word) continue;
      running = task;
      try {
        const end = Atomics.load(control, layout.taskStart + task + 1);
        for (let call = Atomics.load(control, layout.taskStart + task); call < end; call++) {
          const at = layout.calls + call * layout.callInts;
          const id = control[at] ?? 0;
          const args = Array.from(control.subarray(at + 1, at + layout.callInts));
          if (id === layout.exitKernel) scope.process?.exit(1);
          const kernel = kernels[id];
          if (kernel === undefined) throw new Error(`stratum worker: no kernel ${String(id)}`);
          kernel(...args);
        }
      } catch (e) {
        fail(layout, `worker ${String(init?.index)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      finish(layout);
    }
  };
  const start = (data: WorkerInit): void => {
    init = data;
    control = new Int32Array(data.control);
    for (const module of data.modules) addKernel(module);
    const layout = data.layout;
    scope.process?.on("exit", () => {
      Atomics.store(control, layout.dead + data.index, 1);
      if (running >= 0) {
        fail(layout, `worker ${String(data.index)} exited during a task`);
        finish(layout);
      }
    });
    (node?.parentPort ?? scope).postMessage?.("ready");
    if (!data.blocking) return;
    let seen = Atomics.load(control, layout.wake);
    const clock = scope.performance;
    for (;;) {
      work(layout);
      // NOTE: the next job of a training step often comes within microseconds: watching for it a little while
      // before sleeping spares its publisher the wake-up and this worker the latency of being woken (pool.ts, SPIN_MS).
      if (clock !== undefined) for (const until = clock.now() + layout.spinMs; Atomics.load(control, layout.wake) === seen && clock.now() < until; );
      Atomics.wait(control, layout.wake, seen);
      seen = Atomics.load(control, layout.wake);
    }
  };

  if (node !== undefined) {
    start(node.workerData);
    return;
  }
  scope.onmessage = (event) => {
    const data = event.data;
    if (!("kind" in data)) start(data);
    else if (data.kind === "kernel") addKernel(data.module);
    else if (init !== undefined) work(init.layout);
  };
}

/** The source text a worker runs. */
export const workerSource = (): string => `(${workerMain.toString()})()`;
