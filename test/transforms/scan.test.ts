import { describe, expect, test } from "vitest";
import { full, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, cast, less, mul, tanh } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { sum } from "../../src/ops/reduce.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { jvp } from "../../src/transforms/jvp.js";
import { foriLoop, scan } from "../../src/transforms/scan.js";
import { whileLoop } from "../../src/transforms/while-loop.js";
import { vmap } from "../../src/transforms/vmap.js";

type V = Tensor<[2], "float64">;
const w = tensor([[0.5, -0.3], [0.2, 0.9]], "float64");
const xs = tensor([[1, 0], [0.5, -1], [2, 1]], "float64");
const h0 = tensor([0.1, -0.2], "float64");
const rnn = (w: Tensor<[2, 2], "float64">, h: V, xs: Tensor<[3, 2], "float64">) =>
  scan((c: V, x: V) => {
    const n = tanh(add(matmul(c, w), x));
    return [n, mul(n, n)] as const;
  }, h, xs);
const loop = (w: Tensor<[2, 2], "float64">, h: V, xs: Tensor<[3, 2], "float64">) => {
  let c: Tensor<[number], "float64"> = h;
  const ys: number[][] = [];
  for (let t = 0; t < 3; t++) {
    c = tanh(add(matmul(c, w), tensor(xs.toNested()[t] as number[], "float64")));
    ys.push(mul(c, c).toArray());
  }
  return [c.toArray(), ys] as const;
};

describe("scan smoke", () => {
  test("eager equals loop", () => {
    const [c, ys] = rnn(w, h0, xs);
    const [lc, lys] = loop(w, h0, xs);
    expect(c.toArray()).toEqual(lc);
    expect(ys.toNested()).toEqual(lys);
  });
  test("jit equals eager", () => {
    const f = jit(rnn);
    const [c, ys] = f(w, h0, xs);
    const [lc, lys] = loop(w, h0, xs);
    expect(c.toArray()).toEqual(lc);
    expect(ys.toNested()).toEqual(lys);
  });
  test("jvp and grad", () => {
    const loss = (w: Tensor<[2, 2], "float64">) => { const [c, ys] = rnn(w, h0, xs); return add(sum(c), sum(ys)); };
    const g = grad(loss)(w);
    const eps = 1e-6;
    const base = loss(w).toArray()[0] as number;
    const d = tensor([[1, 0], [0, 0]], "float64");
    const wp = add(w, mul(d, tensor(eps, "float64")));
    const fd = ((loss(wp).toArray()[0] as number) - base) / eps;
    expect(g.toArray()[0]).toBeCloseTo(fd, 4);
    const [, t] = jvp(loss, [w], [d]);
    expect(t.toArray()[0]).toBeCloseTo(fd, 4);
    const gj = jit(grad(loss))(w);
    gj.toArray().forEach((v, i) => expect(v).toBeCloseTo(g.toArray()[i] as number, 10));
  });
  test("vmap", () => {
    const hs = tensor([[0.1, -0.2], [0.3, 0.4]], "float64");
    const f = vmap((h: V) => rnn(w, h, xs)[0], { inAxes: 0 });
    const out = f(hs);
    expect(out.toNested()).toEqual([loop(w, h0, xs)[0], loop(w, tensor([0.3, 0.4], "float64"), xs)[0]]);
  });
});

/** A small tanh recurrence of `length` steps over a [length, 4] input, h' = tanh(h W + x). */
const recurrence = (w: Tensor<[4, 4], "float64">, h: Tensor<[4], "float64">, xs: Tensor<[number, 4], "float64">) =>
  scan((c: Tensor<[4], "float64">, x: Tensor<[4], "float64">) => {
    const n = tanh(add(matmul(c, w), x));
    return [n, n] as const;
  }, h, xs);
