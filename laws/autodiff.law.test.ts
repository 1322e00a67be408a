/**
 * The laws of automatic differentiation, over every primitive of the
 * registry and every differentiable public op:
 *
 * 1. Every primitive (the shared `cases` of `support/prim-cases.ts`), in
 *    float64: (a) its JVP along random tangents equals central differences
 *    (eps 1e-6, `|fd - jvp| <= 1e-6 (1 + max|fd|)`); (b) the adjoint identity
 *    `<ct, J t> = <J^T ct, t>` between `linearizeFlat` + `evaluateProgram`
 *    and `transposeProgram` (1e-10, relative to the sizes of the products);
 *    (c) its JVP is linear in the tangent.
 * 2. (a) and (b) for every public op of `src/ops/index.ts`. The table of ops
 *    is keyed by that module's exports, so a new op does not compile until
 *    it has a generator here, or a reason it has no derivative to check.
 * 3. `grad` of a composition is the chain rule: `grad(sum ∘ f ∘ g)(x)` is the
 *    pullback of `g` at `x` applied to `grad(sum ∘ f)(g(x))`.
 * 4. Second order: `jvp(grad f)` equals central differences of `grad f`
 *    (eps 1e-5, tolerance 1e-5).
 * 5. In float32, (a) and (b) for the elementwise primitives and a few ops,
 *    with the differences computed in float32 (eps 1e-2, tolerance 2e-3).
 *
 * Inputs are mapped onto each primitive's or op's differentiable domain:
 * positive for a log, a square root and a power's base; away from 0 for a
 * divisor and for the kinks of abs, relu, sign and clip; apart (no near-ties)
 * for max, min and max pooling; labels of the cross-entropies inside their
 * range. Tangents and cotangents are uniform in [-1, 1), drawn from a seed
 * that fast-check generates, so that a failure's seed replays them too.
 * Every assertion names the primitive or op, its parameters and its input
 * shapes; fast-check adds the seed. `STRATUM_HEAVY=1` runs many more cases.
 * Leaves out: integer and bool outputs (they have no tangent; (a) checks
 * that none is made), and points of non-differentiability.
 */

import fc from "fast-check";
import { describe, test } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import * as ops from "../src/ops/index.js";
import { bind } from "../src/prims/bind.js";
import { primitives, primNames } from "../src/prims/registry.js";
import type { PrimName } from "../src/prims/params.js";
import type { AnyTensor } from "../src/prims/types.js";
import { grad } from "../src/transforms/grad.js";
import { jvp } from "../src/transforms/jvp.js";
import { vjp } from "../src/transforms/linearize.js";
import {
  arrayOf,
  broadcastPair,
  broadcastToArgs,
  concatArgs,
  dataFor,
  expandDimsArgs,
  flattenArgs,
  matmulArgs,
  normalizedArgs,
  padArgs,
  reducedArgs,
  repeatArgs,
  takeArgs,
  reshapeArgs,
  shapeOf,
  sliceArgs,
  squeezeArgs,
  stackArgs,
  swapAxesArgs,
  tileArgs,
  transposeArgs,
  vectorPair,
  type Naive,
} from "./support/op-cases.js";
import {
  adjointIdentity,
  combine,
  expectClose,
  inFloat,
  inDType,
  jvpIsLinear,
  jvpMatchesDifferences,
  maxAbs,
  randomLike,
  seeds,
  tensorFrom,
  tolerances,
  uniform,
  valuesOf,
  type FloatDType,
  type Subject,
  type Tolerance,
} from "./support/gradient-laws.js";
import { cases as primCases, convCase, poolCase, tensorOf as primTensorOf, type Case } from "./support/prim-cases.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
/** Cases per law and primitive or op; the chain rule and second order, which draw from small tables, run more. */
const numRuns = heavy ? 500 : 50;
const chainRuns = heavy ? 1000 : 100;
const secondOrderRuns = heavy ? 500 : 50;

type F64 = Tensor<number[], "float64">;
type Scalar = Tensor<[], "float64">;

type Law = (s: Subject, seed: number, tol: Tolerance) => void;

/** Runs `law` on every subject `subjects` makes, in `dtype`. */
function holds(subjects: fc.Arbitrary<Subject>, law: Law, dtype: FloatDType): void {
  fc.assert(
    fc.property(subjects, seeds, (s, seed) => law(inFloat(s, dtype), seed, tolerances[dtype])),
    { numRuns },
  );
}

