/**
 * Reductions over any set of axes of a row-major array: the kernels behind
 * `reduce-sum`, `reduce-max` and their kin (min, prod, argmax, argmin).
 *
 * The output is row-major with the reduced axes removed (a caller that wants
 * `keepDims` reshapes; the data is the same). The array is first seen as
 * runs of dims: size-1 dims are dropped and neighbouring dims that are both
 * reduced or both kept are merged, so `[8, 1, 10, 4]` over axes `[2, 3]` is
 * `[8, 40]` over its last run. Then:
 *
 * - one reduced run with nothing kept after it (the innermost axes, or all):
 *   each output is one contiguous run, reduced in a scalar local;
 * - one reduced run with kept dims after it (the outermost axis, or a middle
 *   one): each output row is a vector of accumulators that the reduced rows
 *   are added into in memory order, so the array is read once, front to back;
 * - several reduced runs: the offsets of one reduction's elements are
 *   tabulated once and gathered for every output.
 *
 * Semantics follow NumPy: max and min propagate NaN; argmax and argmin
 * return the first index on ties (the first NaN when there is one), counted
 * row-major over the reduced axes; an empty sum is 0, an empty product 1, an
 * empty max `-Infinity` (the smallest int32 for an `Int32Array` output) and
 * an empty min `+Infinity` (the largest int32); argmax of nothing is an error.
 * Sums and products accumulate in float64 whatever the storage, and are
 * rounded (float32) or wrapped (int32, like `Int32Array` stores) once.
 *
 * Leaves out: mean and variance (composites: a sum times a constant), logical
 * reductions (a max over bool), and pairwise summation (float64 accumulation
 * makes it unnecessary for float32 data).
 */

import { shapeError } from "../../core/errors.js";
import { formatShape, type RuntimeShape } from "../../core/shape.js";
import { reducedAxes, type ReduceAxes } from "../../core/rules/reduce.js";
import { scratch } from "./scratch.js";

/** The storages the reductions read and write. */
export type NumericArray = Float32Array | Float64Array | Int32Array;

/** A reduction to a value. */
export type ReduceOp = "sum" | "prod" | "max" | "min";

/** A reduction to an index. */
export type ArgReduceOp = "argmax" | "argmin";

/** One run of dims: its merged size, and whether it is reduced. */
interface Run {
  readonly size: number;
  readonly reduced: boolean;
}

/** How a reduction walks the array. */
interface Plan {
  /** Elements of the output. */
  readonly kept: number;
  /** Elements summed into each output. */
  readonly count: number;
  /** The runs, size-1 dims dropped and neighbours of one kind merged. */
  readonly runs: readonly Run[];
}

function planOf(op: string, x: ArrayLike<number>, out: ArrayLike<number>, shape: RuntimeShape, axes: ReduceAxes): Plan {
  for (const d of shape) if (!Number.isInteger(d) || d < 0) shapeError(op, `bad shape ${formatShape(shape)}`);
  const reduced = new Set(reducedAxes(shape, axes));
  const size = shape.reduce((a, b) => a * b, 1);
  let kept = 1;
  const runs: Run[] = [];
  shape.forEach((d, axis) => {
    const isReduced = reduced.has(axis);
    if (!isReduced) kept *= d;
    if (d === 1) return;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.reduced === isReduced) runs[runs.length - 1] = { size: last.size * d, reduced: isReduced };
    else runs.push({ size: d, reduced: isReduced });
  });
  if (x.length < size) shapeError(op, `input holds ${x.length} elements, shape ${formatShape(shape)} needs ${size}`);
  if (out.length < kept) shapeError(op, `output holds ${out.length} elements, needs ${kept}`);
  const count = runs.reduce((a, run) => (run.reduced ? a * run.size : a), 1);
  return { kept, count, runs };
}

/** The value of a reduction over no elements, as `out` can store it. */
function identity(op: ReduceOp, out: NumericArray): number {
  const isInt = out instanceof Int32Array;
  switch (op) {
    case "sum":
      return 0;
    case "prod":
      return 1;
    case "max":
      return isInt ? -(2 ** 31) : -Infinity;
    case "min":
      return isInt ? 2 ** 31 - 1 : Infinity;
  }
}

/**
 * Reduces `x` (row-major, of `shape`) over `axes` (one axis, a list, negative
 * from the end, or all when omitted) into `out`, row-major over the kept axes.
 * Returns `out`.
 *
 * @example
 * const out = new Float64Array(2);
 * reduce("sum", out, Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3], 1);
 * // out is [6, 15]
 */
