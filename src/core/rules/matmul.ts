/**
 * Matrix product shapes, NumPy's `matmul` rule.
 *
 * `[...B1, M, K] @ [...B2, K, N]` is `[...broadcast(B1, B2), M, N]`. A rank-1
 * left operand `[K]` acts as a row `[1, K]` and a rank-1 right operand `[K]` as
 * a column `[K, 1]`, and the added dim is dropped from the result, so a vector
 * dot product has shape `[]`. Rank 0 operands are refused (use `mul`).
 */

import { ShapeError, shapeError } from "../errors.js";
import { formatShape, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "../shape.js";
import { broadcastIn, type BroadcastIn } from "./broadcast.js";
import type { Checked, DimsMatch, IsTuple, RuntimeResult } from "./dims.js";

type InnerError<A extends Shape, B extends Shape, KA, KB> = ShapeError<`matmul: inner dims ${ShowDim<KA>} and ${ShowDim<KB>} differ in ${ShowShape<A>} and ${ShowShape<B>}`>;

type RankError<A extends Shape, B extends Shape> = ShapeError<`matmul: operands must have rank >= 1, got ${ShowShape<A>} and ${ShowShape<B>}`>;

/**
 * The shape of `a @ b` for operands of shapes `A` and `B`, or a `ShapeError`
 * naming the inner dims that differ (or the batch dims that do not broadcast).
 *
 * @example
 * type S = MatmulShape<["batch", 784], [784, 512]>; // ["batch", 512]
 */
export type MatmulShape<A extends Shape, B extends Shape> = IsTuple<A> extends false
  ? Dim[]
  : IsTuple<B> extends false
    ? Dim[]
    : A extends readonly []
      ? RankError<A, B>
      : B extends readonly []
        ? RankError<A, B>
        : A extends readonly [infer KA]
          ? B extends readonly [infer KB]
            ? DimsMatch<KA, KB> extends true
              ? []
              : InnerError<A, B, KA, KB>
            : B extends readonly [...infer BB extends Shape, infer KB, infer N]
              ? DimsMatch<KA, KB> extends true
                ? [...BB, N]
                : InnerError<A, B, KA, KB>
              : never
          : A extends readonly [...infer BA extends Shape, infer M, infer KA]
            ? B extends readonly [infer KB]
              ? DimsMatch<KA, KB> extends true
                ? [...BA, M]
                : InnerError<A, B, KA, KB>
              : B extends readonly [...infer BB extends Shape, infer KB, infer N]
                ? DimsMatch<KA, KB> extends true
                  ? BatchedResult<BroadcastIn<"matmul batch", BA, BB>, M, N>
                  : InnerError<A, B, KA, KB>
                : never
            : never;

type BatchedResult<Batch, M, N> = Batch extends readonly Dim[] ? [...Batch, M, N] : Batch;

/**
 * The shape of `a @ b`; throws a `ShapeError` naming both shapes when the inner
 * dims differ, the batch dims do not broadcast, or an operand has rank 0.
 *
 * @example
 * matmulShape([8, 32, 784], [784, 512]); // [8, 32, 512]
 */
export function matmulShape<const A extends RuntimeShape, const B extends RuntimeShape>(
  a: A,
  b: Checked<MatmulShape<A, B>, B>,
): NoInfer<RuntimeResult<MatmulShape<A, B>>> {
  // Checked<R, B> is B whenever this call type-checks; the twin laws check
  // that MatmulShape computes the shape returned here.
  return matmulRule(a, b as RuntimeShape) as RuntimeResult<MatmulShape<A, B>>;
}

function matmulRule(a: RuntimeShape, b: RuntimeShape): number[] {
  if (a.length === 0 || b.length === 0) {
    shapeError("matmul", `operands must have rank >= 1, got ${formatShape(a)} and ${formatShape(b)}`);
  }
  const a2 = a.length === 1 ? [1, ...a] : a;
  const b2 = b.length === 1 ? [...b, 1] : b;
  const ka = a2[a2.length - 1] ?? 0;
  const kb = b2[b2.length - 2] ?? 0;
  if (ka !== kb) {
    shapeError("matmul", `inner dims ${ka} and ${kb} differ in ${formatShape(a)} and ${formatShape(b)}`);
  }
  const batch = broadcastIn("matmul batch", a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2] ?? 0);
  if (b.length > 1) out.push(b2[b2.length - 1] ?? 0);
  return out;
}
