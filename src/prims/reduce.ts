/**
 * Reductions: `reduce_sum`, `reduce_max` and `argmax` over a set of axes.
 *
 * The reduced axes are removed (the ops reshape for `keepDims`). Axes arrive
 * normalised (non-negative, distinct, increasing); the rule checks it. Sums
 * accumulate in float64 and are rounded once to the result dtype. `argmax`
 * reduces one axis to int32 indices, the first maximum on ties, and a NaN
 * counts as the maximum (as in NumPy).
 */

import { allocate } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { round } from "./elementwise.js";
import { transpose } from "./structural.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";

interface AxesParams {
  readonly axes: readonly number[];
}

function reducedShape(name: string, inputs: readonly Aval[], axes: readonly number[]): Aval {
  const x = inputs[0];
  if (inputs.length !== 1 || x === undefined) shapeError(name, `takes 1 operand, got ${inputs.length}`);
  axes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length || (i > 0 && a <= (axes[i - 1] ?? -1))) {
      shapeError(name, `axes ${formatShape(axes)} are not distinct increasing axes of ${formatShape(x.shape)}`);
    }
  });
  if (x.dtype === "bool") shapeError(name, "needs a numeric dtype, got bool");
  return { shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype };
}

/**
 * The operand with the reduced axes moved last (a copy only when they are not
 * already last), and the size of the block each output element reduces.
 */
function reducedLast(x: AnyTensor, axes: readonly number[]): { data: AnyTensor["data"]; block: number } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const block = shapeSize(axes.map((a) => x.shape[a] ?? 1));
  const moved = perm.every((a, i) => a === i) ? x : transpose.impl([x], { perm });
  return { data: moved.data, block };
}

function reduction(name: string, init: number, combine: (acc: number, v: number) => number): Primitive<AxesParams> {
  return {
    name,
    shape: (inputs, { axes }) => reducedShape(name, inputs, axes),
    impl: (inputs, { axes }) => {
      const x = inputs[0];
      if (x === undefined) throw new Error(`${name} called without its operand`);
      const { shape, dtype } = reducedShape(name, inputs, axes);
      const { data, block } = reducedLast(x, axes);
      const out = allocate(dtype, shapeSize(shape));
      for (let o = 0, base = 0; o < out.length; o++, base += block) {
        let acc = init;
        for (let i = 0; i < block; i++) acc = combine(acc, data[base + i] ?? 0);
        out[o] = round(dtype, acc);
      }
      return new Tensor(shape, dtype, out);
    },
  };
}

/** Sums over `axes`. */
export const reduceSum = reduction("reduce_sum", 0, (acc, v) => acc + v);

// NOTE: Math.max propagates NaN, which is what a max reduction should do.
/** The maximum over `axes` (-Infinity for an empty reduction). */
export const reduceMax = reduction("reduce_max", -Infinity, (acc, v) => Math.max(acc, v));

/** The index of the maximum along `axis`, as int32. */
export const argmax: Primitive<{ readonly axis: number }> = {
  name: "argmax",
  shape: (inputs, { axis }) => {
    const { shape } = reducedShape("argmax", inputs, [axis]);
    const x = inputs[0];
    if (x !== undefined && (x.shape[axis] ?? 0) === 0) shapeError("argmax", `axis ${axis} of ${formatShape(x.shape)} is empty`);
    return { shape, dtype: "int32" };
  },
  impl: (inputs, params) => {
    const x = inputs[0];
    if (x === undefined) throw new Error("argmax called without its operand");
    const { shape } = argmax.shape(inputs, params);
    const { data, block } = reducedLast(x, [params.axis]);
    const out = allocate("int32", shapeSize(shape));
    for (let o = 0, base = 0; o < out.length; o++, base += block) {
      let best = 0;
      let bestValue = data[base] ?? 0;
      for (let i = 1; i < block && !Number.isNaN(bestValue); i++) {
        const v = data[base + i] ?? 0;
        if (v > bestValue || Number.isNaN(v)) {
          best = i;
          bestValue = v;
        }
      }
      out[o] = best;
    }
    return new Tensor(shape, "int32", out);
  },
};
