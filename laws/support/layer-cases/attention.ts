/**
 * The layer cases of the attention group (see `types.ts`): the normalisations
 * (`layerNorm`, `rmsNorm`, `batchNorm` in training with its state closed
 * over), `multiHeadAttention` (self- and cross-attention, causal and padding
 * masks) and `transformerEncoderBlock`.
 *
 * Each naive reference is scalar loops over plain numbers: per row for the
 * norms, per head, per query and per key for attention. None of them calls
 * the library's ops.
 */

import fc from "fast-check";
import { Tensor } from "../../../src/core/tensor.js";
import type { Shape } from "../../../src/core/shape.js";
import { crossAttention, multiHeadAttention, transformerEncoderBlock } from "../../../src/layers/attention.js";
import { batchNorm, layerNorm, rmsNorm } from "../../../src/layers/norm.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import { tensorFrom, uniform, valuesOf } from "../gradient-laws.js";
import { naiveGelu, naiveGeluTanh, seeds as seed } from "./basic.js";
import type { LayerCase, LayerCases, NaiveOutput } from "./types.js";

// ---------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------

/** A float64 tensor of `shape` with values uniform in [-scale, scale) from `random`. */
function randomTensor(shape: readonly number[], random: () => number, scale = 1, offset = 0): AnyTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensorFrom(shape, "float64", Array.from({ length: size }, () => offset + scale * random()));
}

/** A bool tensor of `shape` from a list of booleans. */
function boolTensor(shape: readonly number[], values: readonly boolean[]): Tensor<Shape, "bool"> {
  return new Tensor([...shape], "bool", Uint8Array.from(values, (b) => (b ? 1 : 0)));
}

/** The parameter record of a case, read back by name (the trees are records of tensors). */
const leaf = (p: unknown, name: string): AnyTensor => {
  const record = p as Readonly<Record<string, AnyTensor>>; // every case's params are a record of tensors (or of such records)
  const t = record[name];
  if (t === undefined) throw new Error(`naive reference: no parameter ${name}`);
  return t;
};
const sub = (p: unknown, name: string): unknown => (p as Readonly<Record<string, unknown>>)[name]; // a record of records, as above

const at = (xs: readonly number[], i: number): number => xs[i] ?? Number.NaN;

// ---------------------------------------------------------------------------
// Naive references
// ---------------------------------------------------------------------------

/** Layer norm of each row of `rows · f` values: mean 0, biased variance 1, then scale and bias. */
function naiveLayerNorm(x: readonly number[], f: number, eps: number, scale: readonly number[] | undefined, bias: readonly number[] | undefined): number[] {
  const y: number[] = [];
  for (let r = 0; r < x.length / f; r++) {
    let m = 0;
    for (let i = 0; i < f; i++) m += at(x, r * f + i);
    m /= f;
    let v = 0;
    for (let i = 0; i < f; i++) v += (at(x, r * f + i) - m) ** 2;
    v /= f;
    for (let i = 0; i < f; i++) y.push(((at(x, r * f + i) - m) / Math.sqrt(v + eps)) * (scale === undefined ? 1 : at(scale, i)) + (bias === undefined ? 0 : at(bias, i)));
  }
  return y;
}

/** `x @ w + b` for rows of `x` (`rows · i` values), `w` `[i, o]`. */
function naiveDense(x: readonly number[], w: readonly number[], b: readonly number[] | undefined, i: number, o: number): number[] {
  const y: number[] = [];
  for (let r = 0; r < x.length / i; r++) {
    for (let j = 0; j < o; j++) {
      let s = b === undefined ? 0 : at(b, j);
      for (let k = 0; k < i; k++) s += at(x, r * i + k) * at(w, k * o + j);
      y.push(s);
    }
  }
  return y;
}

/** What a naive attention needs to know of its configuration. */
interface AttentionConfig {
  readonly heads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly causal: boolean;
  /** `allowed(n, h, i, j)` from the caller's bool masks; absent when none. */
  readonly mask?: (n: number, h: number, i: number, j: number) => boolean;
  /** What the caller's float masks add to the score of batch `n`, head `h`, query `i` and key `j`; absent when none. */
  readonly added?: (n: number, h: number, i: number, j: number) => number;
}

