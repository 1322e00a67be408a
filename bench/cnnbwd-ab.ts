/**
 * The CNN step's filter gradients and max poolings (the shapes of
 * `cnn.bench.ts`), kernel by kernel, in two builds side by side in one
 * process: the build under test ("after", this one) against an earlier one
 * ("before", a compiled copy of another commit), in interleaved rounds so
 * that a shared machine's load hits both alike, at 1 and 2 threads.
 *
 * Usage: compile a copy of the earlier commit (`git archive <commit> | tar -x
 * -C DIR`, link `node_modules`, `npm run compile` there), then
 *
 *     npm run compile && CNN_AB_BEFORE=DIR/.build node .build/bench/cnnbwd-ab.js
 *
 * Before timing, each kernel runs once in both builds on the same data and
 * the bench says whether the outputs are the same bits. Prints per kernel
 * and thread count the medians of per-call times and after / before with the
 * quartiles of the ratio taken round by round, and the median CPU time a
 * call (`process.cpuUsage`, every thread: on a loaded machine it moves less
 * than wall time). Writes nothing.
 *
 * Environment: CNN_AB_ROUNDS (default 15), CNN_AB_CALLS calls per side and
 * round (default 5), CNN_AB_ONLY (parts of kernel names, separated by semicolons).
 */

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

interface PoolParams {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  windowHeight: number;
  windowWidth: number;
}
interface ConvParams {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  outChannels: number;
  padding: "same";
}
/** The subset of the conv kernels' module this bench uses (typed here, as the builds are loaded by path). */
interface ConvModule {
  maxPool2d: (out: Float32Array, x: Float32Array, p: PoolParams) => Float32Array;
  maxPool2dBackward: (dx: Float32Array, x: Float32Array, dy: Float32Array, p: PoolParams) => Float32Array;
  conv2dBackpropFilter: (dw: Float32Array, x: Float32Array, dy: Float32Array, p: ConvParams) => Float32Array;
}
interface IndexModule {
  setThreads: (n: number) => void;
}
interface PoolModule {
  threadsReady: () => Promise<void>;
}

interface Build {
  readonly name: string;
  readonly conv: ConvModule;
  readonly setThreads: (n: number) => void;
  readonly threadsReady: () => Promise<void>;
}

async function load(name: string, root: string): Promise<Build> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  // NOTE: sound: each module is the compiled file of the path named, whose exports include these members
  const conv = (await import(at("src/backend/kernels/conv/index.js"))) as ConvModule;
  const index = (await import(at("src/index.js"))) as IndexModule; // NOTE: as above
  const pool = (await import(at("src/backend/threads/pool.js"))) as PoolModule; // NOTE: as above
  return { name, conv, setThreads: index.setThreads, threadsReady: pool.threadsReady };
}

/** Seeded values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** A kernel call of the CNN step: its name, and a call that writes the output it returns. */
interface Kernel {
  readonly key: string;
  readonly run: (m: ConvModule) => Float32Array;
}

