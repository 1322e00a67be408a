import { describe, expect, test } from "vitest";
import { fuseProgram, type PlanStep } from "../../../src/ir/fusion/fuse.js";
import type { Program } from "../../../src/ir/program.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import { bind } from "../../../src/prims/index.js";
import { traceProgram } from "../../../src/transforms/trace.js";
import { aval, tensorOf } from "../../backend/support.js";

/** Each step as `kernel[prims]` (with `+N` when it also outputs N values besides its root) or `prim`. */
function describeSteps(p: Program): string[] {
  return fuseProgram(p).steps.map((s: PlanStep) => {
    if (s.kind === "prim") return s.eqn.prim;
    const also = s.outputs.length > 1 ? ` +${s.outputs.length - 1}` : "";
    return `kernel[${s.eqns.map((e) => e.prim).join(" ")}${also}]`;
  });
}

const row = (x: AnyTensor, shape: readonly number[]): AnyTensor => bind("broadcast", [x], { shape, dims: [shape.length - 1] });

describe("the fusion pass", () => {
  test("a chain of elementwise ops with broadcast operands is one kernel", () => {
    const p = traceProgram(
      ([x, a, b]) => {
        if (x === undefined || a === undefined || b === undefined) return [];
        const y = bind("add", [bind("mul", [x, row(a, [4, 3])], {}), row(b, [4, 3])], {});
        return [bind("tanh", [bind("exp", [y], {})], {})];
      },
      [aval([4, 3]), aval([3]), aval([3])],
    );
    expect(describeSteps(p)).toEqual(["kernel[broadcast mul broadcast add exp tanh]"]);
    const [step] = fuseProgram(p).steps;
    if (step?.kind !== "kernel") throw new Error("not a kernel");
    const strides = step.nest.nodes.flatMap((n) => (n.kind === "read" ? [n.map.strides] : []));
    expect(strides).toEqual([[3, 1], [0, 1], [0, 1]]);
  });

  test("transposes and slices become index maps of one loop", () => {
    const p = traceProgram(
      ([x, y]) => {
        if (x === undefined || y === undefined) return [];
        const t = bind("transpose", [x], { perm: [1, 0] });
        const s = bind("slice", [y], { starts: [0, 4], steps: [1, -2], sizes: [3, 2] });
        return [bind("sub", [t, s], {})];
      },
      [aval([2, 3]), aval([3, 5])],
    );
    expect(describeSteps(p)).toEqual(["kernel[transpose slice sub]"]);
  });

  test("a reduction ends its kernel, and its user starts another", () => {
    const p = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const total = bind("reduce_sum", [bind("exp", [x], {})], { axes: [1] });
        return [bind("log", [total], {})];
      },
      [aval([4, 3])],
    );
    expect(describeSteps(p)).toEqual(["kernel[exp reduce_sum]", "kernel[log]"]);
  });

  test("a value used by two kernels is computed once, in the first of them, which also stores it for the other", () => {
    const p = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const e = bind("exp", [x], {});
        return [bind("reduce_max", [e], { axes: [0] }), bind("neg", [e], {})];
      },
      [aval([5])],
    );
    expect(describeSteps(p)).toEqual(["kernel[exp reduce_max +1]", "kernel[neg]"]);
    const [first, second] = fuseProgram(p).steps;
    if (first?.kind !== "kernel" || second?.kind !== "kernel") throw new Error("not kernels");
    expect(first.nest.outputs).toEqual([{ node: 1, reduce: "max" }, { node: 1 }]);
    expect(second.inputs).toEqual([first.outputs[1]]);
  });

  test("one exact or correctly rounded step over stored values, used by several kernels, is computed again in each instead of stored; a math routine, two large operands or an operand computed in a loop are stored", () => {
    // a CNN's conv + bias: relu's kernel and its gradient's both compute it from the conv's output and the bias
    const twice = (make: (x: AnyTensor, b: AnyTensor) => AnyTensor, bShape: number[]): Program =>
      traceProgram(
        ([x, b]) => {
          if (x === undefined || b === undefined) return [];
          const z = make(x, b);
          return [bind("reduce_sum", [bind("mul", [z, z], {})], { axes: [0] }), bind("neg", [z], {})];
        },
        [aval([16, 4]), aval(bShape)],
      );
    const biasAdd = (x: AnyTensor, b: AnyTensor): AnyTensor => bind("add", [x, bind("broadcast", [b], { shape: [16, 4], dims: [1] })], {});
    expect(describeSteps(twice(biasAdd, [4]))).toEqual(["kernel[broadcast add mul reduce_sum]", "kernel[broadcast add neg]"]);
    const [first, second] = fuseProgram(twice(biasAdd, [4])).steps;
    if (first?.kind !== "kernel" || second?.kind !== "kernel") throw new Error("not kernels");
    expect([first.outputs.length, second.outputs.length]).toEqual([1, 1]);
    // two operands of the value's size: stored once instead of keeping both alive
    expect(describeSteps(twice((x, y) => bind("add", [x, y], {}), [16, 4]))).toEqual(["kernel[add mul reduce_sum +1]", "kernel[neg]"]);
    // a math routine: stored (computed once)
    expect(describeSteps(twice((x, b) => bind("exp", [biasAdd(x, b)], {}), [4]))).toEqual(["kernel[broadcast add exp mul reduce_sum +1]", "kernel[neg]"]);
    // an operand that is itself computed in the loop: stored
    expect(describeSteps(twice((x, b) => bind("add", [bind("neg", [x], {}), bind("broadcast", [b], { shape: [16, 4], dims: [1] })], {}), [4]))).toEqual([
      "kernel[neg broadcast add mul reduce_sum +1]",
      "kernel[neg]",
    ]);
  });

  test("a value returned, needed by an implementation before its first kernel, or read under a view there, has a kernel of its own; a reduction hosts one of any size", () => {
    const returned = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const e = bind("exp", [x], {});
        return [e, bind("neg", [e], {})];
      },
      [aval([5])],
    );
    expect(describeSteps(returned)).toEqual(["kernel[exp]", "kernel[neg]"]);
    const implFirst = traceProgram(
      ([x, w]) => {
        if (x === undefined || w === undefined) return [];
        const e = bind("exp", [x], {});
        const y = bind("dot_general", [e, w], { transA: false, transB: false });
        return [bind("add", [y, bind("neg", [e], {})], {})];
      },
      [aval([2, 2]), aval([2, 2])],
    );
    expect(describeSteps(implFirst)).toEqual(["kernel[exp]", "dot_general", "kernel[neg add]"]);
    const implAfter = traceProgram(
      ([x, w]) => {
        if (x === undefined || w === undefined) return [];
        const e = bind("exp", [x], {});
        const s = bind("reduce_sum", [e], { axes: [1] });
        return [bind("dot_general", [e, w], { transA: false, transB: false }), s];
      },
      [aval([2, 2]), aval([2, 2])],
    );
    expect(describeSteps(implAfter)).toEqual(["kernel[exp reduce_sum +1]", "dot_general"]);
    // the first kernel reads it transposed: stored from there, it would be stored transposed
    const transposedUse = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const e = bind("exp", [x], {});
        return [bind("add", [bind("reduce_sum", [bind("transpose", [e], { perm: [1, 0] })], { axes: [1] }), bind("reduce_sum", [e], { axes: [1] })], {})];
      },
      [aval([3, 3])],
    );
    expect(describeSteps(transposedUse)).toEqual(["kernel[exp]", "kernel[transpose reduce_sum]", "kernel[reduce_sum]", "kernel[add]"]);
    // a reduction hosts a value of any size (a large reducing kernel runs in blocks of rows too)
    const large = (shape: number[]): Program =>
      traceProgram(
        ([x]) => {
          if (x === undefined) return [];
          const e = bind("exp", [x], {});
          return [bind("reduce_sum", [e], { axes: [0] }), bind("neg", [e], {})];
        },
        [aval(shape)],
      );
    expect(describeSteps(large([127, 512]))).toEqual(["kernel[exp reduce_sum +1]", "kernel[neg]"]);
    expect(describeSteps(large([1024, 512]))).toEqual(["kernel[exp reduce_sum +1]", "kernel[neg]"]);
  });

  test("a computed value is not repeated along a broadcast: it is materialised first", () => {
    const p = traceProgram(
      ([x, a]) => {
        if (x === undefined || a === undefined) return [];
        return [bind("mul", [x, row(bind("exp", [a], {}), [100, 3])], {})];
      },
      [aval([100, 3]), aval([3])],
    );
    expect(describeSteps(p)).toEqual(["kernel[exp]", "kernel[broadcast mul]"]);
  });

  test("dot_general and other structural primitives run their implementation", () => {
    const p = traceProgram(
      ([x, w]) => {
        if (x === undefined || w === undefined) return [];
        const y = bind("dot_general", [bind("neg", [x], {}), w], { transA: false, transB: false });
        return [bind("concatenate", [bind("exp", [y], {}), y], { axis: 0 })];
      },
      [aval([2, 3]), aval([3, 4])],
    );
    expect(describeSteps(p)).toEqual(["kernel[neg]", "dot_general", "kernel[exp]", "concatenate"]);
  });

  test("a reshape of a buffer shares it; a reshape that would need a copy materialises its operand", () => {
    const shares = traceProgram(([x]) => (x === undefined ? [] : [bind("reshape", [x], { shape: [6] })]), [aval([2, 3])]);
    expect(describeSteps(shares)).toEqual(["reshape"]);
    const copies = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const t = bind("transpose", [bind("exp", [x], {})], { perm: [1, 0] });
        return [bind("neg", [bind("reshape", [t], { shape: [6] })], {})];
      },
      [aval([2, 3])],
    );
    expect(describeSteps(copies)).toEqual(["kernel[exp transpose]", "kernel[reshape neg]"]);
  });

  test("a value needed under two different views is computed once", () => {
    const p = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        const e = bind("exp", [x], {});
        return [bind("add", [e, bind("transpose", [e], { perm: [1, 0] })], {})];
      },
      [aval([3, 3])],
    );
    expect(describeSteps(p)).toEqual(["kernel[exp]", "kernel[transpose add]"]);
  });

  test("dead equations are dropped", () => {
    const p = traceProgram(
      ([x]) => {
        if (x === undefined) return [];
        bind("exp", [x], {});
        return [bind("neg", [x], {})];
      },
      [aval([3])],
    );
    expect(describeSteps(p)).toEqual(["kernel[neg]"]);
  });

  test("a constant of one repeated value becomes a constant of the nest, not a buffer", () => {
    const half = tensorOf([3], [0.5, 0.5, 0.5]);
    const p = traceProgram(([x]) => (x === undefined ? [] : [bind("mul", [x, half], {})]), [aval([3])]);
    const [step] = fuseProgram(p).steps;
    if (step?.kind !== "kernel") throw new Error("not a kernel");
    expect(step.nest.inputs).toHaveLength(1);
    expect(step.constants).toEqual([0.5]);
  });
});
