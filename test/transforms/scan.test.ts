import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { add, mul, tanh } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { sum } from "../../src/ops/reduce.js";
import { grad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { jvp } from "../../src/transforms/jvp.js";
import { scan } from "../../src/transforms/scan.js";
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
