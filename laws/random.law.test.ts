/**
 * Laws of the PRNG, over random seeds, shapes (rank 0 to 3, dims of size 0
 * and 1 included), bounds and dtypes:
 *
 * - a sampler is a pure function of its key: the same key gives the same
 *   tensor, of the shape asked for;
 * - the keys of `split` and `foldIn` give streams different from each other
 *   and from their parent;
 * - `uniform` stays in `[minval, maxval)` and `randint` in `[minval, maxval)`.
 *
 * A failing law prints its seed and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { bernoulli, foldIn, key, normal, randint, randomBits, split, truncatedNormal, uniform } from "../src/random/index.js";

const numRuns = 100;

const seeds = fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 });

/** Shapes of rank 0 to 3 with small dims, 0 and 1 among them. */
const shapes = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 });

const floatDTypes = fc.constantFrom("float32" as const, "float64" as const);

/** Finite bounds `minval < maxval` that stay apart in float32. */
const bounds = fc
  .tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([lo, width, frac]) => ({ minval: lo / 8, maxval: lo / 8 + width / 8 + frac }));

describe("samplers are pure functions of the key", () => {
  test.prop([seeds, shapes, floatDTypes], { numRuns })("the same key gives the same tensor", (seed, shape, dtype) => {
    const k = key(seed);
    for (const draw of [
      () => uniform(k, shape, { dtype }),
      () => normal(k, shape, { dtype }),
      () => truncatedNormal(k, shape, -1, 1, { dtype }),
      () => bernoulli(k, 0.5, shape),
      () => randint(k, shape, -5, 5),
    ]) {
      const [x, y] = [draw(), draw()];
      expect(x.shape).toEqual(shape);
      expect(x.toArray()).toEqual(y.toArray());
    }
  });
});

describe("derived keys give new streams", () => {
  test.prop([seeds, fc.integer({ min: 2, max: 8 })], { numRuns })("split keys give different streams", (seed, n) => {
    const parent = key(seed);
    const streams = [parent, ...split(parent, n)].map((k) => [...randomBits(k, 4)].join(","));
    expect(new Set(streams).size).toBe(n + 1);
  });

  test.prop([seeds, fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })], { numRuns })(
    "foldIn with different data gives different streams",
    (seed, a, b) => {
      fc.pre(a !== b);
      const k = key(seed);
      expect([...randomBits(foldIn(k, a), 4)]).not.toEqual([...randomBits(foldIn(k, b), 4)]);
    },
  );
});

describe("samplers stay in range", () => {
  test.prop([seeds, shapes, bounds, floatDTypes], { numRuns })(
    "uniform lies in [minval, maxval)",
    (seed, shape, { minval, maxval }, dtype) => {
      const cast = dtype === "float32" ? Math.fround : (x: number) => x;
      for (const v of uniform(key(seed), shape, { minval, maxval, dtype }).data) {
        expect(v).toBeGreaterThanOrEqual(cast(minval));
        expect(v).toBeLessThan(cast(maxval));
      }
    },
  );

  test.prop([seeds, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 32 })], { numRuns })(
    "randint lies in [minval, maxval)",
    (seed, minval, span) => {
      const maxval = Math.min(2 ** 31, minval + span);
      for (const v of randint(key(seed), [16], minval, maxval).data) {
        expect(v).toBeGreaterThanOrEqual(minval);
        expect(v).toBeLessThan(maxval);
      }
    },
  );
});
