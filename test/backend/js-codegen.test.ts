import { describe, expect, test } from "vitest";
import { allocate, type DType, type Storage } from "../../src/core/dtype.js";
import { shapeSize } from "../../src/core/shape.js";
import { generateKernel } from "../../src/backend/js-codegen.js";
import { kernelCacheStats, loopKernelBackend } from "../../src/backend/compile.js";
import { interpretLoopNest } from "../../src/backend/interpret.js";
import { outputDType, outputShape, type LoopNest } from "../../src/backend/loop-ir.js";
import { nest, op, randomValues, read } from "./support.js";

/**
 * Runs `n` both ways on `inputs` (the interpreter with the ops of the backend
 * the kernel runs on); expects equal outputs, bit for bit, and returns the
 * generated ones.
 */
function runBoth(n: LoopNest, inputs: readonly Storage<DType>[], constants: readonly number[] = []): Storage<DType>[] {
  const fresh = (): Storage<DType>[] => n.outputs.map((out) => allocate(outputDType(n, out), shapeSize(outputShape(n, out))));
  const generated = fresh();
  const interpreted = fresh();
  generateKernel(n).run([...inputs, ...generated], constants);
  interpretLoopNest(n, [...inputs, ...interpreted], constants, loopKernelBackend(n) === "webassembly" ? "webassembly" : "reference");
  generated.forEach((g, j) => {
    const want = interpreted[j] ?? [];
    for (let i = 0; i < g.length; i++) expect(Object.is(g[i], want[i]), `output ${j}[${i}]: ${g[i]} vs ${want[i]}`).toBe(true);
  });
  return generated;
}

const f32 = (n: number, seed: number): Float32Array => Float32Array.from(randomValues(n, seed));

