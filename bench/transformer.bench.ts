/**
 * Forward and backward of one transformer encoder block against TensorFlow.js
 * 4.22 (the issue's block): d_model 128, 4 heads, feed-forward 512 (GELU,
 * tanh form), sequence 64, batch 8, float32, pre-norm
 * (`x + mha(ln1(x))`, then `+ ffn(ln2(.))`), no mask, no dropout.
 *
 * One step is the scalar loss `mean(y²)` and its gradient with respect to all
 * 16 parameter tensors (no update): Stratum's `jit(valueAndGrad(loss))` over
 * `layers.transformerEncoderBlock`, against the same block written with tfjs
 * ops (`tf.moments`, batched `tf.matMul`, `tf.softmax`) under
 * `tf.variableGrads`, on tfjs's pure-JavaScript CPU backend and on its
 * WebAssembly backend (XNNPACK, single-threaded, SIMD where the engine has
 * it). All sides start from the same weights and input.
 *
 * Before any timing, the losses of every side must agree to 1e-4 (relative)
 * and the gradients of Stratum (eager and jitted) must match tfjs-cpu's to
 * 1e-3 relative to the largest magnitude of each parameter's gradient (the
 * key bias, whose gradient is 0, must be 1e-3 of the query bias's). Then
 * rounds of one step per side, our jitted step beside tfjs-cpu and then
 * beside tfjs-wasm, so that a busy machine slows the sides compared alike;
 * medians in ms per step and the ratios time(tfjs) / time(ours) from the same
 * rounds. Results go to `bench/results/transformer.json`. Run with
 * `npm run --silent compile && node .build/bench/transformer.bench.js`.
 */

import * as tf from "@tensorflow/tfjs";
import { Tensor } from "../src/core/tensor.js";
import { mean, square } from "../src/index.js";
import { transformerEncoderBlock, type TransformerEncoderParams } from "../src/layers/attention.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { check, randomData, relativeDifference, setUpTfjs } from "./support/measure.js";
import { describeEnvironment, environment, isEntryPoint, writeResults } from "./support/report.js";
import { comparisonRows, printComparison, RATIOS, tfjsStepZero, timeBeside, type TfSide } from "./support/side-by-side.js";

export const D = 128;
export const HEADS = 4;
const FFN = 512;
export const T = 64;
export const BATCH = 8;
const EPS = 1e-5;
const LOSS_TOLERANCE = 1e-4;
const GRAD_TOLERANCE = 1e-3;

// ---------------------------------------------------------------------------
// Weights and data
// ---------------------------------------------------------------------------

/** The parameters by flat name, with their shapes and how they start. */
export const PARAMS = {
  "ln1.scale": { shape: [D], init: "scale" },
  "ln1.bias": { shape: [D], init: "bias" },
  "mha.wq": { shape: [D, D], init: "kernel" },
  "mha.wk": { shape: [D, D], init: "kernel" },
  "mha.wv": { shape: [D, D], init: "kernel" },
  "mha.wo": { shape: [D, D], init: "kernel" },
  "mha.bq": { shape: [D], init: "bias" },
  "mha.bk": { shape: [D], init: "bias" },
  "mha.bv": { shape: [D], init: "bias" },
  "mha.bo": { shape: [D], init: "bias" },
  "ln2.scale": { shape: [D], init: "scale" },
  "ln2.bias": { shape: [D], init: "bias" },
  "ffn1.w": { shape: [D, FFN], init: "kernel" },
  "ffn1.b": { shape: [FFN], init: "bias" },
  "ffn2.w": { shape: [FFN, D], init: "kernel" },
  "ffn2.b": { shape: [D], init: "bias" },
} as const;
export type ParamName = keyof typeof PARAMS;
export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[]; // the keys of PARAMS, in order

