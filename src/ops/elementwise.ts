/**
 * Elementwise math: the public, shape-typed face of the elementwise
 * primitives.
 *
 * Binary ops broadcast NumPy-style; at the type level the result is
 * `BroadcastShapes<A, B>`, and operands that cannot broadcast are a compile
 * error at the second argument, naming both shapes. A JavaScript number on
 * either side is a scalar of the other operand's dtype. Operands of two
 * different dtypes do not mix (cast first): that is a compile error too, as
 * the dtype is inferred from the first tensor operand only (`NoInfer` on the
 * second), never as a union of both.
 */

import type { DType } from "../core/dtype.js";
import type { ShapeError } from "../core/errors.js";
import type { BroadcastIn, BroadcastShapes } from "../core/rules/broadcast.js";
import type { Checked } from "../core/rules/dims.js";
import type { Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Comparison } from "../backend/scalar-ops.js";
import type { NoParams } from "../core/tree.js";
import { checkDType, checkTensor } from "../core/validate.js";
import type { PrimName, PrimParams } from "../prims/params.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../prims/index.js";
import { broadcastOperands, scalarOf } from "./broadcast.js";
import type { FloatDType, NumericDType, ShapeOf } from "./types.js";

/**
 * A binary elementwise op over tensors of one dtype class, with scalars on
 * either side, in one signature: the result shape is `BroadcastIn<Op, A,
 * B>`, and a mistake (shapes that do not broadcast, two dtypes, two numbers)
 * puts its `ShapeError` on the second argument, so that the error's first
 * line names the op and both shapes. In code generic over shapes, two
 * operands of one type give that type; where the rule cannot be decided (a
 * dim that is a type parameter against a literal, `B` against 4: `B` could
 * be 4), the second argument must fit `OperandsFit<Op, X, Y>`, and the
 * compiler prints that name, with the op and both operand types, as the
 * first line.
 */
export interface BinaryOp<C extends DType, Op extends string> {
  <X extends Tensor<Shape, C> | number, Y extends Tensor<Shape, C> | number>(x: X, y: Y & BinaryCheck<Op, X, Y>): BinaryResult<Op, X, Y>;
}

// NOTE: read from the members, not by matching `Tensor<infer S, infer D>`: in generic code that match
// would compare the shape with `Shape` through unconstrained type parameters and never resolve.
// (For the same reason the dtype is inferred without a constraint and met with DType after.)
type OperandShape<X> = X extends { readonly shapeType: infer S extends Shape } ? S : [];
type OperandDType<X> = X extends { readonly dtype: infer D } ? D & DType : never;

/**
 * What the second operand must be: anything when one operand is a number
 * (it takes the tensor's dtype, and the result is the tensor's type), else
 * `Checked` of the broadcast rule, which carries the op's `ShapeError` for
 * shapes that do not broadcast, two dtypes or two numbers.
 */
export type BinaryCheck<Op extends string, X, Y> = [X | Y] extends [number]
  ? ShapeError<`${Op}: needs a tensor operand, got two numbers`>
  : [X] extends [number]
    ? unknown
    : [Y] extends [number]
      ? unknown
      : Equals<X, Y> extends true
        ? unknown
        : OperandsFit<Op, X, Y>;

/**
 * `unknown` when two tensor operands broadcast, else the `ShapeError` naming
 * `Op` and what differs. NOTE: its outermost test is the one left undecided
 * in generic code (`B` against 4), so that the compiler prints it by this
 * name, with the op and both operands.
 */
export type OperandsFit<Op extends string, X, Y> = BinaryShape<Op, X, Y> extends infer R ? ([R] extends [ShapeError<infer M>] ? ShapeError<M> : unknown) : never;

/**
 * True when `A` and `B` are the same type, decided even in generic code
 * (`Tensor<[B, 3]>` against itself: true; against `Tensor<[1, 3]>`: false),
 * where an assignability test in both directions would stay undecided.
 */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The broadcast shape of two tensor operands, or the `ShapeError` naming the op and what differs (shapes or dtypes). */
