/**
 * Jacobians and Hessians of functions of one tensor, built from jvp and vjp.
 *
 * `jacfwd` pushes one basis tangent per input element through `jvp`;
 * `jacrev` linearizes once and pulls one basis cotangent per output element
 * back through the transpose. Both give a tensor of shape `[...Out, ...In]`,
 * assembled with primitives so that the result can be differentiated again:
 * `hessian(f)` is `jacfwd(jacrev(f))`, shape `[...In, ...In]`. `hvp` is a
 * Hessian-vector product by forward-over-reverse, without forming the Hessian.
 * Deliberately left out (for now): Jacobians with respect to trees, and
 * batching the basis vectors (a `vmap`).
 */

import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { allocate } from "../core/dtype.js";
import { shapeSize } from "../core/shape.js";
import { bind } from "../prims/bind.js";
import { fullLike, reshape } from "../prims/lax.js";
import type { AnyTensor } from "../prims/types.js";
import { grad, type ScalarFloat } from "./grad.js";
import { jvp, jvpFlat } from "./jvp.js";
import { linearizeFlat, pullbackOf } from "./linearize.js";

/** The basis tensor of shape `shape` with a 1 at flat index `i`. */
function basis(shape: readonly number[], dtype: DType, i: number): AnyTensor {
  const data = allocate(dtype, shapeSize(shape));
  data[i] = 1;
  return new Tensor(shape, dtype, data);
}

/** Stacks `parts` (each of shape `inner`) along a new leading axis, then reshapes to `shape`. */
function assemble(parts: readonly AnyTensor[], inner: readonly number[], shape: readonly number[], like: AnyTensor): AnyTensor {
  if (parts.length === 0) return reshape(fullLike({ shape: [0], dtype: like.dtype }, 0), shape);
  const rows = parts.map((p) => reshape(p, [1, ...inner]));
  const stacked = rows.length === 1 ? (rows[0] ?? like) : bind("concatenate", rows, { axis: 0 });
  return reshape(stacked, shape);
}

/** Moves the leading `lead` axes of a tensor of rank `rank` to the end. */
function leadingToEnd(x: AnyTensor, lead: number): AnyTensor {
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - lead }, (_, i) => i + lead), ...Array.from({ length: lead }, (_, i) => i)];
  return perm.every((a, i) => a === i) ? x : bind("transpose", [x], { perm });
}

/**
 * The Jacobian of `f` at `x` by forward mode: shape `[...Out, ...In]`.
 *
 * @example
 * jacfwd((x: Tensor<[3]>) => sin(x))(x); // Tensor<[3, 3]>, diag(cos x)
 */
export function jacfwd<In extends Shape, Out extends Shape, D extends "float32" | "float64">(
  f: (x: Tensor<In, D>) => Tensor<Out, D>,
): (x: Tensor<In, D>) => Tensor<[...Out, ...In], D> {
  return (x) => {
    const n = shapeSize(x.shape);
    let outShape: readonly number[] = [];
    const columns: AnyTensor[] = [];
    for (let i = 0; i < n; i++) {
      const out = jvpFlat((inputs) => [f(inputs[0] as Tensor<In, D>)], [x], [basis(x.shape, x.dtype, i)]); // one input, the x given
      const y = out.primals[0];
      if (y === undefined) throw new Error("jacfwd: no output");
      outShape = y.shape;
      columns.push(out.tangents[0] ?? fullLike(y, 0));
    }
    if (n === 0) outShape = f(x).shape;
    // columns[i] is dy/dx_i: stacked on a leading axis, then moved last
    const stacked = assemble(columns, outShape, [...x.shape, ...outShape], x);
    return leadingToEnd(stacked, x.shape.length) as Tensor<[...Out, ...In], D>; // [...Out, ...In] by construction
  };
}

/**
 * The Jacobian of `f` at `x` by reverse mode: shape `[...Out, ...In]`, one
 * pullback per output element after a single linearization.
 *
 * @example
 * jacrev((x: Tensor<[3]>) => sum(mul(x, x)))(x); // Tensor<[3]>, 2x
 */
export function jacrev<In extends Shape, Out extends Shape, D extends "float32" | "float64">(
  f: (x: Tensor<In, D>) => Tensor<Out, D>,
): (x: Tensor<In, D>) => Tensor<[...Out, ...In], D> {
  return (x) => {
    const lin = linearizeFlat((inputs) => [f(inputs[0] as Tensor<In, D>)], [x]); // one input, the x given
    const y = lin.outputs[0];
    if (y === undefined) throw new Error("jacrev: no output");
    const pullback = pullbackOf(lin, [x]);
    const rows: AnyTensor[] = [];
    for (let j = 0; j < shapeSize(y.shape); j++) rows.push(pullback([basis(y.shape, y.dtype, j)])[0] ?? fullLike(x, 0));
    return assemble(rows, x.shape, [...y.shape, ...x.shape], x) as Tensor<[...Out, ...In], D>; // [...Out, ...In] by construction
  };
}

/**
 * The Hessian of a scalar function: `jacfwd(jacrev(f))`, shape `[...In, ...In]`.
 *
 * @example
 * hessian((x: Tensor<[2]>) => sum(mul(x, mul(x, x))))(x); // diag(6x)
 */
export function hessian<In extends Shape, D extends "float32" | "float64">(
  f: (x: Tensor<In, D>) => Tensor<[], D> & ScalarFloat,
): (x: Tensor<In, D>) => Tensor<[...In, ...In], D> {
  const g = (x: Tensor<In, D>): Tensor<In, D> => jacrev(f)(x) as unknown as Tensor<In, D>; // jacrev of a scalar function has the input's shape
  return jacfwd(g) as unknown as (x: Tensor<In, D>) => Tensor<[...In, ...In], D>; // [...In, ...In]: the Jacobian of a map from In to In
}

/**
 * The Hessian-vector product `H v` of a scalar function at `x`, by
 * forward-over-reverse (`jvp` of `grad`), without forming `H`.
 *
 * @example
 * hvp((x: Tensor<[3]>) => sum(mul(x, mul(x, x))))(x, v); // 6 x v
 */
export function hvp<In extends Shape, D extends "float32" | "float64">(
  f: (x: Tensor<In, D>) => Tensor<[], D> & ScalarFloat,
): (x: Tensor<In, D>, v: Tensor<In, D>) => Tensor<In, D> {
  // D is a float dtype by its constraint, so grad gives the function, not the int-argument error
  const g = grad(f) as (x: Tensor<In, D>) => Tensor<In, D>;
  return (x, v) => jvp(g, [x], [v])[1];
}
