/**
 * A/B of the float32 forward convolutions of issue 14 against another build
 * of Stratum (a baseline commit compiled elsewhere), in one process: rounds
 * of one call of each side back to back (the shared `timeRounds`), so that a
 * loaded machine slows both alike (the order alternating). Shapes: the bench's convolution (batch
 * 32, 14 x 14, 32 to 64 channels, "same"), the CNN step's first (batch 64,
 * 28 x 28, 1 to 32), second (64 x 14 x 14, 32 to 64) and the second's input
 * gradient as the forward convolution it runs (64 to 32 channels, the turned
 * filter), all through `conv2d` (the path each side picks). Each shape's
 * results are first compared. Prints medians of wall and CPU time, their
 * ratios (this build over the baseline) and the direct sum's effective GFLOP/s.
 *
 * Run with `npm run compile`, a baseline built with
 * `git archive REV | tar -x -C DIR && (cd DIR && ln -s $PWD/node_modules && npx tsc -p tsconfig.run.json)`,
 * then `CONV_AB_BASELINE=DIR/.build node .build/bench/conv-fwd-ab.js`
 * (`CONV_AB_THREADS=2` sets both sides' threads).
 */

import { conv2d, conv2dGeometry, type Conv2dParams } from "../src/backend/kernels/conv/index.js";
import { setThreads, threadsReady } from "../src/backend/threads/pool.js";
import { median, randomData, relativeDifference } from "./support/measure.js";
import { printTable } from "./support/report.js";

const BASELINE = process.env["CONV_AB_BASELINE"];
const THREADS = Number(process.env["CONV_AB_THREADS"] ?? "1");
const ROUNDS = 40;

/**
 * Rounds of one call of each side back to back (after two untimed rounds):
 * each call's wall time and the process's CPU time over it (at one thread
 * the CPU time is the call's own work, less hurt by other jobs on the
 * machine than the wall time), in ms.
 */
function rounds(sides: Record<"now" | "base", () => number>): Record<"now" | "base", { wall: number[]; cpu: number[] }> {
  const times = { now: { wall: [] as number[], cpu: [] as number[] }, base: { wall: [] as number[], cpu: [] as number[] } };
  let sink = 0;
  for (let round = -2; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (["now", "base"] as const) : (["base", "now"] as const)) {
      const [t, c] = [performance.now(), process.cpuUsage()];
      sink += sides[side]();
      const used = process.cpuUsage(c);
      if (round < 0) continue;
      times[side].wall.push(performance.now() - t);
      times[side].cpu.push((used.user + used.system) / 1000);
    }
  }
  if (!Number.isFinite(sink)) throw new Error(`a result was ${sink}`);
  return times;
}

/** The baseline's `conv2d`, `setThreads` and `threadsReady`, as this build's. */
interface Side {
  readonly conv2d: typeof conv2d;
  readonly setThreads: typeof setThreads;
  readonly threadsReady: typeof threadsReady;
}

const shapes: readonly [string, Conv2dParams][] = [
  ["bench conv: 32 x 14 x 14, 32 -> 64", { batch: 32, inHeight: 14, inWidth: 14, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 64, padding: "same" }],
  ["CNN conv1: 64 x 28 x 28, 1 -> 32", { batch: 64, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" }],
  ["CNN conv2: 64 x 14 x 14, 32 -> 64", { batch: 64, inHeight: 14, inWidth: 14, inChannels: 32, kernelHeight: 3, kernelWidth: 3, outChannels: 64, padding: "same" }],
  ["CNN conv2 input grad: 64 x 14 x 14, 64 -> 32", { batch: 64, inHeight: 14, inWidth: 14, inChannels: 64, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" }],
];

async function main(): Promise<void> {
  if (BASELINE === undefined) throw new Error("set CONV_AB_BASELINE to a baseline build's .build folder (see the header)");
  const kernels = (await import(`${BASELINE}/src/backend/kernels/conv/index.js`)) as Pick<Side, "conv2d">; // NOTE: sound: the baseline's module has this export, as this build's
  const pool = (await import(`${BASELINE}/src/backend/threads/pool.js`)) as Pick<Side, "setThreads" | "threadsReady">; // NOTE: sound: likewise
  setThreads(THREADS);
  pool.setThreads(THREADS);
  // NOTE: workers start asynchronously: wait for both pools, or the synchronous rounds would run on the calling thread alone
  await threadsReady();
  await pool.threadsReady();
  const rows: string[][] = [];
  for (const [name, params] of shapes) {
    const g = conv2dGeometry(params);
    const x = randomData(g.batch * g.inHeight * g.inWidth * g.inChannels, 1);
    const w = randomData(9 * g.inChannels * g.outChannels, 2, 0.1);
    const a = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
    const b = new Float32Array(a.length);
    const now = (): number => conv2d(a, x, w, params)[0] ?? 0;
    const base = (): number => kernels.conv2d(b, x, w, params)[0] ?? 0;
    now();
    base();
    const difference = relativeDifference(a, b);
    const times = rounds({ now, base });
    const [t, u] = [median(times.now.wall), median(times.base.wall)];
    const [tc, uc] = [median(times.now.cpu), median(times.base.cpu)];
    const flops = 2 * a.length * 9 * g.inChannels;
    rows.push([name, t.toFixed(3), u.toFixed(3), (t / u).toFixed(2), tc.toFixed(3), uc.toFixed(3), (tc / uc).toFixed(2), (flops / t / 1e6).toFixed(1), difference.toExponential(1)]);
  }
  printTable(["shape", "this ms", "baseline ms", "ratio", "this CPU ms", "baseline CPU ms", "CPU ratio", "this GFLOP/s (eff.)", "max diff / max |y|"], rows);
}

await main();
