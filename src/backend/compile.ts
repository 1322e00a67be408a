/**
 * Compiling generated kernels: JavaScript source in, a cached function out.
 *
 * Every generated kernel goes through here. The source is assembled by the
 * code generators from names in fixed tables (scalar-op expressions, local
 * variable names this module validates) and integers that have been checked to
 * be safe integers; no value that comes from data, a file or a caller's string
 * is ever printed into it. Compiled functions are cached by a key that the
 * generator derives from the kernel's structure, shapes and dtypes, in a
 * bounded least-recently-used cache.
 *
 * A loop kernel (`generateKernel`) runs on the backend that `loopKernelBackend`
 * picks (`selectLoopKernel`): the WebAssembly generator's module (`wasm/`)
 * when it compiles the nest, with the JavaScript kernel for the calls it
 * cannot run, else the JavaScript kernel alone. Both hang off one cache entry.
 */

import type { Kernel, LoopNest } from "./loop-ir.js";
import { SCALAR_OP_NAMES, scalarOpRow } from "./scalar-ops.js";
import { wasmSupports } from "./wasm/codegen.js";
import { parallelLoopKernel } from "./threads/parallel-loops.js";
import { wasmAvailable, wasmKernel } from "./wasm/runtime.js";

/** How many compiled kernels the cache keeps. */
export const KERNEL_CACHE_SIZE = 512;

const cache = new Map<string, unknown>();

/** Statistics of the kernel cache, for tests and benchmarks. */
export const kernelCacheStats = { compiled: 0, hits: 0 };

/**
 * The functions that generated code may call as `Scalar.<op>(...)`: the
 * `fn` of every scalar-op row that has one (an op JavaScript's `Math` lacks),
 * a fixed table frozen at load.
 */
const SCALAR_FUNCTIONS: Readonly<Record<string, (...args: number[]) => number>> = Object.freeze(
  Object.fromEntries(SCALAR_OP_NAMES.flatMap((op) => {
    const fn = scalarOpRow(op).fn;
    return fn === undefined ? [] : [[op, fn]];
  })),
);

/**
 * The function that `source` defines with parameters `params`, compiled once
 * per `key` (a description of the kernel: same key, same source). The source
 * sees one name besides its parameters and the globals: `Scalar`, the table
 * of scalar-op functions.
 */
export function compileKernel<F>(key: string, params: readonly string[], source: string): F {
  const hit = cache.get(key);
  if (hit !== undefined) {
    kernelCacheStats.hits++;
    cache.delete(key);
    cache.set(key, hit); // move to the most recently used end
    return hit as F; // stored under this key by the call that compiled it with type F
  }
  for (const p of params) {
    if (!/^[a-z][0-9]*$/.test(p)) throw new Error(`codegen: bad parameter name ${JSON.stringify(p)}`);
  }
  // The source is built only from fixed-table fragments and validated integers (see the header).
  // The maker returns the function the source defines, which the caller's type F describes.
  const make = new Function("Scalar", `return function (${params.join(", ")}) {\n"use strict";\n${source}\n};`) as (scalar: typeof SCALAR_FUNCTIONS) => F;
  const compiled = make(SCALAR_FUNCTIONS);
  kernelCacheStats.compiled++;
  cache.set(key, compiled);
  if (cache.size > KERNEL_CACHE_SIZE) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return compiled;
}

/** The backends a loop kernel runs on. */
export type KernelBackend = "webassembly" | "javascript";

/**
 * The backend that runs `nest`: WebAssembly when WebAssembly with SIMD is
 * available and the nest is one its generator compiles (float32 elementwise
 * chains of the scalar ops it lowers, see `wasm/codegen.ts`), otherwise
 * JavaScript. Both compute what the loop-IR interpreter computes, the
 * WebAssembly math routines within their rows' stated bounds.
 *
 * @example
 * loopKernelBackend(nestOf(gelu(add(mul(x, a), b)))); // "webassembly"
 */
export function loopKernelBackend(nest: LoopNest): KernelBackend {
  return wasmAvailable() && wasmSupports(nest) ? "webassembly" : "javascript";
}

/**
 * The kernel that runs `nest` on its `loopKernelBackend`: the WebAssembly
 * kernel, which hands a call it cannot run (see `wasm/runtime.ts`) to `js`,
 * or `js` itself. A large nest runs on the worker pool when more than one
 * thread is set (`threads/parallel-loops.ts`), with the same results.
 *
 * @example
 * selectLoopKernel(nest, jsKernel)([x, out], constants); // fills out
 */
export function selectLoopKernel(nest: LoopNest, js: Kernel): Kernel {
  const wasm = loopKernelBackend(nest) === "webassembly" ? wasmKernel(nest) : undefined;
  if (wasm === undefined) return js;
  const run = wasm.run;
  const parallel = parallelLoopKernel(nest);
  if (parallel === undefined) {
    return (buffers, constants) => {
      if (!run(buffers, constants)) js(buffers, constants);
    };
  }
  return (buffers, constants) => {
    if (!parallel(buffers, constants) && !run(buffers, constants)) js(buffers, constants);
  };
}
