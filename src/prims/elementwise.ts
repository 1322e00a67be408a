/**
 * The elementwise primitives: unary and binary math, compare, select, cast.
 *
 * All operands of an elementwise primitive have one shape (the ops insert
 * `broadcast` first, as JAX's lax does), so the rules here never broadcast.
 * Each primitive names its row of the backend's scalar-op table
 * (`backend/scalar-ops.ts`: dtypes, reference function, expression, lowerings,
 * error bound) and adds what only a primitive has: its shape rule and its
 * derivative rules, side by side. Eager evaluation runs a small kernel
 * generated from the row's expression, so eager, jitted and interpreted
 * results share one semantics. Results are rounded to the result dtype after
 * every primitive (`round`): float32 by `Math.fround`, int32 by `| 0`, bool
 * to 0 or 1. Adding an elementwise primitive is one row there and one
 * definition here (the registry takes every entry of `elementwisePrimitives`).
 */

import { compileKernel } from "../backend/compile.js";
import { accepts, roundExpr, SCALAR_OPS, scalarOpDType, type DTypeClass, type ScalarOp, type ScalarOpParams, type ScalarOpRow } from "../backend/scalar-ops.js";
import { isFloatDType, type DType, type Storage } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, sameShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { NoParams } from "../core/tree.js";
import { batchAt, batchedAmong } from "./batching.js";
import { bind } from "./bind.js";
import * as lax from "./lax.js";
import { outputStorage } from "./output.js";
import type { PrimParams } from "./params.js";
import type { AnyTensor, Aval, BatchRule, JvpRule, Primitive, TransposeRule } from "./types.js";

const dtypeWords: Record<DTypeClass, string> = { float: "a float dtype", numeric: "a numeric dtype", any: "any dtype" };

/** The shape rule every elementwise primitive shares. */
function elementwiseShape<P>(name: string, rule: ScalarOpRow<P>) {
  return (inputs: readonly Aval[], params: P): Aval => {
    if (inputs.length !== rule.arity) shapeError(name, `takes ${rule.arity} operands, got ${inputs.length}`);
    const values = rule.arity === 3 ? inputs.slice(1) : inputs;
    const first = values[0] ?? inputs[0];
    if (first === undefined) shapeError(name, "takes at least one operand");
    if (rule.arity === 3 && inputs[0]?.dtype !== "bool") {
      shapeError(name, `the condition must be bool, got ${inputs[0]?.dtype ?? "nothing"}`);
    }
    for (const x of inputs) {
      if (!sameShape(x.shape, first.shape)) {
        shapeError(name, `operand shapes ${inputs.map((y) => formatShape(y.shape)).join(" and ")} differ`);
      }
    }
    for (const x of values) {
      if (x.dtype !== first.dtype) shapeError(name, `operand dtypes ${values.map((y) => y.dtype).join(" and ")} differ`);
    }
    if (!accepts(rule.accepts, first.dtype)) shapeError(name, `needs ${dtypeWords[rule.accepts]}, got ${first.dtype}`);
    return { shape: first.shape, dtype: scalarOpDType(rule, first.dtype, params) };
  };
}

type Loop = (out: ArrayLike<number> & { [i: number]: number }, a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, n: number) => void;

/** The eager implementation: one generated loop over the operands. */
function elementwiseImpl<P>(name: string, rule: ScalarOpRow<P>) {
  return (inputs: readonly AnyTensor[], params: P, into?: Storage<DType>): AnyTensor => {
    const x = inputs[rule.arity === 3 ? 1 : 0] ?? inputs[0];
    if (x === undefined) shapeError(name, "takes at least one operand");
    const outDType = scalarOpDType(rule, x.dtype, params);
    const names = ["a", "b", "c"].slice(0, rule.arity).map((p) => `${p}[i]`);
    const body = roundExpr(outDType, rule.expr(names, x.dtype, params));
    const loop = compileKernel<Loop>(
      // the params of an elementwise primitive are a name from a fixed table or a dtype, or none
      `eager:${name}:${JSON.stringify(params)}:${x.dtype}`,
      ["o", "a", "b", "c", "n"],
      `for (let i = 0; i < n; i++) o[i] = ${body};`,
    );
    const n = shapeSize(x.shape);
    const out = outputStorage(outDType, n, into);
    const [a, b, c] = [inputs[0]?.data ?? out, inputs[1]?.data ?? out, inputs[2]?.data ?? out];
    loop(out, a, b, c, n);
    return new Tensor(x.shape, outDType, out);
  };
}

