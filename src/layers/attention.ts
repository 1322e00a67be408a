/**
 * Attention: `multiHeadAttention` (scaled dot-product attention over several
 * heads, self- or cross-) and `transformerEncoderBlock` (the pre-norm
 * transformer encoder layer built on it).
 *
 * Attention is Vaswani et al. 2017, with the parameters laid out as Keras's
 * `MultiHeadAttention` and Flax's `MultiHeadDotProductAttention` in spirit:
 * one `[D, H·dk]` projection per role, heads side by side in its columns.
 * The softmax subtracts each row's maximum; masked keys get weight 0. The
 * block is the pre-norm layer of GPT-2 and of PyTorch's
 * `TransformerEncoderLayer(norm_first=True)`. Deliberately left out: dropout
 * on the attention weights, rotary and relative position encodings, key/value
 * caches, and grouped-query attention.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import type { FloorDiv, Mod, Mul } from "../core/arith/index.js";
import { arange } from "../core/create.js";
import { badDim, formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Checked, DimsMatch, IsTuple } from "../core/rules/dims.js";
import { gelu as geluOp, relu as reluOp } from "../ops/activations.js";
import { add, lessEqual, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { maskedSoftmax } from "../ops/reduce.js";
import { reshape, transpose } from "../ops/shape.js";
import type { ShapeOf } from "../ops/types.js";
import { split, type Key } from "../random/key.js";
import { splitKeys, type AnyKey } from "../random/staged.js";
import { dense, type DenseParams } from "./dense.js";
import { dropout } from "./dropout.js";
import { initializers, zeros, type Initializer, type InitializerName } from "./init.js";
import { layerNorm, type LayerNormParams } from "./norm.js";
import { checkParams, type ApplyOptions, type ApplyShape, type InputOf, type Layer, type ShapeFn } from "./layer.js";

/** A tensor as the layer implementations see it: float32 by the layer contract (float64 at run time works alike). */
type Float32Tensor = Tensor<Shape>;

// ---------------------------------------------------------------------------
// Shapes and options
// ---------------------------------------------------------------------------

/**
 * `S` itself when it is `[N, T, D]`, else a `ShapeError` naming the layer
 * `Op` and both shapes.
 *
 * @example
 * type Y = SequenceShape<"multiHeadAttention", ["batch", 64, 128], 128>; // ["batch", 64, 128]
 */
export type SequenceShape<Op extends string, S extends Shape, D extends Dim> = IsTuple<S> extends false
  ? S
  : S extends readonly [Dim, Dim, infer K]
    ? DimsMatch<K, D> extends true
      ? S
      : ShapeError<`${Op}: expects [N, T, ${ShowDim<D>}] but gets ${ShowShape<S>}`>
    : ShapeError<`${Op}: expects [N, T, ${ShowDim<D>}] but gets ${ShowShape<S>}`>;

/**
 * The shape function of a layer over sequences of `D` features: `[N, T, D]`
 * to itself.
 *
 * @example
 * type Y = ApplyShape<SequenceFn<"multiHeadAttention", 128>, [8, 64, 128]>; // [8, 64, 128]
 */
export interface SequenceFn<Op extends string, D extends Dim> extends ShapeFn {
  readonly output: SequenceShape<Op, InputOf<this>, D>;
  readonly probe: ["N", "T", D];
  readonly expects: `[N, T, ${ShowDim<D>}]`;
}

/**
 * The options of an attention layer's `apply` and `attend`, besides
 * `training` and `key`.
 *
 * `mask` is boolean, true where a query may attend to a key: `[N, Tk]` masks
 * keys (padding), `[N, Tq, Tk]` masks each query's keys separately. `causal`
 * lets query `i` attend only to keys `j <= i`. Both may be given: a key must
 * pass both. A query that may attend to no key gets zero attention weights,
 * so its attention output is the output bias `bo` alone (never NaN, unlike
 * PyTorch), and its gradient is finite.
 *
 * @example
 * mha.apply(p, x, { causal: true, mask: padding }); // padding: Tensor<[N, T], "bool">
 */