export type BinaryShape<Op extends string, X, Y> = Same<OperandDType<X>, OperandDType<Y>> extends true
  ? BroadcastIn<Op, OperandShape<X>, OperandShape<Y>>
  : UnknownDType<OperandDType<X>> extends true
    ? BroadcastIn<Op, OperandShape<X>, OperandShape<Y>>
    : UnknownDType<OperandDType<Y>> extends true
      ? BroadcastIn<Op, OperandShape<X>, OperandShape<Y>>
      : ShapeError<`${Op}: operand dtypes ${OperandDType<X>} and ${OperandDType<Y>} differ (cast one first)`>;

/** True for an operand whose dtype is known only at run time (`DType` itself): the run-time check decides. */
type UnknownDType<D> = [DType] extends [D] ? true : false;

/** The result of a binary op: the tensor operand's type beside a number, else the broadcast (`never` for a mistake, which the second argument reports). */
export type BinaryResult<Op extends string, X, Y> = [X] extends [number]
  ? Y
  : [Y] extends [number]
    ? X
    : Equals<X, Y> extends true
      ? X
      : Tensor<ShapeOf<BinaryShape<Op, X, Y>>, OperandDType<X>>;

/**
 * True when `A` and `B` are one type. NOTE: boxed, so that it also holds in
 * generic code for one type parameter on both sides (a dtype `D` twice),
 * where `[A] extends [B]` would stay unresolved.
 */
type Same<A, B> = { box: A } extends { box: B } ? ({ box: B } extends { box: A } ? true : false) : false;

/** The shape of a value of `where`: a number's is `[]`. */
type ValueShape<V> = [V] extends [number] ? [] : OperandShape<V>;

/** The broadcast shape of `where`'s two values, or the `ShapeError` for two dtypes or shapes that do not broadcast. */
type WhereValues<X, Y> = [X] extends [number]
  ? ValueShape<Y>
  : [Y] extends [number]
    ? ValueShape<X>
    : Same<OperandDType<X>, OperandDType<Y>> extends true
      ? BroadcastIn<"where", OperandShape<X>, OperandShape<Y>>
      : ShapeError<`where: value dtypes ${OperandDType<X>} and ${OperandDType<Y>} differ (cast one first)`>;

/**
 * The shape of `where(cond, x, y)`: the condition's shape broadcast with the
 * values', or the `ShapeError` naming `where` and the shapes.
 *
 * @example
 * type S = WhereShape<Tensor<["batch", 10], "bool">, Tensor<["batch", 10]>, number>; // ["batch", 10]
 */
export type WhereShape<C, X, Y> =
  WhereValues<X, Y> extends infer V ? ([V] extends [ShapeError<infer M>] ? ShapeError<M> : V extends Shape ? BroadcastIn<"where", OperandShape<C>, V> : never) : never;

/** The dtype of `where(cond, x, y)`: the tensor value's, float32 when both are numbers. */
export type WhereDType<X, Y> = [X] extends [number] ? ([Y] extends [number] ? "float32" : OperandDType<Y>) : OperandDType<X>;

/**
 * True when each of `where`'s values is a number or has the condition's
 * shape, and two tensor values have one dtype: decided by identity, so it
 * holds in code generic over shapes too.
 */
type WhereSameShapes<C, X, Y> = ([X] extends [number] ? true : Equals<OperandShape<X>, OperandShape<C>>) extends true
  ? ([Y] extends [number] ? true : Equals<OperandShape<Y>, OperandShape<C>>) extends true
    ? [X | Y] extends [number]
      ? true
      : [X] extends [number]
        ? true
        : [Y] extends [number]
          ? true
          : Equals<OperandDType<X>, OperandDType<Y>>
    : false
  : false;

/** The result when the values have the condition's shape: the tensor value's type (float32 of the condition's shape for two numbers). */
type WhereValue<C, X, Y> = [X] extends [number] ? ([Y] extends [number] ? Tensor<OperandShape<C>, "float32"> : Y) : X;

/**
 * `unknown` when `where`'s condition and values broadcast, else the
 * `ShapeError` naming `where` and the shapes. NOTE: its outermost test is the
 * one left undecided in generic code (`B` against 4), so that the compiler
 * prints it by this name, with the three operands.
 */
export type WhereFit<C, X, Y> = WhereShape<C, X, Y> extends infer R ? ([R] extends [ShapeError<infer M>] ? ShapeError<M> : unknown) : never;

