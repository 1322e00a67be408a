/**
 * Normalisation layers: `layerNorm`, `rmsNorm` (per example, over the last
 * axis) and `batchNorm` (per channel, over every axis but the last).
 *
 * Layer norm is Ba et al. 2016 as in PyTorch's `nn.LayerNorm` and Flax's
 * `nn.LayerNorm`: `(x - mean) / sqrt(var + eps) * scale + bias`, with the
 * biased (population) variance. RMS norm is Zhang & Sennrich 2019 as in T5
 * and `nn.RMSNorm`: `x / sqrt(mean(x²) + eps) * scale`. Batch norm is Ioffe &
 * Szegedy 2015, channels last, with Keras's momentum convention and eps
 * default (`BatchNormalization`) but PyTorch's update of the running variance
 * (from the unbiased batch variance; Keras uses the biased one); its running
 * statistics are explicit state (a `StatefulLayer`). Deliberately left out:
 * normalising over several trailing axes, group and instance norm, and
 * synchronised statistics across devices.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import { badDim, formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { DimsMatch, IsTuple } from "../core/rules/dims.js";
import { onesOfShape as ones, zerosOfShape as zeros } from "../core/create.js";
import { add, mul, sub } from "../ops/elementwise.js";
import { rsqrt, square } from "../ops/math.js";
import { mean } from "../ops/reduce.js";
import { reshape } from "../ops/shape.js";
/** A tensor as the layer implementations see it: float32 by the layer contract (float64 at run time works alike). */
type Float32Tensor = Tensor<Shape>;
import { stopGradient } from "../transforms/custom.js";
import type { NoParams } from "./activations.js";
import { checkParams, makeLayer, type ApplyOptions, type InputOf, type Layer, type ShapeFn, type StatefulLayer } from "./layer.js";

// ---------------------------------------------------------------------------
// The shape function shared by the three layers
// ---------------------------------------------------------------------------

/**
 * `S` itself when its last dim is `F`, else a `ShapeError` naming the layer
 * `Op` and both shapes.
 *
 * @example
 * type Y = FeatureShape<"layerNorm", ["batch", 64], 64>; // ["batch", 64]
 */
export type FeatureShape<Op extends string, S extends Shape, F extends Dim> = IsTuple<S> extends false
  ? S
  : S extends readonly [...Shape, infer K]
    ? DimsMatch<K, F> extends true
      ? S
      : ShapeError<`${Op}: expects [..., ${ShowDim<F>}] but gets ${ShowShape<S>}`>
    : ShapeError<`${Op}: expects [..., ${ShowDim<F>}] but gets []`>;

/**
 * The shape function of a normalisation over `F` features: `[...B, F]` to
 * itself.
 *
 * @example
 * type Y = ApplyShape<FeatureFn<"layerNorm", 128>, [8, 64, 128]>; // [8, 64, 128]
 */
export interface FeatureFn<Op extends string, F extends Dim> extends ShapeFn {
  readonly output: FeatureShape<Op, InputOf<this>, F>;
  readonly probe: ["...", F];
  readonly expects: `[..., ${ShowDim<F>}]`;
}

/** Checks at construction that `features` is a valid dim and `eps` a positive number. */
function checkConfig(op: string, features: number, eps: number): void {
  const bad = badDim(features);
  if (bad !== undefined || features < 1) shapeError(op, `features: ${bad ?? `must be at least 1, got ${features}`}`);
  if (!(typeof eps === "number" && eps > 0 && Number.isFinite(eps))) shapeError(op, `eps must be a positive number, got ${String(eps)}`);
}

/** Checks at apply time that the last dim of `x` is `features`. */
function checkFeatures(op: string, x: Float32Tensor, features: number): void {
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== features) {
    shapeError(op, `expects [..., ${features}] but gets ${formatShape(x.shape)}`);
  }
}

/** `y * scale + bias`, leaving out the parameters that are absent. */
function affine(y: Float32Tensor, scale: Float32Tensor | undefined, bias: Float32Tensor | undefined): Float32Tensor {
  const scaled = scale === undefined ? y : mul(y, scale);
  return bias === undefined ? scaled : add(scaled, bias);
}

// ---------------------------------------------------------------------------
// layerNorm
// ---------------------------------------------------------------------------

/**
 * The parameters of `layerNorm(F)`: `scale` (ones) and `bias` (zeros), each unless turned off.
 *
 * @example
 * const p: LayerNormParams<128> = layerNorm(128).init(key(0)); // { scale: Tensor<[128]>; bias: Tensor<[128]> }
 */
export type LayerNormParams<F extends number, Scale extends boolean = true, Bias extends boolean = true> = Scale extends false
  ? Bias extends false
    ? NoParams
    : { bias: Tensor<[F]> }
  : Bias extends false
    ? { scale: Tensor<[F]> }
    : { scale: Tensor<[F]>; bias: Tensor<[F]> };

/**
 * The options of `layerNorm`.
 *
 * @example
 * layerNorm(128, { eps: 1e-6, useBias: false });
 */
