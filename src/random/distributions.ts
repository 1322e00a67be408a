/**
 * Samplers: tensors of random values drawn from a key, as `jax.random` does.
 *
 * Each sampler takes a `Key` and a shape (typed like the constructors:
 * `uniform(k, [2, 3])` is a `Tensor<[2, 3]>`) and is a pure function of
 * them. The recipes are JAX's: `uniform` puts random bits into the mantissa
 * of a float in [1, 2) and subtracts 1; `normal` is `√2 · erfinv(u)` for
 * `u` uniform in (-1, 1), which spends one draw per value and, being
 * monotone in `u`, also gives `truncatedNormal` by narrowing `u`'s range
 * (Box-Muller needs pairs and cannot be truncated that way); `categorical`
 * is the Gumbel-max trick; `permutation` sorts by random bits. `randint` is
 * exactly unbiased (rejection, with redraws from `foldIn(key, round)`), where
 * JAX's is only nearly so. Samplers run eagerly, on concrete tensors.
 * Deliberately left out: the other `jax.random` distributions (gamma, beta,
 * dirichlet, ...), and bit-for-bit equality with JAX's floats (the bits and
 * keys agree; float rounding may differ in the last place).
 */

import { allocate, isDType, isFloatDType, type DType, type Storage } from "../core/dtype.js";
import { checkShape, normalizeAxis, type RuntimeShape, type Shape } from "../core/shape.js";
import type { Checked } from "../core/rules/dims.js";
import type { ReduceShape } from "../core/rules/reduce.js";
import { Tensor } from "../core/tensor.js";
import type { FloatDType, ShapeOf } from "../ops/types.js";
import { erf } from "../backend/erf.js";
import { erfinv } from "./erf.js";
import { checkCount, checkKey, foldIn, randomBits, split, type Key } from "./key.js";

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** The dtype of a float sampler: float32 (the default) or float64. */
export interface FloatOptions<D extends FloatDType> {
  readonly dtype?: D;
}

/** The options of `uniform`: the dtype and the range `[minval, maxval)`, by default `[0, 1)`. */
export interface UniformOptions<D extends FloatDType> extends FloatOptions<D> {
  readonly minval?: number;
  readonly maxval?: number;
}

// ---------------------------------------------------------------------------
// Continuous
// ---------------------------------------------------------------------------

/**
 * Floats uniform in `[minval, maxval)` (default `[0, 1)`), of shape `S`.
 * Throws for bounds that are not finite or with `minval >= maxval` (in the
 * dtype's precision).
 *
 * @example
 * uniform(key(0), [2, 3], { minval: -1, maxval: 1 }); // Tensor<[2, 3]>
 */
export function uniform<const S extends RuntimeShape, D extends FloatDType = "float32">(
  k: Key,
  shape: S,
  options?: UniformOptions<D>,
): Tensor<[...S], D> {
  const op = "uniform";
  checkKey(op, k);
  const dtype = floatDType(op, options?.dtype);
  const sizes = checkShape(op, shape);
  const { minval = 0, maxval = 1 } = options ?? {};
  checkFinite(op, { minval, maxval });
  const data = uniformIn(op, k, size(op, sizes), dtype, minval, maxval);
  return make(sizes, dtype, data);
}

/**
 * Floats from the standard normal distribution (mean 0, variance 1), of
 * shape `S`: `√2 · erfinv(u)` for `u` uniform in (-1, 1).
 *
 * @example
 * normal(key(0), [1000], { dtype: "float64" }); // Tensor<[1000], "float64">
 */
export function normal<const S extends RuntimeShape, D extends FloatDType = "float32">(
  k: Key,
  shape: S,
  options?: FloatOptions<D>,
): Tensor<[...S], D> {
  const op = "normal";
  checkKey(op, k);
  const dtype = floatDType(op, options?.dtype);
  const sizes = checkShape(op, shape);
  const cast = castTo(dtype);
  // the open interval (-1, 1): from the float after -1 up to (not including) 1
  const u = uniformIn(op, k, size(op, sizes), dtype, -1 + EPSILON[dtype] / 2, 1);
  const view: Float32Array | Float64Array = u;
  for (let i = 0; i < view.length; i++) view[i] = cast(Math.SQRT2 * erfinv(view[i] ?? 0));
  return make(sizes, dtype, u);
}

