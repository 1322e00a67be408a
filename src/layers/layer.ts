/**
 * The layer contract: a layer is a pair of pure functions, `init(key) -> p`
 * and `apply(p, x) -> y`, plus a type-level shape function that says what
 * `apply` does to shapes.
 *
 * The idea is Flax/Haiku's (parameters are a plain tree passed in, never held
 * by the layer), with the shapes of TypeScript tensors: `dense(784, 512)` has
 * parameters `{ w: Tensor<[784, 512]>; b: Tensor<[512]> }` and maps
 * `Tensor<[...B, 784]>` to `Tensor<[...B, 512]>` for any batch prefix `B`.
 *
 * TypeScript has no higher-kinded types, so a layer's shape function is an
 * interface whose `output` reads its own `input` through `this` (the encoding
 * hotscript uses): `ApplyShape<F, S>` sets `input` to `S` and reads `output`.
 * `sequential` folds these functions over its layers at compile time.
 * Stochastic layers (dropout) read a key from `ApplyOptions`; stateful layers
 * (batch norm) are `StatefulLayer`s, which take and return their state.
 * Every `apply` starts with `checkParams`, so a hand-built or cast parameter
 * tree fails with a message naming the layer, never deep inside an op.
 */

import type { DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, type Dim, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Checked } from "../core/rules/dims.js";
import type { ShapeOf } from "../ops/types.js";
import type { Key } from "../random/key.js";
import type { AnyKey } from "../random/staged.js";

/**
 * A layer's shape function at the type level. `output` is computed from
 * `input` (a shape, or a `ShapeError` when the layer does not accept it);
 * `probe` is the most general input the layer accepts, written with the
 * symbolic dim `"..."` for the batch prefix (`["...", 784]` for a dense layer),
 * or `Dim[]` when any shape is accepted; `expects` is how the probe reads in a
 * message.
 */
export interface ShapeFn {
  readonly input: unknown;
  readonly output: unknown;
  readonly probe: Shape;
  readonly expects: string;
  /** The dtype of the input, when it is not float32 (an embedding's int32 indices). */
  readonly inputDType?: DType;
}

/**
 * The input dtype of the shape function `F`: its `inputDType`, float32 by default.
 *
 * @example
 * type D = InputDType<EmbeddingFn<64>>; // "int32"
 */
export type InputDType<F extends ShapeFn> = F extends { readonly inputDType: infer D extends DType } ? D : "float32";

/**
 * The output shape of the shape function `F` for input `S`, or its `ShapeError`.
 *
 * @example
 * type Y = ApplyShape<DenseFn<784, 512>, ["batch", 784]>; // ["batch", 512]
 */
export type ApplyShape<F extends ShapeFn, S extends Shape> = (F & { readonly input: S })["output"];

/**
 * The input of a shape function, as a shape: what its `output` reads.
 * NOTE: `input` is declared `unknown` (not `Shape`) so that `ApplyShape`'s
 * intersection gives `S` itself; `Shape & S` would not match tuple patterns.
 */
export type InputOf<F extends ShapeFn> = F["input"] extends infer S extends Shape ? S : never;

/**
 * The options of `apply`: whether the model is training (dropout drops,
 * batch norm uses the batch's statistics) and the key a stochastic layer
 * draws from: a `Key`, or its data as a tensor (`keyData(k)`) under `jit`.
 * `sequential` splits the key once per layer.
 */
export interface ApplyOptions {
  readonly training?: boolean;
  readonly key?: AnyKey;
}

/**
 * A layer with parameters `P` and shape function `F`: `init` makes the
 * parameters from a key (deterministically), `apply` maps an input of any shape
 * `F` accepts to the shape `F` gives. Both are pure.
 *
 * @example
 * const layer = dense(784, 512);
 * const p = layer.init(key(0)); // { w: Tensor<[784, 512]>; b: Tensor<[512]> }
 * layer.apply(p, zeros([32, 784])); // Tensor<[32, 512]>
 */
export interface Layer<P, F extends ShapeFn> extends LayerInfo {
  /** The shape function; exists only in the types. */
  readonly shapeFn?: F;
  /** The parameters for `k`; the same key gives the same parameters. */
  init(k: Key): P;
  /** The layer applied to `x` with parameters `p`. */
  apply<S extends Shape>(p: P, x: Tensor<S, InputDType<F>> & Checked<ApplyShape<F, S>, unknown>, opts?: ApplyOptions): Tensor<ShapeOf<ApplyShape<F, S>>>;
}

/**
 * What a layer says of itself at run time, for `summary` and
 * `fromTorchStateDict`: its kind (`"dense"`, `"conv2d"`, ...), for a stack
 * the layers it runs one after another (each with its own entry of the
 * parameter tuple), for a wrapper the one layer it wraps, and the dtype of
 * its input where that is not float32 (the run-time twin of `InputDType`).
 */
export interface LayerInfo {
  readonly name?: string;
  readonly layers?: readonly AnyLayer[];
  /**
   * The layer this one wraps whole: `residual`'s (whose parameters are the
   * wrapped layer's) and `frozen`'s (whose parameters are the wrapped
   * stateful layer's `{ params, state }`).
   */
  readonly wraps?: LayerInfo;
  /** The dtype its input must have, when it is not float32 (an embedding's int32 indices). */
  readonly inputDType?: DType;
}

