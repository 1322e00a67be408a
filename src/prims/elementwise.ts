/**
 * The elementwise primitives: unary and binary math, compare, select, cast.
 *
 * All operands of an elementwise primitive have one shape (the ops insert
 * `broadcast` first, as JAX's lax does), so the rules here never broadcast.
 * Each primitive is one entry of a table that gives its dtypes, its scalar
 * function (for the loop-IR interpreter) and its expression (for generated
 * kernels); eager evaluation runs a small kernel generated from the same
 * expression, so eager, jitted and interpreted results share one semantics.
 * Results are rounded to the result dtype after every primitive (`round`):
 * float32 by `Math.fround`, int32 by `| 0`, bool to 0 or 1.
 */

import { allocate, type DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, sameShape, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { compileKernel } from "../fusion/compile.js";
import * as lax from "./lax.js";
import type { AnyTensor, Aval, DTypeClass, ElementwiseRule, JvpRule, Primitive, TransposeRule } from "./types.js";

/** Primitives without parameters take this. */
export type NoParams = Readonly<Record<string, never>>;

/** The comparisons of `compare`, each printed from this fixed table. */
export const COMPARISONS = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" } as const;
export type Comparison = keyof typeof COMPARISONS;

/** Rounds a computed value to what `dtype` stores. */
export function round(dtype: DType, v: number): number {
  switch (dtype) {
    case "float32":
      return Math.fround(v);
    case "int32":
      return v | 0;
    case "bool":
      return v !== 0 ? 1 : 0; // NaN is nonzero, so true (as in NumPy)
    case "float64":
      return v;
  }
}

/** `round` as an expression around the expression `e`. */
export function roundExpr(dtype: DType, e: string): string {
  switch (dtype) {
    case "float32":
      return `Math.fround(${e})`;
    case "int32":
      return `((${e}) | 0)`;
    case "bool":
      return `((${e}) !== 0 ? 1 : 0)`;
    case "float64":
      return e;
  }
}

function accepts(cls: DTypeClass, dtype: DType): boolean {
  if (cls === "any") return true;
  if (cls === "numeric") return dtype !== "bool";
  return dtype === "float32" || dtype === "float64";
}

const dtypeWords: Record<DTypeClass, string> = { float: "a float dtype", numeric: "a numeric dtype", any: "any dtype" };

/** The shape rule every elementwise primitive shares. */
function elementwiseShape<P>(name: string, rule: ElementwiseRule<P>) {
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
    return { shape: first.shape, dtype: rule.outDType?.(first.dtype, params) ?? first.dtype };
  };
}

type Loop = (out: ArrayLike<number> & { [i: number]: number }, a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, n: number) => void;

