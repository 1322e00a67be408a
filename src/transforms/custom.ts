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
 * reverse mode only. Under a `vmap` that sits inside a derivative (grad of
 * vmap), each sees through the vmap's trace: the rule is applied to the
 * whole batch, the user's functions running under a vmap of their own.
 */

import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/dtype.js";
import { flattenTree, unflattenTree, type Tree, type TreeDef } from "../core/tree.js";
import { moveAxis } from "../prims/batching.js";
import { bind, tracerOf, type Tracer } from "../prims/bind.js";
import { applyCustomLinear } from "../prims/custom.js";
import { zerosLike } from "../prims/lax.js";
import type { AnyTensor, BatchDim } from "../prims/types.js";
import { JvpTrace } from "./jvp.js";
import { BatchTrace, vmapFlat } from "./vmap.js";

/**
 * `x` as a constant for differentiation: its value, without tangents.
 *
 * @example
 * grad((x: Tensor<[]>) => mul(stopGradient(x), x))(x); // x, not 2x
 */
export function stopGradient<S extends Shape, D extends DType>(x: Tensor<S, D>): Tensor<S, D> {
  return withoutTangents(x) as Tensor<S, D>; // a primal has the shape and dtype of the tensor that carried it
}

/** `x` without the tangents of every JVP trace, through the vmaps above them (each batch kept as it is). */
function withoutTangents(x: AnyTensor): AnyTensor {
  const t = tracerOf(x);
  if (t?.trace instanceof JvpTrace) return withoutTangents(t.trace.unpair(x)[0]);
  if (t?.trace instanceof BatchTrace) {
    const [value, dim] = t.trace.unpack(x);
    return t.trace.pack(withoutTangents(value), dim);
  }
  return x;
}

/**
 * When the innermost trace among `leaves` is a vmap's: `call` applied to
 * the batched values (with their batch axes) and its result's leaves packed
 * back into that trace, with their batch on axis 0. A custom rule must see
 * the JVP trace below a vmap (grad of vmap); `call` gives it the whole batch,
 * running the user's functions under a vmap of their own.
 */
function throughBatch(leaves: readonly AnyTensor[], call: (values: readonly AnyTensor[], dims: readonly BatchDim[]) => AnyTensor[]): AnyTensor[] | undefined {
  let top: Tracer | undefined;
  for (const x of leaves) {
    const t = tracerOf(x);
    if (t !== undefined && (top === undefined || t.level > top.level)) top = t;
  }
  const trace = top?.trace;
  if (!(trace instanceof BatchTrace)) return undefined;
  const pairs = leaves.map((x) => trace.unpack(x));
  return call(
    pairs.map(([v]) => v),
    pairs.map(([, d]) => d),
  ).map((y) => trace.pack(y, 0));
}

/** The tensors of `x` when it is a tree of them (else undefined: a residual that is not a tensor). */
function tensorLeaves(x: unknown): { leaves: AnyTensor[]; def: TreeDef } | undefined {
  try {
    return flattenTree(x ?? [], "customVjp residuals");
  } catch (e) {
    if (e instanceof TypeError) return undefined;
    throw e;
  }
}

/** The one tensor of a list of results. */
function single(xs: readonly AnyTensor[]): AnyTensor {
  const [x] = xs;
  if (x === undefined || xs.length !== 1) throw new Error(`customVjp: the function must return one tensor, got ${xs.length}`);
  return x;
}

/** `f` of flat leaves (a tree of structure `def` as its arguments) mapped over the batch axes `dims`, results batched on axis 0. */
function mapped<R extends Tree>(f: (...args: Tree[]) => R, def: TreeDef, dims: readonly BatchDim[], out: { def: TreeDef }): (leaves: readonly AnyTensor[]) => AnyTensor[] {
  return (leaves) =>
    vmapFlat(
      (xs) => {
        const flat = flattenTree(f(...unflattenTree<Tree[]>(def, xs)), "custom rule result");
        out.def = flat.def;
        return flat.leaves;
      },
      leaves,
      dims,
      (n) => new Array<BatchDim>(n).fill(0),
    );
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
    const outShape = { def: flattenTree([]).def };
    const batched = throughBatch(leaves, (values, dims) => {
      const fB = mapped((...xs) => f(...(xs as unknown as Args)), def, dims, outShape); // the leaves of def rebuild f's arguments
      const ruleB = mapped((...xs) => rule(...(xs as [Args, Args])), { kind: "array", children: [def, def] }, [...dims, ...dims], outShape); // primals and tangents, each of f's arguments' tree
      const h = customJvp(
        (...xs: AnyTensor[]) => fB(xs),
        (primals, tangents) => ruleB([...primals, ...tangents]),
      );
      return h(...values);
    });
    if (batched !== undefined) return unflattenTree<R>(outShape.def, batched);
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
    const outShape = { def: flattenTree([]).def };
    const batched = throughBatch(leaves, (values, dims) => {
      const fB = mapped((...xs) => f(...(xs as unknown as Args)), def, dims, outShape); // the leaves of def rebuild f's arguments
      // the residuals that are tensors stay batched on axis 0 between the passes; anything else is one value for all examples
      let rebuild = (_: readonly AnyTensor[]): Res => {
        throw new Error("customVjp: the backward pass ran before the forward pass");
      };
      const fwdB = (xs: readonly AnyTensor[]): AnyTensor[] =>
        vmapFlat(
          (ys) => {
            const [y, residuals] = fwd(...unflattenTree<Args>(def, ys));
            const flat = tensorLeaves(residuals);
            rebuild = flat === undefined ? () => residuals : (rs) => unflattenTree<Res>(flat.def, rs);
            return [y, ...(flat?.leaves ?? [])];
          },
          xs,
          dims,
          (n) => new Array<BatchDim>(n).fill(0),
        );
      const bwdB = (residuals: readonly AnyTensor[], ct: AnyTensor): AnyTensor[] =>
        vmapFlat(
          ([c, ...rs]) => flattenTree(bwd(rebuild(rs), c as R), "customVjp cotangent").leaves, // c is one example of the output's cotangent
          [ct, ...residuals],
          [0, ...residuals.map(() => 0)],
          (n) => new Array<BatchDim>(n).fill(0),
          // an argument shared by every example gets the sum of the examples' cotangents
        ).map((c, i) => {
          const d = dims[i] ?? null;
          return d === null ? bind("reduce_sum", [c], { axes: [0] }) : moveAxis(c, 0, d);
        });
      const h = customVjp(
        (...xs: AnyTensor[]) => single(fB(xs)),
        (...xs: AnyTensor[]) => {
          const [y, ...residuals] = fwdB(xs);
          return [single(y === undefined ? [] : [y]), residuals] as const;
        },
        (residuals: readonly AnyTensor[], ct: AnyTensor) => bwdB(residuals, ct),
      );
      return [h(...values)];
    });
    if (batched !== undefined) return single(batched) as R; // f's one tensor, packed back: an example of it has R's shape and dtype
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
