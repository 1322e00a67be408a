/**
 * Laws of the constructors, over random shapes (rank 0 to 4, dims of size 0
 * and 1 included) and random data of every dtype:
 *
 * - `fromArray(data, shape)` then `toArray()` gives back `data` exactly;
 * - `tensor(x.toNested())` is `x` again;
 * - data whose length is not the shape's size is always a `Left`, and a
 *   symbolic dim fits exactly the lengths the other dims divide;
 * - a ragged nested array is always refused.
 *
 * A failing law prints its seed and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect } from "vitest";
import { fromArray, tensor, zeros, type NestedInput } from "../src/core/create.js";
import type { DType } from "../src/core/dtype.js";
import { ShapeError } from "../src/core/errors.js";

const numRuns = 200;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Shapes of rank 0 to 4 with small dims, 0 and 1 among them. */
const shapes = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/** Values of each dtype, special ones included (NaN, -0, infinities, the int32 limits). */
const valuesOf: Record<DType, fc.Arbitrary<number | boolean>> = {
  float64: fc.double(),
  float32: fc.float(),
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  bool: fc.boolean(),
};

/** A dtype, a shape, and row-major data of exactly the shape's size. */
const tensorData = fc
  .record({ dtype: fc.constantFrom<DType>("float64", "float32", "int32", "bool"), shape: shapes })
  .chain(({ dtype, shape }) =>
    fc
      .array(valuesOf[dtype], { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
      .map((data) => ({ dtype, shape, data })),
  );

describe("fromArray and toArray", () => {
  test.prop([tensorData], { numRuns })("fromArray then toArray gives back the data exactly", ({ dtype, shape, data }) => {
    const x = fromArray(data, shape, dtype);
    expect(E.isRight(x)).toBe(true);
    if (E.isRight(x)) {
      expect(x.right.shape).toEqual(shape);
      expect(x.right.toArray()).toEqual(data); // toEqual tells -0 from 0 and matches NaN to NaN
    }
  });

  test.prop([shapes, fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0)], { numRuns })(
    "data whose length is not the shape's size is always a Left",
    (shape, delta) => {
      const length = sizeOf(shape) + delta;
      fc.pre(length >= 0);
      const x = fromArray(new Array<number>(length).fill(0), shape);
      expect(E.isLeft(x) && x.left.message).toMatch(/do not fit shape/);
    },
  );

  test.prop([shapes, fc.integer({ min: 0, max: 40 })], { numRuns })(
    "a symbolic dim fits exactly the lengths that the other dims divide",
    (shape, length) => {
      const known = sizeOf(shape);
      fc.pre(known > 0);
      const x = fromArray(new Float64Array(length), ["batch", ...shape]);
      if (length % known === 0) {
        expect(E.isRight(x) && x.right.shape).toEqual([length / known, ...shape]);
      } else {
        expect(E.isLeft(x)).toBe(true);
      }
    },
  );
});

describe("tensor and toNested", () => {
  /** The round trip holds when no dim before the last is 0 (a nested [] cannot tell what its rows would hold). */
  const nestable = tensorData.filter(({ shape }) => !shape.slice(0, -1).includes(0));

  test.prop([nestable], { numRuns })("tensor(x.toNested(), x.dtype) is x", ({ dtype, shape, data }) => {
    const x = fromArray(data, shape, dtype);
    if (E.isLeft(x)) throw x.left;
    const y = tensor(x.right.toNested(), dtype);
    expect(y.shape).toEqual(x.right.shape);
    expect(y.dtype).toBe(dtype);
    expect(y.toArray()).toEqual(x.right.toArray());
  });

  test.prop([nestable.filter(({ dtype }) => dtype === "float32")], { numRuns: 50 })(
    "tensor(x.toNested()) is x for a float32 x, the default dtype",
    ({ shape, data }) => {
      const x = fromArray(data, shape);
      if (E.isLeft(x)) throw x.left;
      const y = tensor(x.right.toNested());
      expect(y.dtype).toBe("float32");
      expect(y.shape).toEqual(x.right.shape);
      expect(y.toArray()).toEqual(x.right.toArray());
    },
  );
});

describe("ragged nested arrays", () => {
  /**
   * A nested array of some shape with one node at `level` spoilt: a row one
   * element longer or shorter, a row replaced by a number, or a number
   * replaced by a row. The level holds at least two nodes, so the spoilt one
   * has a sibling to disagree with.
   */
  const ragged = fc
    .record({
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
      level: fc.nat(),
      index: fc.nat(),
      grow: fc.boolean(),
      flatten: fc.boolean(),
    })
    .map(({ shape, level, index, grow, flatten }) => {
      const depth = 1 + (level % shape.length); // 1..rank: the root (depth 0) has no siblings
      const count = sizeOf(shape.slice(0, depth));
      return { shape, depth, count, index: count === 0 ? 0 : index % count, grow, flatten };
    })
    .filter(({ count }) => count >= 2)
    .map(({ shape, depth, index, grow, flatten }) => {
      // zeros(shape).toNested() is a plain nested array of that shape; a copy to spoil.
      const nested = structuredClone(zeros(shape).toNested()) as NestedInput[];
      // The path to the node: `index` unravelled over the dims above it.
      const path = shape
        .slice(0, depth)
        .reduceRight<{ path: number[]; rest: number }>(
          ({ path: p, rest }, n) => ({ path: [rest % n, ...p], rest: Math.floor(rest / n) }),
          { path: [], rest: index },
        ).path;
      const parentPath = path.slice(0, -1);
      const last = path[path.length - 1] ?? 0;
      // Every node above `depth` is an array in a nested array of this shape.
      const parent = parentPath.reduce<NestedInput[]>((node, i) => node[i] as NestedInput[], nested);
      const node = parent[last];
      if (depth === shape.length) parent[last] = [0]; // a number where the shape wants a number: make it a row
      else if (flatten) parent[last] = 0; // a row where the shape wants a row: make it a number
      else {
        // Every node above the leaves is an array in a nested array of this shape.
        const row = node as NestedInput[];
        const filler = depth === shape.length - 1 ? 0 : structuredClone(zeros(shape.slice(depth + 1)).toNested());
        if (grow || row.length === 0) row.push(filler);
        else row.pop();
      }
      return { shape, nested };
    });

  test.prop([ragged], { numRuns })("tensor throws a ShapeError for every ragged nested array", ({ nested }) => {
    expect(() => tensor(nested)).toThrow(ShapeError);
    expect(() => tensor(nested)).toThrow(/ragged nested array/);
  });

  test.prop([ragged], { numRuns })("fromArray gives a Left for every ragged nested array", ({ shape, nested }) => {
    expect(E.isLeft(fromArray(nested, shape))).toBe(true);
  });
});
