/**
 * Broadcasting: the shape of an elementwise op on two operands.
 *
 * NumPy's rule: align the shapes at their last dims; each pair of dims must be
 * equal or one of them 1, and the result takes the larger; missing leading dims
 * count as 1. At the type level a symbolic dim broadcasts only with itself or
 * with 1, and `number` defers the check to run time (its result is the other
 * dim, since a size that passes the run-time check is either 1 or that dim).
 */

import { ShapeError } from "../errors.js";
import { formatShape, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "../shape.js";
import type { Checked, DimsMatch, IsTuple, MergeDim, RuntimeResult } from "./dims.js";

/**
 * The broadcast of two dims, or `never` when they do not broadcast.
 *
 * @example
 * type D = BroadcastDim<1, 784>; // 784
 */
export type BroadcastDim<A, B> = BroadcastPair<A, B> extends [infer D] ? D : never;

/**
 * The broadcast of two dims as a one-element tuple, or `[]` when they do not
 * broadcast. NOTE: boxed so that a caller can test the result without
 * writing `[D] extends [never]`, which TypeScript leaves unresolved when `D`
 * is a type parameter (a dim of generic code, such as `B` broadcast with 1).
 */
type BroadcastPair<A, B> = [B] extends [1] ? [A] : [A] extends [1] ? [B] : DimsMatch<A, B> extends true ? [MergeDim<A, B>] : [];

/**
 * The shape of an elementwise op on operands of shapes `A` and `B`, or a
 * `ShapeError` naming both shapes and the dims that differ.
 *
 * @example
 * type S = BroadcastShapes<["batch", 1, 3], [4, 3]>; // ["batch", 4, 3]
 */
export type BroadcastShapes<A extends Shape, B extends Shape> = BroadcastIn<"broadcast", A, B>;

/** `BroadcastShapes` with the op named in the message (matmul reuses it for batch dims). */
export type BroadcastIn<Op extends string, A extends Shape, B extends Shape> = IsTuple<A> extends false
  ? Dim[]
  : IsTuple<B> extends false
    ? Dim[]
    : BroadcastLoop<Op, A, B, A, B, []>;

type BroadcastLoop<
  Op extends string,
  A0 extends Shape,
  B0 extends Shape,
  A extends Shape,
  B extends Shape,
  Acc extends Dim[],
> = A extends readonly [...infer AR extends Shape, infer a]
  ? B extends readonly [...infer BR extends Shape, infer b]
    ? BroadcastPair<a, b> extends [infer D extends Dim]
      ? BroadcastLoop<Op, A0, B0, AR, BR, [D, ...Acc]>
      : ShapeError<`${Op}: shapes ${ShowShape<A0>} and ${ShowShape<B0>} do not broadcast (dims ${ShowDim<a>} and ${ShowDim<b>} differ)`>
    : [...A, ...Acc]
  : [...B, ...Acc];

/**
 * The shape of an elementwise op on operands of shapes `a` and `b`; throws a
 * `ShapeError` naming both shapes when they do not broadcast.
 *
 * @example
 * broadcastShapes([2, 1, 3], [4, 3]); // [2, 4, 3]
 */
export function broadcastShapes<const A extends RuntimeShape, const B extends RuntimeShape>(
  a: A,
  b: Checked<BroadcastShapes<A, B>, B>,
): NoInfer<RuntimeResult<BroadcastShapes<A, B>>> {
  // Checked<R, B> is B whenever this call type-checks.
  const out = broadcastIn("broadcast", a, b as RuntimeShape);
  // The type-level twin computes this same shape (the twin laws check it).
  return out as RuntimeResult<BroadcastShapes<A, B>>;
}

/** `broadcastShapes` with the op named in the error message. */
export function broadcastIn(op: string, a: RuntimeShape, b: RuntimeShape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const da = a[a.length - i] ?? 1;
    const db = b[b.length - i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dims ${da} and ${db} differ)`,
      );
    }
    out[rank - i] = da === 1 ? db : da;
  }
  return out;
}
