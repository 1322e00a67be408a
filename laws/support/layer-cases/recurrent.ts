/**
 * The layer cases of the recurrent group (see `types.ts`): `rnn`, `lstm` and
 * `gru`, with `returnSequences` both ways, from a zero state (`apply`) or a
 * given one (`applyWithState`, the state held constant). The references run
 * the recurrence step by step and gate by gate over plain numbers, from the
 * formulas of PyTorch's documentation (LSTM gates i, f, g, o; GRU r, z, n,
 * reset after the recurrent product).
 */

import fc from "fast-check";
import * as layers from "../../../src/layers/index.js";
import type { AnyTensor } from "../../../src/prims/types.js";
import type { Key } from "../../../src/random/key.js";
import { leaf, numbers, seeded, seeds } from "./basic.js";
import type { LayerCase, LayerCases, NaiveOutput } from "./types.js";

const small = fc.integer({ min: 1, max: 4 });

type Kind = "rnn" | "lstm" | "gru";

/** How many gate blocks each layer's kernels hold. */
const GATES: Readonly<Record<Kind, number>> = { rnn: 1, lstm: 4, gru: 3 };

const sigma = (v: number): number => 1 / (1 + Math.exp(-v));

/** `b[j] + Σ_i v[i] w[i, j]` for `j < width`: a row vector times a `[v.length, width]` kernel, plus a bias. */
function affine(v: readonly number[], w: readonly number[], b: readonly number[] | undefined, width: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < width; j++) {
    let s = b === undefined ? 0 : (b[j] ?? NaN);
    for (let i = 0; i < v.length; i++) s += (v[i] ?? NaN) * (w[i * width + j] ?? NaN);
    out.push(s);
  }
  return out;
}

/** One step of `kind` for one batch row: the input row `xt` and the state `h` (and `c`) to the next state. */
function naiveStep(kind: Kind, p: unknown, act: "tanh" | "relu", xt: number[], h: number[], c: number[]): { h: number[]; c: number[] } {
  const H = h.length;
  const [wx, wh] = [leaf(p, "wx"), leaf(p, "wh")];
  if (kind === "rnn") {
    const xPart = affine(xt, wx, leaf(p, "b"), H);
    const hPart = affine(h, wh, undefined, H);
    return { h: xPart.map((v, j) => (act === "relu" ? Math.max(0, v + (hPart[j] ?? NaN)) : Math.tanh(v + (hPart[j] ?? NaN)))), c };
  }
  if (kind === "lstm") {
    const xPart = affine(xt, wx, leaf(p, "b"), 4 * H);
    const hPart = affine(h, wh, undefined, 4 * H);
    const z = (gate: number, j: number): number => (xPart[gate * H + j] ?? NaN) + (hPart[gate * H + j] ?? NaN);
    const cNext: number[] = [];
    const hNext: number[] = [];
    for (let j = 0; j < H; j++) {
      const [i, f, g, o] = [sigma(z(0, j)), sigma(z(1, j)), Math.tanh(z(2, j)), sigma(z(3, j))];
      cNext.push(f * (c[j] ?? NaN) + i * g);
      hNext.push(o * Math.tanh(cNext[j] ?? NaN));
    }
    return { h: hNext, c: cNext };
  }
  const xPart = affine(xt, wx, leaf(p, "bx"), 3 * H);
  const hPart = affine(h, wh, leaf(p, "bh"), 3 * H);
  const hNext: number[] = [];
  for (let j = 0; j < H; j++) {
    const r = sigma((xPart[j] ?? NaN) + (hPart[j] ?? NaN));
    const z = sigma((xPart[H + j] ?? NaN) + (hPart[H + j] ?? NaN));
    const n = Math.tanh((xPart[2 * H + j] ?? NaN) + r * (hPart[2 * H + j] ?? NaN));
    hNext.push((1 - z) * n + z * (h[j] ?? NaN));
  }
  return { h: hNext, c };
}