const w4 = tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => 0.3 * Math.sin(i + 2 * j))), "float64") as Tensor<[4, 4], "float64">; // 4 rows of 4
const h4 = tensor([0.1, 0.2, -0.3, 0.4], "float64");
const inputs = (length: number): Tensor<[number, 4], "float64"> =>
  tensor(Array.from({ length }, (_, t) => [Math.sin(t), Math.cos(t), 0.5, -0.25 * Math.sin(3 * t)]), "float64") as Tensor<[number, 4], "float64">; // length rows of 4
const stepLoop = (length: number): number[] => {
  let c: Tensor<[number], "float64"> = h4;
  const xs = inputs(length).toNested() as number[][]; // length rows of 4
  for (const x of xs) c = tanh(add(matmul(c, w4), tensor(x, "float64")));
  return c.toArray();
};

describe("scan under jit", () => {
  test("the traced program does not grow with the length, nor does its gradient's", () => {
    const sizes = [1, 10, 1000].map((n) => {
      const f = jit((xs: Tensor<[number, 4], "float64">) => recurrence(w4, h4, xs)[0]);
      f(inputs(n));
      const g = jit(grad((w: Tensor<[4, 4], "float64">, xs: Tensor<[number, 4], "float64">) => sum(recurrence(w, h4, xs)[0])));
      g(w4, inputs(n));
      return [f.lastProgram?.eqns.length, g.lastProgram?.eqns.length];
    });
    expect(sizes[1]).toEqual(sizes[0]);
    expect(sizes[2]).toEqual(sizes[0]);
    expect(sizes[0]?.[0]).toBeLessThan(10);
  });

  test("a jitted 1000-step tanh recurrence gives the loop's result, and grad through it works", () => {
    const f = jit((xs: Tensor<[number, 4], "float64">) => recurrence(w4, h4, xs)[0]);
    const got = f(inputs(1000)).toArray();
    stepLoop(1000).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
    const loss = (w: Tensor<[4, 4], "float64">): Tensor<[], "float64"> => sum(recurrence(w, h4, inputs(1000))[0]);
    const g = jit(grad(loss))(w4);
    const d = tensor([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], "float64");
    const eps = 1e-6;
    const fd = ((loss(add(w4, mul(d, full([], eps, "float64")))).toArray()[0] ?? 0) - (loss(add(w4, mul(d, full([], -eps, "float64")))).toArray()[0] ?? 0)) / (2 * eps);
    expect(g.toArray()[1]).toBeCloseTo(fd, 6);
  });
});

describe("scan's contract", () => {
  test("a body that changes the carry's shape is a ShapeError naming scan and both types", () => {
    const bad = scan as unknown as (f: (c: Tensor<[2], "float64">) => readonly [Tensor<[3], "float64">, never[]], init: Tensor<[2], "float64">, xs: null, o: { length: number }) => unknown; // erases the carry check that the types do, to reach the run-time one
    expect(() => bad(() => [tensor([1, 2, 3], "float64"), []], tensor([1, 2], "float64"), null, { length: 2 })).toThrow(ShapeError);
    expect(() => bad(() => [tensor([1, 2, 3], "float64"), []], tensor([1, 2], "float64"), null, { length: 2 })).toThrow(/scan.*float64\[2\].*float64\[3\]/);
  });
  test("inputs whose leading dims disagree with the length are a ShapeError", () => {
    expect(() => scan((c: V, x: V) => [add(c, x), c] as const, h0, xs, { length: 4 })).toThrow(ShapeError);
    expect(() => scan((c: V) => [c, c] as const, h0, null, {} as { length: number })).toThrow(/length/); // a caller without types may leave length out
  });
  test("without inputs, length steps run; reverse stacks by index", () => {
    const [last, seq] = scan((c: Tensor<[], "float64">) => [mul(c, full([], 2, "float64")), c] as const, full([], 1, "float64"), null, { length: 5 });
    expect(last.toArray()).toEqual([32]);
    expect(seq.toArray()).toEqual([1, 2, 4, 8, 16]);
    const [, back] = scan((c: Tensor<[], "float64">) => [mul(c, full([], 2, "float64")), c] as const, full([], 1, "float64"), null, { length: 5, reverse: true });
    expect(back.toArray()).toEqual([16, 8, 4, 2, 1]);
  });
  test("a zero-length scan returns the initial carry and empty outputs", () => {
    const [c, ys] = scan((c: V, x: V) => [add(c, x), c] as const, h0, zeros([0, 2], "float64"));
    expect(c.toArray()).toEqual(h0.toArray());
    expect(ys.shape).toEqual([0, 2]);
  });
});

