/**
 * Global set-up of the package tests: packs the tarball as `npm publish`
 * would (its `prepack` builds `dist/`), and installs it into a fresh project
 * in the system's temporary folder, where neither the repo's sources nor its
 * `node_modules` can be reached. The consumer and browser tests work in that
 * project. Set STRATUM_KEEP_CONSUMER=1 to keep the folder for a look.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

/** What the set-up hands the tests. */
export interface Consumer {
  /** The consumer project's folder (it has `node_modules/stratum` installed from the tarball, and the fixtures). */
  readonly dir: string;
  /** The tarball's path and size in bytes. */
  readonly tarball: string;
  readonly tarballBytes: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    consumer: Consumer;
  }
}

const root = resolve(import.meta.dirname, "..", "..");

/** The exact installed version of a dev dependency of the repo, so the consumer installs the same one from the cache. */
function installedVersion(name: string): string {
  const manifest: unknown = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"));
  const version = (manifest as { version?: unknown }).version; // a package.json; checked just below
  if (typeof version !== "string") throw new Error(`no version in ${name}'s package.json`);
  return version;
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "stratum-consumer-"));
  const packed: unknown = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
  const filename = Array.isArray(packed) ? (packed[0] as { filename?: unknown }).filename : undefined; // npm pack --json: one entry per package
  if (typeof filename !== "string") throw new Error("npm pack did not name its tarball");
  const tarball = join(dir, filename);
  const manifest = {
    name: "stratum-consumer",
    private: true,
    type: "module",
    dependencies: { stratum: `file:./${filename}`, "fp-ts": installedVersion("fp-ts") },
    devDependencies: { "@types/node": installedVersion("@types/node") },
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  cpSync(join(root, "test", "package", "fixtures"), dir, { recursive: true });
  project.provide("consumer", { dir, tarball, tarballBytes: statSync(tarball).size });
  return () => {
    if (process.env["STRATUM_KEEP_CONSUMER"] === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log(`consumer project kept in ${dir}`);
  };
}
