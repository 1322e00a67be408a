import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { DType } from "../../src/core/dtype.js";
import type { Shape } from "../../src/core/shape.js";
import { Tensor } from "../../src/core/tensor.js";
import { mean } from "../../src/ops/reduce.js";
import { dense } from "../../src/layers/dense.js";
import { gru, lstm, rnn } from "../../src/layers/recurrent.js";
import { sequential } from "../../src/layers/sequential.js";
import { normal } from "../../src/random/distributions.js";
import { key } from "../../src/random/key.js";
import { jit } from "../../src/transforms/jit.js";
import { grad } from "../../src/transforms/grad.js";
import { maxDiff } from "./helpers.js";

/** A float64 tensor of `shape` holding `data`. */
function f64(shape: readonly number[], data: readonly number[]): Tensor<Shape, "float64"> {
  return new Tensor(shape, "float64", Float64Array.from(data));
}

/** The float64 copy of a tree's tensor. */
function toF64(x: Tensor<Shape, DType>): Tensor<Shape, "float64"> {
  return f64(x.shape, Array.from(x.data));
}

/** What `applyWithState` returns, seen without the types. */
interface Run {
  readonly y: Tensor<Shape>;
  readonly h: Tensor<Shape>;
  readonly c?: Tensor<Shape>;
}

/** A recurrent layer seen without its types: the tests below feed it float64 parameters and inputs, which the layers compute with. */
interface Untyped {
  init(k: ReturnType<typeof key>): Record<string, Tensor<Shape>>;
  applyWithState(p: unknown, x: Tensor<Shape, DType>, state?: unknown): Run;
}

// every recurrent layer has these methods; the typed ones only narrow the shapes and the float32 dtype of their arguments
const untyped = (layer: unknown): Untyped => layer as Untyped;

/** `layer` on `p` and `x` from `state` (zeros when left out). */
function runWithState(layer: unknown, p: unknown, x: Tensor<Shape, DType>, state?: { h: Tensor<Shape, DType>; c?: Tensor<Shape, DType> }): Run {
  return untyped(layer).applyWithState(p, x, state);
}

/** A sigmoid written out, for the hand-computed references below. */
const sigma = (v: number): number => 1 / (1 + Math.exp(-v));

describe("shapes", () => {
  const x = normal(key(1), [2, 5, 3]);
  test.each([
    ["rnn", rnn(3, 4).apply(rnn(3, 4).init(key(0)), x).shape, [2, 5, 4]],
    ["lstm", lstm(3, 4).apply(lstm(3, 4).init(key(0)), x).shape, [2, 5, 4]],
    ["gru", gru(3, 4).apply(gru(3, 4).init(key(0)), x).shape, [2, 5, 4]],
  ])("%s returns every step by default: [N, T, H]", (_name, got, want) => {
    expect(got).toEqual(want);
  });

  test("returnSequences: false gives the last step, [N, H], equal to the sequence's last entry", () => {
    for (const [all, last] of [[rnn(3, 4), rnn(3, 4, { returnSequences: false })], [lstm(3, 4), lstm(3, 4, { returnSequences: false })], [gru(3, 4), gru(3, 4, { returnSequences: false })]] as const) {
      const p = untyped(all).init(key(2));
      const y = runWithState(all, p, x).y;
      const yLast = runWithState(last, p, x).y;
      expect(yLast.shape).toEqual([2, 4]);
      const tail = Array.from({ length: 2 }, (_, n) => Array.from(y.data.slice((n * 5 + 4) * 4, (n * 5 + 5) * 4))).flat();
      expect(maxDiff(yLast.data, tail)).toBe(0);
    }
  });

  test("a batch prefix of rank 2 maps [A, B, T, I] to [A, B, T, H] like the flattened batch", () => {
    const layer = lstm(3, 4);
    const p = layer.init(key(3));
    const x4 = normal(key(4), [2, 3, 5, 3]);
    const y4 = layer.apply(p, x4);
    expect(y4.shape).toEqual([2, 3, 5, 4]);
    const y3 = layer.apply(p, new Tensor([6, 5, 3], "float32", x4.data));
    expect(maxDiff(y4.data, y3.data)).toBe(0);
  });

  test("T = 1 is one step from the zero state: the LSTM's h = σ(o) tanh(σ(i) tanh(g))", () => {
    const layer = lstm(2, 1, { returnSequences: false });
    const p = { wx: f64([2, 4], [1, 0, 0.5, -1, 0, 2, 1, 0.25]), wh: f64([1, 4], [3, 3, 3, 3]), b: f64([4], [0.1, 1, -0.2, 0.3]) };
    const x1 = f64([1, 1, 2], [0.5, -1]);
    const z = [0.5 * 1 + -1 * 0 + 0.1, 0.5 * 0 + -1 * 2 + 1, 0.5 * 0.5 + -1 * 1 - 0.2, 0.5 * -1 + -1 * 0.25 + 0.3];
    const [i = 0, , g = 0, o = 0] = z;
    const want = sigma(o) * Math.tanh(sigma(i) * Math.tanh(g));
    expect(Math.abs((runWithState(layer, p, x1).y.data[0] ?? NaN) - want)).toBeLessThan(1e-12);
  });

  test("init gives PyTorch-ordered fused kernels, glorot-bounded, and the LSTM's forget bias at 1", () => {
    const p = lstm(64, 128).init(key(0));
    expect([p.wx.shape, p.wh.shape, p.b.shape]).toEqual([[64, 512], [128, 512], [512]]);
    expect(Array.from(p.b.data)).toEqual(Array.from({ length: 512 }, (_, j) => (j >= 128 && j < 256 ? 1 : 0)));
    const limit = Math.sqrt(6 / (64 + 512));
    expect(Array.from(p.wx.data).every((v) => Math.abs(v) <= limit)).toBe(true);
    const q = gru(8, 16).init(key(0));
    expect([q.wx.shape, q.wh.shape, q.bx.shape, q.bh.shape]).toEqual([[8, 48], [16, 48], [48], [48]]);
    const r = rnn(8, 16).init(key(0));
    expect([r.wx.shape, r.wh.shape, r.b.shape]).toEqual([[8, 16], [16, 16], [16]]);
    expect(lstm(4, 8).init(key(5)).wx.data).toEqual(lstm(4, 8).init(key(5)).wx.data);
    expect(lstm(4, 8).init(key(5)).wh.data).not.toEqual(lstm(4, 8).init(key(6)).wh.data);
  });
});

