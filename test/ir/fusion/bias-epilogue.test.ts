import { describe, expect, test } from "vitest";
import { compileProgram, fusionPlan } from "../../../src/ir/fusion/execute.js";
import { interpretProgram } from "../../../src/ir/interpret.js";
import type { Program } from "../../../src/ir/program.js";
import { bind } from "../../../src/prims/index.js";
import type { AnyTensor, Aval } from "../../../src/prims/types.js";
import { add, matmul, mean, relu, softmaxCrossEntropy } from "../../../src/index.js";
import { Tensor } from "../../../src/core/tensor.js";
import { valueAndGrad } from "../../../src/transforms/grad.js";
import { jit } from "../../../src/transforms/jit.js";
import { traceProgram } from "../../../src/transforms/trace.js";
import { aval, randomValues, tensorOf, valuesOf } from "../../backend/support.js";

const dot = (a: AnyTensor, b: AnyTensor, transB = false): AnyTensor => bind("dot_general", [a, b], { transA: false, transB });
const plus = (x: AnyTensor, y: AnyTensor): AnyTensor => bind("add", [x, y], {});
/** `bias` ([n]) broadcast to `shape` along axis `axis`. */
const spread = (bias: AnyTensor, shape: readonly number[], axis = shape.length - 1): AnyTensor => bind("broadcast", [bias], { shape, dims: [axis] });

/** The plan's steps as names: a kernel's primitives (views left out), or a primitive step's name. */
const stepNames = (p: Program): string[] =>
  fusionPlan(p).steps.map((s) => (s.kind === "kernel" ? s.prims.filter((n) => n !== "broadcast" && n !== "reshape").join(" ") : s.prim));

/** A program of `x`, `w`, `b` (of `avals`, by default a [32, 64] @ [64, 48] product and a [48] bias). */
const traceDense = (body: (x: AnyTensor, w: AnyTensor, b: AnyTensor) => AnyTensor[], avals: readonly Aval[] = [aval([32, 64]), aval([64, 48]), aval([48])]): Program =>
  traceProgram(([x, w, b]) => (x === undefined || w === undefined || b === undefined ? [] : body(x, w, b)), avals);

/** Random inputs for the program (float values in [-3, 3)), from seed `seed` on. */
const inputsFor = (p: Program, seed = 100): AnyTensor[] =>
  p.inputs.map((v, i) => tensorOf(v.aval.shape, randomValues(v.aval.shape.reduce((n, d) => n * d, 1), seed + i), v.aval.dtype));

/**
 * Expects the compiled program to equal its plan interpreted with its kernels' own ops bit for bit, and the
 * unfused interpreter within `relative` (the WebAssembly math routines' bounds: a softmax's exp).
 */
function expectPlanBits(p: Program, inputs: readonly AnyTensor[], relative: number): void {
  const got = compileProgram(p)(inputs);
  expect(got.map(valuesOf)).toEqual(compileProgram(p, { kernels: "interpreted-as-generated" })(inputs).map(valuesOf));
  const want = interpretProgram(p, inputs);
  got.forEach((g, i) =>
    (want[i]?.data ?? []).forEach((w, j) => expect(Math.abs((g.data[j] ?? NaN) - w), `output ${i} [${j}]`).toBeLessThanOrEqual(relative * (1 + Math.abs(w)))),
  );
}

/** Expects the compiled program to give the unfused interpreter's bits, on two calls (buffers reused). */
function expectInterpreterBits(p: Program, inputs: readonly AnyTensor[]): void {
  const run = compileProgram(p);
  const want = interpretProgram(p, inputs).map(valuesOf);
  for (let call = 0; call < 2; call++) expect(run(inputs).map(valuesOf)).toEqual(want);
}