/** The eager implementation: one generated loop over the operands. */
function elementwiseImpl<P>(name: string, rule: ElementwiseRule<P>, key: (params: P) => string) {
  return (inputs: readonly AnyTensor[], params: P): AnyTensor => {
    const x = inputs[rule.arity === 3 ? 1 : 0] ?? inputs[0];
    if (x === undefined) shapeError(name, "takes at least one operand");
    const outDType = rule.outDType?.(x.dtype, params) ?? x.dtype;
    const names = ["a", "b", "c"].slice(0, rule.arity).map((p) => `${p}[i]`);
    const body = roundExpr(outDType, rule.expr(names, x.dtype, params));
    const loop = compileKernel<Loop>(
      `eager:${name}:${key(params)}:${x.dtype}`,
      ["o", "a", "b", "c", "n"],
      `for (let i = 0; i < n; i++) o[i] = ${body};`,
    );
    const n = shapeSize(x.shape);
    const out = allocate(outDType, n);
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

/** Defines an elementwise primitive from its scalar rule and its derivative rules. */
function elementwise<P = NoParams>(name: string, rule: ElementwiseRule<P>, derivatives: Derivatives<P>, key: (params: P) => string = () => ""): Primitive<P> {
  return { name, shape: elementwiseShape(name, rule), impl: elementwiseImpl(name, rule, key), elementwise: rule, ...derivatives };
}

/** The error for transposing an equation in an input it is not linear in. */
export function nonlinear(name: string): never {
  throw new Error(`transpose: ${name} is not linear in the inputs being transposed (a nonlinear use of ${name})`);
}

const unary = (accepts: DTypeClass, scalar: (x: number) => number, expr: (x: string) => string): ElementwiseRule<NoParams> => ({
  arity: 1,
  accepts,
  scalar: ([x = 0]) => scalar(x),
  expr: ([x = ""]) => expr(x),
});

const binary = (
  accepts: DTypeClass,
  scalar: (x: number, y: number, dtype: DType) => number,
  expr: (x: string, y: string, dtype: DType) => string,
): ElementwiseRule<NoParams> => ({
  arity: 2,
  accepts,
  scalar: ([x = 0, y = 0], dtype) => scalar(x, y, dtype),
  expr: ([x = "", y = ""], dtype) => expr(x, y, dtype),
});

/** A unary JVP `dy = f(x, y) * dx`. */
const chain = (factor: (x: AnyTensor, y: AnyTensor) => AnyTensor): Derivatives<NoParams> => ({
  jvp: ([x], [dx], _, y) => (dx === null || dx === undefined || x === undefined ? null : lax.mul(dx, factor(x, y))),
});

const first = (p: readonly AnyTensor[]): AnyTensor => {
  const x = p[0];
  if (x === undefined) throw new Error("rule called without an operand");
  return x;
};

export const neg = elementwise("neg", unary("numeric", (x) => -x, (x) => `(-${x})`), {
  jvp: (_, [dx]) => lax.linear(dx ?? null, lax.neg), // d(-x) = -dx
  transpose: (ct) => [lax.neg(ct)],
});
// d(exp x) = exp(x) dx
export const exp = elementwise("exp", unary("float", Math.exp, (x) => `Math.exp(${x})`), chain((_, y) => y));
// d(log x) = dx / x
export const log = elementwise("log", unary("float", Math.log, (x) => `Math.log(${x})`), {
  jvp: ([x], [dx]) => (dx === null || dx === undefined || x === undefined ? null : lax.div(dx, x)),
});
// d(log1p x) = dx / (1 + x)
export const log1p = elementwise("log1p", unary("float", Math.log1p, (x) => `Math.log1p(${x})`), {
  jvp: ([x], [dx]) => (dx === null || dx === undefined || x === undefined ? null : lax.div(dx, lax.add(lax.fullLike(x, 1), x))),
});
// d(sin x) = cos(x) dx
export const sin = elementwise("sin", unary("float", Math.sin, (x) => `Math.sin(${x})`), chain((x) => lax.cos(x)));
// d(cos x) = -sin(x) dx
export const cos = elementwise("cos", unary("float", Math.cos, (x) => `Math.cos(${x})`), chain((x) => lax.neg(lax.sin(x))));
// d(sqrt x) = dx / (2 sqrt x)
export const sqrt = elementwise("sqrt", unary("float", Math.sqrt, (x) => `Math.sqrt(${x})`), {
  jvp: (_, [dx], __, y) => (dx === null || dx === undefined ? null : lax.div(dx, lax.scale(y, 2))),
});
// d(tanh x) = (1 - tanh(x)^2) dx
export const tanh = elementwise("tanh", unary("float", Math.tanh, (x) => `Math.tanh(${x})`), chain((_, y) => lax.sub(lax.fullLike(y, 1), lax.mul(y, y))));

export const add = elementwise("add", binary("numeric", (x, y) => x + y, (x, y) => `(${x} + ${y})`), {
  jvp: (_, [dx, dy]) => lax.addTangents(dx ?? null, dy ?? null), // d(x + y) = dx + dy
  transpose: (ct, inputs) => inputs.map((i) => (i.linear ? ct : null)),
});
export const sub = elementwise("sub", binary("numeric", (x, y) => x - y, (x, y) => `(${x} - ${y})`), {
  jvp: (_, [dx, dy]) => lax.addTangents(dx ?? null, lax.linear(dy ?? null, lax.neg)), // d(x - y) = dx - dy
  transpose: (ct, [a, b]) => [a?.linear === true ? ct : null, b?.linear === true ? lax.neg(ct) : null],
});
// NOTE: int32 products use Math.imul: a double product of two int32s can pass 2^53 and lose its low bits.
export const mul = elementwise(
  "mul",
  binary(
    "numeric",
    (x, y, dtype) => (dtype === "int32" ? Math.imul(x, y) : x * y),
    (x, y, dtype) => (dtype === "int32" ? `Math.imul(${x}, ${y})` : `(${x} * ${y})`),
  ),
  {
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
  },
);
// NOTE: int32 division truncates toward zero, and x / 0 is 0 (as `| 0` makes of ±Infinity and NaN).
export const div = elementwise("div", binary("numeric", (x, y) => x / y, (x, y) => `(${x} / ${y})`), {
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

export const max = elementwise("max", binary("numeric", (x, y) => Math.max(x, y), (x, y) => `Math.max(${x}, ${y})`), { jvp: extremumJvp("gt") });
export const min = elementwise("min", binary("numeric", (x, y) => Math.min(x, y), (x, y) => `Math.min(${x}, ${y})`), { jvp: extremumJvp("lt") });
export const pow = elementwise("pow", binary("numeric", (x, y) => Math.pow(x, y), (x, y) => `Math.pow(${x}, ${y})`), {
  // d(x^y) = y x^(y - 1) dx + log(x) x^y dy
  jvp: ([x, y], [dx, dy], _, out) => {
    if (x === undefined || y === undefined) return null;
    const viaX = lax.linear(dx ?? null, (t) => lax.mul(t, lax.mul(y, lax.pow(x, lax.sub(y, lax.fullLike(y, 1))))));
    const viaY = lax.linear(dy ?? null, (t) => lax.mul(t, lax.mul(lax.log(x), out)));
    return lax.addTangents(viaX, viaY);
  },
});

/** Compares elementwise; the result is bool. */
export const compare = elementwise<{ readonly op: Comparison }>(
  "compare",
  {
    arity: 2,
    accepts: "any",
    outDType: () => "bool",
    scalar: ([x = 0, y = 0], _, { op }) => (compareValues(op, x, y) ? 1 : 0),
    expr: ([x = "", y = ""], _, { op }) => `(${x} ${COMPARISONS[op]} ${y} ? 1 : 0)`,
  },
  { jvp: () => null }, // a bool result has no tangent
  ({ op }) => op,
);

function compareValues(op: Comparison, x: number, y: number): boolean {
  switch (op) {
    case "lt":
      return x < y;
    case "le":
      return x <= y;
    case "gt":
      return x > y;
    case "ge":
      return x >= y;
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
  }
}

/** `cond ? onTrue : onFalse`, elementwise; the condition is bool. */
export const select = elementwise<NoParams>("select", {
  arity: 3,
  accepts: "any",
  scalar: ([cond = 0, x = 0, y = 0]) => (cond !== 0 ? x : y),
  expr: ([cond = "", x = "", y = ""]) => `(${cond} !== 0 ? ${x} : ${y})`,
},
{
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
export const cast = elementwise<{ readonly dtype: DType }>(
  "cast",
  {
    arity: 1,
    accepts: "any",
    outDType: (_, { dtype }) => dtype,
    scalar: ([x = 0]) => x,
    expr: ([x = ""]) => x,
  },
  {
    // a cast between floats carries the tangent; to int32 or bool it has none
    jvp: (_, [dx], { dtype }) => (isFloat(dtype) ? lax.linear(dx ?? null, (t) => lax.cast(t, dtype)) : null),
    transpose: (ct, [x]) => (x?.linear === true && isFloat(x.aval.dtype) ? [lax.cast(ct, x.aval.dtype)] : nonlinear("cast")),
  },
  ({ dtype }) => dtype,
);

function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}
