/**
 * Argument validation at the public boundary: the checks every op shares.
 *
 * The types keep wrong arguments out of typed code, but a cast, an `any` or
 * JavaScript caller gets past them. These checks turn such an argument into a
 * `ShapeError` (a wrong operand) or a `RangeError` (a wrong option) whose
 * message names the function, the argument and what it got, instead of an
 * internal `TypeError` or, worse, a silently wrong result. `bind` checks the
 * operands of every primitive with `checkTensor`; ops that touch an argument
 * before `bind` (broadcasting, options) check it first. Deliberately left
 * out: deep checks of a tensor's storage (a forged `data` is not caught).
 */

import { isDType, type DType } from "./dtype.js";
import { shapeError } from "./errors.js";
import { formatShape, type Shape } from "./shape.js";
import { Tensor } from "./tensor.js";

/** The longest text of a caller's string that a message quotes. */
const QUOTE_LIMIT = 40;

/**
 * What `x` is, for a message: `the string "2"`, `null`, `an array of 3
 * elements`, `an int32 Tensor of shape [2, 3]`, `a Key`, ...
 *
 * @example
 * describeValue("2"); // 'the string "2"'
 */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (x instanceof Tensor) return `${/^[aeiou]/.test(String(x.dtype)) ? "an" : "a"} ${String(x.dtype)} Tensor of shape ${formatShape(x.shape)}`;
  if (Array.isArray(x)) return `an array of ${x.length} elements`;
  switch (typeof x) {
    case "string": {
      const quoted = JSON.stringify(x.length > QUOTE_LIMIT ? `${x.slice(0, QUOTE_LIMIT)}...` : x);
      return `the string ${quoted}`;
    }
    case "number":
    case "boolean":
      return `the ${typeof x} ${String(x)}`;
    case "bigint":
      return `the bigint ${String(x)}n`;
    case "function":
      return "a function";
    case "object": {
      const name: unknown = Object.getPrototypeOf(x)?.constructor?.name;
      return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
    }
    default:
      return `a ${typeof x}`;
  }
}

/** `dtype` when it names a dtype; otherwise a `ShapeError` naming `fn` (dtypes can come from files). */
export function checkDType<D extends DType>(fn: string, dtype: D): D {
  if (!isDType(dtype)) {
    const name = typeof dtype === "string" ? JSON.stringify(String(dtype).slice(0, QUOTE_LIMIT)) : typeof dtype;
    shapeError(fn, `unknown dtype ${name} (expected float32, float64, int32 or bool)`);
  }
  return dtype;
}

/** A tensor of any shape and dtype. */
type AnyTensor = Tensor<Shape, DType>;

/**
 * Throws a `ShapeError` unless `x` is a tensor of a known dtype:
 * `"fn: arg must be a Tensor, got <what>"`.
 *
 * @example
 * checkTensor("exp", "x", "2"); // ShapeError: exp: x must be a Tensor, got the string "2"
 */
export function checkTensor(fn: string, arg: string, x: unknown): asserts x is AnyTensor {
  if (!(x instanceof Tensor)) shapeError(fn, `${arg} must be a Tensor, got ${describeValue(x)}`);
  checkDType(`${fn}: ${arg}`, x.dtype);
}

/** Throws a `ShapeError` unless `x` is a tensor or a JavaScript number (a scalar operand). */
export function checkOperand(fn: string, arg: string, x: unknown): asserts x is AnyTensor | number {
  if (typeof x !== "number") {
    if (!(x instanceof Tensor)) shapeError(fn, `${arg} must be a Tensor or a number, got ${describeValue(x)}`);
    checkTensor(fn, arg, x);
  }
}

/**
 * Throws a `ShapeError` naming `fn` and both dtypes unless every tensor has
 * the first one's dtype (dtypes never mix: cast first).
 */
export function checkSameDType(fn: string, tensors: readonly AnyTensor[]): void {
  const first = tensors[0];
  for (const x of tensors) {
    if (first !== undefined && x.dtype !== first.dtype) shapeError(fn, `operand dtypes ${first.dtype} and ${x.dtype} differ (cast one first)`);
  }
}

/**
 * Throws a `ShapeError` unless `x` is a float32 or float64 tensor: the check
 * of every op whose math is defined on floats only (exp, sigmoid, mean, ...).
 *
 * @example
 * checkFloat("sigmoid", tensor([1], "int32")); // ShapeError: sigmoid: x must be float32 or float64, got int32
 */
export function checkFloat(fn: string, x: unknown, arg = "x"): void {
  checkTensor(fn, arg, x);
  if (x.dtype !== "float32" && x.dtype !== "float64") shapeError(fn, `${arg} must be float32 or float64, got ${x.dtype}`);
}
