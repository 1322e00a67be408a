import { describe, expect, test } from "vitest";
import { arange, tensor, zeros } from "../../src/core/create.js";
import type { Shape } from "../../src/core/shape.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, exp, mul, sin, tanh } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { sum } from "../../src/ops/reduce.js";
import { reshape } from "../../src/ops/shape.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { jvp } from "../../src/transforms/jvp.js";
import { vjp } from "../../src/transforms/linearize.js";
import { vmap } from "../../src/transforms/vmap.js";

type V3 = Tensor<[3], "float64">;

/** Distinct values away from 0 for `t`'s positions (an arange), shifted by `seed`. */
const wave = <S extends Shape>(t: Tensor<S, "float64">, seed: number): Tensor<S, "float64"> => add(sin(add(mul(t, 1.7), seed)), 1.25);

/** Element `index` of a row-major array of `shape`. */
const at = (flat: readonly number[], shape: readonly number[], index: readonly number[]): number =>
  flat[index.reduce((offset, i, axis) => offset * (shape[axis] ?? 1) + i, 0)] ?? NaN;

/** The vector along `axis` of `flat` (row-major, `shape`) at `index`, whose entry on `axis` is ignored. */
const fiber = (flat: readonly number[], shape: readonly number[], axis: number, index: readonly number[]): V3 => {
  const out = Array.from({ length: shape[axis] ?? 0 }, (_, k) => at(flat, shape, index.map((i, a) => (a === axis ? k : i))));
  return tensor(out as [number, number, number], "float64"); // shape[axis] is 3 in every use below
};

const m = tensor([[0.5, -1], [2, 0.25], [-0.75, 1.5]], "float64");
const project = (x: V3): Tensor<[2], "float64"> => matmul(x, m);
const loss = (p: V3, x: V3): Tensor<[], "float64"> => sum(exp(mul(p, x)));