export interface AttentionApplyOptions extends ApplyOptions {
  readonly mask?: Tensor<Shape, "bool">;
  readonly causal?: boolean;
}

/**
 * `unknown` when `numHeads` `H` divides `dModel` `D` (or either is only known
 * at run time), else the `ShapeError` that the run-time check
 * `dModel % numHeads !== 0` throws: it brands the `numHeads` argument.
 *
 * @example
 * type E = HeadsDivide<"transformerEncoderBlock", 128, 3>; // ShapeError<"transformerEncoderBlock: dModel 128 is not a multiple of numHeads 3">
 */
export type HeadsDivide<Op extends string, D extends number, H extends number, Hint extends string = ""> = number extends D | H
  ? unknown
  : Mod<D, H> extends 0
    ? unknown
    : ShapeError<`${Op}: dModel ${D} is not a multiple of numHeads ${H}${Hint}`>;

/**
 * An attention layer: a `Layer` whose `apply` also takes masks.
 *
 * @example
 * const layer: AttentionLayer<TransformerEncoderParams<128, 4, 512>, SequenceFn<"transformerEncoderBlock", 128>> = transformerEncoderBlock(128, 4, 512);
 */
export interface AttentionLayer<P, F extends ShapeFn> extends Layer<P, F> {
  /** The layer applied to `x` with parameters `p`, under the masks of `opts`. */
  apply<S extends Shape>(p: P, x: Tensor<S> & Checked<ApplyShape<F, S>, unknown>, opts?: AttentionApplyOptions): Tensor<ShapeOf<ApplyShape<F, S>>>;
}

// ---------------------------------------------------------------------------
// multiHeadAttention
// ---------------------------------------------------------------------------

/**
 * The parameters of `multiHeadAttention(D, H, { keyDim: K, valueDim: V })`:
 * the projections `wq`, `wk` (`[D, H·K]`), `wv` (`[D, H·V]`) and `wo`
 * (`[H·V, D]`), head `h` in columns `h·K .. (h+1)·K - 1` (rows for `wo`),
 * and unless `useBias` is false their biases `bq`, `bk`, `bv`, `bo`.
 *
 * @example
 * const p: AttentionParams<128, 4, 32, 32> = multiHeadAttention(128, 4).init(key(0)); // p.wq: Tensor<[128, 128]>
 */
export type AttentionParams<D extends number, H extends number, K extends number, V extends number, Bias extends boolean = true> = {
  wq: Tensor<[D, Mul<H, K>]>;
  wk: Tensor<[D, Mul<H, K>]>;
  wv: Tensor<[D, Mul<H, V>]>;
  wo: Tensor<[Mul<H, V>, D]>;
} & (Bias extends false ? unknown : { bq: Tensor<[Mul<H, K>]>; bk: Tensor<[Mul<H, K>]>; bv: Tensor<[Mul<H, V>]>; bo: Tensor<[D]> });

/**
 * The options of `multiHeadAttention`.
 *
 * @example
 * multiHeadAttention(128, 4, { keyDim: 16, valueDim: 32, useBias: false });
 */
export interface AttentionOptions<K extends number, V extends number, Bias extends boolean> {
  /** The size of each head's queries and keys (default `dModel / numHeads`, which must then be whole). */
  readonly keyDim?: K;
  /** The size of each head's values (default `keyDim`). */
  readonly valueDim?: V;
  /** Whether the four projections add a bias (default true). */
  readonly useBias?: Bias;
  /** The initialiser of the four kernels (default `"glorotUniform"`); biases start at zero. */
  readonly init?: InitializerName | Initializer;
}

/**
 * The layer `multiHeadAttention(D, H)`: self-attention by `apply`, cross-attention by `attend`.
 *
 * @example
 * const mha = multiHeadAttention(128, 4);
 * mha.attend(mha.init(key(0)), zeros([8, 64, 128]), zeros([8, 10, 128])); // Tensor<[8, 64, 128]>
 */
