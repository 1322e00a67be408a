/**
 * Gradient transformations: the pure `init` / `update` pairs that every
 * optimizer, clipper and chain in this folder is.
 *
 * The idea and the sign convention are optax's (`GradientTransformation`):
 * `update` turns gradients into updates that `applyUpdates` adds to the
 * params, so a descent step comes out as `-learningRate * ...`. A state is a
 * tree too, so it passes through `jit` and `grad` like the params do.
 *
 * The state's type depends on the params' type, which TypeScript cannot
 * abstract over directly; each transformation names a `StateKind`, a
 * type-level function from the params tree `P` to its state (the "this-type"
 * encoding of higher-kinded types). Deliberately left out: optax's
 * `extra_args`, masked and multi-transform wrappers, and in-place donation.
 */

import type { Tree } from "../core/tree.js";
import { add } from "../ops/elementwise.js";
import { mapLeaves } from "./tree-map.js";

/**
 * A type-level function from a params tree to a state: an interface that
 * extends this one and computes `state` from `this["params"]`.
 *
 * @example
 * interface TraceKind extends StateKind { readonly state: { trace: this["params"] } }
 */
export interface StateKind {
  readonly params: unknown;
  readonly state: unknown;
}

/**
 * The state that the transformations of kind `K` keep for params of type `P`.
 *
 * @example
 * type S = StateOf<AdamKind, { w: Tensor<[3]> }>; // AdamState<{ w: Tensor<[3]> }>
 */
export type StateOf<K extends StateKind, P> = (K & { readonly params: P })["state"];

/**
 * A pure gradient transformation: `init(params)` builds the state;
 * `update(grads, state, params)` returns the updates (a tree of the params'
 * type: same structure, shapes and dtypes) and the next state. The grads and
 * the state must have the params' type; anything else is a compile error.
 *
 * @example
 * const opt = sgd({ learningRate: 0.1 });
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params);
 * params = applyUpdates(params, updates);
 */
export interface Transformation<K extends StateKind> {
  init<P extends Tree>(params: P): StateOf<K, P>;
  update<P extends Tree>(grads: NoInfer<P>, state: NoInfer<StateOf<K, P>>, params: P): [updates: P, state: StateOf<K, P>];
}

/**
 * Builds a `Transformation` from its untyped run-time pair.
 * Internal: each transformation checks its own state at run time only by its
 * structure, so the two functions here are where the types are asserted.
 */
export function transformation<K extends StateKind>(
  init: (params: Tree) => unknown,
  update: (grads: Tree, state: unknown, params: Tree) => readonly [Tree, unknown],
): Transformation<K> {
  return {
    // the state that `init` builds from params of type P is, leaf for leaf, StateOf<K, P>
    init: <P extends Tree>(params: P) => init(params) as StateOf<K, P>,
    update: <P extends Tree>(grads: P, state: StateOf<K, P>, params: P): [P, StateOf<K, P>] => {
      const [updates, next] = update(grads, state, params);
      // updates are built by mapping over the params' leaves (same structure, shapes, dtypes): a P;
      // the next state has the structure of the state passed in: a StateOf<K, P>
      return [updates as P, next as StateOf<K, P>];
    },
  };
}

/**
 * `params + updates`, leaf by leaf: the step that follows an `update`.
 *
 * @example
 * applyUpdates({ w: tensor([1, 2]) }, { w: tensor([0.5, -1]) }); // { w: [1.5, 1] }
 */
export function applyUpdates<P extends Tree>(params: P, updates: NoInfer<P>): P {
  // mapLeaves keeps the structure, shapes and dtypes of `params`: the result is a P
  return mapLeaves("applyUpdates", [params, updates], (p, u) => add(p, u)) as P;
}
