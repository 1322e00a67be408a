/**
 * Shared generators of the op laws: naive arrays (a shape and row-major
 * data) and arbitraries of the public ops' arguments, over random shapes
 * with dims of size 0 and 1 included. `ops.law.test.ts` checks every op
 * against a naive reference with them; `autodiff.law.test.ts` maps the same
 * arguments onto each op's differentiable domain.
 *
 * Values are doubles in [-10, 10] and small integers now and then, so that
 * ties occur; a law that needs another domain passes its own `values`, or
 * maps the data.
 */

import fc from "fast-check";
import type { SliceSpec } from "../../src/core/rules/slice.js";

/** What a reference computes: a shape and the elements in row-major order. */
export interface Naive {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** The number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** A dim of 0 to 4. */
export const dim = fc.integer({ min: 0, max: 4 });
/** A shape of rank `minRank` to `maxRank`. */
export const shapeOf = (minRank: number, maxRank: number): fc.Arbitrary<number[]> => fc.array(dim, { minLength: minRank, maxLength: maxRank });

/** Values: doubles in [-10, 10], and small integers now and then so that ties occur. */
export const value = fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.integer({ min: -3, max: 3 }));

/** A naive array of `shape` with elements from `values`. */
export const dataFor = (shape: readonly number[], values: fc.Arbitrary<number> = value): fc.Arbitrary<Naive> =>
  fc.array(values, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) => ({ shape, data }));

/** A naive array of rank `minRank` to `maxRank`. */
export const arrayOf = (minRank: number, maxRank: number, values?: fc.Arbitrary<number>): fc.Arbitrary<Naive> =>
  shapeOf(minRank, maxRank).chain((shape) => dataFor(shape, values));

/** A shape that broadcasts to `shape`: a suffix of it with some dims made 1. */
export const broadcastableTo = (shape: readonly number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
    .map(([drop, ones]) => shape.slice(drop).map((d, i) => (ones[i + drop] === true ? 1 : d)));

/** Two arrays whose shapes broadcast together, either one the larger. */
export const broadcastPair = (values?: fc.Arbitrary<number>): fc.Arbitrary<[Naive, Naive]> =>
  shapeOf(0, 3).chain((shape) =>
    fc
      .tuple(broadcastableTo(shape), broadcastableTo(shape), fc.boolean())
      .chain(([a, b, swap]) => fc.tuple(dataFor(swap ? shape : a, values), dataFor(swap ? b : shape, values))),
  );

/** Distinct axes of a rank, some written negative, or undefined for all. */
export const axesOf = (rank: number): fc.Arbitrary<number[] | undefined> =>
  fc.option(
    fc.uniqueArray(fc.integer({ min: 0, max: Math.max(rank - 1, 0) }), { maxLength: rank }).chain((axes) =>
      fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }).map((neg) => axes.map((a, i) => (neg[i] === true ? a - rank : a))),
    ),
    { nil: undefined },
  );

/** One axis of a rank (possibly negative); the rank must be at least 1. */
export const axisOf = (rank: number): fc.Arbitrary<number> => fc.integer({ min: -rank, max: rank - 1 });

/** The operands of a matmul. */
export interface MatmulArgs {
  readonly a: Naive;
  readonly b: Naive;
}

/** Operands of matmul: rank 1 or 2 plus batch dims that broadcast, inner dims equal. */
export const matmulArgs: fc.Arbitrary<MatmulArgs> = fc
  .record({ batch: shapeOf(0, 2), m: dim, k: dim, n: dim, vectorA: fc.boolean(), vectorB: fc.boolean() })
  .chain(({ batch, m, k, n, vectorA, vectorB }) =>
    fc.tuple(broadcastableTo(batch), broadcastableTo(batch)).chain(([ba, bb]) =>
      fc.record({
        a: dataFor(vectorA ? [k] : [...ba, m, k]),
        b: dataFor(vectorB ? [k] : [...bb, k, n]),
      }),
    ),
  );

