/**
 * Leafwise maps over trees of the same structure: the run-time machinery the
 * transformations share (optax's `jax.tree.map`).
 *
 * The leaves must be float tensors (params, grads, moments); an int32 or bool
 * leaf is an error naming its path, since a gradient step on it has no
 * meaning. Deliberately left out: typed overloads (the public types are
 * asserted once, in `transformation.ts`).
 */

import { isFloatDType } from "../core/dtype.js";
import { zeros } from "../core/create.js";
import type { Shape } from "../core/shape.js";
import { flattenTree, treeDefKey, unflattenTree, type Tree } from "../core/tree.js";
import type { Tensor } from "../core/tensor.js";
import type { AnyTensor } from "../prims/types.js";
import { cast, div, mul } from "../ops/elementwise.js";
import type { FloatDType } from "../ops/types.js";

/** A float leaf of a params tree. */
export type Leaf = Tensor<Shape, FloatDType>;

function isFloatLeaf(x: AnyTensor): x is Leaf {
  return isFloatDType(x.dtype);
}

/** The float leaves of `tree`, in `flattenTree`'s order. */
export function floatLeaves(op: string, tree: unknown): Leaf[] {
  return flattenTree(tree, op).leaves.map((x, i) => {
    if (!isFloatLeaf(x)) throw new TypeError(`${op}: leaf ${i} is ${x.dtype}, not a float tensor`);
    return x;
  });
}

/**
 * The tree of `f` applied to the leaves of `trees` in step; every tree must
 * have the structure and the leaf shapes of the first.
 */
export function mapLeaves(op: string, trees: readonly [unknown, ...unknown[]], f: (...leaves: Leaf[]) => Leaf): Tree {
  const [first, ...rest] = trees;
  const { def } = flattenTree(first, op);
  const key = treeDefKey(def);
  const columns = trees.map((t) => floatLeaves(op, t));
  rest.forEach((t, i) => {
    if (treeDefKey(flattenTree(t, op).def) !== key) throw new TypeError(`${op}: tree ${i + 1} has another structure than tree 0`);
  });
  const leaves = (columns[0] ?? []).map((leaf, j) => {
    const row = columns.map((c) => c[j] ?? leaf);
    row.forEach((x, i) => {
      if (x.shape.join(",") !== leaf.shape.join(",") || x.dtype !== leaf.dtype) {
        throw new TypeError(`${op}: leaf ${j} of tree ${i} is ${x.dtype}[${x.shape.join(", ")}], not ${leaf.dtype}[${leaf.shape.join(", ")}]`);
      }
    });
    return f(...row);
  });
  return unflattenTree<Tree>(def, leaves);
}

/** A float64 scalar from the step count (a learning rate, a bias correction), or a plain number. */
export type ScalarLike = number | Tensor<[], "float64">;

/**
 * The casts of float64 scalars made so far, by dtype: a tree's leaves of one
 * dtype share one cast of a learning rate or a bias correction, so that a
 * jitted update computes it once, not once per leaf.
 */
const casts = new WeakMap<Tensor<[], "float64">, Map<FloatDType, Tensor<[], FloatDType>>>();

/** `s` in `dtype`: the number itself, or the scalar tensor cast once per dtype. */
function scalarIn(s: ScalarLike, dtype: FloatDType): number | Tensor<[], FloatDType> {
  if (typeof s === "number") return s;
  let byDType = casts.get(s);
  if (byDType === undefined) casts.set(s, (byDType = new Map()));
  let cast1 = byDType.get(dtype);
  if (cast1 === undefined) byDType.set(dtype, (cast1 = cast(s, dtype)));
  return cast1;
}

/** `x * s` with `s` in `x`'s dtype (a float64 scalar is cast down first). */
export function scaleLeaf(x: Leaf, s: ScalarLike): Leaf {
  return mul(x, scalarIn(s, x.dtype));
}

/** `x / s` with `s` in `x`'s dtype. */
export function divideLeaf(x: Leaf, s: ScalarLike): Leaf {
  return div(x, scalarIn(s, x.dtype));
}

/** A zero tensor of `x`'s shape and dtype. */
export function zerosLike(x: Leaf): Leaf {
  return zeros(x.shape, x.dtype);
}