/** Glorot-uniform kernels, biases uniform in ±0.1, norm scales 1 ± 0.1: every parameter matters to the gradient. */
export const initial = Object.fromEntries(
  PARAM_NAMES.map((name, i) => {
    const { shape, init } = PARAMS[name];
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const [fanIn = 1, fanOut = 1] = shape;
    const values =
      init === "kernel" ? randomData(size, 100 + i, Math.sqrt(6 / (fanIn + fanOut))) : init === "bias" ? randomData(size, 100 + i, 0.1) : randomData(size, 100 + i, 0.1).map((v) => 1 + v);
    return [name, values];
  }),
) as Record<ParamName, Float32Array>; // one entry per name, just built
export const inputData = randomData(BATCH * T * D, 7);

// ---------------------------------------------------------------------------
// Stratum
// ---------------------------------------------------------------------------

type Params = TransformerEncoderParams<128, 4, 512>;
type Input = Tensor<[8, 64, 128]>;

const block = transformerEncoderBlock(D, HEADS, FFN, { activation: "geluTanh", eps: EPS });

/** A float32 tensor holding a copy of the initial values of `name`. */
function leaf<S extends readonly number[]>(name: ParamName, shape: S): Tensor<[...S]> {
  const dims: number[] = [...shape];
  return new Tensor(dims, "float32", initial[name].slice()) as unknown as Tensor<[...S]>; // dims is `shape`, the shape PARAMS gives `name`
}

export function stratumParams(): Params {
  return {
    ln1: { scale: leaf("ln1.scale", [D]), bias: leaf("ln1.bias", [D]) },
    mha: {
      wq: leaf("mha.wq", [D, D]),
      wk: leaf("mha.wk", [D, D]),
      wv: leaf("mha.wv", [D, D]),
      wo: leaf("mha.wo", [D, D]),
      bq: leaf("mha.bq", [D]),
      bk: leaf("mha.bk", [D]),
      bv: leaf("mha.bv", [D]),
      bo: leaf("mha.bo", [D]),
    },
    ln2: { scale: leaf("ln2.scale", [D]), bias: leaf("ln2.bias", [D]) },
    ffn1: { w: leaf("ffn1.w", [D, FFN]), b: leaf("ffn1.b", [FFN]) },
    ffn2: { w: leaf("ffn2.w", [FFN, D]), b: leaf("ffn2.b", [D]) },
  };
}

/** A parameter (or its gradient) of the tree by flat name. */
export function byName(p: Params, name: ParamName): Tensor<readonly number[]> {
  const [group = "", field = ""] = name.split(".");
  const record = (p as unknown as Record<string, Record<string, Tensor<readonly number[]>>>)[group]; // Params is a record of records of tensors
  const t = record?.[field];
  if (t === undefined) throw new Error(`no parameter ${name}`);
  return t;
}

/** The loss: the mean square of the block's output. */
function loss(p: Params, x: Input): Tensor<[], "float32"> {
  return mean(square(block.apply(p, x)));
}

const lossAndGrad = valueAndGrad(loss);
export const jittedStep = jit(lossAndGrad);

// ---------------------------------------------------------------------------
// TensorFlow.js
// ---------------------------------------------------------------------------

let variableCount = 0;

interface TfModel {
  readonly vars: Record<ParamName, tf.Variable>;
  readonly x: tf.Tensor3D;
}

function tfModel(): TfModel {
  const vars = Object.fromEntries(
    PARAM_NAMES.map((name) => [name, tf.variable(tf.tensor(initial[name].slice(), [...PARAMS[name].shape]), true, `${name}_${variableCount++}`)]),
  ) as Record<ParamName, tf.Variable>; // one variable per name, just built
  return { vars, x: tf.tensor3d(inputData.slice(), [BATCH, T, D]) };
}

function tfDispose(m: TfModel): void {
  tf.dispose([...PARAM_NAMES.map((n) => m.vars[n]), m.x]);
}

