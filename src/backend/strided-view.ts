/**
 * Strided views: how a chain of broadcast, transpose, slice and reshape over
 * a buffer becomes one index map.
 *
 * A view of a row-major buffer is an offset and one stride per axis of the
 * view's shape. Broadcast sets the stride of a new or stretched axis to 0,
 * transpose permutes strides, slice moves the offset and scales strides, and
 * reshape regroups axes; that last is possible only when each group of old
 * axes that merges is contiguous (NumPy's `_attempt_nocopy_reshape`), so
 * `reshapeView` returns undefined when the reshape needs a copy. Leaves out:
 * anything whose index is not affine (gather, pad, concatenate).
 */

import { shapeSize, stridesOf } from "../core/shape.js";

/** A view of a buffer: the element at index `i` is at `offset + sum(strides[d] * i[d])`. */
export interface StridedView {
  readonly shape: readonly number[];
  readonly offset: number;
  readonly strides: readonly number[];
}

/** A whole row-major buffer of shape `shape`. */
export function rowMajorView(shape: readonly number[]): StridedView {
  return { shape, offset: 0, strides: stridesOf(shape) };
}

/** `broadcast_in_dim`: view axis `dims[i]` is axis `i`; every other axis, and every stretched 1, has stride 0. */
export function broadcastView(view: StridedView, shape: readonly number[], dims: readonly number[]): StridedView {
  const strides = new Array<number>(shape.length).fill(0);
  dims.forEach((axis, i) => {
    if ((view.shape[i] ?? 1) !== 1) strides[axis] = view.strides[i] ?? 0;
  });
  return { shape, offset: view.offset, strides };
}

/** Axis `i` of the result is axis `perm[i]` of `view`. */
export function transposeView(view: StridedView, perm: readonly number[]): StridedView {
  return { shape: perm.map((a) => view.shape[a] ?? 0), offset: view.offset, strides: perm.map((a) => view.strides[a] ?? 0) };
}

/** The parameters of `slice`: per axis, the first index read, the step and the count. */
export interface SliceParams {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
  readonly sizes: readonly number[];
}

/** `sizes[d]` indices of axis `d` from `starts[d]` by `steps[d]`. */
export function sliceView(view: StridedView, { starts, steps, sizes }: SliceParams): StridedView {
  const offset = starts.reduce((o, s, d) => o + s * (view.strides[d] ?? 0), view.offset);
  return { shape: sizes, offset, strides: steps.map((s, d) => s * (view.strides[d] ?? 0)) };
}

/**
 * The same elements in row-major order, as shape `shape`: a view when every
 * run of old axes that the new shape merges or splits is contiguous in the
 * buffer, else undefined.
 */
export function reshapeView(view: StridedView, shape: readonly number[]): StridedView | undefined {
  if (shapeSize(view.shape) === 0) return { shape, offset: 0, strides: shape.map(() => 0) };
  // Axes of size 1 carry no position; drop them from the old view.
  const oldDims: number[] = [];
  const oldStrides: number[] = [];
  view.shape.forEach((d, i) => {
    if (d !== 1) {
      oldDims.push(d);
      oldStrides.push(view.strides[i] ?? 0);
    }
  });
  const strides = new Array<number>(shape.length).fill(0);
  let oldAt = 0;
  let newAt = 0;
  while (oldAt < oldDims.length) {
    while ((shape[newAt] ?? 0) === 1) newAt++;
    // The smallest runs oldDims[oldAt, oldEnd) and shape[newAt, newEnd) of equal product.
    let oldEnd = oldAt + 1;
    let newEnd = newAt + 1;
    let oldProduct = oldDims[oldAt] ?? 1;
    let newProduct = shape[newAt] ?? 1;
    while (oldProduct !== newProduct) {
      if (newProduct < oldProduct) newProduct *= shape[newEnd++] ?? 0;
      else oldProduct *= oldDims[oldEnd++] ?? 0;
      if (newEnd > shape.length || oldEnd > oldDims.length) return undefined; // sizes differ: not a reshape
    }
    for (let k = oldAt; k < oldEnd - 1; k++) {
      if (oldStrides[k] !== (oldDims[k + 1] ?? 0) * (oldStrides[k + 1] ?? 0)) return undefined;
    }
    let stride = oldStrides[oldEnd - 1] ?? 0;
    for (let k = newEnd - 1; k >= newAt; k--) {
      const d = shape[k] ?? 1;
      strides[k] = d === 1 ? 0 : stride;
      stride *= d;
    }
    oldAt = oldEnd;
    newAt = newEnd;
  }
  return { shape, offset: view.offset, strides };
}