export interface MultiHeadAttention<D extends number, H extends number, K extends number, V extends number, Bias extends boolean = true>
  extends AttentionLayer<AttentionParams<D, H, K, V, Bias>, SequenceFn<"multiHeadAttention", D>> {
  /**
   * Cross-attention: each query of `query` attends to the keys and values
   * projected from `keyValue`; the result has the shape of `query`.
   */
  attend<N extends Dim, Tq extends Dim, Tk extends Dim>(
    p: AttentionParams<D, H, K, V, Bias>,
    query: Tensor<[N, Tq, D]>,
    keyValue: Tensor<[NoInfer<N>, Tk, D]>,
    opts?: AttentionApplyOptions,
  ): Tensor<[N, Tq, D]>;
}

/** The parameters seen without their types, as the implementation reads them. */
interface WideAttentionParams {
  readonly wq: Float32Tensor;
  readonly wk: Float32Tensor;
  readonly wv: Float32Tensor;
  readonly wo: Float32Tensor;
  readonly bq?: Float32Tensor;
  readonly bk?: Float32Tensor;
  readonly bv?: Float32Tensor;
  readonly bo?: Float32Tensor;
}

/** Checks that `n` is a positive whole number, naming `what`. */
function checkSize(op: string, what: string, n: number): void {
  const bad = badDim(n);
  if (bad !== undefined || n < 1) shapeError(op, `${what}: ${bad ?? `must be at least 1, got ${n}`}`);
}

/** The default head size `D / H`: `never` when `H` does not divide `D` (then `keyDim` must be given), `number` when either is unknown. */
type HeadDim<D extends number, H extends number> = number extends D | H ? number : Mod<D, H> extends 0 ? FloorDiv<D, H> : never;

/**
 * Multi-head scaled dot-product attention over sequences of `dModel`
 * features. `apply(p, x)` is self-attention on `x: [N, T, D]`;
 * `attend(p, query, keyValue)` is cross-attention from `[N, Tq, D]` to
 * `[N, Tk, D]`. Per head `h`:
 * `softmax(q_h k_hᵀ / sqrt(keyDim)) v_h`, with masked keys left out of the
 * softmax; the heads are concatenated and projected by `wo`. See
 * `AttentionApplyOptions` for masks.
 *
 * @example
 * const mha = multiHeadAttention(128, 4);
 * mha.apply(mha.init(key(0)), zeros([8, 64, 128]), { causal: true }); // Tensor<[8, 64, 128]>
 */
export function multiHeadAttention<
  const D extends number,
  const H extends number,
  const K extends number = HeadDim<D, H>,
  const V extends number = K,
  const Bias extends boolean = true,
