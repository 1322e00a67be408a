/**
 * A Node script that uses the worker pool exits on its own when its work is
 * done: a child process (bundled from the sources) takes its thread count
 * from STRATUM_NUM_THREADS, runs parallel products with the workers booted,
 * prints what it saw and returns from its module; it must end by itself.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { afterAll, expect, test } from "vitest";

const folder = mkdtempSync(join(tmpdir(), "stratum-threads-exit-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const child = `
import { matmul, ones, getThreads, threadSupport } from ${JSON.stringify(resolve("src/index.ts"))};
import { tasksRunByWorkers, threadsReady } from ${JSON.stringify(resolve("src/backend/threads/pool.ts"))};
await threadsReady();
const x = ones([256, 256], "float32");
let total = 0;
for (let i = 0; i < 5; i++) total = matmul(x, x).toArray()[0];
console.log(JSON.stringify({ threads: getThreads(), support: threadSupport(), workerTasks: tasksRunByWorkers(), total }));
`;

test("a script that ran parallel kernels exits by itself, with the thread count of STRATUM_NUM_THREADS", () => {
  const script = join(folder, "child.mjs");
  writeFileSync(join(folder, "child-source.ts"), child);
  buildSync({ entryPoints: [join(folder, "child-source.ts")], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "error", ignoreAnnotations: true }); // keep the primitives registry, which package.json marks free of side effects
  const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000, env: { ...process.env, STRATUM_NUM_THREADS: "3" } });
  expect(run.error, "the script did not exit within 60 s").toBeUndefined();
  expect(run.status).toBe(0);
  const seen = JSON.parse(run.stdout) as { threads: number; support: { available: boolean }; workerTasks: number; total: number };
  expect(seen).toMatchObject({ threads: 3, support: { available: true }, total: 256 });
  expect(seen.workerTasks).toBeGreaterThan(0);
});
