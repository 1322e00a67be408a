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
import type { AnyTensor, Aval, DTypeClass, ElementwiseRule, Primitive } from "./types.js";

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

/** Defines an elementwise primitive from its scalar rule. */
function elementwise<P = NoParams>(name: string, rule: ElementwiseRule<P>, key: (params: P) => string = () => ""): Primitive<P> {
  return { name, shape: elementwiseShape(name, rule), impl: elementwiseImpl(name, rule, key), elementwise: rule };
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

export const neg = elementwise("neg", unary("numeric", (x) => -x, (x) => `(-${x})`));
export const exp = elementwise("exp", unary("float", Math.exp, (x) => `Math.exp(${x})`));
export const log = elementwise("log", unary("float", Math.log, (x) => `Math.log(${x})`));
export const log1p = elementwise("log1p", unary("float", Math.log1p, (x) => `Math.log1p(${x})`));
export const sin = elementwise("sin", unary("float", Math.sin, (x) => `Math.sin(${x})`));
export const cos = elementwise("cos", unary("float", Math.cos, (x) => `Math.cos(${x})`));
export const sqrt = elementwise("sqrt", unary("float", Math.sqrt, (x) => `Math.sqrt(${x})`));
export const tanh = elementwise("tanh", unary("float", Math.tanh, (x) => `Math.tanh(${x})`));

export const add = elementwise("add", binary("numeric", (x, y) => x + y, (x, y) => `(${x} + ${y})`));
export const sub = elementwise("sub", binary("numeric", (x, y) => x - y, (x, y) => `(${x} - ${y})`));
// NOTE: int32 products use Math.imul: a double product of two int32s can pass 2^53 and lose its low bits.
export const mul = elementwise(
  "mul",
  binary(
    "numeric",
    (x, y, dtype) => (dtype === "int32" ? Math.imul(x, y) : x * y),
    (x, y, dtype) => (dtype === "int32" ? `Math.imul(${x}, ${y})` : `(${x} * ${y})`),
  ),
);
// NOTE: int32 division truncates toward zero, and x / 0 is 0 (as `| 0` makes of ±Infinity and NaN).
export const div = elementwise("div", binary("numeric", (x, y) => x / y, (x, y) => `(${x} / ${y})`));
export const max = elementwise("max", binary("numeric", (x, y) => Math.max(x, y), (x, y) => `Math.max(${x}, ${y})`));
export const min = elementwise("min", binary("numeric", (x, y) => Math.min(x, y), (x, y) => `Math.min(${x}, ${y})`));
export const pow = elementwise("pow", binary("numeric", (x, y) => Math.pow(x, y), (x, y) => `Math.pow(${x}, ${y})`));

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
  ({ dtype }) => dtype,
);
