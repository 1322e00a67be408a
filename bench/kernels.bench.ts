/**
 * Speed of the hand-tuned CPU kernels (`src/backend/kernels/`) against TensorFlow.js
 * 4.22 in the same process: its pure-JavaScript CPU backend
 * (`@tensorflow/tfjs-backend-cpu`) and its WebAssembly backend
 * (`@tensorflow/tfjs-backend-wasm`, XNNPACK; forced single-threaded, with
 * SIMD when the engine has it, which the output reports).
 *
 * Our matrix products run twice: as `matmul` picks (`ours`: the WebAssembly
 * SIMD kernel where the engine has it) and on our JavaScript kernel alone
 * (`ours-js`, `backend: "javascript"`); convolutions run as `conv2d` picks.
 *
 * Cases: float32 matrix products at N = 64, 256, 512 and 1024 (GFLOP/s), and
 * two convolutions (ms per call): batch 32 of 28 x 28 x 1 to 32 channels,
 * and batch 32 of 14 x 14 x 32 to 64 channels, both 3 x 3 with padding
 * "same". Each side of each case gets the same data. The three sides run
 * interleaved, one call each per round (in an order that rotates from round
 * to round), so that a noisy machine slows them alike: rounds of warm-up for
 * at least 300 ms, then timed rounds (`performance.now()` around each call)
 * until the case's time budget is spent and it has its minimum of rounds (at
 * most 400); each side's median is reported, and a ratio is one median over
 * another. The short cases get about 15 to 400 rounds (3 s of them), the
 * slow ones (where one TensorFlow.js CPU call takes 0.5 to 3 s) 9 and 5; the
 * whole run takes about a minute. Our result is checked against
 * TensorFlow.js's before its time counts.
 *
 * Results are printed as a table and written to `bench/results/kernels.json`
 * with the machine's facts. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/kernels.bench.js`.
 */

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { conv2d, conv2dGeometry, type Conv2dParams } from "../src/backend/kernels/conv/index.js";
import { matmul } from "../src/backend/kernels/matmul.js";
import { median, randomData, relativeDifference, setUpTfjs } from "./support/measure.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

type Side = "ours" | "ours-js" | "tfjs-cpu" | "tfjs-wasm";
const SIDES: readonly Side[] = ["ours", "ours-js", "tfjs-cpu", "tfjs-wasm"];

/** One side of a case as the timing loop sees it: what to do before a call (untimed), and the call. */
interface Runner {
  readonly prepare: () => Promise<void>;
  readonly run: () => void;
}

const WARM_UP_MS = 300;
const MAX_ROUNDS = 400;

/**
 * Times the sides interleaved: rounds of one call per side, in an order that
 * rotates each round. Warm-up rounds run for WARM_UP_MS (at least one), so
 * that V8 has optimized the code before it is timed; then timed rounds until
 * `budgetMs` is spent and `minRounds` are done (at most MAX_ROUNDS). Returns
 * each side's call times in ms.
 */
async function timeInterleaved(runners: readonly Runner[], budgetMs: number, minRounds: number): Promise<number[][]> {
  const times = runners.map((): number[] => []);
  const round = async (r: number, record: boolean): Promise<void> => {
    for (let i = 0; i < runners.length; i++) {
      const side = (r + i) % runners.length;
      const runner = runners[side];
      if (runner === undefined) continue;
      await runner.prepare();
      const t = performance.now();
      runner.run();
      const elapsed = performance.now() - t;
      if (record) times[side]?.push(elapsed);
    }
  };
  const warmUp = performance.now();
  let r = 0;
  do await round(r++, false);
  while (performance.now() - warmUp < WARM_UP_MS);
  const start = performance.now();
  for (let timed = 0; timed < MAX_ROUNDS && (timed < minRounds || performance.now() - start < budgetMs); timed++) await round(r++, true);
  return times;
}

