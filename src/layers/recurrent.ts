/**
 * Recurrent layers: `rnn` (Elman), `lstm` and `gru`, over batch-first
 * sequences `[N, T, I]` (any batch prefix: `[...B, T, I]` with at least one
 * batch dim) to `[N, T, H]` (every step, the default) or `[N, H]` (the last
 * step, with `returnSequences: false`).
 *
 * The conventions are PyTorch's, so that its weights load unchanged (after a
 * transpose: PyTorch stores `[4H, I]`, we store `[I, 4H]` so that `x @ wx`
 * needs no transpose, as Keras does):
 *
 * - `lstm`: gates in the order i, f, g, o along the last axis of
 *   `wx: [I, 4H]`, `wh: [H, 4H]`, `b: [4H]` (one bias; PyTorch's `b_ih + b_hh`).
 *   `i, f, o = σ(·)`, `g = tanh(·)`, `c' = f c + i g`, `h' = o tanh(c')`.
 *   The forget gate's bias starts at 1 (Keras's `unit_forget_bias`).
 * - `gru`: gates r, z, n along `wx: [I, 3H]`, `wh: [H, 3H]`, with two biases
 *   `bx, bh: [3H]`, in the "reset after" form of PyTorch (and Keras's
 *   `reset_after=True`): `n = tanh(x W_n + b_xn + r (h U_n + b_hn))`,
 *   `h' = (1 - z) n + z h`.
 * - `rnn`: `h' = act(x wx + h wh + b)`, `act` tanh (default) or relu.
 *
 * The input projection of all steps is one matmul, `[T·N, I] @ [I, G·H]`
 * (G = 4 gates for the LSTM, 3 for the GRU); each step then does one
 * `h @ wh` for all gates at once and a few elementwise ops, which `jit`
 * fuses; σ is written `(1 + tanh(x / 2)) / 2`, one tanh per gate. A short
 * sequence (up to `unroll` steps, 64 by default) loops in JavaScript, which
 * `jit` unrolls into one program; a longer one runs as one `scan`, whose body
 * is traced once, so the program does not grow with the length (checkpointed
 * by default: its gradient stores the state of each step, not every
 * intermediate, and computes the step again). Input
 * and recurrent kernels start glorot-uniform (Keras uses an orthogonal
 * recurrent kernel; we have no QR), biases at 0.
 *
 * `apply` starts from a zero state; `applyWithState` takes an initial state
 * and returns the final one with the output. Deliberately left out:
 * bidirectional and stacked layers (compose them), masking, dropout between
 * steps, peepholes and projections.
 */

