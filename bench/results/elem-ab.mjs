// A/B of two compiled builds of Stratum in one process, interleaved round by round (bench/results/elem.md).
// Usage: node bench/results/elem-ab.mjs BASE_ROOT NEW_ROOT [workloads] [rounds]; each root holds a `.build/` (npm run compile).
const [baseRoot, newRoot, only = "gelu,mlp,lstm,transformer", roundsArg = "15"] = process.argv.slice(2);
const sides = [];
for (const [label, root] of [["before", baseRoot], ["after", newRoot]]) {
  const B = `${root}/.build/`;
  const S = await import(B + "src/index.js");
  const { Tensor } = await import(B + "src/core/tensor.js");
  const { jit } = await import(B + "src/transforms/jit.js");
  const { valueAndGrad } = await import(B + "src/transforms/grad.js");
  const { lstm } = await import(B + "src/layers/recurrent.js");
  const pool = await import(B + "src/backend/threads/pool.js");
  const mlp = await import(B + "bench/mlp.bench.js");
  const lstmBench = await import(B + "bench/lstm.bench.js");
  const transformer = await import(B + "bench/transformer.bench.js");
  const rnd = (n, s) => { const a = new Float32Array(n); let v = s; for (let i = 0; i < n; i++) { v = (v * 1103515245 + 12345) >>> 0; a[i] = (v / 2 ** 32) * 6 - 3; } return a; };
  const make = {
    gelu: () => {
      const x = new Tensor([4096, 1024], "float32", rnd(4096 * 1024, 1)), a = new Tensor([1024], "float32", rnd(1024, 2)), b = new Tensor([1024], "float32", rnd(1024, 3));
      const chain = jit((xs, as, bs) => S.gelu(S.add(S.mul(xs, as), bs), { approximate: "tanh" }));
      return () => chain(x, a, b).data[0];
    },
    mlp: () => {
      const x = new Tensor([mlp.BATCH, 784], "float32", mlp.inputData.slice()), y = new Tensor([mlp.BATCH], "int32", mlp.labelData.slice());
      let p = mlp.stratumParams();
      return () => { const out = mlp.jittedStep(p, x, y); p = out.params; return out.loss.item(); };
    },
    lstm: () => {
      const layer = lstm(lstmBench.INPUT, lstmBench.HIDDEN);
      const step = jit(valueAndGrad((p, xs) => S.mean(S.square(layer.apply(p, xs)))));
      const x = new Tensor([lstmBench.BATCH, lstmBench.STEPS, lstmBench.INPUT], "float32", lstmBench.inputData.slice());
      const p = lstmBench.stratumParams();
      return () => step(p, x)[0].item();
    },
    transformer: () => {
      const x = new Tensor([transformer.BATCH, transformer.T, transformer.D], "float32", transformer.inputData.slice());
      const p = transformer.stratumParams();
      return () => transformer.jittedStep(p, x)[0].item();
    },
  };
  sides.push({ label, pool, make });
}
const median = (xs) => { const s = [...xs].sort((p, q) => p - q); return s[s.length >> 1]; };
const rounds = Number(roundsArg);
const os = await import("node:os");
console.log(`load at start ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const w of only.split(",")) {
  const configs = [];
  for (const side of sides) for (const threads of [1, 2]) configs.push({ side, threads, step: side.make[w](), times: [] });
  for (const c of configs) { c.side.pool.setThreads(c.threads); await c.side.pool.threadsReady(); for (let i = 0; i < 3; i++) c.step(); }
  const k = w === "gelu" ? 4 : 6;
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < configs.length; j++) {
      const c = configs[(j + r) % configs.length];
      c.side.pool.setThreads(c.threads);
      for (let i = 0; i < k; i++) { const t0 = performance.now(); c.step(); c.times.push(performance.now() - t0); }
    }
  }
  const m = Object.fromEntries(configs.map((c) => [`${c.side.label} ${c.threads}T`, median(c.times)]));
  console.log(`${w}: ` + Object.entries(m).map(([key, v]) => `${key} ${v.toFixed(2)} ms`).join(", ") + ` | after/before 1T ${(m["after 1T"] / m["before 1T"]).toFixed(2)}, 2T ${(m["after 2T"] / m["before 2T"]).toFixed(2)} | load ${os.loadavg()[0].toFixed(2)}`);
}
for (const side of sides) side.pool.setThreads(1);
