/**
 * Data: in-memory datasets of inputs and targets, their selection (take,
 * shuffle, train / test split) and mini-batches shuffled with a key.
 *
 * @example
 * const [train, test] = splitAt(shuffle(dataset(x, y), key(0)), 8000);
 * for (const batch of batches(train, 64, { key: key(1), epoch: 0, dropLast: true })) step(batch);
 */

export { assertBatch, dataset, fromArrays, type Dataset, type Examples, type FromArraysOptions, type PairCheck, type Row } from "./dataset.js";
export { shuffle, splitAt, take, type Parts, type Rest, type SplitCheck } from "./select.js";
export { batches, type Batch, type BatchOptions, type Batches } from "./batches.js";
