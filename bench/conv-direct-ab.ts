/**
 * A/B of the float32 forward convolution of shallow windows: the direct sum
 * in WebAssembly (`direct-wasm.ts`) against the path `conv2d` took before
 * (Winograd's F(4 x 4, 3 x 3) in WebAssembly for 3 x 3 filters with stride
 * 1, the JavaScript window kernel for others), in one process: rounds of one
 * call of each side back to back (`timeRounds`), so that a loaded machine
 * slows both alike. Each shape's results are first compared. Prints medians,
 * the ratio and the direct sum's GFLOP/s.
 * Run with `npm run compile && node .build/bench/conv-direct-ab.js`.
 */

import { conv2dGeometry, type Conv2dParams } from "../src/backend/kernels/conv/index.js";
import { conv2dDirectWasm } from "../src/backend/kernels/conv/direct-wasm.js";
import { conv2dWindows } from "../src/backend/kernels/conv/windows.js";
import { conv2dWinogradWasm, usesWinogradWasm } from "../src/backend/kernels/conv/winograd-wasm.js";
import type { WasmEpilogue } from "../src/backend/kernels/wasm-matmul.js";
import { median, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { printTable } from "./support/report.js";

const plain: WasmEpilogue = { beta: false, bias: undefined, biasOffset: 0, relu: false };
const ROUNDS = { warmup: 2, minRounds: 9, maxRounds: 40, budgetMs: 3000 };

const shapes: readonly [string, Conv2dParams][] = [
  ["CNN conv1: 64 x 28 x 28, 1 -> 32, 3 x 3 same", { batch: 64, inHeight: 28, inWidth: 28, inChannels: 1, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" }],
  ["64 x 28 x 28, 2 -> 32, 3 x 3 same", { batch: 64, inHeight: 28, inWidth: 28, inChannels: 2, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" }],
  ["64 x 28 x 28, 3 -> 32, 3 x 3 same", { batch: 64, inHeight: 28, inWidth: 28, inChannels: 3, kernelHeight: 3, kernelWidth: 3, outChannels: 32, padding: "same" }],
  ["16 x 32 x 32, 3 -> 16, 5 x 5 stride 2", { batch: 16, inHeight: 32, inWidth: 32, inChannels: 1, kernelHeight: 5, kernelWidth: 5, outChannels: 16, stride: 2, padding: "same" }],
];

const rows: string[][] = [];
for (const [name, params] of shapes) {
  const g = conv2dGeometry(params);
  const x = randomData(g.batch * g.inHeight * g.inWidth * g.inChannels, 1);
  const w = randomData(g.kernelHeight * g.kernelWidth * g.inChannels * g.outChannels, 2, 0.3);
  const a = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  const b = new Float32Array(a.length);
  const winograd = usesWinogradWasm(g);
  const direct = (): number => (conv2dDirectWasm(a, x, w, g, plain) ? (a[0] ?? 0) : NaN);
  const before = (): number => {
    if (winograd) conv2dWinogradWasm(b, x, w, g, plain);
    else conv2dWindows(b, x, w, g, {});
    return b[0] ?? 0;
  };
  direct();
  before();
  const difference = relativeDifference(a, b);
  const times = timeRounds({ direct, before }, ROUNDS);
  const [d, o] = [median(times.direct), median(times.before)];
  const flops = 2 * a.length * g.kernelHeight * g.kernelWidth * g.inChannels;
  rows.push([name, winograd ? "winograd" : "windows", d.toFixed(3), o.toFixed(3), (d / o).toFixed(2), (flops / d / 1e6).toFixed(1), difference.toExponential(1)]);
}
printTable(["shape", "before", "direct ms", "before ms", "ratio", "direct GFLOP/s", "max diff / max |y|"], rows);