/**
 * Floats from the standard normal distribution truncated to the open
 * interval `(lower, upper)` (default `(-2, 2)`), of shape `S`: `√2 ·
 * erfinv(u)` for `u` uniform between `erf(lower/√2)` and `erf(upper/√2)`.
 * Throws for bounds that are not finite or with `lower >= upper`.
 *
 * @example
 * truncatedNormal(key(0), [3], -1, 1).toArray(); // three values in (-1, 1)
 */
export function truncatedNormal<const S extends RuntimeShape, D extends FloatDType = "float32">(
  k: Key,
  shape: S,
  lower = -2,
  upper = 2,
  options?: FloatOptions<D>,
): Tensor<[...S], D> {
  const op = "truncatedNormal";
  checkKey(op, k);
  const dtype = floatDType(op, options?.dtype);
  const sizes = checkShape(op, shape);
  checkFinite(op, { lower, upper });
  const cast = castTo(dtype);
  const [lo, hi] = [cast(lower), cast(upper)];
  if (!(lo < hi)) throw new RangeError(`${op}: lower must be less than upper, got ${lower} and ${upper}`);
  const u = uniformIn(op, k, size(op, sizes), "float64", erf(lower / Math.SQRT2), erf(upper / Math.SQRT2));
  const [least, most] = [-nextBelow(-lo, dtype), nextBelow(hi, dtype)];
  const out = allocate(dtype, u.length);
  const view: Float32Array | Float64Array = out;
  // NOTE: rounding can land on a bound; clipping to the floats strictly inside keeps the interval open.
  for (let i = 0; i < u.length; i++) view[i] = Math.min(most, Math.max(least, cast(Math.SQRT2 * erfinv(u[i] ?? 0))));
  return make(sizes, dtype, out);
}

// ---------------------------------------------------------------------------
// Discrete
// ---------------------------------------------------------------------------

/**
 * Booleans that are true with probability `p`, of shape `S`. Throws unless
 * `p` is in [0, 1].
 *
 * @example
 * bernoulli(key(0), 0.3, [4]); // Tensor<[4], "bool">
 */
export function bernoulli<const S extends RuntimeShape>(k: Key, p: number, shape: S): Tensor<[...S], "bool"> {
  const op = "bernoulli";
  checkKey(op, k);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`${op}: p must be in [0, 1], got ${String(p)}`);
  const sizes = checkShape(op, shape);
  const u = uniformIn(op, k, size(op, sizes), "float32", 0, 1);
  const data = new Uint8Array(u.length);
  for (let i = 0; i < u.length; i++) data[i] = (u[i] ?? 1) < p ? 1 : 0;
  return make(sizes, "bool", data);
}

/**
 * Indices drawn from the categorical distributions whose unnormalised log
 * probabilities lie along `axis` of `logits` (default the last): the result
 * has the shape of `logits` without that axis. Gumbel-max: the argmax of
 * `logits - log(-log u)` for `u` uniform in (0, 1).
 *
 * @example
 * categorical(key(0), logits); // logits: Tensor<["batch", 10]> gives Tensor<["batch"], "int32">
 */
