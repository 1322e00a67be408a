import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, exp, mul, sin, tanh } from "../../src/ops/elementwise.js";
import { conv2d, maxPool2d } from "../../src/ops/conv.js";
import { matmul } from "../../src/ops/linalg.js";
import { sum } from "../../src/ops/reduce.js";
import { reshape } from "../../src/ops/shape.js";
import { key } from "../../src/random/key.js";
import { bernoulliMask, keyData, splitKeys, type KeyData } from "../../src/random/staged.js";
import { customJvp, customVjp, stopGradient } from "../../src/transforms/custom.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { jvp } from "../../src/transforms/jvp.js";
import { vjp } from "../../src/transforms/linearize.js";
import { vmap } from "../../src/transforms/vmap.js";
import { dense, relu, sequential } from "../../src/layers/index.js";

type V3 = Tensor<[3], "float64">;
const rows = (x: Tensor<[number, ...number[]], "float64">): number[][] => {
  const n = x.shape[0];
  const size = x.size / (n || 1);
  return Array.from({ length: n }, (_, b) => x.toArray().slice(b * size, (b + 1) * size));
};
const w = tensor([0.5, -1, 2], "float64");
const xs = tensor([[1, 0, 0.5], [0, 1, 1], [2, -1, 0]], "float64");
const examples = [tensor([1, 0, 0.5], "float64"), tensor([0, 1, 1], "float64"), tensor([2, -1, 0], "float64")];
const loss = (p: V3, x: V3): Tensor<[], "float64"> => sum(exp(mul(p, x)));

