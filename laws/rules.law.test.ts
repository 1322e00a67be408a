/**
 * Laws of the run-time shape rules, against a naive reference and against
 * each other:
 *
 * 1. every rule gives the shape of what the naive reference op
 *    (`laws/support/naive.ts`) computes on nested arrays of that shape, and
 *    throws a `ShapeError` exactly when the reference refuses the call;
 * 2. broadcasting is commutative, associative where defined, has `[]` and
 *    all-ones shapes as identities, and is idempotent;
 * 3. reshaping round-trips (and keeps the elements in order), `-1` stands for
 *    the explicit dim, and flatten is undone by reshape;
 * 4. permutations compose, and transposing twice is the identity.
 *
 * Shapes have rank 0 to 4 and dims 0 to 4, now and then up to 12 (up to
 * 50257 where no array is built). Arguments are typed `number[]`, so the
 * rules' compile-time checks defer to run time. `STRATUM_HEAVY=1` runs more
 * cases; a failing law prints its seed and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { ShapeError } from "../src/core/errors.js";
import { broadcastShapes } from "../src/core/rules/broadcast.js";
import { concatShape, stackShape } from "../src/core/rules/concat.js";
import { convOutSize, poolOutSize } from "../src/core/rules/conv.js";
import { matmulShape } from "../src/core/rules/matmul.js";
import { permuteShape, transposeShape } from "../src/core/rules/permute.js";
import { reduceShape } from "../src/core/rules/reduce.js";
import { flattenShape, reshapeShape } from "../src/core/rules/reshape.js";
import { sliceShape } from "../src/core/rules/slice.js";
import { expandDimsShape, squeezeShape } from "../src/core/rules/squeeze.js";
import * as naive from "./support/naive.js";
import { counting, Refused, shapeOf, type Nested, type Padding, type Spec } from "./support/naive.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const numRuns = heavy ? 2000 : 100;

// ---------------------------------------------------------------------------
// Verdicts

/** What a rule or the reference made of a call: a shape, or a refusal. */
type Verdict = readonly number[] | "refused";

/** The rule's shape, or "refused" for a `ShapeError`; any other throw is a bug and fails the law. */
function ruleVerdict(rule: () => readonly number[]): [Verdict, string] {
  try {
    const shape = rule();
    return [shape, `[${shape}]`];
  } catch (e) {
    if (e instanceof ShapeError) return ["refused", e.message];
    throw e;
  }
}

/** The shape read off the reference's result, or "refused" when it throws `Refused`. */
function referenceVerdict(reference: () => Nested): [Verdict, string] {
  try {
    const shape = shapeOf(reference());
    return [shape, `[${shape}]`];
  } catch (e) {
    if (e instanceof Refused) return ["refused", e.message];
    throw e;
  }
}

/** The rule gives the shape of the reference's result, or throws a `ShapeError` exactly when the reference refuses. */
function expectAgreement(rule: () => readonly number[], reference: () => Nested): Verdict {
  const [want, because] = referenceVerdict(reference);
  const [got, why] = ruleVerdict(rule);
  expect(got, `rule: ${why}; reference: ${because}`).toEqual(want);
  return want;
}

/** As `expectAgreement`, on arguments valid by construction: the reference must not refuse. */
function expectSameShape(rule: () => readonly number[], reference: () => Nested): void {
  expect(expectAgreement(rule, reference), "the reference refused valid arguments").not.toBe("refused");
}

// ---------------------------------------------------------------------------
// Shapes and arguments

const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** `true` about one time in four. */
const rarely = fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/** Mostly 0 to 4, now and then up to 12. */
const dim = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 5, max: 12 }) });

/** Shapes small enough to build as nested arrays (a 0 counts as 1: an empty array still records an element). */
const shape = (minLength = 0, maxLength = 4): fc.Arbitrary<number[]> =>
  fc.array(dim, { minLength, maxLength }).filter((s) => sizeOf(s.map((d) => Math.max(d, 1))) <= 1024);

/** A shape from `shapes` and arguments drawn for it. */
const withArgs = <T>(shapes: fc.Arbitrary<number[]>, args: (s: number[]) => fc.Arbitrary<T>): fc.Arbitrary<[number[], T]> =>
  shapes.chain((s) => args(s).map((t): [number[], T] => [s, t]));

/** `n` booleans. */
const bools = (n: number): fc.Arbitrary<boolean[]> => fc.array(fc.boolean(), { minLength: n, maxLength: n });