/** A unary elementwise op over tensors of one dtype class. */
export type UnaryOp<C extends DType> = <S extends Shape, D extends C>(x: Tensor<S, D>) => Tensor<S, D>;

/** The primitives without parameters: the ones a plain unary or binary op binds. */
type PlainPrim = { [K in PrimName]: PrimParams[K] extends NoParams ? K : never }[PrimName];

function binaryOp<C extends DType, Op extends string>(prim: PlainPrim, op: Op): BinaryOp<C, Op> {
  const f = (x: AnyTensor | number, y: AnyTensor | number): AnyTensor => bind(prim, broadcastOperands(op, [x, y]), {});
  return f as BinaryOp<C, Op>; // the overloads describe f's result for each kind of operand
}

function unaryOp<C extends DType>(prim: PlainPrim): UnaryOp<C> {
  const f = (x: AnyTensor): AnyTensor => bind(prim, [x], {});
  return f as UnaryOp<C>; // elementwise: the result has the operand's shape and dtype
}

/**
 * `x + y`, broadcasting.
 *
 * @example
 * add(zeros([32, 512]), ones([512])); // Tensor<[32, 512]>
 */
export const add: BinaryOp<NumericDType, "add"> = binaryOp("add", "add");
/** `x - y`, broadcasting. @example sub(ones([3]), 1); // Tensor<[3]>, zeros */
export const sub: BinaryOp<NumericDType, "sub"> = binaryOp("sub", "sub");
/** `x * y`, broadcasting. @example mul(ones([2, 3]), 2); // Tensor<[2, 3]> of twos */
export const mul: BinaryOp<NumericDType, "mul"> = binaryOp("mul", "mul");
/** `x / y`, broadcasting (int32 truncates toward zero). @example div(ones([3]), 4); // 0.25s */
export const div: BinaryOp<NumericDType, "div"> = binaryOp("div", "div");
/** The larger of `x` and `y`, elementwise; NaN wins. @example maximum(x, 0) */
export const maximum: BinaryOp<NumericDType, "maximum"> = binaryOp("max", "maximum");
/** The smaller of `x` and `y`, elementwise; NaN wins. @example minimum(x, 1) */
export const minimum: BinaryOp<NumericDType, "minimum"> = binaryOp("min", "minimum");
/** `x ** y`, elementwise. @example pow(x, 2) */
export const pow: BinaryOp<NumericDType, "pow"> = binaryOp("pow", "pow");

/** `-x`. @example neg(ones([3])); // -1s */
export const neg: UnaryOp<NumericDType> = unaryOp("neg");
/** `e^x`. @example exp(zeros([2])); // ones */
export const exp: UnaryOp<FloatDType> = unaryOp("exp");
/** The natural logarithm. @example log(ones([2])); // zeros */
export const log: UnaryOp<FloatDType> = unaryOp("log");
/** `log(1 + x)`, accurate for small `x`. @example log1p(zeros([2])); // zeros */
export const log1p: UnaryOp<FloatDType> = unaryOp("log1p");
/** The sine. @example sin(zeros([2])); // zeros */
export const sin: UnaryOp<FloatDType> = unaryOp("sin");
/** The cosine. @example cos(zeros([2])); // ones */
export const cos: UnaryOp<FloatDType> = unaryOp("cos");
/** The square root. @example sqrt(full([2], 4)); // twos */
export const sqrt: UnaryOp<FloatDType> = unaryOp("sqrt");
/** The hyperbolic tangent. @example tanh(zeros([2])); // zeros */
export const tanh: UnaryOp<FloatDType> = unaryOp("tanh");
/**
 * The error function `erf x = 2/√π ∫₀ˣ e^{-t²} dt`, elementwise (`torch.erf`,
 * `jax.lax.erf`). Within 16 ulp of the exact value in float64 and 1 ulp in
 * float32 (its scalar-op row); odd, keeps ±0, gives ±1 at ±Infinity.
 *
 * @example
 * erf(tensor([0, 1])); // [0, 0.8427]
 */
export const erf: UnaryOp<FloatDType> = unaryOp("erf");
/**
 * The complementary error function `erfc x = 1 - erf x`, elementwise
 * (`torch.erfc`), accurate relative to itself where it is tiny (16 ulp in
 * float64, 1 ulp in float32, down to its subnormal results), where
 * `1 - erf(x)` rounds to 0 from x ≈ 5.9 on.
 *
 * @example
 * erfc(tensor([0, 10])); // [1, 2.0885e-45] in float64
 */