describe("the code generator", () => {
  test("a nest whose reads are all contiguous or scalar is one flat loop", () => {
    const n = nest({
      shape: [4, 5],
      inputs: [
        { dtype: "float32", size: 20 },
        { dtype: "float32", size: 1 },
      ],
      nodes: [read(0, "float32", 0, [5, 1]), read(1, "float32", 0, [0, 0]), op("mul", {}, [0, 1], "float32"), op("exp", {}, [2], "float32")],
      outputs: [{ node: 3 }],
    });
    const kernel = generateKernel(n);
    expect(kernel.depth).toBe(1);
    expect(kernel.source.match(/for \(/g)).toHaveLength(1);
    // the scalar is read once, before the loop
    expect(kernel.source.indexOf("x1[0]")).toBeLessThan(kernel.source.indexOf("for ("));
    runBoth(n, [f32(20, 1), Float32Array.of(0.5)]);
  });

  test("a broadcast row makes two loops, the output contiguous in the inner one", () => {
    const n = nest({
      shape: [3, 4],
      inputs: [
        { dtype: "float32", size: 12 },
        { dtype: "float32", size: 4 },
      ],
      nodes: [read(0, "float32", 0, [4, 1]), read(1, "float32", 0, [0, 1]), op("add", {}, [0, 1], "float32")],
      outputs: [{ node: 2 }],
    });
    const kernel = generateKernel(n);
    expect(kernel.depth).toBe(2);
    expect(kernel.source).toMatch(/for \(let i1 = 0; i1 < 4; i1\+\+\)/);
    runBoth(n, [f32(12, 2), f32(4, 3)]);
  });

  test("a broadcast column is read once per row, outside the inner loop, and so is what is computed from it", () => {
    const n = nest({
      shape: [3, 4],
      inputs: [
        { dtype: "float32", size: 12 },
        { dtype: "float32", size: 3 },
      ],
      nodes: [read(1, "float32", 0, [1, 0]), op("exp", {}, [0], "float32"), read(0, "float32", 0, [4, 1]), op("mul", {}, [2, 1], "float32")],
      outputs: [{ node: 3 }],
    });
    const kernel = generateKernel(n);
    const inner = kernel.source.indexOf("for (let i1");
    expect(kernel.source.indexOf("Math.exp")).toBeLessThan(inner);
    expect(kernel.source.indexOf("Math.exp")).toBeGreaterThan(kernel.source.indexOf("for (let i0"));
    runBoth(n, [f32(12, 4), f32(3, 5)]);
  });

  test("a transposed read walks with its own strides", () => {
    const n = nest({ shape: [3, 2], inputs: [{ dtype: "int32", size: 6 }], nodes: [read(0, "int32", 0, [1, 3])], outputs: [{ node: 0 }] });
    const [out] = runBoth(n, [Int32Array.of(1, 2, 3, 4, 5, 6)]);
    expect([...(out ?? [])]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  describe("reductions", () => {
    const cube = f32(4 * 5 * 6, 6);
    const sumOver = (reducedAxes: number[], reduce: "sum" | "max" = "sum"): LoopNest =>
      nest({ shape: [4, 5, 6], reducedAxes, inputs: [{ dtype: "float32", size: 120 }], nodes: [read(0, "float32", 0, [30, 6, 1])], outputs: [{ node: 0, reduce }] });

    test("over the inner axis, with a scalar accumulator per output", () => {
      expect(generateKernel(sumOver([2])).source).toMatch(/let a0 = -0;/);
      runBoth(sumOver([2]), [cube]);
      runBoth(sumOver([2], "max"), [cube]);
    });
    test("over the outer axis, into float64 accumulators in memory order", () => {
      expect(generateKernel(sumOver([0])).source).toMatch(/new Float64Array\(30\)/);
      runBoth(sumOver([0]), [cube]);
      runBoth(sumOver([0], "max"), [cube]);
    });
    test("over the middle axis", () => {
      runBoth(sumOver([1]), [cube]);
      runBoth(sumOver([1], "max"), [cube]);
    });
    test("over all axes, as one flat loop", () => {
      const kernel = generateKernel(sumOver([0, 1, 2]));
      expect(kernel.depth).toBe(1);
      runBoth(sumOver([0, 1, 2]), [cube]);
    });
    test("over the outer and inner axes but not the middle one", () => {
      runBoth(sumOver([0, 2]), [cube]);
      runBoth(sumOver([0, 2], "max"), [cube]);
    });
    test("of a value computed in the loop", () => {
      const n = nest({
        shape: [4, 5],
        reducedAxes: [1],
        inputs: [{ dtype: "float32", size: 20 }],
        nodes: [read(0, "float32", 0, [5, 1]), op("exp", {}, [0], "float32")],
        outputs: [{ node: 1, reduce: "sum" }],
      });
      runBoth(n, [f32(20, 7)]);
    });
  });

  describe("zero-size dims", () => {
    test("an empty elementwise nest writes nothing", () => {
      const n = nest({ shape: [0, 3], inputs: [{ dtype: "float32", size: 0 }], nodes: [read(0, "float32", 0, [3, 1]), op("neg", {}, [0], "float32")], outputs: [{ node: 1 }] });
      expect(runBoth(n, [new Float32Array(0)])[0]).toHaveLength(0);
    });
    test("a reduction over an empty axis fills its start value", () => {
      const n = nest({
        shape: [3, 0],
        reducedAxes: [1],
        inputs: [{ dtype: "int32", size: 0 }],
        nodes: [read(0, "int32", 0, [0, 1])],
        outputs: [{ node: 0, reduce: "sum" }, { node: 0, reduce: "max" }],
      });
      const [sums, maxes] = runBoth(n, [new Int32Array(0)]);
      expect([...(sums ?? [])]).toEqual([0, 0, 0]);
      expect([...(maxes ?? [])]).toEqual([-(2 ** 31), -(2 ** 31), -(2 ** 31)]);
    });
  });

  describe("dtypes", () => {
    test("int32 arithmetic wraps and divides toward zero", () => {
      const n = nest({
        shape: [3],
        inputs: [
          { dtype: "int32", size: 3 },
          { dtype: "int32", size: 3 },
        ],
        nodes: [read(0, "int32", 0, [1]), read(1, "int32", 0, [1]), op("mul", {}, [0, 1], "int32"), op("div", {}, [2, 1], "int32")],
        outputs: [{ node: 2 }, { node: 3 }],
      });
      const [product, quotient] = runBoth(n, [Int32Array.of(2 ** 30, -7, 5), Int32Array.of(4, 2, 0)]);
      expect([...(product ?? [])]).toEqual([0, -14, 0]);
      expect([...(quotient ?? [])]).toEqual([0, -7, 0]);
    });
    test("bool values are 0 or 1, and select on them picks", () => {
      const n = nest({
        shape: [4],
        inputs: [
          { dtype: "float32", size: 4 },
          { dtype: "float32", size: 4 },
        ],
        nodes: [read(0, "float32", 0, [1]), read(1, "float32", 0, [1]), op("compare", { op: "gt" }, [0, 1], "bool"), op("select", {}, [2, 0, 1], "float32")],
        outputs: [{ node: 2 }, { node: 3 }],
      });
      const [mask, larger] = runBoth(n, [Float32Array.of(1, 5, NaN, -0), Float32Array.of(2, 3, 0, 0)]);
      expect([...(mask ?? [])]).toEqual([0, 1, 0, 0]);
      expect([...(larger ?? [])]).toEqual([2, 5, 0, 0]);
    });
    test("a cast to bool makes every nonzero 1, NaN included", () => {
      const n = nest({ shape: [4], inputs: [{ dtype: "float64", size: 4 }], nodes: [read(0, "float64", 0, [1]), op("cast", { dtype: "bool" }, [0], "bool")], outputs: [{ node: 1 }] });
      expect([...(runBoth(n, [Float64Array.of(0, -0, NaN, 0.25)])[0] ?? [])]).toEqual([0, 0, 1, 1]);
    });
  });

  describe("no data in code", () => {
    const withConstants = nest({
      shape: [3],
      inputs: [{ dtype: "float64", size: 3 }],
      constants: ["float64", "float64", "float64"],
      nodes: [
        read(0, "float64", 0, [1]),
        { kind: "const", dtype: "float64", index: 0 },
        { kind: "const", dtype: "float64", index: 1 },
        { kind: "const", dtype: "float64", index: 2 },
        op("mul", {}, [0, 1], "float64"),
        op("add", {}, [4, 2], "float64"),
        op("compare", { op: "ge" }, [5, 3], "bool"),
        op("cast", { dtype: "int32" }, [6], "int32"),
      ],
      outputs: [{ node: 5 }, { node: 7 }],
    });

    test("constant values and parameter values never appear in the source", () => {
      const { source } = generateKernel(withConstants);
      for (const text of ["1e300", "1e+300", "NaN", "12345", "ge", "int32", "bool"]) expect(source).not.toContain(text);
      // every number in the source is an integer
      expect(source.match(/\d\.\d|\de[+-]?\d/g)).toBeNull();
      const [sum, flags] = runBoth(withConstants, [Float64Array.of(1, 2, 3)], [1e300, NaN, 12345.678]);
      expect([...(sum ?? [])]).toEqual([NaN, NaN, NaN]);
      expect([...(flags ?? [])]).toEqual([0, 0, 0]);
    });

    test("one kernel serves every value of its constants", () => {
      const [out] = runBoth(withConstants, [Float64Array.of(1, 2, 3)], [2, 0.5, 5]);
      expect([...(out ?? [])]).toEqual([2.5, 4.5, 6.5]);
    });
  });

  test("compiling the same structure twice compiles once", () => {
    const n = nest({ shape: [7, 3], inputs: [{ dtype: "float64", size: 21 }], nodes: [read(0, "float64", 0, [3, 1]), op("sqrt", {}, [0], "float64")], outputs: [{ node: 1 }] });
    const before = { ...kernelCacheStats };
    const first = generateKernel(n);
    const second = generateKernel(structuredClone(n));
    expect(kernelCacheStats.compiled - before.compiled).toBe(1);
    expect(kernelCacheStats.hits - before.hits).toBe(1);
    expect(second.run).toBe(first.run);
    generateKernel({ ...n, shape: [3, 7], nodes: [read(0, "float64", 0, [7, 1]), n.nodes[1] ?? read(0, "float64", 0, [7, 1])] });
    expect(kernelCacheStats.compiled - before.compiled).toBe(2);
  });

  test("a fast-path node splits the innermost loop into blocks of three loops", () => {
    // out[i, j] = tanh(x[j, i] * y[i, j]) + x[j, i], with x read transposed (stride 3 in the inner loop)
    const n = nest({
      shape: [3, 700],
      inputs: [
        { dtype: "float32", size: 2100 },
        { dtype: "float32", size: 2100 },
      ],
      nodes: [read(0, "float32", 0, [1, 3]), read(1, "float32", 0, [700, 1]), op("mul", {}, [0, 1], "float32"), op("tanh", {}, [2], "float32"), op("add", {}, [3, 0], "float32")],
      outputs: [{ node: 4 }, { node: 2 }],
    });
    const kernel = generateKernel(n);
    expect(kernel.depth).toBe(2);
    // the table's loop, then one outer loop, one loop over blocks and three loops per block
    expect(kernel.source.match(/for \(/g)).toHaveLength(6);
    runBoth(n, [f32(2100, 9), f32(2100, 10)]);
  });

  test("float32 tanh takes the checked fast path, float64 tanh is Math.tanh itself", () => {
    const tanhOf = (dtype: "float32" | "float64"): LoopNest =>
      nest({ shape: [2000], inputs: [{ dtype, size: 2000 }], nodes: [read(0, dtype, 0, [1]), op("tanh", {}, [0], dtype)], outputs: [{ node: 1 }] });
    expect(generateKernel(tanhOf("float32")).source).toContain("Math.LN2");
    expect(generateKernel(tanhOf("float64")).source).not.toContain("Math.LN2");
    const xs = Float32Array.from({ length: 2000 }, (_, i) => (i - 1000) / 50);
    xs[0] = NaN;
    xs[1] = -0;
    xs[2] = Infinity;
    runBoth(tanhOf("float32"), [xs]);
  });
});
