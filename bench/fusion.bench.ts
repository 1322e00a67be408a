/**
 * The fused chain `gelu(x * a + b)` against TensorFlow.js.
 *
 * `x` is a float32 [4096, 1024] (4,194,304 elements), `a` and `b` are [1024]
 * rows broadcast over it. Stratum runs it jitted (traced and compiled once,
 * then one generated loop per call) and eagerly (one kernel per primitive, for
 * reference); the plan line names the backend each kernel ran on (WebAssembly
 * or JavaScript, as the kernel cache picked it). TensorFlow.js 4.22 runs the
 * same tanh formula composed from its ops, on its CPU backend and on its WebAssembly backend (single-threaded,
 * SIMD where the platform has it). Each row is the median of several timed
 * calls after warm-up, in ms per call, with every result read back so nothing
 * is left pending. Results go to `bench/results/fusion.json`. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/fusion.bench.js`.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Tensor } from "../src/core/tensor.js";
import { loopKernelBackend } from "../src/backend/compile.js";
import { fusionPlan } from "../src/ir/fusion/execute.js";
import { fuseProgram } from "../src/ir/fusion/fuse.js";
import { gelu } from "../src/ops/activations.js";
import { add, mul } from "../src/ops/elementwise.js";
import { jit } from "../src/transforms/jit.js";
import { median, randomData, setUpTfjs } from "./support/measure.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROWS = 4096;
const COLS = 1024;
const WARMUP = 3;
const RUNS = 21;

/** The median time of `runs` calls of `f` after `warmup` untimed ones, in ms. */
function timeCalls(f: () => void, warmup: number, runs: number): number {
  for (let i = 0; i < warmup; i++) f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return median(times);
}

const xData = randomData(ROWS * COLS, 1, 3);
const aData = randomData(COLS, 2, 3);
const bData = randomData(COLS, 3, 3);

type X = Tensor<[4096, 1024]>;
type Row = Tensor<[1024]>;
// Wrapped without a copy; tfjs gets the same arrays.
const x: X = new Tensor([ROWS, COLS], "float32", xData);
const a: Row = new Tensor([COLS], "float32", aData);
const b: Row = new Tensor([COLS], "float32", bData);

const chain = (x: X, a: Row, b: Row): X => gelu(add(mul(x, a), b), { approximate: "tanh" });
const fused = jit(chain);
const first = fused(x, a, b);
const program = fused.lastProgram;
if (program === undefined) throw new Error("jit traced nothing");
const plan = fusionPlan(program);
// The backend of each kernel of the plan (WebAssembly or JavaScript), as the kernel cache picks it.
const backends = fuseProgram(program).steps.flatMap((s) => (s.kind === "kernel" ? [loopKernelBackend(s.nest)] : []));
const eagerResult = chain(x, a, b);
let maxDiff = 0;
first.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (eagerResult.data[i] ?? NaN)))));
if (maxDiff !== 0) throw new Error(`jit and eager differ by ${maxDiff}`);

let sink = 0;
const stratumJit = timeCalls(() => (sink += fused(x, a, b).data[0] ?? 0), WARMUP, RUNS);
const stratumEager = timeCalls(() => (sink += chain(x, a, b).data[0] ?? 0), 1, 5);

/** gelu(x * a + b) with tfjs ops, the same tanh formula, read back. */
function tfChain(tx: tf.Tensor2D, ta: tf.Tensor1D, tb: tf.Tensor1D): number {
  const out = tf.tidy(() => {
    const y = tf.add(tf.mul(tx, ta), tb);
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(y, tf.mul(0.044715, tf.mul(y, tf.mul(y, y)))));
    return tf.mul(tf.mul(0.5, y), tf.add(1, tf.tanh(inner)));
  });
  const data = out.dataSync();
  out.dispose();
  return data[0] ?? 0;
}

async function timeBackend(name: string): Promise<{ ms: number; maxDiff: number }> {
  await tf.setBackend(name);
  await tf.ready();
  const tx = tf.tensor2d(xData, [ROWS, COLS]);
  const ta = tf.tensor1d(aData);
  const tb = tf.tensor1d(bData);
  const check = tf.tidy(() => {
    const y = tf.add(tf.mul(tx, ta), tb);
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(y, tf.mul(0.044715, tf.mul(y, tf.mul(y, y)))));
    return tf.mul(tf.mul(0.5, y), tf.add(1, tf.tanh(inner)));
  });
  const values = check.dataSync();
  let diff = 0;
  values.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - (first.data[i] ?? NaN)))));
  check.dispose();
  const ms = timeCalls(() => (sink += tfChain(tx, ta, tb)), WARMUP, RUNS);
  tf.dispose([tx, ta, tb]);
  return { ms, maxDiff: diff };
}

await setUpTfjs(tf);
const tfCpu = await timeBackend("cpu");
const tfWasm = await timeBackend("wasm");
const wasmSimd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");

const rows: [string, number, string][] = [
  [`stratum jit (fused, 1 loop, ${backends.join(", ")})`, stratumJit, ""],
  ["stratum eager (unfused)", stratumEager, ""],
  ["tfjs 4.22 cpu", tfCpu.ms, `max |diff| ${tfCpu.maxDiff.toExponential(2)}`],
  [`tfjs 4.22 wasm (1 thread${wasmSimd ? ", simd" : ""})`, tfWasm.ms, `max |diff| ${tfWasm.maxDiff.toExponential(2)}`],
];
console.log(`gelu(x * a + b), x float32 [${ROWS}, ${COLS}], a and b [${COLS}]; median of ${RUNS} runs; ${cpus()[0]?.model ?? "cpu"}, node ${process.version}`);
console.log(`plan: ${plan.kernels} kernel(s), loop depth ${plan.steps.map((s) => (s.kind === "kernel" ? s.depth : 0)).join(", ")}, backend ${backends.join(", ")}`);
console.log("| runner | ms / call | jit is faster by | note |");
console.log("|---|---:|---:|---|");
for (const [name, ms, note] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / stratumJit).toFixed(1)}x | ${note} |`);
const bars = { vsTfjsCpu: tfCpu.ms / stratumJit >= 10, vsTfjsWasm: tfWasm.ms / stratumJit >= 2 };
console.log(`bar: 10x tfjs cpu ${bars.vsTfjsCpu ? "met" : "missed"}, 2x tfjs wasm ${bars.vsTfjsWasm ? "met" : "missed"}`);
if (sink === 42) console.log(""); // keeps the results alive

const results = {
  benchmark: "gelu(x * a + b)",
  elements: ROWS * COLS,
  shapes: { x: [ROWS, COLS], a: [COLS], b: [COLS] },
  runs: RUNS,
  warmup: WARMUP,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  kernels: plan.kernels,
  backends,
  msPerCall: { stratumJit, stratumEager, tfjsCpu: tfCpu.ms, tfjsWasm: tfWasm.ms },
  speedup: { vsEager: stratumEager / stratumJit, vsTfjsCpu: tfCpu.ms / stratumJit, vsTfjsWasm: tfWasm.ms / stratumJit },
  tfjsMaxAbsDiff: { cpu: tfCpu.maxDiff, wasm: tfWasm.maxDiff },
  bars,
  wasmSimd,
  date: new Date().toISOString(),
};
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(join(root, "bench", "results", "fusion.json"), `${JSON.stringify(results, null, 2)}\n`);