/** The sizes of a naive attention: batch, query and key lengths, and the widths of query, key and value. */
interface AttentionSizes {
  readonly n: number;
  readonly tq: number;
  readonly tk: number;
  readonly d: number;
  readonly kdim: number;
  readonly vdim: number;
}

/**
 * Multi-head attention by loops: per batch entry, head, query and key.
 * `query` is `[n, tq, d]`, `key` `[n, tk, kdim]`, `value` `[n, tk, vdim]`, all flat.
 */
function naiveAttention(p: unknown, query: readonly number[], key: readonly number[], value: readonly number[], sizes: AttentionSizes, c: AttentionConfig): number[] {
  const { n, tq, tk, d, kdim, vdim } = sizes;
  const { heads, keyDim, valueDim } = c;
  const param = (name: string): number[] | undefined => {
    const t = (p as Readonly<Record<string, AnyTensor | undefined>>)[name]; // a record of tensors, some of them absent
    return t === undefined ? undefined : valuesOf(t);
  };
  const [wq, wk, wv, wo] = ["wq", "wk", "wv", "wo"].map((name) => param(name) ?? []);
  const q = naiveDense(query, wq ?? [], param("bq"), d, heads * keyDim);
  const k = naiveDense(key, wk ?? [], param("bk"), kdim, heads * keyDim);
  const v = naiveDense(value, wv ?? [], param("bv"), vdim, heads * valueDim);
  const concat: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < tq; i++) {
      for (let h = 0; h < heads; h++) {
        const scores: number[] = [];
        const allowed: boolean[] = [];
        for (let j = 0; j < tk; j++) {
          let s = 0;
          for (let e = 0; e < keyDim; e++) s += at(q, (b * tq + i) * heads * keyDim + h * keyDim + e) * at(k, (b * tk + j) * heads * keyDim + h * keyDim + e);
          scores.push(s / Math.sqrt(keyDim) + (c.added === undefined ? 0 : c.added(b, h, i, j)));
          allowed.push((!c.causal || j <= i) && (c.mask === undefined || c.mask(b, h, i, j)));
        }
        let top = -Infinity;
        for (let j = 0; j < tk; j++) if (allowed[j] === true) top = Math.max(top, at(scores, j));
        const weights: number[] = [];
        let total = 0;
        for (let j = 0; j < tk; j++) {
          const w = allowed[j] === true ? Math.exp(at(scores, j) - top) : 0;
          weights.push(w);
          total += w;
        }
        for (let e = 0; e < valueDim; e++) {
          let s = 0;
          for (let j = 0; j < tk; j++) if (total > 0) s += (at(weights, j) / total) * at(v, (b * tk + j) * heads * valueDim + h * valueDim + e);
          concat.push(s);
        }
      }
    }
  }
  return naiveDense(concat, wo ?? [], param("bo"), heads * valueDim, d);
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

const batchPrefix = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 });

const layerNormCases = fc
  .record({ features: fc.integer({ min: 1, max: 6 }), batch: batchPrefix, eps: fc.constantFrom(1e-5, 0.1), useScale: fc.boolean(), useBias: fc.boolean(), seed })
  .map(({ features, batch, eps, useScale, useBias, seed: s }): LayerCase => {
    const random = uniform(s);
    const layer = layerNorm(features, { eps, useScale, useBias });
    const params = {
      ...(useScale ? { scale: randomTensor([features], random, 0.5, 1) } : {}),
      ...(useBias ? { bias: randomTensor([features], random) } : {}),
    };
    const x = randomTensor([...batch, features], random, 2);
    return {
      detail: `layerNorm(${features}, eps ${eps}, scale ${useScale}, bias ${useBias})`,
      params,
      x,
      apply: (p, xs) => layer.apply(p as never, xs as Tensor<Shape>), // the params record is the layer's, in float64
      naive: (p, xs): NaiveOutput => {
        const record = p as Readonly<Record<string, AnyTensor | undefined>>; // scale and bias, each maybe absent
        const [scale, bias] = [record["scale"], record["bias"]];
        return { shape: xs.shape, data: naiveLayerNorm(valuesOf(xs), features, eps, scale && valuesOf(scale), bias && valuesOf(bias)) };
      },
      init: (k) => layer.init(k),
    };
  });

