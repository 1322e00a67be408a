/**
 * Law: every type-level shape rule agrees with its run-time twin.
 *
 * For random literal shapes, each run-time rule either returns a shape or
 * throws a `ShapeError`; the type-level twin of the same name must then be
 * exactly that shape, or exactly `ShapeError<"the same message">`. All cases
 * of a run are written into one generated file and type-checked at once.
 * `STRATUM_HEAVY=1` runs more cases.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ShapeError } from "../src/core/errors.js";
import { broadcastShapes } from "../src/core/rules/broadcast.js";
import { concatShape, stackShape } from "../src/core/rules/concat.js";
import { convOutSize, poolOutSize, type Padding } from "../src/core/rules/conv.js";
import { matmulShape } from "../src/core/rules/matmul.js";
import { permuteShape, transposeShape } from "../src/core/rules/permute.js";
import { reduceShape } from "../src/core/rules/reduce.js";
import { flattenShape, reshapeShape } from "../src/core/rules/reshape.js";
import { sliceShape, type SliceSpec } from "../src/core/rules/slice.js";
import { expandDimsShape, squeezeShape } from "../src/core/rules/squeeze.js";
import { vmapShape } from "../src/core/rules/vmap.js";
import { checkShape } from "../src/core/shape.js";
import { transformerEncoderBlock } from "../src/layers/attention.js";
import { equalityPrelude, typeErrors } from "./support/type-check.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const casesPerRule = heavy ? 400 : 40;

/** One case: the type expression of the twin, and the run-time rule's answer. */
interface Case {
  readonly type: string;
  readonly run: () => unknown;
}

const lit = (x: unknown): string => (x === undefined ? "undefined" : JSON.stringify(x));

const dim = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(1, 7, 64, 768, 50257) });
const shape = (minLength = 0, maxLength = 4): fc.Arbitrary<number[]> => fc.array(dim, { minLength, maxLength });
const axisFor = (rank: number): fc.Arbitrary<number> => fc.integer({ min: -rank - 1, max: rank });

const broadcastCase = fc
  .tuple(shape(), fc.array(fc.constantFrom("keep", "one", "drop", "other"), { minLength: 4, maxLength: 4 }), dim)
  .map(([a, edits, other]): Case => {
    const b = a.flatMap((d, i) => {
      const edit = edits[i] ?? "keep";
      if (edit === "drop" && i === 0) return [];
      return [edit === "one" ? 1 : edit === "other" ? other : d];
    });
    return { type: `BroadcastShapes<${lit(a)}, ${lit(b)}>`, run: () => broadcastShapes(a, b) };
  });

const matmulCase = fc.tuple(shape(1, 4), shape(1, 4), fc.boolean()).map(([a, b, fit]): Case => {
  const b2 = [...b];
  if (fit) b2[Math.max(b2.length - 2, 0)] = a[a.length - 1] ?? 0;
  const batchA = a.slice(0, -2);
  if (fit && b2.length > 2) b2.splice(0, b2.length - 2, ...batchA.slice(-(b2.length - 2)).map((d) => d));
  return { type: `MatmulShape<${lit(a)}, ${lit(b2)}>`, run: () => matmulShape(a, b2) };
});

const permuteCase = fc.tuple(shape(), fc.integer({ min: 0, max: 9 }), fc.boolean()).chain(([s, mode, negative]) =>
  fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }).map((perm): Case => {
    let p = negative ? perm.map((axis) => axis - s.length) : perm;
    if (mode === 0) p = [...p, 0];
    if (mode === 1 && p.length > 1) p = [p[0] ?? 0, ...p.slice(0, -1)];
    if (mode === 2 && p.length > 0) p = [s.length, ...p.slice(1)];
    return mode === 3
      ? { type: `TransposeShape<${lit(s)}>`, run: () => transposeShape(s) }
      : { type: `PermuteShape<${lit(s)}, ${lit(p)}>`, run: () => permuteShape(s, p) };
  }),
);

const reshapeCase = fc.tuple(shape(0, 4), shape(0, 3), fc.integer({ min: -1, max: 3 }), fc.boolean()).map(([s, extra, minusAt, fit]): Case => {
  const size = s.reduce((n, d) => n * d, 1);
  const target = fit && extra.length > 0 && size > 0 ? [...extra.map(() => 1), size] : extra;
  if (minusAt >= 0 && minusAt <= target.length) target.splice(minusAt, 0, -1);
  return { type: `ReshapeShape<${lit(s)}, ${lit(target)}>`, run: () => reshapeShape(s, target) };
});

