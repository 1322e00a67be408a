/**
 * Stratum against PyTorch at one thread, in the same run (issue 14, item 7).
 *
 * The workloads of issue 14's table, each as Stratum's jitted version beside
 * `bench/torch/workloads.py` run by Debian's PyTorch under `/usr/bin/python3`
 * (`torch.set_num_threads(1)`, `OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`):
 *
 * - matmul 1024 x 1024 x 1024 float32;
 * - conv 3x3 'same', 32 x 14 x 14 x 32 -> 64, forward (Stratum NHWC; PyTorch
 *   NCHW and channels-last);
 * - `gelu_tanh(x * a + b)` over x [4096, 1024] (4M float32), a and b [1024];
 * - the MLP 784-512-256-10 SGD step of `mlp.bench.ts` (batch 128);
 * - the CNN SGD step of `cnn.bench.ts` (conv32-pool-conv64-pool-dense,
 *   28x28x1, batch 64; PyTorch NCHW and channels-last);
 *   both SGD steps donate their parameters (`donatedStep`: the update is
 *   written over the old parameters, as PyTorch's `optimizer.step()` writes
 *   in place), since 2026-12-08;
 * - LSTM 64 -> 128, sequence 32, batch 32: forward and backward of the mean
 *   of h² over every step (the weights and input of `lstm.bench.ts`);
 * - the pre-norm transformer encoder block of `transformer.bench.ts` (d 128,
 *   4 heads, ff 512, sequence 64, batch 8), forward and backward of mean(y²).
 *
 * Both sides start from the same values: the runner writes Stratum's inputs
 * and weights to a temporary folder and the script converts layouts
 * (NHWC -> NCHW, HWIO -> OIHW, [in, out] -> [out, in], the CNN's dense rows
 * to NCHW flattening order). Before timing, each workload's math is compared:
 * the forward workloads' outputs (the script gets Stratum's output and
 * reports the largest difference relative to its largest magnitude), the SGD
 * steps' loss at step 0 and after the first update, and the forward +
 * backward workloads' loss and the norm of every gradient.
 *
 * Timing is in rounds, so that the load of a shared machine hits every side
 * alike: a round is `k` Stratum steps, `k` steps of each PyTorch variant
 * (one long-lived Python process per variant, asked for a round at a time)
 * and, where an existing bench already compares with TensorFlow.js and the
 * model is the same, `k` steps of tfjs-wasm (single-threaded XNNPACK) as a
 * second column, the order rotating from round to round. Every step reads a
 * value back. One untimed round first, then rounds until the workload's budget is
 * spent (between MIN_ROUNDS and MAX_ROUNDS); each side's figure is the
 * median of all its timed steps, and the ratio is median(Stratum) /
 * median(PyTorch): above 1, Stratum is slower; the quartiles of the same
 * ratio taken round by round show the noise. The load average before and
 * after each workload goes into the results.
 *
 * Results: `bench/results/torch.json` and `bench/results/torch.md`. Run with
 * `npm run bench:torch`.
 *
 * Threads (issue 15): every workload also runs with Stratum at 2 threads
 * (`setThreads`) and each PyTorch variant at 2 threads (`OMP_WAIT_POLICY=PASSIVE`),
 * as more sides of the same rounds; `bench/results/threads.md` keeps that
 * table (`TORCH_BENCH_THREADS=1,2` sets the counts; 1 alone skips it).
 *
 * Relaxed SIMD (issue 14, item 4): where the engine has it, the workloads
 * that are mostly matmul also run with the opt-in `setRelaxedSimd(true)` as
 * another side of the same rounds (`bench/results/relaxed.md`;
 * `TORCH_BENCH_RELAXED=0` leaves it out).
 *
 * Environment: `TORCH_BENCH_ONLY=mlp,cnn` runs some
 * workloads (and writes nothing), `TORCH_BENCH_STRATUM_ONLY=1` times Stratum
 * alone (for profiling; writes nothing), `TORCH_BENCH_BUDGET_MS` sets the
 * budget per workload (default 12000), `TORCH_BENCH_PYTHON` the interpreter
 * (default `/usr/bin/python3`). When the interpreter has no torch, the
 * bench says so and reports Stratum (and tfjs) alone.
 */

import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor } from "../src/core/tensor.js";
import { add, conv2d, gelu, getThreads, matmul, mean, mul, relaxedSimdSupport, setRelaxedSimd, setThreads, square } from "../src/index.js";
import { lstm } from "../src/layers/recurrent.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import * as cnn from "./cnn.bench.js";
import * as lstmBench from "./lstm.bench.js";
import * as mlp from "./mlp.bench.js";
import { median, quantile, randomData, setUpTfjs, timeRounds } from "./support/measure.js";
import { describeEnvironment, environment, printTable, writeResults, writeResultsFile } from "./support/report.js";
import type { TfSide } from "./support/side-by-side.js";
import { PYTHON, startTorch, torchStatus, writeTensors, type HostTensor, type TorchCheck, type TorchWorkload } from "./support/torch.js";
import * as transformer from "./transformer.bench.js";