>(
  dModel: D,
  numHeads: H & ([K] extends [never] ? HeadsDivide<"multiHeadAttention", D, H, "; give keyDim"> : unknown),
  options: AttentionOptions<K, V, Bias> = {},
): MultiHeadAttention<D, H, K, V, Bias> {
  const op = "multiHeadAttention";
  checkSize(op, "dModel", dModel);
  checkSize(op, "numHeads", numHeads);
  if (options.keyDim === undefined && dModel % numHeads !== 0) {
    shapeError(op, `dModel ${dModel} is not a multiple of numHeads ${numHeads}; give keyDim`);
  }
  const keyDim = options.keyDim ?? dModel / numHeads;
  const valueDim = options.valueDim ?? keyDim;
  checkSize(op, "keyDim", keyDim);
  checkSize(op, "valueDim", valueDim);
  const useBias = options.useBias !== false;
  const kernelInit = typeof options.init === "function" ? options.init : initializers[options.init ?? "glorotUniform"];
  const [qk, hv] = [numHeads * keyDim, numHeads * valueDim];
  type P = AttentionParams<D, H, K, V, Bias>;

  const init = (k: Key): P => {
    const [kq = k, kk = k, kv = k, ko = k] = split(k, 4);
    const kernels = { wq: kernelInit(kq, [dModel, qk]), wk: kernelInit(kk, [dModel, qk]), wv: kernelInit(kv, [dModel, hv]), wo: kernelInit(ko, [hv, dModel]) };
    const biases = { bq: zeros(k, [qk]), bk: zeros(k, [qk]), bv: zeros(k, [hv]), bo: zeros(k, [dModel]) };
    // The sizes are H·K, H·V and D as P states; `b*` are present exactly when Bias is not false.
    return (useBias ? { ...kernels, ...biases } : kernels) as unknown as P;
  };

  const [bq, bv, bo] = useBias ? [[qk], [hv], [dModel]] : [undefined, undefined, undefined];
  const expected = { wq: [dModel, qk], wk: [dModel, qk], wv: [dModel, hv], wo: [hv, dModel], bq, bk: bq, bv, bo };

  const checkSequence = (what: string, x: Float32Tensor): void => {
    if (x.shape.length !== 3 || x.shape[2] !== dModel) shapeError(op, `expects ${what} [N, T, ${dModel}] but gets ${formatShape(x.shape)}`);
  };

  const attend = (p: P, query: Float32Tensor, keyValue: Float32Tensor, opts?: AttentionApplyOptions): Float32Tensor => {
    checkParams(op, p, expected);
    checkSequence("a query", query);
    checkSequence("keys and values", keyValue);
    const [n = 0, tq = 0] = query.shape;
    const tk = keyValue.shape[1] ?? 0;
    if (keyValue.shape[0] !== n) shapeError(op, `query ${formatShape(query.shape)} and keys ${formatShape(keyValue.shape)} have different batch sizes`);
    const masks = masksOf(op, query.shape, keyValue.shape, opts);
    const params: WideAttentionParams = p;
    const project = (x: Float32Tensor, w: Float32Tensor, b: Float32Tensor | undefined): Float32Tensor => (!useBias || b === undefined ? matmul(x, w) : add(matmul(x, w), b));
    // heads out of the columns: [N, T, H·dk] -> [N, T, H, dk] -> [N, H, T, dk]; keys straight to [N, H, dk, Tk]
    const q = transpose(reshape(mul(project(query, params.wq, params.bq), 1 / Math.sqrt(keyDim)), [n, tq, numHeads, keyDim]), [0, 2, 1, 3]);
    const kT = transpose(reshape(project(keyValue, params.wk, params.bk), [n, tk, numHeads, keyDim]), [0, 2, 3, 1]);
    const v = transpose(reshape(project(keyValue, params.wv, params.bv), [n, tk, numHeads, valueDim]), [0, 2, 1, 3]);
    // weights = softmax(q kᵀ / sqrt(dk)) over the keys: [N, H, Tq, Tk]
    const weights = maskedSoftmax(matmul(q, kT), masks);
    const heads = transpose(matmul(weights, v), [0, 2, 1, 3]); // [N, Tq, H, dv]
    return project(reshape(heads, [n, tq, hv]), params.wo, params.bo);
  };

  return {
    name: "multiHeadAttention",
    init,
    // `apply` and `attend` compute the shapes SequenceFn and the signature describe (checked by the tests); the typed view only narrows their types.
    apply: ((p: P, x: Float32Tensor, opts?: AttentionApplyOptions) => attend(p, x, x, opts)) as unknown as MultiHeadAttention<D, H, K, V, Bias>["apply"],
    attend: attend as unknown as MultiHeadAttention<D, H, K, V, Bias>["attend"],
  };
}

/**
 * The boolean masks that apply to scores of shape `[N, H, Tq, Tk]`, each
 * shaped to broadcast there: the causal mask `[Tq, Tk]` and the caller's mask
 * as `[N, 1, 1, Tk]` or `[N, 1, Tq, Tk]`.
 */
