import { describe, expect, test } from "vitest";
import { ones, tensor, zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import { printProgram, typecheckProgram } from "../../src/ir/program.js";
import { add, cast, exp, greater, mul, neg, sub, where } from "../../src/ops/elementwise.js";
import { jit } from "../../src/transforms/jit.js";

describe("elementwise ops", () => {
  test("add broadcasts a row over a matrix", () => {
    const y = add(tensor([[1, 2, 3], [4, 5, 6]]), tensor([10, 20, 30]));
    expect(y.shape).toEqual([2, 3]);
    expect(y.toNested()).toEqual([[11, 22, 33], [14, 25, 36]]);
  });
  test("numbers are scalars of the other operand's dtype", () => {
    expect(mul(2, tensor([1, 2], "int32")).toArray()).toEqual([2, 4]);
    expect(sub(tensor([1.5]), 1).toArray()).toEqual([0.5]);
  });
  test("where selects and compare gives bool", () => {
    const x = tensor([-1, 2, -3]);
    expect(greater(x, 0).dtype).toBe("bool");
    expect(where(greater(x, 0), x, 0).toArray()).toEqual([0, 2, 0]);
  });
  test("cast truncates floats to int32", () => {
    expect(cast(tensor([1.7, -1.7]), "int32").toArray()).toEqual([1, -1]);
  });
  test("shapes that do not broadcast throw a ShapeError naming the op", () => {
    const a = zeros([2, 3]) as ReturnType<typeof zeros<number[]>>;
    const b = ones([4]) as ReturnType<typeof zeros<number[]>>;
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow(/^add: shapes \[2, 3\] and \[4\] do not broadcast/);
  });
});

describe("jit", () => {
  test("traces once per signature and agrees with eager evaluation", () => {
    const f = jit((x: ReturnType<typeof tensor<readonly number[]>>) => exp(neg(mul(x, x))));
    const x = tensor([0, 0.5, 1, 2]);
    expect(f(x).toArray()).toEqual(exp(neg(mul(x, x))).toArray());
    f(tensor([3, 4, 5, 6]));
    expect(f.traces).toBe(1);
    f(tensor([3, 4, 5]));
    expect(f.traces).toBe(2);
    const p = f.lastProgram;
    if (p === undefined) throw new Error("no program");
    expect(typecheckProgram(p)).toEqual([]);
    expect(printProgram(p)).toBe(
      ["{ lambda a:f32[3] .", "  let", "    b:f32[3] = mul a a", "    c:f32[3] = neg b", "    d:f32[3] = exp c", "  in (d) }"].join("\n"),
    );
  });
});
