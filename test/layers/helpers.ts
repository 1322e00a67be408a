/** Test helpers for the layer tests: tensors from plain arrays. */

import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { fromArray } from "../../src/core/create.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";

/** The float32 tensor of shape `shape` holding `data`; throws on a size mismatch. */
export function make<const S extends Shape>(data: ArrayLike<number>, shape: S): Tensor<[...S]> {
  return pipe(
    fromArray(data, shape),
    E.getOrElseW((e) => {
      throw e;
    }),
  );
}

/** The largest absolute difference between two arrays of the same length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expectSameLength(a, b);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

function expectSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
}
