/**
 * Where a float32 product starts to pay for a second thread (issue 15: the
 * split threshold `PARALLEL_MIN_WORK` in `wasm-matmul.ts` comes from here).
 *
 * Each shape runs `matmul` at 1 thread and at 2 (`setThreads`, workers
 * booted first), one step of each side per round, back to back
 * (`timeRounds`), so that the load of a shared machine hits both alike.
 * Shapes: squares from 128 (the first that reaches 2^21 multiply-adds, one
 * task) to 512, and tall-thin products of 2^21 and 2^22 multiply-adds (four
 * and eight blocks of rows). The figure is median(1 thread) / median(2
 * threads): above 1, the second thread helps.
 *
 * Results: `bench/results/threads-split.md`. Run with
 * `npm run --silent compile && node .build/bench/threads-split.bench.js`.
 */

import { loadavg } from "node:os";
import { matmul } from "../src/backend/kernels/matmul.js";
import { setThreads, threadsReady } from "../src/index.js";
import { median, randomData, timeRounds } from "./support/measure.js";
import { describeEnvironment, environment, writeResultsFile } from "./support/report.js";

const SHAPES: readonly (readonly [number, number, number])[] = [
  [128, 128, 128],
  [160, 160, 160],
  [192, 192, 192],
  [256, 256, 256],
  [384, 384, 384],
  [512, 512, 512],
  [512, 64, 64],
  [1024, 64, 64],
];

async function main(): Promise<void> {
  const env = environment("-");
  console.log(describeEnvironment(env));
  setThreads(2);
  await threadsReady();
  const rows: string[] = [];
  for (const [m, k, n] of SHAPES) {
    const [a, b, c] = [randomData(m * k, 1), randomData(k * n, 2), new Float32Array(m * n)];
    const at = (threads: number) => (): number => {
      setThreads(threads);
      return matmul(c, a, b, { m, k, n, backend: "wasm" })[0] ?? Number.NaN;
    };
    const before = loadavg()[0] ?? Number.NaN;
    const times = timeRounds({ one: at(1), two: at(2) }, { warmup: 3, minRounds: 20, maxRounds: 2000, budgetMs: 3000 });
    const [one, two] = [median(times.one), median(times.two)];
    const line = `| ${m} x ${k} x ${n} | ${((m * k * n) / 2 ** 21).toFixed(2)} | ${one.toFixed(3)} ms | ${two.toFixed(3)} ms | ${(one / two).toFixed(2)}x | ${times.one.length} | ${before.toFixed(1)} / ${(loadavg()[0] ?? Number.NaN).toFixed(1)} |`;
    console.log(line);
    rows.push(line);
  }
  const text = [
    "# Where a float32 product starts to pay for a second thread",
    "",
    `${env.date}; node ${env.node}, ${env.cpu} (${env.logicalCores} logical cores, shared with other jobs). Load average (1, 5, 15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}.`,
    "",
    "| m x k x n | multiply-adds / 2^21 | 1 thread | 2 threads | 1T / 2T | rounds | load before / after |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    "Medians of interleaved rounds (one product at 1 thread, one at 2, back to back). 1T / 2T above 1x: the second thread helps. A product of fewer than 2^21 multiply-adds, or that makes a single task (128 x 128 x 128: one block of rows, one run of panels), runs on the calling thread at either count.",
    "",
  ].join("\n");
  writeResultsFile("threads-split.md", text);
}

await main();
