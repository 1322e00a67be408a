/**
 * A narrow timing of the gelu chain `gelu(x * a + b)` over 4M float32 (the
 * workload of `torch.bench.ts`), jitted, for A/B work on the fused kernels:
 * prints the median ms per call of `ROUNDS` rounds. Run with
 * `npm run compile && node .build/bench/gelu-ab.js`.
 */

import { Tensor } from "../src/core/tensor.js";
import { gelu } from "../src/ops/activations.js";
import { add, mul } from "../src/ops/elementwise.js";
import { jit } from "../src/transforms/jit.js";
import { median, randomData } from "./support/measure.js";

const [rows, cols] = [4096, 1024] as const;
const x: Tensor<[4096, 1024]> = new Tensor([rows, cols], "float32", randomData(rows * cols, 1, 3));
const a: Tensor<[1024]> = new Tensor([cols], "float32", randomData(cols, 2, 3));
const b: Tensor<[1024]> = new Tensor([cols], "float32", randomData(cols, 3, 3));
const chain = jit((xs: Tensor<[4096, 1024]>, as: Tensor<[1024]>, bs: Tensor<[1024]>) => gelu(add(mul(xs, as), bs)));
const times: number[] = [];
for (let i = 0; i < 40; i++) {
  const start = performance.now();
  const y = chain(x, a, b);
  if (Number.isNaN(y.data[0])) throw new Error("NaN");
  times.push(performance.now() - start);
}
console.log(`gelu chain, 4M f32: median ${median(times.slice(5)).toFixed(2)} ms (min ${Math.min(...times).toFixed(2)})`);
