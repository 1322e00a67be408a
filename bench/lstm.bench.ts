/**
 * One forward and backward pass of an LSTM against TensorFlow.js 4.22.
 *
 * The layer is `lstm(64, 128)` on a batch of 32 sequences of 32 steps,
 * float32: the loss is the mean of the last hidden state, and its gradient
 * is taken with respect to all three parameters (`wx: [64, 512]`,
 * `wh: [128, 512]`, `b: [512]`, gates i, f, g, o). Weights are seeded
 * uniform in [-0.1, 0.1), inputs in [-1, 1). Three sides run the same pass
 * on copies of the same data:
 *
 * - Stratum: `jit(valueAndGrad(loss))`, traced and compiled by its first
 *   call, which is timed on its own.
 * - TensorFlow.js's CPU backend and its WebAssembly backend (XNNPACK, single
 *   thread): the same recurrence written with tfjs ops, gate by gate in the
 *   same order (`x_t @ wx + h @ wh + b`, split in four), under
 *   `tf.variableGrads` inside `tf.tidy`.
 *
 * Before any timing the losses must agree to 1e-4 and Stratum's gradient
 * must match tfjs-cpu's (relative to the largest magnitude, 1e-4). Timing
 * is in rounds of one pass per side (every pass reads its loss back):
 * Stratum beside tfjs-cpu, then beside tfjs-wasm, so that a busy machine
 * slows both sides of a ratio alike. Medians in ms per pass; ratios are
 * time(tfjs) / time(Stratum) from the same rounds. Results go to
 * `bench/results/lstm.json`. Run with
 * `npm run --silent compile && node .build/bench/lstm.bench.js`.
 */

import * as tf from "@tensorflow/tfjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../src/core/tensor.js";
import { mean } from "../src/index.js";
import { lstm, type LstmParams } from "../src/layers/recurrent.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { median, randomData, relativeDifference, setUpTfjs } from "./support/measure.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const [BATCH, STEPS, INPUT, HIDDEN] = [32, 32, 64, 128] as const;
const TOLERANCE = 1e-4;

type Name = "wx" | "wh" | "b";
const NAMES: readonly Name[] = ["wx", "wh", "b"];
const SHAPES: Record<Name, readonly number[]> = { wx: [INPUT, 4 * HIDDEN], wh: [HIDDEN, 4 * HIDDEN], b: [4 * HIDDEN] };
const initial: Record<Name, Float32Array> = {
  wx: randomData(INPUT * 4 * HIDDEN, 31, 0.1),
  wh: randomData(HIDDEN * 4 * HIDDEN, 32, 0.1),
  b: randomData(4 * HIDDEN, 33, 0.1),
};
const inputData = randomData(BATCH * STEPS * INPUT, 34);

// ---------------------------------------------------------------------------
// Stratum
// ---------------------------------------------------------------------------

type Params = LstmParams<64, 128>;
type Inputs = Tensor<[32, 32, 64]>;

const layer = lstm(INPUT, HIDDEN, { returnSequences: false });
const loss = (p: Params, x: Inputs): Tensor<[]> => mean(layer.apply(p, x));
const step = jit(valueAndGrad(loss));

const stratumParams = (): Params => ({
  wx: new Tensor([64, 512], "float32", initial.wx.slice()),
  wh: new Tensor([128, 512], "float32", initial.wh.slice()),
  b: new Tensor([512], "float32", initial.b.slice()),
});

// ---------------------------------------------------------------------------
// TensorFlow.js: the same recurrence with its ops
// ---------------------------------------------------------------------------

interface TfModel {
  readonly vars: Record<Name, tf.Variable>;
  readonly steps: tf.Tensor2D[];
}

let variableCount = 0;

function tfModel(): TfModel {
  const make = (n: Name): tf.Variable => tf.variable(tf.tensor(initial[n].slice(), [...SHAPES[n]]), true, `${n}_${variableCount++}`);
  const x = tf.tensor3d(inputData.slice(), [BATCH, STEPS, INPUT]);
  // the inputs step by step, [N, I] each: data, not part of the timed pass
  const steps = tf.unstack(x, 1).map((t) => t.as2D(BATCH, INPUT));
  x.dispose();
  return { vars: { wx: make("wx"), wh: make("wh"), b: make("b") }, steps };
}

function tfDispose(m: TfModel): void {
  tf.dispose([...NAMES.map((n) => m.vars[n]), ...m.steps]);
}

