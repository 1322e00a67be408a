/**
 * A/B of ways to write the WebAssembly float32 matmul's micro-kernel, in one
 * process (`wasmGemmVariant`): `u1` is the kernel `matmul` runs (one step of
 * k per turn, MR splat loads of A), `u2` and `u4` unroll the loop over k by
 * 2 and 4 (loads at constant offsets), `s1`, `s2` and `s4` read A as one
 * vector per step and splat its lanes by shuffles. They run back to back in
 * rounds (the shared `timeRounds`) on the same square operands at N = 256,
 * 512 and 1024. Every variant's result is first checked bit for bit against
 * u1's (and on an odd shape, 131 x 301 x 19). Prints each variant's median
 * GFLOP/s and its ratio to u1; on a loaded machine only the ratios mean
 * something.
 * Run with `npx tsc -p tsconfig.run.json && node .build/bench/matmul-ab.js`.
 */

import type { MatrixView } from "../src/backend/kernels/matrix-view.js";
import { wasmGemmVariant, type WasmEpilogue } from "../src/backend/kernels/wasm-matmul.js";
import { median, randomData, timeRounds } from "./support/measure.js";
import { printTable } from "./support/report.js";

const VARIANTS = { u1: { unroll: 1, shuffleA: false }, u2: { unroll: 2, shuffleA: false }, u4: { unroll: 4, shuffleA: false }, s1: { unroll: 1, shuffleA: true }, s2: { unroll: 2, shuffleA: true }, s4: { unroll: 4, shuffleA: true } } as const;
type Variant = keyof typeof VARIANTS;
const NAMES = Object.keys(VARIANTS) as Variant[]; // the keys of VARIANTS
const plain: WasmEpilogue = { beta: false, bias: undefined, biasOffset: 0, relu: false };
const view = (data: Float32Array, cols: number): MatrixView => ({ data, offset: 0, rowStride: cols, colStride: 1 });

const kernels = Object.fromEntries(
  NAMES.map((name) => {
    const gemm = wasmGemmVariant(VARIANTS[name]);
    if (gemm === null) throw new Error("no WebAssembly SIMD here");
    return [name, gemm];
  }),
) as Record<Variant, NonNullable<ReturnType<typeof wasmGemmVariant>>>; // one entry per variant, just built

/** Runs every variant on `m x k x n` and throws unless all give u1's bits; returns the operands. */
function checkedOperands(m: number, k: number, n: number): { a: Float32Array; b: Float32Array } {
  const a = randomData(m * k, m + 1);
  const b = randomData(k * n, n + 2);
  const results = NAMES.map((name) => {
    const c = new Float32Array(m * n);
    kernels[name](m, k, n, view(a, k), view(b, n), view(c, n), plain);
    return new Uint32Array(c.buffer);
  });
  const [first, ...rest] = results;
  rest.forEach((r, i) => {
    if (first === undefined || r.some((bits, j) => bits !== first[j])) throw new Error(`${NAMES[i + 1]} differs from u1 at ${m} x ${k} x ${n}`);
  });
  return { a, b };
}

checkedOperands(131, 301, 19);
const rows: string[][] = [];
for (const size of [256, 512, 1024]) {
  const { a, b } = checkedOperands(size, size, size);
  const c = new Float32Array(size * size);
  const step = (v: Variant) => (): number => {
    kernels[v](size, size, size, view(a, size), view(b, size), view(c, size), plain);
    return c[0] ?? 0;
  };
  const steps = Object.fromEntries(NAMES.map((name) => [name, step(name)])) as Record<Variant, () => number>; // one entry per variant, just built
  const times = timeRounds(steps, { warmup: 3, minRounds: 5, maxRounds: 400, budgetMs: size >= 1024 ? 12000 : 5000 });
  const gflops = (v: Variant): number => (2 * size ** 3) / (median(times[v]) * 1e6);
  rows.push([`${size}`, ...NAMES.map((name) => gflops(name).toFixed(1)), ...NAMES.slice(1).map((name) => (gflops(name) / gflops("u1")).toFixed(3)), `${times.u1.length}`]);
}
console.log("float32 matmul, square N, GFLOP/s (median); ratio = GFLOP/s over u1's; interleaved rounds on a shared, loaded machine");
printTable(["N", ...NAMES, ...NAMES.slice(1).map((name) => `${name}/u1`), "rounds"], rows);
