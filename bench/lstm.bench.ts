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
import { Tensor } from "../src/core/tensor.js";
import { mean } from "../src/index.js";
import { lstm, type LstmParams } from "../src/layers/recurrent.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { check, median, randomData, relativeDifference, setUpTfjs } from "./support/measure.js";
import { describeEnvironment, environment, isEntryPoint, printTable, writeResults } from "./support/report.js";
import { tfjsStepZero, timeBeside, type TfSide } from "./support/side-by-side.js";

export const [BATCH, STEPS, INPUT, HIDDEN] = [32, 32, 64, 128] as const;
const TOLERANCE = 1e-4;

export type Name = "wx" | "wh" | "b";
const NAMES: readonly Name[] = ["wx", "wh", "b"];
export const SHAPES: Record<Name, readonly number[]> = { wx: [INPUT, 4 * HIDDEN], wh: [HIDDEN, 4 * HIDDEN], b: [4 * HIDDEN] };
export const initial: Record<Name, Float32Array> = {
  wx: randomData(INPUT * 4 * HIDDEN, 31, 0.1),
  wh: randomData(HIDDEN * 4 * HIDDEN, 32, 0.1),
  b: randomData(4 * HIDDEN, 33, 0.1),
};
export const inputData = randomData(BATCH * STEPS * INPUT, 34);

// ---------------------------------------------------------------------------
// Stratum
// ---------------------------------------------------------------------------

export type Params = LstmParams<64, 128>;
export type Inputs = Tensor<[32, 32, 64]>;

const layer = lstm(INPUT, HIDDEN, { returnSequences: false });
const loss = (p: Params, x: Inputs): Tensor<[]> => mean(layer.apply(p, x));
const step = jit(valueAndGrad(loss));

export const stratumParams = (): Params => ({
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

const tfSide: TfSide<TfModel, Record<Name, Float32Array>> = { model: tfModel, dispose: tfDispose, step: tfPass };

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  console.log(describeEnvironment(environment(tf.version.tfjs)));
  console.log(`LSTM input ${INPUT}, hidden ${HIDDEN}, sequence ${STEPS}, batch ${BATCH}, float32; loss: mean of the last h; forward + backward; tfjs-wasm: ${wasmRan}\n`);

  const x: Inputs = new Tensor([BATCH, STEPS, INPUT], "float32", inputData.slice());
  const p = stratumParams();
  const compileStart = performance.now();
  const [loss0, grads0] = step(p, x);
  const compileMs = performance.now() - compileStart;
  const tfjs0 = await tfjsStepZero(tf, tfSide);
  const losses = { "stratum jit": loss0.item(), ...tfjs0.losses };
  const { cpu: cpuGrads, wasm: wasmGrads } = tfjs0.grads;
  const lossDifference = Math.max(...Object.values(losses).map((l) => Math.abs(l - losses["tfjs-cpu"])));
  const gradDifference = Math.max(...NAMES.map((n) => relativeDifference(grads0[n].data, cpuGrads[n])));
  const wasmGradDifference = Math.max(...NAMES.map((n) => relativeDifference(wasmGrads[n], cpuGrads[n])));
  console.log(`losses: ${Object.entries(losses).map(([side, l]) => `${side} ${l.toFixed(7)}`).join(", ")}`);
  console.log(`largest |loss difference| ${lossDifference.toExponential(2)}; gradients, relative: stratum vs tfjs-cpu ${gradDifference.toExponential(2)}, tfjs-wasm vs tfjs-cpu ${wasmGradDifference.toExponential(2)}`);
  check("loss", lossDifference, TOLERANCE);
  check("gradient, stratum vs tfjs-cpu", gradDifference, TOLERANCE);

  const ours = { stratum: (): number => step(p, x)[0].item() };
  // NOTE: tfjs-cpu takes seconds per pass: few rounds beside it.
  const besideCpu = await timeBeside(tf, "cpu", tfSide, ours, { warmup: 1, minRounds: 3, maxRounds: 6, budgetMs: 12000 });
  const besideWasm = await timeBeside(tf, "wasm", tfSide, ours, { warmup: 2, minRounds: 10, maxRounds: 40, budgetMs: 15000 });
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
  printTable(
    ["side", "ms / pass", "runs", "loss"],
    rows.map((r) => [r.side, r.msPerPass.toFixed(1), String(r.runs), losses[r.side].toFixed(7)]),
  );
  console.log(`\ntfjs-cpu / stratum ${ratios.tfjsCpuOverStratum.toFixed(2)}x (stratum ${ratios.stratumMsInCpuRounds.toFixed(1)} ms in those rounds); tfjs-wasm / stratum ${ratios.tfjsWasmOverStratum.toFixed(2)}x (stratum ${ratios.stratumMsInWasmRounds.toFixed(1)} ms in those rounds)`);
  console.log(`jit compile (first call: trace + compile + run): ${compileMs.toFixed(0)} ms`);
  const bar = { fasterThanTfjsWasm: ratios.tfjsWasmOverStratum > 1 };
  console.log(`bar: faster than tfjs-wasm: ${bar.fasterThanTfjsWasm ? "met" : "not met"}`);

  const results = {
    benchmark: "LSTM forward + backward",
    model: { input: INPUT, hidden: HIDDEN, sequence: STEPS, batch: BATCH, dtype: "float32", gates: "i, f, g, o", loss: "mean of the last hidden state", gradients: "wx, wh, b" },
    ...environment(tf.version.tfjs),
    tfjsWasm: wasmRan,
    jitCompileMs: compileMs,
    check: { losses, lossDifference, gradDifference: { stratumVsTfjsCpu: gradDifference, tfjsWasmVsTfjsCpu: wasmGradDifference } },
    timing: "rounds of one pass per side (stratum beside tfjs-cpu, then beside tfjs-wasm), each reading its loss back; msPerPass is the median over the timed rounds",
    results: rows,
    ratios,
    bar,
  };
  writeResults("lstm", results);
}

if (isEntryPoint(import.meta.url)) await main();
