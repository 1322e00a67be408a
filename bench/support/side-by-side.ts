/**
 * Stratum beside TensorFlow.js: step 0 of the tfjs model on both backends
 * (its losses and gradients, for the checks), our sides timed in rounds
 * beside one tfjs backend at a time, and the rows of medians and ratios that
 * come out. The rounds put our sides beside tfjs-cpu and then beside
 * tfjs-wasm, because tfjs backends cannot interleave (switching moves the
 * variables); each ratio compares medians of the same rounds.
 */

import { median, timeRounds, type Rounds } from "./measure.js";
import { printTable } from "./report.js";

/** A TensorFlow.js backend that a benchmark runs beside. */
export type Backend = "cpu" | "wasm";

/** The part of TensorFlow.js that the rounds use. */
export interface TfBackends {
  setBackend(name: string): Promise<boolean>;
  memory(): { readonly numTensors: number };
}

/** A model written with tfjs ops, with gradients `G`: made on the current backend, stepped, disposed. */
export interface TfSide<M, G> {
  model(): M;
  dispose(m: M): void;
  /** One step (or pass) of `m`; returns its loss, read back. `inspect` sees the gradients. */
  step(m: M, inspect?: (grads: G) => void): number;
}

/** Step 0 on tfjs-cpu and then tfjs-wasm, each on a fresh model: the losses and the gradients. */
export async function tfjsStepZero<M, G>(tf: TfBackends, side: TfSide<M, G>): Promise<{ losses: Record<"tfjs-cpu" | "tfjs-wasm", number>; grads: Record<Backend, G> }> {
  const losses = { "tfjs-cpu": Number.NaN, "tfjs-wasm": Number.NaN };
  const grads: Partial<Record<Backend, G>> = {};
  for (const backend of ["cpu", "wasm"] as const) {
    await tf.setBackend(backend);
    const m = side.model();
    losses[`tfjs-${backend}`] = side.step(m, (g) => (grads[backend] = g));
    side.dispose(m);
  }
  const { cpu, wasm } = grads;
  if (cpu === undefined || wasm === undefined) throw new Error("tfjs gave no gradients at step 0");
  return { losses, grads: { cpu, wasm } };
}

/**
 * Our sides in rounds (`timeRounds`) with one step of a fresh tfjs model on
 * `backend`, which must not leak tensors. Returns the step times of each
 * side, tfjs's under `tfjs`.
 */
export async function timeBeside<M, G, K extends string>(tf: TfBackends, backend: Backend, side: TfSide<M, G>, ours: Record<K, () => number>, rounds: Rounds): Promise<Record<K | "tfjs", number[]>> {
  await tf.setBackend(backend);
  const m = side.model();
  const before = tf.memory().numTensors;
  const steps: Record<K | "tfjs", () => number> = { ...ours, tfjs: () => side.step(m) };
  const times = timeRounds(steps, rounds);
  if (tf.memory().numTensors !== before) throw new Error(`tfjs ${backend} leaked ${tf.memory().numTensors - before} tensors`);
  side.dispose(m);
  return times;
}

/** One side's figures: medians in ms per step over all its rounds and within each backend's rounds, and time(tfjs) / time(this side). */
export interface ComparisonRow<Side extends string> {
  readonly side: Side;
  readonly msPerStep: number;
  readonly runs: number;
  readonly tfjsCpuOverThis: number;
  readonly tfjsWasmOverThis: number;
  readonly msInTfjsCpuRounds: number | null;
  readonly msInTfjsWasmRounds: number | null;
  readonly lossAtStep0: number;
}

/** What the ratios of a `ComparisonRow` mean, for the results. */
export const RATIOS = "tfjsCpuOverThis and tfjsWasmOverThis are median time(tfjs) / median time(this side) over the same rounds: above 1, this side is faster";

/** A row for each of our sides, then one for tfjs-cpu and one for tfjs-wasm, from the rounds beside each backend; `losses` are those of step 0. */
export function comparisonRows<K extends string>(
  ourSides: readonly K[],
  besideCpu: Record<K | "tfjs", readonly number[]>,
  besideWasm: Record<K | "tfjs", readonly number[]>,
  losses: Readonly<Record<string, number>>,
): ComparisonRow<K | "tfjs-cpu" | "tfjs-wasm">[] {
  const tfjsCpuMs = median(besideCpu.tfjs);
  const tfjsWasmMs = median(besideWasm.tfjs);
  const ours = ourSides.map((side) => {
    const all = [...besideCpu[side], ...besideWasm[side]];
    const cpuRounds = median(besideCpu[side]);
    const wasmRounds = median(besideWasm[side]);
    return { side, msPerStep: median(all), runs: all.length, tfjsCpuOverThis: tfjsCpuMs / cpuRounds, tfjsWasmOverThis: tfjsWasmMs / wasmRounds, msInTfjsCpuRounds: cpuRounds, msInTfjsWasmRounds: wasmRounds };
  });
  const tfjsRow = (side: "tfjs-cpu" | "tfjs-wasm", times: readonly number[]) => {
    const ms = median(times);
    return { side, msPerStep: ms, runs: times.length, tfjsCpuOverThis: tfjsCpuMs / ms, tfjsWasmOverThis: tfjsWasmMs / ms, msInTfjsCpuRounds: side === "tfjs-cpu" ? ms : null, msInTfjsWasmRounds: side === "tfjs-wasm" ? ms : null };
  };
  return [...ours, tfjsRow("tfjs-cpu", besideCpu.tfjs), tfjsRow("tfjs-wasm", besideWasm.tfjs)].map((r) => ({ ...r, lossAtStep0: losses[r.side] ?? Number.NaN }));
}

/** Prints the rows as a table, the jitted step's first call, and what the columns mean. */
export function printComparison(rows: readonly ComparisonRow<string>[], compileMs: number): void {
  const header = ["side", "ms / step", "runs", "loss at step 0", "tfjs-cpu / this", "tfjs-wasm / this"];
  printTable(
    header,
    rows.map((r) => [r.side, r.msPerStep.toFixed(1), String(r.runs), r.lossAtStep0.toFixed(6), `${r.tfjsCpuOverThis.toFixed(2)}x`, `${r.tfjsWasmOverThis.toFixed(2)}x`]),
  );
  console.log(`\njit compile (first call, trace + compile + run): ${compileMs.toFixed(0)} ms`);
  console.log("ms / step: median over all timed rounds; ratios: time(tfjs) / time(this side) in the same rounds, above 1x this side is faster.");
}