describe("foriLoop and whileLoop", () => {
  test("foriLoop runs the body on each index, eagerly, under jit and grad", () => {
    const body = (i: Tensor<[], "int32">, c: Tensor<[], "float64">): Tensor<[], "float64"> => add(mul(c, full([], 0.5, "float64")), cast(i, "float64"));
    let want = 1;
    for (let i = 2; i < 7; i++) want = want * 0.5 + i;
    expect(foriLoop(2, 7, body, full([], 1, "float64")).toArray()).toEqual([want]);
    expect(jit((c: Tensor<[], "float64">) => foriLoop(2, 7, body, c))(full([], 1, "float64")).toArray()).toEqual([want]);
    expect(grad((c: Tensor<[], "float64">) => foriLoop(2, 7, body, c))(full([], 1, "float64")).toArray()[0]).toBeCloseTo(0.5 ** 5, 14);
    expect(foriLoop(3, 3, body, full([], 1, "float64")).toArray()).toEqual([1]);
  });
  test("whileLoop runs while the condition holds, eagerly", () => {
    const y = whileLoop((c: Tensor<[], "float64">) => less(c, full([], 100, "float64")), (c) => mul(c, full([], 2, "float64")), full([], 1, "float64"));
    expect(y.toArray()).toEqual([128]);
  });
  test("whileLoop under jit is one equation and gives the eager result; grad and jvp are an error that says why", () => {
    const f = (c: Tensor<[], "float64">) => whileLoop((c: Tensor<[], "float64">) => less(c, full([], 100, "float64")), (c) => mul(c, full([], 2, "float64")), c);
    const jitted = jit(f);
    expect(jitted(full([], 1, "float64")).toArray()).toEqual([128]);
    expect(jitted(full([], 3, "float64")).toArray()).toEqual([192]);
    expect(jitted.lastProgram?.eqns.filter((e) => e.prim === "while").length).toBe(1);
    expect(() => grad(f)(full([], 1, "float64"))).toThrow(/whileLoop.*no derivative.*foriLoop or scan/);
    expect(() => jvp(f, [full([], 1, "float64")], [full([], 1, "float64")])).toThrow(/whileLoop.*no derivative/);
  });
  test("whileLoop with a carry of mixed dtypes (a counter and a value) under jit", () => {
    type C = readonly [Tensor<[], "int32">, Tensor<[2], "float32">];
    const f = (init: C): C =>
      whileLoop((c: C) => less(c[0], full([], 5, "int32")), ([i, x]: C): C => [add(i, full([], 1, "int32")), mul(x, full([2], 1.5, "float32"))], init);
    const init: C = [full([], 0, "int32"), full([2], 2, "float32")];
    const [i, x] = jit(f)(init);
    expect(i.dtype).toBe("int32");
    expect(i.toArray()).toEqual([5]);
    expect(x.toArray()).toEqual(f(init)[1].toArray());
  });
  test("a condition that is not a bool scalar is a ShapeError naming whileLoop", () => {
    expect(() => whileLoop((c: Tensor<[2], "float64">) => less(c, full([2], 1, "float64")) as unknown as Tensor<[], "bool">, (c) => c, full([2], 0, "float64"))).toThrow(/whileLoop: the condition must be a bool scalar/); // the cast hides the [2] condition from the types, to reach the run-time check
  });
});
