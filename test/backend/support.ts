/**
 * Small builders shared by the fusion and IR tests: loop nests by hand, and
 * tensors and avals with little ceremony.
 */

import type { DType, Storage } from "../../src/core/dtype.js";
import { Tensor } from "../../src/core/tensor.js";
import type { IndexMap, LoopNest, OpNode, ScalarNode } from "../../src/backend/loop-ir.js";
import type { ScalarOp, ScalarOpParams } from "../../src/backend/scalar-ops.js";
import type { AnyTensor, Aval } from "../../src/prims/types.js";

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
