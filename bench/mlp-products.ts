/**
 * The eight matrix products of the MLP 784-512-256-10 SGD step (batch 128,
 * `mlp.bench.ts`), one by one, at 1 and 2 threads: the shapes and layouts
 * the jitted step hands to `matmul` (logged from it), each timed alone so
 * that a change to the WebAssembly kernel can be seen product by product.
 *
 * Forward `x @ W1`, `h1 @ W2`, `h2 @ W3`; backward `h2^T @ g3`, `g3 @ W3^T`,
 * `h1^T @ g2`, `g2 @ W2^T`, `x^T @ g1` (A^T and B^T read in place through
 * `transA` / `transB`). Rounds alternate the thread counts (`timeRounds`),
 * so a loaded machine slows both alike; the figure is the median per call.
 *
 * Run: `npm run --silent compile && node .build/bench/mlp-products.js [BUDGET_MS]`.
 */

import { loadavg } from "node:os";
import { matmul } from "../src/backend/kernels/matmul.js";
import { setThreads, threadsReady } from "../src/index.js";
import { median, randomData, timeRounds } from "./support/measure.js";

/** m, k, n, transA, transB, name. */
export const MLP_PRODUCTS: readonly (readonly [number, number, number, boolean, boolean, string])[] = [
  [128, 784, 512, false, false, "x @ W1"],
  [128, 512, 256, false, false, "h1 @ W2"],
  [128, 256, 10, false, false, "h2 @ W3"],
  [256, 128, 10, true, false, "h2^T @ g3"],
  [128, 10, 256, false, true, "g3 @ W3^T"],
  [512, 128, 256, true, false, "h1^T @ g2"],
  [128, 256, 512, false, true, "g2 @ W2^T"],
  [784, 128, 512, true, false, "x^T @ g1"],
];

async function main(): Promise<void> {
  const budget = Number(process.argv[2] ?? "1500");
  setThreads(2);
  await threadsReady();
  console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  console.log("| product | m x k x n | 1T ms | 2T ms | 1T / 2T |");
  console.log("|---|---|---:|---:|---:|");
  let [sum1, sum2] = [0, 0];
  for (const [m, k, n, transA, transB, name] of MLP_PRODUCTS) {
    const [a, b, c] = [randomData(m * k, 1), randomData(k * n, 2), new Float32Array(m * n)];
    const at = (threads: number) => (): number => {
      setThreads(threads);
      return matmul(c, a, b, { m, k, n, transA, transB })[0] ?? Number.NaN;
    };
    const times = timeRounds({ one: at(1), two: at(2) }, { warmup: 3, minRounds: 20, maxRounds: 5000, budgetMs: budget });
    const [one, two] = [median(times.one), median(times.two)];
    sum1 += one;
    sum2 += two;
    console.log(`| ${name} | ${m} x ${k} x ${n} | ${one.toFixed(3)} | ${two.toFixed(3)} | ${(one / two).toFixed(2)} |`);
  }
  console.log(`| all | | ${sum1.toFixed(3)} | ${sum2.toFixed(3)} | ${(sum1 / sum2).toFixed(2)} |`);
  console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
}

if (process.argv[1]?.endsWith("mlp-products.js") === true) {
  await main();
  process.exit(0);
}
