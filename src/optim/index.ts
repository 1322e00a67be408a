/**
 * Optimizers over parameter trees: pure `init` / `update` pairs in optax's
 * style (`transformation.ts`), the optimizers built on them, gradient
 * clipping, composition and learning-rate schedules. Everything is made of
 * ops, so a training step runs eagerly or inside `jit` alike.
 */

export { applyUpdates, type StateKind, type StateOf, type Transformation } from "./transformation.js";
export { sgd, type SgdKind, type SgdOptions, type SgdState } from "./sgd.js";
export { adam, adamw, type AdamKind, type AdamOptions, type AdamState, type AdamWOptions } from "./adam.js";
export { rmsprop, type RmspropKind, type RmspropOptions, type RmspropState } from "./rmsprop.js";
export { clipByGlobalNorm, type EmptyKind, type EmptyState } from "./clip.js";
export { chain, type ChainKind, type ChainState } from "./chain.js";
export { constant, cosineDecay, stepDecay, warmupCosineDecay, type Count, type Schedule } from "./schedule.js";
export type { LearningRate } from "./options.js";