export function categorical<S extends Shape, D extends FloatDType, const Axis extends number = -1>(
  k: Key,
  logits: Tensor<S, D>,
  axis?: Checked<ReduceShape<S, Axis>, Axis>,
): Tensor<ShapeOf<ReduceShape<S, Axis>>, "int32"> {
  const op = "categorical";
  checkKey(op, k);
  floatDType(op, logits.dtype);
  const shape: readonly number[] = logits.shape;
  // Checked<R, Axis> is Axis (a number) whenever the call type-checks.
  const a = normalizeAxis(op, typeof axis === "number" ? axis : -1, shape.length);
  const n = shape[a] ?? 0;
  if (n === 0) throw new RangeError(`${op}: axis ${a} of the logits has no categories`);
  const inner = shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const outer = shape.slice(0, a).reduce((x, y) => x * y, 1);
  const x = logits.data;
  const tiny = logits.dtype === "float32" ? 2 ** -126 : 2 ** -1022;
  const u = uniformIn(op, k, x.length, logits.dtype, tiny, 1);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let j = 0; j < n; j++) {
        const at = (o * n + j) * inner + i;
        // Gumbel-max: score = logit - log(-log u)
        const score = (x[at] ?? 0) - Math.log(-Math.log(u[at] ?? 0.5));
        if (score > bestScore) [best, bestScore] = [j, score];
      }
      out[o * inner + i] = best;
    }
  }
  return make(
    shape.filter((_, i) => i !== a),
    "int32",
    out,
  );
}

/**
 * A random permutation of `0 .. n - 1` (int32): the stable sort of the
 * indices by random uint32 keys, repeated while collisions are likely, as
 * JAX's `permutation` does. Throws unless `n` is a non-negative integer.
 *
 * @example
 * permutation(key(0), 5).toArray(); // 0 to 4 in some order
 */
export function permutation<N extends number>(k: Key, n: N): Tensor<[N], "int32"> {
  const op = "permutation";
  checkKey(op, k);
  checkCount(op, n, 0, 2 ** 31 - 1);
  let order = Array.from({ length: n }, (_, i) => i);
  // enough rounds that a tie among the sort keys has probability about n^-3
  const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(2 ** 32 - 1));
  let current = k;
  for (let round = 0; round < rounds; round++) {
    const [next, sub] = split(current);
    current = next ?? current;
    const bits = randomBits(sub ?? current, n);
    const position = order.map((value, i) => ({ value, bits: bits[i] ?? 0 }));
    position.sort((p, q) => p.bits - q.bits); // Array.prototype.sort is stable
    order = position.map((p) => p.value);
  }
  return make([n], "int32", Int32Array.from(order));
}

/**
 * Integers uniform in `[minval, maxval)` (int32), of shape `S`, exactly
 * unbiased: a draw of 32 bits that would favour some values is rejected and
 * redrawn from `foldIn(key, round)`. Throws unless both bounds are integers
 * with `-2^31 <= minval < maxval <= 2^31`.
 *
 * @example
 * randint(key(0), [3], 1, 7).toArray(); // three dice rolls
 */
export function randint<const S extends RuntimeShape>(
  k: Key,
  shape: S,
  minval: number,
  maxval: number,
): Tensor<[...S], "int32"> {
  const op = "randint";
  checkKey(op, k);
  const sizes = checkShape(op, shape);
  checkFinite(op, { minval, maxval });
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || minval < -(2 ** 31) || maxval > 2 ** 31) {
    throw new RangeError(`${op}: the bounds must be integers from -2^31 to 2^31, got ${minval} and ${maxval}`);
  }
  if (!(minval < maxval)) throw new RangeError(`${op}: minval must be less than maxval, got ${minval} and ${maxval}`);
  const span = maxval - minval;
  // accept bits < limit, the largest multiple of span within 2^32, so bits mod span is uniform
  const limit = 2 ** 32 - (2 ** 32 % span);
  const out = new Int32Array(size(op, sizes));
  let pending = Array.from(out, (_, i) => i);
  for (let round = 0; pending.length > 0; round++) {
    const bits = randomBits(round === 0 ? k : foldIn(k, round), out.length);
    pending = pending.filter((i) => {
      const b = bits[i] ?? 0;
      if (b >= limit) return true;
      out[i] = minval + (b % span);
      return false;
    });
  }
  return make(sizes, "int32", out);
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/** The gap between 1 and the next float of each dtype. */
const EPSILON: Record<FloatDType, number> = { float32: 2 ** -23, float64: 2 ** -52 };

