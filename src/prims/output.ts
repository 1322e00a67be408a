/**
 * Where a primitive's implementation stores its result.
 *
 * A compiled program hands the primitives that declare `writesOut` a buffer
 * it reuses by liveness (`ir/fusion/execute.ts`); eager evaluation hands
 * none, and the implementation allocates. The buffer may hold anything (the
 * values of an earlier, dead intermediate): an implementation writes every
 * element of it, zeroing first where it accumulates.
 */

import { allocate, isStorageOf, type DType, type Storage } from "../core/dtype.js";

/**
 * `out` when given (checked to be storage of `dtype` with `size` elements),
 * else fresh zeroed storage.
 *
 * @example
 * const data = outputStorage("float32", 6, out); // out, or a new Float32Array(6)
 */
export function outputStorage<D extends DType>(dtype: D, size: number, out: Storage<DType> | undefined): Storage<D> {
  if (out === undefined) return allocate(dtype, size);
  if (!isStorageOf(dtype, out) || out.length !== size) {
    throw new Error(`a primitive's output buffer of ${out.length} ${out.constructor.name} elements cannot hold ${size} ${dtype} elements`);
  }
  return out;
}
