/**
 * Laws of the public ops, over random shapes (dims of size 0 and 1 and
 * non-square matrices included) and random float64 data:
 *
 * - the output shape of every op equals its run-time shape rule
 *   (`reduceShape`, `matmulShape`, `sliceShape`, ...);
 * - every op equals a naive nested-loop reference written here, from the
 *   definition, without `src/` (relative tolerance 1e-12);
 * - `jit(f)(x)` equals the eager `f(x)` for every op.
 *
 * Each op is one `OpCase`: an arbitrary for its arguments, the op applied to
 * its tensor inputs, its shape rule, and its reference; the three laws run
 * over the table. `STRATUM_HEAVY=1` runs many more cases. A failing law
 * prints its seed and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect } from "vitest";
import { fromArray } from "../src/core/create.js";
import type { DType } from "../src/core/dtype.js";
import { broadcastShapes } from "../src/core/rules/broadcast.js";
import { concatShape, stackShape } from "../src/core/rules/concat.js";
import { matmulShape } from "../src/core/rules/matmul.js";
import { permuteShape, transposeShape } from "../src/core/rules/permute.js";
import { reduceShape } from "../src/core/rules/reduce.js";
import { flattenShape, reshapeShape } from "../src/core/rules/reshape.js";
import { sliceShape, type SliceSpec } from "../src/core/rules/slice.js";
import { expandDimsShape, squeezeShape } from "../src/core/rules/squeeze.js";
import type { Shape } from "../src/core/shape.js";
import type { Tensor } from "../src/core/tensor.js";
import {
  abs,
  add,
  argmax,
  argmin,
  broadcastTo,
  clip,
  concat,
  cos,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  avgPool2d,
  div,
  erf,
  erfc,
  dot,
  exp,
  expandDims,
  flatten,
  gelu,
  greater,
  huber,
  log,
  log1p,
  logSigmoid,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mse,
  mul,
  neg,
  norm,
  oneHot,
  outer,
  pad,
  pow,
  reciprocal,
  relu,
  repeat,
  reshape,
  rsqrt,
  sigmoid,
  sigmoidBinaryCrossEntropy,
  sign,
  silu,
  sin,
  slice,
  softmax,
  softmaxCrossEntropy,
  softplus,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  swapAxes,
  tanh,
  tile,
  transpose,
  variance,
  where,
} from "../src/ops/index.js";
import { jit } from "../src/transforms/jit.js";
import { erf as scalarErf, erfc as scalarErfc } from "../src/backend/erf.js";
import {
  arrayOf,
  axisOf,
  broadcastPair,
  broadcastToArgs,
  concatArgs,
  dataFor,
  dim,
  expandDimsArgs,
  flattenArgs,
  matmulArgs,
  normalizedArgs,
  padArgs,
  reducedArgs,
  repeatArgs,
  reshapeArgs,
  shapeOf,
  sizeOf,
  sliceArgs,
  squeezeArgs,
  stackArgs,
  swapAxesArgs,
  tileArgs,
  transposeArgs,
  value,
  vectorPair,
  type MatmulArgs,
  type Naive,
  type Normalized,
  type Reduced,
} from "./support/op-cases.js";

const numRuns = process.env.STRATUM_HEAVY === "1" ? 500 : 25;
const tolerance = 1e-12;

// ---------------------------------------------------------------------------
// Naive arrays: a shape and row-major data, and loops over their indices
// ---------------------------------------------------------------------------

/** The multi-index of the `i`-th element of `shape` in row-major order. */
function unravel(i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] ?? 1;
    index[d] = rest % n;
    rest = Math.floor(rest / n);
  }
  return index;
}

/** The row-major position of a multi-index. */
function ravel(index: readonly number[], shape: readonly number[]): number {
  return index.reduce((at, k, d) => at * (shape[d] ?? 1) + k, 0);
}

/** Builds an array of `shape` whose element at each multi-index is `f(index)`. */
function build(shape: readonly number[], f: (index: number[]) => number): Naive {
  const data: number[] = [];
  for (let i = 0; i < sizeOf(shape); i++) data.push(f(unravel(i, shape)));
  return { shape, data };
}

/** The element of `x` at a multi-index. */
function at(x: Naive, index: readonly number[]): number {
  const v = x.data[ravel(index, x.shape)];
  if (v === undefined) throw new Error(`naive: index [${index.join(", ")}] is outside [${x.shape.join(", ")}]`);
  return v;
}

/**
 * Groups the elements of `x` by their coordinates on the axes that are not
 * reduced: one group per output element, each in row-major order.
 */
function groups(x: Naive, reduced: readonly number[]): { kept: number[]; members: number[][] } {
  const kept = x.shape.filter((_, d) => !reduced.includes(d));
  const members = Array.from({ length: sizeOf(kept) }, (): number[] => []);
  for (let i = 0; i < x.data.length; i++) {
    const index = unravel(i, x.shape).filter((_, d) => !reduced.includes(d));
    members[ravel(index, kept)]?.push(i);
  }
  return { kept, members };
}

