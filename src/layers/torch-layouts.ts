/**
 * How each layer's parameters are named and laid out in a PyTorch
 * `state_dict`: one codec per layer kind, a pair of functions between
 * Stratum's parameter record and PyTorch's tensors (by key suffix, such as
 * `"weight"` or `"self_attn.in_proj_weight"`). `torch-state-dict.ts` walks a
 * model and runs them.
 *
 * The facts come from PyTorch's module definitions: `Linear` stores
 * `[out, in]` (ours `[in, out]`); `Conv1d/2d` store `[O, C / groups, (KH,)
 * KW]` (ours `[(KH,) KW, C / groups, O]`) and `ConvTranspose2d`
 * `[C, O, KH, KW]` (ours `[KH, KW, O, C]`); the recurrent layers store
 * `weight_ih_l0` `[G·H, I]`, `weight_hh_l0` `[G·H, H]` and two biases, with
 * the gates in the order ours use (LSTM i, f, g, o; GRU r, z, n); the LSTM and
 * the Elman RNN add their two biases, which ours hold summed (exported as
 * the sum and zeros); `MultiheadAttention` stacks the query, key and value
 * projections into `in_proj_weight` `[3E, E]` (separate `q/k/v_proj_weight`
 * when the keys' or values' width is not E) and their biases into
 * `in_proj_bias`; batch norm's running statistics are buffers beside its
 * parameters (its `num_batches_tracked` counter is accepted and ignored).
 * A dense layer fed by the flattened image of `C` channels of a channels-last
 * model (ours `[H, W, C]` order, PyTorch's `[C, H, W]`) has its kernel's rows
 * permuted. Deliberately left out: layers PyTorch has no module for here
 * (rmsNorm), stacked or bidirectional recurrent layers (compose single ones
 * and rename their keys), and configuration, which a state_dict does not hold.
 */

