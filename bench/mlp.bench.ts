/**
 * One training step of an MLP against TensorFlow.js 4.22 (issue 4, item 6).
 *
 * The model is 784-512-256-10 with relu, float32, batch 128: the mean
 * softmax cross-entropy over int32 labels, its gradient with respect to
 * every weight and bias, and an SGD update with learning rate 0.01. Weights
 * start He-style (normal, variance 2 / fan-in) and biases at 0, from a fixed
 * seed; the inputs are uniform in [0, 1) and the labels uniform over the ten
 * classes. Four sides run the same step on copies of the same data:
 *
 * - Stratum eager: `valueAndGrad(loss)(params, x, y)`, then `p - lr * g`
 *   for every leaf, one kernel per primitive.
 * - Stratum jitted: the whole step (value, gradient, update) under `jit`,
 *   traced and compiled by its first call, which is timed on its own.
 * - TensorFlow.js's pure-JavaScript CPU backend and its WebAssembly backend
 *   (XNNPACK, forced single-threaded, SIMD where the engine has it):
 *   `tf.variableGrads` and `Variable.assign` inside `tf.tidy`. The full
 *   `@tensorflow/tfjs` package is imported because `@tensorflow/tfjs-core`
 *   alone registers no gradients.
 *
 * Before any timing, step 0 runs on every side from the same parameters and
 * data: the losses must agree to 1e-4, Stratum's eager gradient must match
 * tfjs-cpu's (relative to the largest magnitude), and the update the jitted
 * step applies must match the eager gradient. Each side then trains on, in
 * rounds of one step per side (every step reads its loss back): our two
 * sides beside tfjs-cpu, then beside tfjs-wasm, so that a busy machine slows
 * the sides compared alike (tfjs backends cannot interleave: switching
 * moves the variables). Warm-up rounds, then timed rounds until a budget is
 * spent; medians in ms per step, and the ratios time(tfjs) / time(ours)
 * from the same rounds. Results go to `bench/results/mlp.json`. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/mlp.bench.js`.
 */

import * as tf from "@tensorflow/tfjs";
import { Tensor } from "../src/core/tensor.js";
import { add, matmul, mean, mul, relu, softmaxCrossEntropy, sub } from "../src/index.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { check, normalData, relativeDifference, setUpTfjs, uniforms } from "./support/measure.js";
import { describeEnvironment, environment, isEntryPoint, writeResults } from "./support/report.js";
import { comparisonRows, printComparison, RATIOS, tfjsStepZero, timeBeside, type TfSide } from "./support/side-by-side.js";

export const BATCH = 128;
export const SIZES = [784, 512, 256, 10] as const;
export const LR = 0.01;
const TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

/** The parameters as flat arrays, by name (the names are the keys of `Params`). */
type ParamData = Record<ParamName, Float32Array>;
export type ParamName = "w1" | "b1" | "w2" | "b2" | "w3" | "b3";
export const PARAM_NAMES: readonly ParamName[] = ["w1", "b1", "w2", "b2", "w3", "b3"];
export const PARAM_SHAPES: Record<ParamName, readonly number[]> = {
  w1: [SIZES[0], SIZES[1]],
  b1: [SIZES[1]],
  w2: [SIZES[1], SIZES[2]],
  b2: [SIZES[2]],
  w3: [SIZES[2], SIZES[3]],
  b3: [SIZES[3]],
};

/** He initialisation: weights ~ N(0, 2 / fan-in), biases 0. */
export const initial: ParamData = {
  w1: normalData(SIZES[0] * SIZES[1], Math.sqrt(2 / SIZES[0]), 11),
  b1: new Float32Array(SIZES[1]),
  w2: normalData(SIZES[1] * SIZES[2], Math.sqrt(2 / SIZES[1]), 12),
  b2: new Float32Array(SIZES[2]),
  w3: normalData(SIZES[2] * SIZES[3], Math.sqrt(2 / SIZES[2]), 13),
  b3: new Float32Array(SIZES[3]),
};
export const inputData = Float32Array.from({ length: BATCH * SIZES[0] }, uniforms(21));
const labelNext = uniforms(22);
export const labelData = Int32Array.from({ length: BATCH }, () => Math.floor(labelNext() * SIZES[3]));

// ---------------------------------------------------------------------------
// Stratum
// ---------------------------------------------------------------------------

export type Params = {
  readonly w1: Tensor<[784, 512]>;
  readonly b1: Tensor<[512]>;
  readonly w2: Tensor<[512, 256]>;
  readonly b2: Tensor<[256]>;
  readonly w3: Tensor<[256, 10]>;
  readonly b3: Tensor<[10]>;
};
type Inputs = Tensor<[128, 784]>;
type Labels = Tensor<[128], "int32">;