/** A reduction of `x` over `axes` by `f`, the reduced axes dropped or kept as 1. */
function naiveReduce(x: Naive, axes: readonly number[], keepDims: boolean, f: (values: number[]) => number): Naive {
  const { kept, members } = groups(x, axes);
  const data = members.map((ids) => f(ids.map((i) => x.data[i] ?? NaN)));
  return { shape: keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept, data };
}

/** A map of each group of `x` over `axes` to new values in place (softmax). */
function naiveNormalize(x: Naive, axes: readonly number[], f: (values: number[]) => number[]): Naive {
  const data = [...x.data];
  for (const ids of groups(x, axes).members) {
    const out = f(ids.map((i) => x.data[i] ?? NaN));
    ids.forEach((i, k) => (data[i] = out[k] ?? NaN));
  }
  return { shape: x.shape, data };
}

/** The NumPy broadcast of two shapes, computed dim by dim from the end. */
function naiveBroadcast(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The element of `x` read for output index `index` when `x` is broadcast to a shape of that rank. */
function atBroadcast(x: Naive, index: readonly number[]): number {
  const offset = index.length - x.shape.length;
  return at(
    x,
    x.shape.map((d, i) => (d === 1 ? 0 : (index[i + offset] ?? 0))),
  );
}

const sumOf = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);

/** Where the first extreme of `values` sits, by `better`; a NaN wins at once. */
function firstBest(values: readonly number[], better: (v: number, best: number) => boolean): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? NaN;
    if (Number.isNaN(v)) return i;
    if (better(v, values[best] ?? NaN)) best = i;
  }
  return best;
}

// ---------------------------------------------------------------------------
// Comparing a result with a reference
// ---------------------------------------------------------------------------

type AnyTensor = Tensor<Shape, DType>;
type F64 = Tensor<number[], "float64">;
type I32 = Tensor<number[], "int32">;

/** The elements of a tensor as numbers (bool as 0 and 1). */
const valuesOf = (x: AnyTensor): number[] => x.toArray().map(Number);

/** True when `got` is `want` within the tolerance, relative to `max(|want|, 1)`; NaN equals NaN. */
function close(got: number, want: number): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  return Math.abs(got - want) <= tolerance * Math.max(Math.abs(want), 1);
}

function expectClose(got: AnyTensor, want: Naive): void {
  expect(got.shape).toEqual(want.shape);
  const values = valuesOf(got);
  const far = values.map((v, i) => [i, v, want.data[i] ?? NaN] as const).filter(([, v, w]) => !close(v, w));
  expect(far).toEqual([]);
}

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

const normalized = (axes: readonly number[] | undefined, rank: number): number[] =>
  axes === undefined ? Array.from({ length: rank }, (_, i) => i) : axes.map((a) => (a < 0 ? a + rank : a));

// ---------------------------------------------------------------------------
// The table of ops
// ---------------------------------------------------------------------------

/** One op under the laws: its arguments, how it runs on tensors, its rule and its reference. */
interface OpCase<C> {
  readonly name: string;
  readonly args: fc.Arbitrary<C>;
  /** The tensor inputs of the op for these arguments (jit traces these). */
  readonly inputs: (c: C) => AnyTensor[];
  /** The op on the given inputs. */
  readonly op: (c: C, xs: readonly AnyTensor[]) => AnyTensor;
  /** The run-time shape rule of the op for these arguments. */
  readonly rule: (c: C) => readonly number[];
  /** The reference result, computed loop by loop. */
  readonly naive: (c: C) => Naive;
}

/** A tensor from a naive array. */
function tensorOf(x: Naive, dtype: "float64" | "int32" = "float64"): AnyTensor {
  const t = fromArray(x.data, [...x.shape], dtype);
  if (E.isLeft(t)) throw t.left;
  return t.right;
}

// Each case makes its inputs itself, with the dtype its op reads: the casts below only name that dtype.
const f64 = (xs: readonly AnyTensor[], i = 0): F64 => xs[i] as F64;
const i32 = (xs: readonly AnyTensor[], i = 0): I32 => xs[i] as I32;

const cases: OpCase<never>[] = [];

/** Adds a case to the table (the `never` of the table's type erases `C`, which each case keeps). */
function law<C>(c: OpCase<C>): void {
  cases.push(c as unknown as OpCase<never>); // the laws hand each case only the arguments its own arbitrary made
}

// Elementwise ops: a scalar reference per element, broadcasting for binary ops.