/** The mean of the last hidden state: gates i, f, g, o, zero initial state. */
function tfLoss(m: TfModel): tf.Scalar {
  const { wx, wh, b } = m.vars;
  let h = tf.zeros([BATCH, HIDDEN]);
  let c = tf.zeros([BATCH, HIDDEN]);
  for (const xt of m.steps) {
    const z = tf.add(tf.add(tf.matMul(xt, wx), tf.matMul(h, wh)), b);
    const [i, f, g, o] = tf.split(z, 4, 1);
    if (i === undefined || f === undefined || g === undefined || o === undefined) throw new Error("tf.split gave fewer than 4 gates");
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
  }
  return tf.mean(h);
}

/** One pass: the loss and its gradients; `inspect` sees the gradients. Returns the loss, read back. */
function tfPass(m: TfModel, inspect?: (grads: Record<Name, Float32Array>) => void): number {
  const value = tf.tidy(() => {
    const { value: l, grads } = tf.variableGrads(() => tfLoss(m), NAMES.map((n) => m.vars[n]));
    const gradOf = (n: Name): Float32Array => Float32Array.from(grads[m.vars[n].name]?.dataSync() ?? []);
    if (inspect !== undefined) inspect({ wx: gradOf("wx"), wh: gradOf("wh"), b: gradOf("b") });
    return l;
  });
  const out = value.dataSync()[0] ?? Number.NaN;
  value.dispose();
  return out;
}

// ---------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------

/** Rounds of one pass per side: `warmup` untimed, then timed until `budgetMs` is spent (between `minRounds` and `maxRounds`). */
function timeRounds<K extends string>(passes: Record<K, () => number>, warmup: number, minRounds: number, maxRounds: number, budgetMs: number): Record<K, number[]> {
  const sides = Object.keys(passes) as K[]; // the keys of a Record<K, ...>
  const times = Object.fromEntries(sides.map((side) => [side, [] as number[]])) as Record<K, number[]>; // one entry per side, just built
  let sink = 0;
  for (let i = 0; i < warmup; i++) for (const side of sides) sink += passes[side]();
  const start = performance.now();
  for (let round = 0; round < minRounds || (round < maxRounds && performance.now() - start < budgetMs); round++) {
    for (const side of sides) {
      const t = performance.now();
      sink += passes[side]();
      times[side].push(performance.now() - t);
    }
  }
  if (!Number.isFinite(sink)) throw new Error(`a loss was ${sink}`);
  return times;
}