const flattenCase = shape(0, 4).chain((s) =>
  fc.tuple(axisFor(s.length), axisFor(s.length), fc.boolean()).map(([start, end, defaults]): Case =>
    defaults
      ? { type: `FlattenShape<${lit(s)}>`, run: () => flattenShape(s) }
      : { type: `FlattenShape<${lit(s)}, ${start}, ${end}>`, run: () => flattenShape(s, start, end) },
  ),
);

const squeezeCase = shape(0, 4).chain((s) =>
  fc.option(fc.array(axisFor(s.length), { maxLength: 3 }), { nil: undefined }).map((axes): Case =>
    axes === undefined
      ? { type: `SqueezeShape<${lit(s)}>`, run: () => squeezeShape(s) }
      : { type: `SqueezeShape<${lit(s)}, ${lit(axes)}>`, run: () => squeezeShape(s, axes) },
  ),
);

const expandCase = shape(0, 4).chain((s) =>
  fc.integer({ min: -s.length - 2, max: s.length + 1 }).map((axis): Case => ({
    type: `ExpandDimsShape<${lit(s)}, ${axis}>`,
    run: () => expandDimsShape(s, axis),
  })),
);

const vmapCase = fc.tuple(shape(0, 4), dim).chain(([s, size]) =>
  fc.integer({ min: -s.length - 2, max: s.length + 1 }).map((axis): Case => ({
    type: `VmapShape<${lit(s)}, ${axis}, ${size}>`,
    run: () => vmapShape(s, axis, size),
  })),
);

const joinCase = fc.tuple(shape(0, 3), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean(), dim).chain(([s, count, mismatch, stack, other]) =>
  fc.tuple(axisFor(s.length), fc.array(dim, { minLength: count, maxLength: count })).map(([axis, sizes]): Case => {
    const shapes = sizes.map((d, k) => {
      const t = [...s];
      const a = axis < 0 ? axis + s.length : axis;
      if (!stack && a >= 0 && a < t.length) t[a] = d;
      if (mismatch && k === count - 1 && t.length > 0) t[0] = other;
      return t;
    });
    return stack
      ? { type: `StackShape<${lit(shapes)}, ${axis}>`, run: () => stackShape(shapes, axis) }
      : { type: `ConcatShape<${lit(shapes)}, ${axis}>`, run: () => concatShape(shapes, axis) };
  }),
);

const bound = fc.option(fc.integer({ min: -7, max: 7 }), { nil: undefined });
const sliceSpec: fc.Arbitrary<SliceSpec> = fc.oneof(
  fc.integer({ min: -6, max: 6 }),
  fc.constant(null),
  fc.record(
    { start: bound, stop: bound, step: fc.option(fc.constantFrom(1, 2, 3, -1, -2, 0), { nil: undefined, freq: 2 }) },
    { requiredKeys: [] },
  ).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
);
const sliceCase = fc.tuple(shape(0, 3), fc.array(sliceSpec, { maxLength: 4 })).map(([s, specs]): Case => ({
  type: `SliceShape<${lit(s)}, ${lit(specs)}>`,
  run: () => sliceShape(s, specs),
}));

const reduceCase = shape(0, 4).chain((s) =>
  fc
    .tuple(
      fc.oneof(fc.constant(undefined), axisFor(s.length), fc.array(axisFor(s.length), { maxLength: 3 })),
      fc.boolean(),
    )
    .map(([axes, keepDims]): Case => ({
      type: `ReduceShape<${lit(s)}, ${lit(axes)}, ${keepDims}>`,
      run: () => reduceShape(s, axes, keepDims),
    })),
);

