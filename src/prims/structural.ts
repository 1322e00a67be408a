/**
 * The primitives that move elements without computing: reshape, broadcast,
 * transpose, slice, pad and concatenate.
 *
 * Broadcast, transpose and slice are all one strided read (`stridedCopy`): the
 * output is walked in row-major order while a source index advances by
 * per-axis strides (0 for a broadcast axis, permuted strides for a transpose,
 * scaled strides and an offset for a slice). `broadcast` is JAX's
 * `broadcast_in_dim`: input axis `i` lands on output axis `dims[i]`, and each
 * input dim is either the output dim or 1. `slice` keeps the rank (an index is
 * a size-1 slice followed by a reshape, done by the ops).
 */

import type { DType, Storage } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { reshapeRule } from "../core/rules/reshape.js";
import { formatShape, shapeSize, stridesOf } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { SliceParams } from "../backend/strided-view.js";
import { allAtFront, batchedOperand, inBatched, moveAxis } from "./batching.js";
import { bind } from "./bind.js";
import * as lax from "./lax.js";
import { outputStorage } from "./output.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";

/**
 * Copies from `src` into a row-major array of shape `shape` (`into` when
 * given, else a new one), reading the element at
 * `offset + sum(index[d] * strides[d])`.
 */
export function stridedCopy<D extends DType>(
  dtype: D,
  src: Storage<D>,
  offset: number,
  strides: readonly number[],
  shape: readonly number[],
  into?: Storage<DType>,
): Storage<D> {
  const n = shapeSize(shape);
  const out = outputStorage(dtype, n, into);
  const rank = shape.length;
  if (n === 0) return out;
  if (rank === 0) {
    out[0] = src[offset] ?? 0;
    return out;
  }
  const index = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastSize = shape[last] ?? 1;
  const lastStride = strides[last] ?? 0;
  let base = offset;
  for (let o = 0; o < n; o += lastSize) {
    for (let i = 0, s = base; i < lastSize; i++, s += lastStride) out[o + i] = src[s] ?? 0;
    // advance the outer index like an odometer
    for (let d = last - 1; d >= 0; d--) {
      const size = shape[d] ?? 1;
      const stride = strides[d] ?? 0;
      const next = (index[d] ?? 0) + 1;
      if (next < size) {
        index[d] = next;
        base += stride;
        break;
      }
      index[d] = 0;
      base -= stride * (size - 1);
    }
  }
  return out;
}

function one(name: string, inputs: readonly Aval[]): Aval {
  const x = inputs[0];
  if (inputs.length !== 1 || x === undefined) shapeError(name, `takes 1 operand, got ${inputs.length}`);
  return x;
}

function oneTensor(inputs: readonly AnyTensor[]): AnyTensor {
  const x = inputs[0];
  if (x === undefined) throw new Error("primitive called without its operand");
  return x;
}

/** Reshape to `shape` (sizes only; the ops resolve `-1`). */
export const reshape: Primitive<{ readonly shape: readonly number[] }> = {
  name: "reshape",
  shape: (inputs, { shape }) => {
    const x = one("reshape", inputs);
    return { shape: reshapeRule(x.shape, shape), dtype: x.dtype };
  },
  impl: (inputs, { shape }) => {
    const x = oneTensor(inputs);
    return new Tensor(reshapeRule(x.shape, shape), x.dtype, x.data);
  },
  jvp: (_, [dx], { shape }) => lax.linear(dx ?? null, (t) => lax.reshape(t, shape)),
  transpose: (ct, [x]) => [x?.linear === true ? lax.reshape(ct, x.aval.shape) : null],
  // the batch in front, then each example reshaped
  batch: (inputs, dims, { shape }, size) => {
    const [x, d] = batchedOperand(inputs, dims);
    return [bind("reshape", [moveAxis(x, d, 0)], { shape: [size, ...shape] }), 0];
  },
};