const BUDGET_MS = Number(process.env["TORCH_BENCH_BUDGET_MS"] ?? "12000");
const ONLY = process.env["TORCH_BENCH_ONLY"]?.split(",").filter((s) => s !== "");
const STRATUM_ONLY = process.env["TORCH_BENCH_STRATUM_ONLY"] === "1";
/** The thread counts each side runs at; 1 is always among them (the one-thread table). */
const THREADS = [...new Set([1, ...(process.env["TORCH_BENCH_THREADS"] ?? "1,2").split(",").map(Number).filter((t) => Number.isInteger(t) && t >= 1)])];
/** A side's name in the rounds: its base name at one thread, `name@t` at t threads. */
const sideName = (base: string, threads: number): string => (threads === 1 ? base : `${base}@${threads}`);
/**
 * The workloads whose time is mostly the float32 matmul kernel, which the
 * opt-in relaxed SIMD changes (`setRelaxedSimd`): where the engine has it
 * (`npm run bench:torch` starts Node with its flag where needed) and
 * `TORCH_BENCH_RELAXED` is not 0, they also run a "Stratum relaxed" side at
 * every thread count, and `bench/results/relaxed.md` keeps that table.
 */
const RELAXED_WORKLOADS = new Set(["matmul", "mlp", "lstm", "transformer"]);
const RELAXED = process.env["TORCH_BENCH_RELAXED"] !== "0" && relaxedSimdSupport().available;
const MIN_ROUNDS = 5;
const MAX_ROUNDS = 30;
/** About how long one side's share of a round should take. */
const ROUND_MS = 250;
const OUTPUT_TOLERANCE = 1e-4;
const LOSS_TOLERANCE = 1e-4;
const GRAD_NORM_TOLERANCE = 1e-3;

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

/** What Stratum's step 0 gives for the comparison with the script's `TorchCheck`. */
interface StratumCheck {
  readonly loss0?: number;
  readonly loss1?: number;
  readonly gradNorms?: Readonly<Record<string, number>>;
}

/** A PyTorch variant of a workload: its column label and the script's workload name. */
interface TorchVariant {
  readonly label: string;
  readonly script: string;
}

/** A workload set up on the Stratum side, step 0 done. */
interface Workload {
  readonly key: string;
  readonly title: string;
  /** Floating-point operations per step, where the GFLOP/s figure means something. */
  readonly flops?: number;
  readonly torch: readonly TorchVariant[];
  /** What the script reads: inputs, weights, and `expect` (Stratum's output) for the forward workloads. */
  readonly tensors: Readonly<Record<string, HostTensor>>;
  /** One jitted Stratum step, reading a value back. */
  readonly stratum: () => number;
  readonly check: StratumCheck;
  /** The first call: trace, compile and run. */
  readonly compileMs: number;
  /** tfjs-wasm as a second column, or why there is none. */
  readonly tfjs: TfSide<unknown, unknown> | string;
}

/** A float32 host tensor of `shape` over `data`. */
const host = (shape: readonly number[], data: Float32Array | Int32Array): HostTensor => ({ shape, data });

/** The Euclidean norm of some values, summed in float64. */
function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] ?? 0) ** 2;
  return Math.sqrt(sum);
}

/** Times the first call of `f`: trace, compile and run under `jit`. */
function firstCall<T>(f: () => T): [T, number] {
  const start = performance.now();
  const out = f();
  return [out, performance.now() - start];
}

/** A tfjs side that runs `op` on inputs made from `make` (on the current backend) and reads one value back. */
function tfjsOp(make: () => tf.Tensor[], op: (inputs: tf.Tensor[]) => tf.Tensor): TfSide<unknown, unknown> {
  return {
    model: make,
    dispose: (m) => tf.dispose(m as tf.Tensor[]), // `model` made the list
    step: (m) => {
      const out = op(m as tf.Tensor[]); // `model` made the list
      const value = out.dataSync()[0] ?? Number.NaN;
      out.dispose();
      return value;
    },
  };
}

function matmulWorkload(): Workload {
  const n = 1024;
  const [aData, bData] = [randomData(n * n, 1), randomData(n * n, 2)];
  const a: Tensor<[1024, 1024]> = new Tensor([n, n], "float32", aData);
  const b: Tensor<[1024, 1024]> = new Tensor([n, n], "float32", bData);
  const mm = jit((x: Tensor<[1024, 1024]>, y: Tensor<[1024, 1024]>) => matmul(x, y));
  const [out, compileMs] = firstCall(() => mm(a, b));
  return {
    key: "matmul",
    title: "matmul 1024x1024 f32",
    flops: 2 * n ** 3,
    torch: [{ label: "PyTorch", script: "matmul" }],
    tensors: { a: host([n, n], aData), b: host([n, n], bData), expect: host([n, n], out.data) },
    stratum: () => mm(a, b).data[0] ?? Number.NaN,
    check: {},
    compileMs,
    tfjs: tfjsOp(() => [tf.tensor2d(aData, [n, n]), tf.tensor2d(bData, [n, n])], ([x, y]) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D)), // the two rank-2 inputs made here
  };
}

