/**
 * A model's summary: each layer with its output shape and parameter count,
 * and the total, as Keras's `Model.summary()` and torchinfo print them.
 *
 * The output shapes come from tracing the model on an input of the given
 * shape (`traceProgram`), so nothing is computed but the initial
 * parameters, which are counted. A stack (`sequential`) lists its layers
 * one per row, a nested stack indented under its own row. The input shape
 * is checked against the model's shape function at compile time, as
 * `apply`'s is.
 *
 * Deliberately left out: multiply-add counts and memory estimates of
 * activations (torchinfo's extra columns).
 */

import type { DType } from "../core/dtype.js";
import type { Checked } from "../core/rules/dims.js";
import { formatShape, type RuntimeShape, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { flattenTree } from "../core/tree.js";
import { key as makeKey, type Key } from "../random/key.js";
import { traceProgram } from "../transforms/trace.js";
import type { AnyLayer, AnyStatefulLayer, LayerOut } from "./layer.js";

/** One row of a summary: a layer, how deep it sits in nested stacks, its output shape and its parameter count. */
export interface SummaryRow {
  readonly depth: number;
  readonly name: string;
  readonly outputShape: RuntimeShape;
  readonly params: number;
}

/** A model's summary; `text` is the table as `toString()` prints it. */
export interface ModelSummary {
  readonly inputShape: RuntimeShape;
  readonly inputDType: DType;
  readonly rows: readonly SummaryRow[];
  readonly totalParams: number;
  /** The parameters' bytes, each leaf at its dtype's size. */
  readonly paramBytes: number;
  readonly text: string;
  toString(): string;
}

/** What `summary` takes besides the model and the input shape. */
export interface SummaryOptions {
  /** The input's dtype (default: what the model says it takes, float32 unless it starts with an embedding). */
  readonly dtype?: DType;
  /** The key of the parameters it counts (default `key(0)`); counts do not depend on it. */
  readonly key?: Key;
}

/** A layer seen without its types, as the summary runs it. */
interface UntypedLayer {
  readonly name?: string;
  readonly layers?: readonly (AnyLayer | AnyStatefulLayer)[];
  readonly inputDType?: DType;
  init(k: Key): unknown;
  apply(p: unknown, x: Tensor<Shape>): Tensor<Shape>;
  /** A stateful layer's: then `apply` takes the state and returns `[y, state]`. */
  initState?(): unknown;
}

const BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * The summary of `model` on inputs of `inputShape` (a mismatch is a compile
 * error where the shapes are literals, and the layer's `ShapeError` at run
 * time).
 *
 * @example
 * const model = sequential(conv2d(1, 8, 5), relu(), maxPool2d(2), flatten(), dense(1152, 10));
 * console.log(summary(model, [1, 28, 28, 1]).text);
 * // Layer      Output shape     Params
 * // conv2d     [1, 24, 24, 8]      208  ...
 */
export function summary<L extends AnyLayer | AnyStatefulLayer, const S extends RuntimeShape>(
  model: L,
  inputShape: S & Checked<LayerOut<L, S>, unknown>,
  options: SummaryOptions = {},
): ModelSummary {
  const top = model as unknown as UntypedLayer; // every layer has these members at run time; its types only narrow them
  const dtype = options.dtype ?? top.inputDType ?? "float32";
  const params = top.init(options.key ?? makeKey(0));
  const rows: SummaryRow[] = [];
  const run = (layer: UntypedLayer, p: unknown, x: Tensor<Shape>, depth: number): Tensor<Shape> => {
    const children = layer.layers;
    if (children === undefined) {
      const y = layer.initState === undefined ? layer.apply(p, x) : statefulApply(layer, p, x);
      rows.push({ depth, name: layer.name ?? "layer", outputShape: y.shape, params: countParams(p).count });
      return y;
    }
    const own = depth < 0 ? -1 : rows.push({ depth, name: layer.name ?? "sequential", outputShape: [], params: countParams(p).count }) - 1;
    const parts = p as readonly unknown[]; // a stack's parameters are a tuple, one entry per layer
    // children are UntypedLayers at run time, as sequential itself runs them
    const y = (children as readonly UntypedLayer[]).reduce((h, child, i) => run(child, parts[i], h, depth + 1), x);
    if (own >= 0) rows[own] = { ...(rows[own] as SummaryRow), outputShape: y.shape };
    return y;
  };
  traceProgram(([x]) => [run(top, params, x as Tensor<Shape>, top.layers === undefined ? 0 : -1)], [{ shape: inputShape, dtype }]);
  const { count, bytes } = countParams(params);
  const text = table(inputShape, dtype, rows, count, bytes);
  return { inputShape, inputDType: dtype, rows, totalParams: count, paramBytes: bytes, text, toString: () => text };
}

/** A stateful layer's output from its first state (inference mode): what the summary shows of it. */
function statefulApply(layer: UntypedLayer, p: unknown, x: Tensor<Shape>): Tensor<Shape> {
  // a layer with initState has the stateful apply(p, state, x) -> [y, state] (see StatefulLayer)
  const stateful = layer as unknown as { apply(p: unknown, state: unknown, x: Tensor<Shape>): [Tensor<Shape>, unknown] }; // it has initState, so its apply is StatefulLayer's
  return stateful.apply(p, layer.initState?.(), x)[0];
}

/** The number of parameters in a tree, and their bytes. */
function countParams(tree: unknown): { count: number; bytes: number } {
  let [count, bytes] = [0, 0];
  for (const leaf of flattenTree(tree, "params").leaves) {
    count += leaf.size;
    bytes += leaf.size * BYTES[leaf.dtype];
  }
  return { count, bytes };
}

function table(inputShape: RuntimeShape, dtype: DType, rows: readonly SummaryRow[], count: number, bytes: number): string {
  const lines: [string, string, string][] = [
    ["Layer", "Output shape", "Params"],
    [`input (${dtype})`, formatShape(inputShape), ""],
    ...rows.map((r): [string, string, string] => [`${"  ".repeat(Math.max(0, r.depth))}${r.name}`, formatShape(r.outputShape), grouped(r.params)]),
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...lines.map((l) => l[c]?.length ?? 0)));
  const [w0 = 0, w1 = 0, w2 = 0] = widths;
  const rule = "-".repeat(w0 + w1 + w2 + 4);
  const render = ([a, b, c]: [string, string, string]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padStart(w2)}`.trimEnd();
  const [head, ...body] = lines;
  const size = bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
  return [render(head ?? ["", "", ""]), rule, ...body.map(render), rule, `Total: ${grouped(count)} parameters (${size})`].join("\n");
}

/** `37610` as `37,610`. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