/** Fresh Stratum parameters holding copies of the initial values. */
export function stratumParams(): Params {
  return {
    w1: new Tensor([784, 512], "float32", initial.w1.slice()),
    b1: new Tensor([512], "float32", initial.b1.slice()),
    w2: new Tensor([512, 256], "float32", initial.w2.slice()),
    b2: new Tensor([256], "float32", initial.b2.slice()),
    w3: new Tensor([256, 10], "float32", initial.w3.slice()),
    b3: new Tensor([10], "float32", initial.b3.slice()),
  };
}

/** The mean softmax cross-entropy of the MLP on one batch. */
export function loss(p: Params, x: Inputs, y: Labels): Tensor<[], "float32"> {
  const h1 = relu(add(matmul(x, p.w1), p.b1));
  const h2 = relu(add(matmul(h1, p.w2), p.b2));
  const logits = add(matmul(h2, p.w3), p.b3);
  return mean(softmaxCrossEntropy(logits, y));
}

/** `p - lr * g`, leaf by leaf. */
function sgd(p: Params, g: Params): Params {
  const step = <S extends readonly number[]>(pi: Tensor<S>, gi: Tensor<S>): Tensor<S> => sub(pi, mul(gi, LR));
  return { w1: step(p.w1, g.w1), b1: step(p.b1, g.b1), w2: step(p.w2, g.w2), b2: step(p.b2, g.b2), w3: step(p.w3, g.w3), b3: step(p.b3, g.b3) };
}

const lossAndGrad = valueAndGrad(loss);
function sgdStep(p: Params, x: Inputs, y: Labels): { loss: Tensor<[], "float32">; params: Params } {
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
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor1D;
}

let variableCount = 0;

/** Variables and data on the current backend, copies of the initial values. */
function tfModel(): TfModel {
  const make = (name: ParamName): tf.Variable => tf.variable(tf.tensor(initial[name].slice(), [...PARAM_SHAPES[name]]), true, `${name}_${variableCount++}`);
  const vars = { w1: make("w1"), b1: make("b1"), w2: make("w2"), b2: make("b2"), w3: make("w3"), b3: make("b3") };
  return { vars, x: tf.tensor2d(inputData.slice(), [BATCH, SIZES[0]]), y: tf.tensor1d(labelData.slice(), "int32") };
}

function tfDispose(m: TfModel): void {
  tf.dispose([...PARAM_NAMES.map((n) => m.vars[n]), m.x, m.y]);
}

/** The same loss with tfjs ops (one-hot labels, as tfjs has no sparse cross-entropy). */
function tfLoss(m: TfModel): tf.Scalar {
  const { w1, b1, w2, b2, w3, b3 } = m.vars;
  const h1 = tf.relu(tf.add(tf.matMul(m.x, w1), b1));
  const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
  const logits = tf.add(tf.matMul(h2, w3), b3);
  return tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(m.y, SIZES[3]), "float32"), logits);
}

/**
 * One training step: the loss and its gradients, then `v - lr * g` assigned
 * to each variable, all inside `tf.tidy`; returns the loss (read back).
 * `inspect` sees the gradients by parameter name before the update.
 */
function tfStep(m: TfModel, inspect?: (grads: Record<ParamName, Float32Array>) => void): number {
  const value = tf.tidy(() => {
    const varList = PARAM_NAMES.map((n) => m.vars[n]);
    const { value: l, grads } = tf.variableGrads(() => tfLoss(m), varList);
    const gradOf = (n: ParamName): tf.Tensor => {
      const g = grads[m.vars[n].name];
      if (g === undefined) throw new Error(`tf.variableGrads gave no gradient for ${n}`);
      return g;
    };
    if (inspect !== undefined) {
      inspect({
        w1: Float32Array.from(gradOf("w1").dataSync()),
        b1: Float32Array.from(gradOf("b1").dataSync()),
        w2: Float32Array.from(gradOf("w2").dataSync()),
        b2: Float32Array.from(gradOf("b2").dataSync()),
        w3: Float32Array.from(gradOf("w3").dataSync()),
        b3: Float32Array.from(gradOf("b3").dataSync()),
      });
    }
    for (const n of PARAM_NAMES) m.vars[n].assign(tf.sub(m.vars[n], tf.mul(gradOf(n), LR)));
    return l;
  });
  const out = value.dataSync()[0] ?? Number.NaN;
  value.dispose();
  return out;
}

