/**
 * `gather` and its transpose `scatter_add`, along one axis, with int32 indices.
 *
 * `gather(x, idx, axis)` has shape `x.shape[:axis] + idx.shape +
 * x.shape[axis+1:]`; it is how an embedding looks up rows. `scatter_add` adds
 * the rows of `updates` back at those indices into zeros of axis size `size`.
 * An index out of range is an error, never a read past the table.
 */

import { allocate } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { bind } from "./bind.js";
import { nonlinear } from "./elementwise.js";
import * as lax from "./lax.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";

function checkIndices(name: string, indices: AnyTensor, size: number): void {
  const data = indices.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    if (v < 0 || v >= size) shapeError(name, `index ${v} is out of range for an axis of size ${size}`);
  }
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
  impl: (inputs, { axis }) => {
    const { shape, dtype } = gatherShape(inputs, axis);
    const [x, idx] = inputs as [AnyTensor, AnyTensor]; // gatherShape checked both are there
    const size = x.shape[axis] ?? 0;
    checkIndices("gather", idx, size);
    const outer = shapeSize(x.shape.slice(0, axis));
    const inner = shapeSize(x.shape.slice(axis + 1));
    const out = allocate(dtype, shapeSize(shape));
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
  impl: (inputs, { axis, size }) => {
    const { shape, dtype } = scatterShape(inputs, axis, size);
    const [updates, idx] = inputs as [AnyTensor, AnyTensor]; // scatterShape checked both are there
    checkIndices("scatter_add", idx, size);
    const outer = shapeSize(updates.shape.slice(0, axis));
    const inner = shapeSize(updates.shape.slice(axis + idx.shape.length));
    const out = allocate(dtype, shapeSize(shape));
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
};
