import { describe, expect, test, vi } from "vitest";
import { PackedOperands } from "../../../src/backend/kernels/wasm-matmul.js";
import { ARENA_BASE, arenaAddress, arenaState, watchArena } from "../../../src/backend/wasm/kernel-memory.js";
import { sharing } from "../../../src/backend/wasm/memory-type.js";
import { tensor } from "../../../src/core/create.js";
import { ShapeError } from "../../../src/core/errors.js";
import { Tensor } from "../../../src/core/tensor.js";
import { compileProgram, fusionPlan } from "../../../src/ir/fusion/execute.js";
import { interpretProgram } from "../../../src/ir/interpret.js";
import type { Program } from "../../../src/ir/program.js";
import { gelu } from "../../../src/ops/activations.js";
import { add, mul } from "../../../src/ops/elementwise.js";
import { matmul } from "../../../src/ops/linalg.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import { jit } from "../../../src/transforms/jit.js";
import { bind } from "../../../src/prims/index.js";
import { traceProgram } from "../../../src/transforms/trace.js";
import { aval, randomValues, tensorOf, valuesOf } from "../../backend/support.js";

/** Softmax over the last axis of a [rows, cols] value, from primitives. */
function softmax(x: AnyTensor): AnyTensor {
  const [rows = 1, cols = 1] = x.shape;
  const column = (v: AnyTensor): AnyTensor => bind("broadcast", [v], { shape: [rows, cols], dims: [0] });
  const shifted = bind("sub", [x, column(bind("reduce_max", [x], { axes: [1] }))], {});
  const e = bind("exp", [shifted], {});
  return bind("div", [e, column(bind("reduce_sum", [e], { axes: [1] }))], {});
}

/** Expects `got` within `relative` of `want`, elementwise (NaN and signed zeros exact). */
function expectClose(got: AnyTensor, want: AnyTensor, relative: number): void {
  expect(got.shape).toEqual(want.shape);
  want.data.forEach((w, i) => {
    const g = got.data[i] ?? NaN;
    if (w === 0 || !Number.isFinite(w)) expect(Object.is(g, w), `[${i}] ${g} vs ${w}`).toBe(true);
    else expect(Math.abs(g - w), `[${i}] ${g} vs ${w}`).toBeLessThanOrEqual(relative * Math.abs(w));
  });
}

/**
 * Expects the compiled program to equal its plan interpreted with its kernels'
 * own ops bit for bit, and the unfused reference within `relative` (the
 * WebAssembly math routines' bounds, grown by what follows them).
 */
function expectSameAsInterpreter(p: Program, inputs: readonly AnyTensor[], relative = 2 ** -20): void {
  const got = compileProgram(p)(inputs);
  expect(got.map(valuesOf)).toEqual(compileProgram(p, { kernels: "interpreted-as-generated" })(inputs).map(valuesOf));
  const want = interpretProgram(p, inputs);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expectClose(g, want[i] ?? g, relative));
}