/** A reshape target: the dims of the shape shuffled, 1s inserted, and one dim made -1 where that is allowed. */
export const reshapeArgs = arrayOf(0, 4).chain((x) =>
  fc
    .record({
      dims: fc.shuffledSubarray([...x.shape], { minLength: x.shape.length, maxLength: x.shape.length }),
      ones: fc.integer({ min: 0, max: 2 }),
      inferred: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ dims, ones, inferred }) => {
      const target = [...dims, ...new Array<number>(ones).fill(1)];
      const i = inferred === undefined || target.length === 0 ? -1 : inferred % target.length;
      const others = sizeOf(target.filter((_, j) => j !== i));
      return { x, target: i >= 0 && others !== 0 ? target.map((d, j) => (j === i ? -1 : d)) : target };
    }),
);

/** A slice spec for an axis of size `d`: all, an index, or a range with a step (bounds may lie outside). */
export const specFor = (d: number): fc.Arbitrary<SliceSpec> =>
  fc.oneof(
    fc.constant(null),
    ...(d > 0 ? [fc.integer({ min: -d, max: d - 1 })] : []),
    fc.record(
      {
        start: fc.integer({ min: -d - 2, max: d + 2 }),
        stop: fc.integer({ min: -d - 2, max: d + 2 }),
        step: fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0),
      },
      { requiredKeys: [] },
    ),
  );

// Reductions, normalisations and products.

/** The arguments of a reduction: an array, axes (or none for all) and keepDims. */
export interface Reduced {
  readonly x: Naive;
  readonly axes: number[] | undefined;
  readonly keepDims: boolean;
}

/** Reductions over random axes of arrays of rank 0 to 4. */
export const reducedArgs: fc.Arbitrary<Reduced> = arrayOf(0, 4).chain((x) =>
  fc.record({ x: fc.constant(x), axes: axesOf(x.shape.length), keepDims: fc.boolean() }),
);

/** The arguments of a normalisation (softmax): an array of rank >= 1 and axes. */
export interface Normalized {
  readonly x: Naive;
  readonly axes: number[];
}

/** Normalisations over random axes (the last when none are drawn). */
export const normalizedArgs: fc.Arbitrary<Normalized> = arrayOf(1, 4).chain((x) =>
  fc.record({ x: fc.constant(x), axes: axesOf(x.shape.length).map((axes) => axes ?? [-1]) }),
);

/** Two vectors of one length. */
export const vectorPair = dim.chain((k) => fc.tuple(dataFor([k]), dataFor([k])));

// Shape ops.

/** The padding of one axis: 0 to 2 before and after. */
export const widthOf = fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }));

/** The arguments of `flatten`: an array of rank >= 1 and a range of its axes (`end` negative). */
export const flattenArgs: fc.Arbitrary<{ x: Naive; start: number; end: number }> = arrayOf(1, 4).chain((x) =>
  fc
    .tuple(fc.nat({ max: x.shape.length - 1 }), fc.nat({ max: x.shape.length - 1 }))
    .map(([p, q]) => ({ x, start: Math.min(p, q), end: Math.max(p, q) - x.shape.length })),
);

/** The arguments of `transpose`: an array and a permutation of its axes, or none (reverse). */
export const transposeArgs: fc.Arbitrary<{ x: Naive; perm: number[] | undefined }> = arrayOf(0, 4).chain((x) => {
  const axes = x.shape.map((_, i) => i);
  return fc.record({ x: fc.constant(x), perm: fc.option(fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length }), { nil: undefined }) });
});

/** The arguments of `swapAxes`: an array of rank >= 1 and two of its axes. */
export const swapAxesArgs: fc.Arbitrary<{ x: Naive; a: number; b: number }> = arrayOf(1, 4).chain((x) => fc.record({ x: fc.constant(x), a: axisOf(x.shape.length), b: axisOf(x.shape.length) }));