// ---------------------------------------------------------------------------
// 1. Every primitive of the registry
// ---------------------------------------------------------------------------

/** Maps a case of a primitive onto the domain where it is differentiable, in one float dtype. */
type Domain<K extends PrimName> = (c: Case<K>, dtype: FloatDType) => Case<K>;

const anywhere = <K extends PrimName>(c: Case<K>): Case<K> => c;

/** A domain that maps the values of input `i` by `f`. */
function onInput<K extends PrimName>(i: number, f: (values: number[]) => number[]): Domain<K> {
  return (c) => ({ ...c, inputs: c.inputs.map((x, j) => (j === i ? tensorFrom(x.shape, x.dtype, f(valuesOf(x))) : x)) });
}

/** Values moved to at least 1/2: for logs, square roots and the base of a power. */
const positive = (values: number[]): number[] => values.map((v) => Math.abs(v) + 0.5);

/** Values moved at least 1/2 away from 0: for divisors and kinks at 0. */
const awayFromZero = (values: number[]): number[] => values.map((v) => (v < 0 ? v - 0.5 : v + 0.5));

/** Values moved at least 1/4 away from each of `kinks` (which lie more than 1/2 apart). */
const awayFrom =
  (kinks: readonly number[]) =>
  (values: number[]): number[] =>
    values.map((v) => kinks.reduce((w, k) => (Math.abs(w - k) < 0.25 ? k + (w < k ? -0.25 : 0.25) : w), v));

/**
 * Values made distinct, at least `gap` apart, in the same order: the `r`-th
 * smallest gains `r gap`. No maximum is tied or nearly tied.
 */
function distinct(values: number[], gap = 0.1): number[] {
  const order = values.map((v, i) => [v, i] as const).sort(([a, i], [b, j]) => a - b || i - j);
  const out = [...values];
  order.forEach(([v, i], rank) => (out[i] = v + rank * gap));
  return out;
}

/** The second operand moved at least 1/2 away from the first, on the side it was. */
const apart = <K extends PrimName>(c: Case<K>): Case<K> => {
  const [x, y] = c.inputs;
  if (x === undefined || y === undefined) return c;
  const xs = valuesOf(x);
  const moved = valuesOf(y).map((v, i) => v + (v >= (xs[i] ?? 0) ? 0.5 : -0.5));
  return { ...c, inputs: [x, tensorFrom(y.shape, y.dtype, moved)] };
};

/**
 * The domain of every primitive, typed by the registry's names so that a new
 * primitive needs one: `anywhere` where the primitive is smooth everywhere.
 */
const domains: { readonly [K in PrimName]: Domain<K> } = {
  neg: anywhere,
  exp: anywhere,
  log: onInput(0, positive),
  log1p: onInput(0, positive),
  sin: anywhere,
  cos: anywhere,
  sqrt: onInput(0, positive),
  tanh: anywhere,
  erf: anywhere,
  erfc: anywhere,
  add: anywhere,
  sub: anywhere,
  mul: anywhere,
  div: onInput(1, awayFromZero),
  max: apart,
  min: apart,
  pow: onInput(0, positive),
  compare: anywhere,
  select: anywhere,
  // float64 laws cast between float64 and the other dtypes; the float32 laws also cast float32 to float64
  cast: (c, dtype) => (dtype === "float64" && c.params.dtype === "float32" ? { ...c, params: { dtype: "float64" } } : c),
  reduce_sum: anywhere,
  // distinct maxima, and no empty reduction (whose -Infinity has no derivative)
  reduce_max: (c) => {
    const x = c.inputs[0];
    if (x === undefined) return c;
    return { inputs: [tensorFrom(x.shape, x.dtype, distinct(valuesOf(x)))], params: { axes: c.params.axes.filter((a) => (x.shape[a] ?? 0) > 0) } };
  },
  argmax: anywhere,
  reshape: anywhere,
  broadcast: anywhere,
  transpose: anywhere,
  slice: anywhere,
  pad: anywhere,
  concatenate: anywhere,
  dot_general: anywhere,
  gather: anywhere,
  scatter_add: anywhere,
  conv2d: anywhere,
  conv2d_input_grad: anywhere,
  conv2d_filter_grad: anywhere,
  max_pool2d: onInput(0, distinct),
  avg_pool2d: anywhere,
  max_pool2d_grad: onInput(0, distinct),
  max_pool2d_pick: onInput(0, distinct),
  custom_linear: anywhere,
  random_bits: anywhere,
  avg_pool2d_grad: anywhere,
  scan: anywhere,
  while: anywhere,
};