export const tfSide: TfSide<TfModel, Record<ParamName, Float32Array>> = { model: tfModel, dispose: tfDispose, step: tfStep };

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** The largest relative difference over all parameters. */
function treeDifference(got: (n: ParamName) => ArrayLike<number>, want: (n: ParamName) => ArrayLike<number>): number {
  return Math.max(...PARAM_NAMES.map((n) => relativeDifference(got(n), want(n))));
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

type Side = "stratum eager" | "stratum jit" | "tfjs-cpu" | "tfjs-wasm";

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  console.log(describeEnvironment(environment(tf.version.tfjs)));
  console.log(`MLP ${SIZES.join("-")}, relu, batch ${BATCH}, float32, SGD lr ${LR}; tfjs-wasm: ${wasmRan}\n`);

  const x: Inputs = new Tensor([BATCH, 784], "float32", inputData.slice());
  const y: Labels = new Tensor([BATCH], "int32", labelData.slice());

  // Step 0 on every side, from the same parameters and data.
  const p0 = stratumParams();
  const [eagerLoss0, eagerGrad0] = lossAndGrad(p0, x, y);
  const compileStart = performance.now();
  const jit0 = jittedStep(p0, x, y);
  const compileMs = performance.now() - compileStart;
  const tfjs0 = await tfjsStepZero(tf, tfSide);
  const losses0: Record<Side, number> = { "stratum eager": eagerLoss0.item(), "stratum jit": jit0.loss.item(), ...tfjs0.losses };
  const lossDifference = Math.max(...Object.values(losses0).map((l) => Math.abs(l - losses0["tfjs-cpu"])));
  const { cpu: cpuGrads, wasm: wasmGrads } = tfjs0.grads;
  const gradDifference = treeDifference((n) => eagerGrad0[n].data, (n) => cpuGrads[n]);
  const wasmGradDifference = treeDifference((n) => wasmGrads[n], (n) => cpuGrads[n]);
  // The jitted step's update, divided by lr, is its gradient (up to the rounding of p - lr * g).
  const jitGradDifference = treeDifference(
    (n) => p0[n].data.map((v, i) => (v - (jit0.params[n].data[i] ?? Number.NaN)) / LR),
    (n) => eagerGrad0[n].data,
  );
  console.log(`step 0 losses: ${Object.entries(losses0).map(([side, l]) => `${side} ${l.toFixed(6)}`).join(", ")}`);
  console.log(`largest |loss difference| ${lossDifference.toExponential(2)}; gradients, relative: eager vs tfjs-cpu ${gradDifference.toExponential(2)}, tfjs-wasm vs tfjs-cpu ${wasmGradDifference.toExponential(2)}, jitted update / lr vs eager ${jitGradDifference.toExponential(2)}`);
  check("step 0 loss", lossDifference, TOLERANCE);
  check("step 0 gradient, stratum eager vs tfjs-cpu", gradDifference, TOLERANCE);
  // NOTE: (p - p') / lr loses digits to cancellation: |p| is up to ~0.25 while lr * |g| is ~1e-4.
  check("step 0 update, stratum jit vs eager", jitGradDifference, 1e-3);

  // Training, timed: our two sides alongside tfjs-cpu, then alongside tfjs-wasm.
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
  // NOTE: tfjs-cpu takes most of a second per step: fewer rounds beside it.
  const besideCpu = await timeBeside(tf, "cpu", tfSide, ours, { warmup: 2, minRounds: 10, maxRounds: 20, budgetMs: 15000 });
  const besideWasm = await timeBeside(tf, "wasm", tfSide, ours, { warmup: 3, minRounds: 20, maxRounds: 80, budgetMs: 25000 });
  if (jittedStep.traces !== 1) throw new Error(`the jitted step was traced ${jittedStep.traces} times, not once`);

  const rows = comparisonRows(["stratum eager", "stratum jit"], besideCpu, besideWasm, losses0);
  const jitRow = rows[1];
  if (jitRow === undefined) throw new Error("no row for the jitted step");
  printComparison(rows, compileMs);
  const vsCpu = jitRow.tfjsCpuOverThis;
  const vsWasm = jitRow.tfjsWasmOverThis;
  const bar = { jitAtLeast4xTfjsCpu: vsCpu >= 4, jitFasterThanTfjsWasm: vsWasm > 1 };
  console.log(`bar: jit >= 4x tfjs-cpu: ${bar.jitAtLeast4xTfjsCpu ? "met" : "not met"} (${vsCpu.toFixed(2)}x); jit faster than tfjs-wasm: ${bar.jitFasterThanTfjsWasm ? "met" : "not met"} (${vsWasm.toFixed(2)}x)`);

  const results = {
    benchmark: "MLP training step",
    model: { sizes: SIZES, activation: "relu", loss: "mean softmax cross-entropy, int32 labels", batch: BATCH, dtype: "float32", optimizer: `SGD lr ${LR}`, init: "He normal weights, zero biases, fixed seeds" },
    ...environment(tf.version.tfjs),
    tfjsWasm: wasmRan,
    jitCompileMs: compileMs,
    step0: { losses: losses0, lossDifference, gradDifference: { eagerVsTfjsCpu: gradDifference, tfjsWasmVsTfjsCpu: wasmGradDifference, jitUpdateVsEager: jitGradDifference } },
    timing: "rounds of one step per side (ours beside tfjs-cpu, then ours beside tfjs-wasm), each step reading its loss back; msPerStep is the median over all timed rounds, msInTfjs*Rounds the median within one backend's rounds",
    ratios: RATIOS,
    results: rows,
    bar,
  };
  writeResults("mlp", results);
}

if (isEntryPoint(import.meta.url)) await main();
