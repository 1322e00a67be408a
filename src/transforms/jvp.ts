/**
 * Forward mode: `jvp(f, primals, tangents)` pushes tangents through `f`.
 *
 * A `JvpTrace` carries a (primal, tangent) pair on each tensor it follows.
 * For every primitive it computes the primal result with `bind` (so the
 * primal itself may be traced by an enclosing transform) and the tangent with
 * the primitive's JVP rule. A tangent that is a symbolic zero (`null`) costs
 * nothing: a value whose tangent is zero is returned as a plain tensor, and
 * rules skip zero inputs. Autodidax's JVPTrace is the model.
 */

import { isFloatDType, type DType } from "../core/dtype.js";
import { formatShape, sameShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { bind, Trace, withTrace, type Tracer } from "../prims/bind.js";
import { zerosLike } from "../prims/lax.js";
import { primitives } from "../prims/registry.js";
import type { PrimName, PrimParams } from "../prims/params.js";
import type { AnyTensor, JvpRule } from "../prims/types.js";

/** A primitive's joint rule: its value and tangent at once (see `Primitive.jvpJoint`). */
type JointJvpRule<P> = (primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[], params: P) => readonly [AnyTensor, AnyTensor | null];

interface JvpTracer extends Tracer {
  readonly primal: AnyTensor;
  readonly tangent: AnyTensor | null;
}

/** The trace of forward-mode differentiation. */
export class JvpTrace extends Trace {
  /** A tensor that carries `primal` with `tangent` (`primal` itself for a zero tangent). */
  pair(primal: AnyTensor, tangent: AnyTensor | null): AnyTensor {
    if (tangent === null) return primal;
    const tracer: JvpTracer = { level: this.level, trace: this, primal, tangent };
    return new Tensor(primal.shape, primal.dtype, undefined, tracer);
  }

  /** The primal and tangent of `x` as this trace sees it. */
  unpair(x: AnyTensor): [AnyTensor, AnyTensor | null] {
    const t = this.own<JvpTracer>(x);
    return t === undefined ? [x, null] : [t.primal, t.tangent];
  }

  process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: PrimParams[K]): AnyTensor {
    const pairs = inputs.map((x) => this.unpair(x));
    const primals = pairs.map(([p]) => p);
    const tangents = pairs.map(([, t]) => t);
    const rule = primitives[prim] as { jvp: JvpRule<PrimParams[K]>; jvpJoint?: JointJvpRule<PrimParams[K]> }; // primitives[K] takes PrimParams[K]
    if (rule.jvpJoint !== undefined && tangents.some((t) => t !== null)) return this.pair(...rule.jvpJoint(primals, tangents, params));
    const out = bind(prim, primals, params);
    return this.pair(out, rule.jvp(primals, tangents, params, out));
  }
}


/**
 * Runs `f` under a new JVP trace on tensors carrying the given tangents
 * (`null` for none) and returns the output leaves' primals and tangents.
 */
export function jvpFlat(
  f: (inputs: readonly AnyTensor[]) => readonly AnyTensor[],
  primals: readonly AnyTensor[],
  tangents: readonly (AnyTensor | null)[],
): { primals: AnyTensor[]; tangents: (AnyTensor | null)[] } {
  return withTrace(
    (level) => new JvpTrace(level),
    (trace) => {
      const outs = f(primals.map((x, i) => trace.pair(x, tangents[i] ?? null)));
      const pairs = outs.map((o) => trace.unpair(o));
      return { primals: pairs.map(([p]) => p), tangents: pairs.map(([, t]) => t) };
    },
  );
}

function checkTangents(primals: readonly AnyTensor[], tangents: readonly AnyTensor[]): void {
  if (tangents.length !== primals.length) throw new Error(`jvp: ${primals.length} primals but ${tangents.length} tangents`);
  primals.forEach((x, i) => {
    const t = tangents[i];
    if (t === undefined || !sameShape(x.shape, t.shape) || t.dtype !== x.dtype) {
      throw new Error(`jvp: tangent ${i} must be ${x.dtype}${formatShape(x.shape)} like its primal, got ${t === undefined ? "nothing" : `${t.dtype}${formatShape(t.shape)}`}`);
    }
  });
}

/**
 * The value of `f` at `primals` and its directional derivative along
 * `tangents`, which have the primals' types, shape for shape.
 *
 * @example
 * const [y, dy] = jvp((x: Tensor<[3]>) => exp(x), [x], [ones([3])]); // dy = exp(x)
 */
export function jvp<Args extends readonly Tree[], R extends Tree>(f: (...args: Args) => R, primals: Args, tangents: NoInfer<Args>): [R, R] {
  const { leaves, def } = flattenTree(primals, "jvp primal");
  const { leaves: tangentLeaves } = flattenTree(tangents, "jvp tangent");
  checkTangents(leaves, tangentLeaves);
  let outDef = flattenTree([]).def;
  const out = jvpFlat(
    (inputs) => {
      const flat = flattenTree(f(...unflattenTree<Args>(def, inputs)), "jvp result");
      outDef = flat.def;
      return flat.leaves;
    },
    leaves,
    tangentLeaves.map((t, i) => (isFloatDType(leaves[i]?.dtype ?? "bool") ? t : null)),
  );
  const tangentOut = out.tangents.map((t, i) => {
    const p = out.primals[i];
    if (p === undefined) throw new Error("jvp: missing output");
    return t ?? zerosLike(p);
  });
  return [unflattenTree<R>(outDef, out.primals), unflattenTree<R>(outDef, tangentOut)];
}