export interface LayerNormOptions<Scale extends boolean = true, Bias extends boolean = true> {
  /** Added to the variance before the square root (default 1e-5, as PyTorch). */
  readonly eps?: number;
  /** Whether to multiply by a learned `scale` (default true). */
  readonly useScale?: Scale;
  /** Whether to add a learned `bias` (default true). */
  readonly useBias?: Bias;
}

/**
 * The layer `layerNorm(F)`.
 *
 * @example
 * const ln: LayerNorm<128> = layerNorm(128);
 */
export type LayerNorm<F extends number, Scale extends boolean = true, Bias extends boolean = true> = Layer<
  LayerNormParams<F, Scale, Bias>,
  FeatureFn<"layerNorm", F>
>;

/**
 * Layer normalisation over the last axis: each row of `[...B, F]` gets mean
 * 0 and (biased) variance 1, then `* scale + bias` per feature.
 *
 * @example
 * const ln = layerNorm(128);
 * ln.apply(ln.init(key(0)), zeros([8, 64, 128])); // Tensor<[8, 64, 128]>
 */
export function layerNorm<const F extends number, const Scale extends boolean = true, const Bias extends boolean = true>(
  features: F,
  options: LayerNormOptions<Scale, Bias> = {},
): LayerNorm<F, Scale, Bias> {
  const eps = options.eps ?? 1e-5;
  checkConfig("layerNorm", features, eps);
  const [useScale, useBias] = [options.useScale !== false, options.useBias !== false];
  type P = LayerNormParams<F, Scale, Bias>;
  const expected = { scale: useScale ? [features] : undefined, bias: useBias ? [features] : undefined };
  return makeLayer<P, FeatureFn<"layerNorm", F>>(
    // useScale and useBias mirror Scale and Bias at run time, so the record has P's keys.
    () => ({ ...(useScale ? { scale: ones([features]) } : {}), ...(useBias ? { bias: zeros([features]) } : {}) }) as P,
    (p, x) => {
      checkParams("layerNorm", p, expected);
      checkFeatures("layerNorm", x, features);
      // P has `scale` exactly when Scale is not false and `bias` exactly when Bias is not false (see init).
      const params = p as { scale?: Float32Tensor; bias?: Float32Tensor };
      const centred = sub(x, mean(x, -1, true));
      // y = (x - mean) / sqrt(mean((x - mean)²) + eps)
      const y = mul(centred, rsqrt(add(mean(square(centred), -1, true), eps)));
      return affine(y, useScale ? params.scale : undefined, useBias ? params.bias : undefined);
    },
    { name: "layerNorm" },
  );
}

// ---------------------------------------------------------------------------
// rmsNorm
// ---------------------------------------------------------------------------

/**
 * The parameters of `rmsNorm(F)`: `scale`, starting at ones.
 *
 * @example
 * const p: RmsNormParams<128> = rmsNorm(128).init(key(0)); // { scale: Tensor<[128]> }
 */
export type RmsNormParams<F extends number> = { scale: Tensor<[F]> };

/**
 * The options of `rmsNorm`.
 *
 * @example
 * rmsNorm(128, { eps: 1e-5 });
 */
export interface RmsNormOptions {
  /** Added to the mean square before the square root (default 1e-6, as T5 and Flax). */
  readonly eps?: number;
}

/**
 * The layer `rmsNorm(F)`.
 *
 * @example
 * const norm: RmsNorm<128> = rmsNorm(128);
 */
export type RmsNorm<F extends number> = Layer<RmsNormParams<F>, FeatureFn<"rmsNorm", F>>;

/**
 * Root-mean-square normalisation over the last axis:
 * `x / sqrt(mean(x²) + eps) * scale`, with no centring and no bias.
 *
 * @example
 * const norm = rmsNorm(128);
 * norm.apply(norm.init(key(0)), zeros([8, 64, 128])); // Tensor<[8, 64, 128]>
 */
export function rmsNorm<const F extends number>(features: F, options: RmsNormOptions = {}): RmsNorm<F> {
  const eps = options.eps ?? 1e-6;
  checkConfig("rmsNorm", features, eps);
  return makeLayer<RmsNormParams<F>, FeatureFn<"rmsNorm", F>>(
    () => ({ scale: ones([features]) }),
    (p, x) => {
      checkParams("rmsNorm", p, { scale: [features] });
      checkFeatures("rmsNorm", x, features);
      // y = x / sqrt(mean(x²) + eps) * scale
      return mul(mul(x, rsqrt(add(mean(square(x), -1, true), eps))), p.scale);
    },
    { name: "rmsNorm" },
  );
}

// ---------------------------------------------------------------------------
// batchNorm
// ---------------------------------------------------------------------------

/**
 * The parameters of `batchNorm(F)`: `scale` (ones) and `bias` (zeros).
 *
 * @example
 * const p: BatchNormParams<64> = batchNorm(64).init(key(0));
 */
