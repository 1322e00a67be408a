/**
 * PyTorch weights in and out: `fromTorchStateDict(model, file)` reads a
 * PyTorch `state_dict` saved as safetensors into the parameters of a Stratum
 * model built to match, and `toTorchStateDict(model, params)` gives the
 * tensors, with PyTorch's names and layouts, that `writeSafetensors` writes
 * for `model.load_state_dict` to read.
 *
 * The model's structure gives the names, as PyTorch's module tree does: a
 * `sequential` is an `nn.Sequential` (its layers `0.`, `1.`, ...), nesting
 * nests (`2.0.weight`), a `residual` or `frozen` layer adds no name, and each
 * layer with parameters names them as its PyTorch module does
 * (`torch-layouts.ts` holds one codec per kind). A custom module's names
 * come from `rename` (a map of module paths, or a function of the key) and
 * `prefix`. Every tensor is checked against the shape the model expects
 * (from one `init`): the error lists every missing, unexpected, mis-shaped
 * and mis-typed tensor at once. Only F32 loads unless `convert` allows F64,
 * F16 and BF16. A state_dict holds no configuration (eps, activation,
 * strides, padding, heads), so the model must be built with PyTorch's
 * (README, "From PyTorch"); what our layers cannot express is a `Left`
 * naming the reason. The one layout no parameter shape reveals, a dense
 * layer reading a flattened channels-last image, must be stated with
 * `flatten` (the walk notices such a layer and asks).
 *
 * Deliberately left out: PyTorch's pickle format (`torch.save`), which
 * runs code to load; save with `safetensors.torch.save_file` or the few
 * lines of `test/fixtures/torch/make.py`.
 */