function unary(name: string, f: (x: F64) => AnyTensor, scalar: (v: number) => number, values: fc.Arbitrary<number> = value): void {
  law<Naive>({
    name,
    args: arrayOf(0, 3, values),
    inputs: (x) => [tensorOf(x)],
    op: (_, xs) => f(f64(xs)),
    rule: (x) => x.shape,
    naive: (x) => ({ shape: x.shape, data: x.data.map(scalar) }),
  });
}

function binary(name: string, f: (x: F64, y: F64) => AnyTensor, scalar: (a: number, b: number) => number, values?: fc.Arbitrary<number>): void {
  law<[Naive, Naive]>({
    name,
    args: broadcastPair(values),
    inputs: ([a, b]) => [tensorOf(a), tensorOf(b)],
    op: (_, xs) => f(f64(xs, 0), f64(xs, 1)),
    rule: ([a, b]) => broadcastShapes(a.shape, b.shape),
    naive: ([a, b]) => build(naiveBroadcast(a.shape, b.shape), (i) => scalar(atBroadcast(a, i), atBroadcast(b, i))),
  });
}

const positive = fc.double({ min: 1e-3, max: 10, noNaN: true });
const logistic = (v: number): number => 1 / (1 + Math.exp(-v));

unary("neg", neg, (v) => -v);
unary("exp", exp, Math.exp);
unary("log", log, Math.log, positive);
unary("log1p", log1p, Math.log1p, positive);
unary("sqrt", sqrt, Math.sqrt, positive);
unary("sin", sin, Math.sin);
unary("cos", cos, Math.cos);
unary("tanh", tanh, Math.tanh);
unary("abs", abs, Math.abs);
unary("square", square, (v) => v * v);
unary("sign", sign, Math.sign);
unary("reciprocal", reciprocal, (v) => 1 / v, positive);
unary("rsqrt", rsqrt, (v) => 1 / Math.sqrt(v), positive);
unary("clip", (x) => clip(x, -1, 2), (v) => Math.min(Math.max(v, -1), 2));
unary("relu", relu, (v) => Math.max(v, 0));
unary("sigmoid", sigmoid, logistic);
unary("softplus", softplus, (v) => Math.log1p(Math.exp(v)));
unary("logSigmoid", logSigmoid, (v) => -Math.log1p(Math.exp(-v)));
unary("erf", erf, scalarErf);
unary("erfc", erfc, scalarErfc);
unary("gelu", gelu, (v) => 0.5 * v * (1 + scalarErf(v / Math.SQRT2)));
unary("gelu tanh", (x) => gelu(x, { approximate: "tanh" }), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
unary("silu", silu, (v) => v * logistic(v));

binary("add", add, (a, b) => a + b);
binary("sub", sub, (a, b) => a - b);
binary("mul", mul, (a, b) => a * b);
binary("div", div, (a, b) => a / b, positive);
binary("maximum", maximum, Math.max);
binary("minimum", minimum, Math.min);
binary("pow", pow, (a, b) => a ** b, positive);
binary("greater", greater, (a, b) => (a > b ? 1 : 0));
binary("where", (x, y) => where(greater(x, y), x, y), (a, b) => (a > b ? a : b));
binary("mse", mse, (a, b) => (a - b) ** 2);
binary("huber", (x, y) => huber(x, y, 1.5), (a, b) => (Math.abs(a - b) <= 1.5 ? 0.5 * (a - b) ** 2 : 1.5 * (Math.abs(a - b) - 0.75)));
binary(
  "sigmoidBinaryCrossEntropy",
  (x, z) => sigmoidBinaryCrossEntropy(x, clip(z, 0, 1)),
  (x, z0) => {
    const z = Math.min(Math.max(z0, 0), 1);
    return -(z * Math.log(logistic(x)) + (1 - z) * Math.log(1 / (1 + Math.exp(x))));
  },
);

// Reductions over a list of axes (or all), with keepDims.

function reduction(name: string, f: (x: F64, axes: number[] | undefined, keepDims: boolean) => AnyTensor, scalar: (values: number[]) => number): void {
  law<Reduced>({
    name,
    args: reducedArgs,
    inputs: ({ x }) => [tensorOf(x)],
    op: ({ axes, keepDims }, xs) => f(f64(xs), axes, keepDims),
    rule: ({ x, axes, keepDims }) => reduceShape(x.shape, axes, keepDims),
    naive: ({ x, axes, keepDims }) => naiveReduce(x, normalized(axes, x.shape.length), keepDims, scalar),
  });
}

const meanOf = (values: readonly number[]): number => sumOf(values) / values.length;

reduction("sum", sum, sumOf);
reduction("mean", mean, meanOf);
reduction("max", max, (values) => Math.max(...values));
reduction("min", min, (values) => Math.min(...values));
reduction("logsumexp", logsumexp, (values) => Math.log(sumOf(values.map(Math.exp))));
reduction("variance", variance, (values) => meanOf(values.map((v) => (v - meanOf(values)) ** 2)));
reduction("norm", norm, (values) => Math.sqrt(sumOf(values.map((v) => v * v))));

// argmax and argmin: one axis, or the flattened tensor; never over an empty axis.

interface Indexed {
  readonly x: Naive;
  readonly axis: number | undefined;
  readonly keepDims: boolean;
}

const indexedArgs: fc.Arbitrary<Indexed> = shapeOf(0, 4)
  .filter((shape) => !shape.includes(0))
  .chain((shape) =>
    fc.record({
      x: dataFor(shape),
      axis: shape.length === 0 ? fc.constant(undefined) : fc.option(axisOf(shape.length), { nil: undefined }),
      keepDims: fc.boolean(),
    }),
  );

function indexReduction(name: string, f: (x: F64, axis: number | undefined, keepDims: boolean) => AnyTensor, better: (v: number, best: number) => boolean): void {
  law<Indexed>({
    name,
    args: indexedArgs,
    inputs: ({ x }) => [tensorOf(x)],
    op: ({ axis, keepDims }, xs) => f(f64(xs), axis, keepDims),
    rule: ({ x, axis, keepDims }) => reduceShape(x.shape, axis, keepDims),
    naive: ({ x, axis, keepDims }) =>
      naiveReduce(x, normalized(axis === undefined ? undefined : [axis], x.shape.length), keepDims, (values) => firstBest(values, better)),
  });
}

indexReduction("argmax", argmax, (v, best) => v > best);
indexReduction("argmin", argmin, (v, best) => v < best);

// softmax and logSoftmax over a list of axes.

function normalization(name: string, f: (x: F64, axes: number[]) => AnyTensor, scalar: (values: number[]) => number[]): void {
  law<Normalized>({
    name,
    args: normalizedArgs,
    inputs: ({ x }) => [tensorOf(x)],
    op: ({ axes }, xs) => f(f64(xs), axes),
    rule: ({ x }) => x.shape,
    naive: ({ x, axes }) => naiveNormalize(x, normalized(axes, x.shape.length), scalar),
  });
}

normalization("softmax", softmax, (values) => values.map((v) => Math.exp(v) / sumOf(values.map(Math.exp))));
normalization("logSoftmax", logSoftmax, (values) => values.map((v) => v - Math.log(sumOf(values.map(Math.exp)))));

// Products.

/** NumPy's matmul, loop by loop: rank-1 operands as a row and a column, batch dims broadcast. */
function naiveMatmul({ a, b }: MatmulArgs): Naive {
  const a2: Naive = a.shape.length === 1 ? { shape: [1, ...a.shape], data: a.data } : a;
  const b2: Naive = b.shape.length === 1 ? { shape: [...b.shape, 1], data: b.data } : b;
  const [m = 0, k = 0] = a2.shape.slice(-2);
  const n = b2.shape[b2.shape.length - 1] ?? 0;
  const batch = naiveBroadcast(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const full = build([...batch, m, n], (index) => {
    const [i = 0, j = 0] = index.slice(-2);
    const lead = index.slice(0, -2);
    let acc = 0;
    for (let p = 0; p < k; p++) acc += atBroadcast(a2, [...lead, i, p]) * atBroadcast(b2, [...lead, p, j]);
    return acc;
  });
  const shape = [...batch, ...(a.shape.length > 1 ? [m] : []), ...(b.shape.length > 1 ? [n] : [])];
  return { shape, data: full.data };
}

law<MatmulArgs>({
  name: "matmul",
  args: matmulArgs,
  inputs: ({ a, b }) => [tensorOf(a), tensorOf(b)],
  op: (_, xs) => matmul(f64(xs, 0), f64(xs, 1)),
  rule: ({ a, b }) => matmulShape(a.shape, b.shape),
  naive: naiveMatmul,
});

law<[Naive, Naive]>({
  name: "dot",
  args: vectorPair,
  inputs: ([a, b]) => [tensorOf(a), tensorOf(b)],
  op: (_, xs) => dot(f64(xs, 0) as Tensor<[number], "float64">, f64(xs, 1) as Tensor<[number], "float64">), // rank 1 by construction
  rule: () => [],
  naive: ([a, b]) => ({ shape: [], data: [sumOf(a.data.map((v, i) => v * (b.data[i] ?? NaN)))] }),
});

law<[Naive, Naive]>({
  name: "outer",
  args: fc.tuple(arrayOf(1, 1), arrayOf(1, 1)),
  inputs: ([a, b]) => [tensorOf(a), tensorOf(b)],
  op: (_, xs) => outer(f64(xs, 0) as Tensor<[number], "float64">, f64(xs, 1) as Tensor<[number], "float64">), // rank 1 by construction
  rule: ([a, b]) => [...a.shape, ...b.shape],
  naive: ([a, b]) => build([...a.shape, ...b.shape], ([i = 0, j = 0]) => at(a, [i]) * at(b, [j])),
});

// Shape ops.

law<{ x: Naive; target: number[] }>({
  name: "reshape",
  args: reshapeArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ target }, xs) => reshape(f64(xs), target),
  rule: ({ x, target }) => reshapeShape(x.shape, target),
  naive: ({ x, target }) => {
    const known = sizeOf(target.filter((d) => d !== -1));
    return { shape: target.map((d) => (d === -1 ? sizeOf(x.shape) / known : d)), data: x.data };
  },
});

