import { describe, expect, test } from "vitest";
import { arange, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import { dataset } from "../../src/data/dataset.js";
import { shuffle, splitAt, take } from "../../src/data/select.js";
import { key } from "../../src/random/key.js";
import { permutation } from "../../src/random/distributions.js";

/** Ten examples of two features each: example i is [2i, 2i + 1], labelled i. */
const ds = dataset(tensor(Array.from({ length: 10 }, (_, i) => [2 * i, 2 * i + 1])), arange(10, "int32"));

describe("take", () => {
  test("copies the rows at the indices, in their order, repeats allowed", () => {
    const t = take(ds, [3, 0, 3]);
    expect(t.x.toNested()).toEqual([[6, 7], [0, 1], [6, 7]]);
    expect(t.y.toArray()).toEqual([3, 0, 3]);
  });

  test("gives an empty dataset for no indices", () => {
    const t = take(ds, []);
    expect(t.x.shape).toEqual([0, 2]);
    expect(t.y.shape).toEqual([0]);
  });

  test("refuses an index out of range with a ShapeError", () => {
    expect(() => take(ds, [0, 10])).toThrow("take: index 10 (at position 1) is out of range for 10 examples");
    expect(() => take(ds, [-1])).toThrow(ShapeError);
    expect(() => take(ds, [0.5])).toThrow(ShapeError);
  });
});

describe("shuffle", () => {
  test("orders the examples by permutation(key, N), keeping x and y together", () => {
    const s = shuffle(ds, key(7));
    const order = permutation(key(7), 10).toArray();
    expect(s.y.toArray()).toEqual(order);
    expect(s.x.toNested()).toEqual(order.map((i) => [2 * i, 2 * i + 1]));
  });

  test("gives the same order for the same key and another for another key", () => {
    expect(shuffle(ds, key(1)).y.toArray()).toEqual(shuffle(ds, key(1)).y.toArray());
    expect(shuffle(ds, key(1)).y.toArray()).not.toEqual(shuffle(ds, key(2)).y.toArray());
  });
});

describe("splitAt", () => {
  test("splits into the first k examples and the rest", () => {
    const [first, rest] = splitAt(ds, 8);
    expect(first.y.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rest.y.toArray()).toEqual([8, 9]);
    expect(rest.x.toNested()).toEqual([[16, 17], [18, 19]]);
  });

  test("refuses a split point outside 0 to N", () => {
    // points known at run time only (literals past the end are compile errors)
    const past: number = 11;
    const negative: number = -1;
    expect(() => splitAt(ds, past)).toThrow("splitAt: the split point must be an integer from 0 to 10, got 11");
    expect(() => splitAt(ds, negative)).toThrow(ShapeError);
  });
});

describe("the doc examples run", () => {
  test("take, shuffle, splitAt", () => {
    expect(take(ds, [2, 0]).y.toArray()).toEqual([2, 0]);
    expect(shuffle(ds, key(0)).x.shape).toEqual([10, 2]);
    const [train, test] = splitAt(dataset(zeros([10000, 784]), zeros([10000], "int32")), 8000);
    expect([train.x.shape, test.y.shape]).toEqual([[8000, 784], [2000]]);
  });
});