/** The same block with tfjs ops. */
function tfLoss(m: TfModel): tf.Scalar {
  const v = m.vars;
  const dk = D / HEADS;
  const norm = (x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor): tf.Tensor => {
    const { mean: mu, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mu), tf.rsqrt(tf.add(variance, EPS))), scale), bias);
  };
  const dense = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.add(tf.matMul(x, w), b);
  const heads = (x: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(x, [BATCH, T, HEADS, dk]), [0, 2, 1, 3]);
  const gelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
  const x = tf.reshape(m.x, [BATCH * T, D]);
  const h = norm(x, v["ln1.scale"], v["ln1.bias"]);
  const q = heads(tf.mul(dense(h, v["mha.wq"], v["mha.bq"]), 1 / Math.sqrt(dk)));
  const k = heads(dense(h, v["mha.wk"], v["mha.bk"]));
  const val = heads(dense(h, v["mha.wv"], v["mha.bv"]));
  const weights = tf.softmax(tf.matMul(q, k, false, true));
  const attended = tf.reshape(tf.transpose(tf.matMul(weights, val), [0, 2, 1, 3]), [BATCH * T, D]);
  const x1 = tf.add(x, dense(attended, v["mha.wo"], v["mha.bo"]));
  const hidden = gelu(dense(norm(x1, v["ln2.scale"], v["ln2.bias"]), v["ffn1.w"], v["ffn1.b"]));
  const y = tf.add(x1, dense(hidden, v["ffn2.w"], v["ffn2.b"]));
  return tf.mean(tf.square(y));
}

