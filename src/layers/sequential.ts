/**
 * `sequential(...layers)`: layers applied one after another, checked at
 * compile time by folding their shape functions.
 *
 * As Keras's `Sequential` and Flax's `nn.Sequential`, with the parameters a
 * tuple (one entry per layer) and `init` splitting its key once per layer.
 * The compile-time check runs each layer's shape function on the previous
 * one's output, starting from the first layer's most general input (its
 * `probe`, with `"..."` standing for the batch prefix); where a layer accepts
 * any shape, the next layer's probe takes over. A mismatch types the argument
 * at that position as `ShapeError<"sequential: layer 2 expects [..., 256] but
 * gets [..., 512]">`.
 *
 * A stack with a stateful layer (batch norm) is itself a `StatefulLayer`, as
 * Flax threads `batch_stats` through a module tree: its state is a tuple with
 * one entry per layer (the layer's state, or `{}` for a layer without one),
 * `initState()` makes it, and `apply(p, state, x, { training })` returns
 * `[y, newState]`, each stateful layer getting its own entry and the
 * previous layer's output. Such a stack nests in another stack (which then
 * has state too), and `frozen(stack)` is the stack in inference mode.
 * Deliberately left out: named layers and branching (write a function, or
 * `residual`).
 */

import type { DType } from "../core/dtype.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import type { Dim, Shape, ShowShape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { IsTuple } from "../core/rules/dims.js";
import type { NoParams } from "../core/tree.js";
import { split, type Key } from "../random/key.js";
import { splitKeys } from "../random/staged.js";
import { makeLayer, type ApplyOptions, type InputDType, type InputOf, type AnyLayer, type ApplyShape, type Layer, type LayerInfo, type ParamsOf, type ShapeFn, type ShapeFnOf, type StatefulLayer, type AnyStatefulLayer } from "./layer.js";

export type { AnyStatefulLayer } from "./layer.js";

/** The shape functions of a list of layers. */
export type ShapeFnsOf<Ls extends readonly unknown[]> = { -readonly [K in keyof Ls]: ShapeFnOf<Ls[K]> };

/** The parameters of a list of layers: a tuple with one entry per layer. */
export type ParamsTuple<Ls extends readonly unknown[]> = { -readonly [K in keyof Ls]: ParamsOf<Ls[K]> };

/**
 * The shape functions `Fs` folded over the input `S`: the last output, or a
 * `ShapeError` naming the first layer that does not accept its input. With
 * `Probing`, an input of unknown rank is replaced by the layer's probe.
 */
export type FoldShapes<Fs extends readonly unknown[], S extends Shape, Probing extends boolean> =
  Fold<Fs, S, Probing, []> extends infer R ? (R extends Stuck<unknown[], infer E> ? E : R) : never;

/** Where a fold stopped: at the layer whose index is the length of `I`, with its error `E`. */
interface Stuck<I extends unknown[], E> {
  readonly at: I;
  readonly error: E;
}

/**
 * The fold itself, eight layers per recursive step and then one at a time:
 * the output shape, or `Stuck` at the first layer that does not fit.
 * NOTE: TypeScript stops a tail-recursive type after 1000 steps (TS2589), and
 * one step per layer put a 1000-layer stack past it; with eight layers a step
 * the limit is 8000 layers, and the steps within a chunk nest no deeper.
 */
type Fold<Fs extends readonly unknown[], S, Probing extends boolean, I extends unknown[]> = Fs extends readonly [
  infer F0, infer F1, infer F2, infer F3, infer F4, infer F5, infer F6, infer F7,
  ...infer R,
]
  ? Step<F0, S, Probing, I> extends infer S1
    ? Step<F1, S1, Probing, [...I, 1]> extends infer S2
      ? Step<F2, S2, Probing, [...I, 1, 1]> extends infer S3
        ? Step<F3, S3, Probing, [...I, 1, 1, 1]> extends infer S4
          ? Step<F4, S4, Probing, [...I, 1, 1, 1, 1]> extends infer S5
            ? Step<F5, S5, Probing, [...I, 1, 1, 1, 1, 1]> extends infer S6
              ? Step<F6, S6, Probing, [...I, 1, 1, 1, 1, 1, 1]> extends infer S7
                ? Step<F7, S7, Probing, [...I, 1, 1, 1, 1, 1, 1, 1]> extends infer S8
                  ? S8 extends Shape
                    ? Fold<R, S8, Probing, [...I, 1, 1, 1, 1, 1, 1, 1, 1]>
                    : S8
                  : never
                : never
              : never
            : never
          : never
        : never
      : never
    : never
  : Fs extends readonly [infer F, ...infer R]
    ? Step<F, S, Probing, I> extends infer Out
      ? Out extends Shape
        ? Fold<R, Out, Probing, [...I, 1]>
        : Out
      : never
    : S;