export const erfc: UnaryOp<FloatDType> = unaryOp("erfc");

/** A comparison op: the result is a bool tensor of the broadcast shape; signatures as `BinaryOp`'s (a number only on the right). */
export interface CompareOp<Op extends string = string> {
  <X extends Tensor<Shape, DType>, Y extends Tensor<Shape, DType> | number>(x: X, y: Y & BinaryCheck<Op, X, Y>): CompareResult<Op, X, Y>;
}

/** The result of a comparison: bool, of `x`'s shape beside a number or an operand of its type, else of the broadcast shape. */
export type CompareResult<Op extends string, X extends Tensor<Shape, DType>, Y> = [Y] extends [number]
  ? Tensor<X["shapeType"], "bool">
  : Equals<X, Y> extends true
    ? Tensor<X["shapeType"], "bool">
    : Tensor<ShapeOf<BinaryShape<Op, X, Y>>, "bool">;

function compareOp<Op extends string>(op: Comparison, name: Op): CompareOp<Op> {
  const f = (x: AnyTensor, y: AnyTensor | number): AnyTensor => bind("compare", broadcastOperands(name, [x, y]), { op });
  return f as CompareOp<Op>; // compare's result is bool, of the broadcast shape
}

/** `x < y`, elementwise. @example less(x, 0) */
export const less: CompareOp<"less"> = compareOp("lt", "less");
/** `x <= y`, elementwise. */
export const lessEqual: CompareOp<"lessEqual"> = compareOp("le", "lessEqual");
/** `x > y`, elementwise. */
export const greater: CompareOp<"greater"> = compareOp("gt", "greater");
/** `x >= y`, elementwise. */
export const greaterEqual: CompareOp<"greaterEqual"> = compareOp("ge", "greaterEqual");
/** `x == y`, elementwise. */
export const equal: CompareOp<"equal"> = compareOp("eq", "equal");
/** `x != y`, elementwise. */
export const notEqual: CompareOp<"notEqual"> = compareOp("ne", "notEqual");

/**
 * `cond ? x : y`, elementwise, broadcasting all three; a number takes the
 * other value's dtype (float32 when both are numbers). One signature, as
 * for the binary ops (see `BinaryOp`): a mistake (shapes that do not
 * broadcast, two value dtypes) puts a `ShapeError` naming `where` and the
 * shapes on the third argument; in code generic over shapes, values of the
 * condition's shape give that type, and an undecided check is the named
 * `WhereFit<C, X, Y>`.
 *
 * @example
 * where(greater(x, 0), x, 0); // relu
 */
export function where<C extends Tensor<Shape, "bool">, X extends AnyTensor | number, Y extends AnyTensor | number>(
  cond: C,
  x: X,
  y: Y & (WhereSameShapes<C, X, Y> extends true ? unknown : WhereFit<C, X, Y>),
): WhereSameShapes<C, X, Y> extends true ? WhereValue<C, X, Y> : Tensor<ShapeOf<WhereShape<C, X, Y>>, WhereDType<X, Y>>;
export function where(cond: AnyTensor, x: AnyTensor | number, y: AnyTensor | number): AnyTensor {
  // a number takes the other value's dtype (float32 when both are numbers)
  const dtype = typeof x !== "number" ? x.dtype : typeof y !== "number" ? y.dtype : "float32";
  const value = (v: AnyTensor | number): AnyTensor | number => (typeof v === "number" ? scalarOf(v, dtype) : v);
  return bind("select", broadcastOperands("where", [cond, value(x), value(y)]), {});
}

/**
 * `x` converted to `dtype`.
 *
 * @example
 * cast(arange(3), "int32"); // Tensor<[3], "int32">
 */
export function cast<S extends Shape, D extends DType>(x: Tensor<S, DType>, dtype: D): Tensor<S, D> {
  checkTensor("cast", "x", x);
  checkDType("cast", dtype);
  if (x.dtype === dtype) return x as Tensor<S, D>; // the same tensor, with the dtype it has
  return bind("cast", [x], { dtype }) as Tensor<S, D>; // cast keeps the shape and gives dtype D
}
