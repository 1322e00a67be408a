/**
 * The primitives floor as the floors above use it: `bind` with every
 * primitive installed, the registry, and the types that name primitives.
 *
 * Importing `bind` from here (not from `bind.ts`) loads the registry, which
 * installs the primitives that eager evaluation runs; so an op module works
 * on its own, without any transform having been imported first. Left out:
 * the trace stack's machinery (`Trace`, `withTrace`), which only transforms
 * use, from `bind.ts` itself.
 */

export { bind } from "./bind.js";
export { primitives, primNames } from "./registry.js";
export type { PrimName, PrimParams } from "./params.js";
export type { AnyTensor, Aval } from "./types.js";