/** The primitive `name` applied to the cases of the shared table, mapped onto its domain in `dtype`. */
function primSubjects<K extends PrimName>(name: K, dtype: FloatDType): fc.Arbitrary<Subject> {
  const domain: Domain<K> = domains[name];
  const arb: fc.Arbitrary<Case<K>> = primCases[name];
  return arb.map((raw) => {
    const c = domain({ ...raw, inputs: raw.inputs.map((x) => inDType(x, dtype)) }, dtype);
    const detail = JSON.stringify(c.params);
    return { name, inputs: c.inputs, f: (xs) => bind(name, xs, c.params), detail: detail === "{}" ? "" : detail };
  });
}

describe("every primitive in float64", () => {
  for (const name of primNames) {
    const subjects = primSubjects(name, "float64");
    test(`${name}: its JVP matches central differences`, () => holds(subjects, jvpMatchesDifferences, "float64"));
    test(`${name}: its transpose is the adjoint of its linearization`, () => holds(subjects, adjointIdentity, "float64"));
    test(`${name}: its JVP is linear in the tangent`, () => holds(subjects, jvpIsLinear, "float64"));
  }
});

// ---------------------------------------------------------------------------
// 2. Every public op
// ---------------------------------------------------------------------------

/** An op applied to generated arguments: its tensor inputs and the op on them. */
interface Applied {
  readonly inputs: readonly AnyTensor[];
  readonly f: (xs: readonly AnyTensor[]) => AnyTensor;
  readonly detail: string;
}

/** An op with no derivative to check, and why. */
interface NoDerivative {
  readonly noDerivative: string;
}

type OpName = keyof typeof ops;

// Each case makes its inputs itself, of the rank its op reads, float64 (float32 in the float32 laws, which the
// ops, generic in the float dtype, treat alike): the casts below only name them.
const f64 = (xs: readonly AnyTensor[], i = 0): F64 => xs[i] as F64;
const vector = (xs: readonly AnyTensor[], i = 0): Tensor<[number], "float64"> => xs[i] as Tensor<[number], "float64">;
const image = (xs: readonly AnyTensor[], i = 0): Tensor<[number, number, number, number], "float64"> => xs[i] as Tensor<[number, number, number, number], "float64">;
// the adaptive cases make rank-3 inputs for the 1-D pools
const sequence = (xs: readonly AnyTensor[]): Tensor<[number, number, number], "float64"> => xs[0] as Tensor<[number, number, number], "float64">;

/**
 * An adaptive pooling's input (`[N, H, W, C]`, or `[N, L, C]` for `spatial`
 * 1) and output sizes from 1 to 5 against inputs of 1 to 6 (dividing or not,
 * bigger or smaller); distinct values for max pooling.
 */
function adaptiveArgs(spatial: 1 | 2, distinctValues = false): fc.Arbitrary<{ x: AnyTensor; out: number[] }> {
  const size = fc.integer({ min: 1, max: 6 });
  const out = fc.integer({ min: 1, max: 5 });
  return fc
    .record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), sizes: fc.array(size, { minLength: spatial, maxLength: spatial }), out: fc.array(out, { minLength: spatial, maxLength: spatial }) })
    .chain(({ n, c, sizes, out: o }) =>
      primTensorOf([n, ...sizes, c]).map((x) => ({ x: distinctValues ? tensorFrom(x.shape, x.dtype, distinct(valuesOf(x))) : x, out: o })),
    );
}

/** A float64 tensor from a naive array, its values mapped by `map`. */
const fromNaive = (x: Naive, map: (values: number[]) => number[] = (v) => v): AnyTensor => tensorFrom(x.shape, "float64", map([...x.data]));

/** The arguments other than the data (shapes and options), for failure messages. */
const detailOf = (args: unknown): string => JSON.stringify(args, (key, v: unknown) => (key === "data" ? undefined : v));

