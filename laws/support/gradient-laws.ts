/**
 * The gradient laws of the autodiff issue, on any function of tensors (a
 * primitive, an op, a layer): the JVP against central differences, the
 * adjoint identity between the linearized program and its transpose, and the
 * JVP's linearity in the tangent. Shared by `autodiff.law.test.ts` and
 * `layers.law.test.ts`; the tolerances are documented there.
 */

import fc from "fast-check";
import { expect } from "vitest";
import { allocate, type DType } from "../../src/core/dtype.js";
import { Tensor } from "../../src/core/tensor.js";
import { evaluateProgram } from "../../src/ir/interpret.js";
import type { AnyTensor } from "../../src/prims/types.js";
import { jvpFlat } from "../../src/transforms/jvp.js";
import { isFloatDType } from "../../src/core/dtype.js";
import { linearizeFlat, transposeProgram } from "../../src/transforms/linearize.js";

export type FloatDType = "float32" | "float64";

// ---------------------------------------------------------------------------
// Tensors as lists of numbers
// ---------------------------------------------------------------------------

export const valuesOf = (x: AnyTensor): number[] => Array.from(x.data, Number);

/** A tensor of `shape` and `dtype` holding `values` (rounded to the dtype by its storage). */
export function tensorFrom(shape: readonly number[], dtype: DType, values: readonly number[]): AnyTensor {
  const data = allocate(dtype, values.length);
  values.forEach((v, i) => (data[i] = v));
  return new Tensor([...shape], dtype, data);
}

/**
 * A stream of numbers uniform in [-1, 1) from a 32-bit seed (mulberry32), so
 * that the tangents of a case are replayed by fast-check's seed.
 */
export function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A tensor like `like` with values uniform in [-1, 1). */
export function randomLike(like: AnyTensor, random: () => number): AnyTensor {
  return tensorFrom(like.shape, like.dtype, valuesOf(like).map(() => random()));
}

/** `a x + b y` elementwise, in the dtype of `x`. */
export function combine(a: number, x: AnyTensor, b: number, y: AnyTensor): AnyTensor {
  const ys = valuesOf(y);
  return tensorFrom(x.shape, x.dtype, valuesOf(x).map((v, i) => a * v + b * (ys[i] ?? NaN)));
}

/** `x` converted to `dtype` when it is a float tensor of another float dtype. */
export function inDType(x: AnyTensor, dtype: FloatDType): AnyTensor {
  return isFloatDType(x.dtype) && x.dtype !== dtype ? tensorFrom(x.shape, dtype, valuesOf(x)) : x;
}

/** The products of matching elements of `a` and `b` (which have one shape). */
export function products(a: AnyTensor, b: AnyTensor): number[] {
  const bs = valuesOf(b);
  return valuesOf(a).map((v, i) => v * (bs[i] ?? NaN));
}

export const sumOf = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);
export const maxAbs = (values: readonly number[]): number => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Expects `got` to equal `want` element by element within `bound`, naming the
 * worst element in the failure message (a NaN is the worst).
 */
export function expectClose(got: readonly number[], want: readonly number[], bound: number, message: string): void {
  expect(got.length, `${message}: ${got.length} values, expected ${want.length}`).toBe(want.length);
  let worst = 0;
  let at = -1;
  want.forEach((w, i) => {
    const error = Math.abs((got[i] ?? NaN) - w);
    const e = Number.isNaN(error) ? Infinity : error;
    if (at < 0 || e > worst) [worst, at] = [e, i];
  });
  expect(worst, `${message}: element ${at} is ${got[at]}, expected ${want[at]} (bound ${bound})`).toBeLessThanOrEqual(bound);
}

// ---------------------------------------------------------------------------
// The laws, on a function of tensors
// ---------------------------------------------------------------------------

/** A function of tensors under the laws: a primitive or an op applied to inputs. */
export interface Subject {
  readonly name: string;
  readonly inputs: readonly AnyTensor[];
  readonly f: (xs: readonly AnyTensor[]) => AnyTensor;
  /** The parameters or arguments besides the inputs, for failure messages. */
  readonly detail: string;
}

/** What a failure message says of a subject: its name, its details and its inputs' types. */
export function describeSubject(s: Subject): string {
  const inputs = s.inputs.map((x) => `${x.dtype}[${x.shape.join(", ")}]`).join(", ");
  return `${s.name}${s.detail === "" ? "" : ` ${s.detail}`} on (${inputs})`;
}

/** `s` with its float inputs converted to `dtype`. */
export function inFloat(s: Subject, dtype: FloatDType): Subject {
  return { ...s, inputs: s.inputs.map((x) => inDType(x, dtype)) };
}

/** How closely the laws hold in one dtype. */
export interface Tolerance {
  /** The step of the central differences. */
  readonly eps: number;
  /** `|fd - jvp| <= fd (1 + max|fd|)`. */
  readonly fd: number;
  /** `|<ct, J t> - <J^T ct, t>| <= adjoint (1 + sum|ct J t| + sum|J^T ct t|)`; also linearity's. */
  readonly adjoint: number;
}

export const tolerances: Record<FloatDType, Tolerance> = {
  float64: { eps: 1e-6, fd: 1e-6, adjoint: 1e-10 },
  float32: { eps: 1e-2, fd: 2e-3, adjoint: 2e-3 },
};

/** Random tangents for the float inputs of `s`; none for the others. */
export function tangentsFor(s: Subject, random: () => number): (AnyTensor | null)[] {
  return s.inputs.map((x) => (isFloatDType(x.dtype) ? randomLike(x, random) : null));
}