/** The whole sequence, row by row of the batch and step by step: `[N, T, H]` or `[N, H]`. */
function naiveRecurrent(
  kind: Kind,
  p: unknown,
  x: AnyTensor,
  hidden: number,
  options: { readonly act: "tanh" | "relu"; readonly returnSequences: boolean; readonly h0?: readonly number[]; readonly c0?: readonly number[] },
): NaiveOutput {
  const [batch = 0, steps = 0, features = 0] = x.shape;
  const xs = numbers(x);
  const data: number[] = [];
  for (let n = 0; n < batch; n++) {
    let h = Array.from({ length: hidden }, (_, j) => options.h0?.[n * hidden + j] ?? 0);
    let c = Array.from({ length: hidden }, (_, j) => options.c0?.[n * hidden + j] ?? 0);
    for (let t = 0; t < steps; t++) {
      const at = (n * steps + t) * features;
      ({ h, c } = naiveStep(kind, p, options.act, xs.slice(at, at + features), h, c));
      if (options.returnSequences || t === steps - 1) data.push(...h);
    }
  }
  return { shape: options.returnSequences ? [batch, steps, hidden] : [batch, hidden], data };
}

/** A recurrent layer seen without its types, as the laws run it. */
interface UntypedRecurrent {
  init(k: Key): unknown;
  apply(p: unknown, x: AnyTensor): AnyTensor;
  applyWithState(p: unknown, x: AnyTensor, state: unknown): { y: AnyTensor };
}

/** The layer `l` without its types: the laws feed it inputs and states its shape function accepts. */
const untypedRecurrent = (l: unknown): UntypedRecurrent => l as UntypedRecurrent; // every recurrent layer has these methods

/** The parameters of `kind` from a seed: kernels and biases in [-1, 1). */
function paramsOf(kind: Kind, inputSize: number, hidden: number, seed: number): Record<string, AnyTensor> {
  const width = GATES[kind] * hidden;
  const kernels = { wx: seeded([inputSize, width], seed), wh: seeded([hidden, width], seed + 1) };
  return kind === "gru" ? { ...kernels, bx: seeded([width], seed + 2), bh: seeded([width], seed + 3) } : { ...kernels, b: seeded([width], seed + 2) };
}

function recurrentCases(kind: Kind): fc.Arbitrary<LayerCase> {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      steps: small,
      inputSize: small,
      hidden: small,
      returnSequences: fc.boolean(),
      withState: fc.boolean(),
      relu: fc.boolean(),
      seed: seeds,
    })
    .map(({ batch, steps, inputSize, hidden, returnSequences, withState, relu, seed }): LayerCase => {
      const act: "tanh" | "relu" = kind === "rnn" && relu ? "relu" : "tanh";
      const layer = untypedRecurrent(kind === "rnn" ? layers.rnn(inputSize, hidden, { returnSequences, activation: act }) : layers[kind](inputSize, hidden, { returnSequences }));
      const h0 = withState ? seeded([batch, hidden], seed + 5) : undefined;
      const c0 = withState && kind === "lstm" ? seeded([batch, hidden], seed + 6) : undefined;
      const state = h0 === undefined ? undefined : c0 === undefined ? { h: h0 } : { h: h0, c: c0 };
      const config = `${kind}(${inputSize}, ${hidden}, returnSequences ${String(returnSequences)}${kind === "rnn" ? `, ${act}` : ""})`;
      return {
        detail: `${config}${state === undefined ? "" : " from a given state"}`,
        params: paramsOf(kind, inputSize, hidden, seed),
        x: seeded([batch, steps, inputSize], seed + 4),
        apply: (p, x) => (state === undefined ? layer.apply(p, x) : layer.applyWithState(p, x, state).y),
        naive: (p, x) =>
          naiveRecurrent(kind, p, x, hidden, {
            act,
            returnSequences,
            ...(h0 === undefined ? {} : { h0: numbers(h0) }),
            ...(c0 === undefined ? {} : { c0: numbers(c0) }),
          }),
        init: (k) => layer.init(k),
      };
    });
}

export const cases: LayerCases = { rnn: recurrentCases("rnn"), lstm: recurrentCases("lstm"), gru: recurrentCases("gru") };
