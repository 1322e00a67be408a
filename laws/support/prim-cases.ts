/**
 * The generators of the primitive laws: one fast-check arbitrary per
 * primitive of the registry, each giving operands and parameters that the
 * primitive's shape rule accepts. `cases` is typed by the registry's names,
 * so a new primitive does not compile until it has a generator here; then
 * every law that iterates `cases` (`prims.law.test.ts`,
 * `autodiff.law.test.ts`) covers it.
 *
 * Operands are float64 (int32 for indices, bool for `select`'s condition)
 * with values in [-3, 3], 0 and ±1 among them; sizes include 0, 1 and 7.
 * Leaves out: value domains (laws that need inputs away from a kink or a
 * pole map these cases onto their own domains).
 */

import fc from "fast-check";
import { allocate, type DType } from "../../src/core/dtype.js";
import { shapeSize } from "../../src/core/shape.js";
import { Tensor } from "../../src/core/tensor.js";
import type { PrimName, PrimParams } from "../../src/prims/params.js";
import { bind } from "../../src/prims/bind.js";
import * as lax from "../../src/prims/lax.js";
import { aval, scanEquation } from "../../src/transforms/scan.js";
import { traceProgram } from "../../src/transforms/trace.js";
import { whileEquation } from "../../src/transforms/while-loop.js";
import type { AnyTensor } from "../../src/prims/types.js";

/**
 * A loop's equation whose body captures `values` as operands (as it would
 * tracers of an enclosing transform; a concrete captured value would become a
 * constant of the body): `build` gets them as inputs of a trace, and the
 * equation's operands get the values back in their place.
 */
function withCaptured<P>(values: readonly AnyTensor[], build: (captured: readonly AnyTensor[]) => { inputs: AnyTensor[]; params: P }): { inputs: AnyTensor[]; params: P } {
  let eqn: { inputs: AnyTensor[]; params: P } | undefined;
  let traced: readonly AnyTensor[] = [];
  traceProgram((captured) => {
    traced = captured;
    eqn = build(captured);
    return [];
  }, values.map(aval));
  if (eqn === undefined) throw new Error("the loop was not built");
  const inputs = eqn.inputs.map((x) => values[traced.indexOf(x)] ?? x);
  // NOTE: a value computed from the captured ones outside the body would be a tracer of the finished trace
  if (inputs.some((x) => x.tracer !== undefined)) throw new Error("a loop case computes with its captured values outside the body");
  return { inputs, params: eqn.params };
}

/** Operands and parameters of one application of primitive `K`. */
export interface Case<K extends PrimName> {
  readonly inputs: readonly AnyTensor[];
  readonly params: PrimParams[K];
}

/** A dim: mostly 1 to 4, now and then 0, 1 or 7. */
export const dim = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 7) });
/** A shape of rank `min` to `max`. */
export const shape = (min = 0, max = 3): fc.Arbitrary<number[]> => fc.array(dim, { minLength: min, maxLength: max });
/** An element: a double in [-3, 3], or one of 0, -0, 1, -1. */
export const value = fc.oneof({ weight: 8, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, -1) });

/** A tensor of shape `dims` and `dtype` (int32 rounds the values, bool keeps their sign). */
export function tensorOf(dims: readonly number[], dtype: DType = "float64"): fc.Arbitrary<AnyTensor> {
  const n = shapeSize(dims);
  return fc.array(value, { minLength: n, maxLength: n }).map((vs) => {
    const data = allocate(dtype, n);
    vs.forEach((v, i) => {
      data[i] = dtype === "bool" ? (v > 0 ? 1 : 0) : dtype === "int32" ? Math.round(v) : v;
    });
    return new Tensor(dims, dtype, data);
  });
}