law<{ x: Naive; start: number; end: number }>({
  name: "flatten",
  args: flattenArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ start, end }, xs) => flatten(f64(xs), start, end),
  rule: ({ x, start, end }) => flattenShape(x.shape, start, end),
  naive: ({ x, start, end }) => {
    const last = end + x.shape.length;
    return { shape: [...x.shape.slice(0, start), sizeOf(x.shape.slice(start, last + 1)), ...x.shape.slice(last + 1)], data: x.data };
  },
});

/** `x` with its axes in the order `perm`, loop by loop. */
function naivePermute(x: Naive, perm: readonly number[]): Naive {
  return build(
    perm.map((a) => x.shape[a] ?? 0),
    (index) => {
      const source = new Array<number>(perm.length).fill(0);
      perm.forEach((a, i) => (source[a] = index[i] ?? 0));
      return at(x, source);
    },
  );
}

law<{ x: Naive; perm: number[] | undefined }>({
  name: "transpose",
  args: transposeArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ perm }, xs) => (perm === undefined ? transpose(f64(xs)) : transpose(f64(xs), perm)),
  rule: ({ x, perm }) => (perm === undefined ? transposeShape(x.shape) : permuteShape(x.shape, perm)),
  naive: ({ x, perm }) => naivePermute(x, perm ?? x.shape.map((_, i) => x.shape.length - 1 - i)),
});

