import { describe, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { Tensor } from "../../src/core/tensor.js";
import { flattenTree, unflattenTree } from "../../src/core/tree.js";
import { conv1d, conv2d, convTranspose2d } from "../../src/layers/conv.js";
import { avgPool2d, globalAvgPool, maxPool2d } from "../../src/layers/pool.js";
import { dense } from "../../src/layers/dense.js";
import { relu } from "../../src/layers/activations.js";
import { flatten } from "../../src/layers/reshape.js";
import { sequential } from "../../src/layers/sequential.js";
import { conv2d as conv2dOp } from "../../src/ops/conv.js";
import { mul, sub } from "../../src/ops/elementwise.js";
import { softmaxCrossEntropy } from "../../src/ops/losses.js";
import { mean, sum } from "../../src/ops/reduce.js";
import { transpose } from "../../src/ops/shape.js";
import { normal } from "../../src/random/distributions.js";
import { key } from "../../src/random/key.js";
import { grad, valueAndGrad } from "../../src/transforms/grad.js";
import { jit } from "../../src/transforms/jit.js";
import { make, maxDiff } from "./helpers.js";

/** `<a, b>`, the sum of the products of the elements. */
const inner = (a: Tensor<Shape>, b: Tensor<Shape>): number => {
  const [xs, ys] = [a.toArray(), b.toArray()];
  return xs.reduce((s, v, i) => s + v * (ys[i] ?? NaN), 0);
};

describe("conv2d", () => {
  test("a 3x3 filter of ones with same padding sums each neighbourhood, plus the bias", () => {
    const layer = conv2d(1, 1, 3, { padding: "same" });
    const x = make([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = layer.apply({ w: make(new Array(9).fill(1), [3, 3, 1, 1]), b: make([10], [1]) }, x);
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(y.toArray()).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v + 10));
  });

  test("init gives the filter [KH, KW, C / groups, O] and a zero bias; the key decides the filter", () => {
    const p = conv2d(4, 6, [3, 5], { groups: 2 }).init(key(0));
    expect(p.w.shape).toEqual([3, 5, 2, 6]);
    expect(p.b.toArray()).toEqual(new Array(6).fill(0));
    expect(conv2d(4, 6, [3, 5], { groups: 2 }).init(key(0)).w.toArray()).toEqual(p.w.toArray());
    expect(conv2d(4, 6, [3, 5], { groups: 2 }).init(key(1)).w.toArray()).not.toEqual(p.w.toArray());
    expect(Object.keys(conv2d(4, 6, 3, { useBias: false }).init(key(0)))).toEqual(["w"]);
  });

  test("NCHW is NHWC with the channels moved", () => {
    const nhwc = conv2d(3, 4, 3, { stride: 2, padding: "same" });
    const nchw = conv2d(3, 4, 3, { stride: 2, padding: "same", dataFormat: "NCHW" });
    const p = { ...nhwc.init(key(2)), b: normal(key(3), [4]) };
    const x = normal(key(4), [2, 7, 6, 3]);
    const want = nhwc.apply(p, x);
    const got = nchw.apply(p, transpose(x, [0, 3, 1, 2]));
    expect(got.shape).toEqual([2, 4, 4, 3]);
    expect(maxDiff(transpose(got, [0, 2, 3, 1]).toArray(), want.toArray())).toBeLessThan(1e-6);
  });

  test("groups split the channels: each group is a convolution of its own", () => {
    const layer = conv2d(4, 2, 1, { groups: 2, useBias: false });
    const w = make([1, 2, 3, 4], [1, 1, 2, 2]); // w[ci, o] for each group's two input channels
    const y = layer.apply({ w }, make([1, 10, 100, 1000], [1, 1, 1, 4]));
    // output 0 reads channels 0-1 with w[., 0]; output 1 reads channels 2-3 with w[., 1]
    expect(y.toArray()).toEqual([1 * 1 + 10 * 3, 100 * 2 + 1000 * 4]);
  });

  test("bad inputs are ShapeErrors naming the layer and the shapes", () => {
    const layer = conv2d(3, 8, 3);
    const p = layer.init(key(0));
    const wrongChannels: Tensor<Shape> = zeros([2, 8, 8, 4]); // shapes unknown to the types: the run-time check
    expect(() => layer.apply(p, wrongChannels)).toThrow("conv2d: expects [N, H, W, 3] but gets [2, 8, 8, 4]");
    const rank3: Tensor<Shape> = zeros([8, 8, 3]);
    expect(() => layer.apply(p, rank3)).toThrow("conv2d: expects [N, H, W, 3] but gets [8, 8, 3]");
    const tooSmall: Tensor<Shape> = zeros([1, 2, 2, 3]);
    expect(() => layer.apply(p, tooSmall)).toThrow(ShapeError);
    const groups: number = 4; // widened, so that the run-time check is what refuses it (the types refuse the literal)
    expect(() => void conv2d(4, 6, 3, { groups })).toThrow("conv2d: groups 4 must divide both inChannels 4 and outChannels 6");
    expect(() => void conv2d(0, 6, 3)).toThrow(ShapeError);
    expect(() => void conv2d(1, 6, 3, { stride: 0 })).toThrow("conv2d: stride: 0 is not positive");
  });
});

/** `dx[n, i, j, c] = sum of ct[n, oh, ow, o] w[kh, kw, c, o] over oh * s + kh - top = i, ow * s + kw - left = j`: the input gradient by its definition. */
function naiveInputGrad(ct: number[], w: number[], [n = 0, h = 0, wd = 0, c = 0]: readonly number[], [oh = 0, ow = 0, o = 0]: readonly number[], k: number, stride: number, top: number, left: number): number[] {
  const dx = new Array<number>(n * h * wd * c).fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let kh = 0; kh < k; kh++) {
          for (let kw = 0; kw < k; kw++) {
            const [r, col] = [i * stride + kh - top, j * stride + kw - left];
            if (r < 0 || r >= h || col < 0 || col >= wd) continue;
            for (let ch = 0; ch < c; ch++) {
              let s = 0;
              for (let oc = 0; oc < o; oc++) s += (ct[((b * oh + i) * ow + j) * o + oc] ?? NaN) * (w[((kh * k + kw) * c + ch) * o + oc] ?? NaN);
              const at = ((b * h + r) * wd + col) * c + ch;
              dx[at] = (dx[at] ?? NaN) + s;
            }
          }
        }
      }
    }
  }
  return dx;
}

