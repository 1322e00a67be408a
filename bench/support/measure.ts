/**
 * What the benchmarks share: medians, relative differences, seeded data, and
 * setting TensorFlow.js up for a side-by-side run (its CPU backend and its
 * WebAssembly backend, single-threaded).
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

/** Seeded pseudo-random float32 values in [-scale, scale) (a linear congruential generator). */
export function randomData(size: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 * scale - scale;
  }
  return out;
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