/** An op applied to the arguments `args` makes: `inputs` gives its tensors, `op` runs it on them. */
function opCase<C>(args: fc.Arbitrary<C>, inputs: (c: C) => AnyTensor[], op: (c: C, xs: readonly AnyTensor[]) => AnyTensor): fc.Arbitrary<Applied> {
  return args.map((c) => ({ inputs: inputs(c), f: (xs) => op(c, xs), detail: detailOf(c) }));
}

/** A unary op on arrays of rank 0 to 3, its inputs mapped by `map`. */
const unary = (f: (x: F64) => AnyTensor, map?: (values: number[]) => number[]): fc.Arbitrary<Applied> =>
  opCase(arrayOf(0, 3), (x) => [fromNaive(x, map)], (_, xs) => f(f64(xs)));

/** A binary op on two arrays that broadcast, their inputs mapped by `mapX` and `mapY`. */
const binary = (f: (x: F64, y: F64) => AnyTensor, mapX?: (values: number[]) => number[], mapY?: (values: number[]) => number[]): fc.Arbitrary<Applied> =>
  opCase(broadcastPair(), ([a, b]) => [fromNaive(a, mapX), fromNaive(b, mapY)], (_, xs) => f(f64(xs, 0), f64(xs, 1)));

/** A reduction over random axes; over nonempty arrays only unless `empty` (an empty mean or max has no derivative). */
const reduction = (f: (x: F64, axes: number[] | undefined, keepDims: boolean) => AnyTensor, map?: (values: number[]) => number[], empty = false): fc.Arbitrary<Applied> =>
  opCase(
    reducedArgs.filter(({ x }) => empty || !x.shape.includes(0)),
    ({ x }) => [fromNaive(x, map)],
    ({ axes, keepDims }, xs) => f(f64(xs), axes, keepDims),
  );

/** A normalisation (softmax) over random axes of a nonempty array (an empty one has nothing to differentiate). */
const normalization = (f: (x: F64, axes: number[]) => AnyTensor): fc.Arbitrary<Applied> =>
  opCase(
    normalizedArgs.filter(({ x }) => !x.shape.includes(0)),
    ({ x }) => [fromNaive(x)],
    ({ axes }, xs) => f(f64(xs), axes),
  );

const integers = (values: number[]): number[] => values.map(Math.round);
const halfIntegers = (values: number[]): number[] => values.map((v) => Math.round(v) + 0.5);
/** Targets of a binary cross-entropy, in [0.1, 0.9] (0 and 1 are the kinks of `x log y`). */
const probabilities = (values: number[]): number[] => values.map((v) => 0.5 + 0.4 * Math.tanh(v));

/** Labels of `softmaxCrossEntropy`: int32 class indices in range, or probabilities away from 0. */
const crossEntropyArgs = shapeOf(1, 3)
  .filter((shape) => (shape[shape.length - 1] ?? 0) > 0)
  .chain((shape) =>
    fc.record({
      logits: dataFor(shape),
      labels: fc.oneof(
        dataFor(shape.slice(0, -1), fc.integer({ min: 0, max: (shape[shape.length - 1] ?? 1) - 1 })).map((ids) => ({ ...ids, dtype: "int32" as const })),
        dataFor(shape, fc.double({ min: 0.05, max: 1, noNaN: true })).map((probs) => ({ ...probs, dtype: "float64" as const })),
      ),
    }),
  );

/** A 1-D convolution's shapes and options (`"same"` or a number of padding each side). */
const conv1dArgs = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    l: fc.integer({ min: 1, max: 6 }),
    groups: fc.integer({ min: 1, max: 2 }),
    cin: fc.integer({ min: 1, max: 2 }),
    cout: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    padding: fc.oneof(fc.constant<"same">("same"), fc.integer({ min: 0, max: 2 })),
  })
  .filter(({ l, k, dilation, padding }) => padding === "same" || l + 2 * padding >= dilation * (k - 1) + 1)
  .chain(({ n, l, groups, cin, cout, k, stride, dilation, padding }) =>
    fc.record({
      x: primTensorOf([n, l, cin * groups]),
      w: primTensorOf([k, cin, cout * groups]),
      options: fc.constant({ stride, dilation, padding, groups }),
    }),
  );

/**
 * Every public op, typed by the exports of `src/ops/index.ts`: the arguments
 * of a differentiable op, mapped onto its domain, or why it has none.
 */