/** A tensor over `data`; `sizes` are the run-time sizes of the caller's `S`. */
function make<S extends Shape, D extends DType>(sizes: readonly number[], dtype: D, data: Tensor<S, D>["data"]): Tensor<S, D> {
  // Each caller passes the checked sizes that its signature's S describes
  // (the shape argument itself, or the reduced shape of categorical).
  return new Tensor<S, D>(sizes as unknown as Tensor<S, D>["shape"], dtype, data);
}

/** The number of elements of checked sizes; throws past the 2^31 - 1 a tensor can hold. */
function size(op: string, sizes: readonly number[]): number {
  const n = sizes.reduce((a, b) => a * b, 1);
  if (n > 2 ** 31 - 1) throw new RangeError(`${op}: a shape of ${n} elements is more than a tensor can hold (2^31 - 1)`);
  return n;
}

/** The float dtype named (float32 when left out); throws for any other. */
function floatDType<D extends FloatDType>(op: string, dtype: D | undefined): D {
  const d: unknown = dtype ?? "float32";
  if (!isDType(d) || !isFloatDType(d)) throw new RangeError(`${op}: the dtype must be float32 or float64, got ${String(d)}`);
  // d is "float32" only when dtype was left out, where D is its default "float32".
  return d as D;
}

/** Rounds a double to the nearest value of the dtype. */
function castTo(dtype: FloatDType): (x: number) => number {
  return dtype === "float32" ? Math.fround : (x) => x;
}

/** Throws a `RangeError` unless every named bound is a finite number. */
function checkFinite(op: string, bounds: Record<string, number>): void {
  for (const [name, v] of Object.entries(bounds)) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  }
}

/**
 * `count` floats of the dtype uniform in `[minval, maxval)`. The unit draw
 * is JAX's mantissa trick: the top 23 bits of one word (float32) or the top
 * 52 of two (float64) as the mantissa of a float in [1, 2), minus 1; then
 * `u · (maxval - minval) + minval`, rounded to the dtype and kept in range.
 */
function uniformIn<D extends FloatDType>(
  op: string,
  k: Key,
  count: number,
  dtype: D,
  minval: number,
  maxval: number,
): Storage<D> {
  const cast = castTo(dtype);
  const [lo, hi] = [cast(minval), cast(maxval)];
  if (!(lo < hi)) throw new RangeError(`${op}: minval must be less than maxval, got ${minval} and ${maxval}`);
  const width = cast(hi - lo);
  const top = nextBelow(hi, dtype);
  const storage = allocate(dtype, count);
  const out: Float32Array | Float64Array = storage;
  const bits = randomBits(k, dtype === "float32" ? count : 2 * count);
  for (let i = 0; i < count; i++) {
    const word = bits[i] ?? 0;
    // float32: u = (bits >> 9) · 2^-23; float64: u = (hi · 2^20 + (lo >> 12)) · 2^-52
    const u =
      dtype === "float32" ? (word >>> 9) * 2 ** -23 : (word * 2 ** 20 + ((bits[i + count] ?? 0) >>> 12)) * 2 ** -52;
    out[i] = Math.min(top, Math.max(lo, cast(cast(u * width) + lo)));
  }
  return storage;
}

/** The largest value of the dtype below `x` (finite `x`). */
function nextBelow(x: number, dtype: FloatDType): number {
  const view = new DataView(new ArrayBuffer(8));
  if (x === 0) return dtype === "float32" ? -(2 ** -149) : -Number.MIN_VALUE;
  if (dtype === "float32") {
    view.setFloat32(0, x);
    // the bit pattern of a float orders its magnitude: one step down for x > 0, up for x < 0
    view.setUint32(0, view.getUint32(0) + (x > 0 ? -1 : 1));
    return view.getFloat32(0);
  }
  view.setFloat64(0, x);
  const [high, low] = [view.getUint32(0), view.getUint32(4)];
  const step = x > 0 ? -1 : 1;
  const carry = (step < 0 && low === 0) || (step > 0 && low === 0xffffffff) ? step : 0;
  view.setUint32(0, high + carry);
  view.setUint32(4, (low + step) >>> 0);
  return view.getFloat64(0);
}