import type { Mul } from "../core/arith/index.js";
import { shapeError, type ShapeError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { badDim, formatShape, shapeSize, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { Checked, DimsMatch, IsTuple } from "../core/rules/dims.js";
import { relu, sigmoidByTanh as sigmoid } from "../ops/activations.js";
import { add, mul, sub, tanh } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { concat, reshape, slice, stack, transpose } from "../ops/shape.js";
import type { ShapeOf } from "../ops/types.js";
import { split, type Key } from "../random/key.js";
import { scanFlat } from "../transforms/scan.js";
import { initializers, type Initializer, type InitializerName } from "./init.js";
import { checkParams, makeLayer, type ApplyShape, type InputOf, type Layer, type ShapeFn } from "./layer.js";

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/**
 * The shape function of a recurrent layer named `Name` from `I` features to
 * `H` units: `[N, ...B, T, I]` to `[N, ...B, T, H]` when `Seq` is true, to
 * `[N, ...B, H]` when it is false (`Dim[]` when `Seq` is only `boolean`).
 *
 * @example
 * type Y = ApplyShape<RecurrentFn<"lstm", 64, 128, false>, ["batch", 32, 64]>; // ["batch", 128]
 */
export interface RecurrentFn<Name extends string, I extends Dim, H extends Dim, Seq extends boolean> extends ShapeFn {
  readonly output: RecurrentShape<Name, InputOf<this>, I, H, Seq>;
  readonly probe: ["...", number, I];
  readonly expects: `[..., T, ${ShowDim<I>}]`;
}

/**
 * `[N, ...B, T, I]` to `[N, ...B, T, H]` or `[N, ...B, H]`, or a `ShapeError` naming the layer and the shape.
 *
 * @example
 * type Y = RecurrentShape<"gru", [8, 20, 64], 64, 32, true>; // [8, 20, 32]
 * type E = RecurrentShape<"gru", [8, 64], 64, 32, true>; // ShapeError<"gru: expects [N, T, 64] but gets [8, 64]">
 */
export type RecurrentShape<Name extends string, S extends Shape, I extends Dim, H extends Dim, Seq extends boolean> = IsTuple<S> extends false
  ? Dim[]
  : S extends readonly [infer N, ...infer B extends Shape, infer T, infer K]
    ? DimsMatch<K, I> extends true
      ? boolean extends Seq
        ? Dim[]
        : Seq extends false
          ? [N, ...B, H]
          : [N, ...B, T, H]
      : ShapeError<`${Name}: expects [N, T, ${ShowDim<I>}] but gets ${ShowShape<S>}`>
    : ShapeError<`${Name}: expects [N, T, ${ShowDim<I>}] but gets ${ShowShape<S>}`>;

/**
 * The shape of a recurrent state for an input `[N, ...B, T, I]`: `[N, ...B, H]`.
 *
 * @example
 * type H = RecurrentStateShape<[8, 32, 64], 128>; // [8, 128]
 */
export type RecurrentStateShape<S extends Shape, H extends Dim> = IsTuple<S> extends false
  ? Dim[]
  : S extends readonly [infer N, ...infer B extends Shape, Dim, Dim]
    ? [N, ...B, H]
    : Dim[];

// ---------------------------------------------------------------------------
// Parameters, options, layer types
// ---------------------------------------------------------------------------

/** The parameters of `rnn(I, H)`: `h' = act(x wx + h wh + b)`. */
export type RnnParams<I extends number, H extends number> = {
  wx: Tensor<[I, H]>;
  wh: Tensor<[H, H]>;
  b: Tensor<[H]>;
};

/**
 * The parameters of `lstm(I, H)`: gates i, f, g, o along the last axis (PyTorch's order).
 *
 * @example
 * type P = LstmParams<64, 128>; // { wx: Tensor<[64, 512]>; wh: Tensor<[128, 512]>; b: Tensor<[512]> }
 */
export type LstmParams<I extends number, H extends number> = {
  wx: Tensor<[I, Mul<4, H>]>;
  wh: Tensor<[H, Mul<4, H>]>;
  b: Tensor<[Mul<4, H>]>;
};

/** The parameters of `gru(I, H)`: gates r, z, n along the last axis, an input bias `bx` and a recurrent bias `bh` (PyTorch's `b_ih`, `b_hh`). */
export type GruParams<I extends number, H extends number> = {
  wx: Tensor<[I, Mul<3, H>]>;
  wh: Tensor<[H, Mul<3, H>]>;
  bx: Tensor<[Mul<3, H>]>;
  bh: Tensor<[Mul<3, H>]>;
};

/** The options of every recurrent layer. */
export interface RecurrentOptions<Seq extends boolean = true> {
  /** Whether the output holds every step (`[N, T, H]`, the default) or only the last (`[N, H]`). */
  readonly returnSequences?: Seq;
  /** The input kernel's initialiser (default `"glorotUniform"`). */
  readonly init?: InitializerName | Initializer;
  /** The recurrent kernel's initialiser (default `"glorotUniform"`). */
  readonly recurrentInit?: InitializerName | Initializer;
  /**
   * Sequences of up to this many steps run as a JavaScript loop, unrolled
   * into a `jit` program (fastest per call for short sequences); longer ones
   * run as one `scan`, whose program does not grow with the length (default
   * 64; 0 always scans, `Infinity` always unrolls). The numbers are the same.
   */
  readonly unroll?: number;
  /**
   * The checkpoint policy of the `scan` (see `ScanOptions.checkpoint`): store
   * only the state of each step and compute the step again in the backward
   * pass: the same numbers exactly, a sixth of the memory for an LSTM, and
   * faster here than storing every residual (less data moved per step; see
   * `bench/results/lstm-scan.json`). Default true; false stores the residuals.
   */
  readonly checkpoint?: boolean;
}

/** The options of `rnn`: also the activation, `"tanh"` (default) or `"relu"`. */
export interface RnnOptions<Seq extends boolean = true> extends RecurrentOptions<Seq> {
  readonly activation?: "tanh" | "relu";
}

/** The state of a recurrent layer with input `S`: the hidden state `h`, `[N, ...B, H]`. */
// NOTE: type aliases, not interfaces, so that a state is a `Tree` (a gradient can be taken with respect to it)
export type HiddenState<S extends Shape, H extends Dim> = {
  readonly h: Tensor<RecurrentStateShape<S, H>>;
};

/** The state of an LSTM with input `S`: the hidden state `h` and the cell state `c`, both `[N, ...B, H]`. */
export type LstmState<S extends Shape, H extends Dim> = HiddenState<S, H> & {
  readonly c: Tensor<RecurrentStateShape<S, H>>;
};

/**
 * `apply` from a given initial state, returning the final state too. The
 * state is optional (zeros when left out).
 */
type ApplyWithState<P, F extends ShapeFn, H extends number, Cell extends boolean> = <S extends Shape>(
  p: P,
  x: Tensor<S> & Checked<ApplyShape<F, S>, unknown>,
  state?: Cell extends true ? LstmState<S, H> : HiddenState<S, H>,
) => { y: Tensor<ShapeOf<ApplyShape<F, S>>> } & (Cell extends true ? LstmState<S, H> : HiddenState<S, H>);

/** The layer `rnn(I, H)`. */
export type Rnn<I extends number, H extends number, Seq extends boolean = true> = Layer<RnnParams<I, H>, RecurrentFn<"rnn", I, H, Seq>> & {
  /** `apply` from the initial state `{ h }` (zeros when left out), returning `{ y, h }` with the final state. */
  readonly applyWithState: ApplyWithState<RnnParams<I, H>, RecurrentFn<"rnn", I, H, Seq>, H, false>;
};

/** The layer `lstm(I, H)`. */
export type Lstm<I extends number, H extends number, Seq extends boolean = true> = Layer<LstmParams<I, H>, RecurrentFn<"lstm", I, H, Seq>> & {
  /** `apply` from the initial state `{ h, c }` (zeros when left out), returning `{ y, h, c }` with the final state. */
  readonly applyWithState: ApplyWithState<LstmParams<I, H>, RecurrentFn<"lstm", I, H, Seq>, H, true>;
};

/** The layer `gru(I, H)`. */
export type Gru<I extends number, H extends number, Seq extends boolean = true> = Layer<GruParams<I, H>, RecurrentFn<"gru", I, H, Seq>> & {
  /** `apply` from the initial state `{ h }` (zeros when left out), returning `{ y, h }` with the final state. */
  readonly applyWithState: ApplyWithState<GruParams<I, H>, RecurrentFn<"gru", I, H, Seq>, H, false>;
};

// ---------------------------------------------------------------------------
// The factories
// ---------------------------------------------------------------------------

/**
 * A simple (Elman) recurrent layer: `h_t = act(x_t wx + h_{t-1} wh + b)`,
 * `[N, T, inputSize]` to `[N, T, hiddenSize]` (or `[N, hiddenSize]` with
 * `returnSequences: false`).
 *
 * @example
 * const layer = rnn(8, 16);
 * const p = layer.init(key(0)); // { wx: Tensor<[8, 16]>; wh: Tensor<[16, 16]>; b: Tensor<[16]> }
 * layer.apply(p, zeros([4, 10, 8])); // Tensor<[4, 10, 16]>
 */
export function rnn<const I extends number, const H extends number, const Seq extends boolean = true>(
  inputSize: I,
  hiddenSize: H,
  options: RnnOptions<Seq> = {},
): Rnn<I, H, Seq> {
  if (options.activation !== undefined && options.activation !== "tanh" && options.activation !== "relu") {
    shapeError("rnn", `activation must be "tanh" or "relu", not ${String(options.activation)}`);
  }
  const act = options.activation === "relu" ? relu : tanh;
  const spec: CellSpec<RnnParams<I, H>> = {
    name: "rnn",
    hasCell: false,
    params: { wx: [inputSize, hiddenSize], wh: [hiddenSize, hiddenSize], b: [hiddenSize] },
    init: (k) => {
      const [kx = k, kh = k] = split(k, 2);
      return { wx: pick(options.init)(kx, [inputSize, hiddenSize]), wh: pick(options.recurrentInit)(kh, [hiddenSize, hiddenSize]), b: filled(hiddenSize, () => 0) as Tensor<[H]> }; // [H]: a vector of hiddenSize entries
    },
    project: (p) => ({ w: p.wx, b: p.b }),
    // h' = act(x wx + b + h wh)
    step: (p, xw, { h }) => ({ h: act(h === undefined ? xw : add(xw, wide(matmul(h, wide(p.wh))))) }),
  };
  return recurrentLayer(spec, inputSize, hiddenSize, options);
}

/**
 * A long short-term memory layer (Hochreiter & Schmidhuber 1997, PyTorch's
 * formulation and gate order i, f, g, o): `[N, T, inputSize]` to
 * `[N, T, hiddenSize]` (or `[N, hiddenSize]` with `returnSequences: false`).
 * The forget gate's bias starts at 1.
 *
 * @example
 * const layer = lstm(64, 128, { returnSequences: false });
 * const p = layer.init(key(0)); // { wx: Tensor<[64, 512]>; wh: Tensor<[128, 512]>; b: Tensor<[512]> }
 * layer.apply(p, zeros([32, 20, 64])); // Tensor<[32, 128]>
 * layer.applyWithState(p, zeros([32, 20, 64]), { h: zeros([32, 128]), c: zeros([32, 128]) }); // { y, h, c }
 */
export function lstm<const I extends number, const H extends number, const Seq extends boolean = true>(
  inputSize: I,
  hiddenSize: H,
  options: RecurrentOptions<Seq> = {},
): Lstm<I, H, Seq> {
  const spec: CellSpec<LstmParams<I, H>> = {
    name: "lstm",
    hasCell: true,
    params: { wx: [inputSize, 4 * hiddenSize], wh: [hiddenSize, 4 * hiddenSize], b: [4 * hiddenSize] },
    init: (k) => {
      const [kx = k, kh = k] = split(k, 2);
      const g = 4 * hiddenSize;
      // LstmParams's widths are Mul<4, H>, the number g is at run time.
      type Wide4 = Tensor<[Mul<4, H>]>;
      return {
        wx: pick(options.init)(kx, [inputSize, g]) as Tensor<[I, Mul<4, H>]>, // [I, 4H] with 4H = g, see above
        wh: pick(options.recurrentInit)(kh, [hiddenSize, g]) as Tensor<[H, Mul<4, H>]>, // [H, 4H], as above
        b: filled(g, (j) => (j >= hiddenSize && j < 2 * hiddenSize ? 1 : 0)) as Wide4, // the forget gate's block is 1
      };
    },
    project: (p) => ({ w: p.wx, b: p.b }),
    step: (p, xw, { h, c }) => {
      const z = h === undefined ? xw : add(xw, wide(matmul(h, wide(p.wh))));
      const [i, f, g, o] = [gate(z, 0, hiddenSize), gate(z, 1, hiddenSize), gate(z, 2, hiddenSize), gate(z, 3, hiddenSize)];
      const input = mul(sigmoid(i), tanh(g));
      // c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c')
      const cNext = c === undefined ? input : add(mul(sigmoid(f), c), input);
      return { h: mul(sigmoid(o), tanh(cNext)), c: cNext };
    },
  };
  return recurrentLayer(spec, inputSize, hiddenSize, options);
}

/**
 * A gated recurrent unit (Cho et al. 2014) in PyTorch's "reset after" form,
 * gates r, z, n: `[N, T, inputSize]` to `[N, T, hiddenSize]` (or
 * `[N, hiddenSize]` with `returnSequences: false`).
 *
 * @example
 * const layer = gru(8, 16, { returnSequences: false });
 * const p = layer.init(key(0)); // { wx: Tensor<[8, 48]>; wh: Tensor<[16, 48]>; bx: Tensor<[48]>; bh: Tensor<[48]> }
 * layer.apply(p, zeros([4, 10, 8])); // Tensor<[4, 16]>
 */
export function gru<const I extends number, const H extends number, const Seq extends boolean = true>(
  inputSize: I,
  hiddenSize: H,
  options: RecurrentOptions<Seq> = {},
): Gru<I, H, Seq> {
  const spec: CellSpec<GruParams<I, H>> = {
    name: "gru",
    hasCell: false,
    params: { wx: [inputSize, 3 * hiddenSize], wh: [hiddenSize, 3 * hiddenSize], bx: [3 * hiddenSize], bh: [3 * hiddenSize] },
    init: (k) => {
      const [kx = k, kh = k] = split(k, 2);
      const g = 3 * hiddenSize;
      // GruParams's widths are Mul<3, H>, the number g is at run time.
      type Wide3 = Tensor<[Mul<3, H>]>;
      return {
        wx: pick(options.init)(kx, [inputSize, g]) as Tensor<[I, Mul<3, H>]>, // [I, 3H] with 3H = g, see above
        wh: pick(options.recurrentInit)(kh, [hiddenSize, g]) as Tensor<[H, Mul<3, H>]>, // [H, 3H], as above
        bx: filled(g, () => 0) as Wide3, // [3H], as above
        bh: filled(g, () => 0) as Wide3, // [3H], as above
      };
    },
    project: (p) => ({ w: p.wx, b: p.bx }),
    step: (p, xw, { h }) => {
      const [xr, xz, xn] = [gate(xw, 0, hiddenSize), gate(xw, 1, hiddenSize), gate(xw, 2, hiddenSize)];
      if (h === undefined) {
        // from h = 0: h U = 0, so the recurrent terms are the bias b_h alone
        const [br, bz, bn] = [gate(p.bh, 0, hiddenSize), gate(p.bh, 1, hiddenSize), gate(p.bh, 2, hiddenSize)];
        const [r, z] = [sigmoid(add(xr, br)), sigmoid(add(xz, bz))];
        const n = tanh(add(xn, mul(r, bn)));
        return { h: sub(n, mul(z, n)) }; // (1 - z) n + z · 0
      }
      const recurrent = wide(add(wide(matmul(h, wide(p.wh))), wide(p.bh)));
      const [hr, hz, hn] = [gate(recurrent, 0, hiddenSize), gate(recurrent, 1, hiddenSize), gate(recurrent, 2, hiddenSize)];
      const [r, z] = [sigmoid(add(xr, hr)), sigmoid(add(xz, hz))];
      // n = tanh(x W_n + b_xn + r (h U_n + b_hn));  h' = (1 - z) n + z h = n + z (h - n)
      const n = tanh(add(xn, mul(r, hn)));
      return { h: add(n, mul(z, sub(h, n))) };
    },
  };
  return recurrentLayer(spec, inputSize, hiddenSize, options);
}

// ---------------------------------------------------------------------------
// The shared loop
// ---------------------------------------------------------------------------

/** A tensor of any shape, as the loop handles them (shapes are checked at run time). */
type Wide = Tensor<Dim[]>;

/** The state between steps; `undefined` is a zero state not yet materialised. */
interface LoopState {
  readonly h: Wide | undefined;
  readonly c?: Wide | undefined;
}

/** What distinguishes one recurrent layer from another. */
interface CellSpec<P> {
  readonly name: "rnn" | "lstm" | "gru";
  /** Whether the state has a cell `c` besides `h` (LSTM). */
  readonly hasCell: boolean;
  readonly init: (k: Key) => P;
  /** The shape of each parameter, for `checkParams`. */
  readonly params: Readonly<Record<string, readonly number[]>>;
  /** The input projection's kernel `[I, G·H]` and bias `[G·H]`. */
  readonly project: (p: P) => { readonly w: Tensor<Shape>; readonly b: Tensor<Shape> };
  /** One step: the projected input `[M, G·H]` (bias included) and the state `[M, H]` to the next state. */
  readonly step: (p: P, xw: Wide, state: LoopState) => LoopState;
}

/** The initialiser named by an option, glorot-uniform by default. */
function pick(option: InitializerName | Initializer | undefined): Initializer {
  return typeof option === "function" ? option : initializers[option ?? "glorotUniform"];
}

/** A float32 vector of `length` entries, entry `j` being `value(j)`. */
function filled(length: number, value: (j: number) => number): Tensor<[number]> {
  return new Tensor([length], "float32", Float32Array.from({ length }, (_, j) => value(j)));
}

/** Gate block `k` of width `h` along the last axis of `z`: `z[..., k h : (k + 1) h]`, of the same rank. */
function gate(z: Tensor<Shape>, k: number, h: number): Wide {
  const lead = z.shape.slice(0, -1).map(() => null);
  return wide(slice(wide(z), [...lead, { start: k * h, stop: (k + 1) * h }]));
}

/** A tensor seen with a shape of unknown rank, as the loop handles them (its shapes are checked at run time). */
function wide(x: Tensor<Shape>): Wide {
  return x as Wide; // Dim[] only forgets what the type knew of the shape
}

/** A tensor back from `scanFlat`, which returns the dtypes and shapes it was given: the layer's float32 ones. */
function fromLoop(x: Tensor<Shape, DType>): Wide {
  return x as Wide; // scan keeps each carry's dtype (float32 here) and stacks outputs of the body's dtype
}

/** Throws a `ShapeError` naming the layer unless `state` is `[...lead, hidden]`. */
function checkState(name: string, what: string, state: Tensor<Shape> | undefined, lead: readonly number[], hidden: number): void {
  if (state === undefined) return;
  const want = [...lead, hidden];
  if (state.shape.length !== want.length || state.shape.some((d, i) => d !== want[i])) {
    shapeError(name, `the initial ${what} must be ${formatShape(want)} but is ${formatShape(state.shape)}`);
  }
}

/** Sequences up to this many steps unroll by default (see `RecurrentOptions.unroll`). */
const DEFAULT_UNROLL = 64;

/** The final state and, when asked, every step's `h` stacked time-major `[T, M, H]`. */
interface LoopResult {
  readonly state: LoopState;
  readonly outputs: Wide | undefined;
}

/**
 * The steps as a JavaScript loop: under `jit` it unrolls into the program, and
 * the backward pass joins the steps' slices of `projected` with one concatenate.
 */
function unrolledLoop<P>(spec: CellSpec<P>, p: P, projected: Wide, initial: LoopState, steps: number, returnSequences: boolean): LoopResult {
  let state = initial;
  const outputs: Wide[] = [];
  for (let t = 0; t < steps; t++) {
    state = spec.step(p, wide(slice(projected, [t])), state);
    if (returnSequences && state.h !== undefined) outputs.push(state.h);
  }
  return { state, outputs: returnSequences ? wide(stack(outputs, 0)) : undefined };
}

/**
 * The first step on its own, from a zero state not materialised (its
 * recurrent terms vanish, as in the unrolled loop, so the numbers are the
 * same), then one `scan` over the others: its body is traced once, so under
 * `jit` the program does not grow with the sequence, and its gradient is one
 * reverse scan over the residuals stored at each step.
 */
function scannedLoop<P>(spec: CellSpec<P>, p: P, projected: Wide, initial: LoopState, steps: number, returnSequences: boolean, rows: number, hidden: number, checkpoint: boolean): LoopResult {
  const first = spec.step(p, wide(slice(projected, [0])), initial);
  const start = spec.hasCell ? [first.h, first.c] : [first.h];
  const init = start.filter((x): x is Wide => x !== undefined);
  if (init.length !== start.length || init[0] === undefined) shapeError(spec.name, "the first step gave no state");
  const rest = wide(slice(projected, [{ start: 1, stop: steps }]));
  const loop = scanFlat(
    ([h, c], [xw]) => {
      const next = spec.step(p, fromLoop(xw ?? rest), { h: h === undefined ? undefined : fromLoop(h), c: c === undefined ? undefined : fromLoop(c) });
      const carry = (spec.hasCell ? [next.h, next.c] : [next.h]).filter((x): x is Wide => x !== undefined);
      return [carry, returnSequences && next.h !== undefined ? [next.h] : []];
    },
    init,
    [rest],
    steps - 1,
    false,
    checkpoint,
  );
  const [h, c] = loop.carry.map(fromLoop);
  const ys = loop.ys[0];
  const outputs = returnSequences && ys !== undefined ? wide(concat([wide(reshape(init[0], [1, rows, hidden])), fromLoop(ys)], 0)) : undefined;
  return { state: { h, c }, outputs };
}

/** The layer of `spec`, with `apply` and `applyWithState` sharing one loop. */
function recurrentLayer<P, I extends number, H extends number, Seq extends boolean, L>(spec: CellSpec<P>, inputSize: I, hiddenSize: H, options: RecurrentOptions<Seq>): L {
  for (const [what, n] of [["inputSize", inputSize], ["hiddenSize", hiddenSize]] as const) {
    const bad = badDim(n);
    if (bad !== undefined) shapeError(spec.name, `${what}: ${bad}`);
  }
  const returnSequences = options.returnSequences !== false;
  const unroll = options.unroll ?? DEFAULT_UNROLL;
  if (!(unroll >= 0)) shapeError(spec.name, `unroll must be a number of steps (0 or more, or Infinity), got ${unroll}`);

  /** The output and the final state for `x` of shape `[...lead, T, I]` from `initial`. */
  const run = (p: P, x: Tensor<Shape>, initial: { readonly h?: Tensor<Shape>; readonly c?: Tensor<Shape> }): { y: Wide; h: Wide; c?: Wide } => {
    checkParams(spec.name, p, spec.params);
    const rank = x.shape.length;
    if (rank < 3 || x.shape[rank - 1] !== inputSize) {
      shapeError(spec.name, `expects [N, T, ${inputSize}] but gets ${formatShape(x.shape)}`);
    }
    const lead = x.shape.slice(0, -2);
    const [rows, steps] = [shapeSize(lead), x.shape[rank - 2] ?? 0];
    if (steps === 0) shapeError(spec.name, `needs at least one step but gets ${formatShape(x.shape)}`);
    checkState(spec.name, "h", initial.h, lead, hiddenSize);
    checkState(spec.name, "c", initial.c, lead, hiddenSize);
    // time-major, so that step t's input is one contiguous block [M, I]
    const timeMajor = wide(transpose(wide(reshape(wide(x), [rows, steps, inputSize])), [1, 0, 2]));
    const { w, b } = spec.project(p);
    const flat = (s: Tensor<Shape> | undefined): Wide | undefined => (s === undefined ? undefined : wide(reshape(wide(s), [rows, hiddenSize])));
    // the input projection of every step at once: one [T·M, I] @ [I, G·H]
    const projected = wide(reshape(wide(add(wide(matmul(wide(reshape(timeMajor, [steps * rows, inputSize])), wide(w))), wide(b))), [steps, rows, -1]));
    const initialState: LoopState = { h: flat(initial.h), c: flat(initial.c) };
    const loop = steps <= unroll ? unrolledLoop(spec, p, projected, initialState, steps, returnSequences) : scannedLoop(spec, p, projected, initialState, steps, returnSequences, rows, hiddenSize, options.checkpoint !== false);
    const { state } = loop;
    const last = state.h ?? shapeError(spec.name, "no step ran");
    // [T, M, H] back to batch-first [...lead, T, H]
    const y = returnSequences && loop.outputs !== undefined
      ? wide(reshape(wide(transpose(loop.outputs, [1, 0, 2])), [...lead, steps, hiddenSize]))
      : wide(reshape(last, [...lead, hiddenSize]));
    const h = wide(reshape(last, [...lead, hiddenSize]));
    const c = state.c === undefined ? undefined : wide(reshape(state.c, [...lead, hiddenSize]));
    return spec.hasCell ? { y, h, ...(c === undefined ? {} : { c }) } : { y, h };
  };

  const layer = makeLayer<P, ShapeFn>(spec.init, (p, x) => run(p, x, {}).y, { name: spec.name });
  const applyWithState = (p: P, x: Tensor<Shape>, state: { readonly h?: Tensor<Shape>; readonly c?: Tensor<Shape> } = {}) => run(p, x, state);
  // L is Rnn/Lstm/Gru of these P, I, H and Seq: apply computes RecurrentShape and applyWithState returns the state of RecurrentStateShape.
  return { ...layer, applyWithState } as unknown as L;
}
