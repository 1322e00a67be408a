/**
 * Per-example gradients (issue 17): `jit(vmap(grad(loss)))` against a loop
 * of `jit(grad(loss))` over the examples.
 *
 * The model is a 784-128-10 MLP with tanh, float32, and a batch of 32
 * examples: the softmax cross-entropy of one example, its gradient with
 * respect to every weight and bias, for each example. Both sides first run
 * once (trace and compile) and must agree to 1e-5 relative to the largest
 * gradient; then rounds of one call per side, interleaved, so that a busy
 * machine slows both alike. Prints the medians in ms per batch and the
 * ratio loop / vmap. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/vmap.bench.js`.
 */

import { Tensor } from "../src/core/tensor.js";
import { add, matmul, mean, softmaxCrossEntropy, tanh } from "../src/index.js";
import { grad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import { vmap } from "../src/transforms/vmap.js";
import { check, median, normalData, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { isEntryPoint } from "./support/report.js";

const batch = 32;
type Params = { w1: Tensor<[784, 128]>; b1: Tensor<[128]>; w2: Tensor<[128, 10]>; b2: Tensor<[10]> };

const loss = (p: Params, x: Tensor<[784]>, y: Tensor<[], "int32">): Tensor<[]> => {
  const h = tanh(add(matmul(x, p.w1), p.b1));
  return mean(softmaxCrossEntropy(add(matmul(h, p.w2), p.b2), y));
};

function run(): void {
  const params: Params = {
    w1: new Tensor([784, 128], "float32", normalData(784 * 128, Math.sqrt(1 / 784), 1)),
    b1: new Tensor([128], "float32", new Float32Array(128)),
    w2: new Tensor([128, 10], "float32", normalData(128 * 10, Math.sqrt(1 / 128), 2)),
    b2: new Tensor([10], "float32", new Float32Array(10)),
  };
  const pixels = randomData(batch * 784, 3);
  const xs = new Tensor([batch, 784], "float32", pixels);
  const ys = new Tensor([batch], "int32", Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10));
  const examples = Array.from({ length: batch }, (_, b) => ({
    x: new Tensor([784], "float32", pixels.slice(b * 784, (b + 1) * 784)),
    y: new Tensor([], "int32", Int32Array.of((b * 7) % 10)),
  }));

  const perExample = jit(vmap(grad(loss), { inAxes: [null, 0, 0] }));
  const single = jit(grad(loss));
  const t0 = performance.now();
  const batched = perExample(params, xs, ys);
  const firstVmap = performance.now() - t0;
  const t1 = performance.now();
  const looped = examples.map(({ x, y }) => single(params, x, y));
  const firstLoop = performance.now() - t1;
  for (const key of ["w1", "b1", "w2", "b2"] as const) {
    const want = new Float32Array(looped.flatMap((g) => Array.from(g[key].data)));
    check(`per-example gradient of ${key}`, relativeDifference(batched[key].data, want), 1e-5);
  }
  const times = timeRounds(
    {
      vmap: () => perExample(params, xs, ys).b2.data[0] ?? 0,
      loop: () => examples.reduce((s, { x, y }) => s + (single(params, x, y).b2.data[0] ?? 0), 0),
    },
    { warmup: 3, minRounds: 10, maxRounds: 200, budgetMs: 8000 },
  );
  const [v, l] = [median(times.vmap), median(times.loop)];
  console.log(`per-example gradients, MLP 784-128-10 float32, ${batch} examples`);
  console.log(`first call (trace + compile + run): vmap ${firstVmap.toFixed(0)} ms, loop ${firstLoop.toFixed(0)} ms`);
  console.log(`median per batch: jit(vmap(grad)) ${v.toFixed(2)} ms, loop of jit(grad) ${l.toFixed(2)} ms, loop / vmap ${(l / v).toFixed(2)} (${times.vmap.length} rounds)`);
}

if (isEntryPoint(import.meta.url)) run();
