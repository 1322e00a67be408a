/**
 * A/B of the three passes of a float32 3 x 3 convolution, Winograd in
 * WebAssembly against implicit GEMM (the path each took before), in one
 * process: rounds of one call of each side back to back (the shared
 * `timeRounds`), so that a loaded machine slows both alike. Shapes: the
 * bench's convolution (batch 32, 14 x 14, 32 to 64 channels, "same") and
 * the CNN step's second convolution (batch 64, 14 x 14, 32 to 64) with its
 * input gradient (a convolution of 64 to 32 channels by the turned filter)
 * and filter gradient. Each pass's result is first compared between the
 * sides. Prints medians, the ratio, and GFLOP/s counted as the direct sum's
 * `2 N OH OW 9 C O` (for Winograd, an effective rate).
 * Run with `npx tsc -p tsconfig.run.json && node .build/bench/conv-winograd-ab.js`.
 */

import { conv2dGeometry, type ConvGeometry } from "../src/backend/kernels/conv/index.js";
import { conv2dFilterGradImplicit, conv2dImplicit } from "../src/backend/kernels/conv/implicit.js";
import { conv2dFilterGradWinogradWasm, conv2dWinogradWasm } from "../src/backend/kernels/conv/winograd-wasm.js";
import type { WasmEpilogue } from "../src/backend/kernels/wasm-matmul.js";
import { median, randomData, relativeDifference, timeRounds } from "./support/measure.js";
import { printTable } from "./support/report.js";

const plain: WasmEpilogue = { beta: false, bias: undefined, biasOffset: 0, relu: false };
const ROUNDS = { warmup: 2, minRounds: 7, maxRounds: 40, budgetMs: 4000 };

/** One pass, both ways: each fills its own output and returns one of its values (read back). */
interface Pass {
  readonly name: string;
  readonly g: ConvGeometry;
  readonly winograd: () => Float32Array;
  readonly implicit: () => Float32Array;
}

function geometry(batch: number, inChannels: number, outChannels: number): ConvGeometry {
  return conv2dGeometry({ batch, inHeight: 14, inWidth: 14, inChannels, kernelHeight: 3, kernelWidth: 3, outChannels, padding: "same" });
}

/** `out`, once its kernel said it ran. */
function ran(name: string, ok: boolean, out: Float32Array): Float32Array {
  if (!ok) throw new Error(`${name}: a kernel declined`);
  return out;
}

function forward(name: string, g: ConvGeometry): Pass {
  const x = randomData(g.batch * g.inHeight * g.inWidth * g.inChannels, 1);
  const w = randomData(9 * g.inChannels * g.outChannels, 2, 0.1);
  const a = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  const b = new Float32Array(a.length);
  return { name, g, winograd: () => ran(name, conv2dWinogradWasm(a, x, w, g, plain), a), implicit: () => ran(name, conv2dImplicit(b, x, w, g, plain), b) };
}

function filterGradient(name: string, g: ConvGeometry): Pass {
  const x = randomData(g.batch * g.inHeight * g.inWidth * g.inChannels, 3);
  const dy = randomData(g.batch * g.outHeight * g.outWidth * g.outChannels, 4);
  const a = new Float32Array(9 * g.inChannels * g.outChannels);
  const b = new Float32Array(a.length);
  return {
    name,
    g,
    winograd: () => ran(name, conv2dFilterGradWinogradWasm(a, x, dy, g), a),
    implicit: () => ran(name, conv2dFilterGradImplicit(b, x, dy, g, plain), b),
  };
}

const passes: readonly Pass[] = [
  forward("bench conv fwd (32 x 14 x 14, 32 -> 64)", geometry(32, 32, 64)),
  forward("CNN conv2 fwd (64 x 14 x 14, 32 -> 64)", geometry(64, 32, 64)),
  forward("CNN conv2 input grad (as 64 -> 32, turned filter)", geometry(64, 64, 32)),
  filterGradient("CNN conv2 filter grad", geometry(64, 32, 64)),
];

const rows: string[][] = [];
for (const pass of passes) {
  const difference = relativeDifference(pass.winograd(), pass.implicit());
  const times = timeRounds({ winograd: () => pass.winograd()[0] ?? 0, implicit: () => pass.implicit()[0] ?? 0 }, ROUNDS);
  const [w, i] = [median(times.winograd), median(times.implicit)];
  const { g } = pass;
  const flops = 2 * g.batch * g.outHeight * g.outWidth * 9 * g.inChannels * g.outChannels;
  rows.push([pass.name, w.toFixed(2), i.toFixed(2), (w / i).toFixed(2), (flops / w / 1e6).toFixed(1), (flops / i / 1e6).toFixed(1), difference.toExponential(1)]);
}
printTable(["pass", "winograd ms", "implicit ms", "ratio", "winograd GFLOP/s (eff.)", "implicit GFLOP/s", "max diff / max |y|"], rows);