function kernels(): Kernel[] {
  const conv = (batch: number, size: number, inChannels: number, outChannels: number): ConvParams => ({
    batch, inHeight: size, inWidth: size, inChannels, kernelHeight: 3, kernelWidth: 3, outChannels, padding: "same",
  });
  const pool = (size: number, channels: number): PoolParams => ({ batch: 64, inHeight: size, inWidth: size, channels, windowHeight: 2, windowWidth: 2 });
  // relu outputs: half of them 0, as the pools' inputs in the step
  const relu = (size: number, seed: number): Float32Array => values(size, seed).map((v) => Math.max(0, v));
  const [x1, dy1] = [values(64 * 28 * 28, 1), values(64 * 28 * 28 * 32, 2).map((v) => v / 64)];
  const [x2, dy2] = [relu(64 * 14 * 14 * 32, 3), values(64 * 14 * 14 * 64, 4).map((v) => v / 64)];
  const [p1, p1dy] = [relu(64 * 28 * 28 * 32, 5), values(64 * 14 * 14 * 32, 6)];
  const [p2, p2dy] = [relu(64 * 14 * 14 * 64, 7), values(64 * 7 * 7 * 64, 8)];
  const out = (size: number): Float32Array => new Float32Array(size);
  const [dw1, dw2, y1, y2, dx1, dx2] = [out(9 * 32), out(9 * 32 * 64), out(p1dy.length), out(p2dy.length), out(p1.length), out(p2.length)];
  return [
    { key: "filter grad [3,3,1,32]", run: (m) => m.conv2dBackpropFilter(dw1, x1, dy1, conv(64, 28, 1, 32)) },
    { key: "filter grad [3,3,32,64]", run: (m) => m.conv2dBackpropFilter(dw2, x2, dy2, conv(64, 14, 32, 64)) },
    { key: "max pool [64,28,28,32]", run: (m) => m.maxPool2d(y1, p1, pool(28, 32)) },
    { key: "max pool [64,14,14,64]", run: (m) => m.maxPool2d(y2, p2, pool(14, 64)) },
    { key: "max pool grad [64,28,28,32]", run: (m) => m.maxPool2dBackward(dx1, p1, p1dy, pool(28, 32)) },
    { key: "max pool grad [64,14,14,64]", run: (m) => m.maxPool2dBackward(dx2, p2, p2dy, pool(14, 64)) },
  ];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : ((s[(s.length - 1) >> 1] ?? NaN) + (s[s.length >> 1] ?? NaN)) / 2;
};
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

async function main(): Promise<void> {
  const beforeRoot = process.env["CNN_AB_BEFORE"];
  if (beforeRoot === undefined) throw new Error("set CNN_AB_BEFORE to the .build folder of the earlier commit");
  const rounds = Number(process.env["CNN_AB_ROUNDS"] ?? 15);
  const calls = Number(process.env["CNN_AB_CALLS"] ?? 5);
  const only = process.env["CNN_AB_ONLY"]?.split(";");
  const builds = [await load("before", beforeRoot), await load("after", resolve(import.meta.dirname, ".."))];
  const threads = [1, 2];
  const chosen = kernels().filter((k) => only === undefined || only.some((o) => k.key.includes(o)));
  console.log(`load before: ${loadavg().map((l) => l.toFixed(2)).join(", ")}; ${rounds} rounds of ${calls} calls`);
  for (const k of chosen) {
    for (const t of threads) {
      const outs = [];
      for (const b of builds) {
        b.setThreads(t);
        await b.threadsReady();
        outs.push(k.run(b.conv).slice());
      }
      const [first, second] = outs;
      const same = first !== undefined && second !== undefined && sameBits(first, second);
      const sides = builds.map((b) => ({ b, times: [] as number[], rounds: [] as number[], cpu: [] as number[] }));
      for (const side of sides) {
        side.b.setThreads(t);
        for (let i = 0; i < 2; i++) k.run(side.b.conv); // warm
      }
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < sides.length; j++) {
          const side = sides[(j + r) % sides.length];
          if (side === undefined) continue;
          side.b.setThreads(t);
          const perCall: number[] = [];
          const cpu0 = process.cpuUsage();
          for (let c = 0; c < calls; c++) {
            const t0 = performance.now();
            k.run(side.b.conv);
            perCall.push(performance.now() - t0);
          }
          const cpu = process.cpuUsage(cpu0);
          side.cpu.push((cpu.user + cpu.system) / 1000 / calls);
          side.times.push(...perCall);
          side.rounds.push(median(perCall));
        }
      }
      const [before, after] = sides;
      if (before === undefined || after === undefined) continue;
      const ratios = after.rounds.map((a, i) => a / (before.rounds[i] ?? NaN));
      console.log(
        `${k.key} ${t}T: before ${median(before.times).toFixed(3)} ms, after ${median(after.times).toFixed(3)} ms, after / before ${(median(after.times) / median(before.times)).toFixed(3)} (rounds: quartiles ${quantile(ratios, 0.25).toFixed(3)} to ${quantile(ratios, 0.75).toFixed(3)}); CPU time a call (all threads) ${median(before.cpu).toFixed(3)} and ${median(after.cpu).toFixed(3)} ms, ${(median(after.cpu) / median(before.cpu)).toFixed(3)}; ${same ? "same bits" : "DIFFERENT BITS"}`,
      );
    }
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
  for (const b of builds) b.setThreads(1);
}

await main();