/** The derivative rules of an elementwise primitive. */
interface Derivatives<P> {
  readonly jvp: JvpRule<P>;
  readonly transpose?: TransposeRule<P>;
}

/**
 * The batching rule every elementwise primitive shares: the operands' batch
 * axes are brought to one position (the first batched operand's, which
 * spares it a transpose) and an unbatched operand is broadcast along it.
 */
function elementwiseBatch<K extends ScalarOp>(op: K): BatchRule<ScalarOpParams[K]> {
  return (inputs, dims, params, size) => {
    const at = dims.find((d) => d !== null) ?? 0;
    const p = params as PrimParams[K]; // PrimParams extends ScalarOpParams: an elementwise primitive's params are its op's
    const context = batchedAmong(inputs, dims);
    return [bind(op, inputs.map((x, i) => batchAt(x, dims[i] ?? null, size, at, context)), p), at];
  };
}

/** Defines the elementwise primitive of scalar op `op` from its derivative rules. */
function elementwise<K extends ScalarOp>(op: K, derivatives: Derivatives<ScalarOpParams[K]>): Primitive<ScalarOpParams[K]> {
  const rule: ScalarOpRow<ScalarOpParams[K]> = SCALAR_OPS[op];
  return { name: op, shape: elementwiseShape(op, rule), impl: elementwiseImpl(op, rule), writesOut: true, scalarOp: op, batch: elementwiseBatch(op), ...derivatives };
}

/** The error for transposing an equation in an input it is not linear in. */
export function nonlinear(name: string): never {
  throw new Error(`transpose: ${name} is not linear in the inputs being transposed (a nonlinear use of ${name})`);
}

/** A unary JVP `dy = f(x, y) * dx`. */
const chain = (factor: (x: AnyTensor, y: AnyTensor) => AnyTensor): Derivatives<NoParams> => ({
  jvp: ([x], [dx], _, y) => (dx === null || dx === undefined || x === undefined ? null : lax.mul(dx, factor(x, y))),
});

const first = (p: readonly AnyTensor[]): AnyTensor => {
  const x = p[0];
  if (x === undefined) throw new Error("rule called without an operand");
  return x;
};

export const neg = elementwise("neg", {
  jvp: (_, [dx]) => lax.linear(dx ?? null, lax.neg), // d(-x) = -dx
  transpose: (ct) => [lax.neg(ct)],
});
// d(exp x) = exp(x) dx
export const exp = elementwise("exp", chain((_, y) => y));
// d(log x) = dx / x
export const log = elementwise("log", {
  jvp: ([x], [dx]) => (dx === null || dx === undefined || x === undefined ? null : lax.div(dx, x)),
});
// d(log1p x) = dx / (1 + x)
export const log1p = elementwise("log1p", {
  jvp: ([x], [dx]) => (dx === null || dx === undefined || x === undefined ? null : lax.div(dx, lax.add(lax.fullLike(x, 1), x))),
});
// d(sin x) = cos(x) dx
export const sin = elementwise("sin", chain((x) => lax.cos(x)));
// d(cos x) = -sin(x) dx
export const cos = elementwise("cos", chain((x) => lax.neg(lax.sin(x))));
// d(sqrt x) = dx / (2 sqrt x)
export const sqrt = elementwise("sqrt", {
  jvp: (_, [dx], __, y) => (dx === null || dx === undefined ? null : lax.div(dx, lax.scale(y, 2))),
});
// d(tanh x) = (1 - tanh(x)^2) dx
export const tanh = elementwise("tanh", chain((_, y) => lax.sub(lax.fullLike(y, 1), lax.mul(y, y))));
// d(erf x) = 2/√π exp(-x²) dx
export const erf = elementwise("erf", chain((x) => lax.scale(lax.exp(lax.neg(lax.mul(x, x))), 2 / Math.sqrt(Math.PI))));
// d(erfc x) = -2/√π exp(-x²) dx
export const erfc = elementwise("erfc", chain((x) => lax.scale(lax.exp(lax.neg(lax.mul(x, x))), -2 / Math.sqrt(Math.PI))));

