import { describe, expect, test } from "vitest";
import { ones, tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { exp, log, mul, sin, tanh } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/linalg.js";
import { logSoftmax, softmax, sum } from "../../src/ops/reduce.js";
import { logSigmoid, relu, sigmoid, softplus } from "../../src/ops/activations.js";
import { grad, valueAndGrad } from "../../src/transforms/grad.js";
import { jvp } from "../../src/transforms/jvp.js";
import { linearize, vjp } from "../../src/transforms/linearize.js";
import { jit } from "../../src/transforms/jit.js";
import { hessian, hvp, jacfwd, jacrev } from "../../src/transforms/jacobian.js";
import { customJvp, customVjp, stopGradient } from "../../src/transforms/custom.js";
import { clip } from "../../src/ops/math.js";

const close = (a: readonly number[], b: readonly number[], tol = 1e-12): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - (b[i] ?? NaN))).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i] ?? 0))));
};

type V3 = Tensor<[3], "float64">;
const x = tensor([0.5, -1, 2], "float64");

describe("jvp", () => {
  test("jvp of exp is exp times the tangent", () => {
    const [y, dy] = jvp((a: V3) => exp(a), [x], [tensor([1, 2, 3], "float64")]);
    close(dy.toArray(), y.toArray().map((v, i) => v * (i + 1)));
  });
  test("jvp of a product rule", () => {
    const [, dy] = jvp((a: V3) => mul(a, sin(a)), [x], [ones([3], "float64")]);
    close(dy.toArray(), x.toArray().map((v) => Math.sin(v) + v * Math.cos(v)));
  });
});

describe("vjp and grad", () => {
  test("grad of sum of squares is twice x", () => {
    close(grad((a: V3) => sum(mul(a, a)))(x).toArray(), [1, -2, 4]);
  });
  test("vjp of matmul gives ct B^T and A^T ct", () => {
    const a = tensor([[1, 2], [3, 4]], "float64");
    const b = tensor([[5, 6], [7, 8]], "float64");
    const [, pullback] = vjp((p: typeof a, q: typeof b) => matmul(p, q), a, b);
    const [ga, gb] = pullback(ones([2, 2], "float64"));
    expect(ga.toNested()).toEqual([[11, 15], [11, 15]]);
    expect(gb.toNested()).toEqual([[4, 4], [6, 6]]);
  });
  test("grad over a parameter tree returns the same tree", () => {
    const params = { w: tensor([[1, -1], [2, 0.5]], "float64"), b: tensor([0.1, -0.2], "float64") };
    const input = tensor([[1, 2]], "float64");
    const loss = (p: typeof params): Tensor<[], "float64"> => sum(relu(mul(matmul(input, p.w), 1)));
    const g = grad(loss)(params);
    expect(Object.keys(g).sort()).toEqual(["b", "w"]);
    expect(g.w.shape).toEqual([2, 2]);
    expect(g.b.toArray()).toEqual([0, 0]);
  });
  test("valueAndGrad of log-softmax cross-entropy", () => {
    const logits = tensor([1, 2, 3], "float64");
    const [value, g] = valueAndGrad((l: V3) => sum(mul(logSoftmax(l), tensor([0, 0, -1], "float64"))))(logits);
    const p = softmax(logits).toArray();
    close([value.item()], [-Math.log(p[2] ?? 0)]);
    close(g.toArray(), [p[0] ?? 0, p[1] ?? 0, (p[2] ?? 0) - 1]);
  });
  test("the second derivative of tanh by grad of grad", () => {
    const d2 = grad((a: Tensor<[], "float64">) => sum(grad((b: Tensor<[], "float64">) => sum(tanh(b)))(a)));
    const t = Math.tanh(0.3);
    close([d2(tensor(0.3, "float64")).item()], [-2 * t * (1 - t * t)]);
  });
  test("jvp of grad is a Hessian-vector product", () => {
    const g = (a: V3) => grad((b: V3) => sum(mul(mul(b, b), b)))(a); // 3 x^2
    const [, hv] = jvp(g, [x], [ones([3], "float64")]);
    close(hv.toArray(), x.toArray().map((v) => 6 * v));
  });
  test("linearize evaluates the JVP without the forward pass", () => {
    const [y, f] = linearize((a: V3) => sin(a), x);
    close(f(ones([3], "float64")).toArray(), x.toArray().map(Math.cos));
    close(y.toArray(), x.toArray().map(Math.sin));
  });
  test("jit of grad equals grad", () => {
    const g = grad((a: V3) => sum(mul(exp(a), a)));
    close(jit(g)(x).toArray(), g(x).toArray());
  });
});