describe("the rnn's activation", () => {
  test("relu keeps positive pre-activations and zeroes negative ones; tanh squashes them", () => {
    const p = { wx: f64([1, 2], [1, -1]), wh: f64([2, 2], [0, 0, 0, 0]), b: f64([2], [0, 0]) };
    const x = f64([1, 1, 1], [2]);
    expect(Array.from(runWithState(rnn(1, 2, { activation: "relu" }), p, x).y.data)).toEqual([2, 0]);
    expect(maxDiff(runWithState(rnn(1, 2), p, x).y.data, [Math.tanh(2), Math.tanh(-2)])).toBeLessThan(1e-15);
  });
});

describe("initial state", () => {
  test("applyWithState from zeros equals apply, and returns the last h (and c) as the final state", () => {
    const layer = lstm(3, 4);
    const p = layer.init(key(7));
    const x = normal(key(8), [2, 5, 3]);
    const out = layer.applyWithState(p, x, { h: zeros([2, 4]), c: zeros([2, 4]) });
    expect(maxDiff(out.y.data, layer.apply(p, x).data)).toBeLessThan(1e-7);
    expect(out.h.shape).toEqual([2, 4]);
    expect(out.c.shape).toEqual([2, 4]);
    expect(maxDiff(out.h.data, lstm(3, 4, { returnSequences: false }).apply(p, x).data)).toBeLessThan(1e-7);
  });

  test("running two halves with the state carried over equals running the whole sequence", () => {
    for (const layer of [lstm(3, 4), gru(3, 4), rnn(3, 4)] as const) {
      const p = toTree(untyped(layer).init(key(9)));
      const x = toF64(normal(key(10), [2, 6, 3]));
      const [first, second] = [0, 3].map((t0) => f64([2, 3, 3], [0, 1].flatMap((n) => Array.from(x.data.slice((n * 6 + t0) * 3, (n * 6 + t0 + 3) * 3)))));
      if (first === undefined || second === undefined) throw new Error("two halves");
      const whole = runWithState(layer, p, x);
      const a = runWithState(layer, p, first);
      const b = runWithState(layer, p, second, a.c === undefined ? { h: a.h } : { h: a.h, c: a.c });
      expect(maxDiff(b.h.data, whole.h.data)).toBeLessThan(1e-12);
      if (whole.c !== undefined && b.c !== undefined) expect(maxDiff(b.c.data, whole.c.data)).toBeLessThan(1e-12);
    }
  });

  test("a non-zero initial state changes the output", () => {
    const layer = gru(3, 4);
    const p = layer.init(key(11));
    const x = normal(key(12), [2, 5, 3]);
    const out = layer.applyWithState(p, x, { h: normal(key(13), [2, 4]) });
    expect(maxDiff(out.y.data, layer.apply(p, x).data)).toBeGreaterThan(1e-3);
  });

  test("an initial state of the wrong shape is a ShapeError naming the layer and both shapes", () => {
    const layer = lstm(3, 4);
    const p = layer.init(key(0));
    const x = zeros([2, 5, 3]);
    const wrong = zeros([2, 5]) as Tensor<Shape> as Tensor<[2, 4]>; // the wrong shape, hidden from the compiler on purpose
    expect(() => layer.applyWithState(p, x, { h: wrong, c: zeros([2, 4]) })).toThrow(
      "lstm: the initial h must be [2, 4] but is [2, 5]",
    );
  });
});


function toTree(p: Record<string, Tensor<Shape>>): Record<string, Tensor<Shape, "float64">> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, toF64(v)]));
}


