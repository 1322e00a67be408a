/**
 * Small builders shared by the fusion and IR tests: loop nests by hand, and
 * tensors and avals with little ceremony; and a check that a kernel call
 * left no copy of a buffer in the kernels' working memory.
 */

import type { DType, Storage } from "../../src/core/dtype.js";
import { Tensor } from "../../src/core/tensor.js";
import type { IndexMap, LoopNest, OpNode, ScalarNode } from "../../src/backend/loop-ir.js";
import type { ScalarOp, ScalarOpParams } from "../../src/backend/scalar-ops.js";
import type { AnyTensor, Aval } from "../../src/prims/types.js";
import { loopHeap } from "../../src/backend/wasm/kernel-memory.js";

/** A read node of input `input` through `map`. */
export function read(input: number, dtype: DType, offset: number, strides: readonly number[]): ScalarNode {
  const map: IndexMap = { offset, strides };
  return { kind: "read", dtype, input, map };
}

/** An op node. */
export function op<K extends ScalarOp>(name: K, params: ScalarOpParams[K], args: readonly number[], dtype: DType): ScalarNode {
  // name and params are paired by the signature, as an OpNode pairs them
  return { kind: "op", dtype, op: name, params, args } as OpNode;
}

/** A nest with defaults for what a test leaves out. */
export function nest(parts: Partial<LoopNest> & Pick<LoopNest, "shape" | "nodes" | "outputs">): LoopNest {
  return { reducedAxes: [], inputs: [], constants: [], ...parts };
}

/** An aval. */
export function aval(shape: readonly number[], dtype: DType = "float32"): Aval {
  return { shape, dtype };
}

/** A tensor of `shape` holding `values` as `dtype`. */
export function tensorOf(shape: readonly number[], values: readonly number[], dtype: DType = "float32"): AnyTensor {
  const data: Storage<DType> =
    dtype === "float32" ? Float32Array.from(values) : dtype === "float64" ? Float64Array.from(values) : dtype === "int32" ? Int32Array.from(values) : Uint8Array.from(values);
  return new Tensor(shape, dtype, data);
}

/** `n` deterministic pseudo-random values in [-3, 3), rounded to float32. */
export function randomValues(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround((s / 2 ** 32) * 6 - 3);
  });
}

/** The elements of a tensor as numbers, -0 shown as "-0" so that it is not lost in comparisons. */
export function valuesOf(x: AnyTensor): (number | string)[] {
  return [...x.data].map((v) => (Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v));
}

/** The bytes of working memory `copiedByCall` clears and searches: more than any call here lays out. */
const SEARCHED = 16 << 20;

/**
 * Whether `run` copies `values` into the kernels' working memory (below the
 * arena): the memory is cleared first, and afterwards searched for the eight
 * of `values` from `from` side by side (seeded values, never all zero). A
 * call that reads a buffer where it is leaves no copy of it there. (Pick
 * eight that span two pixels: a transform may store one pixel's channels as
 * they are, A^T's first column being 1, 0, 0, 0.)
 */
export function copiedByCall(values: Float32Array, from: number, run: () => void): boolean {
  const heap = loopHeap(SEARCHED);
  if (heap === undefined) throw new Error("no working memory");
  heap.fill(0, 0, SEARCHED / 4);
  run();
  const bits = new Uint32Array(heap.buffer, 0, SEARCHED / 4);
  const want = new Uint32Array(values.buffer, values.byteOffset + 4 * from, 8);
  for (let i = 0; i + 8 <= bits.length; i++) {
    if (bits[i] !== want[0]) continue;
    let k = 1;
    while (k < 8 && bits[i + k] === want[k]) k++;
    if (k === 8) return true;
  }
  return false;
}
