/**
 * `grad` and `valueAndGrad`: the gradient of a scalar function, over
 * parameter trees, as the pullback of `vjp` applied to 1.
 *
 * The gradient has exactly the type of the differentiated argument: for
 * `loss(params: { w: Tensor<[784, 512]>, b: Tensor<[512]> }, batch)`,
 * `grad(loss)(params, batch)` is `{ w: Tensor<[784, 512]>, b: Tensor<[512]> }`.
 * Only a function whose result is a scalar float tensor (`Tensor<[]>`)
 * type-checks; differentiating with respect to an int or bool argument is an
 * error at run time (its type does not show it when it is a tree).
 */

import type { DType } from "../core/dtype.js";
import type { ShapeError } from "../core/errors.js";
import { formatShape, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { fullLike } from "../prims/lax.js";
import type { AnyTensor } from "../prims/types.js";
import { isFloatDType } from "../core/dtype.js";
import { linearizeFlat, pullbackOf } from "./linearize.js";

/** A scalar float: what `grad` differentiates. */
export type ScalarFloat = Tensor<[], "float32"> | Tensor<[], "float64">;

/** The options of `grad` and `valueAndGrad`. */
export interface GradOptions<N extends number | readonly number[]> {
  /** Which arguments to differentiate with respect to (default 0). */
  readonly argnums?: N;
}

/** The gradient type for `argnums`: one argument's type, or a tuple of them. */
export type GradOf<Args extends readonly unknown[], N> = N extends number
  ? Args[N]
  : N extends readonly number[]
    ? { -readonly [K in keyof N]: Args[N[K] & number] }
    : never;

/** True when `T` is an int32 or bool tensor. */
type IsDiscrete<T> = T extends Tensor<Shape, infer D> ? (D extends "int32" | "bool" ? true : false) : false;

/**
 * `F` unless a differentiated argument is an int32 or bool tensor, in which
 * case an error type whose text says so: calling it does not compile. (An int
 * tensor inside a tree is caught at run time.)
 */
export type Differentiable<Args extends readonly unknown[], N, F> = N extends number
  ? IsDiscrete<Args[N]> extends true
    ? ShapeError<"grad: cannot differentiate with respect to an int32 or bool argument">
    : F
  : N extends readonly number[]
    ? true extends IsDiscrete<Args[N[number]]>
      ? ShapeError<"grad: cannot differentiate with respect to an int32 or bool argument">
      : F
    : F;

function checkScalar(op: string, y: AnyTensor | undefined): AnyTensor {
  if (y === undefined || y.shape.length !== 0 || !isFloatDType(y.dtype)) {
    throw new Error(`${op}: the function must return a scalar float tensor (shape []), got ${y === undefined ? "nothing" : `${y.dtype}${formatShape(y.shape)}`}`);
  }
  return y;
}

function valueAndGradImpl(
  op: string,
  f: (...args: readonly Tree[]) => unknown,
  argnums: number | readonly number[],
  hasAux: boolean,
): (...args: readonly Tree[]) => [AnyTensor, unknown, unknown] {
  const nums = typeof argnums === "number" ? [argnums] : argnums;
  return (...args) => {
    for (const n of nums) {
      if (!Number.isInteger(n) || n < 0 || n >= args.length) throw new Error(`${op}: argnum ${n} is out of range for ${args.length} arguments`);
    }
    const differentiated = flattenTree(nums.map((n) => args[n]), `${op} argument`);
    for (const x of differentiated.leaves) {
      if (!isFloatDType(x.dtype)) throw new Error(`${op}: cannot differentiate with respect to a tensor of dtype ${x.dtype as DType} (shape ${formatShape(x.shape)})`);
    }
    let aux: unknown;
    const lin = linearizeFlat((inputs) => {
      const parts = unflattenTree<Tree[]>(differentiated.def, inputs);
      const callArgs = args.slice();
      nums.forEach((n, i) => {
        const part = parts[i];
        if (part !== undefined) callArgs[n] = part;
      });
      const result = f(...callArgs);
      let value: unknown = result;
      if (hasAux) {
        if (!Array.isArray(result) || result.length !== 2) throw new Error(`${op}: with hasAux the function must return [value, aux]`);
        [value, aux] = result as [unknown, unknown];
      }
      return [checkScalar(op, value as AnyTensor)]; // checkScalar verifies it is a tensor of shape []
    }, differentiated.leaves);
    const y = checkScalar(op, lin.outputs[0]);
    const cts = pullbackOf(lin, differentiated.leaves)([fullLike(y, 1)]);
    const grads = unflattenTree<Tree[]>(differentiated.def, cts);
    return [y, typeof argnums === "number" ? grads[0] : grads, aux];
  };
}

/**
 * The gradient of a scalar function with respect to argument `argnums`
 * (default 0), of the same type as that argument.
 *
 * @example
 * const df = grad((x: Tensor<[3]>) => sum(mul(x, x)));
 * df(tensor([1, 2, 3])); // [2, 4, 6]
 */
export function grad<Args extends readonly Tree[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => ScalarFloat,
  options?: GradOptions<N>,
): Differentiable<Args, N, (...args: Args) => GradOf<Args, N>> {
  const run = valueAndGradImpl("grad", f as (...args: readonly Tree[]) => unknown, options?.argnums ?? 0, false);
  const g = (...args: Args): GradOf<Args, N> => run(...args)[1] as GradOf<Args, N>; // the gradient tree has the structure of the differentiated arguments
  return g as unknown as Differentiable<Args, N, (...args: Args) => GradOf<Args, N>>; // g is the float case; an int argument is refused at run time too
}

/**
 * The value of a scalar function and its gradient; with `hasAux`, `f`
 * returns `[value, aux]` and the result is `[[value, aux], gradient]`.
 *
 * @example
 * const [loss, g] = valueAndGrad(lossFn)(params, batch);
 */
export function valueAndGrad<Args extends readonly Tree[], V extends ScalarFloat, const N extends number | readonly number[] = 0>(
  f: (...args: Args) => V,
  options?: GradOptions<N>,
): Differentiable<Args, N, (...args: Args) => [V, GradOf<Args, N>]>;
export function valueAndGrad<Args extends readonly Tree[], V extends ScalarFloat, Aux, const N extends number | readonly number[] = 0>(
  f: (...args: Args) => readonly [V, Aux],
  options: GradOptions<N> & { readonly hasAux: true },
): Differentiable<Args, N, (...args: Args) => [[V, Aux], GradOf<Args, N>]>;
export function valueAndGrad(
  f: (...args: readonly Tree[]) => unknown,
  options: GradOptions<number | readonly number[]> & { readonly hasAux?: boolean } = {},
): unknown {
  const hasAux = options.hasAux === true;
  const run = valueAndGradImpl("valueAndGrad", f, options.argnums ?? 0, hasAux);
  return (...args: readonly Tree[]) => {
    const [y, g, aux] = run(...args);
    return hasAux ? [[y, aux], g] : [y, g];
  };
}