describe("vmap", () => {
  test("vmap of a vector-matrix product is a matrix product", () => {
    const m = tensor([[1, 2], [3, 4], [5, 6]], "float64");
    const f = (a: Tensor<[3, 2], "float64">, v: V3): Tensor<[2], "float64"> => matmul(v, m.shape[0] === 3 ? a : a);
    expect(vmap(f, { inAxes: [null, 0] })(m, xs).toNested()).toEqual(rows(matmul(xs, m)));
  });

  test("vmap of grad gives per-example gradients, also under jit", () => {
    const expected = examples.map((x) => grad(loss)(w, x).toArray());
    expect(rows(vmap(grad(loss), { inAxes: [null, 0] })(w, xs))).toEqual(expected);
    expect(rows(jit(vmap(grad(loss), { inAxes: [null, 0] }))(w, xs))).toEqual(expected);
  });

  test("grad of vmap is the gradient of the summed batch", () => {
    const total = (p: V3): Tensor<[], "float64"> => sum(vmap(loss, { inAxes: [null, 0] })(p, xs));
    const expected = examples.map((x) => grad(loss)(w, x).toArray()).reduce((a, g) => a.map((v, i) => v + (g[i] ?? 0)));
    grad(total)(w).toArray().forEach((v, i) => expect(v).toBeCloseTo(expected[i] ?? NaN, 12));
  });

  test("vmap of jit runs the jitted function inline, batched", () => {
    const f = jit((x: V3) => sin(mul(x, w)));
    expect(rows(vmap(f)(xs))).toEqual(examples.map((x) => f(x).toArray()));
  });

  test("vmap of vmap maps two axes; outAxes places the batch", () => {
    const pairwise = vmap(vmap((a: Tensor<[], "float64">, b: Tensor<[], "float64">) => add(a, b), { inAxes: [null, 0] }), { inAxes: [0, null], outAxes: 1 });
    expect(pairwise(tensor([1, 2], "float64"), tensor([10, 20, 30], "float64")).toNested()).toEqual([[11, 12], [21, 22], [31, 32]]);
  });

  test("jvp of vmap and vmap of jvp agree with per-example jvps", () => {
    const f = (x: V3): V3 => tanh(mul(x, x));
    const dxs = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "float64");
    const expected = examples.map((x, b) => jvp(f, [x], [tensor(rows(dxs)[b] ?? [], "float64") as V3])[1].toArray());
    expect(rows(jvp(vmap(f), [xs], [dxs])[1])).toEqual(expected);
    const tangentOf = (x: V3, dx: V3): V3 => jvp(f, [x], [dx])[1];
    expect(rows(vmap(tangentOf)(xs, dxs))).toEqual(expected);
  });

  test("vjp of vmap pulls a batch of cotangents back", () => {
    const f = vmap((x: V3) => sin(x));
    const [, pullback] = vjp(f, xs);
    const [ct] = pullback(xs);
    expect(rows(ct)).toEqual(examples.map((x) => x.toArray().map((v) => Math.cos(v) * v)));
  });

  test("negative in and out axes count from the end", () => {
    const f = vmap((x: V3) => mul(x, w), { inAxes: -1, outAxes: -1 });
    const byColumns = tensor([[1, 0, 2], [0, 1, -1], [0.5, 1, 0]], "float64"); // the examples as columns
    const y = f(byColumns);
    expect(y.shape).toEqual([3, 3]);
    const columns = [0, 1, 2].map((b) => byColumns.toNested().map((row) => row[b] ?? NaN));
    const expected = columns.map((c) => mul(tensor(c, "float64"), w).toArray());
    expect(y.toNested()).toEqual([0, 1, 2].map((i) => expected.map((e) => e[i])));
  });

  test("mapped arguments of different sizes are a ShapeError naming both", () => {
    const f = vmap((a: V3, b: V3) => add(a, b));
    const wide = zeros([4, 3], "float64") as unknown as Tensor<[3, 3], "float64">; // a wrong size at run time, as from untyped data
    expect(() => f(xs, wide)).toThrow(ShapeError);
    expect(() => f(xs, wide)).toThrow("vmap: argument 1 has 4 examples on axis 0 but argument 0 has 3");
  });

  test("inAxes per part of an argument's tree: an ensemble's weights mapped, its bias shared", () => {
    type Layer = { w: Tensor<[3, 2], "float64">; b: Tensor<[2], "float64"> };
    const applyLayer = (p: Layer, x: V3): Tensor<[2], "float64"> => add(matmul(x, p.w), p.b);
    const ws = reshape(tensor(Array.from({ length: 12 }, (_, i) => i - 5), "float64"), [2, 3, 2]);
    const b = tensor([0.5, -0.5], "float64");
    const y = vmap(applyLayer, { inAxes: [{ w: 0, b: null }, null] })({ w: ws, b }, w);
    const members = [0, 1].map((k) => reshape(tensor(ws.toArray().slice(6 * k, 6 * k + 6), "float64"), [3, 2]));
    expect(y.toNested()).toEqual(members.map((m) => applyLayer({ w: m, b }, w).toArray()));
    const wrong = { w: 0, c: null } as unknown as { w: 0; b: null }; // a spec whose keys are not the argument's, as from untyped code
    expect(() => vmap(applyLayer, { inAxes: [wrong, null] })({ w: ws, b }, w)).toThrow("vmap: the inAxes of argument 0 do not follow its structure");
  });

  test("outAxes null asks for a result that is the same for every example", () => {
    expect(vmap((x: V3) => w, { outAxes: null })(xs).toArray()).toEqual(w.toArray());
    expect(() => vmap((x: V3) => x, { outAxes: null })(xs)).toThrow("vmap: output 0 depends on the example, but its outAxes is null");
  });

  test("an unmapped result is broadcast to every example", () => {
    expect(vmap((x: V3) => w)(xs).toNested()).toEqual([w.toArray(), w.toArray(), w.toArray()]);
  });

  test("random bits from a batch of keys equal a loop over the keys", () => {
    const keys = splitKeys(keyData(key(7)), 4);
    const batch = tensor(keys.map((k) => k.toArray()), "int32") as Tensor<[4, 2], "int32">; // four keys of two words
    const draw = (k: KeyData): Tensor<[5], "bool"> => bernoulliMask(k, 0.5, [5]);
    expect(vmap(draw)(batch).toNested()).toEqual(keys.map((k) => draw(k).toArray()));
  });

  test("per-example gradients of a small CNN (batched input and cotangents through conv and pooling)", () => {
    type Params = { k: Tensor<[3, 3, 1, 2], "float64"> };
    const values = (n: number, scale: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * scale));
    const params: Params = { k: reshape(tensor(values(18, 1.3), "float64"), [3, 3, 1, 2]) };
    const images = reshape(tensor(values(4 * 36, 0.7), "float64"), [4, 1, 6, 6, 1]);
    const cnnLoss = (p: Params, image: Tensor<[1, 6, 6, 1], "float64">): Tensor<[], "float64"> =>
      sum(tanh(maxPool2d(conv2d(image, p.k, { padding: "same" }), 2)));
    const g = jit(vmap(grad(cnnLoss), { inAxes: [null, 0] }))(params, images);
    expect(g.k.shape).toEqual([4, 3, 3, 1, 2]);
    const per = Array.from({ length: 4 }, (_, b) => grad(cnnLoss)(params, reshape(tensor(images.toArray().slice(b * 36, (b + 1) * 36), "float64"), [1, 6, 6, 1])).k.toArray());
    g.k.toArray().forEach((v, i) => expect(v).toBeCloseTo(per[Math.floor(i / 18)]?.[i % 18] ?? NaN, 12));
  });

  test("a per-example filter is a grouped convolution", () => {
    const image = reshape(tensor(Array.from({ length: 16 }, (_, i) => i / 7), "float64"), [1, 4, 4, 1]);
    const filters = reshape(tensor(Array.from({ length: 3 * 4 }, (_, i) => Math.cos(i)), "float64"), [3, 2, 2, 1, 1]);
    const f = (k: Tensor<[2, 2, 1, 1], "float64">): Tensor<[1, 3, 3, 1], "float64"> => conv2d(image, k);
    const y = vmap(f)(filters);
    const per = Array.from({ length: 3 }, (_, b) => f(reshape(tensor(filters.toArray().slice(b * 4, b * 4 + 4), "float64"), [2, 2, 1, 1])).toArray());
    expect(y.toArray()).toEqual(per.flat());
  });

  test("vmap of grad through a customVjp uses the custom backward pass per example", () => {
    const clipped = customVjp(
      (x: V3) => x,
      (x: V3) => [x, null] as const,
      (_: null, ct: V3) => [mul(ct, 0.5)] as [V3],
    );
    const g = vmap(grad((x: V3) => sum(mul(clipped(x), x))))(xs);
    expect(rows(g)).toEqual(examples.map((x) => x.toArray().map((v) => 1.5 * v)));
  });
});

