// A/B of two builds' float32 WebAssembly tanh in one process, on one thread: the gelu chain
// gelu(x * a + b, { approximate: "tanh" }) and tanh alone, over 4M float32 (4096 x 1024, as in
// bench/gelu-ab.ts), and the fused tanh kernel alone on buffers it reuses. Each build's jitted functions come from its own modules; the rounds alternate
// one call of each side, so that a busy machine slows both alike, and each call is timed by wall
// clock and by this process's CPU time (process.cpuUsage, user + system). Prints medians and the
// after / before ratios.
// Usage: node bench/tanh-ab.mjs BEFORE_BUILD AFTER_BUILD [ROUNDS]
// (a build is a directory as `npm run compile` makes under .build)
import { resolve } from "node:path";
import { loadavg } from "node:os";

const [beforeDir, afterDir, rounds = "60"] = process.argv.slice(2);
const load = async (dir) => {
  const at = (file) => import(resolve(dir, "src", file));
  const [{ Tensor }, { gelu, tanh }, { add, mul }, { jit }, { setThreads, threadsReady }] = await Promise.all(
    ["core/tensor.js", "ops/activations.js", "ops/elementwise.js", "transforms/jit.js", "index.js"].map(at),
  );
  const [{ fuseProgram }, { wasmKernel }, { bind }, { traceProgram }] = await Promise.all(["ir/fusion/fuse.js", "backend/wasm/runtime.js", "prims/index.js", "transforms/trace.js"].map(at));
  setThreads(1);
  await threadsReady();
  return { Tensor, gelu, tanh, add, mul, jit, fuseProgram, wasmKernel, bind, traceProgram };
};
const builds = { before: await load(beforeDir), after: await load(afterDir) };
const [rows, cols] = [4096, 1024];
const uniform = (size, seed, scale) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * scale - scale;
  });
};
const [xData, aData, bData] = [uniform(rows * cols, 1, 3), uniform(cols, 2, 3), uniform(cols, 3, 3)];
const workloads = {
  "gelu chain (tanh)": (m) => {
    const f = m.jit((x, a, b) => m.gelu(m.add(m.mul(x, a), b), { approximate: "tanh" }));
    const args = [new m.Tensor([rows, cols], "float32", xData), new m.Tensor([cols], "float32", aData), new m.Tensor([cols], "float32", bData)];
    return () => f(...args).data[0];
  },
  "tanh kernel alone (buffers reused)": (m) => {
    const program = m.traceProgram(([x]) => [m.bind("tanh", [x], {})], [{ shape: [rows * cols], dtype: "float32" }]);
    const step = m.fuseProgram(program).steps.find((s) => s.kind === "kernel");
    const kernel = m.wasmKernel(step.nest);
    const out = new Float32Array(rows * cols);
    return () => {
      if (!kernel.run([xData, out], step.constants)) throw new Error("declined");
      return out[0];
    };
  },
  "tanh alone": (m) => {
    const f = m.jit((x) => m.tanh(x));
    const x = new m.Tensor([rows, cols], "float32", xData);
    return () => f(x).data[0];
  },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [name, make] of Object.entries(workloads)) {
  const sides = { before: make(builds.before), after: make(builds.after) };
  for (const run of Object.values(sides)) for (let i = 0; i < 3; i++) run();
  const wall = { before: [], after: [] };
  const cpu = { before: [], after: [] };
  const loadStart = loadavg()[0];
  for (let round = 0; round < Number(rounds); round++) {
    for (const side of round % 2 === 0 ? ["before", "after"] : ["after", "before"]) {
      const [t, c] = [performance.now(), process.cpuUsage()];
      sides[side]();
      const used = process.cpuUsage(c);
      wall[side].push(performance.now() - t);
      cpu[side].push((used.user + used.system) / 1000);
    }
  }
  const [wb, wa, cb, ca] = [median(wall.before), median(wall.after), median(cpu.before), median(cpu.after)];
  console.log(
    `${name}: wall before ${wb.toFixed(2)} ms, after ${wa.toFixed(2)} ms (after/before ${(wa / wb).toFixed(2)}); ` +
      `CPU before ${cb.toFixed(2)} ms, after ${ca.toFixed(2)} ms (after/before ${(ca / cb).toFixed(2)}); ${rounds} rounds, load ${loadStart.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`,
  );
}
process.exit(0);
