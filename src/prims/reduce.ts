/**
 * Reductions: `reduce_sum`, `reduce_max` and `argmax` over a set of axes.
 *
 * The reduced axes are removed (the ops reshape for `keepDims`). Axes arrive
 * normalised (non-negative, distinct, increasing); the rule checks it. The
 * work is done by `backend/kernels/reduce.ts`: sums accumulate in float64 and are
 * rounded once to the result dtype; `argmax` reduces one axis to int32
 * indices, the first maximum on ties, and a NaN counts as the maximum (as in
 * NumPy).
 */

import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { argReduce, reduce, type NumericArray } from "../backend/kernels/reduce.js";
import { batchedOperand, inBatched } from "./batching.js";
import { bind } from "./bind.js";
import * as lax from "./lax.js";
import type { Aval, Primitive } from "./types.js";
import { outputStorage } from "./output.js";

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

function reduction(name: "reduce_sum" | "reduce_max", op: "sum" | "max", derivatives: Pick<Primitive<AxesParams>, "jvp" | "transpose">): Primitive<AxesParams> {
  return {
    ...derivatives,
    name,
    // reduce the same axes of the batched operand; the batch axis shifts left past the reduced axes before it
    batch: (inputs, dims, { axes }) => {
      const [x, d] = batchedOperand(inputs, dims);
      const reduced = axes.map((a) => inBatched(a, d));
      return [bind(name, [x], { axes: reduced }), d - reduced.filter((a) => a < d).length];
    },
    shape: (inputs, { axes }) => reducedShape(name, inputs, axes),
    writesOut: true,
    impl: (inputs, { axes }, into) => {
      const x = inputs[0];
      if (x === undefined) throw new Error(`${name} called without its operand`);
      const { shape, dtype } = reducedShape(name, inputs, axes);
      // the reduction stores every element of `out`
      const out = outputStorage(dtype, shapeSize(shape), into);
      // bool was refused by the shape rule, so the storages are numeric arrays
      reduce(op, out as NumericArray, x.data as NumericArray, x.shape, axes);
      return new Tensor(shape, dtype, out);
    },
  };
}

/** Sums over `axes` (accumulated in float64, rounded once). */
export const reduceSum = reduction("reduce_sum", "sum", {
  jvp: (_, [dx], { axes }) => lax.linear(dx ?? null, (t) => lax.reduceSum(t, axes)),
  // the transpose spreads the cotangent back over the summed axes
  transpose: (ct, [x], { axes }) => {
    if (x?.linear !== true) return [null];
    const kept = x.aval.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    return [lax.broadcastInDim(ct, x.aval.shape, kept)];
  },
});

/** The maximum over `axes`; NaN propagates; an empty reduction gives the dtype's lowest value. */
export const reduceMax = reduction("reduce_max", "max", {
  // d(max x) = mean of dx over the positions that attain the max (JAX's rule)
  jvp: ([x], [dx], { axes }, out) => {
    if (x === undefined || dx === undefined || dx === null) return null;
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const attains = lax.cast(lax.compare("eq", x, lax.broadcastInDim(out, x.shape, kept)), x.dtype);
    return lax.div(lax.reduceSum(lax.mul(dx, attains), axes), lax.reduceSum(attains, axes));
  },
});

/** The index of the maximum along `axis`, as int32 (the first on ties; a NaN counts as the maximum). */
export const argmax: Primitive<{ readonly axis: number }> = {
  name: "argmax",
  shape: (inputs, { axis }) => {
    const { shape } = reducedShape("argmax", inputs, [axis]);
    const x = inputs[0];
    if (x !== undefined && (x.shape[axis] ?? 0) === 0) shapeError("argmax", `axis ${axis} of ${formatShape(x.shape)} is empty`);
    return { shape, dtype: "int32" };
  },
  writesOut: true,
  impl: (inputs, params, into) => {
    const x = inputs[0];
    if (x === undefined) throw new Error("argmax called without its operand");
    const { shape } = argmax.shape(inputs, params);
    const out = outputStorage("int32", shapeSize(shape), into);
    // the shape rule refused bool, so the data is numeric
    argReduce("argmax", out, x.data as NumericArray, x.shape, params.axis);
    return new Tensor(shape, "int32", out);
  },
  jvp: () => null, // an index has no tangent
  batch: (inputs, dims, { axis }) => {
    const [x, d] = batchedOperand(inputs, dims);
    const reduced = inBatched(axis, d);
    return [bind("argmax", [x], { axis: reduced }), reduced < d ? d - 1 : d];
  },
};