const padding: fc.Arbitrary<Padding> = fc.oneof(
  fc.constantFrom<Padding>("valid", "same"),
  fc.integer({ min: 0, max: 4 }),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
);
const windowCase = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 100_000 })),
    fc.integer({ min: 0, max: 9 }),
    fc.integer({ min: 0, max: 4 }),
    fc.integer({ min: 1, max: 3 }),
    padding,
    fc.boolean(),
  )
  .map(([size, kernel, stride, dilation, pad, pool]): Case =>
    pool
      ? {
          type: `PoolOutSize<${size}, ${kernel}, ${stride}, ${lit(pad)}>`,
          run: () => poolOutSize(size, kernel, { stride, padding: pad }),
        }
      : {
          type: `ConvOutSize<${size}, ${kernel}, ${stride}, ${dilation}, ${lit(pad)}>`,
          run: () => convOutSize(size, kernel, { stride, dilation, padding: pad }),
        },
  );

const anyDim = fc.oneof(
  { weight: 4, arbitrary: dim },
  { weight: 1, arbitrary: fc.constantFrom(-1, -7, 2.5, 0.5, -1.5, 2 ** 31 - 1, 2 ** 31, 3e9, 1e21, -1e21, 1e-7) },
);
const checkShapeCase = fc.tuple(fc.array(anyDim, { maxLength: 4 }), fc.constantFrom("zeros", "ones", "full")).map(([s, op]): Case => ({
  type: `CheckShape<${lit(op)}, ${lit(s)}>`,
  run: () => checkShape(op, s),
}));

// the heads check has no rule function of its own: the layer's constructor is its run-time side, `undefined` when it accepts
const headsCase = fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 9 })).map(([dModel, heads]): Case => ({
  type: `[HeadsDivide<"transformerEncoderBlock", ${dModel}, ${heads}>] extends [ShapeError<infer M>] ? ShapeError<M> : undefined`,
  run: () => {
    const runtimeHeads: number = heads; // the literal would not compile where it does not divide: that is the twin under test
    transformerEncoderBlock(dModel, runtimeHeads, 4);
    return undefined;
  },
}));

const rules: Record<string, fc.Arbitrary<Case>> = {
  "checkShape (constructors)": checkShapeCase,
  "heads divide dModel": headsCase,
  broadcast: broadcastCase,
  matmul: matmulCase,
  permute: permuteCase,
  reshape: reshapeCase,
  flatten: flattenCase,
  squeeze: squeezeCase,
  expandDims: expandCase,
  vmap: vmapCase,
  "concat and stack": joinCase,
  slice: sliceCase,
  reduce: reduceCase,
  "conv and pool sizes": windowCase,
};

const imports = `
import type { ShapeError } from "../src/core/errors.js";
import type { BroadcastShapes } from "../src/core/rules/broadcast.js";
import type { ConcatShape, StackShape } from "../src/core/rules/concat.js";
import type { ConvOutSize, PoolOutSize } from "../src/core/rules/conv.js";
import type { MatmulShape } from "../src/core/rules/matmul.js";
import type { PermuteShape, TransposeShape } from "../src/core/rules/permute.js";
import type { ReduceShape } from "../src/core/rules/reduce.js";
import type { FlattenShape, ReshapeShape } from "../src/core/rules/reshape.js";
import type { SliceShape } from "../src/core/rules/slice.js";
import type { ExpandDimsShape, SqueezeShape } from "../src/core/rules/squeeze.js";
import type { VmapShape } from "../src/core/rules/vmap.js";
import type { CheckShape } from "../src/core/shape.js";
import type { HeadsDivide } from "../src/layers/attention.js";
`;

/** The type the twin must be, from what the run-time rule did. */
function expected(c: Case): string {
  try {
    return lit(c.run());
  } catch (e) {
    if (e instanceof ShapeError) return `ShapeError<${JSON.stringify(e.message)}>`;
    throw e;
  }
}

describe("type-level shape rules agree with their run-time twins", () => {
  test("on random literal shapes, including errors and their messages", () => {
    const all = fc.tuple(...Object.values(rules).map((arb) => fc.array(arb, { minLength: casesPerRule, maxLength: casesPerRule })));
    fc.assert(
      fc.property(all, (groups) => {
        const lines = groups.flat().map((c, i) => `type _${i} = Expect<Equal<${c.type}, ${expected(c)}>>;`);
        const errors = typeErrors([imports, equalityPrelude, ...lines].join("\n"), "twin-law-cases");
        expect(errors.slice(0, 10)).toEqual([]);
      }),
      { numRuns: 1, endOnFailure: true },
    );
  }, 120_000);
});
