/**
 * `dot_general`: batched matrix products with optionally transposed operands.
 *
 * `lhs` is `[...B, M, K]` (or `[...B, K, M]` with `transA`), `rhs` is
 * `[...B, K, N]` (or `[...B, N, K]` with `transB`), with equal batch dims (the
 * ops broadcast them first); the result is `[...B, M, N]`. Transposed operands
 * are read in place, which is what the autodiff needs for `ct @ B^T` and
 * `A^T @ ct`. The work is done by the blocked kernel in `backend/kernels/`.
 */

import { isFloatDType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { matmul } from "../backend/kernels/matmul.js";
import type { FloatArray } from "../backend/kernels/matrix-view.js";
import { foldInto, inBatched, moveAxis, splitOut } from "./batching.js";
import { bind } from "./bind.js";
import { nonlinear } from "./elementwise.js";
import * as lax from "./lax.js";
import { outputStorage } from "./output.js";
import type { DotParams } from "./params.js";
import type { Aval, Primitive } from "./types.js";

interface DotDims {
  readonly batch: readonly number[];
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

function dotDims(inputs: readonly Aval[], { transA, transB }: DotParams): DotDims & { dtype: Aval["dtype"] } {
  const [a, b] = inputs;
  if (inputs.length !== 2 || a === undefined || b === undefined) shapeError("dot_general", `takes 2 operands, got ${inputs.length}`);
  // the shapes are printed only into an error (a compiled program checks every call)
  const shapes = (): string => `${formatShape(a.shape)} and ${formatShape(b.shape)}`;
  if (a.shape.length < 2 || a.shape.length !== b.shape.length) shapeError("dot_general", `operands ${shapes()} must have one rank >= 2`);
  const r = a.shape.length;
  const batch = a.shape.slice(0, r - 2);
  if (!batch.every((d, i) => d === b.shape[i])) shapeError("dot_general", `batch dims of ${shapes()} differ`);
  const [m = 0, k = 0] = transA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
  const [k2 = 0, n = 0] = transB ? [b.shape[r - 1], b.shape[r - 2]] : [b.shape[r - 2], b.shape[r - 1]];
  if (k !== k2) shapeError("dot_general", `inner dims ${k} and ${k2} differ in ${shapes()}`);
  if (a.dtype !== b.dtype || !isFloatDType(a.dtype)) {
    shapeError("dot_general", `needs two operands of one float dtype, got ${a.dtype} and ${b.dtype}`);
  }
  return { batch, m, k, n, dtype: a.dtype };
}

/** The batched matrix product. */
export const dotGeneral: Primitive<DotParams> = {
  name: "dot_general",
  shape: (inputs, params) => {
    const { batch, m, n, dtype } = dotDims(inputs, params);
    return { shape: [...batch, m, n], dtype };
  },
  writesOut: true,
  impl: (inputs, params, into) => {
    const { batch, m, k, n, dtype } = dotDims(inputs, params);
    const [a, b] = inputs;
    if (a === undefined || b === undefined) throw new Error("dot_general called without its operands");
    // the product stores every element of `out` (it never accumulates into it)
    const out = outputStorage(dtype, shapeSize(batch) * m * n, into);
    // dotDims checked that both operands are of the float dtype `dtype`.
    matmul(out as FloatArray, a.data as FloatArray, b.data as FloatArray, { batch: shapeSize(batch), m, k, n, transA: params.transA, transB: params.transB });
    return new Tensor([...batch, m, n], dtype, out);
  },
  // d(A B) = dA B + A dB
  jvp: ([a, b], [da, db], params) =>
    lax.addTangents(
      lax.linear(da ?? null, (t) => bind("dot_general", [t, b ?? t], params)),
      lax.linear(db ?? null, (t) => bind("dot_general", [a ?? t, t], params)),
    ),
  // ct_A = ct B^T and ct_B = A^T ct, read through the operands' transposition flags
  transpose: (ct, [a, b], { transA, transB }) => {
    if (a?.linear === true && b?.linear === false) {
      return [transA ? bind("dot_general", [b.value, ct], { transA: transB, transB: true }) : bind("dot_general", [ct, b.value], { transA: false, transB: !transB }), null];
    }
    if (b?.linear === true && a?.linear === false) {
      return [null, transB ? bind("dot_general", [ct, a.value], { transA: true, transB: transA }) : bind("dot_general", [a.value, ct], { transA: !transA, transB: false })];
    }
    return nonlinear("dot_general");
  },
  // both batched: one more batch dim; one batched: its examples stacked as more rows of M (or columns of N)
  batch: ([a, b], [da = null, db = null], params, size) => {
    if (a === undefined || b === undefined) throw new Error("dot_general called without its operands");
    if (da !== null && db !== null) return [bind("dot_general", [moveAxis(a, da, 0), moveAxis(b, db, 0)], params), 0];
    const r = da !== null ? b.shape.length : a.shape.length; // the rank of one example
    if (da !== null) {
      const mAxis = params.transA ? r - 1 : r - 2;
      const m = a.shape[inBatched(mAxis, da)] ?? 0;
      return [splitOut(bind("dot_general", [foldInto(a, da, size, mAxis), b], params), r - 2, size, m), r - 2];
    }
    const nAxis = params.transB ? r - 2 : r - 1;
    const n = b.shape[inBatched(nAxis, db ?? 0)] ?? 0;
    return [splitOut(bind("dot_general", [a, foldInto(b, db, size, nAxis)], params), r - 1, size, n), r - 1];
  },
};
