/**
 * What a primitive is: one object holding every rule about one operation.
 *
 * A primitive has a run-time shape rule (`shape`: abstract values in, the
 * abstract value out, or a `ShapeError` naming the primitive and the shapes)
 * and a reference implementation (`impl`: concrete tensors in, a tensor out).
 * An elementwise primitive also names its row of the backend's scalar-op
 * table, which holds its scalar semantics (reference function, expression,
 * lowerings, error bound); fusion turns its equations into nodes of that op.
 * The autodiff rules (JVP, transpose) and the batching rule of `vmap` join
 * these slots in the same object.
 */

import type { ScalarOp } from "../backend/scalar-ops.js";
import type { DType, Storage } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";

/** An abstract value: what tracing knows of a tensor (its shape and dtype). */
export interface Aval {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A tensor of any shape and dtype (the untyped currency below the ops). */
export type AnyTensor = Tensor<Shape, DType>;

/**
 * The forward-mode rule: the output tangent from the primals, their tangents
 * (`null` is a symbolic zero) and the primal output, or `null` when the
 * output does not depend on any tangent. Written with `bind`, so it can be
 * differentiated again.
 */
export type JvpRule<P> = (primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[], params: P, out: AnyTensor) => AnyTensor | null;

/**
 * An input of an equation being transposed: a linear input has no value, only
 * its aval; any other input is a known value (a residual of the forward pass).
 */
export type LinearInput = { readonly linear: true; readonly aval: Aval } | { readonly linear: false; readonly value: AnyTensor };

/**
 * The transpose rule of a primitive linear in some inputs: given the output's
 * cotangent, the cotangent of each input (`null` for the known inputs and for
 * symbolic zeros). Throws when asked to transpose a nonlinear use.
 */
export type TransposeRule<P> = (ct: AnyTensor, inputs: readonly LinearInput[], params: P) => readonly (AnyTensor | null)[];

/**
 * Where a value being vmapped carries its examples: the axis of the batch,
 * or `null` for a value that is the same for every example (unmapped).
 */
export type BatchDim = number | null;

/**
 * The batching rule: the primitive applied to every example at once. Each
 * input carries the batch (of `size` examples) on axis `dims[i]`, or not at
 * all (`null`; at least one input is batched); the rule returns the result
 * with the axis its batch lands on. Written with `bind`, so it can be
 * transformed again (vmap of vmap, grad of vmap).
 */
export type BatchRule<P> = (inputs: readonly AnyTensor[], dims: readonly BatchDim[], params: P, size: number) => readonly [AnyTensor, BatchDim];

/** Every rule of one primitive. */
export interface Primitive<P> {
  /** The primitive's name, as the IR prints it. */
  readonly name: string;
  /** The abstract value of the result; throws a `ShapeError` naming the primitive. */
  readonly shape: (inputs: readonly Aval[], params: P) => Aval;
  /**
   * Computes the result on concrete tensors (whose avals passed `shape`).
   * A primitive that declares `writesOut` stores its whole result in `out`
   * when one is given (storage of the result's dtype and size, sharing
   * nothing with the inputs, holding anything) and returns a tensor on it;
   * the others ignore `out`.
   */
  readonly impl: (inputs: readonly AnyTensor[], params: P, out?: Storage<DType>) => AnyTensor;
  /**
   * True when `impl` honours `out`, so a compiled program hands it a buffer
   * reused by liveness (`ir/fusion/execute.ts`). A primitive without it may
   * return storage shared with its operands (reshape returns a view) and
   * gets no buffer.
   */
  readonly writesOut?: true;
  /** For elementwise primitives: the name of its row in the backend's scalar-op table (its params are the row's). */
  readonly scalarOp?: ScalarOp;
  /** The forward-mode derivative. */
  readonly jvp: JvpRule<P>;
  /**
   * For primitives whose derivative recomputes their value (a loop): the
   * value and its tangent at once, used instead of the implementation and
   * `jvp` when some tangent is nonzero, so the value is computed once.
   */
  readonly jvpJoint?: (primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[], params: P) => readonly [AnyTensor, AnyTensor | null];
  /** For primitives linear in some inputs: the transpose. */
  readonly transpose?: TransposeRule<P>;
  /** The rule of `vmap`: the primitive on a batch of examples. */
  readonly batch: BatchRule<P>;
}
