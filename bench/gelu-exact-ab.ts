/**
 * Exact gelu (`0.5 x erfc(-x / √2)`, the default) against its tanh form,
 * jitted, on 1M and 4M float32, in interleaved rounds (so that a busy machine
 * slows both alike): prints each side's median ms per call and their ratio.
 * Run with `npm run compile && node .build/bench/gelu-exact-ab.js`.
 */

import { Tensor } from "../src/core/tensor.js";
import { gelu } from "../src/ops/activations.js";
import { jit } from "../src/transforms/jit.js";
import { check, median, randomData, relativeDifference, timeRounds } from "./support/measure.js";

for (const size of [1 << 20, 1 << 22]) {
  const x: Tensor<[number]> = new Tensor([size], "float32", randomData(size, 1, 4));
  const exact = jit((xs: Tensor<[number]>) => gelu(xs));
  const tanhForm = jit((xs: Tensor<[number]>) => gelu(xs, { approximate: "tanh" }));
  // the two forms differ by at most about 5e-4 (relative to the largest value)
  check("exact against tanh gelu", relativeDifference(exact(x).data, tanhForm(x).data), 1e-3);
  const times = timeRounds({ exact: () => exact(x).data[0] ?? NaN, tanh: () => tanhForm(x).data[0] ?? NaN }, { warmup: 3, minRounds: 15, maxRounds: 60, budgetMs: 8000 });
  const [e, t] = [median(times.exact), median(times.tanh)];
  console.log(`gelu on ${size / 2 ** 20}M f32, jit: exact ${e.toFixed(2)} ms, tanh ${t.toFixed(2)} ms, exact / tanh ${(e / t).toFixed(2)}`);
}
