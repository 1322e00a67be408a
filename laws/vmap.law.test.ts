/**
 * The laws of `vmap`, over every primitive of the registry:
 *
 * 1. A primitive's batching rule is the primitive applied to each example in
 *    turn: for the shared `cases` (`support/prim-cases.ts`), a batch of 0 to
 *    3 examples, each operand batched or not at random and, when batched, on
 *    a random axis; `vmap` of the primitive equals the stack of a loop over
 *    the examples, eagerly and under `jit`.
 * 2. vmap of grad equals a loop of grads: for every primitive with a float
 *    result, the gradient of `sum(w * prim(xs))` with respect to its float
 *    operands, vmapped, equals the per-example gradients stacked (this runs
 *    the batching rules of the JVP and transpose rules' primitives too).
 * 3. The issue's done-when: per-example gradients of an MLP loss by
 *    `jit(vmap(grad(loss), { inAxes: [null, 0, 0] }))` equal a loop of
 *    single-example gradients.
 *
 * The examples of a batched operand are its case's values permuted (so int32
 * indices stay in range and a bool stays a bool); a key of `random_bits` is
 * varied word by word. Operands are float64; results agree within
 * `1e-12 (1 + |x|)` (a batched kernel may sum in another order, as a grouped
 * convolution does), NaN equal to NaN; int32 and bool results exactly. A
 * failure names the primitive, its parameters and the batching; fast-check
 * prints the seed. `STRATUM_HEAVY=1` runs more cases.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isFloatDType } from "../src/core/dtype.js";
import { Tensor } from "../src/core/tensor.js";
import { add, tanh } from "../src/ops/elementwise.js";
import { matmul } from "../src/ops/linalg.js";
import { softmaxCrossEntropy } from "../src/ops/losses.js";
import { mean } from "../src/ops/reduce.js";
import { bind } from "../src/prims/bind.js";
import * as lax from "../src/prims/lax.js";
import type { PrimName, PrimParams } from "../src/prims/params.js";
import type { AnyTensor, BatchDim } from "../src/prims/types.js";
import { grad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { linearizeFlat, pullbackOf } from "../src/transforms/linearize.js";
import { vmap, vmapFlat } from "../src/transforms/vmap.js";
import { seeds, tensorFrom, uniform, valuesOf } from "./support/gradient-laws.js";
import { cases, type Case } from "./support/prim-cases.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const numRuns = heavy ? 200 : 25;

/** Expects equal shapes and dtypes, and values within `1e-12 (1 + |want|)` (exact for int32 and bool), NaN equal to NaN. */
function expectSame(got: AnyTensor, want: AnyTensor, message: string): void {
  expect(`${got.dtype}[${got.shape.join(", ")}]`, message).toBe(`${want.dtype}[${want.shape.join(", ")}]`);
  const [g, w] = [valuesOf(got), valuesOf(want)];
  const exact = !isFloatDType(want.dtype);
  w.forEach((v, i) => {
    const u = g[i] ?? NaN;
    const ok = Object.is(u, v) || u === v || (Number.isNaN(u) && Number.isNaN(v)) || (!exact && Math.abs(u - v) <= 1e-12 * (1 + Math.abs(v)));
    if (!ok) expect(u, `${message}: element ${i}`).toBe(v);
  });
}

/** A seeded permutation of `n` indices (the identity for example 0). */
function permutation(n: number, seed: number, b: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (b === 0) return order;
  const random = uniform(seed + b);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((random() + 1) / 2) * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

/** Example `b` of a batched operand: its values permuted (a key's words varied instead). */
function exampleOf(prim: PrimName, x: AnyTensor, seed: number, b: number): AnyTensor {
  const values = valuesOf(x);
  if (prim === "random_bits") return tensorFrom(x.shape, x.dtype, values.map((v, i) => (v ^ Math.imul(b, 0x9e3779b9 + i)) | 0));
  return tensorFrom(x.shape, x.dtype, permutation(values.length, seed, b).map((i) => values[i] ?? 0));
}

/** The examples stacked with their batch on axis `dim`. */
function stack(examples: readonly AnyTensor[], like: AnyTensor, dim: number): AnyTensor {
  const front = tensorFrom([examples.length, ...like.shape], like.dtype, examples.flatMap(valuesOf));
  const perm = front.shape.map((_, i) => i).slice(1);
  perm.splice(dim, 0, 0);
  return bind("transpose", [front], { perm });
}

/** A batching of a case's operands: the batch size, and for each operand its batch axis or null (at least one batched). */
const batchingOf = (inputs: readonly AnyTensor[]): fc.Arbitrary<{ size: number; dims: BatchDim[] }> =>
  fc
    .tuple(
      fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constant(0) }),
      fc.tuple(...inputs.map((x) => fc.option(fc.integer({ min: 0, max: x.shape.length }), { nil: null, freq: 3 }))),
    )
    .map(([size, dims]) => ({ size, dims: dims.every((d) => d === null) ? dims.map((d, i) => (i === 0 ? 0 : d)) : dims }));

