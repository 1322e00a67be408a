/**
 * Laws of the opt-in relaxed SIMD mode (`src/backend/wasm/relaxed-simd.ts`).
 *
 * Node 20 has relaxed SIMD only behind `--experimental-wasm-relaxed-simd`,
 * so the laws run in a child process started with that flag (where the
 * flag exists; a newer Node has relaxed SIMD without it), bundled from the
 * sources as `test/backend/threads/exit.test.ts` does. In the child, with
 * relaxed SIMD on:
 *
 * - the float32 matmul over random shapes (from the seed the test prints,
 *   edge sizes around the 4 x 8 tile, the 128-row block and the 256-deep
 *   block of k; transposed operands) stays within the matmul's stated error
 *   bound, (KC + k / KC + 2) float32 roundings of Σ|a·b| per element, against
 *   a float64 loop, as the default kernel does;
 * - its bits are the same at 1, 2 and 3 threads, with the workers running
 *   tasks (the relaxed kernel is registered with the pool like the default);
 * - a convolution on the implicit-GEMM path (5x5, stride 2) stays within
 *   the same kind of bound and has the same bits at 1 and 2 threads;
 * - a jitted product follows `setRelaxedSimd` from its next call, and goes
 *   back to the default kernel's exact bits when it is turned off.
 *
 * In this process (no flag on Node 20) the tests check what the API says
 * where relaxed SIMD is missing: asking for it returns false with a reason,
 * and the products keep the default bits.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { afterAll, expect, test } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { matmul, relaxedSimdSupport, setRelaxedSimd } from "../src/index.js";

const FLAG = "--experimental-wasm-relaxed-simd";
const folder = mkdtempSync(join(tmpdir(), "stratum-relaxed-"));
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
  setRelaxedSimd(false);
});

const child = `
import { matmul, conv2d, transpose, setRelaxedSimd, relaxedSimdSupport, setThreads } from ${JSON.stringify(resolve("src/index.ts"))};
import { Tensor } from ${JSON.stringify(resolve("src/core/tensor.ts"))};
import { jit } from ${JSON.stringify(resolve("src/transforms/jit.ts"))};
import { tasksRunByWorkers, threadsReady } from ${JSON.stringify(resolve("src/backend/threads/pool.ts"))};

const seed = Number(process.argv[2]);
let state = seed >>> 0;
const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state / 2 ** 32);
const floats = (n) => Float32Array.from({ length: n }, () => 2 * next() - 1);
const pick = (list) => list[Math.floor(next() * list.length)];
const bitsEqual = (a, b) => a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((x, i) => x === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);
const U = 2 ** -24, KC = 256;

/** The largest |c - exact| / bound over the elements of an m x k x n product (A and B row-major or read transposed). */
function worstOverBound(m, k, n, a, b, c, ta, tb) {
  let worst = 0;
  const bound = (KC + Math.ceil(k / KC) + 2) * U;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let exact = 0, scale = 0;
    for (let p = 0; p < k; p++) {
      const t = (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      exact += t; scale += Math.abs(t);
    }
    const err = Math.abs(c[i * n + j] - exact);
    worst = Math.max(worst, scale === 0 ? (err === 0 ? 0 : Infinity) : err / (bound * scale));
  }
  return worst;
}

const support = relaxedSimdSupport();
const enabled = setRelaxedSimd(true);
setThreads(3);
await threadsReady();
const dims = [1, 3, 4, 5, 8, 9, 127, 128, 129, 255, 256, 257, 300];
const products = [];
for (let t = 0; t < 6; t++) {
  // the first three are large enough for the pool (at least 2^21 multiply-adds)
  const [m, k, n] = t < 3 ? [pick([257, 300, 384]), pick([255, 256, 257, 300]), pick([513, 600])] : [pick(dims), pick(dims), pick(dims)];
  const [ta, tb] = [next() < 0.3, next() < 0.3];
  const a = floats(m * k), b = floats(k * n);
  const A = new Tensor(ta ? [k, m] : [m, k], "float32", a);
  const B = new Tensor(tb ? [n, k] : [k, n], "float32", b);
  // transposed operands are read through the packing of the jitted product
  const product = jit((p, q) => matmul(ta ? transpose(p) : p, tb ? transpose(q) : q));
  const results = [];
  const before = tasksRunByWorkers();
  for (const threads of [1, 2, 3]) {
    setThreads(threads);
    results.push(product(A, B).data.slice());
  }
  setRelaxedSimd(false);
  setThreads(1);
  const plain = product(A, B).data.slice();
  setRelaxedSimd(true);
  products.push({ shape: [m, k, n, ta, tb], relaxed: worstOverBound(m, k, n, a, b, results[0], ta, tb), plain: worstOverBound(m, k, n, a, b, plain, ta, tb), sameForThreads: results.every((r) => bitsEqual(r, results[0])), workerTasks: tasksRunByWorkers() - before, large: t < 3, differsFromDefault: !bitsEqual(results[0], plain) });
}

// a 5x5 stride-2 convolution: implicit GEMM on the matmul's kernel
const x = new Tensor([8, 23, 23, 48], "float32", floats(8 * 23 * 23 * 48));
const w = new Tensor([5, 5, 48, 64], "float32", floats(5 * 5 * 48 * 64));
const convs = [];
const beforeConv = tasksRunByWorkers();
for (const threads of [1, 2]) {
  setThreads(threads);
  convs.push(conv2d(x, w, { strides: [2, 2], padding: "same" }).data.slice());
}
const convWorkers = tasksRunByWorkers() - beforeConv;
setRelaxedSimd(false);
const convPlain = conv2d(x, w, { strides: [2, 2], padding: "same" }).data;
let convWorst = 0, convScale = 0;
for (let i = 0; i < convPlain.length; i++) { convWorst = Math.max(convWorst, Math.abs(convs[0][i] - convPlain[i])); convScale = Math.max(convScale, Math.abs(convPlain[i])); }

