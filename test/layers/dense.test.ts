import { describe, expect, test } from "vitest";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { dense } from "../../src/layers/dense.js";
import { key, split } from "../../src/random/key.js";
import { normal } from "../../src/random/distributions.js";
import { maxDiff } from "./helpers.js";

/** y[r, j] = sum_i x[r, i] w[i, j] + b[j], over the rows r of the flattened batch: written with loops, independent of the ops. */
function naiveDense(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, inFeatures: number, outFeatures: number): number[] {
  const rows = x.length / inFeatures;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < outFeatures; j++) {
      let s = b === undefined ? 0 : (b[j] ?? 0);
      for (let i = 0; i < inFeatures; i++) s += (x[r * inFeatures + i] ?? 0) * (w[i * outFeatures + j] ?? 0);
      y.push(s);
    }
  }
  return y;
}

describe("dense", () => {
  const cases: { batch: number[]; inFeatures: number; outFeatures: number }[] = [
    { batch: [1], inFeatures: 7, outFeatures: 3 },
    { batch: [5], inFeatures: 13, outFeatures: 9 },
    { batch: [2, 3], inFeatures: 4, outFeatures: 6 },
    { batch: [], inFeatures: 11, outFeatures: 1 },
    { batch: [3, 1, 2], inFeatures: 17, outFeatures: 5 },
  ];
  test.each(cases)("equals a loop over rows for batch $batch, $inFeatures -> $outFeatures", ({ batch, inFeatures, outFeatures }) => {
    const [kp = key(0), kx = key(1)] = split(key(batch.length * 100 + inFeatures), 2);
    const layer = dense(inFeatures, outFeatures, { init: "lecunNormal" });
    const p = layer.init(kp);
    const b = normal(kp, [outFeatures]); // a non-zero bias, so that the test sees it added
    const x: Tensor<Shape> = normal(kx, [...batch, inFeatures]);
    const y = layer.apply({ w: p.w, b }, x);
    expect(y.shape).toEqual([...batch, outFeatures]);
    expect(maxDiff(y.toArray(), naiveDense(x.toArray(), p.w.toArray(), b.toArray(), inFeatures, outFeatures))).toBeLessThan(1e-5);
  });

  test("without a bias it has only a kernel and computes x @ w", () => {
    const layer = dense(6, 4, { useBias: false });
    const p = layer.init(key(3));
    expect(Object.keys(p)).toEqual(["w"]);
    const x = normal(key(4), [2, 6]);
    expect(maxDiff(layer.apply(p, x).toArray(), naiveDense(x.toArray(), p.w.toArray(), undefined, 6, 4))).toBeLessThan(1e-5);
  });

  test("init gives a kernel of shape [in, out] and a zero bias", () => {
    const p = dense(784, 512).init(key(0));
    expect(p.w.shape).toEqual([784, 512]);
    expect(p.b.shape).toEqual([512]);
    expect(p.b.toArray().every((v) => v === 0)).toBe(true);
  });

  test("init is deterministic in the key and differs between keys", () => {
    const layer = dense(32, 16);
    expect(layer.init(key(7)).w.toArray()).toEqual(layer.init(key(7)).w.toArray());
    expect(layer.init(key(7)).w.toArray()).not.toEqual(layer.init(key(8)).w.toArray());
  });

  test("an input whose last dim is not inFeatures throws a ShapeError naming both", () => {
    const layer = dense(8, 2);
    const x: Tensor<Shape> = normal(key(0), [3, 5]);
    expect(() => layer.apply(layer.init(key(0)), x)).toThrow(ShapeError);
    expect(() => layer.apply(layer.init(key(0)), x)).toThrow("dense: expects [..., 8] but gets [3, 5]");
  });

  test("a size that is not a dim is refused at construction", () => {
    expect(() => dense(-1, 3)).toThrow(ShapeError);
    expect(() => dense(2.5, 3)).toThrow(ShapeError);
  });
});