describe("vmap of layers", () => {
  test("a model applied to one example, vmapped, is the model applied to the batch", () => {
    const model = sequential(dense(6, 5), relu(), dense(5, 3));
    const p = model.init(key(1));
    const batch = reshape(tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i)), "float32"), [4, 6]);
    const y = vmap((x: Tensor<[6]>) => model.apply(p, x))(batch);
    expect(y.shape).toEqual([4, 3]);
    const want = model.apply(p, batch).toArray();
    y.toArray().forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? NaN, 6));
  });
});

describe("custom rules under a vmap inside a derivative", () => {
  const halve = customVjp(
    (x: V3) => x,
    (x: V3) => [x, null] as const,
    (_: null, ct: V3) => [mul(ct, 0.5)] as [V3],
  );
  test("grad of vmap keeps a customVjp's backward pass, for mapped and shared arguments", () => {
    const total = (m: Tensor<[3, 3], "float64">): Tensor<[], "float64"> => sum(vmap((row: V3) => mul(halve(row), row))(m));
    // d/dx sum_b <halve(x_b), x_b> with halve's backward pass halving: 0.5 x_b + x_b per row
    expect(rows(grad(total)(xs))).toEqual(examples.map((x) => x.toArray().map((v) => 1.5 * v)));
    const shared = (p: V3): Tensor<[], "float64"> => sum(vmap((row: V3, q: V3) => mul(halve(q), row), { inAxes: [0, null] })(xs, p));
    // d/dp sum_b <halve(p), x_b> = 0.5 sum_b x_b
    expect(grad(shared)(w).toArray()).toEqual([0, 1, 2].map((i) => 0.5 * examples.reduce((s, x) => s + (x.toArray()[i] ?? 0), 0)));
  });
  test("grad of vmap stops gradients at stopGradient", () => {
    const total = (p: V3): Tensor<[], "float64"> => sum(vmap((row: V3, q: V3) => mul(stopGradient(mul(row, q)), q), { inAxes: [0, null] })(xs, p));
    // d/dp sum_b (x_b p) p with the batched x_b p constant = sum_b x_b p
    const expected = [0, 1, 2].map((i) => (w.toArray()[i] ?? 0) * examples.reduce((s, x) => s + (x.toArray()[i] ?? 0), 0));
    grad(total)(w).toArray().forEach((v, i) => expect(v).toBeCloseTo(expected[i] ?? NaN, 12));
  });
  test("jvp of vmap uses a customJvp's rule", () => {
    const timesX = customJvp((x: V3) => sin(x), ([x], [dx]) => mul(dx, x)); // a rule that is not sin's derivative, to see it used
    const [, dy] = jvp(vmap(timesX), [xs], [xs]);
    expect(rows(dy)).toEqual(examples.map((x) => x.toArray().map((v) => v * v)));
  });
});
