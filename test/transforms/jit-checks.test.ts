import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import type { Tensor } from "../../src/core/tensor.js";
import { mul, sub } from "../../src/ops/elementwise.js";
import { sum } from "../../src/ops/reduce.js";
import { grad } from "../../src/transforms/grad.js";
import { checkValues, jit } from "../../src/transforms/jit.js";

/** `x * 2`, checking that `sum(x)` is not negative. */
function doubled(x: Tensor<[2]>): Tensor<[2]> {
  checkValues([sum(x)], ([s = NaN]) => (s >= 0 ? undefined : new RangeError(`doubled: the sum ${s} is negative`)));
  return mul(x, 2);
}

describe("checkValues", () => {
  test("checks concrete values at once", () => {
    expect(doubled(tensor([1, 2])).toArray()).toEqual([2, 4]);
    expect(() => doubled(tensor([1, -2]))).toThrow(new RangeError("doubled: the sum -1 is negative"));
  });

  test("under jit, checks the values after every run of the one compiled program", () => {
    const f = jit(doubled);
    expect(f(tensor([1, 2])).toArray()).toEqual([2, 4]);
    expect(() => f(tensor([1, -2]))).toThrow(new RangeError("doubled: the sum -1 is negative"));
    expect(f(tensor([3, 4])).toArray()).toEqual([6, 8]);
    expect(f.traces).toBe(1);
  });

  test("inside another transform of a value jit does not trace, the check is skipped", () => {
    const loss = (x: Tensor<[2]>) => sum(doubled(sub(x, 10)));
    expect(grad(loss)(tensor([1, 2])).toArray()).toEqual([2, 2]);
    expect(jit(grad(loss))(tensor([1, 2])).toArray()).toEqual([2, 2]);
  });
});