/** The loss and its gradients inside `tf.tidy`; `inspect` sees the gradients by name. Returns the loss, read back. */
function tfStep(m: TfModel, inspect?: (grads: Record<ParamName, Float32Array>) => void): number {
  const value = tf.tidy(() => {
    const { value: l, grads } = tf.variableGrads(() => tfLoss(m), PARAM_NAMES.map((n) => m.vars[n]));
    if (inspect !== undefined) {
      const read = (n: ParamName): Float32Array => {
        const g = grads[m.vars[n].name];
        if (g === undefined) throw new Error(`tf.variableGrads gave no gradient for ${n}`);
        return Float32Array.from(g.dataSync());
      };
      inspect(Object.fromEntries(PARAM_NAMES.map((n) => [n, read(n)])) as Record<ParamName, Float32Array>); // one entry per name, just built
    }
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

/**
 * The largest relative difference over the parameters but `mha.bk`.
 * NOTE: the key bias adds `q · bk` to every score of a row, which the softmax
 * ignores: its gradient is 0 in exact arithmetic, and what each side computes
 * is rounding noise, so it is compared by its size instead (`noiseOfKeyBias`).
 */
function gradDifference(got: (n: ParamName) => ArrayLike<number>, want: (n: ParamName) => ArrayLike<number>): number {
  return Math.max(...PARAM_NAMES.filter((n) => n !== "mha.bk").map((n) => relativeDifference(got(n), want(n))));
}

/** The largest |gradient| of `mha.bk` relative to the largest |gradient| of `mha.bq`. */
function noiseOfKeyBias(grads: (n: ParamName) => ArrayLike<number>): number {
  const largest = (xs: ArrayLike<number>): number => Array.from(xs).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return largest(grads("mha.bk")) / largest(grads("mha.bq"));
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const wasmRan = await setUpTfjs(tf);
  console.log(describeEnvironment(environment(tf.version.tfjs)));
  console.log(`transformer encoder block: d_model ${D}, ${HEADS} heads, ffn ${FFN} (gelu), sequence ${T}, batch ${BATCH}, float32, pre-norm; forward + backward of mean(y²); tfjs-wasm: ${wasmRan}\n`);

  const p = stratumParams();
  const x: Input = new Tensor([BATCH, T, D], "float32", inputData.slice());

  // Step 0 on every side, from the same weights and input.
  const [eagerLoss, eagerGrads] = lossAndGrad(p, x);
  const compileStart = performance.now();
  const [jitLoss, jitGrads] = jittedStep(p, x);
  const compileMs = performance.now() - compileStart;
  const tfjs0 = await tfjsStepZero(tf, tfSide);
  const losses = { "stratum eager": eagerLoss.item(), "stratum jit": jitLoss.item(), ...tfjs0.losses };
  const { cpu: cpuGrads, wasm: wasmGrads } = tfjs0.grads;
  const reference = losses["tfjs-cpu"];
  const lossDifference = Math.max(...Object.values(losses).map((l) => Math.abs(l - reference) / Math.abs(reference)));
  const differences = {
    eagerVsTfjsCpu: gradDifference((n) => byName(eagerGrads, n).data, (n) => cpuGrads[n]),
    jitVsTfjsCpu: gradDifference((n) => byName(jitGrads, n).data, (n) => cpuGrads[n]),
    tfjsWasmVsTfjsCpu: gradDifference((n) => wasmGrads[n], (n) => cpuGrads[n]),
    keyBiasNoise: { stratumJit: noiseOfKeyBias((n) => byName(jitGrads, n).data), tfjsCpu: noiseOfKeyBias((n) => cpuGrads[n]), tfjsWasm: noiseOfKeyBias((n) => wasmGrads[n]) },
  };
  console.log(`step 0 losses: ${Object.entries(losses).map(([side, l]) => `${side} ${l.toFixed(6)}`).join(", ")}`);
  console.log(`largest relative loss difference ${lossDifference.toExponential(2)}; gradients, relative: eager vs tfjs-cpu ${differences.eagerVsTfjsCpu.toExponential(2)}, jit vs tfjs-cpu ${differences.jitVsTfjsCpu.toExponential(2)}, tfjs-wasm vs tfjs-cpu ${differences.tfjsWasmVsTfjsCpu.toExponential(2)}`);
  console.log(`the key bias's gradient (0 in exact arithmetic), relative to the query bias's: ${Object.entries(differences.keyBiasNoise).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", ")}`);
  check("step 0 loss", lossDifference, LOSS_TOLERANCE);
  check("step 0 gradient, stratum eager vs tfjs-cpu", differences.eagerVsTfjsCpu, GRAD_TOLERANCE);
  check("step 0 gradient, stratum jit vs tfjs-cpu", differences.jitVsTfjsCpu, GRAD_TOLERANCE);
  check("step 0 gradient of the key bias, stratum jit", differences.keyBiasNoise.stratumJit, GRAD_TOLERANCE);

  const ours = { "stratum jit": (): number => jittedStep(p, x)[0].item() };
  // NOTE: tfjs-cpu takes over a second per step: fewer rounds beside it.
  const besideCpu = await timeBeside(tf, "cpu", tfSide, ours, { warmup: 1, minRounds: 5, maxRounds: 10, budgetMs: 15000 });
  const besideWasm = await timeBeside(tf, "wasm", tfSide, ours, { warmup: 3, minRounds: 20, maxRounds: 60, budgetMs: 20000 });
  if (jittedStep.traces !== 1) throw new Error(`the jitted step was traced ${jittedStep.traces} times, not once`);

  const rows = comparisonRows(["stratum jit"], besideCpu, besideWasm, losses);
  const jitRow = rows[0];
  if (jitRow === undefined) throw new Error("no row for the jitted step");
  printComparison(rows, compileMs);
  const vsWasm = jitRow.tfjsWasmOverThis;
  const bar = { jitFasterThanTfjsWasm: vsWasm > 1 };
  console.log(`bar: jit faster than tfjs-wasm: ${bar.jitFasterThanTfjsWasm ? "met" : "not met"} (${vsWasm.toFixed(2)}x)`);

  const results = {
    benchmark: "transformer encoder block, forward + backward",
    model: { dModel: D, heads: HEADS, ffn: FFN, activation: "gelu (tanh form)", norm: "pre-norm layer norms, eps 1e-5", sequence: T, batch: BATCH, dtype: "float32", loss: "mean(y²)", gradient: "all 16 parameter tensors, no update" },
    ...environment(tf.version.tfjs),
    tfjsWasm: wasmRan,
    jitCompileMs: compileMs,
    step0: { losses, lossDifference, gradDifference: differences },
    timing: "rounds of one step per side (ours beside tfjs-cpu, then beside tfjs-wasm), each step reading its loss back; msPerStep is the median over the timed rounds",
    ratios: RATIOS,
    results: rows,
    bar,
  };
  writeResults("transformer", results);
}

if (isEntryPoint(import.meta.url)) await main();