import * as E from "fp-ts/lib/Either.js";
import { tensor } from "../core/create.js";
import type { DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, sameShape, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { LoadError } from "../io/load-error.js";
import { readSafetensors } from "../io/safetensors.js";
import { parseHeader } from "../io/safetensors-header.js";
import { cast } from "../ops/elementwise.js";
import { key as makeKey, type Key } from "../random/key.js";
import type { FrozenParams } from "./frozen.js";
import type { AnyLayer, LayerInfo, ParamsOf } from "./layer.js";
import type { AnyStatefulLayer } from "./sequential.js";
import { CODECS, denseCodec, tensorAt, unexpectedHint, type AnyTensor, type Codec, type ParamRecord } from "./torch-layouts.js";

// ---------------------------------------------------------------------------
// The public types
// ---------------------------------------------------------------------------

/** A model whose weights can come from PyTorch: a plain layer, or a stateful one (batch norm). */
export type TorchModel = AnyLayer | (AnyStatefulLayer & { init(k: Key): unknown });

/**
 * What `fromTorchStateDict` gives for `model`: its parameters, and for a
 * stateful layer its parameters and state (`{ params, state }`, as `frozen`
 * holds them).
 *
 * @example
 * type P = TorchParamsOf<BatchNorm<4>>; // { params: BatchNormParams<4>; state: BatchNormState<4> }
 */
export type TorchParamsOf<L> = L extends { initState(): infer St; init(k: Key): infer P } ? FrozenParams<P, St> : ParamsOf<L>;

/** A PyTorch `state_dict`: a safetensors file's bytes, or its tensors by name. */
export type TorchTensors = Uint8Array | ReadonlyMap<string, Tensor<Shape, DType>> | { readonly [name: string]: Tensor<Shape, DType> };

/** How a model's parameters are named in PyTorch and how a flattened image is laid out: the options of both directions. */
export interface TorchNameOptions {
  /** Put before every key: `"model."` for a model that is an attribute `model` of the saved module (default none). */
  readonly prefix?: string;
  /**
   * Renames module paths, for a custom module: a map from a path of
   * ours (`"0"`, `"2.1"`) to PyTorch's (`"conv1"`, `"block.fc"`), the
   * longest matching path winning, or a function of each whole key
   * (`"0.weight"` to `"conv1.weight"`). Applied before `prefix`.
   */
  readonly rename?: Readonly<Record<string, string>> | ((key: string) => string);
  /**
   * How the images that reach a `flatten` before a dense layer are laid
   * out: `"channelsLast"` (Stratum's default NHWC/NWC; the dense kernel's
   * rows are permuted between our `[H, W, C]` order and PyTorch's
   * `[C, H, W]`) or `"channelsFirst"` (the layers run NCHW/NCW; no
   * permutation). Needed only when such a layer exists; without it, that
   * layer is an error that asks for it.
   */
  readonly flatten?: "channelsLast" | "channelsFirst";
}

/** The options of `fromTorchStateDict`. */
export interface FromTorchOptions extends TorchNameOptions {
  /** Also load F64, F16 and BF16 tensors (float64 ones from a map), converted to float32 (default false: F32 only). */
  readonly convert?: boolean;
}

/**
 * One thing wrong with a state_dict for a model. `layer` says which of the
 * model's layers wanted the tensor: its kind and its path in the parameters
 * (`"dense at 2.0"`).
 */
export type TorchIssue =
  | { readonly kind: "missing"; readonly key: string; readonly shape: readonly number[]; readonly layer: string }
  | { readonly kind: "unexpected"; readonly key: string; readonly shape: readonly number[]; readonly hint?: string }
  | { readonly kind: "shape"; readonly key: string; readonly expected: readonly number[]; readonly actual: readonly number[]; readonly layer: string }
  | { readonly kind: "dtype"; readonly key: string; readonly dtype: string; readonly convertible: boolean; readonly layer: string }
  | { readonly kind: "unsupported"; readonly layer: string; readonly reason: string }
  | { readonly kind: "file"; readonly reason: string };

/** One sentence for an issue. */
function describeIssue(issue: TorchIssue): string {
  switch (issue.kind) {
    case "missing":
      return `missing tensor ${JSON.stringify(issue.key)} ${formatShape(issue.shape)} (${issue.layer})`;
    case "unexpected":
      return `unexpected tensor ${JSON.stringify(issue.key)} ${formatShape(issue.shape)}${issue.hint === undefined ? "" : `: ${issue.hint}`}`;
    case "shape":
      return `tensor ${JSON.stringify(issue.key)} is ${formatShape(issue.actual)}, expected ${formatShape(issue.expected)} (${issue.layer})`;
    case "dtype":
      return `tensor ${JSON.stringify(issue.key)} is ${issue.dtype}, ${issue.convertible ? "which loads only with convert: true (to float32)" : "not a float"} (${issue.layer})`;
    case "unsupported":
      return `${issue.layer}: ${issue.reason}`;
    case "file":
      return issue.reason;
  }
}

/**
 * Why a state_dict does not load into a model: every issue found, each
 * also a sentence of `problems` (it is a `LoadError`, so file reading and
 * loading share one error type).
 *
 * @example
 * const r = fromTorchStateDict(dense(4, 2), { weight: zeros([4, 2]), bias: zeros([2]) });
 * if (E.isLeft(r)) r.left.issues; // [{ kind: "shape", key: "weight", expected: [2, 4], actual: [4, 2], layer: "dense at the top" }]
 */
export class TorchImportError extends LoadError {
  /** Each issue, structured; `problems` holds the same, one sentence each. */
  readonly issues: readonly TorchIssue[];

  constructor(issues: readonly TorchIssue[]) {
    super(issues.map(describeIssue));
    this.name = "TorchImportError";
    this.issues = Object.freeze(issues.slice());
  }
}

// ---------------------------------------------------------------------------
// The walk over a model
// ---------------------------------------------------------------------------

/** A layer as the walk sees it: what it says of itself, and how to make its parameters. */
interface WalkedLayer extends LayerInfo {
  init?(k: Key): unknown;
  initState?(): unknown;
}

/** A layer with parameters, reached by the walk. */
interface Leaf {
  /** Its kind and path, for messages: `"dense at 2.0"`. */
  readonly where: string;
  /** Its path in the parameters: PyTorch's module path before renaming. */
  readonly path: readonly string[];
  /** Its parameters (or in `fromTorchStateDict`, the template from `init`). */
  readonly params: ParamRecord;
  /** Its codec, or why it has none. */
  readonly codec: Codec | { readonly reason: string };
}

/**
 * What flows from one layer to the next that a codec needs: the channels of
 * the channels-last image coming out of the last convolution, and of the
 * one a `flatten` has flattened, with where that convolution was.
 */
interface Flow {
  readonly channels?: { readonly count: number; readonly from: string };
  readonly flattened?: { readonly count: number; readonly from: string };
}

const isRecord = (x: unknown): x is ParamRecord => typeof x === "object" && x !== null && !Array.isArray(x);

const whereOf = (kind: string, path: readonly string[]): string => `${kind} at ${path.length === 0 ? "the top" : path.join(".")}`;

/**
 * Walks `layer` with its parameters `params` in order, calls `visit` on each
 * layer with parameters and builds the same tree from what it returns.
 * `flow` carries the image channels; the return is the new tree and flow.
 */
function walk(layer: WalkedLayer, params: unknown, path: readonly string[], flow: Flow, flatten: TorchNameOptions["flatten"], visit: (leaf: Leaf) => unknown): [unknown, Flow] {
  const kind = layer.name ?? "layer";
  if (layer.layers !== undefined && layer.initState !== undefined) return walkStatefulStack(layer, params, path, flow, flatten, visit);
  if (layer.layers !== undefined) {
    if (!Array.isArray(params)) shapeError("torch state_dict", `the parameters of ${whereOf(kind, path)} must be an array, one entry per layer`);
    const out: unknown[] = [];
    let now = flow;
    (layer.layers as readonly WalkedLayer[]).forEach((child, i) => { // each child is a layer at run time, as `sequential` runs it
      const [p, next] = walk(child, params[i], [...path, String(i)], now, flatten, visit);
      out.push(p);
      now = next;
    });
    return [out, now];
  }
  // residual's parameters are its layer's; frozen's are its stateful layer's { params, state }, which that layer's codec reads
  if (layer.wraps !== undefined) return walk(layer.wraps, params, path, flow, flatten, visit);
  if (!isRecord(params)) shapeError("torch state_dict", `the parameters of ${whereOf(kind, path)} must be a record`);
  if (Object.keys(params).length === 0) return [params, flowPast(kind, flow)];
  const where = whereOf(kind, path);
  const codec = kind === "dense" ? denseFor(where, params, flow, flatten) : (CODECS[kind] ?? { reason: `no PyTorch module is mapped to a layer named ${JSON.stringify(kind)}` });
  return [visit({ where, path, params, codec }), flowAfter(kind, where, params, flow)];
}

/**
 * Walks a stack that holds a stateful layer: its template is `{ params, state }`
 * with one entry per layer in each; a stateful child is walked with its own
 * `{ params, state }` (as `frozen`'s codec reads it), the others with their
 * parameters, and the two tuples are put back together.
 */
function walkStatefulStack(layer: WalkedLayer, template: unknown, path: readonly string[], flow: Flow, flatten: TorchNameOptions["flatten"], visit: (leaf: Leaf) => unknown): [unknown, Flow] {
  const kind = layer.name ?? "layer";
  const { params, state } = isRecord(template) ? template : {};
  if (!Array.isArray(params) || !Array.isArray(state)) shapeError("torch state_dict", `the parameters of ${whereOf(kind, path)} must be { params, state }, one entry per layer in each`);
  const [outParams, outState]: [unknown[], unknown[]] = [[], []];
  let now = flow;
  (layer.layers as readonly WalkedLayer[]).forEach((child, i) => { // each child is a layer at run time, as `sequential` runs it
    const stateful = child.initState !== undefined;
    const [p, next] = walk(child, stateful ? { params: params[i], state: state[i] } : params[i], [...path, String(i)], now, flatten, visit);
    // a stateful child's walk gives back the { params, state } it was given, loaded
    const loaded = stateful && isRecord(p) ? p : { params: p, state: state[i] };
    outParams.push(loaded["params"]);
    outState.push(loaded["state"]);
    now = next;
  });
  return [{ params: outParams, state: outState }, now];
}

/** The flow after a layer without parameters: `flatten` flattens the image, a reshape or global pool ends it, the rest keep it. */
function flowPast(kind: string, flow: Flow): Flow {
  if (kind === "flatten") return flow.channels === undefined ? {} : { flattened: flow.channels };
  if (kind === "reshape" || kind === "globalAvgPool") return {};
  return flow;
}

/** The flow after a layer with parameters: a convolution starts an image of its output channels, a norm keeps it, the rest end it. */
function flowAfter(kind: string, where: string, params: ParamRecord, flow: Flow): Flow {
  if (kind === "batchNorm" || kind === "layerNorm") return flow;
  const w = kind === "conv2d" || kind === "conv1d" || kind === "convTranspose2d" ? tensorAt(kind, params, "w").shape : undefined;
  if (w === undefined) return {};
  // conv2d [KH, KW, C, O] and conv1d [K, C, O] end with the output channels; convTranspose2d [KH, KW, O, C] has them third
  const count = kind === "convTranspose2d" ? w[2] : w[w.length - 1];
  return { channels: { count: count ?? 0, from: where } };
}

/** The codec of a dense layer: plain, or with its rows permuted when it reads a flattened channels-last image (see `flatten`). */
function denseFor(where: string, params: ParamRecord, flow: Flow, flatten: TorchNameOptions["flatten"]): Codec | { readonly reason: string } {
  const image = flow.flattened;
  const inFeatures = tensorAt("dense", params, "w").shape[0] ?? 0;
  // one channel, or one pixel: both orders are the same
  if (image === undefined || image.count <= 1 || image.count === inFeatures || flatten === "channelsFirst") return denseCodec();
  if (inFeatures % image.count !== 0) {
    return { reason: `it reads ${inFeatures} features after a flatten, which are no image of the ${image.count} channels of ${image.from}` };
  }
  if (flatten === "channelsLast") return denseCodec(image.count);
  return {
    reason:
      `it reads a flattened image of ${image.count} channels (from ${image.from}); PyTorch flattens [C, H, W], a channels-last model (Stratum's default) ` +
      `[H, W, C]: pass flatten: "channelsLast" to permute this kernel's rows, or "channelsFirst" if the model's images are NCHW`,
  };
}

/** The full PyTorch key of `suffix` in the module at `path`, after `rename` and `prefix`. */
function keyOf(path: readonly string[], suffix: string, options: TorchNameOptions): string {
  const plain = [...path, suffix].join(".");
  const rename = options.rename;
  let renamed = plain;
  if (typeof rename === "function") renamed = rename(plain);
  else if (rename !== undefined) {
    // the longest renamed module path that is the key's or one of its ancestors
    const from = Object.keys(rename)
      .filter((p) => plain === p || plain.startsWith(`${p}.`))
      .sort((a, b) => b.length - a.length)[0];
    if (from !== undefined) {
      const to = rename[from] ?? from;
      const rest = plain.slice(from.length + 1);
      renamed = to === "" ? rest : rest === "" ? to : `${to}.${rest}`;
    }
  }
  return `${options.prefix ?? ""}${renamed}`;
}

// ---------------------------------------------------------------------------
// fromTorchStateDict
// ---------------------------------------------------------------------------

/** One tensor of the state_dict and the dtype it has where it came from (a safetensors code, or a Stratum dtype). */
interface Found {
  readonly tensor: Tensor<Shape, DType>;
  readonly dtype: string;
}

/** The dtypes that load as they are, and those that load with `convert`. */
const FLOAT32 = new Set(["F32", "float32"]);
const CONVERTIBLE = new Set(["F64", "F16", "BF16", "float64"]);

/** The state_dict's tensors by name, with their dtypes as given. */
function sourceOf(tensors: TorchTensors): E.Either<TorchImportError, Map<string, Found>> {
  if (tensors instanceof Uint8Array) {
    const file = readSafetensors(tensors);
    const header = parseHeader(tensors);
    if (E.isLeft(file)) return E.left(new TorchImportError(file.left.problems.map((reason) => ({ kind: "file", reason }))));
    // the header parsed, since the file read; each entry names one of its tensors
    const formats = new Map(E.isRight(header) ? header.right.entries.map((e) => [e.name, e.format]) : []);
    return E.right(new Map([...file.right.tensors].map(([name, x]) => [name, { tensor: x, dtype: formats.get(name) ?? x.dtype }])));
  }
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  return E.right(new Map(entries.map(([name, x]) => [name, { tensor: x, dtype: x.dtype }])));
}

/** The model's parameters from `init` (and state from `initState`): the shapes and structure the state_dict must fill. */
function templateOf(model: WalkedLayer): unknown {
  const params = model.init?.(makeKey(0));
  return model.initState === undefined ? params : { params, state: model.initState() };
}

/**
 * The parameters of `model` from a PyTorch `state_dict` (a safetensors
 * file's bytes, or tensors by name), or a `TorchImportError` listing every
 * missing, unexpected, mis-shaped and mis-typed tensor and every layer
 * PyTorch cannot express. The model must be built as the PyTorch one was
 * (sizes, eps, activations, strides: a state_dict holds none of them); for
 * a stateful layer (batch norm) the result is `{ params, state }`.
 *
 * @example
 * // torch: nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)), saved with save_file(model.state_dict(), "mlp.safetensors")
 * const model = sequential(dense(784, 64), relu(), dense(64, 10));
 * const params = fromTorchStateDict(model, readFileSync("mlp.safetensors")); // Either<TorchImportError, [{ w, b }, {}, { w, b }]>
 */
export function fromTorchStateDict<L extends TorchModel>(model: L, tensors: TorchTensors, options: FromTorchOptions = {}): E.Either<TorchImportError, TorchParamsOf<L>> {
  const source = sourceOf(tensors);
  if (E.isLeft(source)) return source;
  const found = source.right;
  const issues: TorchIssue[] = [];
  const claimed = new Map<string, string>();
  const top: WalkedLayer = model;
  const [params] = walk(top, templateOf(top), [], {}, options.flatten, (leaf) => {
    const { codec } = leaf;
    const reason = "reason" in codec ? codec.reason : codec.unsupported?.(leaf.params);
    if (reason !== undefined || "reason" in codec) {
      issues.push({ kind: "unsupported", layer: leaf.where, reason: reason ?? "" });
      // the tensors of the module it stands for are not listed again as unexpected
      const sentinel = "\u0000";
      const modulePrefix = keyOf(leaf.path, sentinel, options);
      if (modulePrefix.endsWith(sentinel)) for (const key of found.keys()) if (key.startsWith(modulePrefix.slice(0, -1))) claimed.set(key, leaf.where);
      return leaf.params;
    }
    const loaded = new Map<string, AnyTensor>();
    for (const [suffix, expected] of codec.toTorch(leaf.params)) {
      const key = keyOf(leaf.path, suffix, options);
      const other = claimed.get(key);
      if (other !== undefined) issues.push({ kind: "unsupported", layer: leaf.where, reason: `its tensor ${JSON.stringify(key)} is also ${other}'s: rename one` });
      claimed.set(key, leaf.where);
      const got = found.get(key);
      if (got === undefined) {
        issues.push({ kind: "missing", key, shape: expected.shape, layer: leaf.where });
        continue;
      }
      const dtypeOk = FLOAT32.has(got.dtype) || (options.convert === true && CONVERTIBLE.has(got.dtype));
      if (!dtypeOk) issues.push({ kind: "dtype", key, dtype: got.dtype, convertible: CONVERTIBLE.has(got.dtype), layer: leaf.where });
      if (!sameShape(got.tensor.shape, expected.shape)) issues.push({ kind: "shape", key, expected: expected.shape, actual: got.tensor.shape, layer: leaf.where });
      // F16 and BF16 decode to float32 storage; a float64 tensor is converted, as `convert` allowed
      if (dtypeOk) loaded.set(suffix, cast(got.tensor, "float32") as AnyTensor); // float32 of its own shape
    }
    for (const suffix of codec.ignored ?? []) claimed.set(keyOf(leaf.path, suffix, options), leaf.where);
    if (issues.length > 0) return leaf.params;
    return codec.fromTorch((suffix) => loaded.get(suffix) ?? shapeError("fromTorchStateDict", `${leaf.where}: no tensor ${suffix}`), leaf.params);
  });
  for (const [key, { tensor: x }] of found) {
    if (claimed.has(key)) continue;
    const hint = unexpectedHint(key);
    issues.push({ kind: "unexpected", key, shape: x.shape, ...(hint === undefined ? {} : { hint }) });
  }
  if (issues.length > 0) return E.left(new TorchImportError(issues));
  return E.right(params as TorchParamsOf<L>); // the template's tree (init, and initState for a stateful model) rebuilt with every leaf loaded at its shape
}

// ---------------------------------------------------------------------------
// toTorchStateDict
// ---------------------------------------------------------------------------

/**
 * The PyTorch `state_dict` of `params`, the parameters of `model`: each
 * tensor under PyTorch's name and in its layout, for `writeSafetensors`
 * (PyTorch reads the file with `safetensors.torch.load_file` and
 * `load_state_dict`). An LSTM's or RNN's one bias is written as
 * `bias_ih_l0` with `bias_hh_l0` zero, and batch norm's
 * `num_batches_tracked` as an int32 0. Throws a `ShapeError` for a layer
 * PyTorch cannot express (the reason of `fromTorchStateDict`'s `Left`).
 *
 * @example
 * const model = sequential(dense(784, 64), relu(), dense(64, 10));
 * writeSafetensors(toTorchStateDict(model, params)); // "0.weight" [64, 784], "0.bias", "2.weight" [10, 64], "2.bias"
 */
export function toTorchStateDict<L extends TorchModel>(model: L, params: TorchParamsOf<L>, options: TorchNameOptions = {}): Map<string, Tensor<Shape, DType>> {
  const out = new Map<string, Tensor<Shape, DType>>();
  const put = (key: string, x: Tensor<Shape, DType>, where: string): void => {
    if (out.has(key)) shapeError("toTorchStateDict", `${where}: the tensor ${JSON.stringify(key)} is written twice; rename one`);
    out.set(key, x);
  };
  const top: WalkedLayer = model;
  walk(top, params, [], {}, options.flatten, (leaf) => {
    const { codec } = leaf;
    const reason = "reason" in codec ? codec.reason : codec.unsupported?.(leaf.params);
    if (reason !== undefined || "reason" in codec) return shapeError("toTorchStateDict", `${leaf.where}: ${reason}`);
    for (const [suffix, x] of codec.toTorch(leaf.params)) put(keyOf(leaf.path, suffix, options), x, leaf.where);
    // PyTorch's counters (num_batches_tracked), which Stratum does not keep: zero, which load_state_dict copies into its int64 buffer
    for (const suffix of codec.ignored ?? []) put(keyOf(leaf.path, suffix, options), tensor(0, "int32"), leaf.where);
    return leaf.params;
  });
  return out;
}