function convWorkload(): Workload {
  const [xData, wData] = [randomData(32 * 14 * 14 * 32, 3), randomData(3 * 3 * 32 * 64, 4)];
  const x: Tensor<[32, 14, 14, 32]> = new Tensor([32, 14, 14, 32], "float32", xData);
  const w: Tensor<[3, 3, 32, 64]> = new Tensor([3, 3, 32, 64], "float32", wData);
  const conv = jit((xs: Tensor<[32, 14, 14, 32]>, ws: Tensor<[3, 3, 32, 64]>) => conv2d(xs, ws, { padding: "same" }));
  const [out, compileMs] = firstCall(() => conv(x, w));
  return {
    key: "conv",
    title: "conv 3x3, 14x14x32 -> 64, batch 32, fwd",
    flops: 2 * 32 * 14 * 14 * 64 * 9 * 32,
    torch: [
      { label: "PyTorch", script: "conv-nchw" },
      { label: "PyTorch channels-last", script: "conv-cl" },
    ],
    tensors: { x: host(x.shape, xData), w: host(w.shape, wData), expect: host(out.shape, out.data) },
    stratum: () => conv(x, w).data[0] ?? Number.NaN,
    check: {},
    compileMs,
    tfjs: tfjsOp(
      () => [tf.tensor4d(xData, [32, 14, 14, 32]), tf.tensor4d(wData, [3, 3, 32, 64])],
      ([xs, ws]) => tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, 1, "same"), // the two rank-4 inputs made here
    ),
  };
}

function geluWorkload(): Workload {
  const [rows, cols] = [4096, 1024] as const;
  const [xData, aData, bData] = [randomData(rows * cols, 1, 3), randomData(cols, 2, 3), randomData(cols, 3, 3)];
  const x: Tensor<[4096, 1024]> = new Tensor([rows, cols], "float32", xData);
  const a: Tensor<[1024]> = new Tensor([cols], "float32", aData);
  const b: Tensor<[1024]> = new Tensor([cols], "float32", bData);
  const chain = jit((xs: Tensor<[4096, 1024]>, as: Tensor<[1024]>, bs: Tensor<[1024]>) => gelu(add(mul(xs, as), bs), { approximate: "tanh" }));
  const [out, compileMs] = firstCall(() => chain(x, a, b));
  return {
    key: "gelu",
    title: "gelu_tanh(x * a + b), 4M f32",
    torch: [{ label: "PyTorch", script: "gelu" }],
    tensors: { x: host(x.shape, xData), a: host(a.shape, aData), b: host(b.shape, bData), expect: host(out.shape, out.data) },
    stratum: () => chain(x, a, b).data[0] ?? Number.NaN,
    check: {},
    compileMs,
    tfjs: "not run here: fusion.bench.ts times tfjs on this chain",
  };
}

/** What `sgdWorkload` uses of an SGD-step bench module (`mlp.bench.ts`, `cnn.bench.ts`). */
interface SgdBench<P, X, Y, N extends string> {
  readonly jittedStep: (p: P, x: X, y: Y) => { readonly loss: Tensor<[], "float32">; readonly params: P };
  /** The step with its parameters donated: the one timed, since PyTorch's `optimizer.step()` updates in place too. */
  readonly donatedStep: (p: P, x: X, y: Y) => { readonly loss: Tensor<[], "float32">; readonly params: P };
  readonly loss: (p: P, x: X, y: Y) => Tensor<[], "float32">;
  readonly stratumParams: () => P;
  readonly PARAM_NAMES: readonly N[];
  readonly PARAM_SHAPES: Readonly<Record<N, readonly number[]>>;
  readonly initial: Readonly<Record<N, Float32Array>>;
  readonly inputData: Float32Array;
  readonly labelData: Int32Array;
}

/** An SGD step of `bench` on inputs `x` and labels `y` (holding copies of its data), training on from step 0. */
function sgdWorkload<P, X extends Tensor<readonly number[]>, Y extends Tensor<readonly number[], "int32">, N extends string>(
  bench: SgdBench<P, X, Y, N>,
  x: X,
  y: Y,
  about: Pick<Workload, "key" | "title" | "torch" | "tfjs">,
): Workload {
  const [first, compileMs] = firstCall(() => bench.jittedStep(bench.stratumParams(), x, y));
  let params = first.params;
  const tensors: Record<string, HostTensor> = { x: host(x.shape, bench.inputData), y: host(y.shape, bench.labelData) };
  for (const n of bench.PARAM_NAMES) tensors[n] = host(bench.PARAM_SHAPES[n], bench.initial[n]);
  return {
    ...about,
    tensors,
    stratum: () => {
      const out = bench.donatedStep(params, x, y);
      params = out.params;
      return out.loss.item();
    },
    check: { loss0: first.loss.item(), loss1: bench.loss(first.params, x, y).item() },
    compileMs,
  };
}

function mlpWorkload(): Workload {
  const x: Tensor<[128, 784]> = new Tensor([mlp.BATCH, 784], "float32", mlp.inputData.slice());
  const y: Tensor<[128], "int32"> = new Tensor([mlp.BATCH], "int32", mlp.labelData.slice());
  return sgdWorkload(mlp, x, y, {
    key: "mlp",
    title: "MLP 784-512-256-10, batch 128, SGD step",
    torch: [{ label: "PyTorch", script: "mlp" }],
    // the side of mlp.bench.ts, typed by its model and gradients; this bench only calls it through TfSide's methods
    tfjs: mlp.tfSide as TfSide<unknown, unknown>,
  });
}

