/**
 * The matmul-heavy training steps of `torch.bench.ts` (MLP, LSTM,
 * transformer), Stratum alone, at one thread count: for A/B runs of two
 * builds (`bench/mm-ab.mjs`).
 *
 * Usage: `node .build/bench/mm-steps.js THREADS MS [WORKLOAD...]` prints one
 * JSON line `{ workload: median ms }` after about MS ms of steps per workload
 * (after 3 warm-up steps). `bench/mm-ab.mjs` imports two builds' copies of
 * this module into one process and alternates their steps. Leaves out
 * PyTorch: `npm run bench:torch` compares.
 */

import { Tensor } from "../src/core/tensor.js";
import { mean, setThreads, square, threadsReady } from "../src/index.js";
import { lstm } from "../src/layers/recurrent.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import * as lstmBench from "./lstm.bench.js";
import * as mlp from "./mlp.bench.js";
import { median, timeRounds } from "./support/measure.js";
import * as transformer from "./transformer.bench.js";

function lstmStep(): () => number {
  const layer = lstm(lstmBench.INPUT, lstmBench.HIDDEN);
  const step = jit(valueAndGrad((p: lstmBench.Params, xs: lstmBench.Inputs): Tensor<[]> => mean(square(layer.apply(p, xs)))));
  const x: lstmBench.Inputs = new Tensor([lstmBench.BATCH, lstmBench.STEPS, lstmBench.INPUT], "float32", lstmBench.inputData.slice());
  const p = lstmBench.stratumParams();
  return () => step(p, x)[0].item();
}

function mlpStep(): () => number {
  const x: Tensor<[128, 784]> = new Tensor([mlp.BATCH, 784], "float32", mlp.inputData.slice());
  const y: Tensor<[128], "int32"> = new Tensor([mlp.BATCH], "int32", mlp.labelData.slice());
  let p = mlp.stratumParams();
  return () => {
    const { loss, params } = mlp.jittedStep(p, x, y);
    p = params;
    return loss.item();
  };
}

function transformerStep(): () => number {
  const x = new Tensor([transformer.BATCH, transformer.T, transformer.D], "float32", transformer.inputData.slice());
  const p = transformer.stratumParams();
  return () => transformer.jittedStep(p, x)[0].item();
}

/** The steps, each made on first call: one jitted step and its inputs per workload. */
export const steps: Record<string, () => () => number> = { mlp: mlpStep, lstm: lstmStep, transformer: transformerStep };

/** Sets this build's thread count and waits for its workers. */
export async function useThreads(n: number): Promise<void> {
  setThreads(n);
  await threadsReady();
}

if (process.argv[1]?.endsWith("mm-steps.js") === true) {
  const [threads = "1", budget = "3000", ...names] = process.argv.slice(2);
  await useThreads(Number(threads));
  const result: Record<string, number> = {};
  for (const name of names.length > 0 ? names : Object.keys(steps)) {
    const make = steps[name];
    if (make === undefined) throw new Error(`no workload ${name}`);
    const step = make();
    const times = timeRounds({ step }, { warmup: 3, minRounds: 10, maxRounds: 10000, budgetMs: Number(budget) }).step;
    result[name] = median(times);
  }
  console.log(JSON.stringify(result));
}