/** The broadcast's source strides: 0 where an input dim of 1 is stretched. */
function broadcastStrides(x: Aval, shape: readonly number[], dims: readonly number[]): number[] {
  const inStrides = stridesOf(x.shape);
  const strides = new Array<number>(shape.length).fill(0);
  dims.forEach((axis, i) => {
    if ((x.shape[i] ?? 1) !== 1) strides[axis] = inStrides[i] ?? 0;
  });
  return strides;
}

/** Broadcast into `shape`: input axis `i` lands on output axis `dims[i]`. */
export const broadcast: Primitive<{ readonly shape: readonly number[]; readonly dims: readonly number[] }> = {
  name: "broadcast",
  shape: (inputs, { shape, dims }) => {
    const x = one("broadcast", inputs);
    const bad = (): never =>
      shapeError("broadcast", `cannot broadcast ${formatShape(x.shape)} into ${formatShape(shape)} along axes ${formatShape(dims)}`);
    if (dims.length !== x.shape.length) bad();
    dims.forEach((axis, i) => {
      if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) bad();
      if (i > 0 && axis <= (dims[i - 1] ?? -1)) bad();
      const d = x.shape[i] ?? 1;
      if (d !== 1 && d !== shape[axis]) bad();
    });
    return { shape, dtype: x.dtype };
  },
  writesOut: true,
  impl: (inputs, { shape, dims }, into) => {
    const x = oneTensor(inputs);
    return new Tensor(shape, x.dtype, stridedCopy(x.dtype, x.data, 0, broadcastStrides(x, shape, dims), shape, into));
  },
  jvp: (_, [dx], { shape, dims }) => lax.linear(dx ?? null, (t) => lax.broadcastInDim(t, shape, dims)),
  // the transpose sums over the new axes and the stretched ones, then drops the summed 1s
  transpose: (ct, [x], { shape, dims }) => {
    if (x?.linear !== true) return [null];
    const summed = shape.map((_, axis) => axis).filter((axis) => {
      const i = dims.indexOf(axis);
      return i < 0 || (x.aval.shape[i] === 1 && shape[axis] !== 1);
    });
    return [lax.reshape(lax.reduceSum(ct, summed), x.aval.shape)];
  },
  batch: (inputs, dims, { shape, dims: into }, size) => {
    const [x, d] = batchedOperand(inputs, dims);
    return [bind("broadcast", [moveAxis(x, d, 0)], { shape: [size, ...shape], dims: [0, ...into.map((a) => a + 1)] }), 0];
  },
};

/** Permute the axes: output axis `i` is input axis `perm[i]`. */
export const transpose: Primitive<{ readonly perm: readonly number[] }> = {
  name: "transpose",
  shape: (inputs, { perm }) => {
    const x = one("transpose", inputs);
    const ok = perm.length === x.shape.length && new Set(perm).size === perm.length && perm.every((a) => Number.isInteger(a) && a >= 0 && a < perm.length);
    if (!ok) shapeError("transpose", `${formatShape(perm)} is not a permutation of the axes of ${formatShape(x.shape)}`);
    return { shape: perm.map((a) => x.shape[a] ?? 0), dtype: x.dtype };
  },
  writesOut: true,
  impl: (inputs, { perm }, into) => {
    const x = oneTensor(inputs);
    const inStrides = stridesOf(x.shape);
    const shape = perm.map((a) => x.shape[a] ?? 0);
    return new Tensor(shape, x.dtype, stridedCopy(x.dtype, x.data, 0, perm.map((a) => inStrides[a] ?? 0), shape, into));
  },
  jvp: (_, [dx], { perm }) => lax.linear(dx ?? null, (t) => bind("transpose", [t], { perm })),
  transpose: (ct, [x], { perm }) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [x?.linear === true ? bind("transpose", [ct], { perm: inverse }) : null];
  },
  // one permutation that also brings the batch to the front
  batch: (inputs, dims, { perm }) => {
    const [x, d] = batchedOperand(inputs, dims);
    return [bind("transpose", [x], { perm: [d, ...perm.map((a) => inBatched(a, d))] }), 0];
  },
};