function cnnWorkload(): Workload {
  const x: Tensor<[64, 28, 28, 1]> = new Tensor([cnn.BATCH, 28, 28, 1], "float32", cnn.inputData.slice());
  const y: Tensor<[64], "int32"> = new Tensor([cnn.BATCH], "int32", cnn.labelData.slice());
  return sgdWorkload(cnn, x, y, {
    key: "cnn",
    title: "CNN conv32-pool-conv64-pool-dense, 28x28x1, batch 64, SGD step",
    torch: [
      { label: "PyTorch", script: "cnn-nchw" },
      { label: "PyTorch channels-last", script: "cnn-cl" },
    ],
    tfjs: "not run: tfjs-wasm has no conv filter gradient, and a tfjs-cpu step takes most of a minute (cnn.bench.ts)",
  });
}

function lstmWorkload(): Workload {
  const layer = lstm(lstmBench.INPUT, lstmBench.HIDDEN);
  const step = jit(valueAndGrad((p: lstmBench.Params, xs: lstmBench.Inputs): Tensor<[]> => mean(square(layer.apply(p, xs)))));
  const x: lstmBench.Inputs = new Tensor([lstmBench.BATCH, lstmBench.STEPS, lstmBench.INPUT], "float32", lstmBench.inputData.slice());
  const p = lstmBench.stratumParams();
  const [[loss0, grads], compileMs] = firstCall(() => step(p, x));
  const tensors: Record<string, HostTensor> = { x: host(x.shape, lstmBench.inputData) };
  for (const n of ["wx", "wh", "b"] as const) tensors[n] = host(lstmBench.SHAPES[n], lstmBench.initial[n]);
  return {
    key: "lstm",
    title: "LSTM 64->128, seq 32, batch 32, fwd+bwd of mean(h^2)",
    torch: [{ label: "PyTorch", script: "lstm" }],
    tensors,
    stratum: () => step(p, x)[0].item(),
    check: { loss0: loss0.item(), gradNorms: { wx: norm(grads.wx.data), wh: norm(grads.wh.data), b: norm(grads.b.data) } },
    compileMs,
    tfjs: "not run: lstm.bench.ts times tfjs on a different loss (the mean of the last h)",
  };
}

function transformerWorkload(): Workload {
  const x = new Tensor([transformer.BATCH, transformer.T, transformer.D], "float32", transformer.inputData.slice());
  const p = transformer.stratumParams();
  const [[loss0, grads], compileMs] = firstCall(() => transformer.jittedStep(p, x));
  const tensors: Record<string, HostTensor> = { x: host(x.shape, transformer.inputData) };
  const gradNorms: Record<string, number> = {};
  for (const n of transformer.PARAM_NAMES) {
    tensors[n] = host(transformer.PARAMS[n].shape, transformer.initial[n]);
    gradNorms[n] = norm(transformer.byName(grads, n).data);
  }
  return {
    key: "transformer",
    title: "pre-norm transformer block, d 128, 4 heads, ff 512, seq 64, batch 8, fwd+bwd",
    torch: [{ label: "PyTorch", script: "transformer" }],
    tensors,
    stratum: () => transformer.jittedStep(p, x)[0].item(),
    check: { loss0: loss0.item(), gradNorms },
    compileMs,
    // the side of transformer.bench.ts, typed by its model and gradients; this bench only calls it through TfSide's methods
    tfjs: transformer.tfSide as TfSide<unknown, unknown>,
  };
}

const WORKLOADS: Record<string, () => Workload> = {
  matmul: matmulWorkload,
  conv: convWorkload,
  gelu: geluWorkload,
  mlp: mlpWorkload,
  cnn: cnnWorkload,
  lstm: lstmWorkload,
  transformer: transformerWorkload,
};

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** One comparison of a workload's math between Stratum and a PyTorch variant. */
interface Comparison {
  readonly what: string;
  readonly stratum: number | null;
  readonly torch: number | null;
  /** |difference|, relative to |torch| for losses and norms; for outputs, the script's relative difference. */
  readonly difference: number;
  readonly tolerance: number;
  readonly passed: boolean;
}

function compare(what: string, stratum: number | null, torch: number | null, difference: number, tolerance: number): Comparison {
  return { what, stratum, torch, difference, tolerance, passed: difference <= tolerance };
}

