import { describe, expect, test } from "vitest";
import { arange, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { batches } from "../../src/data/batches.js";
import { dataset, type Dataset } from "../../src/data/dataset.js";
import { shuffle, splitAt } from "../../src/data/select.js";
import { permutation } from "../../src/random/distributions.js";
import { foldIn, key } from "../../src/random/key.js";

/** Ten examples: x row i is [i, -i], label i. */
const ds = dataset(tensor(Array.from({ length: 10 }, (_, i) => [i, -i])), arange(10, "int32"));

const labels = (bs: Iterable<{ readonly y: { toArray(): number[] } }>): number[][] => [...bs].map((b) => b.y.toArray());

describe("batches", () => {
  test("without a key, cuts the dataset in order, the last batch short", () => {
    const bs = batches(ds, 4);
    expect(bs.length).toBe(3);
    expect(bs.examples).toBe(10);
    expect(labels(bs)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  test("with dropLast, leaves out the short batch", () => {
    const bs = batches(ds, 4, { dropLast: true });
    expect(bs.length).toBe(2);
    expect(bs.examples).toBe(8);
    expect(labels(bs)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  test("keeps each example's inputs with its label", () => {
    for (const b of batches(ds, 3, { key: key(0) })) {
      const ys = b.y.toArray();
      expect(b.x.toNested()).toEqual(ys.map((i) => [i, -i]));
    }
  });

  test("with a key, orders by permutation(foldIn(key, epoch), N)", () => {
    const order = permutation(foldIn(key(5), 3), 10).toArray();
    expect(labels(batches(ds, 5, { key: key(5), epoch: 3 }))).toEqual([order.slice(0, 5), order.slice(5)]);
  });

  test("gives each epoch its own order, and the same order again for the same epoch", () => {
    const first = labels(batches(ds, 10, { key: key(1), epoch: 0 }));
    const again = labels(batches(ds, 10, { key: key(1), epoch: 0 }));
    const second = labels(batches(ds, 10, { key: key(1), epoch: 1 }));
    expect(again).toEqual(first);
    expect(second).not.toEqual(first);
    expect([...(second[0] ?? [])].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("can be iterated twice with the same batches", () => {
    const bs = batches(ds, 3, { key: key(2) });
    expect(labels(bs)).toEqual(labels(bs));
  });

  test("refuses inputs and labels of different lengths at the call, before any batch is made", () => {
    const bad: Dataset<Shape, Shape> = { x: zeros([10, 2]), y: zeros([9], "int32") };
    expect(() => batches(bad, 4)).toThrow(ShapeError);
    expect(() => batches(bad, 4)).toThrow("batches: x has 10 examples but y has 9");
  });

  test("refuses a batch size that is not a positive integer", () => {
    expect(() => batches(ds, 0)).toThrow("batches: the batch size must be a positive integer: 0 is not positive");
    expect(() => batches(ds, 2.5)).toThrow(ShapeError);
    expect(() => batches(ds, -1)).toThrow(ShapeError);
  });

  test("refuses an epoch that cannot be folded into the key", () => {
    expect(() => batches(ds, 2, { key: key(0), epoch: -1 })).toThrow(RangeError);
  });
});

describe("the doc examples run", () => {
  test("split a shuffled dataset and iterate full batches of the training part", () => {
    const digits = dataset(zeros([10000, 28, 28, 1]), zeros([10000], "int32"));
    const [train, test] = splitAt(shuffle(digits, key(0)), 8000);
    expect([train.x.shape[0], test.x.shape[0]]).toEqual([8000, 2000]);
    const order = batches(train, 64, { key: key(1), epoch: 0, dropLast: true });
    expect(order.length).toBe(125);
    const [first] = order;
    expect(first?.x.shape).toEqual([64, 28, 28, 1]);
    expect(first?.y.shape).toEqual([64]);
  });
});
