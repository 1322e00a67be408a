/**
 * The dense (fully connected) layer: `y = x @ w + b` on the last axis, for any
 * batch prefix.
 *
 * As Keras's `Dense` and Flax's `nn.Dense`: the kernel is `[in, out]` so that
 * `x @ w` needs no transpose, and the bias is added per output feature.
 * Deliberately left out: a fused activation (compose with an activation
 * layer) and regularisers (a loss term).
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import { badDim, formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { DimsMatch, IsTuple } from "../core/rules/dims.js";
import { add } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { split } from "../random/key.js";
import { initializers, zeros, type Initializer, type InitializerName } from "./init.js";
import { checkParams, makeLayer, type InputOf, type Layer, type ShapeFn } from "./layer.js";

/**
 * The shape function of `dense(I, O)`: `[...B, I]` to `[...B, O]`.
 *
 * @example
 * type Y = ApplyShape<DenseFn<784, 512>, [2, "batch", 784]>; // [2, "batch", 512]
 */
export interface DenseFn<I extends Dim, O extends Dim> extends ShapeFn {
  readonly output: DenseShape<InputOf<this>, I, O>;
  readonly probe: ["...", I];
  readonly expects: `[..., ${ShowDim<I>}]`;
}

/** `[...B, I]` to `[...B, O]`, or a `ShapeError` naming both shapes. */
export type DenseShape<S extends Shape, I extends Dim, O extends Dim> = IsTuple<S> extends false
  ? Dim[]
  : S extends readonly [...infer B extends Shape, infer K]
    ? DimsMatch<K, I> extends true
      ? [...B, O]
      : ShapeError<`dense: expects [..., ${ShowDim<I>}] but gets ${ShowShape<S>}`>
    : ShapeError<`dense: expects [..., ${ShowDim<I>}] but gets []`>;

/** The parameters of `dense(I, O)`: the kernel `w` and, unless `useBias` is false, the bias `b`. */
export type DenseParams<I extends number, O extends number, Bias extends boolean = true> = Bias extends false
  ? { w: Tensor<[I, O]> }
  : { w: Tensor<[I, O]>; b: Tensor<[O]> };

/** The options of `dense`. */
export interface DenseOptions<Bias extends boolean = true> {
  /** Whether to add a bias (default true). */
  readonly useBias?: Bias;
  /** The kernel initialiser (default `"glorotUniform"`); the bias starts at zero. */
  readonly init?: InitializerName | Initializer;
}

/** The dense layer `dense(I, O)`. */
export type Dense<I extends number, O extends number, Bias extends boolean = true> = Layer<DenseParams<I, O, Bias>, DenseFn<I, O>>;

/**
 * A dense layer from `inFeatures` to `outFeatures`: `[...B, in]` to `[...B, out]`.
 *
 * @example
 * const layer = dense(784, 512);
 * const p = layer.init(key(0)); // { w: Tensor<[784, 512]>; b: Tensor<[512]> }
 * layer.apply(p, zeros([32, 784])); // Tensor<[32, 512]>
 */
export function dense<const I extends number, const O extends number, const Bias extends boolean = true>(
  inFeatures: I,
  outFeatures: O,
  options: DenseOptions<Bias> = {},
): Dense<I, O, Bias> {
  for (const [name, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
    const bad = badDim(n);
    if (bad !== undefined) shapeError("dense", `${name}: ${bad}`);
  }
  const useBias = options.useBias !== false;
  const kernelInit = typeof options.init === "function" ? options.init : initializers[options.init ?? "glorotUniform"];
  // The parameter record is built to match DenseParams<I, O, Bias>: `b` is present exactly when Bias is not false.
  type P = DenseParams<I, O, Bias>;
  const expected = { w: [inFeatures, outFeatures], b: useBias ? [outFeatures] : undefined };
  return makeLayer<P, DenseFn<I, O>>(
    (k) => {
      const [kw = k, kb = k] = split(k, 2);
      const w = kernelInit(kw, [inFeatures, outFeatures]);
      // useBias mirrors Bias at run time, so the record has P's keys (see the comment on P).
      return (useBias ? { w, b: zeros(kb, [outFeatures]) } : { w }) as P;
    },
    (p, x) => {
      checkParams("dense", p, expected);
      const last = x.shape[x.shape.length - 1];
      if (last !== inFeatures) shapeError("dense", `expects [..., ${inFeatures}] but gets ${formatShape(x.shape)}`);
      const params: { w: Tensor<[I, O]>; b?: Tensor<[O]> } = p;
      const y = matmul(x as Tensor<[...Shape, I]>, params.w); // the last dim was checked just above
      return useBias && params.b !== undefined ? add(y, params.b) : y;
    },
    { name: "dense" },
  );
}