describe("Jacobians and Hessians", () => {
  test("jacfwd and jacrev agree on a vector function", () => {
    const f = (a: V3): V3 => mul(sin(a), a);
    const jf = jacfwd(f)(x);
    const jr = jacrev(f)(x);
    expect(jf.shape).toEqual([3, 3]);
    close(jf.toArray(), jr.toArray());
    close([jf.toNested()[1]?.[1] ?? NaN], [Math.sin(-1) - Math.cos(-1)]);
  });
  test("the Hessian of sum x^3 is diag(6x), and hvp agrees", () => {
    const f = (a: V3): Tensor<[], "float64"> => sum(mul(a, mul(a, a)));
    const h = hessian(f)(x);
    expect(h.shape).toEqual([3, 3]);
    close(h.toArray(), [3, 0, 0, 0, -6, 0, 0, 0, 12]);
    close(hvp(f)(x, ones([3], "float64")).toArray(), [3, -6, 12]);
  });
});

describe("stopGradient and customJvp", () => {
  test("stopGradient blocks the derivative through one factor", () => {
    close(grad((a: V3) => sum(mul(stopGradient(a), a)))(x).toArray(), x.toArray());
  });
  test("a customJvp rule replaces the derivative, in both modes", () => {
    const f = customJvp(
      (a: V3) => log(a),
      ([a], [da]) => mul(da, mul(a, 0)), // deliberately not 1/x: proves the rule is used
    );
    const y = tensor([1, 2, 3], "float64");
    close(jvp(f, [y], [ones([3], "float64")])[1].toArray(), [0, 0, 0]);
    close(grad((a: V3) => sum(f(a)))(y).toArray(), [0, 0, 0]);
    close(f(y).toArray(), [0, Math.log(2), Math.log(3)]);
  });
});

describe("transforms compose with jit", () => {
  test("grad of a jitted function equals grad of the function", () => {
    const f = (a: V3): Tensor<[], "float64"> => sum(mul(exp(a), a));
    close(grad(jit(f))(x).toArray(), grad(f)(x).toArray());
  });
});


describe("stable activations are smooth at 0", () => {
  const second = (f: (a: Tensor<[], "float64">) => Tensor<[], "float64">): number =>
    grad((a: Tensor<[], "float64">) => grad(f)(a))(tensor(0, "float64")).item();
  test("second derivatives at exactly 0", () => {
    close([second(sigmoid), second(softplus), second(logSigmoid)], [0, 0.25, -0.25]);
  });
  test("no overflow in values or gradients at ±1000", () => {
    const x = tensor([-1000, 1000], "float64");
    for (const f of [sigmoid, softplus, logSigmoid]) {
      const g = grad((a: typeof x) => sum(f(a)))(x).toArray();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(f(x).toArray().every(Number.isFinite)).toBe(true);
    }
  });
});

describe("customVjp", () => {
  const clipped = customVjp(
    (a: V3) => mul(a, 1),
    (a: V3) => [mul(a, 1), null] as const,
    (_: null, ct: V3): [V3] => [clip(ct, -1, 1)],
  );
  test("its backward function replaces the gradient", () => {
    close(grad((a: V3) => sum(mul(clipped(a), 5)))(x).toArray(), [1, 1, 1]);
    close(clipped(x).toArray(), x.toArray());
  });
  test("forward mode is refused with a clear error", () => {
    expect(() => jvp(clipped, [x], [ones([3], "float64")])).toThrow(/no forward-mode derivative/);
  });
  test("a nonlinear use of a primitive in a transposed program names the primitive", async () => {
    const { transposeProgram } = await import("../../src/transforms/linearize.js");
    const { traceProgram } = await import("../../src/transforms/trace.js");
    const { bind } = await import("../../src/prims/bind.js");
    const p = traceProgram(([a]) => [bind("exp", [a ?? x], {})], [x]);
    expect(() => transposeProgram(p, [x])).toThrow(/exp has no transpose rule/);
  });
});

describe("bad input", () => {
  test("NaN and Infinity propagate through the transforms as IEEE says", () => {
    const y = tensor([Number.NaN, Number.POSITIVE_INFINITY, 1], "float64");
    const g = grad((a: V3) => sum(exp(a)))(y).toArray();
    expect(Number.isNaN(g[0])).toBe(true);
    expect(g[1]).toBe(Number.POSITIVE_INFINITY);
    expect(jvp((a: V3) => mul(a, a), [y], [ones([3], "float64")])[1].toArray().slice(1)).toEqual([Number.POSITIVE_INFINITY, 2]);
  });
  test("a function whose value is not a scalar is a clear error at run time", () => {
    const f = grad(((a: V3) => mul(a, a)) as unknown as (a: V3) => Tensor<[], "float64">); // the cast hides the non-scalar output from the types on purpose
    expect(() => f(x)).toThrow(/must return a scalar float tensor \(shape \[\]\), got float64\[3\]/);
  });
  test("differentiating with respect to an int32 tensor inside a tree is a clear error", () => {
    const tree = { w: x, n: tensor([1, 2], "int32") };
    expect(() => grad((p: typeof tree) => sum(p.w))(tree)).toThrow(/cannot differentiate with respect to a tensor of dtype int32/);
  });
});
