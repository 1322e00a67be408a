/**
 * The laws of `scan`, on random small recurrences (a carry `[h, s]` of
 * vectors, `h' = tanh(h W + x)`, `s' = s + h'`, an output `{ a: h' * x }`),
 * over 0 to 6 steps in either direction:
 *
 * 1. scan equals a plain loop of the same ops over the steps, in float64
 *    (within `1e-12 (1 + |x|)`) and float32 (within `1e-5 (1 + |x|)`: the
 *    loop's body runs as compiled kernels, the loop's ops eagerly);
 * 2. jit(scan) equals the eager scan, exactly;
 * 3. grad of a loss through scan (with respect to W, the initial carry and
 *    the inputs) matches central differences along a random direction, in
 *    float64, eagerly and under jit;
 * 4. with `checkpoint: true` (carries stored, the body computed again in the
 *    gradient's loops) the gradient is exactly the one without, in float64
 *    and float32, eagerly and under jit;
 * 5. second order: the gradient of `w -> <grad_w loss(w), v>` (a Hessian-
 *    vector product through scan, its forward, tangent and reverse loops
 *    differentiated again) matches central differences of the first-order
 *    gradient along a random direction, in float64, with and without
 *    checkpointing, eagerly and under jit;
 * 6. `whileLoop` (a Collatz-like count on a float64 carry, a per-case bound):
 *    under jit it equals the eager loop exactly, and `vmap` of it (each
 *    example running its own number of steps) equals the loop over the
 *    examples, eagerly and under jit.
 *
 * A failure names the case; fast-check prints the seed that replays it.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { Tensor } from "../src/core/tensor.js";
import { add, less, mul, tanh } from "../src/ops/elementwise.js";
import { matmul } from "../src/ops/linalg.js";
import { sum } from "../src/ops/reduce.js";
import { grad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { scan } from "../src/transforms/scan.js";
import { vmap } from "../src/transforms/vmap.js";
import { whileLoop } from "../src/transforms/while-loop.js";
import type { AnyTensor } from "../src/prims/types.js";
import { combine, expectClose, maxAbs, products, randomLike, seeds, sumOf, tensorFrom, uniform, valuesOf, type FloatDType } from "./support/gradient-laws.js";

const numRuns = process.env["STRATUM_HEAVY"] === "1" ? 100 : 15;

type Vec = Tensor<[number], "float64">;
type Mat = Tensor<[number, number], "float64">;
type Carry = readonly [Vec, Vec];

/** One step of the recurrence. */
const step = (w: Mat, [h, s]: Carry, x: Vec): readonly [Carry, { a: Vec }] => {
  const next = tanh(add(matmul(h, w), x));
  return [[next, add(s, next)], { a: mul(next, x) }];
};

/** The recurrence as a scan. */
const byScan = (w: Mat, init: Carry, xs: Mat, reverse: boolean, checkpoint = false): readonly [Carry, { a: Mat }] =>
  scan((c: Carry, x: Vec) => step(w, c, x), init, xs, { reverse, checkpoint });

/** A case: sizes, direction, dtype and values in [-1, 1). */
interface Case {
  readonly n: number;
  readonly length: number;
  readonly reverse: boolean;
  readonly seed: number;
}
const cases = fc.record({ n: fc.integer({ min: 1, max: 4 }), length: fc.integer({ min: 0, max: 6 }), reverse: fc.boolean(), seed: seeds });

function inputsOf(c: Case, dtype: FloatDType): { w: Mat; init: Carry; xs: Mat } {
  const r = uniform(c.seed);
  const values = (k: number): number[] => Array.from({ length: k }, () => r());
  // the casts name the dtype and rank that tensorFrom was just given
  const w = tensorFrom([c.n, c.n], dtype, values(c.n * c.n)) as Mat; // [n, n] of dtype
  const h = tensorFrom([c.n], dtype, values(c.n)) as Vec; // [n] of dtype
  const s = tensorFrom([c.n], dtype, values(c.n)) as Vec; // [n] of dtype
  const xs = tensorFrom([c.length, c.n], dtype, values(c.length * c.n)) as Mat; // [length, n] of dtype
  return { w, init: [h, s], xs };
}

