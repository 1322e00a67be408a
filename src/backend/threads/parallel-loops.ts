/**
 * Fused loop nests on the worker pool: a large elementwise nest, or a nest
 * that reduces only axes inside its outermost one (row sums, row maxima),
 * runs as tasks of whole rows of its outermost axis, shared by the calling
 * thread and the workers (`./pool.ts`).
 *
 * Every kernel works in one memory (`../wasm/kernel-memory.ts`), on the
 * calling thread and on every worker, so a task reads and writes a compiled
 * program's buffers where they live. The calling thread copies the other
 * inputs (a worker cannot read a caller's JavaScript array) into the call's
 * working memory and the other outputs out of it: where every row reads
 * its own stretch of each input, a run of rows at a time while the workers
 * run the rows before (`pipeline`: the gelu chain over 4M floats at two
 * threads took 13.1 ms against 15.9 before, PyTorch 8.9 to 9.2,
 * 2026-12-08), else whole, around one job of all the tasks. A task runs
 * the nest's module for a block of rows (the same loops over fewer rows) at
 * addresses moved to its first row, so every element is computed by the
 * same instructions as on one thread, and every reduced element is summed
 * in the same order, by one task: the results are the one-thread kernel's
 * bits for any number of threads. How many rows a task takes depends only
 * on the nest's shape (about `BLOCK_BYTES` of buffers), never on the thread
 * count.
 *
 * The pool keeps every module it was given for the life of the process, so
 * at most `POOL_NEST_LIMIT` nests get modules of their own (each takes two:
 * full blocks and the last one); a program past that runs its other large
 * nests on the calling thread. Left out: nests that reduce their outermost
 * axis (a sum over rows per column, a bias's gradient, split into tasks of
 * runs of columns, each summed whole in the one-thread order, took 1.003 of
 * the CNN step at two threads, 2026-12-08: such a nest is bound by memory,
 * not by arithmetic), inputs that several reads step through at different
 * row strides, and copies done inside the tasks (a caller's array is not in
 * shared memory): the copies stay on the calling thread, which bounds the
 * gain of a cheap nest (see `PARALLEL_MIN_COST`).
 */

import type { DType, Storage } from "../../core/dtype.js";
import { shapeSize } from "../../core/shape.js";
import { outputShape, readsOwnRow, type LoopNest } from "../loop-ir.js";
import { scalarOpRow } from "../scalar-ops.js";
import { generateWasmModule, wasmLayout, wasmSupports } from "../wasm/codegen.js";
import { arenaAddress, loopHeap } from "../wasm/kernel-memory.js";
import { copyPacked, packReads } from "../wasm/pack.js";
import { acceptsCall, BLOCK_BYTES, compileWithSharedMemory } from "../wasm/runtime.js";
import { finishTasks, getThreads, MAX_ARGS, MAX_TASKS, poolKernel, runTasks, startTasks, type PoolKernel, type TaskCall } from "./pool.js";

/**
 * The least work (elements times `nestCost`) a nest must have to run on the
 * pool: about 0.6 ms of one thread's time. Measured on the 2-core Xeon of
 * 2026-12-07 (bench/results/elem.md): the gelu chain (cost 29) took 0.27 ms
 * on one thread over 64K elements (work 1.9M) and 1.1 ms over 256K; a job
 * of eight trivial tasks took 3-6 us at two threads (0.4 us at one), so the
 * job itself is negligible from here on. The figure stays well above that
 * because the machine was loaded (load 4 to 8 from other processes): there a
 * second thread gained nothing at any size (a worker that loses its core
 * holds its task), so the pool is kept for nests where one thread's time is
 * large against a lost time slice.
 */
export const PARALLEL_MIN_WORK = 2 ** 22;

/**
 * The least cost per element (`nestCost`) of a nest that runs on the pool:
 * below it the copies in and out, which stay on the calling thread, take
 * most of the time. Measured (2026-12-07, loaded machine): `x * a + b`
 * (cost 6) over 256K to 4M elements took 1.3x to 1.7x as long at two
 * threads as at one (the pool's path copies whole buffers where one thread
 * copies block by block in cache), while `exp(x * a + b)` (cost 22) was
 * within noise of one thread. Without the copies it does not pay either: a
 * CNN's bias + relu over [64, 28, 28, 32] (cost 5), its buffers read and
 * written in place in the kernels' memory, took 1.001 of the CNN step at
 * two threads on the pool (quiet, 2026-12-08): such a nest is bound by
 * memory.
 */