describe("bad input", () => {
  const p = lstm(8, 4).init(key(0));
  test.each([
    [[2, 5, 3], "lstm: expects [N, T, 8] but gets [2, 5, 3]"],
    [[5, 8], "lstm: expects [N, T, 8] but gets [5, 8]"],
    [[2, 0, 8], "lstm: needs at least one step but gets [2, 0, 8]"],
  ])("an input of shape %j is a ShapeError naming the layer and the shape", (shape, message) => {
    const x = zeros(shape) as Tensor<Shape> as Tensor<[2, 5, 8]>; // the wrong shape, hidden from the compiler on purpose
    expect(() => lstm(8, 4).apply(p, x)).toThrow(ShapeError);
    expect(() => lstm(8, 4).apply(p, x)).toThrow(message);
  });

  test("sizes that are not dims and an unknown activation are refused at construction", () => {
    expect(() => gru(-1, 3)).toThrow("gru: inputSize: -1 is negative");
    expect(() => rnn(2, 1.5)).toThrow(ShapeError);
    expect(() => rnn(2, 3, { activation: "sigmoid" as "tanh" })).toThrow('rnn: activation must be "tanh" or "relu", not sigmoid'); // a bad value from untyped code
  });
});

describe("under jit and grad", () => {
  test("the jitted gradient of the mean last state equals the eager one", () => {
    const layer = lstm(3, 4, { returnSequences: false });
    const p = layer.init(key(14));
    const x = normal(key(15), [2, 4, 3]);
    const loss = (q: typeof p, xs: typeof x) => mean(layer.apply(q, xs));
    const eager = grad(loss)(p, x);
    const jitted = jit(grad(loss))(p, x);
    for (const name of ["wx", "wh", "b"] as const) expect(maxDiff(jitted[name].data, eager[name].data)).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(eager.wh.data, Math.abs))).toBeGreaterThan(1e-4);
  });
});

// ---------------------------------------------------------------------------
// Agreement with PyTorch (fixture from test/fixtures/recurrent.py, torch 1.13, float64)
// ---------------------------------------------------------------------------

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}

interface FixtureCase {
  readonly kind: "lstm" | "gru";
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly x: Stored;
  readonly wx: Stored;
  readonly wh: Stored;
  readonly b?: Stored;
  readonly bx?: Stored;
  readonly bh?: Stored;
  readonly h0?: Stored;
  readonly c0?: Stored;
  readonly y: Stored;
  readonly hN: Stored;
  readonly cN?: Stored;
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/recurrent.json", import.meta.url), "utf8")) as { cases: FixtureCase[] }; // the generator's format, above

describe("agreement with PyTorch", () => {
  const load = (s: Stored | undefined): Tensor<Shape, "float64"> => {
    if (s === undefined) throw new Error("fixture: a field is missing");
    return f64(s.shape, s.data);
  };
  test.each(fixture.cases.map((c) => [`${c.kind}${c.h0 === undefined ? "" : " from a given state"}`, c] as const))("%s", (_name, c) => {
    const [I, H] = [c.inputSize, c.hiddenSize];
    const state = c.h0 === undefined ? undefined : { h: load(c.h0), ...(c.c0 === undefined ? {} : { c: load(c.c0) }) };
    const out =
      c.kind === "lstm"
        ? runWithState(lstm(I, H), { wx: load(c.wx), wh: load(c.wh), b: load(c.b) }, load(c.x), state)
        : runWithState(gru(I, H), { wx: load(c.wx), wh: load(c.wh), bx: load(c.bx), bh: load(c.bh) }, load(c.x), state);
    expect(out.y.shape).toEqual(c.y.shape);
    expect(maxDiff(out.y.data, c.y.data)).toBeLessThan(1e-12);
    expect(maxDiff(out.h.data, c.hN.data)).toBeLessThan(1e-12);
    if (c.cN !== undefined) expect(maxDiff(out.c?.data ?? [], c.cN.data)).toBeLessThan(1e-12);
  });
});

describe("the doc examples", () => {
  test("rnn, lstm (with applyWithState) and gru give the shapes their examples state", () => {
    const r = rnn(8, 16);
    expect(r.apply(r.init(key(0)), zeros([4, 10, 8])).shape).toEqual([4, 10, 16]);
    const l = lstm(64, 128, { returnSequences: false });
    const p = l.init(key(0));
    expect(l.apply(p, zeros([32, 20, 64])).shape).toEqual([32, 128]);
    const out = l.applyWithState(p, zeros([32, 20, 64]), { h: zeros([32, 128]), c: zeros([32, 128]) });
    expect([out.y.shape, out.h.shape, out.c.shape]).toEqual([[32, 128], [32, 128], [32, 128]]);
    const g = gru(8, 16, { returnSequences: false });
    expect(g.apply(g.init(key(0)), zeros([4, 10, 8])).shape).toEqual([4, 16]);
  });

  test("a sequential stack of an lstm and a dense layer maps [N, 32, 64] to [N, 10]", () => {
    const model = sequential(lstm(64, 128, { returnSequences: false }), dense(128, 10));
    expect(model.apply(model.init(key(0)), normal(key(1), [3, 32, 64])).shape).toEqual([3, 10]);
  });
});
