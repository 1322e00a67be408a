import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Tensor } from "../../src/core/tensor.js";
import { gelu } from "../../src/ops/activations.js";
import { adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveMaxPool1d, adaptiveMaxPool2d } from "../../src/ops/adaptive-pool.js";
import { avgPool2d } from "../../src/ops/conv.js";
import { erf, erfc } from "../../src/ops/elementwise.js";
import { vjp } from "../../src/transforms/linearize.js";

/** A row-major array and its shape, as make.py writes them. */
interface Flat {
  shape: number[];
  data: number[];
}

/** One result with the cotangent it was pulled back along and the input's gradient. */
interface Pulled {
  y: Flat;
  ct: number[];
  dx: number[];
}

interface Fixture {
  elementwise: {
    x: number[];
    erf: number[];
    erfc: number[];
    geluX: number[];
  } & Record<`gelu_${"none" | "tanh"}_${"f32" | "f64"}`, { y: number[]; ct: number[]; dx: number[] }>;
  pooling: {
    x: Flat;
    avgPool2d: (Pulled & { window: [number, number]; stride: [number, number]; padding: [number, number]; countIncludePad: boolean })[];
    adaptive2d: (Pulled & { kind: "avg" | "max"; outputSize: [number, number] })[];
    seq: Flat;
    adaptive1d: (Pulled & { kind: "avg" | "max"; outputSize: number })[];
  };
}

// the JSON written by test/fixtures/torch-parity/make.py, of the Fixture layout
const fixture = JSON.parse(readFileSync(new URL("../fixtures/torch-parity/ops.json", import.meta.url), "utf8")) as Fixture;

type Image = Tensor<[number, number, number, number], "float64">;
type Sequence = Tensor<[number, number, number], "float64">;
const image = (f: Flat): Image => new Tensor(f.shape, "float64", Float64Array.from(f.data)) as Image; // the fixture's images are rank 4
const sequence = (f: Flat): Sequence => new Tensor(f.shape, "float64", Float64Array.from(f.data)) as Sequence; // and its sequences rank 3
const vector = (values: readonly number[], dtype: "float32" | "float64" = "float64"): Tensor<[number], "float32" | "float64"> =>
  new Tensor([values.length], dtype, dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values));

/** The largest error of `got` against `want`, relative to `max(|want|, floor)`. */
function relativeError(got: ArrayLike<number>, want: readonly number[], floor = 0): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  want.forEach((w, i) => {
    const g = got[i] ?? NaN;
    const error = g === w ? 0 : Math.abs(g - w) / Math.max(Math.abs(w), floor);
    worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
  });
  return worst;
}

/** `f(x)` and the gradient of `sum(f(x) * ct)` at `x`. */
function pullback<X extends Tensor<number[], "float32" | "float64">>(f: (x: X) => Tensor<number[], "float32" | "float64">, x: X, ct: readonly number[]): { y: Float64Array; dx: Float64Array } {
  const [y, back] = vjp(f, x);
  const cotangent = new Tensor(y.shape, y.dtype, y.dtype === "float32" ? Float32Array.from(ct) : Float64Array.from(ct));
  const [dx] = back(cotangent as typeof y);
  return { y: Float64Array.from(y.toArray()), dx: Float64Array.from(dx.toArray()) };
}

describe("elementwise ops against PyTorch", () => {
  const { x, erf: erfWant, erfc: erfcWant, geluX } = fixture.elementwise;

  test("erf and erfc equal torch.erf and torch.erfc in float64 on edge values, relative to each value, tails included", () => {
    const xs = vector(x);
    expect(relativeError(erf(xs).toArray(), erfWant)).toBeLessThan(1e-14);
    expect(relativeError(erfc(xs).toArray(), erfcWant)).toBeLessThan(1e-13);
    expect(Object.is(erf(vector([-0])).toArray()[0], -0)).toBe(true);
  });

  test("the doc examples of erf and erfc hold", () => {
    const [e0, e1] = erf(vector([0, 1])).toArray();
    expect(e0).toBe(0);
    expect(e1).toBeCloseTo(0.8427, 4);
    const [c0, c10] = erfc(vector([0, 10])).toArray();
    expect(c0).toBe(1);
    expect((c10 ?? 0) / 2.0885e-45).toBeCloseTo(1, 4);
  });

  for (const approximate of ["none", "tanh"] as const) {
    test(`gelu(x, { approximate: "${approximate}" }) and its gradient equal F.gelu in float64 and float32`, () => {
      for (const [dtype, tolerance] of [["float64", 1e-13], ["float32", 1e-5]] as const) {
        const want = fixture.elementwise[`gelu_${approximate}_${dtype === "float64" ? "f64" : "f32"}`];
        const { y, dx } = pullback((v) => gelu(v, { approximate }), vector(geluX, dtype), want.ct);
        expect(relativeError(y, want.y, 1), dtype).toBeLessThan(tolerance);
        expect(relativeError(dx, want.dx, 1), dtype).toBeLessThan(tolerance);
      }
    });
  }
});

