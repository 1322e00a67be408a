/**
 * One training step of the MNIST-sized CNN against TensorFlow.js 4.22.
 *
 * The model: batch 64 of 28x28x1 images, conv 3x3 (32, same) - relu -
 * max pool 2 - conv 3x3 (64, same) - relu - max pool 2 - flatten -
 * dense 3136 -> 10; the mean softmax cross-entropy over int32 labels, its
 * gradient with respect to every filter, weight and bias, and an SGD update
 * with learning rate 0.01. Weights start He-style (normal, variance
 * 2 / fan-in) and biases at 0, from fixed seeds; the images are uniform in
 * [0, 1) and the labels uniform over the ten classes. The sides:
 *
 * - Stratum jitted: the whole step (value, gradient, update) of the
 *   `layers.sequential` model under `jit(valueAndGrad(...))`, traced and
 *   compiled by its first call, which is timed on its own.
 * - Stratum eager: `valueAndGrad(loss)` then `p - lr * g`, one kernel per
 *   primitive.
 * - TensorFlow.js's pure-JavaScript CPU backend: the same model with tf ops
 *   (`tf.conv2d`, `tf.maxPool`, ...) and `tf.variableGrads`. A step takes
 *   most of a minute, so it runs `CNN_TFJS_CPU_STEPS` steps (default 2: step
 *   0, which is checked, and one more); the figure is their median.
 * - TensorFlow.js's WebAssembly backend, if it can run the step: it has no
 *   kernel for the conv filter gradient, so it is tried once and reported
 *   "unsupported" with the error when it fails.
 *
 * Step 0 runs on every side from the same parameters and data: the losses
 * must agree to 1e-4 and Stratum's eager gradient must match tfjs-cpu's to
 * 1e-3 (relative to the largest magnitude, float32 sums over up to 50176
 * terms); with two or more tfjs-cpu steps, the loss after one update must
 * agree too (the same SGD step on both sides). Each Stratum side is timed on
 * its own (warm-up steps, then timed steps), before and after the tfjs-cpu
 * steps, so that a busy machine shows in both; the ratio is
 * time(tfjs-cpu) / time(side). Results go to
 * `bench/results/cnn.json`. Run with `npm run --silent compile && node
 * .build/bench/cnn.bench.js`; with `CNN_OURS_ONLY=1` it times the Stratum
 * sides alone and writes nothing.
 */

import * as tf from "@tensorflow/tfjs";
import { Tensor } from "../src/core/tensor.js";
import { mean, mul, softmaxCrossEntropy, sub } from "../src/index.js";
import { conv2d, dense, flatten, maxPool2d, relu, sequential } from "../src/layers/index.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { check, median, normalData, relativeDifference, setUpTfjs, uniforms } from "./support/measure.js";
import { describeEnvironment, environment, isEntryPoint, printTable, writeResults } from "./support/report.js";

export const BATCH = 64;
const LR = 0.01;
const LOSS_TOLERANCE = 1e-4;
const GRAD_TOLERANCE = 1e-3;
const TFJS_CPU_STEPS = Math.max(1, Number(process.env["CNN_TFJS_CPU_STEPS"] ?? "2"));
const OURS_ONLY = process.env["CNN_OURS_ONLY"] === "1";

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

export type ParamName = "w1" | "b1" | "w2" | "b2" | "w3" | "b3";
export const PARAM_NAMES: readonly ParamName[] = ["w1", "b1", "w2", "b2", "w3", "b3"];
export const PARAM_SHAPES: Record<ParamName, readonly number[]> = { w1: [3, 3, 1, 32], b1: [32], w2: [3, 3, 32, 64], b2: [64], w3: [3136, 10], b3: [10] };