const opCases: { readonly [K in OpName]: fc.Arbitrary<Applied> | NoDerivative } = {
  // Elementwise math.
  neg: unary(ops.neg),
  exp: unary(ops.exp),
  log: unary(ops.log, positive),
  log1p: unary(ops.log1p, positive),
  sqrt: unary(ops.sqrt, positive),
  sin: unary(ops.sin),
  cos: unary(ops.cos),
  tanh: unary(ops.tanh),
  erf: unary(ops.erf),
  erfc: unary(ops.erfc),
  add: binary(ops.add),
  sub: binary(ops.sub),
  mul: binary(ops.mul),
  div: binary(ops.div, undefined, awayFromZero),
  // integers against half-integers: never within 1/2 of a tie
  maximum: binary(ops.maximum, integers, halfIntegers),
  minimum: binary(ops.minimum, integers, halfIntegers),
  // a positive base and an exponent in [-10/3, 10/3]
  pow: binary(ops.pow, positive, (values) => values.map((v) => v / 3)),
  where: opCase(
    broadcastPair().chain(([a, b]) => fc.record({ a: fc.constant(a), b: fc.constant(b), cond: dataFor(a.shape, fc.constantFrom(0, 1)) })),
    ({ a, b, cond }) => [tensorFrom(cond.shape, "bool", cond.data), fromNaive(a), fromNaive(b)],
    (_, xs) => ops.where(xs[0] as Tensor<number[], "bool">, f64(xs, 1), f64(xs, 2)), // input 0 is the bool condition
  ),
  cast: { noDerivative: "a change of dtype: the float32 laws check the cast primitive between float32 and float64" },
  equal: { noDerivative: "a bool result" },
  notEqual: { noDerivative: "a bool result" },
  less: { noDerivative: "a bool result" },
  lessEqual: { noDerivative: "a bool result" },
  greater: { noDerivative: "a bool result" },
  greaterEqual: { noDerivative: "a bool result" },
  isFinite: { noDerivative: "a bool result" },
  isNaN: { noDerivative: "a bool result" },
  abs: unary(ops.abs, awayFrom([0])),
  sign: unary(ops.sign, awayFrom([0])),
  relu: unary(ops.relu, awayFrom([0])),
  clip: unary((x) => ops.clip(x, -1, 2), awayFrom([-1, 2])),
  square: unary(ops.square),
  reciprocal: unary(ops.reciprocal, awayFromZero),
  rsqrt: unary(ops.rsqrt, positive),
  // Activations.
  sigmoid: unary(ops.sigmoid),
  softplus: unary(ops.softplus),
  logSigmoid: unary(ops.logSigmoid),
  gelu: unary((x) => ops.gelu(x)),
  silu: unary(ops.silu),
  // Reductions and normalisations.
  sum: reduction(ops.sum, undefined, true),
  mean: reduction(ops.mean),
  max: reduction(ops.max, distinct),
  min: reduction(ops.min, distinct),
  logsumexp: reduction(ops.logsumexp),
  variance: reduction(ops.variance),
  // entries away from 0, so that no norm is 0
  norm: reduction(ops.norm, awayFromZero),
  argmax: { noDerivative: "an int32 result" },
  accuracy: { noDerivative: "a count: piecewise constant" },
  argmin: { noDerivative: "an int32 result" },
  softmax: normalization(ops.softmax),
  logSoftmax: normalization(ops.logSoftmax),
  // Products.
  matmul: opCase(matmulArgs, ({ a, b }) => [fromNaive(a), fromNaive(b)], (_, xs) => ops.matmul(f64(xs, 0), f64(xs, 1))),
  dot: opCase(vectorPair, ([a, b]) => [fromNaive(a), fromNaive(b)], (_, xs) => ops.dot(vector(xs, 0), vector(xs, 1))),
  outer: opCase(fc.tuple(arrayOf(1, 1), arrayOf(1, 1)), ([a, b]) => [fromNaive(a), fromNaive(b)], (_, xs) => ops.outer(vector(xs, 0), vector(xs, 1))),
  // Shape ops.
  broadcastTo: opCase(broadcastToArgs, ({ x }) => [fromNaive(x)], ({ target }, xs) => ops.broadcastTo(f64(xs), target)),
  reshape: opCase(reshapeArgs, ({ x }) => [fromNaive(x)], ({ target }, xs) => ops.reshape(f64(xs), target)),
  flatten: opCase(flattenArgs, ({ x }) => [fromNaive(x)], ({ start, end }, xs) => ops.flatten(f64(xs), start, end)),
  transpose: opCase(transposeArgs, ({ x }) => [fromNaive(x)], ({ perm }, xs) => (perm === undefined ? ops.transpose(f64(xs)) : ops.transpose(f64(xs), perm))),
  swapAxes: opCase(swapAxesArgs, ({ x }) => [fromNaive(x)], ({ a, b }, xs) => ops.swapAxes(f64(xs), a, b)),
  squeeze: opCase(squeezeArgs, ({ x }) => [fromNaive(x)], ({ axes }, xs) => ops.squeeze(f64(xs), axes)),
  expandDims: opCase(expandDimsArgs, ({ x }) => [fromNaive(x)], ({ axis }, xs) => ops.expandDims(f64(xs), axis)),
  concat: opCase(concatArgs, ({ xs }) => xs.map((x) => fromNaive(x)), ({ axis }, xs) => ops.concat(xs.map((_, i) => f64(xs, i)), axis)),
  stack: opCase(stackArgs, ({ xs }) => xs.map((x) => fromNaive(x)), ({ axis }, xs) => ops.stack(xs.map((_, i) => f64(xs, i)), axis)),
  slice: opCase(sliceArgs, ({ x }) => [fromNaive(x)], ({ specs }, xs) => ops.slice(f64(xs), specs)),
  pad: opCase(padArgs, ({ x }) => [fromNaive(x)], ({ widths, value }, xs) => ops.pad(f64(xs), widths, value)),
  tile: opCase(tileArgs, ({ x }) => [fromNaive(x)], ({ reps }, xs) => ops.tile(f64(xs), reps)),
  repeat: opCase(repeatArgs, ({ x }) => [fromNaive(x)], ({ repeats, axis }, xs) => ops.repeat(f64(xs), repeats, axis)),
  oneHot: { noDerivative: "int32 indices in, constants out" },
  take: opCase(
    takeArgs,
    ({ x, indices }) => [fromNaive(x), tensorFrom(indices.shape, "int32", indices.data)],
    (_, xs) => ops.take(f64(xs), xs[1] as Tensor<number[], "int32">), // the second input is the int32 indices, made just above
  ),
  // Losses.
  mse: binary(ops.mse),
  huber: binary((x, y) => ops.huber(x, y, 1.5)),
  sigmoidBinaryCrossEntropy: binary(ops.sigmoidBinaryCrossEntropy, undefined, probabilities),
  softmaxCrossEntropy: opCase(
    crossEntropyArgs,
    ({ logits, labels }) => [fromNaive(logits), tensorFrom(labels.shape, labels.dtype, labels.data)],
    (_, xs) => {
      const logits = xs[0] as Tensor<[...number[], number], "float64">; // rank >= 1 by construction
      const labels = xs[1];
      if (labels?.dtype === "int32") return ops.softmaxCrossEntropy(logits, labels as Tensor<number[], "int32">); // checked just above
      return ops.softmaxCrossEntropy(logits, labels as Tensor<[...number[], number], "float64">); // else the labels are probabilities, float64
    },
  ),
  // Convolutions and pools.
  conv2d: opCase(
    convCase.chain((c) => fc.record({ x: primTensorOf(c.x), w: primTensorOf(c.w), options: fc.constant(c.params) })),
    ({ x, w }) => [x, w],
    ({ options }, xs) => ops.conv2d(image(xs, 0), image(xs, 1), options),
  ),
  conv1d: opCase(
    conv1dArgs,
    ({ x, w }) => [x, w],
    ({ options }, xs) => ops.conv1d(xs[0] as Tensor<[number, number, number], "float64">, xs[1] as Tensor<[number, number, number], "float64">, options), // rank 3 by construction
  ),
  maxPool2d: opCase(
    poolCase.chain((c) => fc.record({ x: primTensorOf(c.x).map((x) => tensorFrom(x.shape, x.dtype, distinct(valuesOf(x)))), pool: fc.constant(c.params) })),
    ({ x }) => [x],
    ({ pool }, xs) => ops.maxPool2d(image(xs), pool.window, { stride: pool.stride, padding: pool.padding }),
  ),
  avgPool2d: opCase(
    poolCase.chain((c) => fc.record({ x: primTensorOf(c.x), pool: fc.constant(c.params), countIncludePad: fc.boolean() })),
    ({ x }) => [x],
    ({ pool, countIncludePad }, xs) => ops.avgPool2d(image(xs), pool.window, { stride: pool.stride, padding: pool.padding, countIncludePad }),
  ),
  adaptiveAvgPool2d: opCase(
    adaptiveArgs(2),
    ({ x }) => [x],
    ({ out }, xs) => ops.adaptiveAvgPool2d(image(xs), [out[0] ?? 1, out[1] ?? 1]),
  ),
  adaptiveMaxPool2d: opCase(
    adaptiveArgs(2, true),
    ({ x }) => [x],
    ({ out }, xs) => ops.adaptiveMaxPool2d(image(xs), [out[0] ?? 1, out[1] ?? 1]),
  ),
  adaptiveAvgPool1d: opCase(
    adaptiveArgs(1),
    ({ x }) => [x],
    ({ out }, xs) => ops.adaptiveAvgPool1d(sequence(xs), out[0] ?? 1),
  ),
  adaptiveMaxPool1d: opCase(
    adaptiveArgs(1, true),
    ({ x }) => [x],
    ({ out }, xs) => ops.adaptiveMaxPool1d(sequence(xs), out[0] ?? 1),
  ),
};

