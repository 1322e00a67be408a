/**
 * What the benchmarks share: medians and quantiles, relative differences, seeded data,
 * tolerance checks, timing in rounds, and setting TensorFlow.js up for a
 * side-by-side run (its CPU backend and its WebAssembly backend,
 * single-threaded).
 */

import { createRequire } from "node:module";
import { dirname } from "node:path";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

/** The median of some values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** The `q` quantile of some values (0.5 is the median), interpolating between the two nearest. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const below = sorted[lo] ?? Number.NaN;
  return below + ((sorted[lo + 1] ?? below) - below) * (at - lo);
}

/** The largest difference between two results, relative to the largest magnitude in `want`. */
export function relativeDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] ?? Number.NaN) - (want[i] ?? Number.NaN)));
    scale = Math.max(scale, Math.abs(want[i] ?? 0));
  }
  return diff / (scale || 1);
}

/** A linear congruential generator: uniform floats in [0, 1) from a seed. */
export function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Seeded pseudo-random float32 values in [-scale, scale) (`uniforms`, stretched). */
export function randomData(size: number, seed: number, scale = 1): Float32Array {
  const next = uniforms(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = next() * 2 * scale - scale;
  return out;
}

/** `n` normal samples with standard deviation `std` (Box-Muller over `uniforms(seed)`). */
export function normalData(n: number, std: number, seed: number): Float32Array {
  const next = uniforms(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Throws, naming `what`, unless `difference` is at most `tolerance` (a NaN difference fails too). */
export function check(what: string, difference: number, tolerance: number): void {
  if (!(difference <= tolerance)) throw new Error(`${what}: difference ${difference} exceeds ${tolerance}`);
}

/** How long to time: `warmup` untimed rounds, then timed rounds until `budgetMs` is spent (at least `minRounds`, at most `maxRounds`). */
export interface Rounds {
  readonly warmup: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly budgetMs: number;
}

/**
 * Rounds of one step of each side, back to back, so that a busy machine
 * slows all of them alike. Every step returns its loss, read back; a loss
 * that is not finite fails the run. Returns every side's step times, in ms.
 */
export function timeRounds<K extends string>(steps: Record<K, () => number>, rounds: Rounds): Record<K, number[]> {
  const sides = Object.keys(steps) as K[]; // the keys of a Record<K, ...>
  const times = Object.fromEntries(sides.map((side) => [side, [] as number[]])) as Record<K, number[]>; // one entry per side, just built
  let sink = 0;
  for (let i = 0; i < rounds.warmup; i++) for (const side of sides) sink += steps[side]();
  const start = performance.now();
  for (let round = 0; round < rounds.minRounds || (round < rounds.maxRounds && performance.now() - start < rounds.budgetMs); round++) {
    for (const side of sides) {
      const t = performance.now();
      sink += steps[side]();
      times[side].push(performance.now() - t);
    }
  }
  if (!Number.isFinite(sink)) throw new Error(`a loss was ${sink}`);
  return times;
}

/** The part of a TensorFlow.js module (tfjs or tfjs-core) that the set-up uses. */
interface TfLike {
  env(): { set(flag: string, value: boolean): void; getAsync(flag: string): Promise<unknown> };
  setBackend(name: string): Promise<boolean>;
}

/**
 * Points the WebAssembly backend at its files, makes it single-threaded, and
 * initialises the CPU and WebAssembly backends; returns what the WebAssembly
 * backend runs, for the printout.
 */
export async function setUpTfjs(tf: TfLike): Promise<string> {
  setWasmPaths(`${dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"))}/`);
  // NOTE: must be set before the wasm backend initializes.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  for (const backend of ["cpu", "wasm"]) {
    if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} did not initialize`);
  }
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return `XNNPACK, ${simd ? "SIMD" : "no SIMD"}, single thread (tfjs-backend-wasm${simd ? "-simd" : ""}.wasm)`;
}
