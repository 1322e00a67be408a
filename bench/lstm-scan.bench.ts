/**
 * The LSTM's training step (issue 17) as one `scan` against the same steps
 * unrolled: `lstm(64, 128)` on a batch of 32 sequences of 32, 128 and 512
 * steps, float32, the mean of the last hidden state, `jit(valueAndGrad)`.
 * The two sides are the same layer with `unroll: 0` (always scan) and
 * `unroll: Infinity` (always unroll, the loop before scan). Both sides must
 * give the same loss and gradient; then the first call of each (trace +
 * compile + run) and its program's equation count, and the medians of
 * rounds of one call per side, interleaved. Results go to
 * `bench/results/lstm-scan.json`. Run with
 * `npm run --silent compile && node .build/bench/lstm-scan.bench.js` (`LSTM_SCAN_STEPS=32` for
 * one length).
 */

import { Tensor } from "../src/core/tensor.js";
import { mean } from "../src/index.js";
import { lstm, type LstmParams } from "../src/layers/recurrent.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { median, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { environment, isEntryPoint, writeResults } from "./support/report.js";

type Params = LstmParams<64, 128>;
const rows: Record<string, number | string>[] = [];
const params = (): Params => ({
  wx: new Tensor([64, 512], "float32", randomData(64 * 512, 31, 0.1)),
  wh: new Tensor([128, 512], "float32", randomData(128 * 512, 32, 0.1)),
  b: new Tensor([512], "float32", randomData(512, 33, 0.1)),
});
/** The sequence lengths to run: all three, or those listed in `LSTM_SCAN_STEPS` (e.g. `32,128`). */
const lengths = (process.env.LSTM_SCAN_STEPS ?? "32,128,512").split(",").map(Number);
function run(): void {
for (const T of lengths) {
  const x = new Tensor([32, T, 64], "float32", randomData(32 * T * 64, 34)) as Tensor<[32, number, 64]>;
  const a = lstm(64, 128, { returnSequences: false, unroll: 0 });
  const b = lstm(64, 128, { returnSequences: false, unroll: Infinity });
  const stepA = jit(valueAndGrad((p: Params, x: Tensor<[32, number, 64]>) => mean(a.apply(p, x))));
  const stepB = jit(valueAndGrad((p: Params, x: Tensor<[32, number, 64]>) => mean(b.apply(p, x))));
  const p = params();
  let t0 = performance.now();
  const [va, ga] = stepA(p, x);
  const firstA = performance.now() - t0;
  t0 = performance.now();
  const [vb, gb] = stepB(p, x);
  const firstB = performance.now() - t0;
  console.log(`T=${T} loss diff ${Math.abs((va.data[0] ?? 0) - (vb.data[0] ?? 0))} grad wh diff ${relativeDifference(ga.wh.data, gb.wh.data)}`);
  console.log(`T=${T} first call: scan ${firstA.toFixed(0)} ms (eqns ${stepA.lastProgram?.eqns.length}), unrolled ${firstB.toFixed(0)} ms (eqns ${stepB.lastProgram?.eqns.length})`);
  const times = timeRounds({ scan: () => stepA(p, x)[0].data[0] ?? 0, unrolled: () => stepB(p, x)[0].data[0] ?? 0 }, { warmup: 2, minRounds: 8, maxRounds: T > 100 ? 10 : 40, budgetMs: 20000 });
  console.log(`T=${T} median ms: scan ${median(times.scan).toFixed(2)}, unrolled ${median(times.unrolled).toFixed(2)}, scan/unrolled ${(median(times.scan) / median(times.unrolled)).toFixed(2)} (${times.scan.length} rounds)`);
  rows.push({
    steps: T,
    lossDifference: Math.abs((va.data[0] ?? 0) - (vb.data[0] ?? 0)),
    gradWhDifference: relativeDifference(ga.wh.data, gb.wh.data),
    scanFirstMs: firstA,
    unrolledFirstMs: firstB,
    scanEqns: stepA.lastProgram?.eqns.length ?? 0,
    unrolledEqns: stepB.lastProgram?.eqns.length ?? 0,
    scanMedianMs: median(times.scan),
    unrolledMedianMs: median(times.unrolled),
    rounds: times.scan.length,
  });
}
writeResults("lstm-scan", {
  benchmark: "LSTM 64-128, batch 32, jit(valueAndGrad), scan (unroll: 0) against unrolled (unroll: Infinity)",
  ...environment("none"),
  note: "shared 2-core machine loaded by other jobs: compare the ratios of interleaved rounds, not absolute times",
  rows,
});
}

if (isEntryPoint(import.meta.url)) run();