const opNames = Object.keys(opCases) as OpName[]; // the keys of an object typed by OpName

/** The op `name` as subjects of the laws, or why it has no derivative. */
function opSubjects(name: OpName): fc.Arbitrary<Subject> | NoDerivative {
  const entry = opCases[name];
  return "noDerivative" in entry ? entry : entry.map((a) => ({ name, ...a }));
}

describe("every public op in float64", () => {
  for (const name of opNames) {
    const subjects = opSubjects(name);
    // an op with a bool or int result has no derivative: its table entry says why
    if ("noDerivative" in subjects) continue;
    test(`${name}: its JVP matches central differences`, () => holds(subjects, jvpMatchesDifferences, "float64"));
    test(`${name}: its transpose is the adjoint of its linearization`, () => holds(subjects, adjointIdentity, "float64"));
  }
});

// ---------------------------------------------------------------------------
// 3. The chain rule
// ---------------------------------------------------------------------------

/** A sum over every axis, which is a scalar. */
const total = (x: AnyTensor): Scalar => ops.sum(x as F64) as Scalar; // every axis summed: shape []

/** Unary ops from the table that keep the shape and take every real: the links of the chains. */
const links: Record<string, (x: F64) => F64> = {
  neg: ops.neg,
  exp: ops.exp,
  sin: ops.sin,
  cos: ops.cos,
  tanh: ops.tanh,
  square: ops.square,
  sigmoid: ops.sigmoid,
  softplus: ops.softplus,
  logSigmoid: ops.logSigmoid,
  gelu: (x) => ops.gelu(x),
  "gelu tanh": (x) => ops.gelu(x, { approximate: "tanh" }),
  silu: ops.silu,
  softmax: (x) => ops.softmax(x),
  logSoftmax: (x) => ops.logSoftmax(x),
  "x - mean(x, -1)": (x) => ops.sub(x, ops.mean(x, -1, true)) as F64, // x keeps its shape
};

