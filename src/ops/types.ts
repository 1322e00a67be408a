/**
 * Types shared by the public ops: dtype classes and the result of a rule.
 */

import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";

/** The float dtypes (defined beside `isFloatDType` in `core/dtype.ts`). */
export type { FloatDType } from "../core/dtype.js";

/** The dtypes that hold numbers (not bool). */
export type NumericDType = "float32" | "float64" | "int32";

/**
 * The shape a type-level rule computed, for a return type. A rule that failed
 * gives a `ShapeError`, which a `Checked` argument already reports; the
 * result type is then `never`.
 *
 * NOTE: written with `infer S extends Shape` rather than `R extends Shape ? R`:
 * the plain form makes TypeScript evaluate the rule on its constraint to check
 * `Tensor<ShapeOf<...>>`, which runs too deep for rules such as `FlattenShape`.
 */
export type ShapeOf<R> = R extends infer S extends Shape ? S : never;