describe("nested vmap", () => {
  test("vmap of vmap equals a double loop over both dims", () => {
    const f = (a: V3, b: V3): V3 => tanh(add(mul(a, b), a));
    const x = reshape(wave(arange(24, "float64"), 1), [2, 4, 3]);
    const y = reshape(wave(arange(24, "float64"), 2), [2, 4, 3]);
    const out = vmap(vmap(f))(x, y);
    expect(out.shape).toEqual([2, 4, 3]);
    const [xf, yf] = [x.toArray(), y.toArray()];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        const expected = f(fiber(xf, x.shape, 2, [i, j, 0]), fiber(yf, y.shape, 2, [i, j, 0])).toArray();
        expect([0, 1, 2].map((k) => at(out.toArray(), out.shape, [i, j, k]))).toEqual(expected);
      }
    }
  });

  test("four levels equal a quadruple loop, with the type's four dims", () => {
    const x = reshape(wave(arange(2 * 3 * 2 * 2 * 3, "float64"), 5), [2, 3, 2, 2, 3]);
    const out: Tensor<[2, 3, 2, 2, 2], "float64"> = vmap(vmap(vmap(vmap(project))))(x);
    expect(out.shape).toEqual([2, 3, 2, 2, 2]);
    const [xf, of] = [x.toArray(), out.toArray()];
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 3; b++)
        for (let c = 0; c < 2; c++)
          for (let d = 0; d < 2; d++) {
            const expected = project(fiber(xf, x.shape, 4, [a, b, c, d, 0])).toArray();
            expect([0, 1].map((o) => at(of, out.shape, [a, b, c, d, o]))).toEqual(expected);
          }
  });

  test("three levels with inAxes and outAxes other than 0 equal a triple loop", () => {
    const x = reshape(wave(arange(120, "float64"), 3), [2, 3, 4, 5]); // the example's 3 on axis 1; levels on axes 0 (innermost), 2 and 3 (outermost)
    const out = vmap(vmap(vmap(project, { outAxes: -1 }), { inAxes: 2, outAxes: -1 }), { inAxes: -1, outAxes: -1 })(x);
    expect(out.shape).toEqual([2, 2, 4, 5]);
    const xf = x.toArray();
    for (let d = 0; d < 2; d++) {
      for (let c = 0; c < 4; c++) {
        for (let b = 0; b < 5; b++) {
          const expected = project(fiber(xf, x.shape, 1, [d, 0, c, b])).toArray();
          expect([0, 1].map((o) => at(out.toArray(), out.shape, [o, d, c, b]))).toEqual(expected);
        }
      }
    }
  });

  test("null axes: each level maps one argument, giving a pairwise table", () => {
    const score = (a: V3, b: V3): Tensor<[], "float64"> => sum(mul(sin(a), b));
    const left = reshape(wave(arange(15, "float64"), 4), [5, 3]);
    const right = reshape(wave(arange(21, "float64"), 5), [7, 3]);
    const table = vmap(vmap(score, { inAxes: [null, 0] }), { inAxes: [0, null] })(left, right);
    const transposed = vmap(vmap(score, { inAxes: [null, 0] }), { inAxes: [0, null], outAxes: 1 })(left, right);
    expect(table.shape).toEqual([5, 7]);
    expect(transposed.shape).toEqual([7, 5]);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 7; j++) {
        const expected = score(fiber(left.toArray(), left.shape, 1, [i, 0]), fiber(right.toArray(), right.shape, 1, [j, 0])).toArray()[0];
        expect(at(table.toArray(), table.shape, [i, j])).toBe(expected);
        expect(at(transposed.toArray(), transposed.shape, [j, i])).toBe(expected);
      }
    }
  });

  test("nested vmap of grad gives the gradient of each example of a grid, also under jit", () => {
    const p = tensor([0.5, -1, 2], "float64");
    const grid = reshape(wave(arange(18, "float64"), 6), [2, 3, 3]);
    const perExample = vmap(vmap(grad(loss), { inAxes: [null, 0] }), { inAxes: [null, 0] });
    const eager = perExample(p, grid).toArray();
    const jitted = jit(perExample)(p, grid).toArray();
    const expected = [0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => grad(loss)(p, fiber(grid.toArray(), grid.shape, 2, [i, j, 0])).toArray()));
    expect(eager).toEqual(expected);
    jitted.forEach((v, k) => expect(v).toBeCloseTo(expected[k] ?? NaN, 12));
  });

  test("jvp and vjp of a nested vmap equal a loop of per-example jvps and vjps", () => {
    const f = (x: V3): V3 => tanh(mul(x, x));
    const x = reshape(wave(arange(12, "float64"), 7), [2, 2, 3]);
    const dx = reshape(wave(arange(12, "float64"), 8), [2, 2, 3]);
    const [, tangent] = jvp(vmap(vmap(f)), [x], [dx]);
    const [, pullback] = vjp(vmap(vmap(f)), x);
    const [ct] = pullback(dx);
    const pick = (t: typeof x, i: number, j: number): V3 => fiber(t.toArray(), t.shape, 2, [i, j, 0]);
    const cells = [[0, 0], [0, 1], [1, 0], [1, 1]] as const;
    expect(tangent.toArray()).toEqual(cells.flatMap(([i, j]) => jvp(f, [pick(x, i, j)], [pick(dx, i, j)])[1].toArray()));
    expect(ct.toArray()).toEqual(cells.flatMap(([i, j]) => vjp(f, pick(x, i, j))[1](pick(dx, i, j))[0].toArray()));
  });

  test("jit inside, between and outside the levels gives the double loop's values", () => {
    const x = reshape(wave(arange(24, "float64"), 9), [2, 4, 3]);
    const expected = [0, 1].flatMap((i) => [0, 1, 2, 3].flatMap((j) => project(fiber(x.toArray(), x.shape, 2, [i, j, 0])).toArray()));
    const jittedInner = jit(vmap(project));
    for (const f of [vmap(vmap(jit(project))), vmap(jittedInner), jit(vmap(vmap(project)))]) {
      f(x)
        .toArray()
        .forEach((v, k) => expect(v).toBeCloseTo(expected[k] ?? NaN, 12));
    }
  });

  test("mapped sizes that differ at the inner or the outer level are a ShapeError naming both", () => {
    const pair = vmap(vmap((a: V3, b: V3): V3 => add(a, b)));
    // sizes known only at run time, as from data
    const two: number = 2;
    const four: number = 4;
    const five: number = 5;
    const first = zeros([two, four, 3], "float64");
    expect(() => pair(first, zeros([two, five, 3], "float64"))).toThrow(ShapeError);
    expect(() => pair(first, zeros([two, five, 3], "float64"))).toThrow("vmap: argument 1 has 5 examples on axis 0 but argument 0 has 4");
    expect(() => pair(first, zeros([five, four, 3], "float64"))).toThrow("vmap: argument 1 has 5 examples on axis 0 but argument 0 has 2");
  });
});
