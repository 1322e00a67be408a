/**
 * The small moves that batching rules are made of: where a batch axis sits
 * and how to put it somewhere else.
 *
 * A batching rule (the `batch` slot of a primitive, used by `vmap`) sees
 * operands that carry a batch of examples on some axis, or not at all. Most
 * rules move the batch axis to where the primitive already loops (a leading
 * axis, a batch dimension of a product, the N of an image batch), or fold it
 * into a dim the primitive treats row by row, and split it out of the result
 * again. The idea is JAX's `batching.py` (`moveaxis`, `bdim_at_front`); the
 * helpers here are ours. Every move is a `bind`, so a rule can itself be
 * transformed. Left out: the trace that calls the rules (`transforms/vmap.ts`).
 */

import { bind } from "./bind.js";
import * as lax from "./lax.js";
import type { PrimName, PrimParams } from "./params.js";
import type { AnyTensor, BatchDim } from "./types.js";

/** Axis `axis` of an example, counted in the batched value whose batch is on axis `d`. */
export const inBatched = (axis: number, d: number): number => (axis < d ? axis : axis + 1);

/** `x` with its axis `from` moved to position `to` (the other axes keep their order). */
export function moveAxis(x: AnyTensor, from: number, to: number): AnyTensor {
  if (from === to) return x;
  const rest = x.shape.map((_, i) => i).filter((i) => i !== from);
  rest.splice(to, 0, from);
  return bind("transpose", [x], { perm: rest });
}

/**
 * `x` with its batch of `size` examples on axis `to`: moved there from `dim`,
 * or, for an unbatched `x`, the same example broadcast `size` times. The
 * broadcast is bound with the batched operands it will meet as context, so
 * that under `jit` a constant is broadcast inside the program (where fusion
 * reads it in place) instead of materialised `size` times at trace time.
 */
export function batchAt(x: AnyTensor, dim: BatchDim, size: number, to: number, context: readonly AnyTensor[] = []): AnyTensor {
  if (dim !== null) return moveAxis(x, dim, to);
  const shape = [...x.shape];
  shape.splice(to, 0, size);
  return bind("broadcast", [x], { shape, dims: x.shape.map((_, i) => (i < to ? i : i + 1)) }, context);
}

/** The batched operands among `inputs`: the context of an unbatched one's broadcast (see `batchAt`). */
export const batchedAmong = (inputs: readonly AnyTensor[], dims: readonly BatchDim[]): AnyTensor[] => inputs.filter((_, i) => (dims[i] ?? null) !== null);

/** Every operand with its batch on axis 0 (unbatched ones broadcast). */
export function allAtFront(inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number): AnyTensor[] {
  const context = batchedAmong(inputs, dims);
  return inputs.map((x, i) => batchAt(x, dims[i] ?? null, size, 0, context));
}

/**
 * `x` with its batch folded into axis `axis` of the example: the batch is
 * put just before that axis and the two are merged, batch-major, so that a
 * primitive treating the rows of that axis alike (the N of an image batch,
 * the M of a product) treats the examples alike too.
 */
export function foldInto(x: AnyTensor, dim: BatchDim, size: number, axis: number, context: readonly AnyTensor[] = []): AnyTensor {
  const moved = batchAt(x, dim, size, axis, context);
  const shape = moved.shape.filter((_, i) => i !== axis + 1);
  shape[axis] = size * (moved.shape[axis + 1] ?? 1);
  return lax.reshape(moved, shape);
}

/** The inverse of `foldInto` on a result: axis `axis` (of size `size * inner`) split into `[size, inner]`. */
export function splitOut(y: AnyTensor, axis: number, size: number, inner: number): AnyTensor {
  const shape = [...y.shape];
  shape.splice(axis, 1, size, inner);
  return lax.reshape(y, shape);
}

/** The example `b` of `x`, whose batch is on axis `dim`. */
function example(x: AnyTensor, dim: number, b: number): AnyTensor {
  const slice = bind("slice", [x], {
    starts: x.shape.map((_, i) => (i === dim ? b : 0)),
    steps: x.shape.map(() => 1),
    sizes: x.shape.map((d, i) => (i === dim ? 1 : d)),
  });
  return lax.reshape(slice, x.shape.filter((_, i) => i !== dim));
}

/**
 * The fallback rule: the primitive applied to each example in turn and the
 * results stacked on axis 0 (the trace handles an empty batch before any
 * rule). Exact, but it costs one application per example; used only where
 * no batched form exists.
 */
export function perExample<K extends PrimName>(
  prim: K,
  inputs: readonly AnyTensor[],
  dims: readonly BatchDim[],
  params: PrimParams[K],
  size: number,
): readonly [AnyTensor, BatchDim] {
  const results: AnyTensor[] = [];
  for (let b = 0; b < size; b++) {
    const xs = inputs.map((x, i) => {
      const d = dims[i] ?? null;
      return d === null ? x : example(x, d, b);
    });
    const y = bind(prim, xs, params);
    results.push(lax.reshape(y, [1, ...y.shape]));
  }
  const [first] = results;
  if (first === undefined) throw new Error(`${prim}: an empty batch reached its batching rule`);
  return [results.length === 1 ? first : bind("concatenate", results, { axis: 0 }), 0];
}

/** The operand of a one-operand primitive and its batch axis (a rule is called only when some operand is batched). */
export function batchedOperand(inputs: readonly AnyTensor[], dims: readonly BatchDim[]): readonly [AnyTensor, number] {
  const [x] = inputs;
  const [d] = dims;
  if (x === undefined || d === null || d === undefined) throw new Error("batching rule: the operand is missing or not batched");
  return [x, d];
}