import { zerosOfShape } from "../core/create.js";
import { shapeError } from "../core/errors.js";
import type { Dim, Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { add } from "../ops/elementwise.js";
import { concat, reshape, slice, transpose } from "../ops/shape.js";

/** A float32 tensor of any shape, as the codecs move them. */
export type AnyTensor = Tensor<Dim[]>;

/** A layer's parameters (or a part of them) seen without their types. */
export type ParamRecord = { readonly [name: string]: unknown };

/** PyTorch's tensors of one layer, as `[key suffix, tensor]` pairs. */
export type TorchEntries = (readonly [string, AnyTensor])[];

/** The two directions between one layer kind's parameters and PyTorch's tensors. */
export interface Codec {
  /** Why PyTorch cannot hold a layer with these parameters, or `undefined` when it can. */
  readonly unsupported?: (p: ParamRecord) => string | undefined;
  /** PyTorch's tensors of the parameters `p`, in PyTorch's names (suffixes) and layouts. */
  readonly toTorch: (p: ParamRecord) => TorchEntries;
  /**
   * The parameters from PyTorch's tensors, each read by suffix with `get`
   * (every suffix `toTorch(template)` gives is there, with the shape it
   * gives there); `template` is a parameter record of the layer, which tells
   * the optional parameters (biases) it has.
   */
  readonly fromTorch: (get: (suffix: string) => AnyTensor, template: ParamRecord) => ParamRecord;
  /** Suffixes PyTorch writes that carry nothing Stratum uses (`num_batches_tracked`): accepted and ignored. */
  readonly ignored?: readonly string[];
}

/** The tensor at the dotted `path` of `p`; a `ShapeError` naming `layer` when there is none. */
export function tensorAt(layer: string, p: unknown, path: string): AnyTensor {
  let node = p;
  for (const name of path.split(".")) {
    node = typeof node === "object" && node !== null ? (node as ParamRecord)[name] : undefined; // a non-null object can be indexed by name
  }
  if (!(node instanceof Tensor)) shapeError(layer, `parameter ${path} is not a tensor`);
  return node as AnyTensor; // a tensor of some shape; Dim[] forgets nothing a caller relies on
}

/** True when the dotted `path` of `p` holds something (an optional parameter that is there). */
function has(p: unknown, path: string): boolean {
  let node = p;
  for (const name of path.split(".")) node = typeof node === "object" && node !== null ? (node as ParamRecord)[name] : undefined; // as in tensorAt
  return node !== undefined;
}

/** `record` with `value` at the dotted `path`, creating the records on the way. */
function setAt(record: Record<string, unknown>, path: string, value: unknown): void {
  const names = path.split(".");
  const last = names.pop() ?? path;
  let node = record;
  for (const name of names) {
    const next = node[name];
    const child: Record<string, unknown> = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : {}; // records this function made
    node[name] = child;
    node = child;
  }
  node[last] = value;
}

/** A tensor of any shape seen as `AnyTensor` (the ops' typed results forget nothing the codecs rely on). */
const wide = (x: Tensor<Shape>): AnyTensor => x as AnyTensor; // Dim[] only forgets what the type knew of the shape
/** `x` with its axes in the order `perm`. */
const permute = (perm: readonly number[]) => (x: AnyTensor): AnyTensor => wide(transpose(x, perm));
/** A matrix transposed: `[in, out]` to `[out, in]` and back. */
const swap = permute([1, 0]);
const same = (x: AnyTensor): AnyTensor => x;

/** One parameter and its PyTorch tensor: Stratum's dotted path, PyTorch's suffix, and the layout change each way. */
interface Entry {
  readonly ours: string;
  readonly torch: string;
  readonly toTorch: (x: AnyTensor) => AnyTensor;
  readonly fromTorch: (x: AnyTensor) => AnyTensor;
}

const entry = (ours: string, torch: string, toTorch = same, fromTorch = toTorch): Entry => ({ ours, torch, toTorch, fromTorch });

/** The codec of parameters that map one to one, each present in PyTorch exactly when it is in the layer's record. */
function entries(name: string, list: readonly Entry[], ignored?: readonly string[]): Codec {
  return {
    toTorch: (p) => list.filter((e) => has(p, e.ours)).map((e) => [e.torch, e.toTorch(tensorAt(name, p, e.ours))] as const),
    fromTorch: (get, template) => {
      const out: Record<string, unknown> = {};
      for (const e of list) if (has(template, e.ours)) setAt(out, e.ours, e.fromTorch(get(e.torch)));
      return out;
    },
    ...(ignored === undefined ? {} : { ignored }),
  };
}

/** Two codecs of disjoint parameters as one. */
function both(a: Codec, b: Codec): Codec {
  return {
    toTorch: (p) => [...a.toTorch(p), ...b.toTorch(p)],
    fromTorch: (get, template) => ({ ...a.fromTorch(get, template), ...b.fromTorch(get, template) }),
  };
}

/** The codec of a layer made of sublayers: each `[PyTorch's module name, Stratum's key, codec]`. */
function modules(parts: readonly (readonly [string, string, Codec])[]): Codec {
  return {
    unsupported: (p) => parts.map(([, ours, c]) => c.unsupported?.((p[ours] ?? {}) as ParamRecord)).find((r) => r !== undefined), // a missing part reads as empty and fails in toTorch
    toTorch: (p) => parts.flatMap(([torch, ours, c]) => c.toTorch((p[ours] ?? {}) as ParamRecord).map(([k, x]) => [`${torch}.${k}`, x] as const)), // as above
    fromTorch: (get, template) => Object.fromEntries(parts.map(([torch, ours, c]) => [ours, c.fromTorch((k) => get(`${torch}.${k}`), (template[ours] ?? {}) as ParamRecord)])), // as above
  };
}

// ---------------------------------------------------------------------------
// The codecs
// ---------------------------------------------------------------------------

/**
 * A dense kernel `[S·C, O]` whose rows are a channels-last image of `C`
 * channels flattened (row `s·C + c`) as PyTorch's `[O, C·S]` (column
 * `c·S + s`): `[S, C, O]` with its axes reversed.
 */
function kernelFromChannelsLast(channels: number): (w: AnyTensor) => AnyTensor {
  return (w) => {
    const [inFeatures = 0, outFeatures = 0] = w.shape;
    return wide(reshape(transpose(reshape(w, [inFeatures / channels, channels, outFeatures]), [2, 1, 0]), [outFeatures, inFeatures]));
  };
}

/** PyTorch's `[O, C·S]` weight of a flattened channels-first image as our `[S·C, O]` kernel (the inverse of the above). */
function kernelToChannelsLast(channels: number): (w: AnyTensor) => AnyTensor {
  return (w) => {
    const [outFeatures = 0, inFeatures = 0] = w.shape;
    return wide(reshape(transpose(reshape(w, [outFeatures, channels, inFeatures / channels]), [2, 1, 0]), [inFeatures, outFeatures]));
  };
}

/**
 * `nn.Linear`: `weight [out, in]`, `bias [out]`. With `imageChannels`, the
 * layer reads a channels-last image of that many channels, flattened: its
 * kernel's rows are permuted to PyTorch's channels-first order.
 */
export function denseCodec(imageChannels?: number): Codec {
  const [toTorch, fromTorch] = imageChannels === undefined ? [swap, swap] : [kernelFromChannelsLast(imageChannels), kernelToChannelsLast(imageChannels)];
  return entries("dense", [entry("w", "weight", toTorch, fromTorch), entry("b", "bias")]);
}

/** `nn.Conv2d` `[O, C/g, KH, KW]` and `nn.ConvTranspose2d` `[C, O, KH, KW]`: ours `[KH, KW, C/g, O]` and `[KH, KW, O, C]`, the same permutation. */
const conv2dCodec = (name: string): Codec => entries(name, [entry("w", "weight", permute([3, 2, 0, 1]), permute([2, 3, 1, 0])), entry("b", "bias")]);

/** `nn.Conv1d`: `[O, C/g, K]`, ours `[K, C/g, O]`. */
const conv1dCodec = entries("conv1d", [entry("w", "weight", permute([2, 1, 0])), entry("b", "bias")]);

/** The input and recurrent kernels of a recurrent layer: `weight_ih_l0 [G·H, I]`, `weight_hh_l0 [G·H, H]`. */
const recurrentKernels = (name: string): Codec => entries(name, [entry("wx", "weight_ih_l0", swap), entry("wh", "weight_hh_l0", swap)]);

/** One bias `b` that PyTorch holds as the sum `bias_ih_l0 + bias_hh_l0` (exported as `b` and zeros). */
const summedBias = (name: string): Codec => ({
  toTorch: (p) => {
    const b = tensorAt(name, p, "b");
    return [["bias_ih_l0", b], ["bias_hh_l0", wide(zerosOfShape(b.shape))]];
  },
  fromTorch: (get) => ({ b: wide(add(get("bias_ih_l0"), get("bias_hh_l0"))) }),
});

/** `nn.LSTM` (one layer, one direction): the gates i, f, g, o in both. */
const lstmCodec = both(recurrentKernels("lstm"), summedBias("lstm"));

/** `nn.RNN` (one layer, one direction). */
const rnnCodec = both(recurrentKernels("rnn"), summedBias("rnn"));

/** `nn.GRU` (one layer, one direction): the gates r, z, n and the two biases in both. */
const gruCodec = both(recurrentKernels("gru"), entries("gru", [entry("bx", "bias_ih_l0"), entry("bh", "bias_hh_l0")]));

/** `nn.LayerNorm`: `weight` and `bias`, each when the layer has it (`elementwise_affine`, `bias`). */
const layerNormCodec = entries("layerNorm", [entry("scale", "weight"), entry("bias", "bias")]);

/** `nn.BatchNorm1d/2d` on `{ params, state }`: the affine parameters and the running statistics. */
const batchNormCodec = entries(
  "batchNorm",
  [entry("params.scale", "weight"), entry("params.bias", "bias"), entry("state.mean", "running_mean"), entry("state.var", "running_var")],
  ["num_batches_tracked"],
);

/** `nn.Embedding`: the table `weight [N, F]`, the same layout. */
const embeddingCodec = entries("embedding", [entry("table", "weight")]);

/** Rows `k·n .. (k+1)·n - 1` of `x`. */
const block = (x: AnyTensor, k: number, n: number): AnyTensor => wide(slice(x, [{ start: k * n, stop: (k + 1) * n }]));

/**
 * `nn.MultiheadAttention`: the query, key and value projections stacked in
 * `in_proj_weight [3E, E]` (or apart, `q/k/v_proj_weight [E, kdim]`, when the
 * keys or values are not E wide), their biases in `in_proj_bias [3E]`, and
 * `out_proj`. PyTorch projects each to E, split in heads of E / numHeads.
 */
const attentionCodec: Codec = {
  unsupported: (p) => {
    const [wq, wv] = [tensorAt("multiHeadAttention", p, "wq"), tensorAt("multiHeadAttention", p, "wv")];
    const [d = 0, qk = 0] = wq.shape;
    const hv = wv.shape[1] ?? 0;
    return qk === d && hv === d
      ? undefined
      : `PyTorch's MultiheadAttention projects queries, keys and values to embed_dim ${d}, but this layer's are numHeads·keyDim ${qk} and numHeads·valueDim ${hv} wide`;
  },
  toTorch: (p) => {
    const w = (n: string): AnyTensor => tensorAt("multiHeadAttention", p, n);
    const d = w("wq").shape[0] ?? 0;
    const packed = w("wk").shape[0] === d && w("wv").shape[0] === d;
    const out: TorchEntries = packed
      ? [["in_proj_weight", wide(concat([swap(w("wq")), swap(w("wk")), swap(w("wv"))], 0))]]
      : [["q_proj_weight", swap(w("wq"))], ["k_proj_weight", swap(w("wk"))], ["v_proj_weight", swap(w("wv"))]];
    if (has(p, "bq")) out.push(["in_proj_bias", wide(concat([w("bq"), w("bk"), w("bv")], 0))]);
    out.push(["out_proj.weight", swap(w("wo"))]);
    if (has(p, "bo")) out.push(["out_proj.bias", w("bo")]);
    return out;
  },
  fromTorch: (get, template) => {
    const shapeOf = (n: string): readonly number[] => tensorAt("multiHeadAttention", template, n).shape;
    const d = shapeOf("wq")[0] ?? 0;
    const packed = shapeOf("wk")[0] === d && shapeOf("wv")[0] === d;
    const [wq, wk, wv] = packed
      ? [0, 1, 2].map((k) => swap(block(get("in_proj_weight"), k, d)))
      : ["q_proj_weight", "k_proj_weight", "v_proj_weight"].map((n) => swap(get(n)));
    const out: Record<string, unknown> = { wq, wk, wv, wo: swap(get("out_proj.weight")) };
    if (has(template, "bq")) [out["bq"], out["bk"], out["bv"]] = [0, 1, 2].map((k) => block(get("in_proj_bias"), k, d));
    if (has(template, "bo")) out["bo"] = get("out_proj.bias");
    return out;
  },
};

/**
 * `nn.TransformerEncoderLayer`: `self_attn`, `linear1`, `linear2`, `norm1`
 * (ours `ln1`, before or after the attention as `norm_first` says) and `norm2`.
 */
const transformerEncoderCodec = modules([
  ["self_attn", "mha", attentionCodec],
  ["linear1", "ffn1", denseCodec()],
  ["linear2", "ffn2", denseCodec()],
  ["norm1", "ln1", layerNormCodec],
  ["norm2", "ln2", layerNormCodec],
]);

/**
 * The codec of each layer kind with parameters, by the layer's run-time
 * `name`; `dense` is `denseCodec` (it depends on what feeds the layer).
 */
export const CODECS: { readonly [kind: string]: Codec | undefined } = {
  dense: denseCodec(),
  conv2d: conv2dCodec("conv2d"),
  convTranspose2d: conv2dCodec("convTranspose2d"),
  conv1d: conv1dCodec,
  lstm: lstmCodec,
  gru: gruCodec,
  rnn: rnnCodec,
  layerNorm: layerNormCodec,
  batchNorm: batchNormCodec,
  embedding: embeddingCodec,
  multiHeadAttention: attentionCodec,
  transformerEncoderBlock: transformerEncoderCodec,
};

/**
 * Why PyTorch would have written the unexpected `key` (a feature with no
 * Stratum layer here), or `undefined`.
 */
export function unexpectedHint(key: string): string | undefined {
  if (/_reverse$/.test(key)) return "a bidirectional recurrent layer's backward direction (compose two layers and rename their keys)";
  if (/_l[1-9]\d*$/.test(key)) return "a stacked recurrent layer's upper layer (stack single layers in a sequential and rename their keys)";
  if (/(^|\.)weight_hr_l\d+$/.test(key)) return "an LSTM projection (proj_size), which Stratum's lstm does not have";
  if (/(^|\.)bias_[kv]$/.test(key)) return "MultiheadAttention's add_bias_kv, which Stratum's attention does not have";
  return undefined;
}