const rmsNormCases = fc.record({ features: fc.integer({ min: 1, max: 6 }), batch: batchPrefix, eps: fc.constantFrom(1e-6, 0.1), seed }).map(({ features, batch, eps, seed: s }): LayerCase => {
  const random = uniform(s);
  const layer = rmsNorm(features, { eps });
  return {
    detail: `rmsNorm(${features}, eps ${eps})`,
    params: { scale: randomTensor([features], random, 0.5, 1) },
    x: randomTensor([...batch, features], random, 2),
    apply: (p, xs) => layer.apply(p as never, xs as Tensor<Shape>), // as for layerNorm
    naive: (p, xs): NaiveOutput => {
      const [x, scale] = [valuesOf(xs), valuesOf(leaf(p, "scale"))];
      const y: number[] = [];
      for (let r = 0; r < x.length / features; r++) {
        let ms = 0;
        for (let i = 0; i < features; i++) ms += at(x, r * features + i) ** 2;
        ms /= features;
        for (let i = 0; i < features; i++) y.push((at(x, r * features + i) / Math.sqrt(ms + eps)) * at(scale, i));
      }
      return { shape: xs.shape, data: y };
    },
    init: (k) => layer.init(k),
  };
});

const batchNormCases = fc
  .record({
    features: fc.integer({ min: 1, max: 5 }),
    // at least 2 values per channel, as training needs
    batch: fc.oneof(fc.tuple(fc.integer({ min: 2, max: 4 })), fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 3 }))),
    momentum: fc.constantFrom(0.99, 0.9),
    seed,
  })
  .map(({ features, batch, momentum, seed: s }): LayerCase => {
    const random = uniform(s);
    const eps = 1e-3;
    const layer = batchNorm(features, { momentum, eps });
    const state = { mean: randomTensor([features], random), var: randomTensor([features], random, 0.5, 1) } as unknown as ReturnType<typeof layer.initState>; // float64 state of the state's shapes
    return {
      detail: `batchNorm(${features}, momentum ${momentum}) in training`,
      params: { scale: randomTensor([features], random, 0.5, 1), bias: randomTensor([features], random) },
      x: randomTensor([...batch, features], random, 2),
      apply: (p, xs) => layer.apply(p as never, state, xs as Tensor<Shape>, { training: true })[0], // as for layerNorm
      naive: (p, xs): NaiveOutput => {
        const [x, scale, bias] = [valuesOf(xs), valuesOf(leaf(p, "scale")), valuesOf(leaf(p, "bias"))];
        const rows = x.length / features;
        const y = x.slice();
        for (let c = 0; c < features; c++) {
          let m = 0;
          for (let r = 0; r < rows; r++) m += at(x, r * features + c);
          m /= rows;
          let v = 0;
          for (let r = 0; r < rows; r++) v += (at(x, r * features + c) - m) ** 2;
          v /= rows;
          for (let r = 0; r < rows; r++) y[r * features + c] = ((at(x, r * features + c) - m) / Math.sqrt(v + eps)) * at(scale, c) + at(bias, c);
        }
        return { shape: xs.shape, data: y };
      },
      init: (k) => layer.init(k),
    };
  });