export const PARALLEL_MIN_COST = 8;

/** How many nests at most get modules of their own on the pool (it keeps every module it is given). */
export const POOL_NEST_LIMIT = 64;

/** The cost of a math routine (exp, tanh, ...) per element, in units of one arithmetic op. */
const ROUTINE_COST = 16;

/**
 * A rough cost per element of `nest`: one per op node, `ROUTINE_COST` per
 * math routine, one per buffer read or written.
 */
export function nestCost(nest: LoopNest): number {
  let cost = nest.outputs.length;
  for (const node of nest.nodes) {
    if (node.kind === "read") cost += 1;
    else if (node.kind === "op") {
      const lowering = scalarOpRow(node.op).wasm;
      cost += typeof lowering === "object" && "routine" in lowering ? ROUTINE_COST : 1;
    }
  }
  return cost;
}

/**
 * How a nest splits into tasks: runs of `unit` rows of its outermost axis,
 * the last run holding the rest; the nest of a full run and of the last
 * one; and how far one row moves each argument of a call, in bytes (the
 * buffers, none for the constants, then the accumulators).
 */
interface Split {
  readonly count: number;
  readonly unit: number;
  readonly block: LoopNest;
  readonly last: LoopNest | undefined;
  readonly step: readonly number[];
}

/** How far one row moves each input (in elements), the same for every read of it; undefined when two reads of an input move differently. */
function inputRows(nest: LoopNest): number[] | undefined {
  const steps: (number | undefined)[] = nest.inputs.map(() => undefined);
  for (const node of nest.nodes) {
    if (node.kind !== "read") continue;
    const s = node.map.strides[0] ?? 0;
    if ((steps[node.input] ?? s) !== s) return undefined;
    steps[node.input] = s;
  }
  return steps.map((s) => s ?? 0);
}

/**
 * The split of `nest` into tasks of whole rows of its outermost axis, or
 * undefined when it cannot split so: the outermost axis reduced, an input
 * read at two different strides along it, or rows so small that one task
 * would hold them all.
 */
function rowSplit(nest: LoopNest): Split | undefined {
  const [rows = 0, ...rest] = nest.shape;
  const inputRow = inputRows(nest);
  if (rows < 2 || nest.reducedAxes.includes(0) || inputRow === undefined) return undefined;
  const outputRow = nest.outputs.map((out) => shapeSize(outputShape(nest, out)) / rows);
  const rowBytes = 4 * (shapeSize(rest) * nest.inputs.length + outputRow.reduce((sum, n) => sum + n, 0));
  const unit = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(rowBytes, 1)), Math.ceil(rows / MAX_TASKS));
  if (unit >= rows) return undefined; // one task: nothing to share
  const blockOf = (n: number): LoopNest => ({ ...nest, shape: [n, ...rest] });
  const reducing = nest.outputs.flatMap((out, j) => (out.reduce === undefined ? [] : [j]));
  const step = [...inputRow.map((s) => 4 * s), ...outputRow.map((n) => 4 * n), ...nest.constants.map(() => 0), ...reducing.map((j) => 8 * (outputRow[j] ?? 0))];
  return { count: rows, unit, block: blockOf(unit), last: rows % unit === 0 ? undefined : blockOf(rows % unit), step };
}

const EMPTY = new Float32Array(0);
const registered = new Map<string, PoolKernel>();

/** The pool kernel of `nest`'s module (constants as bits), registered once per distinct module; undefined past `POOL_NEST_LIMIT` nests or without WebAssembly. */
function registeredKernel(nest: LoopNest): PoolKernel | undefined {
  const binary = generateWasmModule(nest, true, true);
  let key = "";
  for (let i = 0; i < binary.length; i += 4096) key += String.fromCharCode(...binary.subarray(i, i + 4096));
  const known = registered.get(key);
  if (known !== undefined) return known;
  if (registered.size >= 2 * POOL_NEST_LIMIT) return undefined;
  const compiled = compileWithSharedMemory(binary);
  const local = compiled?.exports["kernel"];
  if (compiled === undefined || typeof local !== "function") return undefined;
  const kernel = poolKernel(compiled.module, local as (...args: number[]) => void); // an exported WebAssembly function of numbers
  registered.set(key, kernel);
  return kernel;
}

/** A call of a parallel nest: runs it on the pool and returns true, or returns false having written nothing (too few threads, or a call WebAssembly cannot run exactly). */
export type ParallelRun = (buffers: readonly Storage<DType>[], constants: ArrayLike<number>) => boolean;