/** One case: how to run it on each side, and how to read its figure. */
interface Case {
  readonly name: string;
  readonly unit: "GFLOP/s" | "ms";
  readonly flops: number;
  /** Runs our kernel once into a preallocated output, which it returns. */
  readonly ours: () => Float32Array;
  /** The same on our JavaScript kernel alone, where the case can choose it. */
  readonly oursJs?: () => Float32Array;
  /** Runs the TensorFlow.js op once on the current backend (inputs made on it), returning the output. */
  readonly tfjs: (inputs: readonly tf.Tensor[]) => tf.Tensor;
  /** The inputs for TensorFlow.js. */
  readonly inputs: () => tf.Tensor[];
  /** Time for the timed rounds, and the fewest of them. */
  readonly budgetMs: number;
  readonly minRounds: number;
}

function matmulCase(n: number): Case {
  const a = randomData(n * n, 1);
  const b = randomData(n * n, 2);
  const out = new Float32Array(n * n);
  const outJs = new Float32Array(n * n);
  return {
    name: `matmul ${n} x ${n} x ${n} f32`,
    unit: "GFLOP/s",
    flops: 2 * n * n * n,
    ours: () => matmul(out, a, b, { m: n, k: n, n }),
    oursJs: () => matmul(outJs, a, b, { m: n, k: n, n, backend: "javascript" }),
    tfjs: ([x, y]) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), // the two inputs made below are rank 2
    inputs: () => [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])],
    // One tfjs-cpu call takes about 0.5 s at n = 512 and 3 s at n = 1024.
    budgetMs: n >= 512 ? 0 : 3000,
    minRounds: n >= 1024 ? 5 : n >= 512 ? 9 : 25,
  };
}

function convCase(name: string, params: Conv2dParams): Case {
  const g = conv2dGeometry(params);
  const { batch, inHeight, inWidth, inChannels, kernelHeight, kernelWidth, outChannels } = params;
  const x = randomData(batch * inHeight * inWidth * inChannels, 3);
  const w = randomData(kernelHeight * kernelWidth * inChannels * outChannels, 4);
  const out = new Float32Array(batch * g.outHeight * g.outWidth * outChannels);
  return {
    name,
    unit: "ms",
    flops: 2 * out.length * kernelHeight * kernelWidth * inChannels,
    ours: () => conv2d(out, x, w, params),
    tfjs: ([input, filter]) => tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, 1, "same"), // both made rank 4 below
    inputs: () => [tf.tensor4d(x, [batch, inHeight, inWidth, inChannels]), tf.tensor4d(w, [kernelHeight, kernelWidth, inChannels, outChannels])],
    budgetMs: 3000,
    minRounds: 15,
  };
}

const cases: Case[] = [
  matmulCase(64),
  matmulCase(256),
  matmulCase(512),
  matmulCase(1024),
  convCase("conv2d case 1: 32 x 28 x 28 x 1 -> 32, 3 x 3, same", {
    batch: 32,
    inHeight: 28,
    inWidth: 28,
    inChannels: 1,
    kernelHeight: 3,
    kernelWidth: 3,
    outChannels: 32,
    padding: "same",
  }),
  convCase("conv2d case 2: 32 x 14 x 14 x 32 -> 64, 3 x 3, same", {
    batch: 32,
    inHeight: 14,
    inWidth: 14,
    inChannels: 32,
    kernelHeight: 3,
    kernelWidth: 3,
    outChannels: 64,
    padding: "same",
  }),
];