/**
 * Any layer, for constraints (`P` and `F` are read back with `ParamsOf` and
 * `ShapeFnOf`). NOTE: `apply` takes `never` so that every layer's `apply`,
 * whatever its parameters and accepted shapes, is assignable here.
 */
export interface AnyLayer extends LayerInfo {
  readonly shapeFn?: ShapeFn;
  init(k: Key): unknown;
  apply(p: never, x: never, opts?: ApplyOptions): Tensor<Shape>;
}

/**
 * The parameters of a layer: what its `init` returns.
 * NOTE: read from `init`, not by matching `Layer<infer P, ShapeFn>`: an
 * attention layer's `apply` takes wider options, and matching it against
 * `Layer`'s generic `apply` inferred `never`.
 */
export type ParamsOf<L> = L extends { init(k: Key): infer P } ? P : never;

/** The shape function of a layer. */
export type ShapeFnOf<L> = L extends { readonly shapeFn?: infer F extends ShapeFn } ? F : never;

/** The output shape of layer `L` for input `S` (a `ShapeError` when `L` does not accept `S`). */
export type LayerOut<L, S extends Shape> = ApplyShape<ShapeFnOf<L>, S>;

/** The identity shape function: activations and other elementwise layers. */
export interface SameShape extends ShapeFn {
  readonly output: InputOf<this>;
  readonly probe: Dim[];
  readonly expects: "any shape";
}

/** The untyped form of `apply` that layer implementations write once; the typed `Layer` is a view of it. */
export type UntypedApply<P> = (p: P, x: Tensor<Shape>, opts?: ApplyOptions) => Tensor<Shape>;

/**
 * A layer from its two functions, and what it says of itself (its name;
 * default `"layer"`). `apply` is written against `Tensor<Shape>`; the shape
 * function `F` states what it does to shapes, and the tests check the two
 * agree.
 *
 * @example
 * const scale = makeLayer<NoParams, SameShape>(() => ({}), (_p, x) => mul(x, 2), { name: "scale" });
 */
export function makeLayer<P, F extends ShapeFn>(init: (k: Key) => P, apply: UntypedApply<P>, info: LayerInfo = { name: "layer" }): Layer<P, F> {
  // `apply` computes the shape `F` describes (checked by each layer's tests); the typed view only narrows its types.
  return { ...info, init, apply: apply as unknown as Layer<P, F>["apply"] };
}

/**
 * A layer with state besides its parameters (batch norm's running
 * statistics): `initState` makes the first state, and `apply` takes the state
 * and returns the new one with the output. Both are pure; the state is a tree
 * of tensors like the parameters, and is not differentiated.
 *
 * @example
 * const bn = batchNorm(64);
 * const [p, s] = [bn.init(key(0)), bn.initState()];
 * const [y, s2] = bn.apply(p, s, x, { training: true });
 */
export interface StatefulLayer<P, St, F extends ShapeFn> extends LayerInfo {
  /** The shape function; exists only in the types. */
  readonly shapeFn?: F;
  /** The parameters for `k`; the same key gives the same parameters. */
  init(k: Key): P;
  /** The state before any step. */
  initState(): St;
  /** The output for `x` and the state after it. */
  apply<S extends Shape>(
    p: P,
    state: St,
    x: Tensor<S> & Checked<ApplyShape<F, S>, unknown>,
    opts?: ApplyOptions,
  ): [Tensor<ShapeOf<ApplyShape<F, S>>>, St];
}

/**
 * Throws a `ShapeError` naming `layer` unless every parameter of `params`
 * named in `expected` is there with exactly the expected shape. A name may be
 * a dotted path into nested parameters (`"mha.wq"`); a parameter whose
 * expected shape is `undefined` is one the layer does not use (a bias turned
 * off), and is not looked at. Only `.shape` is read, so it works alike on
 * tensors and on the tracers of `jit` and `grad`.
 *
 * @example
 * checkParams("dense", { w: zeros([3, 7]) }, { w: [3, 5] });
 * // throws ShapeError("dense: parameter w must be [3, 5] but is [3, 7]")
 */
export function checkParams(layer: string, params: unknown, expected: Readonly<Record<string, readonly number[] | undefined>>): void {
  for (const name in expected) {
    const want = expected[name];
    if (want === undefined) continue;
    const shape = shapeAt(params, name);
    if (shape === undefined) shapeError(layer, `parameter ${name} is missing; it must be a tensor ${formatShape(want)}`);
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      shapeError(layer, `parameter ${name} must be ${formatShape(want)} but is ${formatShape(shape)}`);
    }
  }
}

/** The shape of the tensor at the dotted `path` in `tree`, or `undefined` when there is none. */
function shapeAt(tree: unknown, path: string): readonly number[] | undefined {
  let node = tree;
  for (const name of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Readonly<Record<string, unknown>>)[name]; // a non-null object can be indexed by name; a missing key reads undefined
  }
  if (typeof node !== "object" || node === null || !("shape" in node) || !Array.isArray(node.shape)) return undefined;
  return node.shape as readonly number[]; // a tensor's (or tracer's) shape is an array of dims
}
