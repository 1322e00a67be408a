/**
 * Attention: `multiHeadAttention` (scaled dot-product attention over several
 * heads, self- or cross-), `crossAttention` (cross-attention to a fixed
 * memory as a layer for stacks) and `transformerEncoderBlock` (the pre-norm
 * transformer encoder layer built on it).
 *
 * Attention is Vaswani et al. 2017, with the parameters laid out as Keras's
 * `MultiHeadAttention` and Flax's `MultiHeadDotProductAttention` in spirit:
 * one `[in, H·dk]` projection per role, heads side by side in its columns.
 * It computes what PyTorch's `nn.MultiheadAttention(batch_first=True)` does,
 * keys and values of other widths (`kdim`, `vdim`), `attn_mask`,
 * `key_padding_mask` and the attention weights (averaged or per head)
 * included. The softmax subtracts each row's maximum; masked keys get weight
 * 0. The block is the pre-norm layer of GPT-2 and of PyTorch's
 * `TransformerEncoderLayer(norm_first=True)`. Deliberately left out: dropout
 * on the attention weights, `add_bias_kv` and `add_zero_attn`, rotary and
 * relative position encodings, key/value caches, and grouped-query attention.
 */

import { shapeError, type ShapeError } from "../core/errors.js";
import type { FloorDiv, Mod, Mul } from "../core/arith/index.js";
import { arange } from "../core/create.js";
import { badDim, formatShape, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { Checked, DimsMatch, IsTuple } from "../core/rules/dims.js";
import { gelu as geluOp, relu as reluOp } from "../ops/activations.js";
import { add, equal, greater, lessEqual, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { maskedSoftmax, mean } from "../ops/reduce.js";
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
 * Two mask conventions, which may be mixed (a key must pass every mask):
 *
 * - Stratum's (Keras's): `mask` is boolean, true where a query may attend to
 *   a key: `[N, Tk]` masks keys (padding), `[N, Tq, Tk]` each query's keys
 *   separately. `causal` lets query `i` attend only to keys `j <= i`.
 * - PyTorch's (`nn.MultiheadAttention`'s `attn_mask` and `key_padding_mask`):
 *   `attnMask` is `[Tq, Tk]` or `[N·H, Tq, Tk]` (row `n·H + h` for batch `n`,
 *   head `h`), `keyPaddingMask` is `[N, Tk]`; a bool mask is true where
 *   attention is NOT allowed (the negation of `mask`), a float mask is added
 *   to the scaled scores before the softmax (`-Infinity` masks out).
 *
 * A query that may attend to no key gets zero attention weights, so its
 * attention output is the output bias `bo` alone (never NaN, unlike
 * PyTorch), and its gradient is finite.
 *
 * @example
 * mha.apply(p, x, { causal: true, mask: padding }); // padding: Tensor<[N, T], "bool">, true = a real token
 * mha.apply(p, x, { keyPaddingMask: padded }); // padded: Tensor<[N, T], "bool">, true = padding (PyTorch's)
 */
export interface AttentionApplyOptions extends ApplyOptions {
  readonly mask?: Tensor<Shape, "bool">;
  readonly causal?: boolean;
  /** PyTorch's `attn_mask`: `[Tq, Tk]` or `[N·H, Tq, Tk]`, bool (true = not allowed) or float (added to the scores). */
  readonly attnMask?: Tensor<Shape, "bool" | "float32" | "float64">;
  /** PyTorch's `key_padding_mask`: `[N, Tk]`, bool (true = a padded key, ignored) or float (added to the scores). */
  readonly keyPaddingMask?: Tensor<Shape, "bool" | "float32" | "float64">;
}

/**
 * The options of `attend` that ask for the attention weights besides the
 * output (PyTorch's `need_weights` and `average_attn_weights`).
 *
 * @example
 * const [y, w] = mha.attend(p, q, k, v, { needWeights: true }); // w: [N, Tq, Tk], the mean over heads
 */