/** A convolution's shapes: input, filter, output, and its options (padding resolved). */
export const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    groups: fc.integer({ min: 1, max: 2 }),
    cin: fc.integer({ min: 1, max: 2 }),
    cout: fc.integer({ min: 1, max: 2 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  })
  .filter(({ h, w, kh, kw, dilation, pads }) => h + pads[0] + pads[1] >= dilation[0] * (kh - 1) + 1 && w + pads[2] + pads[3] >= dilation[1] * (kw - 1) + 1)
  .map(({ n, h, w, groups, cin, cout, kh, kw, stride, dilation, pads }) => {
    const oh = Math.floor((h + pads[0] + pads[1] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
    const ow = Math.floor((w + pads[2] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
    return {
      x: [n, h, w, cin * groups],
      w: [kh, kw, cin, cout * groups],
      y: [n, oh, ow, cout * groups],
      params: {
        stride,
        dilation,
        padding: [
          [pads[0], pads[1]],
          [pads[2], pads[3]],
        ] as const,
        groups,
      },
    };
  });

/** A pooling's shapes and options (padding smaller than the window, as the kernels require). */
export const poolCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    c: fc.integer({ min: 1, max: 3 }),
    window: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  })
  .filter(({ h, w, window, pads }) => pads[0] < window[0] && pads[1] < window[0] && pads[2] < window[1] && pads[3] < window[1] && h + pads[0] + pads[1] >= window[0] && w + pads[2] + pads[3] >= window[1])
  .map(({ n, h, w, c, window, stride, pads }) => {
    const oh = Math.floor((h + pads[0] + pads[1] - window[0]) / stride[0]) + 1;
    const ow = Math.floor((w + pads[2] + pads[3] - window[1]) / stride[1]) + 1;
    return {
      x: [n, h, w, c],
      y: [n, oh, ow, c],
      params: {
        window,
        stride,
        padding: [
          [pads[0], pads[1]],
          [pads[2], pads[3]],
        ] as const,
      },
    };
  });

const unary = <K extends PrimName>(params: PrimParams[K], dtype: DType = "float64"): fc.Arbitrary<Case<K>> =>
  shape().chain((s) => tensorOf(s, dtype).map((x) => ({ inputs: [x], params })));
const binary = <K extends PrimName>(params: PrimParams[K], dtype: DType = "float64"): fc.Arbitrary<Case<K>> =>
  shape().chain((s) => fc.tuple(tensorOf(s, dtype), tensorOf(s, dtype)).map((xs) => ({ inputs: xs, params })));
const none = {} as PrimParams["add"]; // the empty parameter record of parameterless primitives

/** One generator per primitive of the registry. */
export const cases: { readonly [K in PrimName]: fc.Arbitrary<Case<K>> } = {
  neg: unary(none),
  exp: unary(none),
  log: unary(none),
  log1p: unary(none),
  sin: unary(none),
  cos: unary(none),
  sqrt: unary(none),
  tanh: unary(none),
  erf: unary(none),
  erfc: unary(none),
  add: binary(none),
  sub: binary(none),
  mul: binary(none),
  div: binary(none),
  max: binary(none),
  min: binary(none),
  pow: binary(none),
  compare: fc.constantFrom("lt", "le", "gt", "ge", "eq", "ne" as const).chain((op) => binary<"compare">({ op })),
  select: shape().chain((s) =>
    fc.tuple(tensorOf(s, "bool"), tensorOf(s), tensorOf(s)).map((xs) => ({ inputs: xs, params: none })),
  ),
  cast: fc
    .tuple(fc.constantFrom<DType>("float32", "float64", "int32", "bool"), fc.constantFrom<DType>("float32", "float64", "int32", "bool"))
    .chain(([from, to]) => unary<"cast">({ dtype: to }, from)),
  reduce_sum: shape().chain((s) => fc.tuple(tensorOf(s), fc.subarray(s.map((_, i) => i))).map(([x, axes]) => ({ inputs: [x], params: { axes } }))),
  reduce_max: shape().chain((s) => fc.tuple(tensorOf(s), fc.subarray(s.map((_, i) => i))).map(([x, axes]) => ({ inputs: [x], params: { axes } }))),
  argmax: shape(1).chain((s) =>
    fc.tuple(tensorOf(s.map((d) => Math.max(d, 1))), fc.integer({ min: 0, max: s.length - 1 })).map(([x, axis]) => ({ inputs: [x], params: { axis } })),
  ),
  reshape: shape().chain((s) => tensorOf(s).map((x) => ({ inputs: [x], params: { shape: [shapeSize(s)] } }))),
  broadcast: shape().chain((s) =>
    fc.tuple(tensorOf(s.map((d) => (d > 2 ? 1 : d))), dim).map(([x, lead]) => ({
      inputs: [x],
      params: { shape: [lead, ...s], dims: s.map((_, i) => i + 1) },
    })),
  ),
  transpose: shape().chain((s) =>
    fc.tuple(tensorOf(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length })).map(([x, perm]) => ({
      inputs: [x],
      params: { perm },
    })),
  ),
  slice: shape(1).chain((s) =>
    fc
      .tuple(
        tensorOf(s),
        fc.tuple(...s.map((d) => (d === 0 ? fc.constant({ start: 0, step: 1, size: 0 }) : fc.integer({ min: 0, max: d - 1 }).chain((start) =>
          fc.constantFrom(1, 2, -1).chain((step) => {
            const room = step > 0 ? Math.floor((d - 1 - start) / step) + 1 : Math.floor(start / -step) + 1;
            return fc.integer({ min: 0, max: room }).map((size) => ({ start, step, size }));
          }),
        )))),
      )
      .map(([x, axes]) => ({
        inputs: [x],
        params: { starts: axes.map((a) => a.start), steps: axes.map((a) => a.step), sizes: axes.map((a) => a.size) },
      })),
  ),
  pad: shape().chain((s) =>
    fc
      .tuple(tensorOf(s), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: s.length, maxLength: s.length }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: s.length, maxLength: s.length }), value)
      .map(([x, lo, hi, v]) => ({ inputs: [x], params: { lo, hi, value: v } })),
  ),
  concatenate: shape(1).chain((s) =>
    fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(dim, { minLength: 1, maxLength: 3 })).chain(([axis, sizes]) =>
      fc.tuple(...sizes.map((d) => tensorOf(s.map((e, i) => (i === axis ? d : e))))).map((xs) => ({ inputs: xs, params: { axis } })),
    ),
  ),
  dot_general: fc.tuple(shape(0, 2), dim, dim, dim, fc.boolean(), fc.boolean()).chain(([batch, m, k, n, transA, transB]) =>
    fc
      .tuple(tensorOf([...batch, ...(transA ? [k, m] : [m, k])]), tensorOf([...batch, ...(transB ? [n, k] : [k, n])]))
      .map((xs) => ({ inputs: xs, params: { transA, transB } })),
  ),
  gather: shape(1).chain((s) => {
    const t = s.map((d) => Math.max(d, 1));
    return fc
      .tuple(fc.integer({ min: 0, max: t.length - 1 }), shape(0, 2))
      .chain(([axis, idxShape]) =>
        fc.tuple(tensorOf(t), fc.array(fc.integer({ min: 0, max: (t[axis] ?? 1) - 1 }), { minLength: shapeSize(idxShape), maxLength: shapeSize(idxShape) })).map(([x, ids]) => ({
          inputs: [x, new Tensor(idxShape, "int32", Int32Array.from(ids))],
          params: { axis },
        })),
      );
  }),
  scatter_add: fc.tuple(shape(0, 2), shape(0, 2), shape(0, 1), fc.integer({ min: 1, max: 4 })).chain(([outer, idxShape, inner, size]) =>
    fc
      .tuple(tensorOf([...outer, ...idxShape, ...inner]), fc.array(fc.integer({ min: 0, max: size - 1 }), { minLength: shapeSize(idxShape), maxLength: shapeSize(idxShape) }))
      .map(([u, ids]) => ({ inputs: [u, new Tensor(idxShape, "int32", Int32Array.from(ids))], params: { axis: outer.length, size } })),
  ),
  conv2d: convCase.chain(({ x, w, params }) => fc.tuple(tensorOf(x), tensorOf(w)).map((xs) => ({ inputs: xs, params }))),
  conv2d_input_grad: convCase.chain(({ x, w, y, params }) =>
    fc.tuple(tensorOf(y), tensorOf(w)).map((xs) => ({ inputs: xs, params: { ...params, inShape: x } })),
  ),
  conv2d_filter_grad: convCase.chain(({ x, w, y, params }) =>
    fc.tuple(tensorOf(x), tensorOf(y)).map((xs) => ({ inputs: xs, params: { ...params, filterShape: w } })),
  ),
  max_pool2d: poolCase.chain(({ x, params }) => tensorOf(x).map((t) => ({ inputs: [t], params }))),
  avg_pool2d: poolCase.chain(({ x, params }) => tensorOf(x).map((t) => ({ inputs: [t], params }))),
  max_pool2d_grad: poolCase.chain(({ x, y, params }) => fc.tuple(tensorOf(x), tensorOf(y)).map((xs) => ({ inputs: xs, params }))),
  max_pool2d_pick: poolCase.chain(({ x, params }) => fc.tuple(tensorOf(x), tensorOf(x)).map((xs) => ({ inputs: xs, params }))),
  // a user-given linear map: (a, b) -> 2a + 3b, with its transpose ct -> (2ct, 3ct)
  custom_linear: shape().chain((s) =>
    fc.tuple(tensorOf(s), tensorOf(s)).map((xs) => ({
      inputs: xs,
      params: {
        name: "2a + 3b",
        out: { shape: s, dtype: "float64" as const },
        forward: ([a, b]: readonly AnyTensor[]) => lax.add(lax.scale(a ?? lax.zerosLike({ shape: s, dtype: "float64" }), 2), lax.scale(b ?? lax.zerosLike({ shape: s, dtype: "float64" }), 3)),
        transpose: (ct: AnyTensor) => [lax.scale(ct, 2), lax.scale(ct, 3)],
      },
    })),
  ),
  avg_pool2d_grad: poolCase.chain(({ x, y, params }) => tensorOf(y).map((t) => ({ inputs: [t], params: { ...params, inShape: x } }))),
  // a key's two words, any 32-bit pattern
  random_bits: fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), shape()).map(([hi, lo, s]) => ({
    inputs: [new Tensor([2], "int32", Int32Array.of(hi, lo))],
    params: { shape: s },
  })),
  // a small recurrence: carry c' = sin(c * w + x), output y = c * x (w captured, 0 to 3 steps, either direction)
  scan: fc.tuple(dim, fc.integer({ min: 0, max: 3 }), fc.boolean()).chain(([n, length, reverse]) =>
    fc.tuple(tensorOf([n]), tensorOf([n]), tensorOf([length, n])).map(([w, c0, xs]) =>
      withCaptured([w], ([wc = w]) =>
        scanEquation(
          ([c], [x]) => {
            const [cc, xx] = [c ?? wc, x ?? wc];
            return [[lax.sin(lax.add(lax.mul(cc, wc), xx))], [lax.mul(cc, xx)]];
          },
          [c0],
          [xs],
          length,
          reverse,
        ),
      ),
    ),
  ),
  // an int32 count: c' = max(c + 1, c + inc) while c[0] < bound (inc and bound captured; 0 to 7 steps)
  while: fc.integer({ min: 1, max: 4 }).chain((n) =>
    fc.tuple(tensorOf([n], "int32"), tensorOf([n], "int32"), tensorOf([], "int32")).map(([c0, inc, bound]) => {
      const one = lax.fullLike(c0, 1);
      return withCaptured([inc, bound], ([i = inc, b = bound]) =>
        whileEquation(
          ([c = c0]) => lax.compare("lt", lax.reshape(bind("slice", [c], { starts: [0], steps: [1], sizes: [1] }), []), b),
          ([c = c0]) => [bind("max", [lax.add(c, one), lax.add(c, i)], {})],
          [c0],
        ),
      );
    }),
  ),
};