function masksOf(op: string, query: readonly number[], keys: readonly number[], opts: AttentionApplyOptions | undefined): Tensor<Shape, "bool">[] {
  const [n = 0, tq = 0] = query;
  const tk = keys[1] ?? 0;
  const masks: Tensor<Shape, "bool">[] = [];
  if (opts?.causal === true) {
    // query i sees key j when j <= i
    masks.push(lessEqual(reshape(arange(tk), [1, tk]), reshape(arange(tq), [tq, 1])));
  }
  const mask = opts?.mask;
  if (mask !== undefined) {
    const fits = (s: readonly number[], want: readonly number[]): boolean => s.length === want.length && s.every((d, i) => d === want[i]);
    const shapes = `query ${formatShape(query)} and keys ${formatShape(keys)}`;
    if (mask.dtype !== "bool") shapeError(op, `a mask must be bool, got ${mask.dtype}, for ${shapes}`);
    if (fits(mask.shape, [n, tk])) masks.push(reshape(mask, [n, 1, 1, tk]));
    else if (fits(mask.shape, [n, tq, tk])) masks.push(reshape(mask, [n, 1, tq, tk]));
    else shapeError(op, `a mask must be [${n}, ${tk}] or [${n}, ${tq}, ${tk}] for ${shapes}, but gets ${formatShape(mask.shape)}`);
  }
  return masks;
}

// ---------------------------------------------------------------------------
// transformerEncoderBlock
// ---------------------------------------------------------------------------

/**
 * The parameters of `transformerEncoderBlock(D, H, F)`: two layer norms, the
 * attention (heads of `D / H`) and the two dense layers of the feed-forward part.
 *
 * @example
 * const p: TransformerEncoderParams<128, 4, 512> = transformerEncoderBlock(128, 4, 512).init(key(0));
 * p.ffn1.w; // Tensor<[128, 512]>
 */
export type TransformerEncoderParams<D extends number, H extends number, F extends number> = {
  ln1: LayerNormParams<D>;
  mha: AttentionParams<D, H, FloorDiv<D, H>, FloorDiv<D, H>>;
  ln2: LayerNormParams<D>;
  ffn1: DenseParams<D, F>;
  ffn2: DenseParams<F, D>;
};

/**
 * The options of `transformerEncoderBlock`.
 *
 * @example
 * transformerEncoderBlock(128, 4, 512, { activation: "relu", dropout: 0.1 });
 */
export interface TransformerEncoderOptions {
  /**
   * The activation between the two dense layers of the feed-forward part:
   * `"gelu"` (the default; the exact erf form, as PyTorch's `"gelu"`),
   * `"geluTanh"` (its tanh approximation) or `"relu"`.
   */
  readonly activation?: "gelu" | "geluTanh" | "relu";
  /** The layer norms' eps (default 1e-5). */
  readonly eps?: number;
  /** The rate at which dropout zeroes each sublayer's output before its residual sum, in training (default 0). */
  readonly dropout?: number;
}

/**
 * The layer `transformerEncoderBlock(D, H, F)`: `[N, T, D]` to `[N, T, D]`.
 *
 * @example
 * const block: TransformerEncoderBlock<128, 4, 512> = transformerEncoderBlock(128, 4, 512);
 */
export type TransformerEncoderBlock<D extends number, H extends number, F extends number> = AttentionLayer<
  TransformerEncoderParams<D, H, F>,
  SequenceFn<"transformerEncoderBlock", D>
>;

/**
 * A pre-norm transformer encoder block on `[N, T, D]`:
 * `x1 = x + mha(ln1(x))`, then `x1 + ffn2(act(ffn1(ln2(x1))))`, with
 * `ffn1: dense(D, F)` and `ffn2: dense(F, D)`. The attention has `numHeads`
 * heads of `D / numHeads`, and its masks come from the options of `apply`.
 * With `dropout` above 0 and `training: true`, each sublayer's output is
 * dropped (the `dropout` layer) before the sum, drawn from `opts.key`
 * (under `jit`, a key tensor: see `dropout`).
 *
 * @example
 * const block = transformerEncoderBlock(128, 4, 512);
 * block.apply(block.init(key(0)), zeros([8, 64, 128]), { causal: true }); // Tensor<[8, 64, 128]>
 */