/** Random attention parameters for `d` features, `heads` heads of `keyDim`/`valueDim`, float64. */
function attentionParams(d: number, heads: number, keyDim: number, valueDim: number, useBias: boolean, random: () => number, kdim = d, vdim = d): Record<string, AnyTensor> {
  const [qk, hv] = [heads * keyDim, heads * valueDim];
  const kernels = { wq: randomTensor([d, qk], random), wk: randomTensor([kdim, qk], random), wv: randomTensor([vdim, hv], random), wo: randomTensor([hv, d], random) };
  if (!useBias) return kernels;
  return { ...kernels, bq: randomTensor([qk], random, 0.5), bk: randomTensor([qk], random, 0.5), bv: randomTensor([hv], random, 0.5), bo: randomTensor([d], random, 0.5) };
}

const maskKinds = ["none", "padding", "full"] as const;
/** PyTorch's masks: none, `attnMask` `[Tq, Tk]` or `[N·H, Tq, Tk]` (bool or float), `keyPaddingMask` `[N, Tk]` (bool or float). */
const torchMaskKinds = ["none", "attn bool", "attn float", "attn3 bool", "attn3 float", "padding bool", "padding float"] as const;
type TorchMaskKind = (typeof torchMaskKinds)[number];

/** A PyTorch-style mask of `kind` drawn from `random`, as an option, and its effect as the naive reference reads it. */
function torchMask(kind: TorchMaskKind, { n, tq, tk }: AttentionSizes, heads: number, random: () => number): { opts: Record<string, AnyTensor>; config: Pick<AttentionConfig, "mask" | "added"> } {
  if (kind === "none") return { opts: {}, config: {} };
  const [target, ...rest] = kind.split(" ");
  const float = rest[0] === "float";
  const shape = target === "attn" ? [tq, tk] : target === "attn3" ? [n * heads, tq, tk] : [n, tk];
  const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random());
  const index = (b: number, h: number, i: number, j: number): number => (target === "attn" ? i * tk + j : target === "attn3" ? ((b * heads + h) * tq + i) * tk + j : b * tk + j);
  const tensor = float ? tensorFrom(shape, "float64", values) : boolTensor(shape, values.map((v) => v > 0.4)); // bool: true = not allowed
  const opts = { [target === "padding" ? "keyPaddingMask" : "attnMask"]: tensor };
  const config = float ? { added: (b: number, h: number, i: number, j: number): number => at(values, index(b, h, i, j)) } : { mask: (b: number, h: number, i: number, j: number): boolean => !(at(values, index(b, h, i, j)) > 0.4) };
  return { opts, config };
}

