/**
 * The ceiling of this machine for WebAssembly f32x4 arithmetic, beside the
 * matmul that should reach it: how many float32 multiply-adds a core retires
 * per second when it does nothing else, measured, and the jitted 1024 x 1024
 * matmul at the same thread counts in the same run (its GFLOP/s as a share
 * of that ceiling). Issue 14 asks for a matmul of 50 GFLOP/s on one core and
 * issue 15 for 90 on two; this bench says what the hardware allows.
 *
 * The loop: 16 independent chains `acc = acc * c1 + c2` of f32x4 values in
 * locals (no loads or stores of their own), unrolled four times: the
 * default path's `f32x4.mul` then `f32x4.add`, and, where relaxed SIMD is
 * on, one `f32x4.relaxed_madd` per step. Sixteen chains cover the latency
 * of a multiply followed by an add at this machine's issue rate (the
 * Intel Xeon of bench/results/simd-peak.md, 2026-12-08, with
 * `SIMD_PEAK_CHAINS`: 8 chains gave 23 GFLOP/s, 12 gave 30, 16 gave 33,
 * 20 gave 34). Sixteen chains and the two constants are more values than
 * the 15 vector registers V8 allocates on x64, so some live on the stack:
 * their reloads go to the load ports, not to the arithmetic's. The values
 * stay near 0.1 (c1 = 1 - 2^-20, c2 = 0.1 * 2^-20), never subnormal. Each
 * step is 8 floating-point operations per vector; every chain's first lane
 * is summed into the result (V8 computes all four lanes of an f32x4
 * operation, so no chain is dead code). The loop is timed after many short
 * calls (V8 runs a WebAssembly function as baseline code first and tiers
 * it up in the background; one long first call would stay at baseline),
 * three calls in a row. Two threads run it in worker threads that warm up
 * apart and then start their timed calls together (a barrier), so the
 * timed stretches overlap.
 *
 * Run: `npm run compile && node .build/bench/support/relaxed-node.js
 * .build/bench/simd-peak.js`. Writes `bench/results/simd-peak.md` (env
 * `SIMD_PEAK_WRITE=0` writes nothing).
 */

import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { jit, matmul, relaxedSimdSupport, setRelaxedSimd, setThreads, Tensor } from "../src/index.js";
import { hostWebAssembly } from "../src/core/host.js";
import { encodeModule, FunctionBody, Op, SimdOp, ValType } from "../src/backend/wasm/encoder.js";
import { median, randomData } from "./support/measure.js";

/** The chains (`SIMD_PEAK_CHAINS`, default 16): fewer leave the arithmetic waiting on its own latency. */
const CHAINS = Number(process.env["SIMD_PEAK_CHAINS"] ?? 16);
const UNROLL = 4;
const C1 = 1 - 2 ** -20;
const C2 = 0.1 * 2 ** -20;
/** Floating-point operations per loop iteration: chains x unroll x 4 lanes x (multiply + add). */
const FLOPS_PER_ITERATION = CHAINS * UNROLL * 4 * 2;
const ITERATIONS = 2_000_000;

/** The module of `peak(iterations) -> f32`: the chains' loop, fused (relaxed) or not. */
function peakModule(relaxed: boolean): Uint8Array {
  const f = new FunctionBody(1);
  const [c1, c2] = [f.local(ValType.v128), f.local(ValType.v128)];
  const acc = Array.from({ length: CHAINS }, () => f.local(ValType.v128));
  f.i32x4(floatBits(C1)).set(c1);
  f.i32x4(floatBits(C2)).set(c2);
  acc.forEach((a, i) => f.i32x4(floatBits(0.1 + i * 1e-3)).set(a));
  f.loop();
  for (let u = 0; u < UNROLL; u++) {
    for (const a of acc) {
      if (relaxed) f.get(a).get(c1).get(c2).simd(SimdOp.f32x4_relaxed_madd).set(a);
      else f.get(a).get(c1).simd(SimdOp.f32x4_mul).get(c2).simd(SimdOp.f32x4_add).set(a);
    }
  }
  // until the count (parameter 0) reaches 0
  f.get(0).i32(1).op(Op.i32_sub).tee(0).brIf(0).end();
  // the sum of the chains' first lanes, so that no chain is dead code
  f.get(acc[0] ?? 0).simd(SimdOp.f32x4_extract_lane, [0]);
  for (const a of acc.slice(1)) f.get(a).simd(SimdOp.f32x4_extract_lane, [0]).op(Op.f32_add);
  return encodeModule({ imports: [], functions: [{ type: { params: [ValType.i32], results: [ValType.f32] }, body: f, export: "peak" }] });
}

/** The bits of the float32 nearest `v`, as an int32 lane of `v128.const`. */
function floatBits(v: number): number {
  return new Int32Array(Float32Array.of(v).buffer)[0] ?? 0;
}

