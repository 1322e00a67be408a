/**
 * Choosing examples of a dataset: `take` (by index), `shuffle` (by a random
 * permutation drawn from a key) and `splitAt` (a train / test split).
 *
 * Each copies the chosen rows of `x` and `y` into new tensors, row by row
 * with `TypedArray.set`: data selection is bookkeeping over concrete
 * buffers, not a traced op, so it never enters a program and costs one copy.
 * Deliberately left out: views that share the buffer (tensors are immutable
 * and a copy of MNIST is 25 MB) and sampling with replacement.
 */

import { allocate, type DType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import type { Concrete, Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { Gte, Lte, Sub } from "../core/arith/index.js";
import type { Checked } from "../core/rules/dims.js";
import { permutation } from "../random/distributions.js";
import type { Key } from "../random/key.js";
import { checkDataset, type Dataset, type Examples, type Row } from "./dataset.js";

/**
 * The examples of `ds` at `indices`, in that order (repeats allowed): a
 * dataset of `indices.length` examples. Throws a `ShapeError` for an index
 * that is not an integer in `[0, N)`.
 *
 * @example
 * take(ds, [2, 0]); // ds: Dataset<[10, 784], [10]> gives Dataset<[number, 784], [number]>
 */
export function take<X extends Shape, Y extends Shape, DX extends DType, DY extends DType>(
  ds: Dataset<X, Y, DX, DY>,
  indices: ArrayLike<number>,
): Dataset<[number, ...Row<X>], [number, ...Row<Y>], DX, DY> {
  return takeRows("take", ds, indices);
}

/**
 * `ds` in the order of `permutation(k, N)`: the same key gives the same
 * order, on every run and machine.
 *
 * @example
 * shuffle(ds, key(0)); // ds: Dataset<[10, 784], [10]> gives Dataset<[10, 784], [10]>
 */
export function shuffle<X extends Shape, Y extends Shape, DX extends DType, DY extends DType>(
  ds: Dataset<X, Y, DX, DY>,
  k: Key,
): Dataset<X, Y, DX, DY> {
  const n = checkDataset("shuffle", ds);
  // takeRows keeps every dim but the first, and a permutation keeps the first: the shapes are X and Y.
  return takeRows("shuffle", ds, permutation(k, n).data) as unknown as Dataset<X, Y, DX, DY>;
}

/** True when `K` is a literal and `N` a literal size with `0 <= K <= N`: then `N - K` is known. */
type KnownSplit<N, K extends number> = N extends number
  ? number extends N
    ? false
    : number extends K
      ? false
      : Gte<K, 0> extends true
        ? Lte<K, N>
        : false
  : false;

/** The first dim of the second part of `splitAt(ds, K)`: `N - K` when both are literals, else `number`. */
export type Rest<N, K extends number> = KnownSplit<N, K> extends true ? (N extends number ? Sub<N, K> : number) : number;

/**
 * `true`, or a `ShapeError` when `K` and `N` are literals and `K` is past
 * the `N` examples (or negative).
 *
 * @example
 * type E = SplitCheck<10, 11>; // ShapeError<"splitAt: the split point 11 is not from 0 to 10">
 */
export type SplitCheck<N, K extends number> = N extends number
  ? number extends N
    ? true
    : number extends K
      ? true
      : KnownSplit<N, K> extends true
        ? true
        : ShapeError<`splitAt: the split point ${K} is not from 0 to ${N}`>
  : true;

/** The two parts of `splitAt(ds, K)` for a dataset of shapes `X` and `Y`: `K` examples and the rest. */
export type Parts<X extends Shape, Y extends Shape, DX extends DType, DY extends DType, K extends number> = [
  Dataset<[K, ...Row<X>], [K, ...Row<Y>], DX, DY>,
  Dataset<[Rest<Examples<X>, K>, ...Row<X>], [Rest<Examples<Y>, K>, ...Row<Y>], DX, DY>,
];

/**
 * The first `k` examples of `ds` and the rest, as two datasets. Throws a
 * `ShapeError` unless `k` is an integer from 0 to the number of examples
 * (a compile error when both are literals).
 *
 * @example
 * const [train, test] = splitAt(ds, 8000); // ds: Dataset<[10000, 784], [10000]>
 * // train: Dataset<[8000, 784], [8000]>, test: Dataset<[2000, 784], [2000]>
 */
export function splitAt<X extends Shape, Y extends Shape, DX extends DType, DY extends DType, const K extends number>(
  ds: Dataset<X, Y, DX, DY>,
  k: K & Checked<SplitCheck<Examples<X>, K>, unknown>,
): Parts<X, Y, DX, DY, K> {
  const op = "splitAt";
  const n = checkDataset(op, ds);
  if (!Number.isInteger(k) || k < 0 || k > n) shapeError(op, `the split point must be an integer from 0 to ${n}, got ${String(k)}`);
  const range = (from: number, to: number): Int32Array => Int32Array.from({ length: to - from }, (_, i) => from + i);
  const first = takeRows(op, ds, range(0, k));
  const second = takeRows(op, ds, range(k, n));
  // The parts have k and n - k examples and the rows of ds: the first dims are K and N - K, the rest X's and Y's.
  return [first, second] as unknown as Parts<X, Y, DX, DY, K>;
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/** The rows of `ds` at `indices`, checked; the workhorse of every selection and of `batches`. */
export function takeRows<X extends Shape, Y extends Shape, DX extends DType, DY extends DType>(
  op: string,
  ds: Dataset<X, Y, DX, DY>,
  indices: ArrayLike<number>,
): Dataset<[number, ...Row<X>], [number, ...Row<Y>], DX, DY> {
  const n = checkDataset(op, ds);
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i];
    if (at === undefined || !Number.isInteger(at) || at < 0 || at >= n) {
      shapeError(op, `index ${String(at)} (at position ${i}) is out of range for ${n} examples`);
    }
  }
  return { x: gatherRows(ds.x, indices), y: gatherRows(ds.y, indices) };
}

/** The rows of `t` at `indices` (already checked), copied into a new tensor. */
function gatherRows<S extends Shape, D extends DType>(t: Tensor<S, D>, indices: ArrayLike<number>): Tensor<[number, ...Row<S>], D> {
  const shape: readonly number[] = t.shape;
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
  const source = t.data;
  const out = allocate(t.dtype, indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) {
    const from = (indices[i] ?? 0) * rowSize;
    out.set(source.subarray(from, from + rowSize), i * rowSize);
  }
  const outShape = [indices.length, ...shape.slice(1)];
  // The shape is t's with the first dim replaced by the number of indices: [number, ...Row<S>].
  return new Tensor<[number, ...Row<S>], D>(outShape as unknown as Concrete<[number, ...Row<S>]>, t.dtype, out);
}