law<{ x: Naive; a: number; b: number }>({
  name: "swapAxes",
  args: swapAxesArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ a, b }, xs) => swapAxes(f64(xs), a, b),
  rule: ({ x, a, b }) => {
    const [i, j] = normalized([a, b], x.shape.length);
    return x.shape.map((d, k) => (k === i ? (x.shape[j ?? 0] ?? d) : k === j ? (x.shape[i ?? 0] ?? d) : d));
  },
  naive: ({ x, a, b }) => {
    const [i = 0, j = 0] = normalized([a, b], x.shape.length);
    return naivePermute(
      x,
      x.shape.map((_, k) => (k === i ? j : k === j ? i : k)),
    );
  },
});

law<{ x: Naive; axes: number[] | undefined }>({
  name: "squeeze",
  args: squeezeArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ axes }, xs) => squeeze(f64(xs), axes),
  rule: ({ x, axes }) => squeezeShape(x.shape, axes),
  naive: ({ x, axes }) => ({ shape: x.shape.filter((d, i) => d !== 1 || (axes !== undefined && !axes.includes(i))), data: x.data }),
});

law<{ x: Naive; axis: number }>({
  name: "expandDims",
  args: expandDimsArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ axis }, xs) => expandDims(f64(xs), axis),
  rule: ({ x, axis }) => expandDimsShape(x.shape, axis),
  naive: ({ x, axis }) => {
    const position = axis < 0 ? axis + x.shape.length + 1 : axis;
    return { shape: [...x.shape.slice(0, position), 1, ...x.shape.slice(position)], data: x.data };
  },
});

law<{ xs: Naive[]; axis: number }>({
  name: "concat",
  args: concatArgs,
  inputs: ({ xs }) => xs.map((x) => tensorOf(x)),
  op: ({ axis }, xs) => concat(xs.map((_, i) => f64(xs, i)), axis),
  rule: ({ xs, axis }) => concatShape(xs.map((x) => x.shape), axis),
  naive: ({ xs, axis }) => {
    const first = xs[0] ?? { shape: [], data: [] };
    const a = axis < 0 ? axis + first.shape.length : axis;
    const sizes = xs.map((x) => x.shape[a] ?? 0);
    const shape = first.shape.map((d, i) => (i === a ? sumOf(sizes) : d));
    return build(shape, (index) => {
      let k = index[a] ?? 0;
      let which = 0;
      while (k >= (sizes[which] ?? 0)) k -= sizes[which++] ?? 0;
      return at(xs[which] ?? first, index.map((v, i) => (i === a ? k : v)));
    });
  },
});

law<{ xs: Naive[]; axis: number }>({
  name: "stack",
  args: stackArgs,
  inputs: ({ xs }) => xs.map((x) => tensorOf(x)),
  op: ({ axis }, xs) => stack(xs.map((_, i) => f64(xs, i)), axis),
  rule: ({ xs, axis }) => stackShape(xs.map((x) => x.shape), axis),
  naive: ({ xs, axis }) => {
    const first = xs[0] ?? { shape: [], data: [] };
    const a = axis < 0 ? axis + first.shape.length + 1 : axis;
    const shape = [...first.shape.slice(0, a), xs.length, ...first.shape.slice(a)];
    return build(shape, (index) => at(xs[index[a] ?? 0] ?? first, index.filter((_, i) => i !== a)));
  },
});

