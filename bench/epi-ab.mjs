// A/B of two builds in one process (the bias-epilogue fold of branch epi, commit 3c22e7a, against main): the MLP training
// step of bench/mlp.bench.ts and a jitted forward dense layer x @ W + b and relu(x @ W + b), [128, 784] @ [784, 512];
// interleaved rounds, medians of wall and CPU ms a step, and whether the two builds give the same bits.
// Usage: node bench/epi-ab.mjs BEFORE_BUILD AFTER_BUILD [BUDGET_MS] [THREADS] (a build: the .build folder `npm run compile` makes)
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadavg } from "node:os";

const [beforeDir, afterDir, budget = "8000", threads = "1"] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };
async function load(root) {
  const at = (p) => pathToFileURL(resolve(root, p)).href;
  const { Tensor } = await import(at("src/core/tensor.js"));
  const index = await import(at("src/index.js"));
  const { jit } = await import(at("src/transforms/jit.js"));
  const mlp = await import(at("bench/mlp.bench.js"));
  const pool = await import(at("src/backend/threads/pool.js"));
  index.setThreads(Number(threads));
  await pool.threadsReady();
  const x = new Tensor([mlp.BATCH, 784], "float32", mlp.inputData.slice());
  const y = new Tensor([mlp.BATCH], "int32", mlp.labelData.slice());
  let p = mlp.stratumParams();
  const first = () => { let q = mlp.stratumParams(); for (let i = 0; i < 3; i++) q = mlp.jittedStep(q, x, y).params; return q; };
  const w = new Tensor([784, 512], "float32", mlp.initial.w1.slice());
  const b = new Tensor([512], "float32", Float32Array.from({ length: 512 }, (_, i) => Math.sin(i) / 10));
  const dense = jit((xs, ws, bs) => index.add(index.matmul(xs, ws), bs));
  const denseRelu = jit((xs, ws, bs) => index.relu(index.add(index.matmul(xs, ws), bs)));
  return {
    first,
    steps: {
      mlpStep: () => { const out = mlp.jittedStep(p, x, y); p = out.params; return out.loss.item(); },
      dense: () => dense(x, w, b).data[0],
      denseRelu: () => denseRelu(x, w, b).data[0],
    },
    dense: () => dense(x, w, b).data,
  };
}
const builds = { before: await load(beforeDir), after: await load(afterDir) };
const bitsOf = (tree) => (tree?.data instanceof Float32Array ? [tree.data] : tree !== null && typeof tree === "object" ? Object.values(tree).flatMap(bitsOf) : []);
const same = (a, b) => a.length === b.length && a.every((x, i) => Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)) === 0);
console.log(`${threads} thread(s)`);
console.log(`MLP params after 3 steps: ${same(bitsOf(builds.before.first()), bitsOf(builds.after.first())) ? "same bits" : "DIFFERENT bits"}; dense layer output: ${same([builds.before.dense()], [builds.after.dense()]) ? "same bits" : "DIFFERENT bits"}`);
for (const name of Object.keys(builds.after.steps)) {
  for (const side of ["before", "after"]) for (let i = 0; i < 5; i++) builds[side].steps[name]();
  const wall = { before: [], after: [] }, cpu = { before: [], after: [] };
  const load0 = loadavg()[0];
  const start = performance.now();
  for (let round = 0; round < 20 || (round < 3000 && performance.now() - start < Number(budget)); round++) {
    for (const side of round % 2 === 0 ? ["before", "after"] : ["after", "before"]) {
      const c = process.cpuUsage(); const t = performance.now();
      builds[side].steps[name]();
      wall[side].push(performance.now() - t); const d = process.cpuUsage(c); cpu[side].push((d.user + d.system) / 1000);
    }
  }
  const r = (o) => `${median(o.before).toFixed(3)} -> ${median(o.after).toFixed(3)} ms (after/before ${(median(o.after) / median(o.before)).toFixed(3)})`;
  const ratios = wall.after.map((a, i) => a / wall.before[i]).sort((a, b) => a - b);
  console.log(`${name}: wall ${r(wall)}, per-round ratio quartiles ${ratios[ratios.length >> 2].toFixed(3)}/${ratios[ratios.length >> 1].toFixed(3)}/${ratios[(3 * ratios.length) >> 2].toFixed(3)}; CPU ${r(cpu)}; ${wall.after.length} rounds, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);
}
process.exit(0);