/** A strided window of the same rank: `sizes[d]` indices from `starts[d]` by `steps[d]`. */
export const slice: Primitive<SliceParams> = {
  name: "slice",
  shape: (inputs, { starts, steps, sizes }) => {
    const x = one("slice", inputs);
    const rank = x.shape.length;
    if (starts.length !== rank || steps.length !== rank || sizes.length !== rank) {
      shapeError("slice", `needs one start, step and size per axis of ${formatShape(x.shape)}`);
    }
    x.shape.forEach((d, axis) => {
      const [start = 0, step = 1, size = 0] = [starts[axis], steps[axis], sizes[axis]];
      const lastIndex = start + step * (size - 1);
      const fits = Number.isInteger(start) && Number.isInteger(step) && step !== 0 && Number.isInteger(size) && size >= 0;
      if (!fits || (size > 0 && (start < 0 || start >= d || lastIndex < 0 || lastIndex >= d))) {
        shapeError("slice", `axis ${axis}: ${size} indices from ${start} by ${step} do not fit in size ${d}`);
      }
    });
    return { shape: sizes, dtype: x.dtype };
  },
  writesOut: true,
  impl: (inputs, { starts, steps, sizes }, into) => {
    const x = oneTensor(inputs);
    const inStrides = stridesOf(x.shape);
    const offset = starts.reduce((o, s, d) => o + s * (inStrides[d] ?? 0), 0);
    const strides = steps.map((s, d) => s * (inStrides[d] ?? 0));
    return new Tensor(sizes, x.dtype, stridedCopy(x.dtype, x.data, sizes.some((s) => s === 0) ? 0 : offset, strides, sizes, into));
  },
  jvp: (_, [dx], params) => lax.linear(dx ?? null, (t) => bind("slice", [t], params)),
  // the transpose adds each read element back where it was read: one scatter per sliced axis
  transpose: (ct, [x], { starts, steps, sizes }) => {
    if (x?.linear !== true) return [null];
    let out = ct;
    x.aval.shape.forEach((d, axis) => {
      const [start = 0, step = 1, size = 0] = [starts[axis], steps[axis], sizes[axis]];
      if (start === 0 && step === 1 && size === d) return;
      const indices = new Tensor([size], "int32", Int32Array.from({ length: size }, (_, k) => start + k * step));
      out = bind("scatter_add", [out, indices], { axis, size: d });
    });
    return [out];
  },
  // the whole batch axis is kept
  batch: (inputs, dims, { starts, steps, sizes }, size) => {
    const [x, d] = batchedOperand(inputs, dims);
    const insert = (xs: readonly number[], v: number): number[] => [...xs.slice(0, d), v, ...xs.slice(d)];
    return [bind("slice", [x], { starts: insert(starts, 0), steps: insert(steps, 1), sizes: insert(sizes, size) }), d];
  },
};

/** Pads every axis with `lo[d]` and `hi[d]` copies of `value`. */
export const pad: Primitive<{ readonly lo: readonly number[]; readonly hi: readonly number[]; readonly value: number }> = {
  name: "pad",
  shape: (inputs, { lo, hi }) => {
    const x = one("pad", inputs);
    const ok = lo.length === x.shape.length && hi.length === x.shape.length && [...lo, ...hi].every((p) => Number.isInteger(p) && p >= 0);
    if (!ok) shapeError("pad", `padding ${formatShape(lo)} / ${formatShape(hi)} does not fit ${formatShape(x.shape)}`);
    return { shape: x.shape.map((d, i) => d + (lo[i] ?? 0) + (hi[i] ?? 0)), dtype: x.dtype };
  },
  writesOut: true,
  impl: (inputs, { lo, hi, value }, into) => {
    const x = oneTensor(inputs);
    const shape = x.shape.map((d, i) => d + (lo[i] ?? 0) + (hi[i] ?? 0));
    const out = outputStorage(x.dtype, shapeSize(shape), into).fill(value);
    const outStrides = stridesOf(shape);
    const offset = lo.reduce((o, p, d) => o + p * (outStrides[d] ?? 0), 0);
    scatterRows(out, offset, outStrides, x.data, x.shape);
    return new Tensor(shape, x.dtype, out);
  },
  // the padding value is a constant: its tangent is 0
  jvp: (_, [dx], { lo, hi }) => lax.linear(dx ?? null, (t) => bind("pad", [t], { lo, hi, value: 0 })),
  transpose: (ct, [x], { lo }) =>
    [x?.linear === true ? bind("slice", [ct], { starts: lo, steps: lo.map(() => 1), sizes: x.aval.shape }) : null],
  // no padding on the batch axis
  batch: (inputs, dims, { lo, hi, value }) => {
    const [x, d] = batchedOperand(inputs, dims);
    const insert = (xs: readonly number[]): number[] => [...xs.slice(0, d), 0, ...xs.slice(d)];
    return [bind("pad", [x], { lo: insert(lo), hi: insert(hi), value }), d];
  },
};