/** The indices Python's `range(len)[spec]` walks along an axis of size `d`, by stepping. */
function walk(d: number, spec: SliceSpec): number[] | number {
  if (spec === null) return Array.from({ length: d }, (_, i) => i);
  if (typeof spec === "number") return spec < 0 ? spec + d : spec;
  const step = spec.step ?? 1;
  const bound = (v: number | undefined, byDefault: number, low: number, high: number): number =>
    v === undefined ? byDefault : Math.min(Math.max(v < 0 ? v + d : v, low), high);
  const out: number[] = [];
  if (step > 0) {
    for (let i = bound(spec.start, 0, 0, d); i < bound(spec.stop, d, 0, d); i += step) out.push(i);
  } else {
    for (let i = bound(spec.start, d - 1, -1, d - 1); i > bound(spec.stop, -1, -1, d - 1); i += step) out.push(i);
  }
  return out;
}

law<{ x: Naive; specs: SliceSpec[] }>({
  name: "slice",
  args: sliceArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ specs }, xs) => slice(f64(xs), specs),
  rule: ({ x, specs }) => sliceShape(x.shape, specs),
  naive: ({ x, specs }) => {
    const walks = x.shape.map((d, i) => walk(d, specs[i] ?? null));
    const kept = walks.flatMap((w) => (typeof w === "number" ? [] : [w]));
    return build(
      kept.map((w) => w.length),
      (index) => {
        let k = 0;
        return at(
          x,
          walks.map((w) => (typeof w === "number" ? w : (w[index[k++] ?? 0] ?? 0))),
        );
      },
    );
  },
});

law<{ x: Naive; target: number[] }>({
  name: "broadcastTo",
  args: broadcastToArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ target }, xs) => broadcastTo(f64(xs), target),
  rule: ({ target }) => target,
  naive: ({ x, target }) => build(target, (index) => atBroadcast(x, index)),
});

law<{ x: Naive; widths: [number, number][]; value: number }>({
  name: "pad",
  args: padArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ widths, value }, xs) => pad(f64(xs), widths, value),
  rule: ({ x, widths }) => x.shape.map((d, i) => d + (widths[i]?.[0] ?? 0) + (widths[i]?.[1] ?? 0)),
  naive: ({ x, widths, value }) =>
    build(
      x.shape.map((d, i) => d + (widths[i]?.[0] ?? 0) + (widths[i]?.[1] ?? 0)),
      (index) => {
        const source = index.map((k, i) => k - (widths[i]?.[0] ?? 0));
        return source.every((k, i) => k >= 0 && k < (x.shape[i] ?? 0)) ? at(x, source) : value;
      },
    ),
});

law<{ x: Naive; reps: number[] }>({
  name: "tile",
  args: tileArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ reps }, xs) => tile(f64(xs), reps),
  rule: ({ x, reps }) => x.shape.map((d, i) => d * (reps[i] ?? 1)),
  naive: ({ x, reps }) =>
    build(
      x.shape.map((d, i) => d * (reps[i] ?? 1)),
      (index) => at(x, index.map((k, i) => k % (x.shape[i] ?? 1))),
    ),
});

law<{ x: Naive; repeats: number; axis: number }>({
  name: "repeat",
  args: repeatArgs,
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ repeats, axis }, xs) => repeat(f64(xs), repeats, axis),
  rule: ({ x, repeats, axis }) => x.shape.map((d, i) => (i === normalized([axis], x.shape.length)[0] ? d * repeats : d)),
  naive: ({ x, repeats, axis }) => {
    const a = normalized([axis], x.shape.length)[0] ?? 0;
    return build(
      x.shape.map((d, i) => (i === a ? d * repeats : d)),
      (index) => at(x, index.map((k, i) => (i === a ? Math.floor(k / repeats) : k))),
    );
  },
});

// oneHot and the cross-entropy of softmax: int32 indices, out-of-range ones included.

law<{ ids: Naive; depth: number }>({
  name: "oneHot",
  args: dim.chain((depth) => fc.record({ depth: fc.constant(depth), ids: arrayOf(0, 2, fc.integer({ min: -1, max: depth })) })),
  inputs: ({ ids }) => [tensorOf(ids, "int32")],
  op: ({ depth }, xs) => oneHot(i32(xs), depth, "float64"),
  rule: ({ ids, depth }) => [...ids.shape, depth],
  naive: ({ ids, depth }) => build([...ids.shape, depth], (index) => (at(ids, index.slice(0, -1)) === index[index.length - 1] ? 1 : 0)),
});