/** The arguments of `squeeze`: an array with some dims made 1 and some of those axes, or none (all). */
export const squeezeArgs: fc.Arbitrary<{ x: Naive; axes: number[] | undefined }> = shapeOf(0, 4)
  .chain((shape) => fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }).map((ones) => shape.map((d, i) => (ones[i] === true ? 1 : d))))
  .chain((shape) => {
    const ones = shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return fc.record({ x: dataFor(shape), axes: fc.option(fc.subarray(ones), { nil: undefined }) });
  });

/** The arguments of `expandDims`: an array and a new axis. */
export const expandDimsArgs: fc.Arbitrary<{ x: Naive; axis: number }> = arrayOf(0, 3).chain((x) => fc.record({ x: fc.constant(x), axis: axisOf(x.shape.length + 1) }));

/** The arguments of `concat`: one to three arrays that differ only along `axis`. */
export const concatArgs: fc.Arbitrary<{ xs: Naive[]; axis: number }> = shapeOf(1, 3).chain((shape) =>
  fc.record({ axis: axisOf(shape.length), sizes: fc.array(dim, { minLength: 1, maxLength: 3 }) }).chain(({ axis, sizes }) => {
    const a = axis < 0 ? axis + shape.length : axis;
    return fc.record({ axis: fc.constant(axis), xs: fc.tuple(...sizes.map((s) => dataFor(shape.map((d, i) => (i === a ? s : d))))) });
  }),
);

/** The arguments of `stack`: one to three arrays of one shape and a new axis. */
export const stackArgs: fc.Arbitrary<{ xs: Naive[]; axis: number }> = shapeOf(0, 3).chain((shape) =>
  fc.record({ axis: axisOf(shape.length + 1), xs: fc.array(dataFor(shape), { minLength: 1, maxLength: 3 }) }),
);

/** The arguments of `slice`: an array and a spec for some of its leading axes. */
export const sliceArgs: fc.Arbitrary<{ x: Naive; specs: SliceSpec[] }> = arrayOf(0, 3).chain((x) =>
  fc.nat({ max: x.shape.length }).chain((n) => fc.record({ x: fc.constant(x), specs: fc.tuple(...x.shape.slice(0, n).map(specFor)) })),
);

/** The arguments of `broadcastTo`: an array and a target shape it broadcasts to. */
export const broadcastToArgs: fc.Arbitrary<{ x: Naive; target: number[] }> = shapeOf(0, 3).chain((target) => broadcastableTo(target).chain((shape) => fc.record({ x: dataFor(shape), target: fc.constant(target) })));

/** The arguments of `pad`: an array, widths of 0 to 2 per side of each axis, and a padding value. */
export const padArgs: fc.Arbitrary<{ x: Naive; widths: [number, number][]; value: number }> = arrayOf(0, 3).chain((x) =>
  fc.record({ x: fc.constant(x), widths: fc.array(widthOf, { minLength: x.shape.length, maxLength: x.shape.length }), value }),
);

/** The arguments of `tile`: an array and 0 to 3 repetitions per axis. */
export const tileArgs: fc.Arbitrary<{ x: Naive; reps: number[] }> = arrayOf(0, 3).chain((x) =>
  fc.record({ x: fc.constant(x), reps: fc.array(fc.nat({ max: 3 }), { minLength: x.shape.length, maxLength: x.shape.length }) }),
);

/** The arguments of `repeat`: an array of rank >= 1, 0 to 3 repetitions and an axis. */
export const repeatArgs: fc.Arbitrary<{ x: Naive; repeats: number; axis: number }> = arrayOf(1, 3).chain((x) => fc.record({ x: fc.constant(x), repeats: fc.nat({ max: 3 }), axis: axisOf(x.shape.length) }));

/** The arguments of `take`: an array with at least one row, and in-range int32 indices of rank 0 to 2. */
export const takeArgs: fc.Arbitrary<{ x: Naive; indices: Naive }> = fc
  .tuple(fc.integer({ min: 1, max: 4 }), shapeOf(0, 2))
  .chain(([rows, row]) => fc.record({ x: dataFor([rows, ...row]), indices: arrayOf(0, 2, fc.integer({ min: 0, max: rows - 1 })) }));
