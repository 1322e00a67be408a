/**
 * The LSTM's training step (issue 17) as one `scan` against the same steps
 * unrolled: `lstm(64, 128)` on a batch of 32 sequences of 32, 128 and 512
 * steps, float32, the mean of the last hidden state, `jit(valueAndGrad)`.
 * Three sides: the same layer with `unroll: 0, checkpoint: false` (always
 * scan, storing every residual), with `unroll: 0, checkpoint: true` (scan
 * storing only the state of each step, the layers' default)
 * and with `unroll: Infinity` (always unroll, the loop before scan). All
 * must give the same loss and gradient; then the first call of each
 * (trace + compile + run), its program's equation count, the bytes the
 * program's scans store for the backward pass (the forward scan's packed
 * result), and the medians of rounds of one call per side, interleaved.
 * Results go to `bench/results/lstm-scan.json`. Run with
 * `npm run --silent compile && node .build/bench/lstm-scan.bench.js`
 * (`LSTM_SCAN_STEPS=32` for one length).
 */

import { Tensor } from "../src/core/tensor.js";
import { shapeSize } from "../src/core/shape.js";
import { mean } from "../src/index.js";
import type { Program } from "../src/ir/program.js";
import { lstm, type LstmParams } from "../src/layers/recurrent.js";
import { jit } from "../src/transforms/jit.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { median, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { environment, isEntryPoint, writeResults } from "./support/report.js";

type Params = LstmParams<64, 128>;
type Input = Tensor<[32, number, 64]>;
const rows: Record<string, number | string>[] = [];
const params = (): Params => ({
  wx: new Tensor([64, 512], "float32", randomData(64 * 512, 31, 0.1)),
  wh: new Tensor([128, 512], "float32", randomData(128 * 512, 32, 0.1)),
  b: new Tensor([512], "float32", randomData(512, 33, 0.1)),
});
/** The sequence lengths to run: all three, or those listed in `LSTM_SCAN_STEPS` (e.g. `32,128`). */
const lengths = (process.env.LSTM_SCAN_STEPS ?? "32,128,512").split(",").map(Number);

/** The bytes of the forward scans' results in a program (what its backward scans read), in MB. */
function scanResultMB(p: Program | undefined): number {
  const forward = p?.eqns.filter((e) => e.prim === "scan" && !e.params.reverse) ?? [];
  return forward.reduce((n, e) => n + 4 * shapeSize(e.out.aval.shape), 0) / 2 ** 20;
}

function run(): void {
  for (const T of lengths) {
    const x = new Tensor([32, T, 64], "float32", randomData(32 * T * 64, 34)) as Input; // [32, T, 64] as built
    const sides = {
      scan: lstm(64, 128, { returnSequences: false, unroll: 0, checkpoint: false }),
      checkpointed: lstm(64, 128, { returnSequences: false, unroll: 0, checkpoint: true }),
      unrolled: lstm(64, 128, { returnSequences: false, unroll: Infinity }),
    };
    const steps = {
      scan: jit(valueAndGrad((p: Params, x: Input) => mean(sides.scan.apply(p, x)))),
      checkpointed: jit(valueAndGrad((p: Params, x: Input) => mean(sides.checkpointed.apply(p, x)))),
      unrolled: jit(valueAndGrad((p: Params, x: Input) => mean(sides.unrolled.apply(p, x)))),
    };
    const p = params();
    const first: Record<string, number> = {};
    const results = Object.fromEntries(
      Object.entries(steps).map(([name, step]) => {
        const t0 = performance.now();
        const out = step(p, x);
        first[name] = performance.now() - t0;
        return [name, out];
      }),
    );
    const [va, ga] = results.scan ?? [];
    const [vc, gc] = results.checkpointed ?? [];
    const [vb, gb] = results.unrolled ?? [];
    if (va === undefined || vb === undefined || vc === undefined || ga === undefined || gb === undefined || gc === undefined) throw new Error("a side gave no result");
    const lossDiff = Math.abs((va.data[0] ?? 0) - (vb.data[0] ?? 0));
    const gradDiff = relativeDifference(ga.wh.data, gb.wh.data);
    const checkpointDiff = Math.max(Math.abs((va.data[0] ?? 0) - (vc.data[0] ?? 0)), relativeDifference(ga.wh.data, gc.wh.data), relativeDifference(ga.wx.data, gc.wx.data));
    console.log(`T=${T} scan vs unrolled: loss diff ${lossDiff} grad wh diff ${gradDiff}; checkpointed vs scan: max diff ${checkpointDiff}`);
    const eqns = (name: keyof typeof steps): number => steps[name].lastProgram?.eqns.length ?? 0;
    console.log(`T=${T} first call ms: scan ${first.scan?.toFixed(0)} (eqns ${eqns("scan")}), checkpointed ${first.checkpointed?.toFixed(0)} (eqns ${eqns("checkpointed")}), unrolled ${first.unrolled?.toFixed(0)} (eqns ${eqns("unrolled")})`);
    const stored = { scan: scanResultMB(steps.scan.lastProgram), checkpointed: scanResultMB(steps.checkpointed.lastProgram) };
    console.log(`T=${T} forward scan results (stored for the backward pass): scan ${stored.scan.toFixed(2)} MB, checkpointed ${stored.checkpointed.toFixed(2)} MB`);
    const times = timeRounds(
      { scan: () => steps.scan(p, x)[0].data[0] ?? 0, checkpointed: () => steps.checkpointed(p, x)[0].data[0] ?? 0, unrolled: () => steps.unrolled(p, x)[0].data[0] ?? 0 },
      { warmup: 2, minRounds: 8, maxRounds: T > 100 ? 10 : 40, budgetMs: 30000 },
    );
    const [ms, mc, mu] = [median(times.scan), median(times.checkpointed), median(times.unrolled)];
    console.log(`T=${T} median ms: scan ${ms.toFixed(2)}, checkpointed ${mc.toFixed(2)}, unrolled ${mu.toFixed(2)}; scan/unrolled ${(ms / mu).toFixed(2)}, checkpointed/unrolled ${(mc / mu).toFixed(2)} (${times.scan.length} rounds)`);
    rows.push({
      steps: T,
      lossDifference: lossDiff,
      gradWhDifference: gradDiff,
      checkpointDifference: checkpointDiff,
      scanFirstMs: first.scan ?? 0,
      checkpointedFirstMs: first.checkpointed ?? 0,
      unrolledFirstMs: first.unrolled ?? 0,
      scanEqns: eqns("scan"),
      checkpointedEqns: eqns("checkpointed"),
      unrolledEqns: eqns("unrolled"),
      scanStoredMB: stored.scan,
      checkpointedStoredMB: stored.checkpointed,
      scanMedianMs: ms,
      checkpointedMedianMs: mc,
      unrolledMedianMs: mu,
      rounds: times.scan.length,
    });
  }
  writeResults("lstm-scan", {
    benchmark: "LSTM 64-128, batch 32, jit(valueAndGrad): scan storing residuals (unroll: 0, checkpoint: false), scan with checkpoint, unrolled (unroll: Infinity)",
    ...environment("none"),
    note: "shared 2-core machine loaded by other jobs: compare the ratios of interleaved rounds, not absolute times",
    rows,
  });
}

if (isEntryPoint(import.meta.url)) run();
