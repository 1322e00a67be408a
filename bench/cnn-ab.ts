/**
 * Two builds of Stratum side by side in one process (issue 14 item 5, issue
 * 15): the CNN SGD step of `cnn.bench.ts` and the bench convolution of
 * `torch.bench.ts` (3 x 3 'same', 32 x 14 x 14 x 32 -> 64, forward), each
 * at 1 and 2 threads, the build under test ("after", this one) against an
 * earlier one ("before", a compiled copy of another commit), in interleaved
 * rounds so that a shared machine's load hits every side alike.
 *
 * Usage: compile a copy of the earlier commit (`git archive <commit> | tar -x
 * -C DIR`, link `node_modules`, `npm run compile` there), then
 *
 *     npm run compile && CNN_AB_BEFORE=DIR/.build node .build/bench/cnn-ab.js
 *
 * Each build brings its own worker pool (its own module state), so each
 * side's `setThreads` governs its own kernels. Before timing, both builds'
 * steps run three times from the same parameters at each thread count, and
 * the bench says whether they end at the same bits, or else the largest
 * difference relative to each parameter's largest magnitude (a change of
 * algorithm moves the roundings).
 * Prints medians of per-step times, after / before ratios, the quartiles
 * of the same ratio taken round by round, and the median CPU time a step
 * (`process.cpuUsage`, every thread of the process: on a loaded machine it
 * moves less than wall time). Writes nothing.
 *
 * Environment: CNN_AB_ROUNDS (default 15), CNN_AB_STEPS steps per side and
 * round (default 3 for the CNN, ten times that for the convolution).
 */

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

interface Build {
  readonly name: string;
  readonly setThreads: (n: number) => void;
  readonly threadsReady: () => Promise<void>;
  /** One CNN SGD step (parameters fed back), returning the loss. */
  readonly cnnStep: () => number;
  /** Three steps from the initial parameters: the final parameters' data, for comparing bits. */
  readonly threeSteps: () => Float32Array[];
  /** One bench convolution, returning its first output. */
  readonly conv: () => number;
}

/** The subset of a build's modules this bench uses (typed here, as the builds are loaded by path). */
interface TensorModule {
  Tensor: new (shape: readonly number[], dtype: string, data: Float32Array | Int32Array) => { readonly data: Float32Array };
}
interface IndexModule {
  setThreads: (n: number) => void;
  conv2d: (x: unknown, w: unknown, options: { padding: "same" }) => { readonly data: Float32Array };
}
interface PoolModule {
  threadsReady: () => Promise<void>;
}
interface JitModule {
  jit: <F extends (...args: never[]) => unknown>(f: F) => F;
}
interface CnnModule {
  stratumParams: () => unknown;
  inputData: Float32Array;
  labelData: Int32Array;
  jittedStep: (p: unknown, x: unknown, y: unknown) => { loss: { readonly data: Float32Array }; params: unknown };
}

/** Seeded values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Every Float32Array in a parameter tree, in order. */
function leaves(tree: unknown): Float32Array[] {
  if (tree instanceof Float32Array) return [tree];
  if (tree === null || typeof tree !== "object") return [];
  if ("data" in tree && tree.data instanceof Float32Array) return [tree.data];
  return Object.values(tree).flatMap(leaves);
}

async function load(name: string, root: string): Promise<Build> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  // NOTE: sound: each module is the compiled file of the path named, whose exports include these members
  const { Tensor } = (await import(at("src/core/tensor.js"))) as TensorModule;
  const index = (await import(at("src/index.js"))) as IndexModule; // NOTE: as above
  const pool = (await import(at("src/backend/threads/pool.js"))) as PoolModule; // NOTE: as above
  const { jit } = (await import(at("src/transforms/jit.js"))) as JitModule; // NOTE: as above
  const cnn = (await import(at("bench/cnn.bench.js"))) as CnnModule; // NOTE: as above
  const x = new Tensor([64, 28, 28, 1], "float32", cnn.inputData);
  const y = new Tensor([64], "int32", cnn.labelData);
  let params = cnn.stratumParams();
  const convX = new Tensor([32, 14, 14, 32], "float32", values(32 * 14 * 14 * 32, 1));
  const convW = new Tensor([3, 3, 32, 64], "float32", values(3 * 3 * 32 * 64, 2).map((v) => v / 16));
  const conv = jit((xs: unknown, ws: unknown) => index.conv2d(xs, ws, { padding: "same" }));
  return {
    name,
    setThreads: index.setThreads,
    threadsReady: pool.threadsReady,
    cnnStep: () => {
      const out = cnn.jittedStep(params, x, y);
      params = out.params;
      return out.loss.data[0] ?? NaN;
    },
    threeSteps: () => {
      let p = cnn.stratumParams();
      for (let i = 0; i < 3; i++) p = cnn.jittedStep(p, x, y).params;
      return leaves(p);
    },
    conv: () => conv(convX, convW).data[0] ?? NaN,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : ((s[(s.length - 1) >> 1] ?? NaN) + (s[s.length >> 1] ?? NaN)) / 2;
};
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