describe("the input gradient of conv2d", () => {
  // 16 and more channels: the 3 x 3, stride-1 gradient runs as a Winograd convolution of the cotangent
  const configs = [
    { padding: "same", stride: 1, c: 5, o: 16, top: 1, left: 1 },
    { padding: "valid", stride: 1, c: 3, o: 17, top: 0, left: 0 },
    { padding: "same", stride: 1, c: 16, o: 24, top: 1, left: 1 },
    // 7 rows at stride 2 pad 2 (1 above), 6 columns pad 1 (0 left)
    { padding: "same", stride: 2, c: 4, o: 16, top: 1, left: 0 },
  ] as const;
  test.each(configs)("equals its definition: padding $padding, stride $stride, $c -> $o channels", ({ padding, stride, c, o, top, left }) => {
    const shape = [2, 7, 6, c] as const;
    // the channel counts vary by case: typed as sizes known at run time only
    const x: Tensor<[2, 7, 6, number], "float64"> = new Tensor([...shape], "float64", Float64Array.from(normal(key(30), [...shape]).toArray()));
    const w: Tensor<[3, 3, number, number], "float64"> = new Tensor([3, 3, c, o], "float64", Float64Array.from(normal(key(31), [3, 3, c, o]).toArray()));
    const y = conv2dOp(x, w, { padding, stride });
    const ct = new Tensor(y.shape, "float64", Float64Array.from(normal(key(32), [...y.shape]).toArray()));
    const dx = grad((z: typeof x) => sum(mul(conv2dOp(z, w, { padding, stride }), ct)))(x);
    const [, oh = 0, ow = 0] = y.shape;
    const want = naiveInputGrad(ct.toArray(), w.toArray(), shape, [oh, ow, o], 3, stride, top, left);
    expect(maxDiff(dx.toArray(), want)).toBeLessThan(1e-9 * (1 + Math.max(...want.map(Math.abs))));
  });
});