/** The recurrence as a plain loop of eager ops over the steps. */
function byLoop(w: Mat, init: Carry, xs: Mat, reverse: boolean): { carry: number[][]; a: number[] } {
  const [length, n] = [xs.shape[0], xs.shape[1]];
  const all = valuesOf(xs);
  let carry = init;
  const a: number[][] = new Array<number[]>(length);
  for (let k = 0; k < length; k++) {
    const t = reverse ? length - 1 - k : k;
    const x = tensorFrom([n], xs.dtype, all.slice(t * n, (t + 1) * n)) as Vec; // one row of xs, [n] of its dtype
    const [next, y] = step(w, carry, x);
    carry = next;
    a[t] = valuesOf(y.a);
  }
  return { carry: carry.map(valuesOf), a: a.flat() };
}

const flatOut = ([[h, s], { a }]: readonly [Carry, { a: Mat }]): number[] => [...valuesOf(h), ...valuesOf(s), ...valuesOf(a)];
const describeCase = (c: Case): string => `n=${c.n} length=${c.length} reverse=${c.reverse} seed=${c.seed}`;

describe("scan equals a plain loop", () => {
  for (const [dtype, bound] of [["float64", 1e-12], ["float32", 1e-5]] as const) {
    test.prop([cases], { numRuns })(`in ${dtype}`, (c) => {
      const { w, init, xs } = inputsOf(c, dtype);
      const loop = byLoop(w, init, xs, c.reverse);
      const want = [...loop.carry.flat(), ...loop.a];
      const got = flatOut(byScan(w, init, xs, c.reverse));
      expectClose(got, want, bound * (1 + maxAbs(want)), `${describeCase(c)} ${dtype}`);
    });
  }
});

describe("jit(scan) equals the eager scan", () => {
  test.prop([cases], { numRuns })("in float64, exactly", (c) => {
    const { w, init, xs } = inputsOf(c, "float64");
    const eager = flatOut(byScan(w, init, xs, c.reverse));
    const jitted = flatOut(jit((w: Mat, init: Carry, xs: Mat) => byScan(w, init, xs, c.reverse))(w, init, xs));
    expect(jitted, describeCase(c)).toEqual(eager);
  });
});

/** The loss of the laws on gradients: a sum of the final carry's squares, the running sum and the outputs. */
const loss = (reverse: boolean, checkpoint = false) => (w: Mat, init: Carry, xs: Mat): Tensor<[], "float64"> => {
  const [[h, s], { a }] = byScan(w, init, xs, reverse, checkpoint);
  return add(add(sum(mul(h, h)), sum(s)), sum(a));
};

describe("grad of scan matches central differences", () => {
  test.prop([cases], { numRuns })("in float64, eagerly and under jit", (c) => {
    const { w, init, xs } = inputsOf(c, "float64");
    const f = loss(c.reverse);
    const args: AnyTensor[] = [w, init[0], init[1], xs];
    const g = grad(f, { argnums: [0, 1, 2] })(w, init, xs);
    const gj = jit(grad(f, { argnums: [0, 1, 2] }))(w, init, xs);
    const grads: AnyTensor[] = [g[0], g[1][0], g[1][1], g[2]];
    const gradsJit: AnyTensor[] = [gj[0], gj[1][0], gj[1][1], gj[2]];
    const r = uniform(c.seed ^ 0x5f5f);
    const dirs = args.map((x) => randomLike(x, r));
    const eps = 1e-6;
    const at = (sign: number): number => {
      const [w2, h2, s2, xs2] = args.map((x, i) => combine(1, x, sign * eps, dirs[i] ?? x));
      // the casts restore the types of the tensors that combine shifted
      return valuesOf(f(w2 as Mat, [h2 as Vec, s2 as Vec], xs2 as Mat))[0] ?? NaN; // each shifted tensor keeps its input's shape and dtype
    };
    const fd = (at(1) - at(-1)) / (2 * eps);
    const directional = (gs: AnyTensor[]): number => sumOf(gs.flatMap((gr, i) => products(gr, dirs[i] ?? gr)));
    expectClose([directional(grads), directional(gradsJit)], [fd, fd], 1e-6 * (1 + Math.abs(fd)), describeCase(c));
  });
});

describe("checkpointing does not change the gradient", () => {
  for (const dtype of ["float64", "float32"] as const) {
    test.prop([cases], { numRuns })(`in ${dtype}, exactly, eagerly and under jit`, (c) => {
      const { w, init, xs } = inputsOf(c, dtype);
      const all = (checkpoint: boolean, jitted: boolean): number[] => {
        const g = grad(loss(c.reverse, checkpoint), { argnums: [0, 1, 2] });
        const [gw, [gh, gs], gx] = (jitted ? jit(g) : g)(w, init, xs);
        return [gw, gh, gs, gx].flatMap(valuesOf);
      };
      expect(all(true, false), describeCase(c)).toEqual(all(false, false));
      expect(all(true, true), describeCase(c)).toEqual(all(false, true));
    });
  }
});

