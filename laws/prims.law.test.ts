/**
 * Laws over the primitive registry. `cases` has one generator per primitive,
 * typed by the registry's names, so a new primitive does not compile until it
 * has one; then every law here covers it:
 *  - the implementation's output has the shape and dtype its shape rule gives;
 *  - the traced program type-checks and the jitted run equals the eager one;
 *  - a primitive that declares `writesOut`, handed an output buffer full of
 *    garbage (what a compiled program's reused buffer may hold), stores its
 *    result there and computes what it computes into fresh storage, in
 *    float64 and in float32 (where the WebAssembly kernels run), and, for
 *    the convolutions, pools and matmul, at the CNN bench's sizes too (the
 *    kernels choose their algorithm by size).
 * Inputs are float64 so that nothing is lost to rounding; sizes include 0 and 1.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { allocate, type DType, type Storage } from "../src/core/dtype.js";
import { shapeSize } from "../src/core/shape.js";
import { Tensor } from "../src/core/tensor.js";
import { typecheckProgram } from "../src/ir/program.js";
import { primitives } from "../src/prims/registry.js";
import type { ConvParams, PoolParams, PrimName, PrimParams } from "../src/prims/params.js";
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

/** A primitive's implementation, taking the output buffer of `writesOut`. */
const implOf = (name: PrimName) => primitives[name].impl as (inputs: readonly AnyTensor[], params: unknown, out?: Storage<DType>) => AnyTensor; // the caller passes the primitive's own params

/** Expects `name` on `operands` into a buffer of garbage to store there what it computes into fresh storage. */
function expectSameIntoGarbage(name: PrimName, operands: readonly AnyTensor[], params: unknown): void {
  const impl = implOf(name);
  const aval = (primitives[name].shape as (i: readonly AnyTensor[], p: unknown) => { shape: readonly number[]; dtype: DType })(operands, params); // as above
  const fresh = impl(operands, params);
  const out = garbage(aval.dtype, shapeSize(aval.shape));
  const reused = impl(operands, params, out);
  expect(reused.data).toBe(out);
  expect(sameValues(reused, fresh), name).toBe(true);
}

/** A float32 tensor of `shape` with values from `seed`, a quarter of them repeated (ties for the pools). */
function float32Tensor(shape: readonly number[], seed: number): AnyTensor {
  const data = Float32Array.from({ length: shapeSize(shape) }, (_, i) => (i % 4 === 3 ? 0.25 : Math.sin(i * 12.9898 + seed) * 2));
  return new Tensor(shape, "float32", data);
}

describe("primitives into reused buffers at the CNN bench's sizes", () => {
  const same: ConvParams = { stride: [1, 1], dilation: [1, 1], padding: [[1, 1], [1, 1]], groups: 1 };
  const pool: PoolParams = { window: [2, 2], stride: [2, 2], padding: [[0, 0], [0, 0]] };
  for (const [inC, outC, size] of [[1, 32, 28], [32, 64, 14]] as const) {
    test(`conv ${size}x${size}x${inC} -> ${outC}, its gradients and its pool`, () => {
      const x = float32Tensor([4, size, size, inC], 1);
      const w = float32Tensor([3, 3, inC, outC], 2);
      const dy = float32Tensor([4, size, size, outC], 3);
      expectSameIntoGarbage("conv2d", [x, w], same);
      expectSameIntoGarbage("conv2d_input_grad", [dy, w], { ...same, inShape: x.shape });
      expectSameIntoGarbage("conv2d_filter_grad", [x, dy], { ...same, filterShape: w.shape });
      expectSameIntoGarbage("max_pool2d", [dy], pool);
      expectSameIntoGarbage("max_pool2d_grad", [dy, float32Tensor([4, size / 2, size / 2, outC], 4)], pool);
    });
  }
  test("matmul 128 x 784 x 512 and its transposed operands", () => {
    const a = float32Tensor([128, 784], 5);
    const b = float32Tensor([784, 512], 6);
    expectSameIntoGarbage("dot_general", [a, b], { transA: false, transB: false });
    expectSameIntoGarbage("dot_general", [a, float32Tensor([128, 512], 7)], { transA: true, transB: false });
  });
});

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
    const impl = implOf(name);
    test(`${name}: into a reused output buffer holding garbage, the implementation computes what it computes into fresh storage`, () => {
      fc.assert(
        fc.property(arb, ({ inputs, params }) => {
          for (const operands of [inputs, inputs.map(toFloat32)]) expectSameIntoGarbage(name, operands, params);
        }),
        { numRuns },
      );
    });
  }
});