/** Stratum's step 0 against the script's: outputs, losses, gradient norms. */
function comparisons(ours: StratumCheck, theirs: TorchCheck): Comparison[] {
  const out: Comparison[] = [];
  const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
  if (theirs.outputDifference !== undefined) out.push(compare("output, relative to its largest magnitude", null, null, theirs.outputDifference, OUTPUT_TOLERANCE));
  for (const key of ["loss0", "loss1"] as const) {
    const [a, b] = [ours[key], theirs[key]];
    if (a !== undefined && b !== undefined) out.push(compare(key === "loss0" ? "loss at step 0" : "loss after the first SGD update", a, b, relative(a, b), LOSS_TOLERANCE));
  }
  for (const [name, b] of Object.entries(theirs.gradNorms ?? {})) {
    const a = ours.gradNorms?.[name];
    if (a === undefined) continue;
    // NOTE: the key bias's gradient is 0 in exact arithmetic (softmax ignores a per-row shift): both sides hold rounding noise, compared by size only.
    const noise = name === "mha.bk";
    out.push(compare(`|grad ${name}|${noise ? " (rounding noise, not checked)" : ""}`, a, b, relative(a, b), noise ? Number.POSITIVE_INFINITY : GRAD_NORM_TOLERANCE));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rounds
// ---------------------------------------------------------------------------

/** A side's step times (ms) over the timed rounds. */
type Times = Record<string, number[]>;

/** `k` timed steps of `step` (no warm-up), through `timeRounds`. */
function timeSteps(step: () => number, k: number): number[] {
  return timeRounds({ side: step }, { warmup: 0, minRounds: k, maxRounds: k, budgetMs: 0 }).side;
}

/**
 * Rounds of `k` steps of Stratum and of each PyTorch variant, and `tfjs.k`
 * steps of tfjs (fewer where it is much slower, so that it does not take up
 * the budget), the order rotating from round to round. One untimed round first. Returns
 * every side's step times and the median of each of its rounds.
 */
async function rounds(w: Workload, torch: readonly TorchWorkload[], tfjs: { readonly step: () => number; readonly k: number } | undefined, k: number): Promise<{ times: Times; roundMedians: Times; rounds: number }> {
  const sides: { readonly name: string; readonly run: () => Promise<number[]> }[] = [
    ...THREADS.map((threads) => ({
      name: sideName("stratum", threads),
      run: async () => {
        setThreads(threads);
        setRelaxedSimd(false); // the default kernels, also where STRATUM_RELAXED_SIMD=1 made relaxed SIMD the default
        return timeSteps(w.stratum, k);
      },
    })),
    ...(RELAXED && RELAXED_WORKLOADS.has(w.key) ? THREADS : []).map((threads) => ({
      name: sideName("stratum-relaxed", threads),
      run: async () => {
        setThreads(threads);
        setRelaxedSimd(true);
        try {
          return timeSteps(w.stratum, k);
        } finally {
          setRelaxedSimd(false);
        }
      },
    })),
    ...torch.map((t) => ({ name: sideName(t.workload, t.threads), run: () => t.run(k) })),
    ...(tfjs === undefined ? [] : [{ name: "tfjs", run: async () => timeSteps(tfjs.step, tfjs.k) }]),
  ];
  const times: Times = Object.fromEntries(sides.map((s): [string, number[]] => [s.name, []]));
  const roundMedians: Times = Object.fromEntries(sides.map((s): [string, number[]] => [s.name, []]));
  const round = async (r: number, record: boolean): Promise<void> => {
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(r + i) % sides.length];
      if (side === undefined) continue;
      const ms = await side.run();
      if (!record) continue;
      times[side.name]?.push(...ms);
      roundMedians[side.name]?.push(median(ms));
    }
  };
  await round(0, false);
  const start = performance.now();
  let count = 0;
  while (count < MIN_ROUNDS || (count < MAX_ROUNDS && performance.now() - start < BUDGET_MS)) {
    await round(count + 1, true);
    count++;
  }
  return { times, roundMedians, rounds: count };
}