// a jitted product follows the switch from its next call
setThreads(1);
const a = new Tensor([64, 96], "float32", floats(64 * 96)), b = new Tensor([96, 40], "float32", floats(96 * 40));
const f = jit((p, q) => matmul(p, q));
const off1 = f(a, b).data.slice();
setRelaxedSimd(true);
const on = f(a, b).data.slice();
setRelaxedSimd(false);
const off2 = f(a, b).data.slice();
const eager = matmul(a, b).data;
console.log(JSON.stringify({ support, enabled, products, conv: { sameForThreads: bitsEqual(convs[0], convs[1]), workerTasks: convWorkers, worstRelative: convWorst / convScale }, jit: { offAgain: bitsEqual(off1, off2) && bitsEqual(off1, eager), onWithinBound: worstOverBound(64, 96, 40, a.data, b.data, on, false, false) } }));
`;

/** Node's flag for relaxed SIMD where this Node has it (20 and 21), else nothing (newer ones have it on). */
function relaxedFlag(): string[] {
  const probe = spawnSync(process.execPath, [FLAG, "-e", "0"], { encoding: "utf8", timeout: 30_000 });
  return probe.status === 0 ? [FLAG] : [];
}

interface ChildReport {
  readonly support: { readonly available: boolean; readonly reason: string };
  readonly enabled: boolean;
  readonly products: readonly { readonly shape: readonly (number | boolean)[]; readonly relaxed: number; readonly plain: number; readonly sameForThreads: boolean; readonly workerTasks: number; readonly large: boolean; readonly differsFromDefault: boolean }[];
  readonly conv: { readonly sameForThreads: boolean; readonly workerTasks: number; readonly worstRelative: number };
  readonly jit: { readonly offAgain: boolean; readonly onWithinBound: number };
}

test("relaxed SIMD: within the matmul's bound, the same bits at 1, 2 and 3 threads, and switched per call", () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const script = join(folder, "child.mjs");
  writeFileSync(join(folder, "child-source.ts"), child);
  buildSync({ entryPoints: [join(folder, "child-source.ts")], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "error", ignoreAnnotations: true }); // keep the primitives registry, which package.json marks free of side effects
  const run = spawnSync(process.execPath, [...relaxedFlag(), script, String(seed)], { encoding: "utf8", timeout: 240_000, env: { ...process.env, STRATUM_RELAXED_SIMD: "" } });
  const where = `seed ${seed} (the child's stderr: ${run.stderr.slice(0, 2000)})`;
  expect(run.error, `the child did not finish: ${where}`).toBeUndefined();
  expect(run.status, where).toBe(0);
  const report = JSON.parse(run.stdout) as ChildReport; // the child prints one JSON.stringify of this shape (above)
  if (process.env["STRATUM_LAW_VERBOSE"] === "1") console.log(JSON.stringify(report, null, 1));
  expect(report.support.available, where).toBe(true);
  expect(report.enabled, where).toBe(true);
  for (const p of report.products) {
    const what = `${p.shape.join(" x ")}, ${where}`;
    expect(p.relaxed, `relaxed error over the bound at ${what}`).toBeLessThanOrEqual(1);
    expect(p.plain, `default error over the bound at ${what}`).toBeLessThanOrEqual(1);
    expect(p.sameForThreads, `relaxed bits by thread count at ${what}`).toBe(true);
  }
  const large = report.products.filter((p) => p.large);
  expect(large.reduce((sum, p) => sum + p.workerTasks, 0), `workers ran none of the large relaxed products' tasks: ${where}`).toBeGreaterThan(0);
  // On a CPU with FMA (every x86-64 since 2013, every arm64) the relaxed kernel's fused sums differ from the default's somewhere:
  // this is what shows the relaxed kernel ran at all.
  expect(report.products.some((p) => p.differsFromDefault), `relaxed and default bits agree everywhere: ${where}`).toBe(true);
  expect(report.conv.sameForThreads, where).toBe(true);
  expect(report.conv.workerTasks, where).toBeGreaterThan(0);
  expect(report.conv.worstRelative, where).toBeLessThan(1e-5);
  expect(report.jit.offAgain, where).toBe(true);
  expect(report.jit.onWithinBound, where).toBeLessThanOrEqual(1);
}, 300_000);

test("where relaxed SIMD is missing, asking for it changes nothing and says why", () => {
  const a = new Tensor([40, 70], "float32", Float32Array.from({ length: 2800 }, (_, i) => Math.sin(i)));
  const b = new Tensor([70, 30], "float32", Float32Array.from({ length: 2100 }, (_, i) => Math.cos(i)));
  const before = matmul(a, b).data.slice();
  const used = setRelaxedSimd(true);
  const support = relaxedSimdSupport();
  expect(support.enabled).toBe(used);
  expect(support.enabled).toBe(support.available);
  if (support.available) {
    expect(support.reason).toBe("");
  } else {
    expect(support.reason).toMatch(/relaxed SIMD/);
    expect(Array.from(matmul(a, b).data)).toEqual(Array.from(before));
  }
  expect(setRelaxedSimd(false)).toBe(false);
  expect(relaxedSimdSupport().enabled).toBe(false);
  expect(Array.from(matmul(a, b).data)).toEqual(Array.from(before));
  expect(() => setRelaxedSimd("yes" as unknown as boolean)).toThrow(/setRelaxedSimd/); // a caller without types may pass anything
});
