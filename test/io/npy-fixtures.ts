/**
 * The NumPy-made fixtures of `test/fixtures/npy/` (written by its `make.py`)
 * and what each must load as, from its `expected.json`.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DType } from "../../src/core/dtype.js";
import type { Tensor } from "../../src/core/tensor.js";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "npy");

/** One array as NumPy wrote it: the dtype it loads as, its shape and its values in row-major order. */
export interface Expected {
  readonly dtype: DType;
  readonly shape: number[];
  readonly values: (number | boolean | string)[];
}

/** What each fixture file must give: an array, an error's text, or (for an archive) arrays by name. */
export const expected = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8")) as {
  // Sound: the file is written by make.py in exactly this shape.
  readonly [file: string]: Expected | { readonly error: string } | { readonly [name: string]: Expected };
};

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** A JSON value back as the number it stands for ("NaN", "Infinity", "-Infinity" included). */
function numberOf(v: number | boolean | string): number | boolean {
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  return typeof v === "string" ? Number(v) : v;
}

/** The expected values as the tensor stores them (float32 rounded, bools as 0/1). */
export function storedValues(e: Expected): number[] {
  return e.values.map((v) => {
    const x = numberOf(v);
    if (typeof x === "boolean") return x ? 1 : 0;
    return e.dtype === "float32" ? Math.fround(x) : x;
  });
}

/** The tensor's dtype, shape and values (-0 and NaN compared exactly by toEqual's Object.is). */
export function contentsOf(x: Tensor<number[], DType>): { dtype: DType; shape: number[]; values: number[] } {
  return { dtype: x.dtype, shape: [...x.shape], values: [...x.data] };
}
