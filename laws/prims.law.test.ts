/**
 * Laws over the primitive registry. `cases` has one generator per primitive,
 * typed by the registry's names, so a new primitive does not compile until it
 * has one; then every law here covers it:
 *  - the implementation's output has the shape and dtype its shape rule gives;
 *  - the traced program type-checks and the jitted run equals the eager one;
 *  - a primitive that declares `writesOut`, handed an output buffer full of
 *    garbage (what a compiled program's reused buffer may hold), stores its
 *    result there and computes what it computes into fresh storage, in
 *    float64 and in float32 (where the WebAssembly kernels run).
 * Inputs are float64 so that nothing is lost to rounding; sizes include 0 and 1.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { allocate, type DType, type Storage } from "../src/core/dtype.js";
import { shapeSize } from "../src/core/shape.js";
import { Tensor } from "../src/core/tensor.js";
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

/** `x` with float64 elements rounded to float32 (other dtypes as they are). */
const toFloat32 = (x: AnyTensor): AnyTensor => (x.dtype === "float64" ? new Tensor(x.shape, "float32", Float32Array.from(x.data)) : x);

/** Storage of `dtype` and `size` holding garbage: NaN, a large value and -0 in turn (7, -1 and 1 for integers and bools). */
function garbage(dtype: DType, size: number): Storage<DType> {
  const out = allocate(dtype, size);
  const pattern = dtype === "float32" || dtype === "float64" ? [NaN, 1e30, -0] : [7, -1, 1];
  for (let i = 0; i < size; i++) out[i] = pattern[i % 3] ?? 0;
  return out;
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
    if (primitives[name].writesOut !== true) continue;
    const impl = primitives[name].impl as (inputs: readonly AnyTensor[], params: unknown, out?: Storage<DType>) => AnyTensor; // the params of a case are its primitive's
    test(`${name}: into a reused output buffer holding garbage, the implementation computes what it computes into fresh storage`, () => {
      fc.assert(
        fc.property(arb, ({ inputs, params }) => {
          for (const operands of [inputs, inputs.map(toFloat32)]) {
            const aval = rule.shape(operands, params);
            const fresh = impl(operands, params);
            const out = garbage(aval.dtype, shapeSize(aval.shape));
            const reused = impl(operands, params, out);
            expect(reused.data).toBe(out);
            expect(sameValues(reused, fresh)).toBe(true);
          }
        }),
        { numRuns },
      );
    });
  }
});