/** An axis `i` of a rank, sometimes written as `i - rank`. */
const written = (axis: number, rank: number, negative: boolean): number => (negative ? axis - rank : axis);

/** Any axis in range of `rank`, or one or two past either end. */
const anyAxis = (rank: number): fc.Arbitrary<number> => fc.integer({ min: -rank - 2, max: rank + 1 });

/** `s` with the dim at `i` (taken modulo the rank) set to `d`. */
const setDim = (s: readonly number[], i: number, d: number): number[] => s.map((x, k) => (k === i % s.length ? d : x));

/** A shape like `base` with some dims replaced by 1 and some leading dims dropped: it broadcasts against `base`. */
const variant = (base: readonly number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(bools(base.length), fc.nat({ max: base.length }))
    .map(([ones, drop]) => base.map((d, i) => (ones[i] === true ? 1 : d)).slice(drop));

/** Two shapes that broadcast. */
const broadcastPair = (base: fc.Arbitrary<number[]>): fc.Arbitrary<[number[], number[]]> => base.chain((s) => fc.tuple(variant(s), variant(s)));

/** Two shapes that may not broadcast: a broadcasting pair with one dim changed, or two unrelated shapes. */
const anyPair = (base: fc.Arbitrary<number[]>, d: fc.Arbitrary<number>): fc.Arbitrary<[number[], number[]]> =>
  fc.oneof(
    fc
      .tuple(broadcastPair(base), fc.nat(), d)
      .map(([[a, b], i, x]): [number[], number[]] => [a, b.length === 0 ? [x] : setDim(b, i, x)]),
    fc.tuple(base, base),
  );

/** The prime factors of a dim, with 0 as its own factor. */
function factors(d: number): number[] {
  if (d === 0) return [0];
  const out: number[] = [];
  for (let p = 2, rest = d; rest > 1; p++) {
    for (; rest % p === 0; rest /= p) out.push(p);
  }
  return out;
}

/** A shape of rank 0 to 4 with the same size as `s`: its dims' factors dealt out at random. */
const factorization = (s: readonly number[]): fc.Arbitrary<number[]> => {
  const all = s.flatMap(factors);
  return fc
    .tuple(fc.integer({ min: all.length === 0 ? 0 : 1, max: 4 }), fc.array(fc.nat(), { minLength: all.length, maxLength: all.length }))
    .map(([rank, deal]) => {
      const target = new Array<number>(rank).fill(1);
      all.forEach((f, i) => {
        const k = (deal[i] ?? 0) % rank;
        target[k] = (target[k] ?? 1) * f;
      });
      return target;
    });
};

/** `perm` inverted: `inverse(p)[p[k]] = k` (axes of `p` may be negative). */
const inverse = (perm: readonly number[]): number[] => {
  const out = new Array<number>(perm.length).fill(0);
  perm.forEach((axis, k) => (out[axis < 0 ? axis + perm.length : axis] = k));
  return out;
};

/** A permutation of the axes of a rank, some axes written negative. */
const permutation = (rank: number): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.shuffledSubarray(range(rank), { minLength: rank, maxLength: rank }), bools(rank))
    .map(([perm, negative]) => perm.map((axis, k) => written(axis, rank, negative[k] === true)));

// ---------------------------------------------------------------------------
// 1. Every rule agrees with the naive reference