/** Writes the row-major `src` of shape `shape` into `out` at `offset` with `strides`. */
function scatterRows(out: Storage<DType>, offset: number, strides: readonly number[], src: Storage<DType>, shape: readonly number[]): void {
  const n = shapeSize(shape);
  const inStrides = stridesOf(shape);
  for (let i = 0; i < n; i++) {
    let o = offset;
    let rest = i;
    for (let d = 0; d < shape.length; d++) {
      const step = inStrides[d] ?? 1;
      const k = Math.floor(rest / step);
      rest -= k * step;
      o += k * (strides[d] ?? 0);
    }
    out[o] = src[i] ?? 0;
  }
}

/** Joins operands of one rank along `axis`. */
export const concatenate: Primitive<{ readonly axis: number }> = {
  name: "concatenate",
  shape: (inputs, { axis }) => {
    const first = inputs[0];
    if (first === undefined) shapeError("concatenate", "needs at least one operand");
    if (!Number.isInteger(axis) || axis < 0 || axis >= first.shape.length) {
      shapeError("concatenate", `axis ${axis} is out of range for rank ${first.shape.length}`);
    }
    const shape = [...first.shape];
    for (const x of inputs.slice(1)) {
      const fits = x.dtype === first.dtype && x.shape.length === shape.length && x.shape.every((d, i) => i === axis || d === shape[i]);
      if (!fits) shapeError("concatenate", `operands ${inputs.map((y) => `${y.dtype}${formatShape(y.shape)}`).join(", ")} do not fit along axis ${axis}`);
      shape[axis] = (shape[axis] ?? 0) + (x.shape[axis] ?? 0);
    }
    return { shape, dtype: first.dtype };
  },
  writesOut: true,
  impl: (inputs, params, into) => {
    const { shape, dtype } = concatenate.shape(inputs, params);
    const out = outputStorage(dtype, shapeSize(shape), into);
    const outer = shape.slice(0, params.axis).reduce((n, d) => n * d, 1);
    const rowOut = shapeSize(shape.slice(params.axis));
    let at = 0;
    for (const x of inputs) {
      const row = shapeSize(x.shape.slice(params.axis));
      for (let r = 0; r < outer; r++) out.set(x.data.subarray(r * row, (r + 1) * row), r * rowOut + at);
      at += row;
    }
    return new Tensor(shape, dtype, out);
  },
  jvp: (primals, tangents, params) => {
    if (tangents.every((t) => (t ?? null) === null)) return null;
    return bind("concatenate", primals.map((x, i) => lax.instantiate(tangents[i] ?? null, x)), params);
  },
  transpose: (ct, inputs, { axis }) => {
    let at = 0;
    return inputs.map((input) => {
      const shape = input.linear ? input.aval.shape : input.value.shape;
      const from = at;
      at += shape[axis] ?? 0;
      if (!input.linear) return null;
      return bind("slice", [ct], {
        starts: shape.map((_, d) => (d === axis ? from : 0)),
        steps: shape.map(() => 1),
        sizes: shape,
      });
    });
  },
  batch: (inputs, dims, { axis }, size) => [bind("concatenate", allAtFront(inputs, dims, size), { axis: axis + 1 }), 0],
};
