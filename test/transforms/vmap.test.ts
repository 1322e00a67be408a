import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, exp, mul } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { sum } from "../../src/ops/reduce.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { vmap } from "../../src/transforms/vmap.js";

describe("vmap", () => {
  test("vmap of a matrix-vector product is a matrix product", () => {
    const w = tensor([[1, 2], [3, 4], [5, 6]], "float64");
    const xs = tensor([[1, 0, 0], [0, 1, 1]], "float64");
    const f = (m: Tensor<[3, 2], "float64">, v: Tensor<[3], "float64">): Tensor<[2], "float64"> => matmul(v, m);
    const y = vmap(f, { inAxes: [null, 0] })(w, xs);
    expect(y.toNested()).toEqual([[1, 2], [8, 10]]);
  });
  test("vmap of grad gives per-example gradients", () => {
    const w = tensor([1, 2, 3], "float64");
    const xs = tensor([[1, 0, 0], [0, 1, 1]], "float64");
    const loss = (p: Tensor<[3], "float64">, x: Tensor<[3], "float64">): Tensor<[], "float64"> => sum(exp(mul(p, x)));
    const g = vmap(grad(loss), { inAxes: [null, 0] })(w, xs);
    expect(g.shape).toEqual([2, 3]);
    const examples = [tensor([1, 0, 0], "float64"), tensor([0, 1, 1], "float64")];
    const expected = examples.map((x) => grad(loss)(w, x).toArray());
    expect(g.toNested()).toEqual(expected);
    const gj = jit(vmap(grad(loss), { inAxes: [null, 0] }))(w, xs);
    expect(gj.toNested()).toEqual(expected);
  });
  test("nested vmap and outAxes", () => {
    const a = tensor([[1, 2], [3, 4]], "float64");
    const b = tensor([10, 20, 30], "float64");
    const outer = vmap(vmap((x: Tensor<[], "float64">, y: Tensor<[], "float64">) => add(x, y), { inAxes: [null, 0] }), { inAxes: [0, null], outAxes: 1 });
    const y = outer(tensor([1, 2], "float64"), b);
    expect(y.toNested()).toEqual([[11, 12], [21, 22], [31, 32]]);
    void a;
  });
});