/** He initialisation: weights ~ N(0, 2 / fan-in), biases 0. */
export const initial: Record<ParamName, Float32Array> = {
  w1: normalData(3 * 3 * 1 * 32, Math.sqrt(2 / 9), 11),
  b1: new Float32Array(32),
  w2: normalData(3 * 3 * 32 * 64, Math.sqrt(2 / (9 * 32)), 12),
  b2: new Float32Array(64),
  w3: normalData(3136 * 10, Math.sqrt(2 / 3136), 13),
  b3: new Float32Array(10),
};
export const inputData = Float32Array.from({ length: BATCH * 28 * 28 }, uniforms(21));
const labelNext = uniforms(22);
export const labelData = Int32Array.from({ length: BATCH }, () => Math.floor(labelNext() * 10));

// ---------------------------------------------------------------------------
// Stratum
// ---------------------------------------------------------------------------

const cnn = sequential(
  conv2d(1, 32, 3, { padding: "same" }),
  relu(),
  maxPool2d(2),
  conv2d(32, 64, 3, { padding: "same" }),
  relu(),
  maxPool2d(2),
  flatten(),
  dense(3136, 10),
);
export type Params = ReturnType<typeof cnn.init>;
type Images = Tensor<[64, 28, 28, 1]>;
type Labels = Tensor<[64], "int32">;

/** Fresh Stratum parameters holding copies of the initial values. */
export function stratumParams(): Params {
  const t = (name: ParamName) => initial[name].slice();
  return [
    { w: new Tensor([3, 3, 1, 32], "float32", t("w1")), b: new Tensor([32], "float32", t("b1")) },
    {},
    {},
    { w: new Tensor([3, 3, 32, 64], "float32", t("w2")), b: new Tensor([64], "float32", t("b2")) },
    {},
    {},
    {},
    { w: new Tensor([3136, 10], "float32", t("w3")), b: new Tensor([10], "float32", t("b3")) },
  ];
}

/** The parameters by the names the tfjs side uses. */
function byName(p: Params): Record<ParamName, Tensor<readonly number[]>> {
  return { w1: p[0].w, b1: p[0].b, w2: p[3].w, b2: p[3].b, w3: p[7].w, b3: p[7].b };
}

export function loss(p: Params, x: Images, y: Labels): Tensor<[], "float32"> {
  return mean(softmaxCrossEntropy(cnn.apply(p, x), y));
}

/** `p - lr * g` for one layer's `{ w, b }`. */
function sgdLayer<W extends readonly number[], B extends readonly number[]>(p: { w: Tensor<W>; b: Tensor<B> }, g: { w: Tensor<W>; b: Tensor<B> }): { w: Tensor<W>; b: Tensor<B> } {
  return { w: sub(p.w, mul(g.w, LR)), b: sub(p.b, mul(g.b, LR)) };
}

function sgd(p: Params, g: Params): Params {
  return [sgdLayer(p[0], g[0]), {}, {}, sgdLayer(p[3], g[3]), {}, {}, {}, sgdLayer(p[7], g[7])];
}

const lossAndGrad = valueAndGrad(loss);
function sgdStep(p: Params, x: Images, y: Labels): { loss: Tensor<[], "float32">; params: Params } {
  const [l, g] = lossAndGrad(p, x, y);
  return { loss: l, params: sgd(p, g) };
}
export const jittedStep = jit(sgdStep);
/**
 * The same step with its parameters donated (`jit(step, { donate: [0] })`):
 * the update is written over the old parameters, as PyTorch's in-place
 * `optimizer.step()` does (`torch.bench.ts` times this one).
 */
export const donatedStep = jit(sgdStep, { donate: [0] });

// ---------------------------------------------------------------------------
// TensorFlow.js
// ---------------------------------------------------------------------------

interface TfModel {
  readonly vars: Record<ParamName, tf.Variable>;
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
}

let variableCount = 0;

function tfModel(): TfModel {
  const make = (name: ParamName): tf.Variable => tf.variable(tf.tensor(initial[name].slice(), [...PARAM_SHAPES[name]]), true, `${name}_${variableCount++}`);
  const vars = { w1: make("w1"), b1: make("b1"), w2: make("w2"), b2: make("b2"), w3: make("w3"), b3: make("b3") };
  return { vars, x: tf.tensor4d(inputData.slice(), [BATCH, 28, 28, 1]), y: tf.tensor1d(labelData.slice(), "int32") };
}