describe("second-order gradients through scan match differences of the first-order gradient", () => {
  test.prop([cases, fc.boolean()], { numRuns })("in float64, eagerly and under jit", (c, checkpoint) => {
    const { w, init, xs } = inputsOf(c, "float64");
    const r = uniform(c.seed ^ 0x2b2b);
    const v = randomLike(w, r) as Mat; // a tensor like w: [n, n] in float64
    const u = randomLike(w, r) as Mat; // as above
    const f = loss(c.reverse, checkpoint);
    // <grad_w f(w), v>, whose gradient is the Hessian (in w) applied to v
    const gradAlong = (w: Mat): Tensor<[], "float64"> => sum(mul(grad(f)(w, init, xs), v));
    const second = grad(gradAlong)(w);
    const secondJit = jit(grad(gradAlong))(w);
    const eps = 1e-5;
    const at = (sign: number): number => valuesOf(gradAlong(combine(1, w, sign * eps, u) as Mat))[0] ?? NaN; // w shifted keeps its shape and dtype
    const fd = (at(1) - at(-1)) / (2 * eps);
    const along = (g: AnyTensor): number => sumOf(products(g, u));
    expectClose([along(second), along(secondJit)], [fd, fd], 1e-6 * (1 + Math.abs(fd)), `${describeCase(c)} checkpoint=${checkpoint}`);
  });
});

describe("whileLoop: jit equals eager, and vmap equals the loop over the examples", () => {
  type W = readonly [Tensor<[], "float64">, Vec];
  // grow the vector by x <- 1.5 x + 0.25 until its sum passes the bound, counting the steps
  const loopTo = (bound: Tensor<[], "float64">) => (init: W): W =>
    whileLoop(
      ([, x]: W) => less(sum(x), bound),
      ([k, x]: W): W => [add(k, tensorFrom([], "float64", [1]) as Tensor<[], "float64">), add(mul(x, tensorFrom([], "float64", [1.5]) as Tensor<[], "float64">), tensorFrom([], "float64", [0.25]) as Tensor<[], "float64">)], // scalars made in float64
      init,
    );
  const whileCases = fc.record({ n: fc.integer({ min: 1, max: 4 }), examples: fc.integer({ min: 1, max: 4 }), bound: fc.double({ min: -2, max: 40, noNaN: true }), seed: seeds });
  test.prop([whileCases], { numRuns })("in float64, exactly", ({ n, examples, bound, seed }) => {
    const r = uniform(seed);
    const b = tensorFrom([], "float64", [bound]) as Tensor<[], "float64">; // a float64 scalar
    const zero = tensorFrom([], "float64", [0]) as Tensor<[], "float64">; // as above
    const xs = Array.from({ length: examples }, () => tensorFrom([n], "float64", Array.from({ length: n }, () => Math.abs(r()) + 0.1)) as Vec); // [n] in float64, positive
    const f = loopTo(b);
    const eager = xs.map((x) => f([zero, x]));
    const jitted = xs.map((x) => jit(f)([zero, x]));
    expect(jitted.map(([k, x]) => [...valuesOf(k), ...valuesOf(x)])).toEqual(eager.map(([k, x]) => [...valuesOf(k), ...valuesOf(x)]));
    // the examples stacked, [examples, n], and each example's own bound
    const stacked = tensorFrom([examples, n], "float64", xs.flatMap(valuesOf)) as Mat; // [examples, n] in float64
    const bounds = tensorFrom([examples], "float64", xs.map((_, e) => bound - e)) as Vec; // [examples] in float64
    const batched = (bs: Vec, x: Mat) => vmap((bb: Tensor<[], "float64">, xx: Vec) => loopTo(bb)([zero, xx]))(bs, x);
    const want = xs.map((x, e) => loopTo(tensorFrom([], "float64", [bound - e]) as Tensor<[], "float64">)([zero, x])); // the scalar bound of example e
    for (const [k, x] of [batched(bounds, stacked), jit(batched)(bounds, stacked)]) {
      expect([...valuesOf(k)], `${examples} examples`).toEqual(want.map(([kk]) => valuesOf(kk)[0]));
      expect([...valuesOf(x)], `${examples} examples`).toEqual(want.flatMap(([, xx]) => valuesOf(xx)));
    }
  });
});