const linkNames = Object.keys(links);
const linkOf = (name: string): ((x: F64) => F64) => {
  const f = links[name];
  if (f === undefined) throw new Error(`no link ${name}`);
  return f;
};

/** Moderate values, so that `exp(exp(x))` stays finite and well scaled. */
const moderate = fc.double({ min: -2, max: 2, noNaN: true });

describe("grad of a composition is the chain rule", () => {
  test("grad(sum ∘ f ∘ g)(x) is the pullback of g applied to grad(sum ∘ f)(g(x))", () => {
    fc.assert(
      fc.property(fc.constantFrom(...linkNames), fc.constantFrom(...linkNames), arrayOf(1, 3, moderate), (fName, gName, data) => {
        const [f, g] = [linkOf(fName), linkOf(gName)];
        const x = fromNaive(data) as F64; // a float64 tensor of data's shape
        const direct = grad((u: F64) => total(f(g(u))))(x);
        const [y, pullback] = vjp(g, x);
        const [chained] = pullback(grad((v: F64) => total(f(v)))(y));
        const want = valuesOf(chained);
        expectClose(valuesOf(direct), want, 1e-10 * (1 + maxAbs(want)), `${fName} ∘ ${gName} on float64[${data.shape.join(", ")}]`);
      }),
      { numRuns: chainRuns },
    );
  });
});

