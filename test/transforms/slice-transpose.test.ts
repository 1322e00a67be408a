import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Tensor } from "../../src/core/tensor.js";
import { sum } from "../../src/ops/reduce.js";
import type { SliceSpec } from "../../src/core/rules/slice.js";
import { tanh } from "../../src/ops/activations.js";
import { slice } from "../../src/ops/shape.js";
import { add, mul } from "../../src/ops/elementwise.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";

type M = Tensor<[number, number], "float64">;

/** A window `[start, start + size)` along one axis of a `[rows, cols]` matrix, or the whole matrix strided. */
interface Window {
  readonly axis: 0 | 1;
  readonly start: number;
  readonly size: number;
  readonly step: number;
}

const specOf = (w: Window): SliceSpec[] => {
  const range = { start: w.start, stop: w.start + w.step * (w.size - 1) + 1, step: w.step };
  return w.axis === 0 ? [range, null] : [null, range];
};

/** The gradient of `sum_i sum(c_i * x[window_i])` by loops: each window adds `c_i` where it reads. */
function naiveGradient(rows: number, cols: number, windows: readonly Window[]): number[] {
  const g = new Array<number>(rows * cols).fill(0);
  windows.forEach((w, i) => {
    for (let k = 0; k < w.size; k++) {
      const at = w.start + k * w.step;
      for (let o = 0; o < (w.axis === 0 ? cols : rows); o++) {
        const [r, c] = w.axis === 0 ? [at, o] : [o, at];
        g[r * cols + c] = (g[r * cols + c] ?? 0) + (i + 1);
      }
    }
  });
  return g;
}

const windowIn = (rows: number, cols: number): fc.Arbitrary<Window> =>
  fc.constantFrom<0 | 1>(0, 1).chain((axis) => {
    const d = axis === 0 ? rows : cols;
    return fc.record({ start: fc.integer({ min: 0, max: d - 1 }), step: fc.constantFrom(1, 1, 1, 2) }).chain(({ start, step }) =>
      fc.integer({ min: 1, max: Math.max(1, Math.floor((d - 1 - start) / step) + 1) }).map((size) => ({ axis, start, size, step })),
    );
  });

describe("the transpose of many slices of one variable", () => {
  test("equals the sum of each slice's scatter, for any windows (overlapping, gapped, strided, on two axes)", () => {
    fc.assert(
      fc.property(
        fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 6 }) }).chain(({ rows, cols }) =>
          fc.record({ rows: fc.constant(rows), cols: fc.constant(cols), windows: fc.array(windowIn(rows, cols), { minLength: 1, maxLength: 6 }) }),
        ),
        ({ rows, cols, windows }) => {
          const x = new Tensor([rows, cols], "float64", Float64Array.from({ length: rows * cols }, (_, i) => i / 7));
          const f = (m: M): Tensor<[], "float64"> =>
            windows.map((w, i) => sum(mul(slice(m, specOf(w)) as M, i + 1))).reduce((a, b) => add(a, b)); // a slice of a matrix is a matrix
          expect(Array.from(grad(f)(x).data)).toEqual(naiveGradient(rows, cols, windows));
          expect(Array.from(jit(grad(f))(x).data)).toEqual(naiveGradient(rows, cols, windows));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("joins the steps of a sequence with one concatenate, not one scatter per step", () => {
    // tanh keeps the gradient a function of x, so that jit stages it rather than folding it to a constant
    const steps = 16;
    const f = (m: M): Tensor<[], "float64"> =>
      Array.from({ length: steps }, (_, t) => sum(mul(tanh(slice(m, [t]) as Tensor<[number], "float64">), t))).reduce((a, b) => add(a, b)); // row t of a matrix is a vector
    const g = jit(grad(f));
    const x = new Tensor([steps, 3], "float64", new Float64Array(steps * 3));
    expect(Array.from(g(x).data)).toEqual(Array.from({ length: steps * 3 }, (_, i) => Math.floor(i / 3)));
    const prims = g.lastProgram?.eqns.map((e) => e.prim) ?? [];
    expect(prims.filter((p) => p === "concatenate")).toHaveLength(1);
    expect(prims.filter((p) => p === "scatter_add")).toHaveLength(0);
  });
});