describe("every run-time shape rule gives the shape of what the naive reference computes", () => {
  describe("broadcastShapes", () => {
    test.prop([broadcastPair(shape())], { numRuns })("is the shape of add(a, b) when a and b broadcast", ([a, b]) => {
      expectSameShape(
        () => broadcastShapes(a, b),
        () => naive.add(counting(a), counting(b)),
      );
    });

    test.prop([anyPair(shape(), dim)], { numRuns })("throws a ShapeError exactly when add refuses", ([a, b]) => {
      expectAgreement(
        () => broadcastShapes(a, b),
        () => naive.add(counting(a), counting(b)),
      );
    });
  });

  describe("matmulShape", () => {
    const small = fc.integer({ min: 0, max: 4 });
    interface Operands {
      readonly batch: readonly [number[], number[]];
      readonly m: number;
      readonly k: number;
      readonly n: number;
      readonly vectorA: boolean;
      readonly vectorB: boolean;
    }
    /** Batch dims that broadcast, the matrix dims, and whether each operand is a vector instead. */
    const operands = fc.record({
      batch: broadcastPair(fc.array(small, { maxLength: 2 })),
      m: small,
      k: small,
      n: small,
      vectorA: rarely,
      vectorB: rarely,
    });
    const shapesOf = ({ batch: [batchA, batchB], m, k, n, vectorA, vectorB }: Operands): [number[], number[]] => [
      vectorA ? [k] : [...batchA, m, k],
      vectorB ? [k] : [...batchB, k, n],
    ];
    const valid = operands.map(shapesOf);
    /** Valid operands spoilt: other inner dims, a batch dim changed, or a scalar operand. */
    const spoilt = fc.oneof(
      fc.tuple(operands, small).map(([o, k]): [number[], number[]] => {
        const [a, b] = shapesOf(o);
        return [a, setDim(b, Math.max(b.length - 2, 0), k)];
      }),
      fc.tuple(operands, fc.nat(), small).map(([o, i, d]) => {
        const [batchA, batchB] = o.batch;
        return shapesOf({ ...o, batch: [batchA, batchB.length === 0 ? [d] : setDim(batchB, i, d)] });
      }),
      fc.tuple(operands, fc.boolean()).map(([o, left]): [number[], number[]] => {
        const [a, b] = shapesOf(o);
        return left ? [[], b] : [a, []];
      }),
    );

    test.prop([valid], { numRuns })("is the shape of matmul(a, b), vectors and broadcast batch dims included", ([a, b]) => {
      expectSameShape(
        () => matmulShape(a, b),
        () => naive.matmul(counting(a), counting(b)),
      );
    });

    test.prop([spoilt], { numRuns })("throws a ShapeError exactly when matmul refuses", ([a, b]) => {
      expectAgreement(
        () => matmulShape(a, b),
        () => naive.matmul(counting(a), counting(b)),
      );
    });
  });

  describe("permuteShape and transposeShape", () => {
    const valid = withArgs(shape(), (s) => permutation(s.length));
    /** A permutation spoilt: an axis added, repeated, dropped or out of range; or any list of axes. */
    const spoilt = withArgs(shape(), (s) => {
      const p = permutation(s.length);
      return fc.oneof(
        fc.tuple(p, anyAxis(s.length)).map(([perm, axis]) => [...perm, axis]),
        fc.tuple(p, fc.nat(), fc.nat()).map(([perm, i, j]) => (perm.length === 0 ? perm : setDim(perm, i, perm[j % perm.length] ?? 0))),
        p.map((perm) => perm.slice(1)),
        fc.tuple(p, fc.nat(), fc.boolean()).map(([perm, i, low]) => (perm.length === 0 ? perm : setDim(perm, i, low ? -s.length - 1 : s.length))),
        fc.array(anyAxis(s.length), { maxLength: 5 }),
      );
    });

    test.prop([valid], { numRuns })("permuteShape(s, p) is the shape of transpose(x, p)", ([s, p]) => {
      expectSameShape(
        () => permuteShape(s, p),
        () => naive.transpose(counting(s), p),
      );
    });

    test.prop([spoilt], { numRuns })("permuteShape throws a ShapeError exactly when transpose refuses", ([s, p]) => {
      expectAgreement(
        () => permuteShape(s, p),
        () => naive.transpose(counting(s), p),
      );
    });

    test.prop([shape()], { numRuns })("transposeShape(s) is the shape of transpose(x) with the axes reversed", (s) => {
      expectSameShape(
        () => transposeShape(s),
        () => naive.transpose(counting(s)),
      );
    });
  });

  describe("reshapeShape", () => {
    /** A target of the same size, one of its dims sometimes written -1 (never beside a 0, which leaves -1 open). */
    const valid = withArgs(shape(), (s) =>
      fc.tuple(factorization(s), fc.option(fc.nat(), { nil: undefined })).map(([t, at]) => {
        if (at === undefined || t.length === 0) return t;
        const i = at % t.length;
        return sizeOf(t.filter((_, k) => k !== i)) === 0 ? t : setDim(t, i, -1);
      }),
    );
    /** Targets that may not fit: a shape of every kind (with a -1 sometimes), two -1s, or a dim that is neither a size nor -1. */
    const spoilt = withArgs(shape(), (s) =>
      fc.oneof(
        fc.tuple(shape(), fc.option(fc.nat(), { nil: undefined })).map(([t, at]) => (at === undefined || t.length === 0 ? t : setDim(t, at, -1))),
        factorization(s).map((t) => [-1, ...t, -1]),
        fc.tuple(factorization(s), fc.nat(), fc.constantFrom(-2, 1.5, Number.NaN)).map(([t, i, d]) => setDim([...t, 1], i, d)),
      ),
    );

    test.prop([valid], { numRuns })("is the shape of reshape(x, t) for any target of the same size", ([s, t]) => {
      expectSameShape(
        () => reshapeShape(s, t),
        () => naive.reshape(counting(s), t),
      );
    });

    test.prop([spoilt], { numRuns })("throws a ShapeError exactly when reshape refuses", ([s, t]) => {
      expectAgreement(
        () => reshapeShape(s, t),
        () => naive.reshape(counting(s), t),
      );
    });
  });

  describe("flattenShape", () => {
    /** The axes to merge, or `undefined` for the defaults (1, -1). */
    type Axes = readonly [start: number, end: number] | undefined;
    /** Axes start <= end (either written negative), or the defaults on rank 2 or more. */
    const valid = withArgs(shape(1), (s) => {
      const axis = fc.nat({ max: s.length - 1 });
      return fc.tuple(axis, axis, bools(2), rarely).map(([i, j, [negativeStart, negativeEnd], defaults]): Axes => {
        if (defaults && s.length >= 2) return undefined;
        return [written(Math.min(i, j), s.length, negativeStart === true), written(Math.max(i, j), s.length, negativeEnd === true)];
      });
    });
    /** Any axes, or the defaults on any rank. */
    const spoilt = withArgs(shape(), (s) => fc.option(fc.tuple(anyAxis(s.length), anyAxis(s.length)), { nil: undefined }));
    const flattenRule = (s: number[], axes: Axes): number[] => (axes === undefined ? flattenShape(s) : flattenShape(s, axes[0], axes[1]));
    const flattenReference = (s: number[], axes: Axes): Nested =>
      axes === undefined ? naive.flatten(counting(s)) : naive.flatten(counting(s), axes[0], axes[1]);

    test.prop([valid], { numRuns })("is the shape of flatten(x, start, end)", ([s, axes]) => {
      expectSameShape(
        () => flattenRule(s, axes),
        () => flattenReference(s, axes),
      );
    });

    test.prop([spoilt], { numRuns })("throws a ShapeError exactly when flatten refuses", ([s, axes]) => {
      expectAgreement(
        () => flattenRule(s, axes),
        () => flattenReference(s, axes),
      );
    });
  });

  describe("squeezeShape and expandDimsShape", () => {
    /** Some of the size-1 axes in any order (some written negative), or none named: every size-1 axis. */
    const valid = withArgs(shape(), (s) => {
      const ones = range(s.length).filter((i) => s[i] === 1);
      const axes = fc
        .tuple(fc.shuffledSubarray(ones), bools(s.length))
        .map(([picked, negative]) => picked.map((axis) => written(axis, s.length, negative[axis] === true)));
      return fc.option(axes, { nil: undefined });
    });
    /** Size-1 axes with one named twice (the second time from the other end), or any axes: of size other than 1, repeated, or out of range. */
    const spoilt = fc.oneof(
      valid.map(([s, axes]): [number[], number[] | undefined] => {
        const first = axes?.[0];
        return [s, first === undefined ? axes : [...(axes ?? []), first < 0 ? first + s.length : first - s.length]];
      }),
      withArgs(shape(), (s) => fc.option(fc.array(anyAxis(s.length), { maxLength: 3 }), { nil: undefined })),
    );

    test.prop([valid], { numRuns })("squeezeShape(s, axes) is the shape of squeeze(x, axes)", ([s, axes]) => {
      expectSameShape(
        () => squeezeShape(s, axes),
        () => naive.squeeze(counting(s), axes),
      );
    });

    test.prop([spoilt], { numRuns })("squeezeShape throws a ShapeError exactly when squeeze refuses", ([s, axes]) => {
      expectAgreement(
        () => squeezeShape(s, axes),
        () => naive.squeeze(counting(s), axes),
      );
    });

    test.prop([withArgs(shape(), (s) => fc.integer({ min: -s.length - 1, max: s.length }))], { numRuns })(
      "expandDimsShape(s, axis) is the shape of expandDims(x, axis)",
      ([s, axis]) => {
        expectSameShape(
          () => expandDimsShape(s, axis),
          () => naive.expandDims(counting(s), axis),
        );
      },
    );

    test.prop([withArgs(shape(), (s) => fc.integer({ min: -s.length - 3, max: s.length + 2 }))], { numRuns })(
      "expandDimsShape throws a ShapeError exactly when expandDims refuses",
      ([s, axis]) => {
        expectAgreement(
          () => expandDimsShape(s, axis),
          () => naive.expandDims(counting(s), axis),
        );
      },
    );
  });

  describe("concatShape and stackShape", () => {
    /** Shapes to join and an axis. */
    type Join = readonly [shapes: number[][], axis: number];
    /** `shapes` and one more: the first with a dim more or a dim fewer. */
    const oneOfOtherRank = fc.tuple(dim, fc.boolean()).map(([d, longer]) => ([shapes, axis]: Join): Join => {
      const first = shapes[0] ?? [];
      return [[...shapes, longer ? [...first, d] : first.slice(0, -1)], axis];
    });
    /** No shapes at all. */
    const none = fc.integer({ min: -2, max: 2 }).map((axis): Join => [[], axis]);

    /** One to three shapes that differ only at `axis`. */
    const joinable = shape(1, 3).chain((s) =>
      fc
        .tuple(fc.nat({ max: s.length - 1 }), fc.boolean(), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }))
        .map(([axis, negative, sizes]): Join => [sizes.map((d) => setDim(s, axis, d)), written(axis, s.length, negative)]),
    );
    /** Joinable shapes spoilt: another dim changed, another rank, no shapes, or an axis out of range. */
    const notJoinable = fc.oneof(
      fc.tuple(joinable, fc.nat(), fc.nat(), dim).map(([[shapes, axis], k, i, d]): Join => {
        const spoilt = shapes.map((s, j) => (j === k % shapes.length ? setDim(s, i, d) : s));
        return [spoilt, axis];
      }),
      fc.tuple(joinable, oneOfOtherRank).map(([join, spoil]) => spoil(join)),
      none,
      joinable.chain(([shapes]) => anyAxis(shapes[0]?.length ?? 0).map((axis): Join => [shapes, axis])),
    );
    /** One to three equal shapes and an axis of the result. */
    const stackable = shape(0, 3).chain((s) =>
      fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -s.length - 1, max: s.length }))
        .map(([count, axis]): Join => [new Array<number[]>(count).fill(s), axis]),
    );
    /** Equal shapes spoilt: one more of another shape (a dim changed, one more or one fewer), none, or an axis out of range. */
    const notStackable = fc.oneof(
      fc.tuple(stackable, fc.nat(), dim).map(([[shapes, axis], i, d]): Join => {
        const first = shapes[0] ?? [];
        return [[...shapes, first.length === 0 ? [d] : setDim(first, i, d)], axis];
      }),
      fc.tuple(stackable, oneOfOtherRank).map(([join, spoil]) => spoil(join)),
      none,
      stackable.chain(([shapes]) => {
        const rank = shapes[0]?.length ?? 0;
        return fc.integer({ min: -rank - 3, max: rank + 2 }).map((axis): Join => [shapes, axis]);
      }),
    );

    test.prop([joinable], { numRuns })("concatShape(shapes, axis) is the shape of concat(xs, axis)", ([shapes, axis]) => {
      expectSameShape(
        () => concatShape(shapes, axis),
        () => naive.concat(shapes.map(counting), axis),
      );
    });

    test.prop([notJoinable], { numRuns })("concatShape throws a ShapeError exactly when concat refuses", ([shapes, axis]) => {
      expectAgreement(
        () => concatShape(shapes, axis),
        () => naive.concat(shapes.map(counting), axis),
      );
    });

    test.prop([stackable], { numRuns })("stackShape(shapes, axis) is the shape of stack(xs, axis)", ([shapes, axis]) => {
      expectSameShape(
        () => stackShape(shapes, axis),
        () => naive.stack(shapes.map(counting), axis),
      );
    });

    test.prop([notStackable], { numRuns })("stackShape throws a ShapeError exactly when stack refuses", ([shapes, axis]) => {
      expectAgreement(
        () => stackShape(shapes, axis),
        () => naive.stack(shapes.map(counting), axis),
      );
    });
  });

  describe("sliceShape", () => {
    /** A range with bounds up to 3 past either end of an axis of size `d`, any field omitted. */
    const rangeSpec = (d: number, steps: readonly number[]): fc.Arbitrary<Spec> => {
      const bound = fc.integer({ min: -d - 3, max: d + 3 });
      return fc.record({ start: bound, stop: bound, step: fc.constantFrom(...steps) }, { requiredKeys: [] });
    };
    /** A spec that fits an axis of size `d`: the whole axis, an index in range, or any range. */
    const fitting = (d: number): fc.Arbitrary<Spec> =>
      fc.oneof(fc.constant(null), ...(d > 0 ? [fc.integer({ min: -d, max: d - 1 })] : []), rangeSpec(d, [1, 2, 3, -1, -2, -3]));
    /** A spec that may not fit: an index out of range, or a zero step. */
    const anySpec = (d: number): fc.Arbitrary<Spec> => fc.oneof(fitting(d), fc.integer({ min: -d - 2, max: d + 1 }), rangeSpec(d, [0, 1, -1]));
    /** Specs for the leading axes of `s`, one drawn by `spec` for each. */
    const specsFor = (s: readonly number[], spec: (d: number) => fc.Arbitrary<Spec>): fc.Arbitrary<Spec[]> =>
      fc.nat({ max: s.length }).chain((count) => fc.tuple(...s.slice(0, count).map(spec)));
    const valid = withArgs(shape(), (s) => specsFor(s, fitting));
    /** Specs that may not fit, or one spec too many. */
    const spoilt = withArgs(shape(), (s) =>
      fc.oneof(specsFor(s, anySpec), fc.array(fitting(2), { minLength: s.length + 1, maxLength: s.length + 1 })),
    );

    test.prop([valid], { numRuns })("is the shape of x[specs] with Python's indexing and slicing", ([s, specs]) => {
      expectSameShape(
        () => sliceShape(s, specs),
        () => naive.slice(counting(s), specs),
      );
    });

    test.prop([spoilt], { numRuns })("throws a ShapeError exactly when x[specs] refuses", ([s, specs]) => {
      expectAgreement(
        () => sliceShape(s, specs),
        () => naive.slice(counting(s), specs),
      );
    });
  });

  describe("reduceShape", () => {
    /** No axes, one axis, or distinct axes (some written negative), with or without keepDims. */
    const valid = withArgs(shape(), (s) => {
      /** One axis (a rank-0 shape has none). */
      const one = (rank: number): fc.Arbitrary<number> =>
        fc.tuple(fc.nat({ max: rank - 1 }), fc.boolean()).map(([axis, negative]) => written(axis, rank, negative));
      const some = fc
        .tuple(fc.shuffledSubarray(range(s.length)), bools(s.length))
        .map(([axes, negative]) => axes.map((axis) => written(axis, s.length, negative[axis] === true)));
      return fc.oneof(fc.constant(undefined), ...(s.length > 0 ? [one(s.length)] : []), some);
    });
    /** Any axes: out of range or repeated. */
    const spoilt = withArgs(shape(), (s) => fc.oneof(fc.constant(undefined), anyAxis(s.length), fc.array(anyAxis(s.length), { maxLength: 4 })));

    test.prop([valid, fc.boolean()], { numRuns })("is the shape of sum(x, axes, keepDims)", ([s, axes], keepDims) => {
      expectSameShape(
        () => reduceShape(s, axes, keepDims),
        () => naive.sum(counting(s), axes, keepDims),
      );
    });

    test.prop([spoilt, fc.boolean()], { numRuns })("throws a ShapeError exactly when sum refuses", ([s, axes], keepDims) => {
      expectAgreement(
        () => reduceShape(s, axes, keepDims),
        () => naive.sum(counting(s), axes, keepDims),
      );
    });
  });

  describe("convOutSize and poolOutSize", () => {
    /** An input length and the options of a window over it. */
    interface Conv {
      readonly size: number;
      readonly kernel: number;
      readonly stride: number;
      readonly dilation: number;
      readonly padding: Padding;
    }
    const length = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
      { weight: 1, arbitrary: fc.integer({ min: 41, max: 300 }) },
    );
    const padding: fc.Arbitrary<Padding> = fc.oneof(
      fc.constantFrom<Padding>("valid", "same"),
      fc.integer({ min: 0, max: 4 }),
      fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
    );
    /** How much explicit padding adds to the input (none for "same", which never refuses). */
    const added = (p: Padding): number => (p === "valid" || p === "same" ? 0 : typeof p === "number" ? 2 * p : p[0] + p[1]);
    /** A window that fits: the input is made at least as long as the dilated kernel, less the padding. */
    const fitting = fc
      .record({
        extra: length,
        kernel: fc.integer({ min: 1, max: 6 }),
        stride: fc.integer({ min: 1, max: 4 }),
        dilation: fc.integer({ min: 1, max: 3 }),
        padding,
      })
      .map(({ extra, ...w }): Conv => {
        const least = w.padding === "same" ? 0 : Math.max(w.dilation * (w.kernel - 1) + 1 - added(w.padding), 0);
        return { ...w, size: least + extra };
      });
    /** Any window: too long for the input, or with a kernel, stride, dilation or padding that is not allowed. */
    const anyWindow: fc.Arbitrary<Conv> = fc.record({
      size: fc.integer({ min: 0, max: 12 }),
      kernel: fc.integer({ min: -1, max: 6 }),
      stride: fc.integer({ min: -1, max: 4 }),
      dilation: fc.integer({ min: 0, max: 3 }),
      padding: fc.oneof(padding, fc.constantFrom<Padding>(-1, [1, -1], [-2, 0], 0.5)),
    });
    const input = (n: number): number[] => range(n).map((i) => i + 1);

    const convRule = ({ size, kernel, stride, dilation, padding: p }: Conv): number[] => [
      convOutSize(size, kernel, { stride, dilation, padding: p }),
    ];
    const convReference = ({ size, kernel, stride, dilation, padding: p }: Conv): Nested =>
      // A kernel of -1 taps has no array; the empty kernel is as invalid.
      naive.conv1d(input(size), input(Math.max(kernel, 0)), { stride, dilation, padding: p });

    test.prop([fitting], { numRuns })("convOutSize is the number of windows conv1d slides over the padded input", (w) => {
      expectSameShape(
        () => convRule(w),
        () => convReference(w),
      );
    });

    test.prop([anyWindow], { numRuns })("convOutSize throws a ShapeError exactly when conv1d refuses", (w) => {
      expectAgreement(
        () => convRule(w),
        () => convReference(w),
      );
    });

    /** Pooling: dilation 1, and the stride is sometimes left to its default (the window size). */
    const poolRule = ({ size, kernel, stride, padding: p }: Conv, defaultStride: boolean): number[] => [
      defaultStride ? poolOutSize(size, kernel, { padding: p }) : poolOutSize(size, kernel, { stride, padding: p }),
    ];
    const poolReference = ({ size, kernel, stride, padding: p }: Conv, defaultStride: boolean): Nested =>
      naive.maxPool1d(input(size), kernel, { stride: defaultStride ? kernel : stride, padding: p });

    test.prop([fitting.map((w) => ({ ...w, dilation: 1 })), fc.boolean()], { numRuns })(
      "poolOutSize is the number of windows maxPool1d slides over the padded input",
      // `fitting` made room for the dilated kernel, more than a window of dilation 1 needs.
      (w, defaultStride) => {
        expectSameShape(
          () => poolRule(w, defaultStride),
          () => poolReference(w, defaultStride),
        );
      },
    );

    test.prop([anyWindow, fc.boolean()], { numRuns })("poolOutSize throws a ShapeError exactly when maxPool1d refuses", (w, defaultStride) => {
      expectAgreement(
        () => poolRule(w, defaultStride),
        () => poolReference(w, defaultStride),
      );
    });
  });
});

