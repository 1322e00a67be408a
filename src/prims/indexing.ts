/**
 * `gather` and its transpose `scatter_add`, along one axis, with int32 indices.
 *
 * `gather(x, idx, axis)` has shape `x.shape[:axis] + idx.shape +
 * x.shape[axis+1:]`; it is how an embedding looks up rows. `scatter_add` adds
 * the rows of `updates` back at those indices into zeros of axis size `size`.
 * An index out of range is an error, never a read past the table.
 */

import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { batchAt, foldInto, inBatched, moveAxis, splitOut } from "./batching.js";
import { bind } from "./bind.js";
import { nonlinear } from "./elementwise.js";
import * as lax from "./lax.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";
import { outputStorage } from "./output.js";

function checkIndices(name: string, indices: AnyTensor, size: number): void {
  const data = indices.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    if (v < 0 || v >= size) shapeError(name, `index ${v} is out of range for an axis of size ${size}`);
  }
}

/**
 * Batched indices made to address a batched axis folded batch-major (see
 * `foldInto`): example `b`'s indices into an axis of `size` are shifted by
 * `b * size`. The batch is moved to the indices' front.
 */
function offsetIndices(idx: AnyTensor, dim: number, size: number): AnyTensor {
  const front = moveAxis(idx, dim, 0);
  const batch = front.shape[0] ?? 0;
  const offsets = new Tensor([batch], "int32", Int32Array.from({ length: batch }, (_, b) => b * size));
  return lax.add(front, lax.broadcastInDim(offsets, front.shape, [0]));
}

function gatherShape(inputs: readonly Aval[], axis: number): Aval {
  const [x, idx] = inputs;
  if (inputs.length !== 2 || x === undefined || idx === undefined) shapeError("gather", `takes 2 operands, got ${inputs.length}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) shapeError("gather", `axis ${axis} is out of range for ${formatShape(x.shape)}`);
  if (idx.dtype !== "int32") shapeError("gather", `indices must be int32, got ${idx.dtype}`);
  return { shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype };
}

/** Picks entries of `x` along `axis` at int32 `indices`. */
export const gather: Primitive<{ readonly axis: number }> = {
  name: "gather",
  shape: (inputs, { axis }) => gatherShape(inputs, axis),
  writesOut: true,
  impl: (inputs, { axis }, into) => {
    const { shape, dtype } = gatherShape(inputs, axis);
    const [x, idx] = inputs as [AnyTensor, AnyTensor]; // gatherShape checked both are there
    const size = x.shape[axis] ?? 0;
    checkIndices("gather", idx, size);
    const outer = shapeSize(x.shape.slice(0, axis));
    const inner = shapeSize(x.shape.slice(axis + 1));
    const out = outputStorage(dtype, shapeSize(shape), into);
    const ids = idx.data;
    let o = 0;
    for (let r = 0; r < outer; r++) {
      for (let j = 0; j < ids.length; j++) {
        const from = (r * size + (ids[j] ?? 0)) * inner;
        out.set(x.data.subarray(from, from + inner), o);
        o += inner;
      }
    }
    return new Tensor(shape, dtype, out);
  },
  jvp: ([, idx], [dx], params) => lax.linear(dx ?? null, (t) => bind("gather", [t, idx ?? t], params)),
  transpose: (ct, [x, idx], { axis }) => {
    if (x?.linear !== true || idx === undefined || idx.linear) return nonlinear("gather");
    return [bind("scatter_add", [ct, idx.value], { axis, size: x.aval.shape[axis] ?? 0 }), null];
  },
  batch: ([x, idx], [dx = null, di = null], { axis }, size) => {
    if (x === undefined || idx === undefined) throw new Error("gather called without its operands");
    // the same indices into every example: one more leading axis of x
    if (di === null) return [bind("gather", [moveAxis(x, dx ?? 0, 0), idx], { axis: axis + 1 }), 0];
    // one table for every example: the batch is the indices' first axis, which lands on `axis`
    if (dx === null) return [bind("gather", [x, moveAxis(idx, di, 0)], { axis }), axis];
    // each example's indices into its own table: the tables folded into one axis, the indices shifted into it
    const rows = x.shape[inBatched(axis, dx)] ?? 0;
    return [bind("gather", [foldInto(x, dx, size, axis), offsetIndices(idx, di, rows)], { axis }), axis];
  },
};

function scatterShape(inputs: readonly Aval[], axis: number, size: number): Aval {
  const [updates, idx] = inputs;
  if (inputs.length !== 2 || updates === undefined || idx === undefined) shapeError("scatter_add", `takes 2 operands, got ${inputs.length}`);
  if (idx.dtype !== "int32") shapeError("scatter_add", `indices must be int32, got ${idx.dtype}`);
  const r = idx.shape.length;
  const fits = Number.isInteger(axis) && axis >= 0 && axis + r <= updates.shape.length && idx.shape.every((d, i) => d === updates.shape[axis + i]);
  if (!fits || !Number.isInteger(size) || size < 0) {
    shapeError("scatter_add", `updates ${formatShape(updates.shape)} do not fit indices ${formatShape(idx.shape)} at axis ${axis}`);
  }
  return { shape: [...updates.shape.slice(0, axis), size, ...updates.shape.slice(axis + r)], dtype: updates.dtype };
}

/** Adds the entries of `updates` at int32 `indices` along `axis` into zeros of axis size `size`. */
export const scatterAdd: Primitive<{ readonly axis: number; readonly size: number }> = {
  name: "scatter_add",
  shape: (inputs, { axis, size }) => scatterShape(inputs, axis, size),
  writesOut: true,
  impl: (inputs, { axis, size }, into) => {
    const { shape, dtype } = scatterShape(inputs, axis, size);
    const [updates, idx] = inputs as [AnyTensor, AnyTensor]; // scatterShape checked both are there
    checkIndices("scatter_add", idx, size);
    const outer = shapeSize(updates.shape.slice(0, axis));
    const inner = shapeSize(updates.shape.slice(axis + idx.shape.length));
    // the sums start from zero, whatever a reused buffer held
    const out = outputStorage(dtype, shapeSize(shape), into).fill(0);
    const ids = idx.data;
    const u = updates.data;
    let from = 0;
    for (let r = 0; r < outer; r++) {
      for (let j = 0; j < ids.length; j++) {
        const to = (r * size + (ids[j] ?? 0)) * inner;
        for (let e = 0; e < inner; e++) out[to + e] = (out[to + e] ?? 0) + (u[from + e] ?? 0);
        from += inner;
      }
    }
    return new Tensor(shape, dtype, out);
  },
  jvp: ([, idx], [du], params) => lax.linear(du ?? null, (t) => bind("scatter_add", [t, idx ?? t], params)),
  transpose: (ct, [u, idx], { axis }) => {
    if (u?.linear !== true || idx === undefined || idx.linear) return nonlinear("scatter_add");
    return [bind("gather", [ct, idx.value], { axis }), null];
  },
  batch: ([u, idx], [du = null, di = null], { axis, size: rows }, size) => {
    if (u === undefined || idx === undefined) throw new Error("scatter_add called without its operands");
    // the same indices for every example: one more leading axis of the updates
    if (di === null) return [bind("scatter_add", [moveAxis(u, du ?? 0, 0), idx], { axis: axis + 1, size: rows }), 0];
    // each example's indices: scattered into one axis of all examples' rows, then split
    const updates = batchAt(u, du, size, axis, [idx]);
    const out = bind("scatter_add", [updates, offsetIndices(idx, di, rows)], { axis, size: size * rows });
    return [splitOut(out, axis, size, rows), axis];
  },
};