export interface AttentionWeightsOptions<Average extends boolean = boolean> extends AttentionApplyOptions {
  /** Return `[output, weights]`. */
  readonly needWeights: true;
  /** The weights averaged over the heads, `[N, Tq, Tk]` (default true), or per head, `[N, H, Tq, Tk]` (false). */
  readonly averageWeights?: Average;
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
 * The parameters of `multiHeadAttention(D, H, { keyDim: K, valueDim: V, kdim: KD, vdim: VD })`:
 * the projections `wq` (`[D, H·K]`), `wk` (`[KD, H·K]`), `wv` (`[VD, H·V]`)
 * and `wo` (`[H·V, D]`), head `h` in columns `h·K .. (h+1)·K - 1` (rows for
 * `wo`), and unless `useBias` is false their biases `bq`, `bk`, `bv`, `bo`.
 * `KD` and `VD` (the widths of the key and value inputs) default to `D`.
 *
 * @example
 * const p: AttentionParams<128, 4, 32, 32> = multiHeadAttention(128, 4).init(key(0)); // p.wq: Tensor<[128, 128]>
 */
export type AttentionParams<D extends number, H extends number, K extends number, V extends number, Bias extends boolean = true, KD extends number = D, VD extends number = D> = {
  wq: Tensor<[D, Mul<H, K>]>;
  wk: Tensor<[KD, Mul<H, K>]>;
  wv: Tensor<[VD, Mul<H, V>]>;
  wo: Tensor<[Mul<H, V>, D]>;
} & (Bias extends false ? unknown : { bq: Tensor<[Mul<H, K>]>; bk: Tensor<[Mul<H, K>]>; bv: Tensor<[Mul<H, V>]>; bo: Tensor<[D]> });

/**
 * The options of `multiHeadAttention`.
 *
 * @example
 * multiHeadAttention(128, 4, { keyDim: 16, valueDim: 32, useBias: false });
 * multiHeadAttention(128, 4, { kdim: 64, vdim: 32 }); // nn.MultiheadAttention(128, 4, kdim=64, vdim=32)
 */
export interface AttentionOptions<K extends number, V extends number, Bias extends boolean, KD extends number = number, VD extends number = number> {
  /** The size of each head's queries and keys (default `dModel / numHeads`, which must then be whole). */
  readonly keyDim?: K;
  /** The size of each head's values (default `keyDim`). */
  readonly valueDim?: V;
  /**
   * The width of the key input (default `dModel`): PyTorch's `kdim`, the
   * rows of `wk`. Not a per-head size (that is `keyDim`).
   */
  readonly kdim?: KD;
  /** The width of the value input (default `dModel`): PyTorch's `vdim`, the rows of `wv`. */
  readonly vdim?: VD;
  /** Whether the four projections add a bias (default true). */
  readonly useBias?: Bias;
  /** The initialiser of the four kernels (default `"glorotUniform"`); biases start at zero. */
  readonly init?: InitializerName | Initializer;
}

/**
 * `S` itself when it is `[N, T, D]` and the key and value widths `KD` and
 * `VD` are `D`, else a `ShapeError` naming `Op` (an `S` of unknown rank is
 * checked at run time).
 *
 * @example
 * type E = SelfAttentionShape<"multiHeadAttention", [8, 64, 128], 128, 64, 128>; // ShapeError<"multiHeadAttention: self-attention needs kdim = dModel 128, got kdim 64; ...">
 */
export type SelfAttentionShape<Op extends string, S extends Shape, D extends Dim, KD extends Dim, VD extends Dim> = IsTuple<S> extends false
  ? S
  : DimsMatch<KD, D> extends true
    ? DimsMatch<VD, D> extends true
      ? SequenceShape<Op, S, D>
      : ShapeError<`${Op}: self-attention needs vdim = dModel ${ShowDim<D>}, got vdim ${ShowDim<VD>}; use attend(p, query, key, value)`>
    : ShapeError<`${Op}: self-attention needs kdim = dModel ${ShowDim<D>}, got kdim ${ShowDim<KD>}; use attend(p, query, key, value)`>;

/**
 * The shape function of self-attention by a layer whose key and value
 * inputs are `KD` and `VD` wide: `[N, T, D]` to itself when `KD` and `VD`
 * are `D` (the input is query, key and value at once), else a `ShapeError`
 * that points to `attend` (or `crossAttention` for a stack).
 *
 * @example
 * type Y = ApplyShape<SelfAttentionFn<"multiHeadAttention", 128, 128, 128>, [8, 64, 128]>; // [8, 64, 128]
 */
export interface SelfAttentionFn<Op extends string, D extends Dim, KD extends Dim, VD extends Dim> extends ShapeFn {
  readonly output: SelfAttentionShape<Op, InputOf<this>, D, KD, VD>;
  readonly probe: ["N", "T", D];
  readonly expects: [DimsMatch<KD, D>, DimsMatch<VD, D>] extends [true, true]
    ? `[N, T, ${ShowDim<D>}]`
    : `separate keys [N, Tk, ${ShowDim<KD>}] and values [N, Tk, ${ShowDim<VD>}] (put crossAttention(layer, key, value) in a stack)`;
}

/**
 * The layer `multiHeadAttention(D, H)`: self-attention by `apply`,
 * cross-attention by `attend`, with the attention weights on request.
 *
 * @example
 * const mha = multiHeadAttention(128, 4);
 * mha.attend(mha.init(key(0)), zeros([8, 64, 128]), zeros([8, 10, 128])); // Tensor<[8, 64, 128]>
 */
export interface MultiHeadAttention<D extends number, H extends number, K extends number, V extends number, Bias extends boolean = true, KD extends number = D, VD extends number = D>
  extends AttentionLayer<AttentionParams<D, H, K, V, Bias, KD, VD>, SelfAttentionFn<"multiHeadAttention", D, KD, VD>> {
  /** Cross-attention with the weights averaged over the heads: `[output, weights]`, weights `[N, Tq, Tk]` (PyTorch's `need_weights=True`). */
  attend<N extends Dim, Tq extends Dim, Tk extends Dim>(
    p: AttentionParams<D, H, K, V, Bias, KD, VD>,
    query: Tensor<[N, Tq, D]>,
    key: Tensor<[NoInfer<N>, Tk, KD]>,
    value: Tensor<[NoInfer<N>, NoInfer<Tk>, VD]>,
    opts: AttentionWeightsOptions<true>,
  ): [Tensor<[N, Tq, D]>, Tensor<[N, Tq, Tk]>];
  /**
   * Cross-attention with the weights, per head: `[output, weights]` with
   * weights `[N, H, Tq, Tk]` (PyTorch's `average_attn_weights=False`).
   */
  attend<N extends Dim, Tq extends Dim, Tk extends Dim>(
    p: AttentionParams<D, H, K, V, Bias, KD, VD>,
    query: Tensor<[N, Tq, D]>,
    key: Tensor<[NoInfer<N>, Tk, KD]>,
    value: Tensor<[NoInfer<N>, NoInfer<Tk>, VD]>,
    opts: AttentionWeightsOptions<false> & { readonly averageWeights: false },
  ): [Tensor<[N, Tq, D]>, Tensor<[N, H, Tq, Tk]>];
  /**
   * Cross-attention: each query of `query: [N, Tq, D]` attends to the keys
   * projected from `key: [N, Tk, KD]` and the values projected from
   * `value: [N, Tk, VD]` (PyTorch's `mha(query, key, value)`); the result
   * has the shape of `query`.
   */
  attend<N extends Dim, Tq extends Dim, Tk extends Dim>(
    p: AttentionParams<D, H, K, V, Bias, KD, VD>,
    query: Tensor<[N, Tq, D]>,
    key: Tensor<[NoInfer<N>, Tk, KD]>,
    value: Tensor<[NoInfer<N>, NoInfer<Tk>, VD]>,
    opts?: AttentionApplyOptions,
  ): Tensor<[N, Tq, D]>;
  /**
   * Cross-attention to one sequence that is both keys and values
   * (`keyValue: [N, Tk, KD]`, when `KD = VD`); the result has the shape of `query`.
   */
  attend<N extends Dim, Tq extends Dim, Tk extends Dim>(
    p: AttentionParams<D, H, K, V, Bias, KD, VD>,
    query: Tensor<[N, Tq, D]>,
    keyValue: Tensor<[NoInfer<N>, Tk, KD]> & ([VD] extends [KD] ? unknown : ShapeError<`multiHeadAttention: one keyValue needs kdim = vdim, got ${KD} and ${VD}; give key and value`>),
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

/** `attend`'s untyped view: `(p, query, keyValue, opts?)` or `(p, query, key, value, opts?)`. */
type WideAttend<P> = (p: P, query: Float32Tensor, key: Float32Tensor, valueOrOpts?: Float32Tensor | AttentionApplyOptions, opts?: AttentionApplyOptions) => Float32Tensor | [Float32Tensor, Float32Tensor];

/**
 * Multi-head scaled dot-product attention over sequences of `dModel`
 * features, as PyTorch's `nn.MultiheadAttention(dModel, numHeads, kdim=, vdim=, batch_first=True)`.
 * `apply(p, x)` is self-attention on `x: [N, T, D]`;
 * `attend(p, query, key, value)` is attention from `[N, Tq, D]` to keys
 * `[N, Tk, KD]` and values `[N, Tk, VD]` (`attend(p, query, keyValue)` when
 * they are one sequence). Per head `h`:
 * `softmax(q_h k_hᵀ / sqrt(keyDim)) v_h`, with masked keys left out of the
 * softmax; the heads are concatenated and projected by `wo`. See
 * `AttentionApplyOptions` for masks and `AttentionWeightsOptions` for the
 * attention weights.
 *
 * @example
 * const mha = multiHeadAttention(128, 4);
 * mha.apply(mha.init(key(0)), zeros([8, 64, 128]), { causal: true }); // Tensor<[8, 64, 128]>
 * const cross = multiHeadAttention(128, 4, { kdim: 64, vdim: 32 });
 * const [y, w] = cross.attend(cross.init(key(0)), zeros([8, 64, 128]), zeros([8, 10, 64]), zeros([8, 10, 32]), { needWeights: true }); // w: Tensor<[8, 64, 10]>
 */
export function multiHeadAttention<
  const D extends number,
  const H extends number,
  const K extends number = HeadDim<D, H>,
  const V extends number = K,
  const Bias extends boolean = true,
  const KD extends number = D,
  const VD extends number = D,
>(
  dModel: D,
  numHeads: H & ([K] extends [never] ? HeadsDivide<"multiHeadAttention", D, H, "; give keyDim"> : unknown),
  options: AttentionOptions<K, V, Bias, KD, VD> = {},
): MultiHeadAttention<D, H, K, V, Bias, KD, VD> {
  const op = "multiHeadAttention";
  checkSize(op, "dModel", dModel);
  checkSize(op, "numHeads", numHeads);
  if (options.keyDim === undefined && dModel % numHeads !== 0) {
    shapeError(op, `dModel ${dModel} is not a multiple of numHeads ${numHeads}; give keyDim`);
  }
  const keyDim = options.keyDim ?? dModel / numHeads;
  const valueDim = options.valueDim ?? keyDim;
  const [kdim, vdim] = [options.kdim ?? dModel, options.vdim ?? dModel];
  checkSize(op, "keyDim", keyDim);
  checkSize(op, "valueDim", valueDim);
  checkSize(op, "kdim", kdim);
  checkSize(op, "vdim", vdim);
  const useBias = options.useBias !== false;
  const kernelInit = typeof options.init === "function" ? options.init : initializers[options.init ?? "glorotUniform"];
  const [qk, hv] = [numHeads * keyDim, numHeads * valueDim];
  type P = AttentionParams<D, H, K, V, Bias, KD, VD>;

  const init = (k: Key): P => {
    const [kq = k, kk = k, kv = k, ko = k] = split(k, 4);
    const kernels = { wq: kernelInit(kq, [dModel, qk]), wk: kernelInit(kk, [kdim, qk]), wv: kernelInit(kv, [vdim, hv]), wo: kernelInit(ko, [hv, dModel]) };
    const biases = { bq: zeros(k, [qk]), bk: zeros(k, [qk]), bv: zeros(k, [hv]), bo: zeros(k, [dModel]) };
    // The sizes are H·K, H·V, KD, VD and D as P states; `b*` are present exactly when Bias is not false.
    return (useBias ? { ...kernels, ...biases } : kernels) as unknown as P;
  };

  const [bq, bv, bo] = useBias ? [[qk], [hv], [dModel]] : [undefined, undefined, undefined];
  const expected = { wq: [dModel, qk], wk: [kdim, qk], wv: [vdim, hv], wo: [hv, dModel], bq, bk: bq, bv, bo };

  const checkSequence = (what: string, x: Float32Tensor, width: number): void => {
    if (x.shape.length !== 3 || x.shape[2] !== width) shapeError(op, `expects ${what} [N, T, ${width}] but gets ${formatShape(x.shape)}`);
  };

  /** The output and the weights [N, H, Tq, Tk] of attention from `query` to `key` and `value`. */
  const attention = (p: P, query: Float32Tensor, key: Float32Tensor, value: Float32Tensor, opts: AttentionApplyOptions | undefined): [Float32Tensor, Float32Tensor] => {
    checkParams(op, p, expected);
    checkSequence("a query", query, dModel);
    checkSequence("keys", key, kdim);
    checkSequence("values", value, vdim);
    const [n = 0, tq = 0] = query.shape;
    const tk = key.shape[1] ?? 0;
    if (key.shape[0] !== n || value.shape[0] !== n || value.shape[1] !== tk) {
      shapeError(op, `query ${formatShape(query.shape)}, keys ${formatShape(key.shape)} and values ${formatShape(value.shape)} differ in batch or key length`);
    }
    const { allowed, added } = masksOf(op, numHeads, query, key.shape, opts);
    const params: WideAttentionParams = p;
    const project = (x: Float32Tensor, w: Float32Tensor, b: Float32Tensor | undefined): Float32Tensor => (!useBias || b === undefined ? matmul(x, w) : add(matmul(x, w), b));
    // heads out of the columns: [N, T, H·dk] -> [N, T, H, dk] -> [N, H, T, dk]; keys straight to [N, H, dk, Tk]
    const q = transpose(reshape(mul(project(query, params.wq, params.bq), 1 / Math.sqrt(keyDim)), [n, tq, numHeads, keyDim]), [0, 2, 1, 3]);
    const kT = transpose(reshape(project(key, params.wk, params.bk), [n, tk, numHeads, keyDim]), [0, 2, 3, 1]);
    const v = transpose(reshape(project(value, params.wv, params.bv), [n, tk, numHeads, valueDim]), [0, 2, 1, 3]);
    // weights = softmax(q kᵀ / sqrt(dk) + added masks) over the allowed keys: [N, H, Tq, Tk]
    const scores = added.reduce((s, m) => add(s, m), matmul(q, kT));
    const weights = maskedSoftmax(scores, allowed);
    const heads = transpose(matmul(weights, v), [0, 2, 1, 3]); // [N, Tq, H, dv]
    return [project(reshape(heads, [n, tq, hv]), params.wo, params.bo), weights];
  };

  const attend: WideAttend<P> = (p, query, key, valueOrOpts, maybeOpts) => {
    const separate = valueOrOpts instanceof Tensor;
    const value = separate ? valueOrOpts : key;
    const opts = separate ? maybeOpts : valueOrOpts;
    const [out, weights] = attention(p, query, key, value, opts);
    const wants = opts as Partial<AttentionWeightsOptions> | undefined; // the weights options extend the apply options
    if (wants?.needWeights !== true) return out;
    return [out, wants.averageWeights === false ? weights : mean(weights, 1)];
  };

  return {
    name: "multiHeadAttention",
    init,
    // `apply` and `attend` compute the shapes SelfAttentionFn and the signatures describe (checked by the tests); the typed view only narrows their types.
    apply: ((p: P, x: Float32Tensor, opts?: AttentionApplyOptions) => {
      if (kdim !== dModel || vdim !== dModel) shapeError(op, `self-attention needs kdim = vdim = dModel ${dModel}, got kdim ${kdim} and vdim ${vdim}; use attend(p, query, key, value)`);
      return attention(p, x, x, x, opts)[0];
    }) as unknown as MultiHeadAttention<D, H, K, V, Bias, KD, VD>["apply"],
    attend: attend as unknown as MultiHeadAttention<D, H, K, V, Bias, KD, VD>["attend"],
  };
}

/**
 * The masks that apply to scores of shape `[N, H, Tq, Tk]`, each shaped to
 * broadcast there: the bool masks of the keys each query may attend to
 * (`allowed`: causal `[Tq, Tk]`, the caller's `mask` as `[N, 1, 1, Tk]` or
 * `[N, 1, Tq, Tk]`, and PyTorch's bool masks negated), and the float masks
 * to add to the scores (`added`), whose -Infinity entries are also left out
 * of `allowed` so that a row masked whole gets zero weights.
 */
function masksOf(
  op: string,
  heads: number,
  queries: Float32Tensor,
  keys: readonly number[],
  opts: AttentionApplyOptions | undefined,
): { allowed: Tensor<Shape, "bool">[]; added: Float32Tensor[] } {
  const query = queries.shape;
  const [n = 0, tq = 0] = query;
  const tk = keys[1] ?? 0;
  const allowed: Tensor<Shape, "bool">[] = [];
  const added: Float32Tensor[] = [];
  const shapes = `query ${formatShape(query)} and keys ${formatShape(keys)}`;
  const fits = (s: readonly number[], want: readonly number[]): boolean => s.length === want.length && s.every((d, i) => d === want[i]);
  if (opts?.causal === true) {
    // query i sees key j when j <= i
    allowed.push(lessEqual(reshape(arange(tk), [1, tk]), reshape(arange(tq), [tq, 1])));
  }
  const mask = opts?.mask;
  if (mask !== undefined) {
    if (mask.dtype !== "bool") shapeError(op, `a mask must be bool, got ${mask.dtype}, for ${shapes}`);
    if (fits(mask.shape, [n, tk])) allowed.push(reshape(mask, [n, 1, 1, tk]));
    else if (fits(mask.shape, [n, tq, tk])) allowed.push(reshape(mask, [n, 1, tq, tk]));
    else shapeError(op, `a mask must be [${n}, ${tk}] or [${n}, ${tq}, ${tk}] for ${shapes}, but gets ${formatShape(mask.shape)}`);
  }
  // PyTorch's masks: bool true = not allowed; float = added to the scores
  const torchMask = (name: string, m: Tensor<Shape, "bool" | "float32" | "float64">, to: readonly number[]): void => {
    if (m.dtype === "bool") allowed.push(equal(reshape(m as Tensor<Shape, "bool">, to), 0)); // checked bool just above
    else if (m.dtype !== queries.dtype) shapeError(op, `${name} must be bool or ${queries.dtype} (the query's dtype), got ${String(m.dtype)}, for ${shapes}`);
    else {
      const shaped = reshape(m as Float32Tensor, to); // a float mask; it adds to the scores of its dtype
      added.push(shaped);
      allowed.push(greater(shaped, -Infinity));
    }
  };
  const attnMask = opts?.attnMask;
  if (attnMask !== undefined) {
    if (fits(attnMask.shape, [tq, tk])) torchMask("attnMask", attnMask, [tq, tk]);
    else if (fits(attnMask.shape, [n * heads, tq, tk])) torchMask("attnMask", attnMask, [n, heads, tq, tk]);
    else shapeError(op, `attnMask must be [${tq}, ${tk}] or [${n * heads}, ${tq}, ${tk}] (N·H, Tq, Tk) for ${shapes}, but gets ${formatShape(attnMask.shape)}`);
  }
  const padding = opts?.keyPaddingMask;
  if (padding !== undefined) {
    if (fits(padding.shape, [n, tk])) torchMask("keyPaddingMask", padding, [n, 1, 1, tk]);
    else shapeError(op, `keyPaddingMask must be [${n}, ${tk}] for ${shapes}, but gets ${formatShape(padding.shape)}`);
  }
  return { allowed, added };
}

/**
 * The layer of cross-attention to a fixed `key` and `value` (`value`
 * defaults to `key`): `apply(p, x)` is `mha.attend(p, x, key, value, opts)`
 * for `x: [N, Tq, D]`, so cross-attention fits in a `sequential` stack, the
 * memory closed over like a constant. A stack is a chain of one input, so a
 * memory that changes per batch (an encoder's output in an encoder-decoder)
 * makes a new layer per batch (cheap: the parameters stay outside), or the
 * model is a function that calls `mha.attend` with both inputs.
 *
 * @example
 * const mha = multiHeadAttention(128, 4, { kdim: 64, vdim: 64 });
 * const decoder = sequential(crossAttention(mha, memory), layerNorm(128)); // memory: Tensor<[8, 10, 64]>
 */
export function crossAttention<D extends number, H extends number, K extends number, V extends number, Bias extends boolean, KD extends number, VD extends number, N extends Dim, Tk extends Dim>(
  mha: MultiHeadAttention<D, H, K, V, Bias, KD, VD>,
  key: Tensor<[N, Tk, NoInfer<KD>]>,
  value: Tensor<[NoInfer<N>, NoInfer<Tk>, NoInfer<VD>]>,
): AttentionLayer<AttentionParams<D, H, K, V, Bias, KD, VD>, SequenceFn<"crossAttention", D>>;
export function crossAttention<D extends number, H extends number, K extends number, V extends number, Bias extends boolean, KD extends number, N extends Dim, Tk extends Dim>(
  mha: MultiHeadAttention<D, H, K, V, Bias, KD, NoInfer<KD>>,
  memory: Tensor<[N, Tk, NoInfer<KD>]>,
): AttentionLayer<AttentionParams<D, H, K, V, Bias, KD, KD>, SequenceFn<"crossAttention", D>>;
export function crossAttention<D extends number, H extends number, K extends number, V extends number, Bias extends boolean, KD extends number, VD extends number>(
  mha: MultiHeadAttention<D, H, K, V, Bias, KD, VD>,
  key: Float32Tensor,
  value?: Float32Tensor,
): AttentionLayer<AttentionParams<D, H, K, V, Bias, KD, VD>, SequenceFn<"crossAttention", D>> {
  const wide = mha.attend as unknown as WideAttend<AttentionParams<D, H, K, V, Bias, KD, VD>>; // the untyped view of the same function
  return {
    name: "crossAttention",
    init: (k) => mha.init(k),
    // the output has the query's shape, as SequenceFn describes; `attend` checks the query is [N, Tq, D] with the memory's N
    apply: ((p: AttentionParams<D, H, K, V, Bias, KD, VD>, x: Float32Tensor, opts?: AttentionApplyOptions) =>
      wide(p, x, key, value ?? key, opts)) as unknown as AttentionLayer<AttentionParams<D, H, K, V, Bias, KD, VD>, SequenceFn<"crossAttention", D>>["apply"],
  };
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
  /**
   * Whether each sublayer normalises its input (pre-norm, the default) or
   * the residual sum after it (post-norm: PyTorch's default `norm_first=False`).
   */
  readonly normFirst?: boolean;
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
 * `ffn1: dense(D, F)` and `ffn2: dense(F, D)`; with `normFirst: false`, the
 * post-norm block `x1 = ln1(x + mha(x))`, then `ln2(x1 + ffn2(act(ffn1(x1))))`. The attention has `numHeads`
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
  const normFirst = options.normFirst !== false;
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
    const ffn = (h: Float32Tensor): Float32Tensor => ffn2.apply(p.ffn2, activation(ffn1.apply(p.ffn1, h)));
    if (!normFirst) {
      // post-norm: x1 = ln1(x + mha(x)), y = ln2(x1 + ffn(x1))
      const x1 = ln1.apply(p.ln1, add(x, drop(mha.apply(p.mha, x, opts), k1)));
      return ln2.apply(p.ln2, add(x1, drop(ffn(x1), k2)));
    }
    const x1 = add(x, drop(mha.apply(p.mha, ln1.apply(p.ln1, x), opts), k1));
    return add(x1, drop(ffn(ln2.apply(p.ln2, x1)), k2));
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
