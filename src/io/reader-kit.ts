/**
 * What the binary readers (gzip, IDX, npy, zip, npz) share: errors that name
 * their reader, a size check that runs before anything is allocated, a guard
 * that keeps the never-throw promise, and the retyping of a loaded tensor to
 * the shape and dtype its caller states.
 *
 * The idea is the safetensors reader's (`safetensors-header.ts`): validate a
 * header against the file's length first, then allocate exactly what it
 * describes. Deliberately left out: streaming readers.
 */

import * as E from "fp-ts/lib/Either.js";
import { assertShape } from "../core/create.js";
import type { DType } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { formatShape, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { LoadError } from "./load-error.js";

/**
 * The largest decompressed size the readers accept unless told otherwise
 * (their `maxBytes` option): 1 GiB, some twenty times the MNIST training
 * images. A few forged bytes of DEFLATE can describe a thousand times more.
 */
export const DEFAULT_MAX_BYTES = 2 ** 30;

/** A `Left` with the single problem `"reader: detail"`. */
export function fail(reader: string, detail: string): E.Either<LoadError, never> {
  return E.left(new LoadError([`${reader}: ${detail}`]));
}

/** `inner`'s problems, each prefixed with `"reader: "` (a gzip error inside an IDX file, say). */
export function within(reader: string, inner: LoadError): LoadError {
  return new LoadError(inner.problems.map((p) => `${reader}: ${p}`));
}

/**
 * Runs `read`, turning anything it throws (an engine limit such as an
 * allocation failure; nothing else should) into a `Left` naming `reader`.
 */
export function guard<A>(reader: string, read: () => E.Either<LoadError, A>): E.Either<LoadError, A> {
  try {
    return read();
  } catch (e) {
    return fail(reader, `could not read the data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The number of elements of `shape` when its `elementSize`-byte elements
 * fill the `length - start` bytes after a `start`-byte header exactly, or a
 * `Left` naming `reader`, the shape, its element type `typeName` and both
 * byte counts. The product is compared as it grows, so a forged dim never
 * overflows it: past the available bytes it cannot come back down (except
 * through a zero dim, which makes the whole product zero). Allocates nothing.
 */
export function dataCount(
  reader: string,
  shape: readonly number[],
  elementSize: number,
  typeName: string,
  start: number,
  length: number,
): E.Either<LoadError, number> {
  const available = length - start;
  let bytes = shape.includes(0) ? 0 : elementSize;
  for (const d of shape) {
    bytes *= d;
    if (bytes > available) break;
  }
  if (bytes === available) return E.right(bytes / elementSize);
  const needed = shape.reduce((n, d) => n * BigInt(d), BigInt(elementSize)); // exact, for the message only
  return fail(reader, `shape ${formatShape(shape)} of ${typeName} needs ${needed} bytes after the ${start}-byte header, the file has ${available}`);
}

/**
 * `x` retyped as `Tensor<[...S], D>` when its run-time shape fits `shape`
 * (symbolic dims take their size from the data, as `fromArray` binds them)
 * and its dtype is `dtype`; otherwise a `Left` naming `reader` and both.
 */
export function expectTensor<const S extends Shape, D extends DType>(
  reader: string,
  x: Tensor<number[], DType>,
  shape: S,
  dtype: D,
): E.Either<LoadError, Tensor<[...S], D>> {
  if (x.dtype !== dtype) return fail(reader, `the file holds ${x.dtype} of shape ${formatShape(x.shape)}, not ${dtype}`);
  try {
    // The dtype was checked above, so x is a Tensor<number[], D>.
    return E.right(assertShape(x as Tensor<number[], D>, shape));
  } catch (e) {
    if (e instanceof ShapeError) return fail(reader, `the file's shape does not fit: ${e.message.replace(/^assertShape: /, "")}`);
    throw e;
  }
}
