/**
 * Law of the folded bias add (`foldBiasAdds` in `ir/fusion/fuse.ts`): a
 * compiled `add(dot_general(a, b), broadcast(bias))`, folded into the
 * product's epilogue or not, equals `interpretProgram` (the product, then a
 * separate float32 add) bit for bit, on random sizes (from products too small
 * for the WebAssembly kernel, which are not folded, to ones deeper than its
 * k block), batch dims, operand transpositions and either operand order, with
 * values that include 0, -0, infinities and NaN in the bias.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { compileProgram } from "../src/ir/fusion/execute.js";
import { interpretProgram } from "../src/ir/interpret.js";
import { bind } from "../src/prims/index.js";
import { traceProgram } from "../src/transforms/trace.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";

const value = fc.oneof(fc.float({ min: -4, max: 4, noNaN: true }), fc.constantFrom(0, -0, 1.5));
const biasValue = fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN) });

const dense = fc
  .record({
    batch: fc.constantFrom<readonly number[]>([], [2]),
    m: fc.integer({ min: 1, max: 40 }),
    k: fc.integer({ min: 1, max: 300 }),
    n: fc.integer({ min: 1, max: 40 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    biasFirst: fc.boolean(),
    seed: fc.integer(),
  })
  .chain((c) => fc.tuple(fc.constant(c), fc.array(biasValue, { minLength: c.n, maxLength: c.n })));

/** `count` float32 values in [-2, 2) from `seed`, some exactly 0 or -0. */
function values(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s % 97 === 0 ? 0 : s % 89 === 0 ? -0 : (s / 2 ** 32) * 4 - 2;
    return r;
  });
}

describe("a bias added to a product's columns", () => {
  test.prop([dense], { numRuns: heavy ? 300 : 40 })("compiles to what the product and a separate add compute, bit for bit", ([c, bias]) => {
    const { batch, m, k, n, transA, transB, biasFirst, seed } = c;
    const aShape = [...batch, ...(transA ? [k, m] : [m, k])];
    const bShape = [...batch, ...(transB ? [n, k] : [k, n])];
    const out = [...batch, m, n];
    const size = (s: readonly number[]): number => s.reduce((x, d) => x * d, 1);
    const p = traceProgram(
      ([a, b, v]) => {
        if (a === undefined || b === undefined || v === undefined) return [];
        const product = bind("dot_general", [a, b], { transA, transB });
        const spread = bind("broadcast", [v], { shape: out, dims: [out.length - 1] });
        return [bind("add", biasFirst ? [spread, product] : [product, spread], {})];
      },
      [
        { shape: aShape, dtype: "float32" },
        { shape: bShape, dtype: "float32" },
        { shape: [n], dtype: "float32" },
      ],
    );
    const inputs = [new Tensor(aShape, "float32", values(size(aShape), seed)), new Tensor(bShape, "float32", values(size(bShape), seed + 1)), new Tensor([n], "float32", Float32Array.from(bias))];
    const want = [...(interpretProgram(p, inputs)[0]?.data ?? [])];
    const got = [...(compileProgram(p)(inputs)[0]?.data ?? [])];
    expect(got.map((x) => (Number.isNaN(x) ? "NaN" : x))).toEqual(want.map((x) => (Number.isNaN(x) ? "NaN" : x)));
    expect(got.every((x, i) => Number.isNaN(x) || Object.is(x, want[i]))).toBe(true);
  });
});