// ---------------------------------------------------------------------------
// 2. Algebraic laws of broadcasting

describe("broadcasting is a partial commutative monoid on shapes", () => {
  /** Dims of real models too: nothing is built here. */
  const wideDim = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom(7, 64, 768, 50257) },
  );
  const wideShape = fc.array(wideDim, { maxLength: 4 });
  /** Three shapes that mostly broadcast, sometimes with a dim changed. */
  const triple = wideShape.chain((s) =>
    fc
      .tuple(variant(s), variant(s), variant(s), fc.oneof(fc.constant(undefined), fc.tuple(fc.nat({ max: 2 }), fc.nat(), wideDim)))
      .map(([a, b, c, change]) => {
        if (change === undefined) return [a, b, c] as const;
        const [which, i, d] = change;
        const changed = (t: number[]): number[] => (t.length === 0 ? [d] : setDim(t, i, d));
        return [which === 0 ? changed(a) : a, which === 1 ? changed(b) : b, which === 2 ? changed(c) : c] as const;
      }),
  );

  /** `a·b`, or "refused" when they do not broadcast. */
  const times = (a: Verdict, b: Verdict): Verdict =>
    a === "refused" || b === "refused" ? "refused" : ruleVerdict(() => broadcastShapes(a, b))[0];

  test.prop([anyPair(wideShape, wideDim)], { numRuns })("it is commutative: a·b = b·a, and one throws exactly when the other does", ([a, b]) => {
    expect(times(a, b)).toEqual(times(b, a));
  });

  test.prop([triple], { numRuns })("it is associative: (a·b)·c is defined exactly when a·(b·c) is, and then they are equal", ([a, b, c]) => {
    expect(times(times(a, b), c)).toEqual(times(a, times(b, c)));
  });

  test.prop([wideShape, fc.nat({ max: 4 })], { numRuns })("[] and all-ones shapes of no greater rank are identities", (a, rank) => {
    const ones = new Array<number>(Math.min(rank, a.length)).fill(1);
    for (const identity of [[], ones]) {
      expect(broadcastShapes(a, identity)).toEqual(a);
      expect(broadcastShapes(identity, a)).toEqual(a);
    }
  });

  test.prop([wideShape], { numRuns })("it is idempotent: a·a = a", (a) => {
    expect(broadcastShapes(a, a)).toEqual(a);
  });
});

