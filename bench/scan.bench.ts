/**
 * `scan` under `jit` (issue 17): a small tanh recurrence
 * `h' = tanh(h W + x)`, `h: [16]`, `W: [16, 16]`, float32, over 10, 100 and
 * 1000 steps, as a `scan` and as the same steps unrolled in a JavaScript
 * loop (what a recurrent layer traced before `scan`).
 *
 * For each length and side: the first call of `jit(f)` (trace + compile +
 * run) and of `jit(grad(loss))` timed on their own, the number of equations
 * of each traced program, then the median of later calls (rounds of one call
 * per side, interleaved). Both sides must agree to 1e-5 first. Results go to
 * `bench/results/scan.json`. Run with
 * `npm run --silent compile && node .build/bench/scan.bench.js`.
 */

import { Tensor } from "../src/core/tensor.js";
import { add, matmul, slice, sum, tanh } from "../src/index.js";
import { grad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { scan } from "../src/transforms/scan.js";
import { check, median, normalData, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { environment, isEntryPoint, printTable, writeResults } from "./support/report.js";

const n = 16;
type V = Tensor<[16]>;
type M = Tensor<[16, 16]>;
type Xs = Tensor<[number, 16]>;

const byScan = (w: M, h: V, xs: Xs): V => scan((c: V, x: V) => [tanh(add(matmul(c, w), x)), [] as const] as const, h, xs)[0];

function unrolled(length: number) {
  return (w: M, h: V, xs: Xs): V => {
    let c = h;
    for (let t = 0; t < length; t++) c = tanh(add(matmul(c, w), slice(xs, [t])));
    return c;
  };
}

interface Row {
  readonly length: number;
  readonly side: string;
  readonly forwardFirstMs: number;
  readonly forwardEqns: number;
  readonly gradFirstMs: number;
  readonly gradEqns: number;
  readonly forwardMedianMs: number;
  readonly gradMedianMs: number;
}

function run(): void {
  const w = new Tensor([n, n], "float32", normalData(n * n, 0.9 / Math.sqrt(n), 1)) as M; // [16, 16] float32 by construction
  const h = new Tensor([n], "float32", randomData(n, 2)) as V; // [16] float32 by construction
  const rows: Row[] = [];
  for (const length of [10, 100, 1000]) {
    const xs = new Tensor([length, n], "float32", randomData(length * n, 3 + length)) as Xs; // [length, 16] float32 by construction
    const sides = { scan: byScan, unrolled: unrolled(length) };
    const measured: Record<string, { f: (w: M, h: V, xs: Xs) => V; g: (w: M, h: V, xs: Xs) => M; row: Omit<Row, "forwardMedianMs" | "gradMedianMs"> }> = {};
    const outs: Record<string, Float32Array> = {};
    for (const [side, body] of Object.entries(sides)) {
      const f = jit((w: M, h: V, xs: Xs) => body(w, h, xs));
      const g = jit(grad((w: M, h: V, xs: Xs) => sum(body(w, h, xs))));
      const t0 = performance.now();
      const y = f(w, h, xs);
      const forwardFirstMs = performance.now() - t0;
      const t1 = performance.now();
      g(w, h, xs);
      const gradFirstMs = performance.now() - t1;
      outs[side] = y.data as Float32Array; // a float32 result
      measured[side] = { f, g, row: { length, side, forwardFirstMs, forwardEqns: f.lastProgram?.eqns.length ?? 0, gradFirstMs, gradEqns: g.lastProgram?.eqns.length ?? 0 } };
    }
    check(`scan against unrolled, ${length} steps`, relativeDifference(outs["scan"] ?? new Float32Array(), outs["unrolled"] ?? new Float32Array(0)), 1e-5);
    const times = timeRounds(
      {
        scanForward: () => measured["scan"]?.f(w, h, xs).data[0] ?? 0,
        scanGrad: () => measured["scan"]?.g(w, h, xs).data[0] ?? 0,
        unrolledForward: () => measured["unrolled"]?.f(w, h, xs).data[0] ?? 0,
        unrolledGrad: () => measured["unrolled"]?.g(w, h, xs).data[0] ?? 0,
      },
      { warmup: 2, minRounds: 5, maxRounds: 50, budgetMs: 6000 },
    );
    for (const side of ["scan", "unrolled"] as const) {
      const m = measured[side];
      if (m === undefined) continue;
      rows.push({ ...m.row, forwardMedianMs: median(times[`${side}Forward`]), gradMedianMs: median(times[`${side}Grad`]) });
    }
  }
  printTable(
    ["steps", "side", "first call ms", "eqns", "grad first call ms", "grad eqns", "median ms", "grad median ms"],
    rows.map((r) => [String(r.length), r.side, r.forwardFirstMs.toFixed(0), String(r.forwardEqns), r.gradFirstMs.toFixed(0), String(r.gradEqns), r.forwardMedianMs.toFixed(2), r.gradMedianMs.toFixed(2)]),
  );
  writeResults("scan", {
    benchmark: "scan of a tanh recurrence h' = tanh(h W + x), h: [16], float32, against the same steps unrolled",
    ...environment("none"),
    note: "measured on a shared 2-core machine under load from other jobs; first calls include trace, fusion and WebAssembly compilation",
    rows,
  });
}

if (isEntryPoint(import.meta.url)) run();