describe("pooling against PyTorch (NCHW transposed to NHWC)", () => {
  const { pooling } = fixture;
  const x = image(pooling.x);

  test.each(pooling.avgPool2d.map((c) => [`${c.window.join("x")} stride ${c.stride.join("x")} padding ${c.padding.join("x")} countIncludePad ${c.countIncludePad}`, c] as const))(
    "avgPool2d %s and its gradient equal F.avg_pool2d",
    (_, c) => {
      const padding = [[c.padding[0], c.padding[0]], [c.padding[1], c.padding[1]]] as const;
      const { y, dx } = pullback((v: Image) => avgPool2d(v, c.window, { stride: c.stride, padding, countIncludePad: c.countIncludePad }), x, c.ct);
      expect(avgPool2d(x, c.window, { stride: c.stride, padding, countIncludePad: c.countIncludePad }).shape).toEqual(c.y.shape);
      expect(relativeError(y, c.y.data, 1)).toBeLessThan(1e-12);
      expect(relativeError(dx, c.dx, 1)).toBeLessThan(1e-12);
    },
  );

  test.each(pooling.adaptive2d.map((c) => [`${c.kind} to ${c.outputSize.join("x")}`, c] as const))("adaptive %s pooling of 7x6 and its gradient equal PyTorch's", (_, c) => {
    const pool = (v: Image): Image => (c.kind === "avg" ? adaptiveAvgPool2d(v, c.outputSize) : adaptiveMaxPool2d(v, c.outputSize));
    const { y, dx } = pullback(pool, x, c.ct);
    expect(pool(x).shape).toEqual(c.y.shape);
    expect(relativeError(y, c.y.data, 1)).toBeLessThan(1e-12);
    expect(relativeError(dx, c.dx, 1)).toBeLessThan(1e-12);
  });

  test.each(pooling.adaptive1d.map((c) => [`${c.kind} to ${c.outputSize}`, c] as const))("adaptive %s 1-D pooling of 10 and its gradient equal PyTorch's", (_, c) => {
    const seq = sequence(pooling.seq);
    const pool = (v: Sequence): Sequence => (c.kind === "avg" ? adaptiveAvgPool1d(v, c.outputSize) : adaptiveMaxPool1d(v, c.outputSize));
    const { y, dx } = pullback(pool, seq, c.ct);
    expect(pool(seq).shape).toEqual(c.y.shape);
    expect(relativeError(y, c.y.data, 1)).toBeLessThan(1e-12);
    expect(relativeError(dx, c.dx, 1)).toBeLessThan(1e-12);
  });

  test("the doc examples give the shapes they state", () => {
    const zeros = (shape: number[]): Image => new Tensor(shape, "float64", new Float64Array(shape.reduce((a, b) => a * b, 1))) as Image; // rank 4 below
    expect(adaptiveAvgPool2d(zeros([8, 13, 13, 5]), 7).shape).toEqual([8, 7, 7, 5]);
    expect(adaptiveMaxPool2d(zeros([8, 10, 10, 4]), [3, 4]).shape).toEqual([8, 3, 4, 4]);
    expect(avgPool2d(zeros([8, 7, 7, 4]), 3, { stride: 2, padding: 1, countIncludePad: true }).shape).toEqual([8, 4, 4, 4]);
  });
});
