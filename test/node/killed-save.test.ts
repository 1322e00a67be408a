/**
 * A save killed at any moment leaves the old checkpoint or the new one,
 * never a torn file: a child process saves versions of a large tree in a
 * loop and is killed with SIGKILL after varying delays; the file it leaves
 * must then load whole, every value from one version.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { loadTreeFile } from "../../src/node/index.js";

const folder = mkdtempSync(join(tmpdir(), "stratum-killed-save-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const SIZE = 1 << 21; // 8 MiB of float32 per save: long enough that kills land mid-write

/** The child: saves version 1, 2, 3, ... of { w } (every value = the version) until killed, saying each one. */
const child = `
import { full } from ${JSON.stringify(resolve("src/index.ts"))};
import { saveTreeFile } from ${JSON.stringify(resolve("src/node/index.ts"))};
const path = process.argv[2];
for (let version = 1; ; version++) {
  saveTreeFile(path, { w: full([${SIZE}], version, "float32") });
  process.stdout.write(version + "\\n");
}
`;

test("a checkpoint save killed at any point leaves a whole file of one version", async () => {
  const script = join(folder, "saver.mjs");
  writeFileSync(join(folder, "saver-source.ts"), child);
  buildSync({ entryPoints: [join(folder, "saver-source.ts")], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "error" });
  const like = { w: zeros([SIZE], "float32") };
  const delays = [5, 40, 90, 150, 230, 320]; // ms after the first completed save
  for (const [i, delay] of delays.entries()) {
    const path = join(folder, `checkpoint-${i}.safetensors`);
    const saver = spawn(process.execPath, [script, path], { stdio: ["ignore", "pipe", "inherit"] });
    let saved = 0;
    await new Promise<void>((done, fail) => {
      saver.on("error", fail);
      saver.stdout.on("data", (chunk: Buffer) => {
        const lines = chunk.toString().trim().split("\n");
        const last = Number(lines[lines.length - 1]);
        if (saved === 0 && last >= 1) setTimeout(() => saver.kill("SIGKILL"), delay);
        saved = Math.max(saved, last);
      });
      saver.on("exit", () => done());
    });
    const loaded = loadTreeFile(path, like);
    expect(E.isRight(loaded), `kill ${i} after ${delay} ms left a file that does not load`).toBe(true);
    if (E.isRight(loaded)) {
      const values = loaded.right.w.toArray();
      const version = values[0] ?? 0;
      expect(version).toBeGreaterThanOrEqual(saved); // at least the last save the child reported
      expect(values.every((v) => v === version), `kill ${i}: a file mixing versions`).toBe(true);
    }
    expect(readFileSync(path).length).toBeGreaterThan(4 * SIZE);
  }
}, 120_000);