/** The quartiles of the per-round ratios median(Stratum) / median(other side) over the same rounds. */
function ratioQuartiles(roundMedians: Times, other: string): [number, number] {
  const ours = roundMedians["stratum"] ?? [];
  const theirs = roundMedians[other] ?? [];
  const ratios = ours.map((ms, i) => ms / (theirs[i] ?? Number.NaN));
  return [quantile(ratios, 0.25), quantile(ratios, 0.75)];
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

/** A workload's figures as the results record them. */
interface Row {
  readonly key: string;
  readonly title: string;
  readonly stepsPerRound: number;
  readonly rounds: number;
  readonly stratumMs: number;
  readonly stratumGflops: number | null;
  readonly jitFirstCallMs: number;
  /** Per PyTorch variant: median ms and median(Stratum) / median(PyTorch). */
  readonly torch: readonly { readonly label: string; readonly script: string; readonly ms: number; readonly stratumOverTorch: number; readonly perRoundRatioQuartiles: readonly [number, number]; readonly gflops: number | null }[];
  readonly tfjsWasm: { readonly ms: number; readonly stratumOverTfjs: number; readonly stepsPerRound: number } | { readonly skipped: string };
  readonly checks: Readonly<Record<string, readonly Comparison[]>>;
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  /** Per thread count: Stratum's (default, and relaxed SIMD where it ran) and each PyTorch variant's median ms. */
  readonly threads: readonly { readonly threads: number; readonly stratumMs: number; readonly relaxedMs: number | null; readonly torch: readonly { readonly label: string; readonly ms: number }[] }[];
}

async function runWorkload(make: () => Workload, useTorch: boolean, useTfjs: boolean, dir: string): Promise<Row> {
  const before = loadavg();
  const w = make();
  console.log(`\n${w.title}: jit first call ${w.compileMs.toFixed(0)} ms`);
  const torch: TorchWorkload[] = [];
  const checks: Record<string, Comparison[]> = {};
  if (useTorch) {
    const prefix = writeTensors(dir, w.key, w.tensors);
    for (const v of w.torch) {
      for (const threads of THREADS) {
        const t = await startTorch(v.script, prefix, threads);
        torch.push(t);
        checks[sideName(v.script, threads)] = comparisons(w.check, t.check);
      }
      for (const c of checks[v.script] ?? []) {
        const values = c.stratum === null ? "" : ` stratum ${c.stratum.toPrecision(7)}, torch ${c.torch?.toPrecision(7) ?? "-"};`;
        console.log(`  ${v.script}: ${c.what}:${values} difference ${c.difference.toExponential(2)}${c.passed ? "" : `  CHECK FAILED (tolerance ${c.tolerance})`}`);
      }
    }
  }
  let tfjsModel: unknown;
  const tfjsSide = useTfjs && typeof w.tfjs !== "string" ? w.tfjs : undefined;
  if (tfjsSide !== undefined) tfjsModel = tfjsSide.model();
  const tfjsStep = tfjsSide === undefined ? undefined : (): number => tfjsSide.step(tfjsModel);
  // Steps per round from one warm step: Stratum's for Stratum and PyTorch, tfjs's own for tfjs.
  const stepsPerRound = (step: () => number): number => Math.max(1, Math.min(50, Math.round(ROUND_MS / Math.max(firstCall(step)[1], 0.01))));
  const k = stepsPerRound(w.stratum);
  const tfjs = tfjsStep === undefined ? undefined : { step: tfjsStep, k: Math.min(k, stepsPerRound(tfjsStep)) };
  const { times, roundMedians, rounds: count } = await rounds(w, torch, tfjs, k);
  for (const t of torch) t.close();
  if (tfjsSide !== undefined) tfjsSide.dispose(tfjsModel);
  const stratumMs = median(times["stratum"] ?? []);
  const gflops = (ms: number): number | null => (w.flops === undefined ? null : w.flops / ms / 1e6);
  const tfjsMs = median(times["tfjs"] ?? []);
  const row: Row = {
    key: w.key,
    title: w.title,
    stepsPerRound: k,
    rounds: count,
    stratumMs,
    stratumGflops: gflops(stratumMs),
    jitFirstCallMs: w.compileMs,
    torch: w.torch.flatMap((v) => {
      const ts = times[v.script];
      if (ts === undefined) return [];
      const ms = median(ts);
      return [{ label: v.label, script: v.script, ms, stratumOverTorch: stratumMs / ms, perRoundRatioQuartiles: ratioQuartiles(roundMedians, v.script), gflops: gflops(ms) }];
    }),
    tfjsWasm: tfjs === undefined ? { skipped: typeof w.tfjs === "string" ? w.tfjs : "not run" } : { ms: tfjsMs, stratumOverTfjs: stratumMs / tfjsMs, stepsPerRound: tfjs.k },
    checks,
    loadAverage: { before, after: loadavg() },
    threads: THREADS.map((threads) => ({
      threads,
      stratumMs: median(times[sideName("stratum", threads)] ?? []),
      relaxedMs: times[sideName("stratum-relaxed", threads)] === undefined ? null : median(times[sideName("stratum-relaxed", threads)] ?? []),
      torch: w.torch.map((v) => ({ label: v.label, ms: median(times[sideName(v.script, threads)] ?? []) })),
    })),
  };
  const others = [...row.torch.map((t) => `${t.label} ${t.ms.toFixed(2)} ms (stratum / torch ${t.stratumOverTorch.toFixed(2)}x, per round ${t.perRoundRatioQuartiles.map((q) => q.toFixed(2)).join(" to ")})`), ..."ms" in row.tfjsWasm ? [`tfjs-wasm ${row.tfjsWasm.ms.toFixed(2)} ms`] : []];
  console.log(`  ${count} rounds of ${k} steps: ${[`stratum ${stratumMs.toFixed(2)} ms`, ...others, `load ${row.loadAverage.after.map((l) => l.toFixed(2)).join(" ")}`].join("; ")}`);
  for (const t of row.threads.filter((r) => r.relaxedMs !== null)) console.log(`  relaxed SIMD at ${t.threads} thread(s): stratum ${(t.relaxedMs ?? Number.NaN).toFixed(2)} ms (default ${t.stratumMs.toFixed(2)} ms)`);
  for (const t of row.threads.filter((r) => r.threads > 1)) console.log(`  ${t.threads} threads: stratum ${t.stratumMs.toFixed(2)} ms; ${t.torch.map((v) => `${v.label} ${v.ms.toFixed(2)} ms`).join("; ")}`);
  return row;
}

/** The results as a markdown table. */
function markdown(rows: readonly Row[], header: string): string {
  const fmt = (ms: number, gflops: number | null): string => `${ms.toFixed(2)} ms${gflops === null ? "" : ` (${gflops.toFixed(1)} GFLOP/s)`}`;
  const lines = [
    header,
    "",
    "| workload | Stratum jit | PyTorch 1T | Stratum / PyTorch | PyTorch 1T channels-last | tfjs-wasm 1T | step-0 checks | rounds x steps | load before / after |",
    "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ...rows.map((r) => {
      const [first, second] = r.torch;
      const allChecks = Object.values(r.checks).flat().filter((c) => Number.isFinite(c.tolerance));
      const checked = allChecks.length === 0 ? "not compared" : allChecks.every((c) => c.passed) ? `${allChecks.length} passed` : `FAILED ${allChecks.filter((c) => !c.passed).length}`;
      return [
        r.title,
        fmt(r.stratumMs, r.stratumGflops),
        first === undefined ? "-" : fmt(first.ms, first.gflops),
        first === undefined ? "-" : `${first.stratumOverTorch.toFixed(2)}x (${first.perRoundRatioQuartiles.map((q) => q.toFixed(2)).join("-")})`,
        second === undefined ? "-" : `${second.ms.toFixed(2)} ms (${second.stratumOverTorch.toFixed(2)}x)`,
        "ms" in r.tfjsWasm ? `${r.tfjsWasm.ms.toFixed(2)} ms` : "-",
        checked,
        `${r.rounds} x ${r.stepsPerRound}`,
        `${(r.loadAverage.before[0] ?? Number.NaN).toFixed(1)} / ${(r.loadAverage.after[0] ?? Number.NaN).toFixed(1)}`,
      ].join(" | ");
    }).map((line) => `| ${line} |`),
    "",
    "Medians of per-step times over interleaved rounds (every round: k steps of Stratum and of each PyTorch variant, and as many of tfjs-wasm or fewer, the order rotating). Stratum / PyTorch above 1x means Stratum is slower; in brackets, the quartiles of the same ratio taken round by round (the noise); the channels-last column's ratio is Stratum / PyTorch channels-last. Step-0 checks: forward workloads compare outputs (max |diff| / max |Stratum| <= 1e-4), SGD steps the loss at step 0 and after the first update (relative 1e-4), forward + backward workloads the loss and every gradient's norm (relative 1e-3; the transformer's key-bias gradient, 0 in exact arithmetic, is reported but not checked); the details are in torch.json. Load: the 1-minute load average of the machine (2 logical cores) before and after the workload. GFLOP/s: 2mnk for matmul, the direct convolution's multiply-adds x 2 for conv (an effective rate: PyTorch's convolution may use another algorithm, so it can exceed the core's peak).",
    "",
  ];
  return lines.join("\n");
}