interface Row {
  readonly name: string;
  readonly unit: string;
  /** GFLOP/s or ms per call, per side (`ours-js` only where the case has it). */
  readonly figures: Partial<Record<Side, number>>;
  readonly medianMs: Partial<Record<Side, number>>;
  readonly runs: Partial<Record<Side, number>>;
  /** Throughput of ours over theirs: above 1, ours is faster. */
  readonly speedupVsCpu: number;
  readonly speedupVsWasm: number;
  /** Largest difference of our result from tfjs-cpu's, relative to its largest magnitude. */
  readonly relativeDifference: number;
}

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(`node ${process.version}, ${cpu} (${cpus().length} logical cores), TensorFlow.js ${tf.version_core}`);
  console.log(`ours: single thread, WebAssembly SIMD where matmul picks it; ours-js: our JavaScript kernel; tfjs-cpu: pure-JS CPU backend; tfjs-wasm: ${wasmRan}\n`);

  const rows: Row[] = [];
  for (const c of cases) {
    // Each backend gets its own inputs, made while it is the active one, so that no call moves data between backends.
    const inputs: Record<"cpu" | "wasm", tf.Tensor[]> = { cpu: [], wasm: [] };
    let difference = 0;
    for (const backend of ["cpu", "wasm"] as const) {
      await tf.setBackend(backend);
      inputs[backend] = c.inputs();
      const check = c.tfjs(inputs[backend]);
      if (backend === "cpu") difference = relativeDifference(c.ours(), check.dataSync());
      check.dispose();
    }
    if (difference > 1e-4) throw new Error(`${c.name}: our result differs from tfjs-cpu's by ${difference} (relative)`);
    const oursJs = c.oursJs;
    if (oursJs !== undefined && relativeDifference(oursJs(), c.ours()) > 1e-4) throw new Error(`${c.name}: our two kernels differ`);
    const tfjsRunner = (backend: "cpu" | "wasm"): Runner => ({
      prepare: async () => {
        await tf.setBackend(backend);
      },
      run: () => c.tfjs(inputs[backend]).dispose(),
    });
    const runners = [{ prepare: async () => {}, run: c.ours }, tfjsRunner("cpu"), tfjsRunner("wasm")];
    if (oursJs !== undefined) runners.push({ prepare: async () => {}, run: oursJs });
    const [ours = [], cpuTimes = [], wasmTimes = [], jsTimes] = await timeInterleaved(runners, c.budgetMs, c.minRounds);
    for (const tensors of Object.values(inputs)) tensors.forEach((t) => t.dispose());
    const ms = { ours: median(ours), "tfjs-cpu": median(cpuTimes), "tfjs-wasm": median(wasmTimes), ...(jsTimes === undefined ? {} : { "ours-js": median(jsTimes) }) };
    const figure = (time: number): number => (c.unit === "ms" ? time : c.flops / time / 1e6);
    const figures: Partial<Record<Side, number>> = {};
    for (const side of SIDES) {
      const time = ms[side];
      if (time !== undefined) figures[side] = figure(time);
    }
    rows.push({
      name: c.name,
      unit: c.unit,
      figures,
      medianMs: ms,
      runs: { ours: ours.length, "tfjs-cpu": cpuTimes.length, "tfjs-wasm": wasmTimes.length, ...(jsTimes === undefined ? {} : { "ours-js": jsTimes.length }) },
      speedupVsCpu: ms["tfjs-cpu"] / ms.ours,
      speedupVsWasm: ms["tfjs-wasm"] / ms.ours,
      relativeDifference: difference,
    });
  }

  const header = ["case", "unit", ...SIDES, "ours/tfjs-cpu", "ours/tfjs-wasm"];
  const table = rows.map((r) => [
    r.name,
    r.unit,
    ...SIDES.map((s) => r.figures[s]?.toFixed(r.unit === "ms" ? 1 : 2) ?? "-"),
    `${r.speedupVsCpu.toFixed(2)}x`,
    `${r.speedupVsWasm.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log("\nratios are speeds (time of tfjs over time of ours): above 1x, ours is faster.");

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpu,
    logicalCores: cpus().length,
    platform: `${platform()} ${arch()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    tfjs: tf.version_core,
    tfjsWasm: wasmRan,
    ratios: "speedupVsCpu and speedupVsWasm are time(tfjs) / time(ours): above 1, ours is faster",
    results: rows,
  };
  const out = join(root, "bench", "results", "kernels.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}

await main();
