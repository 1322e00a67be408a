/**
 * Composition of transformations, as optax's `chain`: each one's updates are
 * the next one's grads, and the state is the tuple of their states.
 * Deliberately left out: named states (optax's `named_chain`).
 */

import type { Tree } from "../core/tree.js";
import { transformation, type StateKind, type StateOf, type Transformation } from "./transformation.js";

/** The tuple of the states of the kinds `Ks` for params `P`. */
export type ChainState<Ks extends readonly StateKind[], P> = { -readonly [I in keyof Ks]: Ks[I] extends StateKind ? StateOf<Ks[I], P> : never };

/** `ChainState` as a type-level function of the params. */
export interface ChainKind<Ks extends readonly StateKind[]> extends StateKind {
  readonly state: ChainState<Ks, this["params"]>;
}

/**
 * The transformations applied in order: `chain(clipByGlobalNorm(1), sgd(...))`
 * clips the grads, then takes an SGD step with them.
 *
 * @example
 * const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 1e-3 }));
 * const state = opt.init(params); // [EmptyState, AdamState<typeof params>]
 */
export function chain<const Ks extends readonly StateKind[]>(...transformations: { readonly [I in keyof Ks]: Transformation<Ks[I]> }): Transformation<ChainKind<Ks>> {
  // each part is a Transformation of its own kind; at run time the kinds do not matter
  const parts: readonly Transformation<StateKind>[] = transformations;
  return transformation<ChainKind<Ks>>(
    (params) => parts.map((t) => t.init(params)),
    (grads, state, params) => {
      const states = state as readonly unknown[]; // the state passed in is one that init built: one entry per transformation
      let updates: Tree = grads;
      const next = parts.map((t, i) => {
        const [u, s] = t.update(updates, states[i], params);
        updates = u;
        return s;
      });
      return [updates, next];
    },
  );
}