const attentionCases = fc
  .record({
    heads: fc.integer({ min: 1, max: 2 }),
    perHead: fc.integer({ min: 1, max: 4 }),
    ownDims: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
    inputWidths: fc.option(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })), { nil: undefined }),
    n: fc.integer({ min: 1, max: 2 }),
    tq: fc.integer({ min: 1, max: 4 }),
    tk: fc.integer({ min: 1, max: 4 }),
    cross: fc.boolean(),
    causal: fc.boolean(),
    maskKind: fc.constantFrom(...maskKinds),
    torchMaskKind: fc.constantFrom(...torchMaskKinds),
    useBias: fc.boolean(),
    seed,
  })
  .map(({ heads, perHead, ownDims, inputWidths, n, tq, tk: tkDrawn, cross, causal, maskKind, torchMaskKind, useBias, seed: s }): LayerCase => {
    const random = uniform(s);
    const d = heads * perHead;
    const [keyDim, valueDim] = ownDims ?? [perHead, perHead];
    const tk = cross ? tkDrawn : tq;
    // kdim and vdim (PyTorch's input widths) other than d only for cross-attention
    const [kdim, vdim] = cross && inputWidths !== undefined ? inputWidths : [d, d];
    const widths = cross && inputWidths !== undefined ? { kdim, vdim } : {};
    const layer = ownDims === undefined ? multiHeadAttention(d, heads, { useBias, ...widths }) : multiHeadAttention(d, heads, { keyDim, valueDim, useBias, ...widths });
    const sizes: AttentionSizes = { n, tq, tk, d, kdim, vdim };
    const maskShape = maskKind === "padding" ? [n, tk] : [n, tq, tk];
    const maskValues = Array.from({ length: maskShape.reduce((a, b) => a * b, 1) }, () => random() > -0.4);
    const mask = maskKind === "none" ? undefined : boolTensor(maskShape, maskValues);
    const allowed = mask === undefined ? undefined : (b: number, i: number, j: number): boolean => maskValues[maskKind === "padding" ? b * tk + j : (b * tq + i) * tk + j] === true;
    const torch = torchMask(torchMaskKind, sizes, heads, random);
    const torchAllowed = torch.config.mask;
    const config: AttentionConfig = {
      heads,
      keyDim,
      valueDim,
      causal,
      mask: (b, h, i, j) => (allowed === undefined || allowed(b, i, j)) && (torchAllowed === undefined || torchAllowed(b, h, i, j)),
      ...(torch.config.added === undefined ? {} : { added: torch.config.added }),
    };
    const opts = { causal, ...(mask === undefined ? {} : { mask }), ...torch.opts };
    const x = randomTensor([n, tq, d], random);
    const attention = attentionParams(d, heads, keyDim, valueDim, useBias, random, kdim, vdim);
    // cross-attention differentiates the keys and values too: they travel as leaves of the params tree
    const params = cross ? { attention, key: randomTensor([n, tk, kdim], random), value: randomTensor([n, tk, vdim], random) } : attention;
    const wide = layer as unknown as {
      apply(p: unknown, x: AnyTensor, opts: unknown): AnyTensor;
      attend(p: unknown, query: AnyTensor, key: AnyTensor, value: AnyTensor, opts: unknown): AnyTensor;
    }; // the layer's functions without their shape types, for float64 tensors of the case's shapes
    return {
      detail: `multiHeadAttention(${d}, ${heads}${ownDims === undefined ? "" : `, keyDim ${keyDim}, valueDim ${valueDim}`}, kdim ${kdim}, vdim ${vdim}, bias ${useBias}) ${cross ? `attend to ${tk} keys` : "self"}, causal ${causal}, mask ${maskKind}, PyTorch mask ${torchMaskKind}`,
      params,
      x,
      apply: (p, xs) => (cross ? wide.attend(sub(p, "attention"), xs, leaf(p, "key"), leaf(p, "value"), opts) : wide.apply(p, xs, opts)),
      naive: (p, xs): NaiveOutput => {
        const [ap, k, v] = cross ? [sub(p, "attention"), valuesOf(leaf(p, "key")), valuesOf(leaf(p, "value"))] : [p, valuesOf(xs), valuesOf(xs)];
        return { shape: xs.shape, data: naiveAttention(ap, valuesOf(xs), k, v, sizes, config) };
      },
      init: (k) => layer.init(k),
    };
  });

/** crossAttention: attention to a fixed memory (keys and values alike), closed over, as a layer. */
const crossAttentionCases = fc
  .record({ heads: fc.integer({ min: 1, max: 2 }), perHead: fc.integer({ min: 1, max: 3 }), width: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 2 }), tq: fc.integer({ min: 1, max: 3 }), tk: fc.integer({ min: 1, max: 3 }), seed })
  .map(({ heads, perHead, width, n, tq, tk, seed: s }): LayerCase => {
    const random = uniform(s);
    const d = heads * perHead;
    const mha = multiHeadAttention(d, heads, { kdim: width, vdim: width });
    const memory = randomTensor([n, tk, width], random);
    const layer = crossAttention(mha, memory as Tensor<[number, number, number]>); // float64 under the float32 types: the layer computes in its input's dtype
    const wide = layer as unknown as { apply(p: unknown, x: AnyTensor): AnyTensor }; // as above
    const sizes: AttentionSizes = { n, tq, tk, d, kdim: width, vdim: width };
    return {
      detail: `crossAttention(multiHeadAttention(${d}, ${heads}, kdim ${width}, vdim ${width}), memory [${n}, ${tk}, ${width}])`,
      params: attentionParams(d, heads, perHead, perHead, true, random, width, width),
      x: randomTensor([n, tq, d], random),
      apply: (p, xs) => wide.apply(p, xs),
      naive: (p, xs): NaiveOutput => ({ shape: xs.shape, data: naiveAttention(p, valuesOf(xs), valuesOf(memory), valuesOf(memory), sizes, { heads, keyDim: perHead, valueDim: perHead, causal: false }) }),
      init: (k) => layer.init(k),
    };
  });