/**
 * The pool runner of `nest`, or undefined when the nest stays on the
 * calling thread: WebAssembly cannot compile it, it cannot split into rows
 * (`rowSplit`), its work is below `PARALLEL_MIN_WORK` or its cost per
 * element below `PARALLEL_MIN_COST`, or its calls need more than `MAX_ARGS`
 * arguments. The runner returns false, having written nothing, when
 * `getThreads()` is 1, the call cannot run exactly in WebAssembly, or the
 * pool has taken `POOL_NEST_LIMIT` nests already (the modules are
 * registered on the first call that takes the pool); the caller then runs
 * the nest itself.
 *
 * @example
 * const parallel = parallelLoopKernel(nest);
 * if (parallel === undefined || !parallel([x, out], constants)) kernel([x, out], constants);
 */
export function parallelLoopKernel(nest: LoopNest): ParallelRun | undefined {
  if (!wasmSupports(nest)) return undefined;
  const { nest: packed, packs } = packReads(nest);
  const split = rowSplit(packed);
  const total = shapeSize(nest.shape);
  const cost = nestCost(nest);
  if (split === undefined || total * cost < PARALLEL_MIN_WORK || cost < PARALLEL_MIN_COST) return undefined;
  // a call passes every input whole (its size in the unpacked nest); an input read sparsely is copied in as the elements read (pack.ts), laid out as in the packed nest
  const sizes = wasmLayout(nest).sizes;
  const scratchSizes = wasmLayout(packed).sizes;
  const nBuffers = sizes.length;
  const nIn = nest.inputs.length;
  const nConst = nest.constants.length;
  const reducing = nest.outputs.flatMap((out, j) => (out.reduce === undefined ? [] : [j]));
  if (nBuffers + nConst + reducing.length > MAX_ARGS) return undefined;

  // each task's kernel and arguments (filled per call: the buffers' addresses move from call to call), the constants' bits the same for all;
  // the modules registered with the pool on the first call that takes it (a nest whose calls never do spends none of the pool's modules)
  const { step } = split;
  let taskCalls: readonly (readonly { readonly kernel: PoolKernel; readonly from: number; readonly args: number[] }[])[] | null | undefined;
  const tasksOf = (): typeof taskCalls => {
    const block = registeredKernel(split.block);
    const last = split.last === undefined ? block : registeredKernel(split.last);
    if (block === undefined || last === undefined) return null;
    const tasks = [];
    for (let from = 0; from < split.count; from += split.unit) tasks.push([{ kernel: from + split.unit <= split.count ? block : last, from, args: new Array<number>(step.length).fill(0) }]);
    return tasks;
  };
  // the elements of a row of each buffer when a call can copy it a run of rows at a time (`streamedRows`), else undefined (copied whole)
  const rowElements = streamedRows(packed, packs, step);
  // each argument's address for the first index in this call: in place in the kernels' memory, or in the call's working memory from 0
  const address = new Array<number>(step.length).fill(0);
  const inPlace = new Array<boolean>(nBuffers).fill(false);
  const floats = new Array<Float32Array>(nBuffers);
  const bits = new Int32Array(1);
  const float = new Float32Array(bits.buffer);
  const decline = (): false => {
    floats.fill(EMPTY); // hold no caller's buffer between calls
    return false;
  };

  return (buffers, constants) => {
    if (getThreads() < 2 || !acceptsCall(buffers, constants, sizes, nConst, floats)) return decline();
    let bytes = 0;
    for (let i = 0; i < nBuffers; i++) {
      const at = i < nIn && packs[i] !== undefined ? undefined : arenaAddress(floats[i] ?? EMPTY);
      inPlace[i] = at !== undefined;
      if (at !== undefined) address[i] = at;
      else {
        address[i] = bytes;
        bytes = Math.ceil((bytes + 4 * (scratchSizes[i] ?? 0)) / 16) * 16;
      }
    }
    taskCalls ??= tasksOf();
    const calls = taskCalls;
    if (calls === null || calls === undefined) return decline();
    reducing.forEach((j, k) => {
      address[nBuffers + nConst + k] = bytes;
      bytes = Math.ceil((bytes + 8 * (sizes[nIn + j] ?? 0)) / 16) * 16;
    });
    const heap = loopHeap(bytes);
    if (heap === undefined) return decline();
    for (let c = 0; c < nConst; c++) {
      float[0] = constants[c] ?? NaN;
      address[nBuffers + c] = bits[0] ?? 0;
    }
    for (const [t] of calls) if (t !== undefined) for (let a = 0; a < step.length; a++) t.args[a] = (address[a] ?? 0) + t.from * (step[a] ?? 0);
    // rows from..to of every buffer copied a run of rows at a time: in, or out
    const copyRows = (from: number, to: number, out: boolean): void => {
      for (let i = out ? nIn : 0; i < (out ? nBuffers : nIn); i++) {
        const b = floats[i];
        const e = rowElements?.[i];
        if (b === undefined || inPlace[i] === true || e === undefined || e === 0) continue;
        const [lo, hi, o] = [from * e, Math.min(b.length, to * e), (address[i] ?? 0) / 4];
        if (out) b.set(heap.subarray(o + lo, o + hi), lo);
        else heap.set(b.subarray(lo, hi), o + lo);
      }
    };
    // the inputs copied whole (all of them, or those every row reads)
    for (let i = 0; i < nIn; i++) {
      const b = floats[i];
      if (b === undefined || inPlace[i] === true || (rowElements?.[i] ?? 0) > 0) continue;
      const pack = packs[i];
      if (pack !== undefined) copyPacked(heap, (address[i] ?? 0) / 4, b, pack);
      else heap.set(b, (address[i] ?? 0) / 4);
    }
    try {
      if (rowElements === undefined || !floats.some((b, i) => inPlace[i] !== true && (rowElements[i] ?? 0) > 0)) {
        runTasks(calls);
        for (let i = nIn; i < nBuffers; i++) {
          const b = floats[i];
          const o = (address[i] ?? 0) / 4;
          if (b !== undefined && inPlace[i] !== true) b.set(heap.subarray(o, o + b.length));
        }
      } else pipeline(calls, copyRows);
    } finally {
      floats.fill(EMPTY); // hold no caller's buffer between calls, a failed job's included
    }
    return true;
  };
}