/** The output of `s` and its tangent along `tangents` (`null` for a symbolic zero). */
export function jvpOf(s: Subject, tangents: readonly (AnyTensor | null)[]): { y: AnyTensor; dy: AnyTensor | null } {
  const out = jvpFlat((xs) => [s.f(xs)], s.inputs, tangents);
  const y = out.primals[0];
  if (y === undefined) throw new Error(`${describeSubject(s)}: no output`);
  return { y, dy: out.tangents[0] ?? null };
}

/** The values of a tangent of `y`, zeros for a symbolic zero. */
export const tangentValues = (dy: AnyTensor | null, y: AnyTensor): number[] => (dy === null ? valuesOf(y).map(() => 0) : valuesOf(dy));

/** (a) The JVP along random tangents equals central differences of `f` along them. */
export function jvpMatchesDifferences(s: Subject, seed: number, tol: Tolerance): void {
  const at = describeSubject(s);
  const tangents = tangentsFor(s, uniform(seed));
  const { y, dy } = jvpOf(s, tangents);
  if (!isFloatDType(y.dtype)) {
    expect(dy, `${at}: a ${y.dtype} output has a tangent`).toBeNull();
    return;
  }
  // f(x + h t), in the inputs' own dtype (float32 rounds the step as it would round anything)
  const shifted = (h: number): number[] =>
    valuesOf(s.f(s.inputs.map((x, i) => {
      const t = tangents[i];
      return t === null || t === undefined ? x : combine(1, x, h, t);
    })));
  const central = (h: number): number[] => {
    const [plus, minus] = [shifted(h), shifted(-h)];
    return plus.map((p, i) => (p - (minus[i] ?? NaN)) / (2 * h));
  };
  // float64: the central differences at eps and eps / 2 extrapolated (Richardson), whose error falls as eps^4, not eps^2: a layer
  // norm over two features is steep (the heavy run's seed -1673720177, path 99:3:36:54:37: a pre-norm transformer block with d 2,
  // the plain difference off by 1.4e-5 at eps 1e-6 where the bound was 1.3e-5). float32: the plain difference, as the rounding of
  // the step, which the extrapolation would triple, dominates there.
  const wide = central(tol.eps);
  const differences = y.dtype === "float64" ? central(tol.eps / 2).map((half, i) => (4 * half - (wide[i] ?? NaN)) / 3) : wide;
  expectClose(tangentValues(dy, y), differences, tol.fd * (1 + maxAbs(differences)), `${at}: the JVP against central differences`);
}

/** (b) `<ct, J t> = <J^T ct, t>` between the linearized program and its transpose. */
export function adjointIdentity(s: Subject, seed: number, tol: Tolerance): void {
  const at = describeSubject(s);
  const random = uniform(seed);
  const lin = linearizeFlat((xs) => [s.f(xs)], s.inputs);
  const y = lin.outputs[0];
  if (y === undefined || !isFloatDType(y.dtype)) return;
  // an input without a tangent is never read by the program: its primal stands in for it
  const tangents = s.inputs.map((x) => (isFloatDType(x.dtype) ? randomLike(x, random) : x));
  const [jt] = evaluateProgram(lin.program, tangents);
  if (jt === undefined) throw new Error(`${at}: the linear program has no output`);
  const ct = randomLike(y, random);
  const cts = transposeProgram(lin.program, [ct]);
  const forward = products(ct, jt);
  const backward: number[] = [];
  s.inputs.forEach((x, i) => {
    const c = cts[i] ?? null;
    if (!isFloatDType(x.dtype)) {
      expect(c, `${at}: the ${x.dtype} input ${i} got a cotangent`).toBeNull();
      return;
    }
    if (c === null) return;
    expect([c.dtype, [...c.shape]], `${at}: the cotangent of input ${i}`).toEqual([x.dtype, [...x.shape]]);
    backward.push(...products(c, tangents[i] ?? x));
  });
  const [lhs, rhs] = [sumOf(forward), sumOf(backward)];
  const bound = tol.adjoint * (1 + sumOf(forward.map(Math.abs)) + sumOf(backward.map(Math.abs)));
  expect(Math.abs(lhs - rhs), `${at}: <ct, J t> = ${lhs} but <J^T ct, t> = ${rhs} (bound ${bound})`).toBeLessThanOrEqual(bound);
}

/** (c) `jvp(a t1 + b t2) = a jvp(t1) + b jvp(t2)`. */
export function jvpIsLinear(s: Subject, seed: number, tol: Tolerance): void {
  const at = describeSubject(s);
  const random = uniform(seed);
  const [t1, t2] = [tangentsFor(s, random), tangentsFor(s, random)];
  const [a, b] = [2 * random(), 2 * random()];
  const mixed = t1.map((t, i) => {
    const u = t2[i];
    return t === null || u === null || u === undefined ? null : combine(a, t, b, u);
  });
  const [one, two, both] = [jvpOf(s, t1), jvpOf(s, t2), jvpOf(s, mixed)];
  if (!isFloatDType(both.y.dtype)) return;
  const [j1, j2] = [tangentValues(one.dy, one.y), tangentValues(two.dy, two.y)];
  const want = j1.map((v, i) => a * v + b * (j2[i] ?? NaN));
  const scale = maxAbs(j1.map((v, i) => Math.abs(a * v) + Math.abs(b * (j2[i] ?? NaN))));
  expectClose(tangentValues(both.dy, both.y), want, tol.adjoint * (1 + scale), `${at}: jvp(${a} t1 + ${b} t2) against ${a} jvp(t1) + ${b} jvp(t2)`);
}