/**
 * One layer of the fold: `F`, the layer at index `I["length"]`, applied to
 * `S`; a fold that has already stopped (`S` not a shape) passes through.
 */
type Step<F, S, Probing extends boolean, I extends unknown[]> = [S] extends [Shape]
  ? F extends ShapeFn
    ? StepInput<F, S, Probing> extends infer In extends Shape
      ? ApplyShape<F, In> extends infer Out
        ? Out extends Shape
          ? TakesFloats<F, I> extends true
            ? Out
            : Stuck<I, ShapeError<`sequential: layer ${I["length"]} expects ${F["expects"]} but gets float32 ${ShowShape<In>}`>>
          : Stuck<I, ShapeError<`sequential: layer ${I["length"]} expects ${F["expects"]} but gets ${ShowShape<In>}`>>
        : never
      : never
    : S
  : S;

/** Whether the layer at position `I["length"]` can take the previous layer's float32 output (the first layer takes its own input dtype). */
type TakesFloats<F extends ShapeFn, I extends unknown[]> = I extends [] ? true : InputDType<F> extends "float32" ? true : false;

type StepInput<F extends ShapeFn, S extends Shape, Probing extends boolean> = Probing extends true
  ? IsTuple<S> extends false
    ? F["probe"]
    : S
  : S;

/** The shape function of a sequential stack: its layers' functions folded. */
export interface SequentialFn<Fs extends readonly ShapeFn[]> extends ShapeFn {
  readonly output: FoldShapes<Fs, InputOf<this>, false>;
  readonly probe: Fs extends readonly [infer F extends ShapeFn, ...unknown[]] ? F["probe"] : Dim[];
  readonly expects: Fs extends readonly [infer F extends ShapeFn, ...unknown[]] ? F["expects"] : "any shape";
  readonly inputDType: Fs extends readonly [infer F extends ShapeFn, ...unknown[]] ? InputDType<F> : "float32";
}

/** The state of a layer: what its `initState` returns, or `{}` for a layer without state. */
export type StateOf<L> = L extends { initState(): infer St } ? St : NoParams;

/** The state of a list of layers: a tuple with one entry per layer. */
export type StateTuple<Ls extends readonly unknown[]> = { -readonly [K in keyof Ls]: StateOf<Ls[K]> };

/** Whether some layer of `Ls` has state. */
export type HasState<Ls extends readonly unknown[]> = true extends { [K in keyof Ls]: Ls[K] extends AnyStatefulLayer ? true : false }[number] ? true : false;

/**
 * The layer `sequential(...Ls)`: a `Layer`, or a `StatefulLayer` whose state
 * is the tuple of its layers' states when one of them has state.
 */
export type Sequential<Ls extends readonly unknown[]> =
  HasState<Ls> extends true
    ? StatefulLayer<ParamsTuple<Ls>, StateTuple<Ls>, SequentialFn<ShapeFnsOf<Ls>>>
    : Layer<ParamsTuple<Ls>, SequentialFn<ShapeFnsOf<Ls>>>;

/**
 * `unknown` when the stack fits together, otherwise a tuple that is `unknown`
 * everywhere but at the first layer that does not fit, where it is that
 * layer's `ShapeError`.
 */
export type CheckStack<Ls extends readonly unknown[]> =
  Fold<ShapeFnsOf<Ls>, Dim[], true, []> extends Stuck<infer I, infer E>
    ? [...{ [K in keyof I]: unknown }, E, ...unknown[]]
    : unknown;

/**
 * The parameter list of `sequential`: each layer, or its `ShapeError` where
 * the stack stops fitting, so the message lands on that argument.
 * NOTE: the error alone, not intersected with the layer: a layer has optional
 * members, so the intersection's first line was an `exactOptionalPropertyTypes`
 * remark (TS2379); the error alone reads "Argument of type 'Dense<256, 10>'
 * is not assignable to parameter of type 'ShapeError<"sequential: ...">'".
 */
export type StackArgs<Ls extends readonly unknown[]> = {
  [K in keyof Ls]: CheckStack<Ls> extends infer C extends readonly unknown[]
    ? C[K & keyof C] extends infer E extends ShapeError<string>
      ? E
      : Ls[K]
    : Ls[K];
};