// ---------------------------------------------------------------------------
// 3. Reshape round-trips

describe("reshaping round-trips", () => {
  const withTarget = shape().chain((s) => fc.tuple(fc.constant(s), factorization(s)));

  test.prop([withTarget], { numRuns })("reshaping to a factorization of the size and back gives the shape and the elements back", ([s, t]) => {
    expect(reshapeShape(reshapeShape(s, t), s)).toEqual(s);
    const x = counting(s);
    const back = naive.reshape(naive.reshape(x, t), s);
    expect(back).toEqual(x);
    expect(shapeOf(back)).toEqual(s);
  });

  test.prop([withTarget, fc.nat()], { numRuns })("-1 stands for the explicit dim", ([s, t], at) => {
    fc.pre(t.length > 0);
    const i = at % t.length;
    fc.pre(sizeOf(t.filter((_, k) => k !== i)) !== 0); // beside a 0, any size fits -1
    const inferred = setDim(t, i, -1);
    expect(reshapeShape(s, inferred)).toEqual(t);
    expect(naive.reshape(counting(s), inferred)).toEqual(naive.reshape(counting(s), t));
  });

  test.prop([shape(1).chain((s) => fc.tuple(fc.constant(s), fc.nat({ max: s.length - 1 }), fc.nat({ max: s.length - 1 })))], { numRuns })(
    "flatten then reshape back to the shape round-trips",
    ([s, i, j]) => {
      const [start, end] = [Math.min(i, j), Math.max(i, j)];
      expect(reshapeShape(flattenShape(s, start, end), s)).toEqual(s);
      const x = counting(s);
      expect(naive.reshape(naive.flatten(x, start, end), s)).toEqual(x);
    },
  );
});

// ---------------------------------------------------------------------------
// 4. Permutations compose

describe("permutations compose", () => {
  const withPermutation = shape().chain((s) => fc.tuple(fc.constant(s), permutation(s.length)));

  test.prop([withPermutation], { numRuns })("permuting by p then by its inverse gives the shape and the elements back", ([s, p]) => {
    expect(permuteShape(permuteShape(s, p), inverse(p))).toEqual(s);
    const x = counting(s);
    expect(naive.transpose(naive.transpose(x, p), inverse(p))).toEqual(x);
  });

  test.prop([withPermutation.chain(([s, p]) => fc.tuple(fc.constant(s), fc.constant(p), permutation(s.length)))], { numRuns })(
    "permuting by p then by q is permuting by p composed with q",
    ([s, p, q]) => {
      const composed = q.map((axis) => p[axis < 0 ? axis + p.length : axis] ?? 0);
      expect(permuteShape(permuteShape(s, p), q)).toEqual(permuteShape(s, composed));
    },
  );

  test.prop([shape()], { numRuns })("transposeShape twice is the identity", (s) => {
    expect(transposeShape(transposeShape(s))).toEqual(s);
  });
});
