/**
 * `stopGradient` and user-defined derivative rules (`customJvp`, `customVjp`), for functions whose derivative should be computed some other
 * way than by differentiating their implementation (numerically delicate
 * functions, straight-through estimators, gradient clipping).
 *
 * `stopGradient(x)` is `x` with every forward-mode tangent removed, so no
 * derivative flows through it. A `customJvp` function, seen by a JVP trace,
 * runs its implementation on the primals and the rule on the tangents; the
 * rule must be linear in the tangents (it is transposed for reverse mode).
 * A `customVjp` function, when linearized, records one `custom_linear` step
 * whose transpose is the user's backward function; like JAX's, it supports
 * reverse mode only.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/dtype.js";
import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { tracerOf } from "../prims/bind.js";
import { applyCustomLinear } from "../prims/custom.js";
import { zerosLike } from "../prims/lax.js";
import type { AnyTensor } from "../prims/types.js";
import { JvpTrace } from "./jvp.js";

/**
 * `x` as a constant for differentiation: its value, without tangents.
 *
 * @example
 * grad((x: Tensor<[]>) => mul(stopGradient(x), x))(x); // x, not 2x
 */
export function stopGradient<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
  let y: AnyTensor = x;
  for (let t = tracerOf(y); t !== undefined && t.trace instanceof JvpTrace; t = tracerOf(y)) y = t.trace.unpair(y)[0];
  return y as Tensor<S, D>; // a primal has the shape and dtype of the tensor that carried it
}

/** The innermost JVP trace among the leaves, which a custom rule answers to. */
function topJvpTrace(leaves: readonly AnyTensor[]): JvpTrace | undefined {
  let top: JvpTrace | undefined;
  for (const x of leaves) {
    const t = tracerOf(x);
    if (t !== undefined && t.trace instanceof JvpTrace && (top === undefined || t.level > top.level)) top = t.trace;
  }
  return top;
}

/**
 * `f` with the JVP rule `rule`: given the primals and their tangents (zeros
 * where there are none), the output's tangent, linear in the tangents. The
 * rule's signature is checked against `f`'s: it takes `f`'s arguments twice
 * and returns `f`'s result type.
 *
 * @example
 * const safeLog = customJvp((x: Tensor<[3]>) => log(x), ([x], [dx]) => div(dx, maximum(x, 1e-12)));
 */
export function customJvp<Args extends readonly Tree[], R extends Tree>(
  f: (...args: Args) => R,
  rule: (primals: Args, tangents: Args) => R,
): (...args: Args) => R {
  const g = (...args: Args): R => {
    const { leaves, def } = flattenTree(args, "customJvp argument");
    const trace = topJvpTrace(leaves);
    if (trace === undefined) return f(...args);
    const pairs = leaves.map((x) => trace.unpair(x));
    const primals = unflattenTree<Args>(def, pairs.map(([p]) => p));
    const tangents = unflattenTree<Args>(def, pairs.map(([p, t]) => t ?? zerosLike(p)));
    const out = flattenTree(g(...primals), "customJvp result");
    const tangentOut = flattenTree(rule(primals, tangents), "customJvp rule result");
    if (tangentOut.leaves.length !== out.leaves.length) throw new Error("customJvp: the rule's result must have the function's structure");
    return unflattenTree<R>(
      out.def,
      out.leaves.map((y, i) => {
        const t = tangentOut.leaves[i];
        if (t === undefined || t.shape.join() !== y.shape.join() || t.dtype !== y.dtype) {
          throw new Error(`customJvp: tangent ${i} must be ${y.dtype}[${y.shape.join(", ")}] like the output`);
        }
        return trace.pair(y, t);
      }),
    );
  };
  return g;
}

/**
 * `f` with a user-given backward pass: `fwd` returns `f`'s value and the
 * residuals the backward pass needs; `bwd` maps the residuals and the
 * output's cotangent to one cotangent per argument (of the arguments' types).
 * The value must be one tensor. Reverse mode only (`grad`, `vjp`).
 *
 * @example
 * const clipGrad = customVjp(
 *   (x: Tensor<[3]>) => x,
 *   (x) => [x, null],
 *   (_, ct) => [clip(ct, -1, 1)],
 * );
 */
export function customVjp<Args extends readonly Tree[], R extends Tensor<Shape, DType>, Res>(
  f: (...args: Args) => R,
  fwd: (...args: Args) => readonly [R, Res],
  bwd: (residuals: Res, ct: R) => Args,
): (...args: Args) => R {
  const g = (...args: Args): R => {
    const { leaves, def } = flattenTree(args, "customVjp argument");
    const trace = topJvpTrace(leaves);
    if (trace === undefined) return f(...args);
    const pairs = leaves.map((x) => trace.unpair(x));
    const primals = unflattenTree<Args>(def, pairs.map(([p]) => p));
    const [out, residuals] = fwd(...primals);
    const tangents = pairs.map(([p, t]) => t ?? zerosLike(p));
    const tangentOut = applyCustomLinear(tangents, {
      name: "customVjp",
      out: { shape: out.shape, dtype: out.dtype },
      forward: undefined,
      transpose: (ct) => flattenTree(bwd(residuals, ct as R), "customVjp cotangent").leaves, // ct has the output's type
    });
    return trace.pair(out, tangentOut) as R; // the pair has out's shape and dtype
  };
  return g;
}