function check(what: string, difference: number): void {
  if (!(difference <= TOLERANCE)) throw new Error(`${what}: difference ${difference} exceeds ${TOLERANCE}`);
}

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(`node ${process.version}, ${cpu} (${cpus().length} logical cores), TensorFlow.js ${tf.version.tfjs}`);
  console.log(`LSTM input ${INPUT}, hidden ${HIDDEN}, sequence ${STEPS}, batch ${BATCH}, float32; loss: mean of the last h; forward + backward; tfjs-wasm: ${wasmRan}\n`);

  const x: Inputs = new Tensor([BATCH, STEPS, INPUT], "float32", inputData.slice());
  const p = stratumParams();
  const compileStart = performance.now();
  const [loss0, grads0] = step(p, x);
  const compileMs = performance.now() - compileStart;
  const losses: Record<"stratum jit" | "tfjs-cpu" | "tfjs-wasm", number> = { "stratum jit": loss0.item(), "tfjs-cpu": Number.NaN, "tfjs-wasm": Number.NaN };
  const tfGrads: Partial<Record<"cpu" | "wasm", Record<Name, Float32Array>>> = {};
  for (const backend of ["cpu", "wasm"] as const) {
    await tf.setBackend(backend);
    const m = tfModel();
    losses[`tfjs-${backend}`] = tfPass(m, (g) => (tfGrads[backend] = g));
    tfDispose(m);
  }
  const [cpuGrads, wasmGrads] = [tfGrads.cpu, tfGrads.wasm];
  if (cpuGrads === undefined || wasmGrads === undefined) throw new Error("tfjs gave no gradients");
  const lossDifference = Math.max(...Object.values(losses).map((l) => Math.abs(l - losses["tfjs-cpu"])));
  const gradDifference = Math.max(...NAMES.map((n) => relativeDifference(grads0[n].data, cpuGrads[n])));
  const wasmGradDifference = Math.max(...NAMES.map((n) => relativeDifference(wasmGrads[n], cpuGrads[n])));
  console.log(`losses: ${Object.entries(losses).map(([side, l]) => `${side} ${l.toFixed(7)}`).join(", ")}`);
  console.log(`largest |loss difference| ${lossDifference.toExponential(2)}; gradients, relative: stratum vs tfjs-cpu ${gradDifference.toExponential(2)}, tfjs-wasm vs tfjs-cpu ${wasmGradDifference.toExponential(2)}`);
  check("loss", lossDifference);
  check("gradient, stratum vs tfjs-cpu", gradDifference);

  const ours = (): number => step(p, x)[0].item();
  const timeBeside = async (backend: "cpu" | "wasm", warmup: number, minRounds: number, maxRounds: number, budgetMs: number) => {
    await tf.setBackend(backend);
    const m = tfModel();
    const before = tf.memory().numTensors;
    const times = timeRounds({ stratum: ours, tfjs: () => tfPass(m) }, warmup, minRounds, maxRounds, budgetMs);
    if (tf.memory().numTensors !== before) throw new Error(`tfjs ${backend} leaked ${tf.memory().numTensors - before} tensors`);
    tfDispose(m);
    return times;
  };
  // NOTE: tfjs-cpu takes seconds per pass: few rounds beside it.
  const besideCpu = await timeBeside("cpu", 1, 3, 6, 12000);
  const besideWasm = await timeBeside("wasm", 2, 10, 40, 15000);
  if (step.traces !== 1) throw new Error(`the jitted pass was traced ${step.traces} times, not once`);

  const rows: { side: keyof typeof losses; msPerPass: number; runs: number }[] = [
    { side: "stratum jit", msPerPass: median([...besideCpu.stratum, ...besideWasm.stratum]), runs: besideCpu.stratum.length + besideWasm.stratum.length },
    { side: "tfjs-cpu", msPerPass: median(besideCpu.tfjs), runs: besideCpu.tfjs.length },
    { side: "tfjs-wasm", msPerPass: median(besideWasm.tfjs), runs: besideWasm.tfjs.length },
  ];
  // each ratio compares medians of the same rounds
  const ratios = {
    tfjsCpuOverStratum: median(besideCpu.tfjs) / median(besideCpu.stratum),
    tfjsWasmOverStratum: median(besideWasm.tfjs) / median(besideWasm.stratum),
    stratumMsInCpuRounds: median(besideCpu.stratum),
    stratumMsInWasmRounds: median(besideWasm.stratum),
  };
  const header = ["side", "ms / pass", "runs", "loss"];
  const table = rows.map((r) => [r.side, r.msPerPass.toFixed(1), String(r.runs), losses[r.side].toFixed(7)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(`\n${line(header)}`);
  for (const row of table) console.log(line(row));
  console.log(`\ntfjs-cpu / stratum ${ratios.tfjsCpuOverStratum.toFixed(2)}x (stratum ${ratios.stratumMsInCpuRounds.toFixed(1)} ms in those rounds); tfjs-wasm / stratum ${ratios.tfjsWasmOverStratum.toFixed(2)}x (stratum ${ratios.stratumMsInWasmRounds.toFixed(1)} ms in those rounds)`);
  console.log(`jit compile (first call: trace + compile + run): ${compileMs.toFixed(0)} ms`);
  const bar = { fasterThanTfjsWasm: ratios.tfjsWasmOverStratum > 1 };
  console.log(`bar: faster than tfjs-wasm: ${bar.fasterThanTfjsWasm ? "met" : "not met"}`);

  const results = {
    benchmark: "LSTM forward + backward",
    model: { input: INPUT, hidden: HIDDEN, sequence: STEPS, batch: BATCH, dtype: "float32", gates: "i, f, g, o", loss: "mean of the last hidden state", gradients: "wx, wh, b" },
    date: new Date().toISOString(),
    node: process.version,
    cpu,
    logicalCores: cpus().length,
    platform: `${platform()} ${arch()}`,
    tfjs: tf.version.tfjs,
    tfjsWasm: wasmRan,
    jitCompileMs: compileMs,
    check: { losses, lossDifference, gradDifference: { stratumVsTfjsCpu: gradDifference, tfjsWasmVsTfjsCpu: wasmGradDifference } },
    timing: "rounds of one pass per side (stratum beside tfjs-cpu, then beside tfjs-wasm), each reading its loss back; msPerPass is the median over the timed rounds",
    results: rows,
    ratios,
    bar,
  };
  const out = join(root, "bench", "results", "lstm.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}

await main();
