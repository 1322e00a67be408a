/**
 * The exhaustive check of the float32 WebAssembly tanh (`src/backend/wasm/vector-math.ts`): runs the fused
 * kernel of `tanh` on every float32 bit pattern, 2^22 at a time, and measures each result against `Math.tanh`
 * in float64, in float32 ulps of the reference (the measure of law 2 of `laws/fusion.law.test.ts`). Expects NaN
 * from NaN, +-1 from +-Inf, the sign of a zero kept. Prints the largest error and where, and the largest below
 * |x| = 0.625, on [0.625, 9.01) and from 9.01 on. The figure is written next to the routine's row in
 * `src/backend/scalar-ops.ts`. Run with `npm run compile && node .build/bench/tanh-exhaustive.js [stride]` (a
 * stride above 1 checks every stride-th bit pattern, for a quick look).
 */

import { fuseProgram } from "../src/ir/fusion/fuse.js";
import { wasmKernel } from "../src/backend/wasm/runtime.js";
import { bind } from "../src/prims/index.js";
import { traceProgram } from "../src/transforms/trace.js";

const CHUNK = 2 ** 22;
const stride = Number(process.argv[2] ?? "1");
const program = traceProgram(([x]) => [bind("tanh", x === undefined ? [] : [x], {})], [{ shape: [CHUNK], dtype: "float32" }]);
const step = fuseProgram(program).steps.find((s) => s.kind === "kernel");
if (step?.kind !== "kernel") throw new Error("tanh: no fused kernel");
const kernel = wasmKernel(step.nest);
if (kernel === undefined) throw new Error("tanh: no WebAssembly kernel");

const bits = new Uint32Array(CHUNK);
const x = new Float32Array(bits.buffer);
const y = new Float32Array(CHUNK);
const regions = [
  { name: "|x| < 0.625", below: 0.625, worst: 0, at: 0 },
  { name: "0.625 <= |x| < 9.01", below: 9.01, worst: 0, at: 0 },
  { name: "|x| >= 9.01", below: Infinity, worst: 0, at: 0 },
];
let checked = 0;
const start = Date.now();
for (let first = 0; first < 2 ** 32; first += CHUNK * stride) {
  let n = 0;
  for (; n < CHUNK && first + n * stride < 2 ** 32; n++) bits[n] = first + n * stride;
  bits.fill(0, n);
  if (!kernel.run([x, y], step.constants)) throw new Error("tanh: the WebAssembly kernel declined the call");
  for (let i = 0; i < n; i++) {
    const [v, input] = [y[i] ?? NaN, x[i] ?? NaN];
    const reference = Math.tanh(input);
    if (Number.isNaN(input) || !Number.isFinite(input) || input === 0) {
      if (!Object.is(v, reference)) throw new Error(`tanh(${input}) = ${v}, not ${reference}`);
      continue;
    }
    const a = Math.abs(input);
    const region = a < 0.625 ? regions[0] : a < 9.01 ? regions[1] : regions[2];
    if (region === undefined) continue;
    const difference = Math.abs(v - reference);
    // ulp(r) > |r| 2^-24 for a normal r, so the error is at most this; the exact ulp only when it could be a new worst
    if (difference <= region.worst * Math.abs(reference) * 2 ** -24) continue;
    const r = Math.abs(reference);
    const ulp = r < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(r)) - 23);
    const error = difference / ulp;
    if (error > region.worst) [region.worst, region.at] = [error, input];
  }
  checked += n;
}
console.log(`tanh (WebAssembly, float32): ${checked} inputs (stride ${stride}) in ${((Date.now() - start) / 1000).toFixed(0)} s`);
for (const r of regions) console.log(`  ${r.name}: at most ${r.worst.toFixed(4)} ulp (at ${r.at})`);
console.log(`  all: at most ${Math.max(...regions.map((r) => r.worst)).toFixed(4)} ulp`);