describe("bias adds folded into the product's epilogue", () => {
  test("a dense layer x @ W + b runs as one product, no loop, with the bits of the separate add", () => {
    const p = traceDense((x, w, b) => [plus(dot(x, w), spread(b, [32, 48]))]);
    // unfolded this would be [dot_general, add]: one kernel fewer
    expect(stepNames(p)).toEqual(["dot_general+add"]);
    expect(fusionPlan(p).kernels).toBe(0);
    expectInterpreterBits(p, inputsFor(p));
  });

  test("the bias may come first, the B operand transposed and the product batched", () => {
    const p = traceDense((x, w, b) => [bind("neg", [plus(spread(b, [3, 16, 24]), dot(x, w, true))], {})], [aval([3, 16, 40]), aval([3, 24, 40]), aval([24])]);
    expect(stepNames(p)).toEqual(["dot_general+add", "neg"]);
    expectInterpreterBits(p, inputsFor(p));
  });

  test("a product that something else also reads is not folded", () => {
    const p = traceDense((x, w, b) => {
      const h = dot(x, w);
      return [plus(h, spread(b, [32, 48])), bind("neg", [h], {})];
    });
    expect(stepNames(p)).toEqual(["dot_general", "add", "neg"]);
    expectInterpreterBits(p, inputsFor(p));
  });

  test("a product that is a program output is not folded", () => {
    const p = traceDense((x, w, b) => {
      const h = dot(x, w);
      return [h, plus(h, spread(b, [32, 48]))];
    });
    expect(stepNames(p)).toEqual(["dot_general", "add"]);
  });

  test("a bias along another axis than the last, or of the product's full shape, is not folded", () => {
    // x is [48, 64], w [64, 48]: the bias b ([48]) spread along axis 0; w @ x is [64, 64], added to w @ x itself
    const p = traceDense((x, w, b) => [plus(dot(x, w), spread(b, [48, 48], 0)), plus(dot(w, x), dot(w, x))], [aval([48, 64]), aval([64, 48]), aval([48])]);
    expect(stepNames(p)).toEqual(["dot_general", "add", "dot_general", "dot_general", "add"]);
    expectInterpreterBits(p, inputsFor(p));
  });

  test("a product too small for the WebAssembly kernel (whose epilogue rounds differently) is not folded", () => {
    const p = traceDense((x, w, b) => [plus(dot(x, w), spread(b, [2, 4]))], [aval([2, 3]), aval([3, 4]), aval([4])]);
    expect(stepNames(p)).toEqual(["dot_general", "add"]);
    expectInterpreterBits(p, inputsFor(p));
  });

  test("float64 products are not folded", () => {
    const p = traceDense((x, w, b) => [plus(dot(x, w), spread(b, [32, 48]))], [aval([32, 64], "float64"), aval([64, 48], "float64"), aval([48], "float64")]);
    expect(stepNames(p)).toEqual(["dot_general", "add"]);
  });

  test("a jitted MLP training step folds its biases and agrees with the interpreter", () => {
    type Params = { w1: Tensor<[64, 32]>; b1: Tensor<[32]>; w2: Tensor<[32, 10]>; b2: Tensor<[10]> };
    const loss = (p: Params, x: Tensor<[16, 64]>, y: Tensor<[16], "int32">): Tensor<[]> => {
      const h = relu(add(matmul(x, p.w1), p.b1));
      return mean(softmaxCrossEntropy(add(matmul(h, p.w2), p.b2), y));
    };
    const step = jit((p: Params, x: Tensor<[16, 64]>, y: Tensor<[16], "int32">) => valueAndGrad(loss)(p, x, y));
    const params: Params = {
      w1: tensorOf([64, 32], randomValues(64 * 32, 1)) as Tensor<[64, 32]>, // tensorOf made it of this shape
      b1: tensorOf([32], randomValues(32, 2)) as Tensor<[32]>, // as above
      w2: tensorOf([32, 10], randomValues(320, 3)) as Tensor<[32, 10]>, // as above
      b2: tensorOf([10], randomValues(10, 4)) as Tensor<[10]>, // as above
    };
    const x = tensorOf([16, 64], randomValues(16 * 64, 5)) as Tensor<[16, 64]>; // as above
    const y = tensorOf([16], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], "int32") as Tensor<[16], "int32">; // as above
    step(params, x, y);
    const p = step.lastProgram;
    if (p === undefined) throw new Error("nothing traced");
    // the hidden layer's pre-activation feeds relu and relu's mask, the logits feed the loss: both products are folded
    expect(stepNames(p).filter((n) => n === "dot_general+add")).toHaveLength(2);
    const inputs = inputsFor(p, 20);
    const labels = p.inputs.findIndex((v) => v.aval.dtype === "int32");
    if (labels >= 0) inputs[labels] = y;
    expectPlanBits(p, inputs, 2 ** -18);
  });
});