export function reduce<O extends NumericArray>(op: ReduceOp, out: O, x: NumericArray, shape: RuntimeShape, axes?: ReduceAxes): O {
  const { kept, count, runs } = planOf(op, x, out, shape, axes);
  if (kept === 0) return out;
  if (count === 0) {
    out.fill(identity(op, out), 0, kept);
    return out;
  }
  const single = singleRunLayout(runs, kept);
  if (single !== undefined) {
    const { inner, outer } = single;
    if (inner === 1) {
      for (let o = 0; o < outer; o++) out[o] = reduceRun(op, x, o * count, count);
    } else {
      for (let o = 0; o < outer; o++) reduceRows(op, out, o * inner, x, o * count * inner, count, inner);
    }
    return out;
  }
  const offsets = reducedOffsets(runs, count);
  forEachKept(runs, (k, base) => {
    out[k] = reduceGather(op, x, base, offsets);
  });
  return out;
}

/**
 * The index of the largest (`argmax`) or smallest (`argmin`) element of `x`
 * (row-major, of `shape`) over `axes`, counted row-major over the reduced
 * axes, into `out`, row-major over the kept axes. The first index wins on
 * ties, and the first NaN wins over any number. Throws a `ShapeError` when
 * the reduced axes hold no element. Returns `out`.
 *
 * @example
 * const out = new Int32Array(2);
 * argReduce("argmax", out, Float64Array.of(1, 9, 9, 4, 0, 4), [2, 3], -1);
 * // out is [1, 0]
 */
export function argReduce(op: ArgReduceOp, out: Int32Array, x: NumericArray, shape: RuntimeShape, axes?: ReduceAxes): Int32Array {
  const { kept, count, runs } = planOf(op, x, out, shape, axes);
  if (kept === 0) return out;
  if (count === 0) shapeError(op, `cannot reduce an empty set of elements of ${formatShape(shape)}`);
  const sign = op === "argmax" ? 1 : -1;
  const single = singleRunLayout(runs, kept);
  if (single !== undefined) {
    const { inner, outer } = single;
    if (inner === 1) {
      for (let o = 0; o < outer; o++) out[o] = argRun(sign, x, o * count, count);
    } else {
      for (let o = 0; o < outer; o++) argRows(sign, out, o * inner, x, o * count * inner, count, inner);
    }
    return out;
  }
  const offsets = reducedOffsets(runs, count);
  forEachKept(runs, (k, base) => {
    out[k] = argGather(sign, x, base, offsets);
  });
  return out;
}

/**
 * When at most one run is reduced, the loop layout both reductions share:
 * `outer` blocks of `inner` kept elements each (`inner` is what follows the
 * reduced run, 1 when it is last); undefined when several runs are reduced.
 */
function singleRunLayout(runs: readonly Run[], kept: number): { inner: number; outer: number } | undefined {
  if (runs.filter((run) => run.reduced).length > 1) return undefined;
  const at = runs.findIndex((run) => run.reduced);
  const inner = at < 0 ? 1 : runs.slice(at + 1).reduce((a, run) => a * run.size, 1);
  return { inner, outer: kept / inner };
}