describe("conv1d", () => {
  test("is a 2-D convolution of height 1", () => {
    const layer = conv1d(2, 3, 3, { stride: 2, padding: [1, 2], dilation: 2 });
    const p = { ...layer.init(key(0)), b: normal(key(1), [3]) };
    const x = normal(key(2), [2, 9, 2]);
    const y = layer.apply(p, x);
    const image = conv2d(2, 3, [1, 3], { stride: [1, 2], padding: [[0, 0], [1, 2]], dilation: [1, 2] });
    const want = image.apply({ w: make(p.w.toArray(), [1, 3, 2, 3]), b: p.b }, make(x.toArray(), [2, 1, 9, 2]));
    expect(y.shape).toEqual([2, 4, 3]); // (9 + 3 - 5) / 2 + 1
    expect(maxDiff(y.toArray(), want.toArray())).toBeLessThan(1e-6);
  });

  test("NCW takes and gives channels first", () => {
    const layer = conv1d(2, 3, 3, { padding: "same", dataFormat: "NCW" });
    const x = normal(key(2), [1, 2, 5]);
    const p = layer.init(key(0));
    const want = conv1d(2, 3, 3, { padding: "same" }).apply(p, transpose(x, [0, 2, 1]));
    expect(maxDiff(transpose(layer.apply(p, x), [0, 2, 1]).toArray(), want.toArray())).toBeLessThan(1e-6);
    const wrong: Tensor<Shape> = zeros([1, 5, 2]);
    expect(() => layer.apply(p, wrong)).toThrow("conv1d: expects [N, 2, W] but gets [1, 5, 2]");
  });
});

describe("convTranspose2d", () => {
  const configs = [
    { stride: 2, padding: "same", size: [4, 3], want: [8, 6] },
    { stride: 2, padding: "valid", size: [4, 3], want: [9, 7] },
    { stride: 3, padding: 1, size: [3, 2], want: [7, 4] },
  ] as const;
  test.each(configs)("is the adjoint of conv2d: stride $stride, padding $padding", ({ stride, padding, size, want }) => {
    const layer = convTranspose2d(3, 2, 3, { stride, padding, useBias: false });
    const w = normal(key(5), [3, 3, 2, 3]);
    const x = normal(key(6), [2, size[0], size[1], 3]);
    const y = layer.apply({ w }, x);
    expect(y.shape).toEqual([2, want[0], want[1], 2]);
    // <convT(x), z> = <x, conv(z)> with the same filter, as [KH, KW, in = 2, out = 3] for the forward convolution
    const z = normal(key(7), [...y.shape]);
    const forward = conv2dOp(z, w, { stride, padding });
    expect(Math.abs(inner(y, z) - inner(x, forward))).toBeLessThan(1e-3 * (1 + Math.abs(inner(y, z))));
  });

  test("outputPadding adds rows and columns below the stride; out of range it is a ShapeError", () => {
    const p = convTranspose2d(1, 1, 3, { stride: 2 }).init(key(0));
    const x = zeros([1, 4, 4, 1]);
    expect(convTranspose2d(1, 1, 3, { stride: 2, padding: 1, outputPadding: [1, 0] }).apply(p, x).shape).toEqual([1, 8, 7, 1]);
    // widened, so that the run-time checks are what refuse them (the types refuse the literals)
    const [two, one]: number[] = [2, 1];
    expect(() => convTranspose2d(1, 1, 3, { stride: 2, outputPadding: two ?? 2 }).apply(p, x)).toThrow("convTranspose2d: outputPadding 2 must be an integer in [0, stride 2)");
    expect(() => convTranspose2d(1, 1, 3, { stride: 2, padding: "same", outputPadding: one ?? 1 }).apply(p, x)).toThrow(ShapeError);
  });

  test("init gives Keras's filter layout [KH, KW, O, C]", () => {
    const p = convTranspose2d(64, 32, [3, 5]).init(key(0));
    expect(p.w.shape).toEqual([3, 5, 32, 64]);
    expect(p.b.shape).toEqual([32]);
  });
});

