/**
 * What a group of layers gives the layer laws (`laws/layers.law.test.ts`):
 * for each layer factory of the `layers` namespace, cases of a configured
 * layer with parameters, an input, and an independent naive reference.
 *
 * A case's parameters are a tree of float64 tensors and its input a float64
 * tensor (int32 for an embedding's indices), so that the gradient laws run in
 * float64. The naive reference is written here, loop by loop over plain
 * numbers, without the library's ops: it reads the parameters' and input's
 * `data` and returns the output's shape and values in row-major order.
 */

import type fc from "fast-check";
import type { AnyTensor } from "../../../src/prims/types.js";
import type { Key } from "../../../src/random/key.js";

/** A naive reference's result: a shape and its values in row-major order. */
export interface NaiveOutput {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** One configured layer on one input. */
export interface LayerCase {
  /** The layer's configuration and anything else a failure message needs, e.g. `conv2d(3, 4, 3, stride 2, same)`. */
  readonly detail: string;
  /** The parameters: a tree of float64 tensors (records, arrays, tensors). */
  readonly params: unknown;
  /** The input. */
  readonly x: AnyTensor;
  /** The library's layer applied to `params` and `x` (with any options and state closed over). */
  readonly apply: (params: unknown, x: AnyTensor) => AnyTensor;
  /** The naive reference on the same parameters and input. */
  readonly naive: (params: unknown, x: AnyTensor) => NaiveOutput;
  /** The layer's `init`, for the law that it is deterministic in the key. */
  readonly init: (k: Key) => unknown;
  /** Where the layer is not differentiable in the input (indices), `false`; the parameters are still checked. */
  readonly differentiableInput?: boolean;
}

/** A group's cases, by the name of the layer factory in the `layers` namespace. */
export type LayerCases = Readonly<Record<string, fc.Arbitrary<LayerCase>>>;