/** The loop, compiled and warmed up (tiered up) on this thread. */
function warmPeak(relaxed: boolean): (n: number) => number {
  if (hostWebAssembly === undefined) throw new Error("simd-peak: this engine has no WebAssembly");
  const instance = new hostWebAssembly.Instance(new hostWebAssembly.Module(peakModule(relaxed)), {});
  const peak = instance.exports["peak"] as (n: number) => number; // the export defined above: (i32) -> f32
  // V8 first runs a function as baseline (Liftoff) code and tiers it up after enough calls, in the background: many
  // short calls, and a pause, before the timed ones
  for (let i = 0; i < 2000; i++) peak(100);
  const until = performance.now() + 200;
  while (performance.now() < until) peak(1000);
  return peak;
}

/** GFLOP/s of three timed calls of the warmed-up loop. */
function timePeak(peak: (n: number) => number): number {
  const t = performance.now();
  let sum = 0;
  for (let i = 0; i < 3; i++) sum += peak(ITERATIONS);
  const ms = performance.now() - t;
  if (!Number.isFinite(sum)) throw new Error("simd-peak: the chains left the finite range");
  return (3 * ITERATIONS * FLOPS_PER_ITERATION) / ms / 1e6;
}

/** The control words of a run on workers: [WARM] how many have warmed up, [GO] set to start the timed calls. */
const [WARM, GO] = [0, 1];

interface PeakTask {
  readonly relaxed: boolean;
  readonly control: SharedArrayBuffer;
}

if (!isMainThread) {
  const { relaxed, control } = workerData as PeakTask; // posted by `peakOnThreads` below
  const words = new Int32Array(control);
  const peak = warmPeak(relaxed);
  Atomics.add(words, WARM, 1);
  Atomics.wait(words, GO, 0);
  parentPort?.postMessage(timePeak(peak));
} else {
  void main();
}

/** The summed GFLOP/s of `threads` threads running the loop at once. */
async function peakOnThreads(threads: number, relaxed: boolean): Promise<number> {
  const control = new SharedArrayBuffer(8);
  const words = new Int32Array(control);
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { relaxed, control } satisfies PeakTask }));
  const results = workers.map((w) => new Promise<number>((resolve, reject) => w.once("message", resolve).once("error", reject)));
  while (Atomics.load(words, WARM) < threads) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(words, GO, 1);
  Atomics.notify(words, GO);
  const rates = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return rates.reduce((a, b) => a + b, 0);
}

/** GFLOP/s of the jitted 1024 x 1024 matmul at `threads` threads (median of rounds of 10 calls). */
function matmulRate(threads: number, relaxed: boolean): number {
  setThreads(threads);
  setRelaxedSimd(relaxed);
  const n = 1024;
  const a = new Tensor([n, n], "float32", randomData(n * n, 1));
  const b = new Tensor([n, n], "float32", randomData(n * n, 2));
  const f = jit((x: Tensor<[1024, 1024]>, y: Tensor<[1024, 1024]>) => matmul(x, y));
  f(a, b);
  const times: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) f(a, b);
    times.push((performance.now() - t) / 10);
  }
  return (2 * n ** 3) / median(times) / 1e6;
}

async function main(): Promise<void> {
  const relaxedOn = relaxedSimdSupport().available;
  const modes = relaxedOn ? [false, true] : [false];
  const threadCounts = [1, 2].filter((t) => t <= availableParallelism());
  const rows: string[] = [];
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(" ");
  for (const relaxed of modes) {
    for (const threads of threadCounts) {
      const peaks: number[] = [];
      const mms: number[] = [];
      // interleaved: the loop, then the matmul, three times
      for (let round = 0; round < 3; round++) {
        peaks.push(await peakOnThreads(threads, relaxed));
        mms.push(matmulRate(threads, relaxed));
      }
      const [peak, mm] = [median(peaks), median(mms)];
      const line = `| ${relaxed ? "relaxed_madd" : "mul + add (default)"} | ${threads} | ${peak.toFixed(1)} | ${mm.toFixed(1)} | ${((100 * mm) / peak).toFixed(0)}% |`;
      console.log(line);
      rows.push(line);
    }
  }
  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(" ");
  const report = [
    "# The f32x4 ceiling of this machine, and the matmul beside it",
    "",
    `Run ${new Date().toISOString()}, node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} (${availableParallelism()} logical cores), load ${loadBefore} before and ${loadAfter} after.`,
    `\`bench/simd-peak.ts\`: ${CHAINS} chains of f32x4 multiply and add in locals, medians of 3 runs of`,
    `${(3 * ITERATIONS * FLOPS_PER_ITERATION) / 1e9} GFLOP per thread; the jitted 1024 x 1024 matmul, medians of 9 rounds of 10 calls, interleaved with them.`,
    "",
    "| arithmetic | threads | loop peak GFLOP/s | matmul 1024 GFLOP/s | matmul / peak |",
    "|---|---:|---:|---:|---:|",
    ...rows,
    "",
  ].join("\n");
  if (process.env.SIMD_PEAK_WRITE !== "0") writeFileSync(new URL("../../bench/results/simd-peak.md", import.meta.url), report);
  setThreads(1);
}