/**
 * About how many jobs a pipelined call is cut into (`pipeline`): each job's
 * publishing and waking costs a few microseconds, and the last job's copy
 * out and the first one's copy in are not overlapped.
 */
const PIPELINE_JOBS = 16;

/**
 * Runs `calls` (tasks of consecutive runs of rows) as about PIPELINE_JOBS
 * jobs (of at least as many tasks as there are workers), each begun before
 * the calling thread copies the
 * next job's rows in and the last job's rows out (`copyRows(from, to,
 * out)`), so that the copies, which only the calling thread can make (a
 * worker cannot read or write a caller's array), overlap the workers'
 * loops. The rows of a job are copied in before it begins and out after it
 * ends; a job that no worker takes runs on the calling thread when it is
 * finished. The tasks and their arguments are those of one job over every
 * row: the same bits.
 */
function pipeline(calls: readonly (readonly (TaskCall & { readonly from: number })[])[], copyRows: (from: number, to: number, out: boolean) => void): void {
  const per = Math.max(getThreads() - 1, Math.ceil(calls.length / PIPELINE_JOBS));
  const rowOf = (t: number): number => calls[t]?.[0]?.from ?? Number.MAX_SAFE_INTEGER;
  const rows = (g: number): [number, number] => [rowOf(g), rowOf(Math.min(calls.length, g + per))];
  copyRows(...rows(0), false);
  let running = startTasks(calls.slice(0, per), true);
  try {
    for (let g = per; g < calls.length; g += per) {
      copyRows(...rows(g), false);
      finishTasks(running);
      const [from, to] = rows(g - per);
      running = startTasks(calls.slice(g, g + per), true);
      copyRows(from, to, true);
    }
  } finally {
    finishTasks(running);
  }
  copyRows(...rows(Math.floor((calls.length - 1) / per) * per), true);
}

/**
 * The elements of one row of each buffer of `nest` (inputs, then outputs)
 * when every input is either read whole by every row (0) or read a row at a
 * time at its row stride, each row's reads inside its own stretch of that
 * stride (so rows from..to read elements from * s up to to * s): then a
 * call can copy rows in and out a run at a time. Undefined otherwise (an
 * input packed, or rows that read beyond their stretch).
 */
function streamedRows(nest: LoopNest, packs: readonly (unknown | undefined)[], step: readonly number[]): number[] | undefined {
  if (packs.some((p) => p !== undefined)) return undefined;
  for (const node of nest.nodes) if (node.kind === "read" && (node.map.strides[0] ?? 0) !== 0 && !readsOwnRow(node.map, nest.shape)) return undefined;
  return step.slice(0, nest.inputs.length + nest.outputs.length).map((bytes) => bytes / 4);
}