interface Batched {
  /** The operands with their batch on their axes. */
  readonly full: AnyTensor[];
  /** Each example's operands. */
  readonly examples: AnyTensor[][];
}

function batch(prim: PrimName, inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number, seed: number): Batched {
  const perOperand = inputs.map((x, i) => (dims[i] === null ? undefined : Array.from({ length: size }, (_, b) => exampleOf(prim, x, seed + 7919 * i, b))));
  return {
    full: inputs.map((x, i) => {
      const d = dims[i] ?? null;
      const xs = perOperand[i];
      return d === null || xs === undefined ? x : stack(xs, x, d);
    }),
    examples: Array.from({ length: size }, (_, b) => inputs.map((x, i) => perOperand[i]?.[b] ?? x)),
  };
}

/** The loop a vmap must equal: `f` on each example, stacked on axis 0. */
function loop(f: (xs: readonly AnyTensor[]) => AnyTensor, examples: readonly AnyTensor[][], outLike: AnyTensor): AnyTensor {
  return stack(examples.map(f), outLike, 0);
}

const describeCase = (name: string, params: unknown, inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number): string =>
  `${name} ${JSON.stringify(params)} on (${inputs.map((x, i) => `${x.dtype}[${x.shape.join(", ")}]${dims[i] === null ? "" : ` batched on ${dims[i]}`}`).join(", ")}), ${size} examples`;

describe("law 1: every primitive's batching rule equals a loop over the examples", () => {
  for (const name of Object.keys(cases) as PrimName[]) {
    const arb = cases[name] as fc.Arbitrary<Case<PrimName>>; // each entry generates cases for its own primitive
    test(`${name}: vmap equals the loop, eagerly and under jit`, () => {
      fc.assert(
        fc.property(
          arb.chain((c) => fc.tuple(fc.constant(c), batchingOf(c.inputs), seeds)),
          ([{ inputs, params }, { size, dims }, seed]) => {
            const apply = (xs: readonly AnyTensor[]): AnyTensor => bind(name, xs, params as PrimParams[typeof name]);
            const { full, examples } = batch(name, inputs, dims, size, seed);
            const message = describeCase(name, params, inputs, dims, size);
            const one = apply(inputs);
            const want = loop(apply, examples, one);
            const mapped = (...xs: AnyTensor[]): AnyTensor[] => vmapFlat((ys) => [apply(ys)], xs, dims, () => [0]);
            const [eager] = mapped(...full);
            expectSame(eager ?? one, want, `${message}, eager`);
            const [jitted] = jit(mapped)(...full);
            expectSame(jitted ?? one, want, `${message}, jit`);
          },
        ),
        { numRuns },
      );
    });
  }
});

/** The gradient of `sum(w * f(xs))` with respect to the float operands (zeros for the others), `w` fixed. */
function gradients(f: (xs: readonly AnyTensor[]) => AnyTensor, w: AnyTensor): (xs: readonly AnyTensor[]) => AnyTensor[] {
  return (xs) => {
    const floats = xs.flatMap((x, i) => (isFloatDType(x.dtype) ? [i] : []));
    const lin = linearizeFlat((ys) => {
      const all = [...xs];
      floats.forEach((i, k) => (all[i] = ys[k] ?? xs[i] ?? ys[0] ?? w));
      const y = f(all);
      return [lax.reduceSum(lax.mul(y, w), y.shape.map((_, a) => a))];
    }, floats.map((i) => xs[i] ?? w));
    const [value] = lin.outputs;
    return pullbackOf(lin, floats.map((i) => xs[i] ?? w))([lax.fullLike(value ?? w, 1)]);
  };
}

