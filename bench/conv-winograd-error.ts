/**
 * The error of the float32 Winograd forward (`conv2dWinogradWasm`) against
 * the float64 direct sum, measured over the cases its law draws
 * (`laws/support/winograd-cases.ts`) and a few larger shapes: per output,
 * `|got - want|` over the law's scale (`winogradScale` with the kernel's own
 * tiles, plus `|bias|`; outputs whose scale is below the subnormal floor
 * left out), the largest by the kind of tile (F(6, 3) along either axis, or
 * not) and by whether edge values were mixed in. This is how
 * WINOGRAD_ERROR_BOUND and WINOGRAD_F6_ERROR_BOUND were set (a margin above
 * the largest seen).
 *
 * Run with `npm run compile`, then
 * `node .build/bench/conv-winograd-error.js [cases] [seed]`.
 */

import fc from "fast-check";
import { conv2dGeometry, type ConvGeometry } from "../src/backend/kernels/conv/index.js";
import { conv2dWinogradWasm, WINOGRAD_ERROR_BOUND, WINOGRAD_ERROR_FLOOR, WINOGRAD_F6_ERROR_BOUND } from "../src/backend/kernels/conv/winograd-wasm.js";
import { values } from "../laws/support/conv-values.js";
import { forwardOutputs, geometryOf, winogradCase } from "../laws/support/winograd-cases.js";

const CASES = Number(process.argv[2] ?? "2000");
const SEED = Number(process.argv[3] ?? "1");

/** The largest error over the scale so far, and where it was. */
interface Worst {
  ratio: number;
  where: string;
}
const worst: Record<string, Worst> = {};

function record(key: string, ratio: number, where: string): void {
  const known = worst[key];
  if (known === undefined || ratio > known.ratio) worst[key] = { ratio, where };
}

/** Runs one convolution and records each output's error over its scale. */
function measure(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | undefined, relu: boolean, label: string, where: string): void {
  const out = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  if (!conv2dWinogradWasm(out, x, w, g, { beta: false, bias, biasOffset: 0, relu })) throw new Error(`declined: ${where}`);
  forwardOutputs(out, x, w, g, bias, relu).forEach(({ got, want, scale, onSix }) => {
    if (!(scale > WINOGRAD_ERROR_FLOOR * g.inChannels)) return;
    const ratio = Math.abs(got - want) / scale;
    record(`${onSix ? "F(6, 3)" : "F(4, 3) / F(2, 3)"}, ${label}`, Number.isNaN(ratio) ? Infinity : ratio, where);
  });
}

for (const c of fc.sample(winogradCase, { numRuns: CASES, seed: SEED })) {
  const shape = geometryOf(c);
  if (shape === undefined) continue;
  const { g } = shape;
  const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, c.seed, c.edgeEvery);
  const w = values(9 * g.inChannels * g.outChannels, c.seed + 1, c.edgeEvery);
  const bias = c.bias ? values(g.outChannels, c.seed + 2, 0) : undefined;
  measure(g, x, w, bias, c.relu, c.edgeEvery > 0 ? "edge values" : "values in [-1, 1)", JSON.stringify(c));
}
for (const [C, O, size] of [[32, 64, 14], [64, 32, 14], [8, 16, 28], [128, 32, 12]] as const) {
  const g = conv2dGeometry({ batch: 2, inHeight: size, inWidth: size, inChannels: C, kernelHeight: 3, kernelWidth: 3, outChannels: O, padding: "same" });
  measure(g, values(2 * size * size * C, SEED, 0), values(9 * C * O, SEED + 1, 0), undefined, false, `${size} x ${size}, ${C} -> ${O}`, "");
}
console.log(`${CASES} cases (seed ${SEED}); bounds: WINOGRAD_ERROR_BOUND ${WINOGRAD_ERROR_BOUND}, WINOGRAD_F6_ERROR_BOUND ${WINOGRAD_F6_ERROR_BOUND}`);
for (const [key, { ratio, where }] of Object.entries(worst).sort()) console.log(`${key.padEnd(44)} ${ratio.toExponential(2)}  ${where}`);