describe("compiled programs", () => {
  test("jit(gelu(x * a + b)) runs as one loop and agrees with eager evaluation within tanh's bound", () => {
    type X = Tensor<[8, 16]>;
    type Row = Tensor<[16]>;
    const chain = (x: X, a: Row, b: Row): X => gelu(add(mul(x, a), b));
    const f = jit(chain);
    const x = tensorOf([8, 16], randomValues(128, 1)) as X; // tensorOf made it of this shape
    const a = tensorOf([16], randomValues(16, 2)) as Row; // as above
    const b = tensorOf([16], randomValues(16, 3)) as Row; // as above
    const got = f(x, a, b);
    const p = f.lastProgram;
    if (p === undefined) throw new Error("nothing traced");
    // bit for bit what the plan computes with the kernel's tanh; within a few ulp of eager evaluation (Math.tanh), away from gelu's zero crossing at x = 0
    expect(valuesOf(got)).toEqual(valuesOf(compileProgram(p, { kernels: "interpreted-as-generated" })([x, a, b])[0] ?? got));
    const eager = chain(x, a, b);
    eager.data.forEach((w, i) => expect(Math.abs((got.data[i] ?? NaN) - w), `[${i}]`).toBeLessThanOrEqual(2 ** -21 * (1 + Math.abs(w))));
    const plan = fusionPlan(p);
    expect(plan.kernels).toBe(1);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]?.kind === "kernel" ? plan.steps[0].depth : 0).toBe(2);
  });

  test("softmax fuses into three kernels (the exponentials stored by the pass that sums them) and agrees with the interpreter", () => {
    const p = traceProgram(([x]) => (x === undefined ? [] : [softmax(x)]), [aval([5, 7])]);
    const plan = fusionPlan(p);
    expect(plan.steps.map((s) => (s.kind === "kernel" ? s.prims.filter((n) => n !== "broadcast").join(" ") : s.prim))).toEqual([
      "reduce_max",
      "sub exp reduce_sum",
      "div",
    ]);
    expectSameAsInterpreter(p, [tensorOf([5, 7], randomValues(35, 4))]);
  });

  test("intermediate buffers are reused once their last reader has run", () => {
    const p = traceProgram(([x]) => (x === undefined ? [] : [softmax(softmax(softmax(x)))]), [aval([6, 4])]);
    const plan = fusionPlan(p);
    expect(plan.buffers).toBeLessThan(plan.intermediates);
    const run = compileProgram(p);
    const x = tensorOf([6, 4], randomValues(24, 5));
    const want = compileProgram(p, { kernels: "interpreted-as-generated" })([x]);
    expect(valuesOf(run([x])[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    expect(valuesOf(run([x])[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    expectClose(run([x])[0] ?? x, interpretProgram(p, [x])[0] ?? x, 2 ** -19);
  });

  test.runIf(sharing.shared)("the plan's float32 buffers live in the kernels' memory and are used in place; release gives them back and a later call makes new ones with the same bits; outputs never live there", () => {
    // softmax of softmax of a large matrix: intermediates between kernels, some of them run in blocks
    const shape = [512, 300];
    const p = traceProgram(([x]) => (x === undefined ? [] : [softmax(softmax(x))]), [aval(shape)]);
    const x = tensorOf(shape, randomValues(512 * 300, 9));
    const want = compileProgram(p, { kernels: "interpreted-as-generated" })([x]);
    const run = compileProgram(p, { inLoopMemory: true });
    const before = arenaState().top;
    const first = run([x]);
    const grown = arenaState().top;
    expect(grown - before).toBeGreaterThanOrEqual(512 * 300 * 4);
    expect(first.every((y) => y.data instanceof Float32Array && arenaAddress(y.data) === undefined)).toBe(true);
    expect(valuesOf(first[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    // the loop kernels take the intermediates where they are (every buffer of the plan lives in the arena)
    const again = watchArena(() => run([x]));
    expect(valuesOf(again.result[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    expect(again.addresses.size).toBeGreaterThan(0);
    for (const a of again.addresses) expect(a >= ARENA_BASE && a < ARENA_BASE + grown).toBe(true);
    expect(arenaState().top).toBe(grown);
    run.release();
    expect(arenaState().top).toBe(before);
    expect(valuesOf(run([x])[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    expect(arenaState().top).toBe(grown);
    run.release();
    // without the option (scan's and while's bodies, programs no cache releases) the buffers are ordinary arrays
    const plain = compileProgram(p);
    expect(valuesOf(plain([x])[0] ?? x)).toEqual(valuesOf(want[0] ?? x));
    expect(arenaState().top).toBe(before);
  });

  test.runIf(sharing.shared)("a donated input whose storage another input views gets its outputs in ordinary arrays, never in the kernels' memory", () => {
    // two inputs that are views of one buffer, as tensors read from one file are; the first is donated
    const p = traceProgram(([x, y]) => (x === undefined || y === undefined ? [] : [bind("exp", [bind("add", [x, y], {})], {})]), [aval([1024]), aval([1024])]);
    const run = compileProgram(p, { donate: [0], inLoopMemory: true });
    const before = arenaState();
    for (let i = 0; i < 3; i++) {
      const shared = new Float32Array(2048).fill(0.25);
      const [x, y] = [new Tensor([1024], "float32", shared.subarray(0, 1024)), new Tensor([1024], "float32", shared.subarray(1024))];
      const [out] = run([x, y]);
      expect(out?.data instanceof Float32Array && arenaAddress(out.data) === undefined).toBe(true);
      expect(out?.data).not.toBe(x.data);
    }
    expect(arenaState()).toEqual(before);
  });

  test.runIf(sharing.shared)("a jitted function's program dropped from its cache gives its buffers in the kernels' memory back", () => {
    // gelu's output is an intermediate: the product reads it
    const f = jit((x: Tensor<[number, number]>, w: Tensor<[number, number]>) => matmul(gelu(add(mul(x, x), x)), w), { maxSignatures: 1 });
    const live = (): number => arenaState().top - arenaState().free.reduce((n, b) => n + b.bytes, 0);
    const random = (rows: number, cols: number, seed: number): Tensor<[number, number]> => new Tensor([rows, cols], "float32", Float32Array.from(randomValues(rows * cols, seed)));
    const before = live();
    f(random(600, 128, 3), random(128, 16, 5));
    const one = live();
    expect(one).toBeGreaterThanOrEqual(before + 600 * 128 * 4);
    // a second signature evicts the first program: live bytes go down (its buffers out, the smaller second one's in)
    f(random(600, 64, 4), random(64, 16, 6));
    expect(live()).toBeLessThan(one);
  });

  test("every call returns fresh outputs and leaves its inputs alone", () => {
    const p = traceProgram(([x]) => (x === undefined ? [] : [bind("exp", [x], {}), bind("neg", [x], {})]), [aval([3])]);
    const run = compileProgram(p);
    const x = tensorOf([3], [0, 1, 2]);
    const first = run([x]);
    const second = run([tensorOf([3], [5, 5, 5])]);
    expect(first[0]?.data).not.toBe(second[0]?.data);
    expect(valuesOf(first[1] ?? x)).toEqual(["-0", -1, -2]);
    expect(valuesOf(x)).toEqual([0, 1, 2]);
  });

  test("the outputs of primitives outside kernels (matmul, reductions) take reused buffers too", () => {
    // two layers: every product and every activation but the last is an intermediate
    const p = traceProgram(
      ([x, w]) => {
        if (x === undefined || w === undefined) return [];
        const layer = (h: AnyTensor): AnyTensor => bind("tanh", [bind("dot_general", [h, w], { transA: false, transB: false })], {});
        return [bind("reduce_sum", [layer(layer(layer(x)))], { axes: [0, 1] })];
      },
      [aval([4, 4]), aval([4, 4])],
    );
    const plan = fusionPlan(p);
    // the three products and the first two tanh outputs (the last tanh fuses into the sum) live in two
    // buffers: each tanh overwrites the product it reads, the next product takes the other buffer
    expect(plan.intermediates).toBe(5);
    expect(plan.buffers).toBe(2);
    const x = tensorOf([4, 4], randomValues(16, 9));
    const inputs = [x, tensorOf([4, 4], randomValues(16, 10))];
    const run = compileProgram(p);
    const want = interpretProgram(p, inputs)[0] ?? x;
    for (let call = 0; call < 2; call++) expectClose(run(inputs)[0] ?? x, want, 2 ** -18);
  });

  test("a B operand that several products read is packed once per call, and the results keep their bits", () => {
    // u and v are intermediates of one size (v may take u's storage once u is dead); w is read as is and transposed
    const p = traceProgram(
      ([x, w]) => {
        if (x === undefined || w === undefined) return [];
        const dot = (a: AnyTensor, b: AnyTensor, transB = false): AnyTensor => bind("dot_general", [a, b], { transA: false, transB });
        const u = bind("neg", [w], {});
        const v = bind("add", [w, w], {});
        const [a2] = [dot(dot(x, u), u)];
        const a4 = dot(dot(a2, v), v);
        return [dot(dot(dot(dot(a4, w, true), w, true), w), w)];
      },
      [aval([64, 64]), aval([64, 64])],
    );
    const packed = vi.spyOn(PackedOperands.prototype, "packed");
    try {
      const run = compileProgram(p);
      for (let call = 0; call < 2; call++) {
        const inputs = [tensorOf([64, 64], randomValues(64 * 64, 11 + call)), tensorOf([64, 64], randomValues(64 * 64, 12 + call))];
        const want = interpretProgram(p, inputs)[0];
        expect(run(inputs)[0]?.data).toEqual(want?.data);
      }
      // four operands (u, v, w, w transposed), two readers each: one packing copied per operand and call
      expect(packed.mock.results.filter((r) => r.value !== undefined)).toHaveLength(8);
    } finally {
      packed.mockRestore();
    }
  });

  test("a donated input receives an elementwise update in place; the others are left alone", () => {
    // p - 0.5 * g: the SGD update of a parameter p by a gradient g
    const p = traceProgram(([w, g]) => (w === undefined || g === undefined ? [] : [bind("sub", [w, bind("mul", [g, tensorOf([3], [0.5, 0.5, 0.5])], {})], {})]), [aval([3]), aval([3])]);
    const w = tensorOf([3], [1, 2, 3]);
    const g = tensorOf([3], [2, 2, 2]);
    const [updated] = compileProgram(p, { donate: [0] })([w, g]);
    expect(valuesOf(updated ?? w)).toEqual([0, 1, 2]);
    expect(updated?.data).toBe(w.data);
    expect(valuesOf(g)).toEqual([2, 2, 2]);
    // without donation the caller's tensors are never written
    const kept = tensorOf([3], [1, 2, 3]);
    const [fresh] = compileProgram(p)([kept, g]);
    expect(fresh?.data).not.toBe(kept.data);
    expect(valuesOf(kept)).toEqual([1, 2, 3]);
  });

  test("a donated input that another input views is not written", () => {
    const p = traceProgram(([a, b]) => (a === undefined || b === undefined ? [] : [bind("add", [a, b], {})]), [aval([2]), aval([2])]);
    const x = tensorOf([2], [1, 2]);
    const [sum] = compileProgram(p, { donate: [0] })([x, x]);
    expect(valuesOf(sum ?? x)).toEqual([2, 4]);
    expect(valuesOf(x)).toEqual([1, 2]);
    expect(() => compileProgram(p, { donate: [2] })).toThrow(RangeError);
  });

  test("an output that is an input or a constant is returned as it is", () => {
    const c = tensorOf([2], [7, 8]);
    const p = traceProgram(([x]) => (x === undefined ? [] : [x, c]), [aval([2])]);
    const x = tensorOf([2], [1, 2]);
    const [y, z] = compileProgram(p)([x]);
    expect(y).toBe(x);
    expect(z).toBe(c);
  });

  test("primitives that are not fused run between kernels", () => {
    const p = traceProgram(
      ([x, w, i]) => {
        if (x === undefined || w === undefined || i === undefined) return [];
        const h = bind("dot_general", [bind("tanh", [x], {}), w], { transA: false, transB: false });
        const rows = bind("gather", [h, i], { axis: 0 });
        return [bind("reduce_sum", [bind("mul", [rows, rows], {})], { axes: [0, 1] }), bind("argmax", [h], { axis: 1 })];
      },
      [aval([3, 4]), aval([4, 2]), aval([5], "int32")],
    );
    expectSameAsInterpreter(p, [tensorOf([3, 4], randomValues(12, 6)), tensorOf([4, 2], randomValues(8, 7)), tensorOf([5], [0, 2, 1, 2, 0], "int32")]);
  });

  test("reductions over empty axes and int32 and bool values agree with the interpreter", () => {
    const p = traceProgram(
      ([x, y]) => {
        if (x === undefined || y === undefined) return [];
        const positive = bind("compare", [x, bind("broadcast", [bind("reduce_max", [x], { axes: [0, 1] })], { shape: [2, 0], dims: [] })], { op: "lt" });
        const counts = bind("reduce_sum", [bind("cast", [bind("compare", [y, y], { op: "eq" })], { dtype: "int32" })], { axes: [1] });
        return [positive, bind("reduce_max", [x], { axes: [1] }), counts];
      },
      [aval([2, 0], "int32"), aval([3, 4], "float32")],
    );
    expectSameAsInterpreter(p, [tensorOf([2, 0], [], "int32"), tensorOf([3, 4], [1, NaN, 2, 3, 4, 5, NaN, NaN, 0, -0, 1, 2])]);
  });

  test("an input of the wrong shape is a ShapeError naming the program", () => {
    const p = traceProgram(([x]) => (x === undefined ? [] : [bind("exp", [x], {})]), [aval([3])]);
    expect(() => compileProgram(p)([tensor([1, 2])])).toThrow(ShapeError);
  });

  test("the interpreted-kernel mode computes what generated kernels compute", () => {
    const p = traceProgram(([x]) => (x === undefined ? [] : [softmax(x)]), [aval([3, 5])]);
    const x = tensorOf([3, 5], randomValues(15, 8));
    expect(valuesOf(compileProgram(p, { kernels: "interpreted" })([x])[0] ?? x)).toEqual(valuesOf(compileProgram(p)([x])[0] ?? x));
  });
});