export function transformerEncoderBlock<const D extends number, const H extends number, const F extends number>(
  dModel: D,
  numHeads: H & HeadsDivide<"transformerEncoderBlock", D, H>,
  ffnDim: F,
  options: TransformerEncoderOptions = {},
): TransformerEncoderBlock<D, H, F> {
  const op = "transformerEncoderBlock";
  checkSize(op, "ffnDim", ffnDim);
  if (dModel % numHeads !== 0) shapeError(op, `dModel ${dModel} is not a multiple of numHeads ${numHeads}`);
  const rate = options.dropout ?? 0;
  if (!(typeof rate === "number" && rate >= 0 && rate < 1)) shapeError(op, `dropout must be in [0, 1), got ${String(rate)}`);
  const act = options.activation ?? "gelu";
  if (act !== "gelu" && act !== "geluTanh" && act !== "relu") shapeError(op, `activation must be "gelu", "geluTanh" or "relu", got ${String(act)}`);
  const activation = (x: Float32Tensor): Float32Tensor => (act === "relu" ? reluOp(x) : geluOp(x, { approximate: act === "geluTanh" ? "tanh" : "none" }));
  const eps = options.eps ?? 1e-5;
  const [ln1, ln2] = [layerNorm(dModel, { eps }), layerNorm(dModel, { eps })];
  // heads of D / H (H divides D, checked above); typed back from `number`, which skips the divisibility brand checked on this block's own argument
  const mha = multiHeadAttention(dModel, numHeads as number) as unknown as MultiHeadAttention<D, H, FloorDiv<D, H>, FloorDiv<D, H>>;
  const dropLayer = dropout(rate);
  const [ffn1, ffn2] = [dense(dModel, ffnDim), dense(ffnDim, dModel)];
  type P = TransformerEncoderParams<D, H, F>;
  const [d, f, dd] = [[dModel], [ffnDim], [dModel, dModel]];
  // every sublayer's parameters, by their path in P, so that a wrong one is named from the block
  const expected = {
    "ln1.scale": d, "ln1.bias": d, "ln2.scale": d, "ln2.bias": d,
    "mha.wq": dd, "mha.wk": dd, "mha.wv": dd, "mha.wo": dd, "mha.bq": d, "mha.bk": d, "mha.bv": d, "mha.bo": d,
    "ffn1.w": [dModel, ffnDim], "ffn1.b": f, "ffn2.w": [ffnDim, dModel], "ffn2.b": d,
  };

  const apply = (p: P, x: Float32Tensor, opts?: AttentionApplyOptions): Float32Tensor => {
    checkParams(op, p, expected);
    if (x.shape.length !== 3 || x.shape[2] !== dModel) shapeError(op, `expects [N, T, ${dModel}] but gets ${formatShape(x.shape)}`);
    const dropping = opts?.training === true && rate > 0;
    if (dropping && opts.key === undefined) shapeError(op, `training with dropout ${rate} needs opts.key, for input ${formatShape(x.shape)}`);
    const [k1, k2] = dropping && opts.key !== undefined ? splitKeys(opts.key, 2) : [undefined, undefined];
    const drop = (y: Float32Tensor, k: AnyKey | undefined): Float32Tensor => (k === undefined ? y : dropLayer.apply({}, y, { training: true, key: k }));
    const x1 = add(x, drop(mha.apply(p.mha, ln1.apply(p.ln1, x), opts), k1));
    const hidden = activation(ffn1.apply(p.ffn1, ln2.apply(p.ln2, x1)));
    return add(x1, drop(ffn2.apply(p.ffn2, hidden), k2));
  };

  return {
    name: "transformerEncoderBlock",
    init: (k) => {
      const [k1 = k, k2 = k, k3 = k, k4 = k, k5 = k] = split(k, 5);
      return { ln1: ln1.init(k1), mha: mha.init(k2), ln2: ln2.init(k3), ffn1: ffn1.init(k4), ffn2: ffn2.init(k5) };
    },
    // `apply` computes the shape SequenceFn describes (checked by the tests); the typed view only narrows its types.
    apply: apply as unknown as TransformerEncoderBlock<D, H, F>["apply"],
  };
}
