/**
 * In-memory datasets: a pair of tensors, the inputs `x` and the targets `y`,
 * whose first dim counts the examples (`x: [N, 28, 28, 1]`, `y: [N]`).
 *
 * The pair is a plain record, as a batch is (`{ x, y }`), so a dataset, a
 * batch and a training step's argument are one type. `dataset` pairs tensors
 * already made and throws a `ShapeError` when their lengths differ (a compile
 * error when both lengths are literals); `fromArrays` is the gate for data
 * from outside and returns an `Either` instead; `assertBatch` checks a batch
 * against the shapes a model expects before a step does any work. The idea
 * is `tf.data.Dataset.from_tensor_slices` without its pipeline: deliberately
 * left out are streaming from disk, maps and prefetching (a dataset here
 * fits in memory, as MNIST does).
 */

import * as E from "fp-ts/lib/Either.js";
import { fromArray } from "../core/create.js";
import type { DType } from "../core/dtype.js";
import { ShapeError, shapeError } from "../core/errors.js";
import { formatShape, type Dim, type Shape, type ShowDim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Checked, DimsMatch } from "../core/rules/dims.js";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/**
 * A dataset (or a batch): inputs `x` of shape `X` and targets `y` of shape
 * `Y`, with the same first dim, the number of examples. A type alias, not
 * an interface, so that it is a `Tree` (a `jit` argument) as it stands.
 *
 * @example
 * const ds: Dataset<[8000, 28, 28, 1], [8000]> = dataset(zeros([8000, 28, 28, 1]), zeros([8000], "int32"));
 */
export type Dataset<X extends Shape = Shape, Y extends Shape = Shape, DX extends DType = "float32", DY extends DType = "int32"> = {
  readonly x: Tensor<X, DX>;
  readonly y: Tensor<Y, DY>;
};

/**
 * The number of examples of a shape: its first dim (`number` when the rank
 * is not known).
 *
 * @example
 * type N = Examples<[8000, 28, 28, 1]>; // 8000
 */
export type Examples<S extends Shape> = S extends readonly [infer N extends Dim, ...Dim[]] ? N : number;

/**
 * The shape of one example: the shape without its first dim.
 *
 * @example
 * type R = Row<[8000, 28, 28, 1]>; // [28, 28, 1]
 */
export type Row<S extends Shape> = S extends readonly [Dim, ...infer R extends Shape] ? R : Dim[];

/**
 * `[N, ...]` and `[M, ...]` paired by `Op`: `true` when `N` and `M` can be the
 * same size, else a `ShapeError` naming both lengths.
 *
 * @example
 * type E = PairCheck<"dataset", [100, 784], [99]>; // ShapeError<"dataset: x has 100 examples but y has 99">
 */
export type PairCheck<Op extends string, X extends Shape, Y extends Shape> = X extends readonly []
  ? ShapeError<`${Op}: x needs a first dim that counts the examples, but has shape []`>
  : Y extends readonly []
    ? ShapeError<`${Op}: y needs a first dim that counts the examples, but has shape []`>
    : DimsMatch<Examples<X>, Examples<Y>> extends true
      ? true
      : ShapeError<`${Op}: x has ${ShowDim<Examples<X>>} examples but y has ${ShowDim<Examples<Y>>}`>;

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/**
 * The dataset of inputs `x: [N, ...]` and targets `y: [N, ...]`. Throws a
 * `ShapeError` when either has rank 0 or their first dims differ; when both
 * are literals the mismatch is a compile error at `y`.
 *
 * @example
 * const ds = dataset(zeros([100, 784]), zeros([100], "int32")); // Dataset<[100, 784], [100], "float32", "int32">
 */
export function dataset<X extends Shape, Y extends Shape, DX extends DType, DY extends DType>(
  x: Tensor<X, DX>,
  y: Tensor<Y, DY> & Checked<PairCheck<"dataset", X, Y>, unknown>,
): Dataset<X, Y, DX, DY> {
  const ds = { x, y };
  checkDataset("dataset", ds);
  return ds;
}

/** The options of `fromArrays`: the dtypes of `x` and `y` (default float32 and int32). */
export interface FromArraysOptions<DX extends DType, DY extends DType> {
  readonly xDType?: DX;
  readonly yDType?: DY;
}

/**
 * A dataset from data that comes from outside: `x` and `y` flat (row-major)
 * or nested arrays read as `xShape` and `yShape`, whose symbolic dims
 * (`"n"`) take their sizes from the data. Never throws: a `Left` says what is
 * wrong (a length that does not fit, a fraction among int32 labels, first
 * dims that differ).
 *
 * @example
 * const ds = fromArrays(pixels, ["n", 28, 28, 1], labels, ["n"]); // Either<ShapeError, Dataset<["n", 28, 28, 1], ["n"]>>
 */