/** The thread-count table (issue 15): each workload at one thread and at each larger count, Stratum and PyTorch. */
function threadsMarkdown(rows: readonly Row[], header: string): string {
  const counts = THREADS.filter((t) => t > 1);
  const ms = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "-" : `${x.toFixed(2)} ms`);
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !Number.isFinite(a / b) ? "-" : `${(a / b).toFixed(2)}x`);
  const lines = [
    header,
    "",
    `| workload | Stratum 1T | ${counts.map((t) => `Stratum ${t}T | Stratum 1T / ${t}T`).join(" | ")} | PyTorch 1T | ${counts.map((t) => `PyTorch ${t}T | Stratum ${t}T / PyTorch ${t}T | Stratum ${t}T / PyTorch 1T`).join(" | ")} | load before / after |`,
    `|---|---:|${counts.map(() => "---:|---:").join("|")}|---:|${counts.map(() => "---:|---:|---:").join("|")}|---:|`,
    ...rows.map((r) => {
      const at = (t: number): Row["threads"][number] | undefined => r.threads.find((x) => x.threads === t);
      const one = at(1);
      const torch1 = one?.torch[0]?.ms;
      const cells = [
        r.title,
        ms(one?.stratumMs),
        ...counts.flatMap((t) => [ms(at(t)?.stratumMs), ratio(one?.stratumMs, at(t)?.stratumMs)]),
        ms(torch1),
        ...counts.flatMap((t) => [ms(at(t)?.torch[0]?.ms), ratio(at(t)?.stratumMs, at(t)?.torch[0]?.ms), ratio(at(t)?.stratumMs, torch1)]),
        `${(r.loadAverage.before[0] ?? Number.NaN).toFixed(1)} / ${(r.loadAverage.after[0] ?? Number.NaN).toFixed(1)}`,
      ];
      return `| ${cells.join(" | ")} |`;
    }),
    "",
    "Medians of per-step times over the same interleaved rounds as torch.md (every side of a round runs k steps; Stratum's thread count is set with setThreads before its steps; PyTorch runs one process per variant and thread count, with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and torch.set_num_threads at that count and OMP_WAIT_POLICY=PASSIVE above one). Stratum 1T / NT above 1x: Stratum is faster at N threads; Stratum NT / PyTorch NT above 1x: Stratum is slower. The machine is shared (2 logical cores, other jobs running): the load column is the 1-minute load average before and after the workload, and with a load above 2 a second thread often has no core to run on.",
    "",
  ];
  return lines.join("\n");
}