/**
 * The layers applied in order; fails to compile when one layer's output does
 * not fit the next layer's input. The parameters are a tuple, one entry per
 * layer; with a stateful layer among them, so is the state (see the module
 * comment).
 *
 * @example
 * const mlp = sequential(dense(784, 512), relu(), dense(512, 10));
 * const p = mlp.init(key(0)); // [{ w, b }, {}, { w, b }]
 * mlp.apply(p, zeros([32, 784])); // Tensor<[32, 10]>
 * const net = sequential(dense(784, 64), batchNorm(64), relu());
 * const [y, state] = net.apply(net.init(key(0)), net.initState(), zeros([32, 784]), { training: true }); // [Tensor<[32, 64]>, [{}, { mean, var }, {}]]
 */
export function sequential<const Ls extends readonly (AnyLayer | AnyStatefulLayer)[]>(...layers: StackArgs<Ls>): Sequential<Ls> {
  // Each layer is used with its own parameters and the previous layer's output, which the compile-time fold checked.
  const list: readonly (UntypedLayer | UntypedStatefulLayer)[] = layers as unknown as readonly (UntypedLayer | UntypedStatefulLayer)[]; // the layers seen without their types
  const init = (k: Key): unknown[] => {
    const keys = list.length === 0 ? [] : split(k, list.length);
    return list.map((layer, i) => layer.init(keys[i] ?? k));
  };
  // Runs the layers in order, each with its parameters, its state and its own key (so two dropouts in a stack drop different units).
  const run = (params: readonly unknown[], state: readonly unknown[], x: Tensor<Shape>, opts?: ApplyOptions): [Tensor<Shape>, unknown[]] => {
    const keys = opts?.key === undefined || list.length === 0 ? undefined : splitKeys(opts.key, list.length);
    const next: unknown[] = [];
    const y = list.reduce((h, layer, i) => {
      const k = keys?.[i];
      const layerOpts = k === undefined ? opts : { ...opts, key: k };
      if (!isStateful(layer)) {
        next.push(state[i] ?? {});
        return layer.apply(params[i], h, layerOpts);
      }
      const [out, st] = layer.apply(params[i], state[i], h, layerOpts);
      next.push(st);
      return out;
    }, x);
    return [y, next];
  };
  const info: LayerInfo = { name: "sequential", layers: layers as readonly (AnyLayer | AnyStatefulLayer)[], ...(list[0]?.inputDType === undefined ? {} : { inputDType: list[0].inputDType }) }; // StackArgs<Ls> is the layers themselves when this call type-checks
  if (list.some(isStateful)) {
    const stateful = {
      ...info,
      init,
      initState: () => list.map((layer) => (isStateful(layer) ? layer.initState() : {})),
      apply: (p: readonly unknown[], state: readonly unknown[], x: Tensor<Shape>, opts?: ApplyOptions) => {
        if (!Array.isArray(state) || state.length !== list.length) {
          shapeError("sequential", `expects a state of ${list.length} entries (one per layer, from initState) but gets ${Array.isArray(state) ? state.length : typeof state}`);
        }
        return run(p, state, x, opts);
      },
    };
    return stateful as unknown as Sequential<Ls>; // the fold typed each layer's input and output; the state tuple has one entry per layer, in order
  }
  const stateless = makeLayer<unknown[], ShapeFn>(init, (p, x, opts) => run(p, [], x, opts)[0], info);
  return stateless as unknown as Sequential<Ls>; // no layer has state (HasState<Ls> is false), so this is Layer<ParamsTuple<Ls>, SequentialFn<...>>
}

/** Whether a layer has state (its `apply` takes and returns it). */
function isStateful(layer: UntypedLayer | UntypedStatefulLayer): layer is UntypedStatefulLayer {
  return "initState" in layer;
}

/** A layer seen without its types, as `sequential` runs it. */
interface UntypedLayer {
  readonly name?: string;
  readonly inputDType?: DType;
  init(k: Key): unknown;
  apply(p: unknown, x: Tensor<Shape>, opts?: ApplyOptions): Tensor<Shape>;
}

/** A stateful layer seen without its types. */
interface UntypedStatefulLayer {
  readonly name?: string;
  readonly inputDType?: DType;
  init(k: Key): unknown;
  initState(): unknown;
  apply(p: unknown, state: unknown, x: Tensor<Shape>, opts?: ApplyOptions): [Tensor<Shape>, unknown];
}