function tfDispose(m: TfModel): void {
  tf.dispose([...PARAM_NAMES.map((n) => m.vars[n]), m.x, m.y]);
}

/** The same model with tf ops: NHWC, HWIO filters, TensorFlow's "same" padding (one-hot labels: tfjs has no sparse cross-entropy). */
function tfLoss(m: TfModel): tf.Scalar {
  const { w1, b1, w2, b2, w3, b3 } = m.vars;
  // rank 4 throughout: the variables hold [3, 3, C, O] filters (made with those shapes in tfModel), and adding a bias keeps the rank
  const block = (x: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D => tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w as tf.Tensor4D, 1, "same"), b)) as tf.Tensor4D, 2, 2, "valid");
  const h2 = block(block(m.x, w1, b1), w2, b2);
  const logits = tf.add(tf.matMul(tf.reshape(h2, [BATCH, 3136]), w3), b3);
  return tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(m.y, 10), "float32"), logits);
}

/** One step inside `tf.tidy`: loss, gradients, `v - lr * g`; returns the loss and, if asked, the gradients. */
function tfStep(m: TfModel, keepGrads: boolean): { loss: number; grads?: Record<ParamName, Float32Array> } {
  let grads: Record<ParamName, Float32Array> | undefined;
  const value = tf.tidy(() => {
    const { value: l, grads: g } = tf.variableGrads(() => tfLoss(m), PARAM_NAMES.map((n) => m.vars[n]));
    const gradOf = (n: ParamName): tf.Tensor => {
      const gi = g[m.vars[n].name];
      if (gi === undefined) throw new Error(`tf.variableGrads gave no gradient for ${n}`);
      return gi;
    };
    if (keepGrads) {
      const read = (n: ParamName): Float32Array => Float32Array.from(gradOf(n).dataSync());
      grads = { w1: read("w1"), b1: read("b1"), w2: read("w2"), b2: read("b2"), w3: read("w3"), b3: read("b3") };
    }
    for (const n of PARAM_NAMES) m.vars[n].assign(tf.sub(m.vars[n], tf.mul(gradOf(n), LR)));
    return l;
  });
  const out = value.dataSync()[0] ?? Number.NaN;
  value.dispose();
  return grads === undefined ? { loss: out } : { loss: out, grads };
}

// ---------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------

/**
 * Each side on its own: `warmup` untimed steps, then timed steps until
 * `budgetMs` is spent (between `minRuns` and `maxRuns`). One side at a time,
 * so that the garbage an eager step leaves is not collected in a jitted
 * step's time. Returns every side's step times, in ms.
 */