/** The relaxed-SIMD table: the default kernels against the opt-in relaxed ones, and PyTorch, at each thread count. */
function relaxedMarkdown(rows: readonly Row[], header: string): string {
  const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "-" : `${x.toFixed(2)} ms`);
  const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a / b) ? "-" : `${(a / b).toFixed(2)}x`);
  const lines = [
    header,
    "",
    "| workload | threads | Stratum default | Stratum relaxed | default / relaxed | PyTorch | relaxed / PyTorch | GFLOP/s relaxed |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.flatMap((r) =>
      r.threads
        .filter((t) => t.relaxedMs !== null)
        .map((t) => {
          const torchMs = t.torch[0]?.ms;
          const flops = r.stratumGflops === null ? "-" : ((r.stratumGflops * r.stratumMs) / (t.relaxedMs ?? Number.NaN)).toFixed(1);
          return `| ${[r.title, `${t.threads}`, ms(t.stratumMs), ms(t.relaxedMs), ratio(t.stratumMs, t.relaxedMs), ms(torchMs), ratio(t.relaxedMs, torchMs), flops].join(" | ")} |`;
        }),
    ),
    "",
    "Medians over the same interleaved rounds as torch.md and threads.md. Relaxed SIMD is the opt-in `setRelaxedSimd(true)`: the matmul micro-kernel's multiply-adds as `f32x4.relaxed_madd` (fused where the CPU has FMA), the same loops and order of sums; default / relaxed above 1x means the relaxed kernel is faster. PyTorch runs at the row's thread count. Node 20 runs it with `--experimental-wasm-relaxed-simd` (`npm run bench:torch` passes the flag where Node accepts it).",
    "",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const defaultThreads = getThreads();
  const keys = ONLY ?? Object.keys(WORKLOADS);
  const status: ReturnType<typeof torchStatus> = STRATUM_ONLY ? { available: false, reason: "TORCH_BENCH_STRATUM_ONLY=1" } : torchStatus();
  const wasmRan = STRATUM_ONLY ? "not run" : await setUpTfjs(tf);
  if (!STRATUM_ONLY) await tf.setBackend("wasm");
  const env = environment(tf.version.tfjs);
  console.log(describeEnvironment(env));
  console.log(status.available ? `PyTorch ${status.version} (${status.blas}) at ${PYTHON}, one thread` : `PyTorch is not available (${status.reason}): reporting Stratum${STRATUM_ONLY ? "" : " and tfjs-wasm"} alone`);
  console.log(`tfjs-wasm: ${wasmRan}; load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const dir = mkdtempSync(join(tmpdir(), "stratum-torch-"));
  const rows: Row[] = [];
  try {
    for (const key of keys) {
      const make = WORKLOADS[key];
      if (make === undefined) throw new Error(`no workload ${key}: ${Object.keys(WORKLOADS).join(", ")}`);
      rows.push(await runWorkload(make, status.available, !STRATUM_ONLY, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  printTable(
    ["workload", "stratum ms", "torch ms", "stratum / torch", "torch channels-last ms", "tfjs-wasm ms"],
    rows.map((r) => [r.key, r.stratumMs.toFixed(2), r.torch[0]?.ms.toFixed(2) ?? "-", r.torch[0] === undefined ? "-" : `${r.torch[0].stratumOverTorch.toFixed(2)}x`, r.torch[1]?.ms.toFixed(2) ?? "-", "ms" in r.tfjsWasm ? r.tfjsWasm.ms.toFixed(2) : "-"]),
  );
  const failed = rows.flatMap((r) => Object.entries(r.checks).flatMap(([script, cs]) => cs.filter((c) => !c.passed).map((c) => `${script}: ${c.what}`)));
  const compared = rows.some((r) => Object.keys(r.checks).length > 0);
  console.log(!compared ? "\nstep-0 checks: none (no PyTorch side)" : failed.length === 0 ? "\nstep-0 checks: all passed" : `\nstep-0 checks FAILED: ${failed.join("; ")}`);
  if (ONLY !== undefined || STRATUM_ONLY) return; // a partial run: nothing written

  const torchLine = status.available ? `PyTorch ${status.version} (${status.blas}), 1 thread` : `PyTorch not available (${status.reason})`;
  const results = {
    benchmark: "Stratum against PyTorch, one thread (issue 14's table)",
    ...env,
    torch: status,
    tfjsWasm: wasmRan,
    loadAverageAtEnd: loadavg(),
    timing: `rounds of k steps of Stratum and of each PyTorch variant (k such that Stratum's share of a round is about ${ROUND_MS} ms) and of min(k, the count that makes its share about ${ROUND_MS} ms) tfjs-wasm steps, the order rotating; one untimed round first, then ${MIN_ROUNDS} to ${MAX_ROUNDS} timed rounds within ${BUDGET_MS} ms; every step reads a value back; figures are medians of per-step times`,
    ratios: "stratumOverTorch = median(Stratum) / median(PyTorch variant) over the same rounds: above 1, Stratum is slower; perRoundRatioQuartiles are the 25th and 75th percentiles of median(Stratum round) / median(PyTorch round), round by round",
    compared:
      "before timing: forward workloads compare outputs (the script gets Stratum's output and reports max |diff| / max |Stratum|), SGD steps compare the loss at step 0 and after the first update, forward + backward workloads compare the loss and each gradient's norm; both sides start from the same inputs and weights (written by the runner, layouts converted by the script)",
    failedChecks: failed,
    results: rows,
  };
  writeResults("torch", results);
  const header = `# Stratum against PyTorch, one thread\n\n${env.date}; node ${env.node}, ${env.cpu} (${env.logicalCores} logical cores, shared); ${torchLine}; tfjs ${env.tfjs} wasm: ${wasmRan}. Load average (1, 5, 15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}; per workload in torch.json.`;
  writeResultsFile("torch.md", markdown(rows, header));
  if (THREADS.length > 1) {
    const threadsHeader = `# Stratum and PyTorch at ${THREADS.join(" and ")} threads\n\n${env.date}; node ${env.node}, ${env.cpu} (${env.logicalCores} logical cores, shared); ${status.available ? `PyTorch ${status.version} (${status.blas})` : `PyTorch not available (${status.reason})`}; Stratum's default thread count here ${defaultThreads}. Load average (1, 5, 15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}.`;
    writeResultsFile("threads.md", threadsMarkdown(rows, threadsHeader));
  }
  if (RELAXED) {
    const relaxedHeader = `# Relaxed SIMD (opt-in) against the default kernels and PyTorch\n\n${env.date}; node ${env.node}, ${env.cpu} (${env.logicalCores} logical cores, shared); ${torchLine}. Load average (1, 5, 15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}.`;
    writeResultsFile("relaxed.md", relaxedMarkdown(rows, relaxedHeader));
  }
}

await main();
