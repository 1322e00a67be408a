/**
 * Data files on disk (Node only): IDX (MNIST), `.npy` and `.npz`, read
 * through the main entry's readers (`src/io/idx.ts`, `npy.ts`, `npz.ts`),
 * so a gzip-compressed file is decoded by our own inflater here too, and a
 * file that cannot be read is a `LoadError` naming its path, like every
 * other problem with it.
 *
 * Deliberately left out: streaming and memory-mapped reads (files are read
 * whole, as the readers need them).
 */

import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { readIdx, readIdxAs, type IdxDType, type IdxOptions } from "../io/idx.js";
import { LoadError } from "../io/load-error.js";
import { readNpy } from "../io/npy.js";
import { readNpz } from "../io/npz.js";
import type { ZipOptions } from "../io/zip.js";

/** The bytes of the file at `path`, or a `LoadError` naming the path and the reason. */
export function readFileBytes(path: string): E.Either<LoadError, Uint8Array> {
  try {
    return E.right(readFileSync(path));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return E.left(new LoadError([`cannot read ${JSON.stringify(path)}: ${reason}`]));
  }
}

/** `read` of the file's bytes, its problems prefixed with the path. */
function readWith<A>(path: string, read: (bytes: Uint8Array) => E.Either<LoadError, A>): E.Either<LoadError, A> {
  return E.flatMap(readFileBytes(path), (bytes) =>
    E.mapLeft((e: LoadError) => new LoadError(e.problems.map((p) => `${path}: ${p}`)))(read(bytes)),
  );
}

/**
 * Reads the IDX file at `path`, plain or gzip-compressed, as `readIdx` does.
 *
 * @example
 * const labels = readIdxFile("data/train-labels-idx1-ubyte"); // Either<LoadError, Tensor<number[], IdxDType>>
 */
export function readIdxFile(path: string, options: IdxOptions = {}): E.Either<LoadError, Tensor<number[], IdxDType>> {
  return readWith(path, (bytes) => readIdx(bytes, options));
}

/**
 * Reads the IDX file at `path` with the shape (and dtype, int32 unless
 * `dtype` says otherwise) the caller states, as `readIdxAs` does.
 *
 * @example
 * const images = readIdxFileAs("data/train-images-idx3-ubyte.gz", [60000, 28, 28]); // Either<LoadError, Tensor<[60000, 28, 28], "int32">>
 */
export function readIdxFileAs<const S extends Shape>(
  path: string,
  shape: S,
  options?: IdxOptions & { readonly dtype?: "int32" },
): E.Either<LoadError, Tensor<[...S], "int32">>;
export function readIdxFileAs<const S extends Shape, D extends IdxDType>(
  path: string,
  shape: S,
  options: IdxOptions & { readonly dtype: D },
): E.Either<LoadError, Tensor<[...S], D>>;
export function readIdxFileAs<const S extends Shape>(
  path: string,
  shape: S,
  options: IdxOptions & { readonly dtype?: IdxDType } = {},
): E.Either<LoadError, Tensor<[...S], IdxDType>> {
  return readWith(path, (bytes) => readIdxAs(bytes, shape, { ...options, dtype: options.dtype ?? "int32" }));
}

/**
 * Reads the `.npy` file at `path`, as `readNpy` does.
 *
 * @example
 * const x = readNpyFile("weights.npy"); // Either<LoadError, Tensor<number[], DType>>
 */
export function readNpyFile(path: string): E.Either<LoadError, Tensor<number[], DType>> {
  return readWith(path, readNpy);
}

/**
 * Reads the `.npz` archive at `path` into its arrays by name, as `readNpz` does.
 *
 * @example
 * const arrays = readNpzFile("mnist.npz"); // Either<LoadError, Map<string, Tensor<number[], DType>>>
 */
export function readNpzFile(path: string, options: ZipOptions = {}): E.Either<LoadError, Map<string, Tensor<number[], DType>>> {
  return readWith(path, (bytes) => readNpz(bytes, options));
}