const encoderCases = fc
  .record({
    heads: fc.integer({ min: 1, max: 2 }),
    perHead: fc.integer({ min: 1, max: 4 }),
    ffn: fc.integer({ min: 1, max: 5 }),
    n: fc.integer({ min: 1, max: 2 }),
    t: fc.integer({ min: 1, max: 4 }),
    causal: fc.boolean(),
    activation: fc.constantFrom("gelu" as const, "geluTanh" as const, "relu" as const),
    normFirst: fc.boolean(),
    seed,
  })
  .map(({ heads, perHead, ffn, n, t, causal, activation, normFirst, seed: s }): LayerCase => {
    const random = uniform(s);
    const d = heads * perHead;
    const eps = 1e-5;
    const layer = transformerEncoderBlock(d, heads, ffn, { activation, eps, normFirst });
    const norm = (): Record<string, AnyTensor> => ({ scale: randomTensor([d], random, 0.5, 1), bias: randomTensor([d], random, 0.5) });
    const params = {
      ln1: norm(),
      mha: attentionParams(d, heads, perHead, perHead, true, random),
      ln2: norm(),
      ffn1: { w: randomTensor([d, ffn], random), b: randomTensor([ffn], random, 0.5) },
      ffn2: { w: randomTensor([ffn, d], random), b: randomTensor([d], random, 0.5) },
    };
    const wide = layer as unknown as { apply(p: unknown, x: AnyTensor, opts: unknown): AnyTensor }; // as for attention
    return {
      detail: `transformerEncoderBlock(${d}, ${heads}, ${ffn}, ${activation}, normFirst ${normFirst}), causal ${causal}`,
      params,
      x: randomTensor([n, t, d], random),
      apply: (p, xs) => wide.apply(p, xs, { causal }),
      naive: (p, xs): NaiveOutput => {
        const x = valuesOf(xs);
        const normOf = (name: string, v: readonly number[]): number[] => naiveLayerNorm(v, d, eps, valuesOf(leaf(sub(p, name), "scale")), valuesOf(leaf(sub(p, name), "bias")));
        // pre-norm: x1 = x + mha(ln1(x)), y = x1 + ffn(ln2(x1)); post-norm: x1 = ln1(x + mha(x)), y = ln2(x1 + ffn(x1))
        const attendIn = normFirst ? normOf("ln1", x) : x;
        const attended = naiveAttention(sub(p, "mha"), attendIn, attendIn, attendIn, { n, tq: t, tk: t, d, kdim: d, vdim: d }, { heads, keyDim: perHead, valueDim: perHead, causal });
        const sum1 = x.map((v, i) => v + at(attended, i));
        const x1 = normFirst ? sum1 : normOf("ln1", sum1);
        const dense = (name: string, v: readonly number[], i: number, o: number): number[] => naiveDense(v, valuesOf(leaf(sub(p, name), "w")), valuesOf(leaf(sub(p, name), "b")), i, o);
        const hidden = dense("ffn1", normFirst ? normOf("ln2", x1) : x1, d, ffn).map(activation === "gelu" ? naiveGelu : activation === "geluTanh" ? naiveGeluTanh : (v) => Math.max(v, 0));
        const out = dense("ffn2", hidden, ffn, d);
        const sum2 = x1.map((v, i) => v + at(out, i));
        return { shape: xs.shape, data: normFirst ? sum2 : normOf("ln2", sum2) };
      },
      init: (k) => layer.init(k),
    };
  });

export const cases: LayerCases = {
  layerNorm: layerNormCases,
  rmsNorm: rmsNormCases,
  batchNorm: batchNormCases,
  multiHeadAttention: attentionCases,
  crossAttention: crossAttentionCases,
  transformerEncoderBlock: encoderCases,
};