export function fromArrays<
  const SX extends Shape,
  const SY extends Shape,
  DX extends DType = "float32",
  DY extends DType = "int32",
>(
  x: ArrayLike<unknown>,
  xShape: SX,
  y: ArrayLike<unknown>,
  yShape: SY & Checked<PairCheck<"fromArrays", SX, SY>, unknown>,
  options: FromArraysOptions<DX, DY> = {},
): E.Either<ShapeError, Dataset<[...SX], [...SY], DX, DY>> {
  // The defaults are the type parameters' defaults: when an option is absent, DX is "float32" and DY "int32".
  const xDType = (options.xDType ?? "float32") as DX;
  const yDType = (options.yDType ?? "int32") as DY;
  const inputs = fromArray(x, xShape, xDType);
  if (E.isLeft(inputs)) return E.left(new ShapeError(`fromArrays: x: ${inputs.left.message}`));
  const ys: SY = yShape; // the check in yShape's type is compile-time only
  const targets = fromArray(y, ys, yDType);
  if (E.isLeft(targets)) return E.left(new ShapeError(`fromArrays: y: ${targets.left.message}`));
  const ds = { x: inputs.right, y: targets.right };
  try {
    checkDataset("fromArrays", ds);
  } catch (e) {
    if (e instanceof ShapeError) return E.left(e);
    throw e;
  }
  return E.right(ds);
}

/**
 * `batch` retyped to the shapes `xShape` and `yShape` after checking at run
 * time that it has them: the same ranks, each number dim equal, each symbolic
 * dim (`"batch"`) one size wherever it occurs in either shape, and, when
 * `dtypes` names them, the dtypes of `x` and `y`. Throws a `ShapeError`
 * naming both shapes (or both dtypes), so a training step refuses a bad batch
 * before it does any work.
 *
 * @example
 * const b = assertBatch(batch, ["batch", 28, 28, 1], ["batch"], { x: "float32", y: "int32" }); // Dataset<["batch", 28, 28, 1], ["batch"]>
 */
export function assertBatch<const SX extends Shape, const SY extends Shape, DX extends DType, DY extends DType>(
  batch: Dataset<Shape, Shape, DX, DY>,
  xShape: SX,
  yShape: SY,
  dtypes: { readonly x?: DX; readonly y?: DY } = {},
): Dataset<[...SX], [...SY], DX, DY> {
  const op = "assertBatch";
  checkDataset(op, batch);
  for (const [name, t, expected] of [["x", batch.x, dtypes.x], ["y", batch.y, dtypes.y]] as const) {
    if (expected !== undefined && t.dtype !== expected) shapeError(op, `${name} has dtype ${t.dtype} but ${expected} is expected`);
  }
  const bound = new Map<string, number>();
  const fits = (actual: readonly number[], expected: Shape): boolean =>
    actual.length === expected.length &&
    expected.every((d, i) => {
      const size = actual[i];
      if (typeof d === "number") return size === d;
      const seen = bound.get(d);
      if (seen === undefined && size !== undefined) bound.set(d, size);
      return seen === undefined || seen === size;
    });
  for (const [name, t, expected] of [["x", batch.x, xShape], ["y", batch.y, yShape]] as const) {
    if (!fits(t.shape, expected)) {
      shapeError(op, `${name} has shape ${formatShape(t.shape)} but ${formatShape(expected.map(showDim))} is expected`);
    }
  }
  // Both shapes were checked dim by dim against SX and SY just above.
  return batch as unknown as Dataset<[...SX], [...SY], DX, DY>;
}

// ---------------------------------------------------------------------------
// Internals shared with the other data modules
// ---------------------------------------------------------------------------

/** The number of examples of `ds`, after checking that `x` and `y` agree on it; throws a `ShapeError` naming `op`. */
export function checkDataset(op: string, ds: Dataset<Shape, Shape, DType, DType>): number {
  const [n] = ds.x.shape;
  const [m] = ds.y.shape;
  if (n === undefined) shapeError(op, "x needs a first dim that counts the examples, but has shape []");
  if (m === undefined) shapeError(op, "y needs a first dim that counts the examples, but has shape []");
  if (n !== m) shapeError(op, `x has ${n} examples but y has ${m} (shapes ${formatShape(ds.x.shape)} and ${formatShape(ds.y.shape)})`);
  return n;
}

/** A dim as a message prints it: symbols quoted. */
function showDim(d: Dim): string {
  return typeof d === "number" ? String(d) : JSON.stringify(d);
}
