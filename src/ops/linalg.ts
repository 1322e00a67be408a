/**
 * Products: `matmul` with NumPy's semantics, `dot` of two vectors, `outer`.
 *
 * `matmul` is typed by `MatmulShape` and reduced to the one `dot_general`
 * primitive (`[...B, M, K] x [...B, K, N]`, equal batch dims): a rank-1
 * operand is reshaped to a row or a column and the added dim is dropped from
 * the result; batch dims are broadcast with the `broadcast` primitive, except
 * that a right operand without batch dims (the weights of a dense layer) is
 * not copied once per batch entry: the left operand's batch dims fold into
 * its rows instead. Products need float operands (the kernel accumulates in
 * float64). Deliberately left out: `einsum` and `tensordot`.
 */

import { isFloatDType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import { broadcastIn } from "../core/rules/broadcast.js";
import type { Checked, DimsMatch } from "../core/rules/dims.js";
import { matmulShape, type MatmulShape } from "../core/rules/matmul.js";
import { formatShape, shapeSize, type Dim, type Shape, type ShowDim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { AnyTensor } from "../prims/types.js";
import { bind } from "../prims/index.js";
import { broadcastTo } from "./broadcast.js";
import { mul } from "./elementwise.js";
import { reshape } from "./shape.js";
import type { FloatDType, NumericDType, ShapeOf } from "./types.js";

/** Checks that both operands of a product have one float dtype. */
function checkFloat(op: string, x: AnyTensor, y: AnyTensor): void {
  if (x.dtype !== y.dtype) shapeError(op, `operand dtypes ${x.dtype} and ${y.dtype} differ`);
  if (!isFloatDType(x.dtype)) shapeError(op, `needs float operands, got ${x.dtype}`);
}

/** `dot_general` of `[...B, M, K]` and `[...B, K, N]` with equal batch dims. */
function dotGeneral(x: AnyTensor, y: AnyTensor): AnyTensor {
  return bind("dot_general", [x, y], { transA: false, transB: false });
}

/** `[y]` when `Y` is a `[K, N]` tensor of dtype `D`, else no argument (see `matmul`). */
// NOTE: matched against the members (N unknown), not `Tensor<[K, Dim], D>`: in code generic over N that
// would compare N with Dim through an unconstrained type parameter and never resolve.
type WeightsOperand<Y, K extends Dim, D extends FloatDType> = [Y] extends [{ readonly shapeType: readonly [K, unknown]; readonly dtype: D }] ? [y: Y] : [];

/** The columns `N` of a `[K, N]` tensor. */
type ColsOf<Y> = Y extends { readonly shapeType: readonly [unknown, infer N extends Dim] } ? N : never;

/**
 * The matrix product, NumPy's `matmul`: `[...B1, M, K] @ [...B2, K, N]` is
 * `[...broadcast(B1, B2), M, N]`; a rank-1 left operand is a row and a rank-1
 * right operand a column, whose added dim the result drops. Mismatched inner
 * dims are a compile error naming them ("matmul: inner dims 784 and 512
 * differ ..."). The first signature is the dense layer's `[...B, K] @ [K, N]`
 * (rank-1 `x` included), which also holds in code generic over `B` or `K`;
 * it takes `y` as a rest argument that is empty unless `y` is `[K, N]`, so
 * that for any other call it does not apply by arity and a mistake is
 * reported by the second, checked signature alone (its first line names the
 * op and the dims, not "No overload matches this call").
 *
 * @example
 * matmul(zeros([32, 784]), zeros([784, 512])); // Tensor<[32, 512]>
 */
export function matmul<B extends Shape, K extends Dim, D extends FloatDType, Y extends Tensor<Shape, FloatDType>>(x: Tensor<[...B, K], D>, ...y: WeightsOperand<Y, K, D>): Tensor<[...B, ColsOf<Y>], D>;
export function matmul<A extends Shape, B extends Shape, D extends FloatDType>(
  x: Tensor<A, D>,
  y: Tensor<B, NoInfer<D>> & Checked<MatmulShape<A, B>, unknown>,
): Tensor<ShapeOf<MatmulShape<A, B>>, D>;
// The implementation returns `unknown` so that it is compatible with every overload, error types included.
export function matmul(x: AnyTensor, y: AnyTensor): unknown {
  const out = matmulShape(x.shape, y.shape); // throws for ranks 0, inner dims that differ, batch dims that do not broadcast
  checkFloat("matmul", x, y);
  const k = x.shape[x.shape.length - 1] ?? 0;
  const a = x.shape.length === 1 ? reshape(x, [1, k]) : x;
  const b = y.shape.length === 1 ? reshape(y, [k, 1]) : y;
  const [m = 0, n = 0] = [a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
  if (b.shape.length === 2) {
    // [...B, M, K] @ [K, N] = ([B * M, K] @ [K, N]) reshaped: no copy of b per batch entry
    const rows = reshape(a, [shapeSize(a.shape.slice(0, -1)), k]);
    return reshape(dotGeneral(rows, b), out);
  }
  const batch = broadcastIn("matmul batch", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const product = dotGeneral(broadcastTo(a, [...batch, m, k]), broadcastTo(b, [...batch, k, n]));
  return reshape(product, out);
}

/** `[]` when two vector lengths can be equal, else the `ShapeError` that `dot` reports. */
type DotShape<KA, KB> = DimsMatch<KA, KB> extends true ? [] : ShapeError<`dot: vectors of sizes ${ShowDim<KA>} and ${ShowDim<KB>} differ`>;

/**
 * The inner product of two vectors of one length: a rank-0 tensor.
 *
 * @example
 * dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item(); // 32
 */
export function dot<KA extends Dim, KB extends Dim, D extends FloatDType>(
  x: Tensor<[KA], D>,
  y: Tensor<[KB], NoInfer<D>> & Checked<DotShape<KA, KB>, unknown>,
): Tensor<[], D>;
export function dot(x: AnyTensor, y: AnyTensor): AnyTensor {
  if (x.shape.length !== 1 || y.shape.length !== 1 || x.shape[0] !== y.shape[0]) {
    const what = x.shape.length === 1 && y.shape.length === 1 ? `vectors of sizes ${x.shape[0]} and ${y.shape[0]} differ` : `needs two vectors, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`;
    shapeError("dot", what);
  }
  checkFloat("dot", x, y);
  const k = x.shape[0] ?? 0;
  return reshape(dotGeneral(reshape(x, [1, k]), reshape(y, [k, 1])), []); // [1, K] @ [K, 1] = [1, 1]
}

/**
 * The outer product of two vectors: `outer(x, y)[i, j] = x[i] * y[j]`.
 *
 * @example
 * outer(tensor([1, 2]), tensor([3, 4, 5])).toNested(); // [[3, 4, 5], [6, 8, 10]]
 */
export function outer<M extends Dim, N extends Dim, D extends NumericDType>(x: Tensor<[M], D>, y: Tensor<[N], NoInfer<D>>): Tensor<[M, N], D>;
export function outer(x: Tensor<Shape, NumericDType>, y: Tensor<Shape, NumericDType>): AnyTensor {
  if (x.shape.length !== 1 || y.shape.length !== 1) shapeError("outer", `needs two vectors, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
  if (x.dtype !== y.dtype) shapeError("outer", `operand dtypes ${x.dtype} and ${y.dtype} differ`);
  // x[i] * y[j]: a column [M, 1] times a row [1, N] broadcasts to [M, N]
  return mul(reshape(x, [x.size, 1]), reshape(y, [1, y.size]));
}