export type BatchNormParams<F extends number> = { scale: Tensor<[F]>; bias: Tensor<[F]> };

/**
 * The state of `batchNorm(F)`: the running mean (zeros at first) and running variance (ones).
 *
 * @example
 * const s: BatchNormState<64> = batchNorm(64).initState(); // { mean: Tensor<[64]>; var: Tensor<[64]> }
 */
export type BatchNormState<F extends number> = { mean: Tensor<[F]>; var: Tensor<[F]> };

/**
 * The options of `batchNorm`.
 *
 * @example
 * batchNorm(64, { momentum: 0.9, eps: 1e-5 }); // PyTorch's defaults, in Keras's convention
 */
export interface BatchNormOptions {
  /**
   * Keras's convention (default 0.99): the running statistics become
   * `momentum * running + (1 - momentum) * batch` (the batch's variance
   * unbiased, as PyTorch). PyTorch's `momentum=0.1` is Keras's 0.9.
   */
  readonly momentum?: number;
  /** Added to the variance before the square root (default 1e-3, as Keras). */
  readonly eps?: number;
}

/**
 * The layer `batchNorm(F)`: stateful, with the running statistics as state.
 *
 * @example
 * const bn: BatchNorm<64> = batchNorm(64);
 */
export type BatchNorm<F extends number> = StatefulLayer<BatchNormParams<F>, BatchNormState<F>, FeatureFn<"batchNorm", F>>;

/**
 * Batch normalisation, channels last: each of the `F` channels of
 * `[...B, F]` is normalised over all the other axes. The momentum and eps
 * follow Keras's convention and defaults; the running variance follows
 * PyTorch (see below).
 *
 * With `training: true` the batch's own mean and biased variance normalise
 * `x`, and the returned state moves toward the batch's mean and its
 * *unbiased* variance (`n / (n - 1)` times the biased one, as PyTorch does;
 * `n` is the number of elements per channel, which must be at least 2).
 * Otherwise the running statistics normalise `x` and the state comes back
 * unchanged. The state is never differentiated: gradients flow through the
 * batch statistics in training, not into the running ones.
 *
 * @example
 * const bn = batchNorm(64);
 * const [y, state] = bn.apply(bn.init(key(0)), bn.initState(), zeros([32, 64]), { training: true }); // Tensor<[32, 64]>
 */
export function batchNorm<const F extends number>(features: F, options: BatchNormOptions = {}): BatchNorm<F> {
  const op = "batchNorm";
  const eps = options.eps ?? 1e-3;
  const momentum = options.momentum ?? 0.99;
  checkConfig(op, features, eps);
  if (!(typeof momentum === "number" && momentum >= 0 && momentum <= 1)) shapeError(op, `momentum must be in [0, 1] (Keras's convention), got ${String(momentum)}`);
  type P = BatchNormParams<F>;
  type St = BatchNormState<F>;
  const apply = (p: P, state: St, x: Float32Tensor, opts?: ApplyOptions): [Float32Tensor, St] => {
    checkParams(op, p, { scale: [features], bias: [features] });
    checkFeatures(op, x, features);
    if (state.mean.shape.length !== 1 || state.mean.shape[0] !== features || state.var.shape.length !== 1 || state.var.shape[0] !== features) {
      shapeError(op, `expects a state of [${features}] and [${features}] but gets ${formatShape(state.mean.shape)} and ${formatShape(state.var.shape)}`);
    }
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const runningMean: Float32Tensor = stopGradient(state.mean);
    const runningVar: Float32Tensor = stopGradient(state.var);
    if (opts?.training !== true) return [affine(mul(sub(x, runningMean), rsqrt(add(runningVar, eps))), p.scale, p.bias), state];
    const n = x.size / features;
    if (n < 2) shapeError(op, `training needs at least 2 values per channel, but ${formatShape(x.shape)} has ${n}`);
    const batchMean = mean(x, axes, true);
    const centred = sub(x, batchMean);
    const batchVar = mean(square(centred), axes, true);
    const y = affine(mul(centred, rsqrt(add(batchVar, eps))), p.scale, p.bias);
    // running = momentum * running + (1 - momentum) * batch, with the unbiased variance n / (n - 1) * var
    const [meanNow, varNow] = [stopGradient(reshape(batchMean, [features])), stopGradient(reshape(batchVar, [features]))];
    const next = {
      mean: add(mul(runningMean, momentum), mul(meanNow, 1 - momentum)),
      var: add(mul(runningVar, momentum), mul(varNow, ((1 - momentum) * n) / (n - 1))),
    };
    // the running statistics keep the shape [F] of the state they update
    return [y, next as St];
  };
  return {
    name: "batchNorm",
    init: () => ({ scale: ones([features]), bias: zeros([features]) }),
    initState: () => ({ mean: zeros([features]), var: ones([features]) }),
    // `apply` computes the shape FeatureFn describes (checked by the tests); the typed view only narrows its types.
    apply: apply as unknown as BatchNorm<F>["apply"],
  };
}