// ---------------------------------------------------------------------------
// 4. Second order
// ---------------------------------------------------------------------------

/** Scalar functions of `x` (and a constant `c` of its shape) whose Hessian the law checks. */
const secondOrder: Record<string, (x: F64, c: F64) => Scalar> = {
  "sum(tanh(x))": (x) => total(ops.tanh(x)),
  "sum(sigmoid(x))": (x) => total(ops.sigmoid(x)),
  "sum(exp(x))": (x) => total(ops.exp(x)),
  "sum(softmax(x) * c)": (x, c) => total(ops.mul(ops.softmax(x), c)),
  "sum(logSoftmax(x) * c)": (x, c) => total(ops.mul(ops.logSoftmax(x), c)),
  "sum((x - mean(x)) / sqrt(variance(x) + 1e-5) * c)": (x, c) => total(ops.mul(ops.div(ops.sub(x, ops.mean(x)), ops.sqrt(ops.add(ops.variance(x), 1e-5))), c)),
};

/**
 * Nonempty arrays of rank 1 or 2, and a constant of their shape. The law
 * spreads the values 1/2 apart (so that no variance is near 0) and moves
 * them 1/4 away from 0.
 * NOTE: the move away from 0 keeps the central differences off the kinks
 * of compositions such as `|x|`; sigmoid and softplus themselves are smooth
 * at 0 to every order (a unit test checks their second derivatives there).
 */
const secondOrderArgs = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 })
  .chain((shape) => fc.tuple(dataFor(shape, moderate), dataFor(shape, moderate)));

describe("second order: jvp of grad matches central differences of grad", () => {
  const eps = 1e-5;
  for (const [name, f] of Object.entries(secondOrder)) {
    test(name, () => {
      fc.assert(
        fc.property(secondOrderArgs, seeds, ([data, constant], seed) => {
          const x = tensorFrom(data.shape, "float64", awayFrom([0])(distinct([...data.data], 0.5))) as F64; // float64 by construction
          const c = fromNaive(constant) as F64; // float64 by construction
          const gradient = (u: F64): F64 => grad((v: F64) => f(v, c))(u);
          const t = randomLike(x, uniform(seed)) as F64; // like x
          const [, hessianT] = jvp(gradient, [x], [t]);
          const shifted = (sign: number): number[] => valuesOf(gradient(combine(1, x, sign * eps, t) as F64)); // like x
          const [plus, minus] = [shifted(1), shifted(-1)];
          const differences = plus.map((p, i) => (p - (minus[i] ?? NaN)) / (2 * eps));
          expectClose(valuesOf(hessianT), differences, 1e-5 * (1 + maxAbs(differences)), `${name} on float64[${data.shape.join(", ")}]`);
        }),
        { numRuns: secondOrderRuns },
      );
    });
  }
});

// ---------------------------------------------------------------------------
// 5. float32
// ---------------------------------------------------------------------------

/** The composite ops the float32 laws check. */
const float32Ops: readonly OpName[] = ["sigmoid", "gelu", "softplus", "softmax", "logSoftmax", "logsumexp", "variance", "matmul", "mse", "conv2d", "maxPool2d", "avgPool2d", "adaptiveAvgPool2d", "adaptiveMaxPool2d"];

describe("float32: JVPs against float32 differences, and adjoints", () => {
  for (const name of primNames.filter((n) => primitives[n].scalarOp !== undefined)) {
    const subjects = primSubjects(name, "float32");
    test(`${name}: its JVP matches central differences in float32`, () => holds(subjects, jvpMatchesDifferences, "float32"));
    test(`${name}: its transpose is the adjoint of its linearization in float32`, () => holds(subjects, adjointIdentity, "float32"));
  }
  for (const name of float32Ops) {
    const subjects = opSubjects(name);
    if ("noDerivative" in subjects) throw new Error(`${name} has no derivative to check`);
    test(`${name}: its JVP matches central differences in float32`, () => holds(subjects, jvpMatchesDifferences, "float32"));
    test(`${name}: its transpose is the adjoint of its linearization in float32`, () => holds(subjects, adjointIdentity, "float32"));
  }
});