/** `-log softmax(logits)[label]` per row, from the definition; NaN for a label out of range. */
function naiveCrossEntropy(logits: Naive, label: (row: number[]) => number[]): Naive {
  return naiveReduce(logits, [logits.shape.length - 1], false, (row) => {
    const logZ = Math.log(sumOf(row.map(Math.exp)));
    const p = label(row);
    return -sumOf(row.map((v, c) => ((p[c] ?? 0) === 0 ? 0 : (p[c] ?? 0) * (v - logZ))));
  });
}

law<{ logits: Naive; labels: Naive }>({
  name: "softmaxCrossEntropy with int32 labels",
  args: shapeOf(1, 3).chain((shape) => {
    const classes = shape[shape.length - 1] ?? 0;
    return fc.record({ logits: dataFor(shape), labels: dataFor(shape.slice(0, -1), fc.integer({ min: -1, max: classes })) });
  }),
  inputs: ({ logits, labels }) => [tensorOf(logits), tensorOf(labels, "int32")],
  op: (_, xs) => softmaxCrossEntropy(f64(xs, 0) as Tensor<[...number[], number], "float64">, i32(xs, 1)), // rank >= 1 by construction
  rule: ({ labels }) => labels.shape,
  naive: ({ logits, labels }) => {
    const classes = logits.shape[logits.shape.length - 1] ?? 0;
    let row = 0;
    const out = naiveCrossEntropy(logits, (values) => {
      const label = labels.data[row++] ?? -1;
      return values.map((_, c) => (c === label ? 1 : 0));
    });
    return { shape: out.shape, data: out.data.map((v, i) => ((labels.data[i] ?? -1) >= 0 && (labels.data[i] ?? -1) < classes ? v : NaN)) };
  },
});

law<{ logits: Naive; probs: Naive }>({
  name: "softmaxCrossEntropy with probabilities",
  args: shapeOf(1, 3).chain((shape) =>
    fc.record({ logits: dataFor(shape), probs: dataFor(shape, fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true }))) }),
  ),
  inputs: ({ logits, probs }) => [tensorOf(logits), tensorOf(probs)],
  op: (_, xs) => softmaxCrossEntropy(f64(xs, 0) as Tensor<[...number[], number], "float64">, f64(xs, 1) as Tensor<[...number[], number], "float64">), // rank >= 1 by construction
  rule: ({ probs }) => probs.shape.slice(0, -1),
  naive: ({ logits, probs }) => {
    let row = 0;
    const classes = logits.shape[logits.shape.length - 1] ?? 0;
    return naiveCrossEntropy(logits, () => probs.data.slice(classes * row, classes * ++row));
  },
});

// Pooling: adaptive pools and average pooling with padding that counts, by loops over their windows.

/** An NHWC image of 1 to 7 rows and columns, and output sizes of 1 to 5 (dividing the input or not, bigger or smaller). */
const adaptiveImage = fc
  .record({ n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }), c: fc.integer({ min: 1, max: 2 }), oh: fc.integer({ min: 1, max: 5 }), ow: fc.integer({ min: 1, max: 5 }) })
  .chain(({ n, h, w, c, oh, ow }) => dataFor([n, h, w, c]).map((x) => ({ x, oh, ow })));

/** The NHWC image `x` reduced over windows: output `(i, j)` of `[oh, ow]` reads rows `rows(i)` and columns `cols(j)`, clipped to the image, divided by `count`. */
function naiveWindows(
  x: Naive,
  [oh, ow]: readonly [number, number],
  rows: (i: number) => readonly [number, number],
  cols: (j: number) => readonly [number, number],
  reduce: (values: number[], i: number, j: number) => number,
): Naive {
  const [n = 0, h = 0, w = 0, c = 0] = x.shape;
  const data: number[] = [];
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let ch = 0; ch < c; ch++) {
          const values: number[] = [];
          const [r0, r1] = rows(i);
          const [c0, c1] = cols(j);
          for (let r = Math.max(r0, 0); r < Math.min(r1, h); r++) for (let q = Math.max(c0, 0); q < Math.min(c1, w); q++) values.push(x.data[((b * h + r) * w + q) * c + ch] ?? NaN);
          data.push(reduce(values, i, j));
        }
  return { shape: [n, oh, ow, c], data };
}

// PyTorch's bin i of `out` over `size`: floor(i size / out) up to ceil((i + 1) size / out)
const bin = (size: number, out: number) => (i: number): readonly [number, number] => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)];
const maxOf = (values: number[]): number => Math.max(...values);