/** Reduces the contiguous run `x[at .. at + count]` (count >= 1). */
function reduceRun(op: ReduceOp, x: NumericArray, at: number, count: number): number {
  const end = at + count;
  switch (op) {
    case "sum": {
      let s = -0; // the identity of addition: a sum of one -0 stays -0, as in NumPy
      for (let i = at; i < end; i++) s += x[i] ?? 0;
      return s;
    }
    case "prod": {
      let p = 1;
      for (let i = at; i < end; i++) p *= x[i] ?? 0;
      return p;
    }
    case "max": {
      let m = -Infinity;
      for (let i = at; i < end; i++) {
        const v = x[i] ?? 0;
        if (v > m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
    case "min": {
      let m = Infinity;
      for (let i = at; i < end; i++) {
        const v = x[i] ?? 0;
        if (v < m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
  }
}

/**
 * Reduces `count` rows of `width` contiguous elements from `x[at]`, column by
 * column, into `out[outAt .. outAt + width]`: row by row, in memory order.
 */
function reduceRows(op: ReduceOp, out: NumericArray, outAt: number, x: NumericArray, at: number, count: number, width: number): void {
  const acc = scratch.float64("rowAccumulators", width); // one float64 accumulator per column
  acc.fill(op === "sum" ? -0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity, 0, width);
  for (let r = 0, row = at; r < count; r++, row += width) {
    switch (op) {
      case "sum":
        for (let j = 0; j < width; j++) acc[j] = (acc[j] ?? 0) + (x[row + j] ?? 0);
        break;
      case "prod":
        for (let j = 0; j < width; j++) acc[j] = (acc[j] ?? 0) * (x[row + j] ?? 0);
        break;
      case "max":
        for (let j = 0; j < width; j++) {
          const v = x[row + j] ?? 0;
          const m = acc[j] ?? 0;
          // NOTE: `v > m` is false for NaN either way; the second test lets the first NaN in and keeps it.
          if (v > m || (v !== v && m === m)) acc[j] = v;
        }
        break;
      case "min":
        for (let j = 0; j < width; j++) {
          const v = x[row + j] ?? 0;
          const m = acc[j] ?? 0;
          if (v < m || (v !== v && m === m)) acc[j] = v;
        }
        break;
    }
  }
  for (let j = 0; j < width; j++) out[outAt + j] = acc[j] ?? 0;
}

/** Reduces `x[base + offsets[r]]` over every r (offsets non-empty). */
function reduceGather(op: ReduceOp, x: NumericArray, base: number, offsets: Int32Array): number {
  const count = offsets.length;
  switch (op) {
    case "sum": {
      let s = -0;
      for (let r = 0; r < count; r++) s += x[base + (offsets[r] ?? 0)] ?? 0;
      return s;
    }
    case "prod": {
      let p = 1;
      for (let r = 0; r < count; r++) p *= x[base + (offsets[r] ?? 0)] ?? 0;
      return p;
    }
    case "max": {
      let m = -Infinity;
      for (let r = 0; r < count; r++) {
        const v = x[base + (offsets[r] ?? 0)] ?? 0;
        if (v > m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
    case "min": {
      let m = Infinity;
      for (let r = 0; r < count; r++) {
        const v = x[base + (offsets[r] ?? 0)] ?? 0;
        if (v < m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
  }
}

/**
 * True when `v` replaces `best` as the running argmax (`sign` 1) or argmin
 * (`sign` -1): strictly better (so ties keep the first), or the first NaN.
 */
function beats(sign: number, v: number, best: number): boolean {
  return sign * v > sign * best || (v !== v && best === best);
}

/** The argmax/argmin of the contiguous run `x[at .. at + count]` (count >= 1). */
function argRun(sign: number, x: NumericArray, at: number, count: number): number {
  let best = x[at] ?? 0;
  let index = 0;
  for (let i = 1; i < count; i++) {
    const v = x[at + i] ?? 0;
    if (beats(sign, v, best)) {
      best = v;
      index = i;
    }
  }
  return index;
}

/** The argmax/argmin down each column of `count` rows of `width` from `x[at]`, into `out[outAt ..]`. */
function argRows(sign: number, out: Int32Array, outAt: number, x: NumericArray, at: number, count: number, width: number): void {
  const best = scratch.float64("rowBest", width); // the running best value of each column
  for (let j = 0; j < width; j++) best[j] = x[at + j] ?? 0;
  out.fill(0, outAt, outAt + width);
  for (let r = 1, row = at + width; r < count; r++, row += width) {
    for (let j = 0; j < width; j++) {
      const v = x[row + j] ?? 0;
      if (beats(sign, v, best[j] ?? 0)) {
        best[j] = v;
        out[outAt + j] = r;
      }
    }
  }
}

/** The argmax/argmin of `x[base + offsets[r]]` over r (offsets non-empty). */
function argGather(sign: number, x: NumericArray, base: number, offsets: Int32Array): number {
  let best = x[base + (offsets[0] ?? 0)] ?? 0;
  let index = 0;
  for (let r = 1; r < offsets.length; r++) {
    const v = x[base + (offsets[r] ?? 0)] ?? 0;
    if (beats(sign, v, best)) {
      best = v;
      index = r;
    }
  }
  return index;
}

/** The strides of the runs, in elements of the array. */
function runStrides(runs: readonly Run[]): number[] {
  const strides = new Array<number>(runs.length).fill(1);
  for (let i = runs.length - 2; i >= 0; i--) strides[i] = (strides[i + 1] ?? 1) * (runs[i + 1]?.size ?? 1);
  return strides;
}

/** The offset of each element of one reduction, row-major over the reduced runs. */
function reducedOffsets(runs: readonly Run[], count: number): Int32Array {
  const strides = runStrides(runs);
  const dims = runs.flatMap((run, i) => (run.reduced ? [{ size: run.size, stride: strides[i] ?? 1 }] : []));
  return odometer(dims, count);
}

/** Calls `visit(k, base)` for each output `k` in order, with the offset of its first element. */
function forEachKept(runs: readonly Run[], visit: (k: number, base: number) => void): void {
  const strides = runStrides(runs);
  const dims = runs.flatMap((run, i) => (run.reduced ? [] : [{ size: run.size, stride: strides[i] ?? 1 }]));
  const bases = odometer(dims, dims.reduce((a, d) => a * d.size, 1));
  for (let k = 0; k < bases.length; k++) visit(k, bases[k] ?? 0);
}

/** The offsets `sum_d index_d * stride_d` of all `count` index tuples over `dims`, row-major. */
function odometer(dims: readonly { readonly size: number; readonly stride: number }[], count: number): Int32Array {
  const offsets = new Int32Array(count);
  const index = new Array<number>(dims.length).fill(0);
  let offset = 0;
  for (let r = 0; r < count; r++) {
    offsets[r] = offset;
    for (let d = dims.length - 1; d >= 0; d--) {
      const dim = dims[d];
      if (dim === undefined) break;
      const i = (index[d] ?? 0) + 1;
      if (i < dim.size) {
        index[d] = i;
        offset += dim.stride;
        break;
      }
      index[d] = 0;
      offset -= (dim.size - 1) * dim.stride;
    }
  }
  return offsets;
}
