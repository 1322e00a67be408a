/**
 * Mini-batches of an in-memory dataset, in order or shuffled with a key.
 *
 * `batches(ds, 64, { key, epoch })` checks its arguments and draws the order
 * at once (`permutation(foldIn(key, epoch), N)`, so each epoch has its own
 * order and the same key and epoch always give the same one), then yields
 * `{ x: [64, ...], y: [64, ...] }` batches as it is iterated. The batch dim
 * is the literal batch size with `dropLast: true` (every batch is full), and
 * `number` otherwise (the last batch may be short). As `torch.utils.data.
 * DataLoader(shuffle=True)` with JAX's explicit keys; deliberately left out
 * are worker threads and prefetching (a batch is one copy of its rows).
 */

import type { DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { badDim, type Dim, type Shape } from "../core/shape.js";
import { permutation } from "../random/distributions.js";
import { foldIn, type Key } from "../random/key.js";
import { checkDataset, type Dataset, type Row } from "./dataset.js";
import { takeRows } from "./select.js";

/**
 * A batch of `B` examples of a dataset with shapes `X` and `Y`: the rows of
 * both with `B` as the first dim.
 *
 * @example
 * type T = Batch<64, [8000, 28, 28, 1], [8000]>; // Dataset<[64, 28, 28, 1], [64]>
 */
export type Batch<B extends Dim, X extends Shape, Y extends Shape, DX extends DType = "float32", DY extends DType = "int32"> = Dataset<
  [B, ...Row<X>],
  [B, ...Row<Y>],
  DX,
  DY
>;

/** The options of `batches`. */
export interface BatchOptions<Drop extends boolean> {
  /** Shuffle with this key (default: the dataset's order). */
  readonly key?: Key;
  /** The epoch, folded into the key so each epoch has its own order (default 0). */
  readonly epoch?: number;
  /** Leave out the last batch when it is short (default false). */
  readonly dropLast?: Drop;
}

/**
 * The batches of one pass over a dataset: iterable (more than once, in the
 * same order), with the number of batches and examples known up front.
 */
export interface Batches<B extends Dim, X extends Shape, Y extends Shape, DX extends DType, DY extends DType>
  extends Iterable<Batch<B, X, Y, DX, DY>> {
  /** The number of batches. */
  readonly length: number;
  /** The number of examples in all the batches together. */
  readonly examples: number;
}

/**
 * The batches of `batchSize` examples of `ds`, shuffled when a key is given.
 * Throws a `ShapeError` at once (before any batch is made) when `x` and `y`
 * differ in length or the batch size is not a positive integer.
 *
 * @example
 * for (const { x, y } of batches(train, 64, { key: k, epoch, dropLast: true })) {
 *   // x: Tensor<[64, 28, 28, 1]>, y: Tensor<[64], "int32">
 * }
 */
export function batches<
  X extends Shape,
  Y extends Shape,
  DX extends DType,
  DY extends DType,
  const B extends number,
  const Drop extends boolean = false,
>(ds: Dataset<X, Y, DX, DY>, batchSize: B, options: BatchOptions<Drop> = {}): Batches<Drop extends true ? B : number, X, Y, DX, DY> {
  const op = "batches";
  const n = checkDataset(op, ds);
  const bad = badDim(batchSize);
  if (bad !== undefined || batchSize === 0) shapeError(op, `the batch size must be a positive integer: ${bad ?? "0 is not positive"}`);
  const { key: k, epoch = 0, dropLast = false } = options;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 2 ** 32 - 1) {
    throw new RangeError(`${op}: the epoch must be an integer from 0 to 2^32 - 1, got ${String(epoch)}`);
  }
  const order = k === undefined ? Int32Array.from({ length: n }, (_, i) => i) : permutation(foldIn(k, epoch), n).data;
  const length = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  const examples = dropLast ? length * batchSize : n;
  return {
    length,
    examples,
    *[Symbol.iterator]() {
      for (let b = 0; b < length; b++) {
        const rows = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
        // A batch holds `rows.length` examples, which is B whenever Drop is true (every batch is full).
        yield takeRows(op, ds, rows) as unknown as Batch<Drop extends true ? B : number, X, Y, DX, DY>;
      }
    },
  };
}