describe("law 2: vmap of grad equals a loop of grads", () => {
  for (const name of Object.keys(cases) as PrimName[]) {
    const arb = (cases[name] as fc.Arbitrary<Case<PrimName>>).filter(({ inputs, params }) => {
      const y = bind(name, inputs, params as PrimParams[typeof name]);
      return isFloatDType(y.dtype) && inputs.some((x) => isFloatDType(x.dtype));
    });
    // integer or bool results: nothing to differentiate; a while loop has no derivative (its case counts in int32)
    if (["argmax", "compare", "random_bits", "while"].includes(name)) continue;
    test(`${name}: per-example gradients by vmap equal the loop's`, () => {
      fc.assert(
        fc.property(
          arb.chain((c) => fc.tuple(fc.constant(c), batchingOf(c.inputs), seeds)),
          ([{ inputs, params }, { size, dims }, seed]) => {
            const apply = (xs: readonly AnyTensor[]): AnyTensor => bind(name, xs, params as PrimParams[typeof name]);
            const one = apply(inputs);
            const random = uniform(seed);
            const w = tensorFrom(one.shape, one.dtype, valuesOf(one).map(() => random()));
            const g = gradients(apply, w);
            const { full, examples } = batch(name, inputs, dims, size, seed);
            const message = describeCase(name, params, inputs, dims, size);
            const perExample = examples.map(g);
            const mapped = vmapFlat(g, full, dims, (n) => new Array<BatchDim>(n).fill(0));
            const like = g(inputs);
            like.forEach((x, k) => {
              const want = stack(perExample.map((gs) => gs[k] ?? x), x, 0);
              expectSame(mapped[k] ?? x, want, `${message}: gradient ${k}`);
            });
          },
        ),
        { numRuns: Math.ceil(numRuns / 2) },
      );
    });
  }
});

describe("law 3: per-example gradients of an MLP loss", () => {
  type Params = { w1: Tensor<[6, 5], "float64">; b1: Tensor<[5], "float64">; w2: Tensor<[5, 3], "float64">; b2: Tensor<[3], "float64"> };
  const loss = (p: Params, x: Tensor<[6], "float64">, label: Tensor<[], "int32">): Tensor<[], "float64"> => {
    const h = tanh(add(matmul(x, p.w1), p.b1));
    const logits = add(matmul(h, p.w2), p.b2);
    return mean(softmaxCrossEntropy(logits, label));
  };
  const arrayOf = (random: () => number, n: number): number[] => Array.from({ length: n }, () => random());
  /** A tensor of the type `T` says (its shape and dtype are given alongside). */
  const typed = <T extends AnyTensor>(shape: readonly number[], dtype: "float64" | "int32", values: readonly number[]): T => tensorFrom(shape, dtype, values) as T; // the caller gives T's own shape and dtype

  test("jit(vmap(grad(loss), { inAxes: [null, 0, 0] })) equals a loop of single-example gradients", () => {
    const perExample = jit(vmap(grad(loss), { inAxes: [null, 0, 0] }));
    fc.assert(
      fc.property(seeds, fc.integer({ min: 1, max: 9 }), (seed, n) => {
        const random = uniform(seed);
        const params: Params = {
          w1: typed([6, 5], "float64", arrayOf(random, 30)),
          b1: typed([5], "float64", arrayOf(random, 5)),
          w2: typed([5, 3], "float64", arrayOf(random, 15)),
          b2: typed([3], "float64", arrayOf(random, 3)),
        };
        const xs = typed<Tensor<[number, 6], "float64">>([n, 6], "float64", arrayOf(random, 6 * n));
        const labels = typed<Tensor<[number], "int32">>([n], "int32", arrayOf(random, n).map((v) => Math.floor(((v + 1) / 2) * 3)));
        const g = perExample(params, xs, labels);
        const rows = Array.from({ length: n }, (_, b) =>
          grad(loss)(params, typed([6], "float64", valuesOf(xs).slice(6 * b, 6 * b + 6)), typed([], "int32", [valuesOf(labels)[b] ?? 0])),
        );
        for (const key of ["w1", "b1", "w2", "b2"] as const) {
          const want = stack(rows.map((r) => r[key]), params[key], 0);
          expectSame(g[key], want, `gradient of ${key} for ${n} examples`);
        }
      }),
      { numRuns: 10 },
    );
  });
});