export const add = elementwise("add", {
  jvp: (_, [dx, dy]) => lax.addTangents(dx ?? null, dy ?? null), // d(x + y) = dx + dy
  transpose: (ct, inputs) => inputs.map((i) => (i.linear ? ct : null)),
});
export const sub = elementwise("sub", {
  jvp: (_, [dx, dy]) => lax.addTangents(dx ?? null, lax.linear(dy ?? null, lax.neg)), // d(x - y) = dx - dy
  transpose: (ct, [a, b]) => [a?.linear === true ? ct : null, b?.linear === true ? lax.neg(ct) : null],
});
export const mul = elementwise("mul", {
  // d(x y) = dx y + x dy
  jvp: ([x, y], [dx, dy]) =>
    lax.addTangents(
      lax.linear(dx ?? null, (t) => lax.mul(t, y ?? t)),
      lax.linear(dy ?? null, (t) => lax.mul(x ?? t, t)),
    ),
  transpose: (ct, [a, b]) => {
    if (a?.linear === true && b?.linear === false) return [lax.mul(ct, b.value), null];
    if (b?.linear === true && a?.linear === false) return [null, lax.mul(a.value, ct)];
    return nonlinear("mul");
  },
});
export const div = elementwise("div", {
  // d(x / y) = (dx - (x / y) dy) / y
  jvp: ([, y], [dx, dy], _, out) => {
    const num = lax.addTangents(dx ?? null, lax.linear(dy ?? null, (t) => lax.neg(lax.mul(out, t))));
    return lax.linear(num, (t) => lax.div(t, y ?? t));
  },
  transpose: (ct, [a, b]) => (a?.linear === true && b?.linear === false ? [lax.div(ct, b.value), null] : nonlinear("div")),
});

/** The JVP of max (`pick` "gt") or min (`pick` "lt"): the tangent of the winner, the mean of both on ties. */
function extremumJvp(pick: "gt" | "lt"): JvpRule<NoParams> {
  return (primals, [dx, dy]) => {
    if ((dx ?? null) === null && (dy ?? null) === null) return null;
    const [x, y] = [first(primals), primals[1] ?? first(primals)];
    const tx = lax.instantiate(dx ?? null, x);
    const ty = lax.instantiate(dy ?? null, y);
    const half = lax.scale(lax.add(tx, ty), 0.5);
    return lax.select(lax.compare(pick, x, y), tx, lax.select(lax.compare(pick, y, x), ty, half));
  };
}

export const max = elementwise("max", { jvp: extremumJvp("gt") });
export const min = elementwise("min", { jvp: extremumJvp("lt") });
export const pow = elementwise("pow", {
  // d(x^y) = y x^(y - 1) dx + log(x) x^y dy
  jvp: ([x, y], [dx, dy], _, out) => {
    if (x === undefined || y === undefined) return null;
    const viaX = lax.linear(dx ?? null, (t) => lax.mul(t, lax.mul(y, lax.pow(x, lax.sub(y, lax.fullLike(y, 1))))));
    const viaY = lax.linear(dy ?? null, (t) => lax.mul(t, lax.mul(lax.log(x), out)));
    return lax.addTangents(viaX, viaY);
  },
});

/** Compares elementwise; the result is bool. */
export const compare = elementwise("compare", { jvp: () => null }); // a bool result has no tangent

/** `cond ? onTrue : onFalse`, elementwise; the condition is bool. */
export const select = elementwise("select", {
  // d(c ? x : y) = c ? dx : dy
  jvp: ([c, x, y], [, dx, dy]) => {
    if (c === undefined || x === undefined || y === undefined || ((dx ?? null) === null && (dy ?? null) === null)) return null;
    return lax.select(c, lax.instantiate(dx ?? null, x), lax.instantiate(dy ?? null, y));
  },
  transpose: (ct, [c, a, b]) => {
    if (c === undefined || c.linear) return nonlinear("select");
    const zeros = lax.zerosLike(ct);
    return [null, a?.linear === true ? lax.select(c.value, ct, zeros) : null, b?.linear === true ? lax.select(c.value, zeros, ct) : null];
  },
});

/** Converts to another dtype: floats to int32 truncate toward zero, nonzero to bool is 1. */
export const cast = elementwise("cast", {
  // a cast between floats carries the tangent; to int32 or bool it has none
  jvp: (_, [dx], { dtype }) => (isFloatDType(dtype) ? lax.linear(dx ?? null, (t) => lax.cast(t, dtype)) : null),
  transpose: (ct, [x]) => (x?.linear === true && isFloatDType(x.aval.dtype) ? [lax.cast(ct, x.aval.dtype)] : nonlinear("cast")),
});

/**
 * Every elementwise primitive, by name; the registry takes them all. Each is
 * named for its scalar op, so a new one is a row of the scalar-op table and
 * a definition above.
 */
export const elementwisePrimitives = { neg, exp, log, log1p, sin, cos, sqrt, tanh, erf, erfc, add, sub, mul, div, max, min, pow, compare, select, cast } as const;
