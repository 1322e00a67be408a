/**
 * The layer cases of the basic group (see `types.ts`): `dense`, the
 * activation layers, `flatten` and `reshape`. The references are loops over
 * row-major arrays, with each activation written from its formula.
 */

import fc from "fast-check";
import { erf } from "../../../src/backend/erf.js";
import { Tensor } from "../../../src/core/tensor.js";
import * as layers from "../../../src/layers/index.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import type { Key } from "../../../src/random/key.js";
import { uniform } from "../gradient-laws.js";
import type { LayerCase, LayerCases, NaiveOutput } from "./types.js";

// ---------------------------------------------------------------------------
// Shared by the case files: seeded values and float64 tensors
// ---------------------------------------------------------------------------

/** `count` values uniform in [-1, 1) from a 32-bit seed; fast-check's seed replays them. */
export function uniformValues(seed: number, count: number): number[] {
  const random = uniform(seed);
  return Array.from({ length: count }, random);
}

/** A float64 tensor of `shape` holding `values`. */
export function float64(shape: readonly number[], values: readonly number[]): AnyTensor {
  return new Tensor([...shape], "float64", Float64Array.from(values));
}

/** A float64 tensor of `shape` with seeded values in `[-scale, scale)`. */
export function seeded(shape: readonly number[], seed: number, scale = 1): AnyTensor {
  return float64(shape, uniformValues(seed, shape.reduce((n, d) => n * d, 1)).map((v) => v * scale));
}

/** The values of a tensor as plain numbers. */
export const numbers = (x: AnyTensor): number[] => Array.from(x.data, Number);

/** A parameter leaf of a case's tree, by name. */
export function leaf(params: unknown, name: string): number[] {
  const record = params as Readonly<Record<string, AnyTensor>>; // every case's parameters are a record of tensors
  const x = record[name];
  if (x === undefined) throw new Error(`no parameter ${name}`);
  return numbers(x);
}

/** A layer seen without its types, as the laws run it. */
export interface Untyped {
  init(k: Key): unknown;
  apply(p: unknown, x: AnyTensor, opts?: unknown): AnyTensor;
}

/** The layer `l` without its types: the laws feed it inputs that its shape function accepts. */
export const untyped = (l: unknown): Untyped => l as Untyped; // every layer has these two methods; the inputs are the cases' own

export const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const small = fc.integer({ min: 1, max: 4 });

// ---------------------------------------------------------------------------
// dense
// ---------------------------------------------------------------------------

function naiveDense(p: unknown, x: AnyTensor, inF: number, outF: number, bias: boolean): NaiveOutput {
  const [w, b, xs] = [leaf(p, "w"), bias ? leaf(p, "b") : [], numbers(x)];
  const rows = xs.length / inF;
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? (b[o] ?? NaN) : 0;
      for (let i = 0; i < inF; i++) s += (xs[r * inF + i] ?? NaN) * (w[i * outF + o] ?? NaN);
      data.push(s);
    }
  }
  return { shape: [...x.shape.slice(0, -1), outF], data };
}

const dense = fc.record({ prefix: fc.array(small, { maxLength: 2 }), inF: small, outF: small, bias: fc.boolean(), seed: seeds }).map(
  ({ prefix, inF, outF, bias, seed }): LayerCase => {
    const layer = untyped(layers.dense(inF, outF, { useBias: bias }));
    const params = bias ? { w: seeded([inF, outF], seed), b: seeded([outF], seed + 1) } : { w: seeded([inF, outF], seed) };
    return {
      detail: `dense(${inF}, ${outF}${bias ? "" : ", no bias"})`,
      params,
      x: seeded([...prefix, inF], seed + 2),
      apply: (p, x) => layer.apply(p, x),
      naive: (p, x) => naiveDense(p, x, inF, outF, bias),
      init: (k) => layer.init(k),
    };
  },
);

// ---------------------------------------------------------------------------
// Activations, flatten and reshape: no parameters
// ---------------------------------------------------------------------------

/** A parameter-free layer on seeded inputs of rank 1 to 3, its values mapped by `domain`. */
function parameterFree(name: string, make: () => unknown, naive: (x: AnyTensor) => NaiveOutput, domain: (v: number) => number = (v) => v, minRank = 1): fc.Arbitrary<LayerCase> {
  return fc.record({ shape: fc.array(small, { minLength: minRank, maxLength: 3 }), seed: seeds }).map(({ shape, seed }): LayerCase => {
    const layer = untyped(make());
    const x = float64(shape, uniformValues(seed, shape.reduce((n, d) => n * d, 1)).map((v) => domain(3 * v)));
    return { detail: `${name}()`, params: {}, x, apply: (p, x) => layer.apply(p, x), naive: (_p, x) => naive(x), init: (k) => layer.init(k) };
  });
}

/** GELU, exact form, from PyTorch's formula `x (1 + erf(x / √2)) / 2` (the layer computes `x erfc(-x / √2) / 2`). */
export const naiveGelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** GELU, tanh form, from its formula. */
export const naiveGeluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

const elementwise = (f: (v: number) => number) => (x: AnyTensor): NaiveOutput => ({ shape: [...x.shape], data: numbers(x).map(f) });

/** Away from relu's kink at 0, where it has no derivative. */
const awayFromZero = (v: number): number => (v < 0 ? v - 0.1 : v + 0.1);

const sigmoidOf = (v: number): number => 1 / (1 + Math.exp(-v));

function naiveSoftmax(x: AnyTensor): NaiveOutput {
  const xs = numbers(x);
  const n = x.shape[x.shape.length - 1] ?? 1;
  const data: number[] = [];
  for (let r = 0; r < xs.length / n; r++) {
    const row = xs.slice(r * n, r * n + n);
    const top = Math.max(...row);
    const e = row.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    data.push(...e.map((v) => v / total));
  }
  return { shape: [...x.shape], data };
}

const reshapeCase = fc.record({ batch: small, a: small, b: small, c: small, seed: seeds }).map(({ batch, a, b, c, seed }): LayerCase => {
  const layer = untyped(layers.reshape([c, a * b]));
  return {
    detail: `reshape([${c}, ${a * b}])`,
    params: {},
    x: seeded([batch, a, b, c], seed),
    apply: (p, x) => layer.apply(p, x),
    naive: (_p, x) => ({ shape: [batch, c, a * b], data: numbers(x) }),
    init: (k) => layer.init(k),
  };
});

export const cases: LayerCases = {
  dense,
  relu: parameterFree("relu", layers.relu, elementwise((v) => (v > 0 ? v : 0)), awayFromZero),
  gelu: fc.oneof(
    parameterFree("gelu", layers.gelu, elementwise(naiveGelu)),
    parameterFree("gelu", () => layers.gelu({ approximate: "tanh" }), elementwise(naiveGeluTanh)),
  ),
  silu: parameterFree("silu", layers.silu, elementwise((v) => v * sigmoidOf(v))),
  tanh: parameterFree("tanh", layers.tanh, elementwise(Math.tanh)),
  sigmoid: parameterFree("sigmoid", layers.sigmoid, elementwise(sigmoidOf)),
  softmax: parameterFree("softmax", layers.softmax, naiveSoftmax),
  flatten: parameterFree("flatten", layers.flatten, (x) => ({ shape: [x.shape[0] ?? 1, x.shape.slice(1).reduce((n, d) => n * d, 1)], data: numbers(x) }), (v) => v, 2),
  reshape: reshapeCase,
};