describe("pooling layers", () => {
  const x = make(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map((v) => (v % 3 === 0 ? -v : v)),
    [1, 4, 4, 1],
  );
  test("maxPool2d takes each window's maximum; the stride defaults to the window", () => {
    const y = maxPool2d(2).apply({}, x);
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(y.toArray()).toEqual([5, 8, 14, 16]);
    expect(maxPool2d(3, { stride: 1 }).apply({}, x).toArray()).toEqual([11, 11, 14, 16]);
  });

  test("avgPool2d averages the elements inside the input", () => {
    expect(avgPool2d(2).apply({}, x).toArray()).toEqual([(1 + 2 + 5 - 6) / 4, (-3 + 4 + 7 + 8) / 4, (-9 + 10 + 13 + 14) / 4, (11 - 12 - 15 + 16) / 4]);
    // "same" with a 3x3 window at stride 2 pads after: the corner window holds 4 elements
    expect(avgPool2d(3, { stride: 2, padding: "same" }).apply({}, x).toArray()[3]).toBeCloseTo((11 - 12 - 15 + 16) / 4, 6);
  });

  test("NCHW pools the same windows", () => {
    const images = normal(key(8), [2, 5, 6, 3]);
    const want = maxPool2d([2, 3], { padding: "same" }).apply({}, images);
    const got = maxPool2d([2, 3], { padding: "same", dataFormat: "NCHW" }).apply({}, transpose(images, [0, 3, 1, 2]));
    expect(transpose(got, [0, 2, 3, 1]).toArray()).toEqual(want.toArray());
  });

  test("globalAvgPool is the mean over H and W", () => {
    const images = normal(key(9), [2, 3, 4, 5]);
    const y = globalAvgPool().apply({}, images);
    expect(y.shape).toEqual([2, 5]);
    expect(maxDiff(y.toArray(), mean(images, [1, 2]).toArray())).toBeLessThan(1e-6);
    expect(globalAvgPool({ keepDims: true }).apply({}, images).shape).toEqual([2, 1, 1, 5]);
    expect(globalAvgPool({ dataFormat: "NCHW", keepDims: true }).apply({}, images).shape).toEqual([2, 3, 1, 1]);
  });

  test("pools take rank 4 only: a ShapeError names the layer", () => {
    const flat: Tensor<Shape> = zeros([4, 16]);
    expect(() => maxPool2d(2).apply({}, flat)).toThrow("maxPool2d: expects [N, H, W, C] but gets [4, 16]");
    expect(() => avgPool2d(2, { dataFormat: "NCHW" }).apply({}, flat)).toThrow("avgPool2d: expects [N, C, H, W] but gets [4, 16]");
    expect(() => globalAvgPool().apply({}, flat)).toThrow("globalAvgPool: expects [N, H, W, C] but gets [4, 16]");
    expect(() => void maxPool2d(0)).toThrow(ShapeError);
  });
});

describe("the MNIST CNN", () => {
  const cnn = sequential(
    conv2d(1, 8, 3, { padding: "same" }),
    relu(),
    maxPool2d(2),
    conv2d(8, 16, 3, { padding: "same" }),
    relu(),
    maxPool2d(2),
    flatten(),
    dense(784, 10),
  );
  const images = normal(key(20), [4, 28, 28, 1]);
  const labels = new Tensor([4], "int32", Int32Array.from([3, 1, 4, 1]));

  test("maps [B, 28, 28, 1] to [B, 10]", () => {
    expect(cnn.apply(cnn.init(key(0)), images).shape).toEqual([4, 10]);
  });

  test("a jitted training step equals the eager one, and a step down the gradient lowers the loss", () => {
    type P = ReturnType<typeof cnn.init>;
    const loss = (p: P, x: typeof images): Tensor<[], "float32"> => mean(softmaxCrossEntropy(cnn.apply(p, x), labels));
    const step = valueAndGrad(loss);
    const p = cnn.init(key(1));
    const [l0, g] = step(p, images);
    const [lj, gj] = jit(step)(p, images);
    expect(Math.abs(lj.item() - l0.item())).toBeLessThan(1e-5);
    expect(maxDiff(gj[0].w.toArray(), g[0].w.toArray())).toBeLessThan(1e-5);
    expect(maxDiff(gj[3].w.toArray(), g[3].w.toArray())).toBeLessThan(1e-5);
    expect(g[3].w.shape).toEqual([3, 3, 8, 16]);
    const { leaves, def } = flattenTree(p);
    const grads = flattenTree(g).leaves;
    const moved = unflattenTree<P>(def, leaves.map((v, i) => sub(v as Tensor<Shape>, mul(grads[i] as Tensor<Shape>, 0.01)))); // the leaves are float32 tensors
    expect(step(moved, images)[0].item()).toBeLessThan(l0.item());
  });
});