function sameBits(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i];
    return y !== undefined && x.length === y.length && Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
  });
}

/** The largest |a - b| over the largest |a|. */
function largestDifference(a: Float32Array, b: Float32Array): number {
  let [diff, scale] = [0, 0];
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - (b[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(v));
  });
  return a.length === b.length ? diff / scale : NaN;
}

async function main(): Promise<void> {
  const beforeRoot = process.env["CNN_AB_BEFORE"];
  if (beforeRoot === undefined) throw new Error("set CNN_AB_BEFORE to the .build folder of the earlier commit");
  const rounds = Number(process.env["CNN_AB_ROUNDS"] ?? 15);
  const steps = Number(process.env["CNN_AB_STEPS"] ?? 3);
  const builds = [await load("before", beforeRoot), await load("after", resolve(import.meta.dirname, ".."))];
  const threads = [1, 2];
  for (const t of threads) {
    const finals = [];
    for (const b of builds) {
      b.setThreads(t);
      await b.threadsReady();
      finals.push(b.threeSteps());
    }
    const [first = [], second = []] = finals;
    const worst = Math.max(...first.map((a, i) => largestDifference(a, second[i] ?? new Float32Array(0))));
    console.log(`three CNN steps at ${t} thread(s): before and after ${sameBits(first, second) ? "end at the same bits" : `differ, by at most ${worst.toExponential(2)} of a parameter's largest magnitude`}`);
  }
  const workloads = [
    { key: "cnn", run: (b: Build) => b.cnnStep(), steps },
    { key: "conv", run: (b: Build) => b.conv(), steps: steps * 10 },
  ];
  console.log(`load before: ${loadavg().map((l) => l.toFixed(2)).join(", ")}; ${rounds} rounds`);
  for (const w of workloads) {
    const sides = threads.flatMap((t) => builds.map((b) => ({ b, t, times: [] as number[], rounds: [] as number[], cpu: [] as number[] })));
    for (const side of sides) {
      side.b.setThreads(side.t);
      await side.b.threadsReady();
      for (let i = 0; i < 2; i++) w.run(side.b); // warm
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(k + r) % sides.length];
        if (side === undefined) continue;
        side.b.setThreads(side.t);
        const perStep: number[] = [];
        const cpu0 = process.cpuUsage();
        for (let s = 0; s < w.steps; s++) {
          const t0 = performance.now();
          w.run(side.b);
          perStep.push(performance.now() - t0);
        }
        const cpu = process.cpuUsage(cpu0);
        side.cpu.push((cpu.user + cpu.system) / 1000 / w.steps);
        side.times.push(...perStep);
        side.rounds.push(median(perStep));
      }
    }
    for (const t of threads) {
      const [before, after] = builds.map((b) => sides.find((s) => s.b === b && s.t === t));
      if (before === undefined || after === undefined) continue;
      const ratios = after.rounds.map((a, i) => a / (before.rounds[i] ?? NaN));
      console.log(
        `${w.key} ${t}T: before ${median(before.times).toFixed(2)} ms, after ${median(after.times).toFixed(2)} ms, after / before ${(median(after.times) / median(before.times)).toFixed(3)} (rounds: quartiles ${quantile(ratios, 0.25).toFixed(3)} to ${quantile(ratios, 0.75).toFixed(3)}); CPU time a step (all threads) ${median(before.cpu).toFixed(2)} and ${median(after.cpu).toFixed(2)} ms, ${(median(after.cpu) / median(before.cpu)).toFixed(3)}`,
      );
    }
    console.log(`load after ${w.key}: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
  }
  for (const b of builds) b.setThreads(1);
}

await main();
