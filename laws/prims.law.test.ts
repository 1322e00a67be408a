/**
 * Laws over the primitive registry. `cases` has one generator per primitive,
 * typed by the registry's names, so a new primitive does not compile until it
 * has one; then every law here covers it:
 *  - the implementation's output has the shape and dtype its shape rule gives;
 *  - the traced program type-checks and the jitted run equals the eager one.
 * Inputs are float64 so that nothing is lost to rounding; sizes include 0 and 1.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { DType } from "../src/core/dtype.js";
import { typecheckProgram } from "../src/ir/program.js";
import { primitives } from "../src/prims/registry.js";
import type { PrimName, PrimParams } from "../src/prims/params.js";
import type { AnyTensor } from "../src/prims/types.js";
import { jit } from "../src/transforms/jit.js";
import { bind } from "../src/prims/index.js";
import { traceProgram } from "../src/transforms/trace.js";
import { cases, type Case } from "./support/prim-cases.js";

const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 300 : 40;

/** Equal elements, NaN equal to NaN. */
function sameValues(a: AnyTensor, b: AnyTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  return Array.from(a.data).every((v, i) => Object.is(v, b.data[i]) || v === b.data[i]);
}

describe("every primitive in the registry", () => {
  for (const name of Object.keys(cases) as PrimName[]) {
    const arb = cases[name] as fc.Arbitrary<Case<PrimName>>; // each entry generates cases for its own primitive
    const rule = primitives[name] as { shape: (i: readonly { shape: readonly number[]; dtype: DType }[], p: unknown) => { shape: readonly number[]; dtype: DType } };
    test(`${name}: the output has the shape and dtype of its shape rule, and jit equals eager`, () => {
      fc.assert(
        fc.property(arb, ({ inputs, params }) => {
          const aval = rule.shape(inputs, params);
          const eager = bind(name, inputs, params as PrimParams[typeof name]);
          expect([eager.shape, eager.dtype]).toEqual([[...aval.shape], aval.dtype]);
          const program = traceProgram((xs) => [bind(name, xs, params as PrimParams[typeof name])], inputs);
          expect(typecheckProgram(program)).toEqual([]);
          const jitted = jit((...xs: AnyTensor[]) => bind(name, xs, params as PrimParams[typeof name]))(...inputs);
          expect(sameValues(jitted, eager)).toBe(true);
        }),
        { numRuns },
      );
    });
  }
});