function timeSides<K extends string>(steps: Record<K, () => number>, warmup: number, minRuns: number, maxRuns: number, budgetMs: number): Record<K, number[]> {
  const sides = Object.keys(steps) as K[]; // the keys of a Record<K, ...>
  const times = Object.fromEntries(sides.map((side) => [side, [] as number[]])) as Record<K, number[]>; // one entry per side, just built
  let sink = 0;
  for (const side of sides) {
    for (let i = 0; i < warmup; i++) sink += steps[side]();
    const start = performance.now();
    for (let run = 0; run < minRuns || (run < maxRuns && performance.now() - start < budgetMs); run++) {
      const t = performance.now();
      sink += steps[side]();
      times[side].push(performance.now() - t);
    }
  }
  if (!Number.isFinite(sink)) throw new Error(`training diverged: a loss was ${sink}`);
  return times;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  console.log(describeEnvironment(environment(tf.version.tfjs)));
  console.log(`CNN conv3x3(32, same)-relu-maxpool2-conv3x3(64, same)-relu-maxpool2-flatten-dense(3136 -> 10), batch ${BATCH}, float32, SGD lr ${LR}\n`);

  const x: Images = new Tensor([BATCH, 28, 28, 1], "float32", inputData.slice());
  const y: Labels = new Tensor([BATCH], "int32", labelData.slice());

  // Step 0: Stratum eager and jitted.
  const p0 = stratumParams();
  const eagerStart = performance.now();
  const [eagerLoss0, eagerGrad0] = lossAndGrad(p0, x, y);
  const eagerFirstMs = performance.now() - eagerStart;
  const compileStart = performance.now();
  const jit0 = jittedStep(p0, x, y);
  const compileMs = performance.now() - compileStart;
  const jitLoss0 = jit0.loss.item();
  const jitLoss1 = loss(jit0.params, x, y).item(); // after one update, for the comparison with tfjs-cpu's step 1
  console.log(`step 0: stratum eager loss ${eagerLoss0.item().toFixed(6)} (${eagerFirstMs.toFixed(0)} ms), stratum jit loss ${jitLoss0.toFixed(6)} (first call, trace + compile + run: ${compileMs.toFixed(0)} ms)`);
  check("step 0 loss, stratum jit vs eager", Math.abs(jitLoss0 - eagerLoss0.item()), LOSS_TOLERANCE);

  let eagerParams = p0;
  let jitParams = jit0.params;
  const ours = {
    "stratum eager": (): number => {
      const [l, g] = lossAndGrad(eagerParams, x, y);
      eagerParams = sgd(eagerParams, g);
      return l.item();
    },
    "stratum jit": (): number => {
      const out = jittedStep(jitParams, x, y);
      jitParams = out.params;
      return out.loss.item();
    },
  };
  const before = timeSides(ours, 2, 5, 30, 8000);

  // tfjs-cpu: step 0 with its gradients, then more steps.
  let tfjsCpu: { loss0: number; loss1: number | undefined; ms: number[]; gradDifference: number; lossDifference: number } | undefined;
  let tfjsWasm: { status: "ran"; loss0: number; ms: number } | { status: "unsupported"; error: string } | { status: "not run" } = { status: "not run" };
  if (!OURS_ONLY) {
    await tf.setBackend("cpu");
    const m = tfModel();
    const ms: number[] = [];
    let loss0 = Number.NaN;
    let loss1: number | undefined;
    let grads0: Record<ParamName, Float32Array> | undefined;
    for (let i = 0; i < TFJS_CPU_STEPS; i++) {
      const t = performance.now();
      const out = tfStep(m, i === 0);
      ms.push(performance.now() - t);
      if (i === 0) [loss0, grads0] = [out.loss, out.grads];
      if (i === 1) loss1 = out.loss;
      console.log(`tfjs-cpu step ${i}: loss ${out.loss.toFixed(6)}, ${(ms[i] ?? 0).toFixed(0)} ms`);
    }
    tfDispose(m);
    if (grads0 === undefined) throw new Error("tfjs-cpu gave no gradients at step 0");
    const g0 = grads0;
    const named = byName(eagerGrad0);
    const gradDifference = Math.max(...PARAM_NAMES.map((n) => relativeDifference(named[n].data, g0[n])));
    const lossDifference = Math.abs(loss0 - eagerLoss0.item());
    console.log(`step 0: tfjs-cpu loss ${loss0.toFixed(6)}; |loss difference| vs stratum eager ${lossDifference.toExponential(2)}, gradients (relative) ${gradDifference.toExponential(2)}`);
    check("step 0 loss, stratum eager vs tfjs-cpu", lossDifference, LOSS_TOLERANCE);
    check("step 0 gradient, stratum eager vs tfjs-cpu", gradDifference, GRAD_TOLERANCE);
    if (loss1 !== undefined) {
      console.log(`step 1: tfjs-cpu loss ${loss1.toFixed(6)}, stratum (after the jitted update) ${jitLoss1.toFixed(6)}`);
      check("step 1 loss, stratum jit vs tfjs-cpu", Math.abs(loss1 - jitLoss1), LOSS_TOLERANCE);
    }
    tfjsCpu = { loss0, loss1, ms, gradDifference, lossDifference };

    await tf.setBackend("wasm");
    const mw = tfModel();
    try {
      const t = performance.now();
      const out = tfStep(mw, false);
      tfjsWasm = { status: "ran", loss0: out.loss, ms: performance.now() - t };
    } catch (e) {
      tfjsWasm = { status: "unsupported", error: e instanceof Error ? e.message : String(e) };
    }
    tfDispose(mw);
    console.log(`tfjs-wasm (${wasmRan}): ${tfjsWasm.status === "ran" ? `loss ${tfjsWasm.loss0.toFixed(6)}, ${tfjsWasm.ms.toFixed(0)} ms` : `unsupported: ${tfjsWasm.error}`}`);
  }

  const after = timeSides(ours, 2, 5, 30, 8000);
  if (jittedStep.traces !== 1) throw new Error(`the jitted step was traced ${jittedStep.traces} times, not once`);

  const tfjsCpuMs = tfjsCpu === undefined ? Number.NaN : median(tfjsCpu.ms);
  const row = (side: "stratum eager" | "stratum jit") => {
    const all = [...before[side], ...after[side]];
    const ms = median(all);
    return { side, msPerStep: ms, msBefore: median(before[side]), msAfter: median(after[side]), runs: all.length, tfjsCpuOverThis: tfjsCpuMs / ms };
  };
  const rows = [row("stratum eager"), row("stratum jit")];
  const jitRow = rows[1];
  if (jitRow === undefined) throw new Error("no row for the jitted step");
  printTable(["side", "ms / step", "before tfjs", "after tfjs", "runs", "tfjs-cpu / this"], [
    ...rows.map((r) => [r.side, r.msPerStep.toFixed(1), r.msBefore.toFixed(1), r.msAfter.toFixed(1), String(r.runs), `${r.tfjsCpuOverThis.toFixed(1)}x`]),
    ["tfjs-cpu", tfjsCpuMs.toFixed(0), "", "", String(tfjsCpu?.ms.length ?? 0), "1.0x"],
    ["tfjs-wasm", tfjsWasm.status === "ran" ? tfjsWasm.ms.toFixed(0) : tfjsWasm.status, "", "", tfjsWasm.status === "ran" ? "1" : "0", ""],
  ]);
  const bar = { jitAtLeast100xTfjsCpu: jitRow.tfjsCpuOverThis >= 100 };
  console.log(`\nms / step: medians; tfjs-cpu / this: median time(tfjs-cpu step) / median time(this side's step).`);
  console.log(`bar: jit >= 100x tfjs-cpu: ${bar.jitAtLeast100xTfjsCpu ? "met" : "not met"} (${jitRow.tfjsCpuOverThis.toFixed(1)}x)`);

  if (OURS_ONLY) return; // a quick look at our own timings: nothing written
  const results = {
    benchmark: "CNN training step",
    model: {
      layers: "conv3x3(1 -> 32, same)-relu-maxpool2-conv3x3(32 -> 64, same)-relu-maxpool2-flatten-dense(3136 -> 10)",
      loss: "mean softmax cross-entropy, int32 labels",
      batch: BATCH,
      input: [28, 28, 1],
      dtype: "float32",
      optimizer: `SGD lr ${LR}`,
      init: "He normal weights, zero biases, fixed seeds",
    },
    ...environment(tf.version.tfjs),
    jitCompileMs: compileMs,
    step0: { stratumEagerLoss: eagerLoss0.item(), stratumJitLoss: jitLoss0, tfjsCpuLoss: tfjsCpu?.loss0, lossDifference: tfjsCpu?.lossDifference, gradDifferenceEagerVsTfjsCpu: tfjsCpu?.gradDifference },
    step1: { stratumLossAfterJitUpdate: jitLoss1, tfjsCpuLoss: tfjsCpu?.loss1 },
    timing: "Stratum: each side on its own, 2 warm-up steps then timed steps, before and after the tfjs steps, each step reading its loss back; msPerStep is the median of both blocks. tfjs-cpu: the median of its steps (step 0 included)",
    results: rows,
    tfjsCpu: { msPerStep: tfjsCpuMs, steps: tfjsCpu?.ms },
    tfjsWasm: { backend: wasmRan, ...tfjsWasm },
    bar,
  };
  writeResults("cnn", results);
}

if (isEntryPoint(import.meta.url)) await main();