for (const [name, pool, reduce] of [
  ["adaptiveAvgPool2d", adaptiveAvgPool2d, meanOf],
  ["adaptiveMaxPool2d", adaptiveMaxPool2d, maxOf],
] as const) {
  law<{ x: Naive; oh: number; ow: number }>({
    name,
    args: adaptiveImage,
    inputs: ({ x }) => [tensorOf(x)],
    op: ({ oh, ow }, xs) => pool(f64(xs) as Tensor<[number, number, number, number], "float64">, [oh, ow]), // rank 4 by construction
    rule: ({ x, oh, ow }) => [x.shape[0] ?? 0, oh, ow, x.shape[3] ?? 0],
    naive: ({ x, oh, ow }) => naiveWindows(x, [oh, ow], bin(x.shape[1] ?? 0, oh), bin(x.shape[2] ?? 0, ow), reduce),
  });
}

for (const [name, pool, reduce] of [
  ["adaptiveAvgPool1d", adaptiveAvgPool1d, meanOf],
  ["adaptiveMaxPool1d", adaptiveMaxPool1d, maxOf],
] as const) {
  law<{ x: Naive; oh: number; ow: number }>({
    name,
    args: adaptiveImage.map(({ x, ow }) => ({ x: { shape: [x.shape[0] ?? 0, x.shape[2] ?? 0, x.shape[3] ?? 0], data: x.data.slice(0, (x.shape[0] ?? 0) * (x.shape[2] ?? 0) * (x.shape[3] ?? 0)) }, oh: 1, ow })),
    inputs: ({ x }) => [tensorOf(x)],
    op: ({ ow }, xs) => pool(f64(xs) as Tensor<[number, number, number], "float64">, ow), // rank 3 by construction
    rule: ({ x, ow }) => [x.shape[0] ?? 0, ow, x.shape[2] ?? 0],
    naive: ({ x, ow }) => {
      const [n = 0, l = 0, c = 0] = x.shape;
      const y = naiveWindows({ shape: [n, 1, l, c], data: x.data }, [1, ow], () => [0, 1], bin(l, ow), reduce);
      return { shape: [n, ow, c], data: y.data };
    },
  });
}

law<{ x: Naive; window: [number, number]; stride: [number, number]; pads: [number, number, number, number] }>({
  name: "avgPool2d with countIncludePad",
  args: fc
    .record({ window: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)) })
    .chain(({ window, stride, pads }) =>
      fc
        .record({ n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: Math.max(1, window[0] - pads[0] - pads[1]), max: 6 }), w: fc.integer({ min: Math.max(1, window[1] - pads[2] - pads[3]), max: 6 }), c: fc.integer({ min: 1, max: 2 }) })
        .chain(({ n, h, w, c }) => dataFor([n, h, w, c]).map((x) => ({ x, window, stride, pads }))),
    ),
  inputs: ({ x }) => [tensorOf(x)],
  op: ({ window, stride, pads }, xs) =>
    avgPool2d(f64(xs) as Tensor<[number, number, number, number], "float64">, window, { stride, padding: [[pads[0], pads[1]], [pads[2], pads[3]]], countIncludePad: true }), // rank 4 by construction
  rule: ({ x, window, stride, pads }) => {
    const out = (size: number, k: number, s: number, lo: number, hi: number): number => Math.floor((size + lo + hi - k) / s) + 1;
    return [x.shape[0] ?? 0, out(x.shape[1] ?? 0, window[0], stride[0], pads[0], pads[1]), out(x.shape[2] ?? 0, window[1], stride[1], pads[2], pads[3]), x.shape[3] ?? 0];
  },
  naive: ({ x, window, stride, pads }) => {
    const [, h = 0, w = 0] = x.shape;
    const [oh, ow] = [Math.floor((h + pads[0] + pads[1] - window[0]) / stride[0]) + 1, Math.floor((w + pads[2] + pads[3] - window[1]) / stride[1]) + 1];
    // every window divides by its full size: the padding's zeros count
    const overWindow = (values: number[]): number => sumOf(values) / (window[0] * window[1]);
    return naiveWindows(x, [oh, ow], (i) => [i * stride[0] - pads[0], i * stride[0] - pads[0] + window[0]], (j) => [j * stride[1] - pads[2], j * stride[1] - pads[2] + window[1]], overWindow);
  },
});

// ---------------------------------------------------------------------------
// The laws
// ---------------------------------------------------------------------------

describe.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
  test.prop([c.args], { numRuns })("its output shape is its shape rule's", (args) => {
    expect(c.op(args, c.inputs(args)).shape).toEqual(c.rule(args));
  });

  test.prop([c.args], { numRuns })("it equals a naive loop in float64", (args) => {
    expectClose(c.op(args, c.inputs(args)), c.naive(args));
  });

  test.prop([c.args], { numRuns })("jit(f)(x) equals the eager f(x)", (args) => {
    const inputs = c.inputs(args);
    const eager = c.op(args, inputs);
    const f = jit((...xs: AnyTensor[]) => c.op(args, xs));
    expectClose(f(...inputs), { shape: eager.shape, data: valuesOf(eager) });
  });
});
