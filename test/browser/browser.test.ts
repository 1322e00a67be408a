/**
 * The package in a real browser: the consumer's model program, bundled with
 * esbuild from the installed tarball, runs in headless Chromium and must
 * report exactly the numbers the same program gives in Node (the kernels are
 * deterministic), with no console error, both in a cross-origin-isolated
 * page and in a plain one (no SharedArrayBuffer). The isolated page also
 * runs a product on two threads (Web Workers over the shared memory) and
 * checks its bits against one thread; the plain one runs on one thread and
 * says why. Then the browser example
 * (`examples/browser/`) trains in the page, and its screenshot is written to
 * `out/browser-example.png`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { startExample } from "../../examples/browser/serve.js";
import { serveRoutes } from "../../examples/browser/server.js";
import { launchChromium } from "./chromium.js";

const { dir } = inject("consumer");
const root = resolve(import.meta.dirname, "..", "..");

interface Report {
  readonly wasm: boolean;
  readonly losses: readonly number[];
  readonly logitsShape: readonly number[];
  readonly logits: readonly number[];
}

interface PageReport {
  readonly report: Report;
  readonly crossOriginIsolated: boolean;
  readonly sharedArrayBuffer: boolean;
  readonly threads: { readonly available: boolean; readonly reason: string; readonly defaultThreads: number; readonly sameBits: boolean | null; readonly workerTasks: number };
}

/** Bundles a consumer fixture as the consumer would, `stratum` resolved from its node_modules. */
function bundle(entry: string, platform: "browser" | "node", outfile?: string): string {
  const r = buildSync({ entryPoints: [join(dir, entry)], absWorkingDir: dir, bundle: true, format: "esm", platform, target: "es2022", write: outfile !== undefined, ...(outfile === undefined ? {} : { outfile: join(dir, outfile) }), logLevel: "error" });
  return r.outputFiles?.[0]?.text ?? "";
}

/** Console errors and uncaught exceptions of a page, as they happen, and a promise that rejects at the first uncaught one. */
function watchErrors(page: Page): { errors: string[]; thrown: Promise<never> } {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  const thrown = new Promise<never>((_, fail) => {
    page.on("pageerror", (error) => {
      errors.push(`uncaught: ${error.message}`);
      fail(new Error(`the page threw: ${error.message}`));
    });
  });
  thrown.catch(() => undefined); // reported through the race below, or through `errors`
  return { errors, thrown };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
});

describe("the package's model program in Chromium", () => {
  const html = '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>stratum</title></head><body><script type="module" src="./page.js"></script></body></html>';
  const routes = new Map([
    ["/", { type: "text/html; charset=utf-8", body: html }],
    ["/page.js", { type: "text/javascript; charset=utf-8", body: bundle("browser-page.ts", "browser") }],
  ]);
  bundle("main.ts", "node", "node-reference.mjs");
  const inNode = JSON.parse(execFileSync(process.execPath, ["node-reference.mjs"], { cwd: dir, encoding: "utf8" })) as Report;

  test.each([
    ["cross-origin isolated", true],
    ["not isolated (no SharedArrayBuffer)", false],
  ])("a page %s reports Node's numbers bit for bit, with no console error", async (_name, isolated) => {
    const server = await serveRoutes(routes, { isolated });
    const page = await browser.newPage();
    const { errors, thrown } = watchErrors(page);
    try {
      await page.goto(server.url);
      await Promise.race([page.waitForFunction(() => "stratumReport" in globalThis, undefined, { timeout: 120_000 }), thrown]);
      const got = (await page.evaluate(() => (globalThis as { stratumReport?: unknown }).stratumReport)) as PageReport;
      expect(got.crossOriginIsolated).toBe(isolated);
      expect(got.sharedArrayBuffer).toBe(isolated);
      expect(got.report.wasm).toBe(true);
      expect(got.report.losses[11]).toBeLessThan(0.8 * (got.report.losses[0] ?? 0));
      expect(got.report).toEqual(inNode);
      // threads: in an isolated page a product splits over two threads (Web Workers) with the same bits as one; elsewhere one thread, and why
      if (isolated) expect(got.threads).toMatchObject({ available: true, reason: "", sameBits: true });
      else expect(got.threads).toMatchObject({ available: false, defaultThreads: 1, sameBits: null });
      if (isolated) expect(got.threads.workerTasks).toBeGreaterThan(0);
      else expect(got.threads.reason).toMatch(/not cross-origin isolated/);
      console.log(`Chromium ${browser.version()}, ${isolated ? "isolated" : "plain"} page: loss ${got.report.losses[0]} -> ${got.report.losses[11]}, logits[0] ${got.report.logits[0]}; threads: ${got.threads.available ? `2-thread product, ${got.threads.workerTasks} tasks on a Web Worker` : got.threads.reason}`);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});

describe("the browser example", () => {
  test("trains on a few hundred digits, draws its loss curve and predictions, and is screenshotted to out/", async () => {
    const server = await startExample({ port: 0 });
    const page = await browser.newPage({ viewport: { width: 1040, height: 520 } });
    const { errors, thrown } = watchErrors(page);
    try {
      await page.goto(server.url);
      await Promise.race([page.waitForSelector("body[data-state]", { timeout: 240_000 }), thrown]);
      expect(await page.getAttribute("body", "data-state")).toBe("done");
      const report = (await page.evaluate(() => (globalThis as { stratumExample?: unknown }).stratumExample)) as { wasm: boolean; losses: number[]; testAccuracy: number; seconds: number };
      expect(report.wasm).toBe(true);
      const losses = report.losses;
      const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-8))).toBeLessThan(0.5 * mean(losses.slice(0, 8)));
      expect(report.testAccuracy).toBeGreaterThan(0.7);
      mkdirSync(join(root, "out"), { recursive: true });
      await page.screenshot({ path: join(root, "out", "browser-example.png") });
      console.log(`browser example: ${losses.length} steps in ${report.seconds.toFixed(1)} s, loss ${mean(losses.slice(0, 8)).toFixed(3)} -> ${mean(losses.slice(-8)).toFixed(3)}, test accuracy ${(100 * report.testAccuracy).toFixed(1)}%`);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});
