/**
 * What every benchmark reports: the machine it ran on, a table on the
 * console, and its results as JSON under `bench/results/`.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (this module runs as `.build/bench/support/report.js`). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The machine and versions a benchmark runs on, as its results record them. */
export interface Environment {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly logicalCores: number;
  readonly platform: string;
  readonly tfjs: string;
}

/** The environment now, with TensorFlow.js version `tfjs`. */
export function environment(tfjs: string): Environment {
  return { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? "unknown", logicalCores: cpus().length, platform: `${platform()} ${arch()}`, tfjs };
}

/** The first line a benchmark prints: node, the CPU and the tfjs version. */
export function describeEnvironment(env: Environment): string {
  return `node ${env.node}, ${env.cpu} (${env.logicalCores} logical cores), TensorFlow.js ${env.tfjs}`;
}

/** Prints a table after an empty line: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(`\n${line(header)}`);
  for (const row of rows) console.log(line(row));
}

/** Writes `text` as `bench/results/<file>` and says where. */
export function writeResultsFile(file: string, text: string): void {
  const out = join(root, "bench", "results", file);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`\nwritten to ${out}`);
}

/** Writes `results` as `bench/results/<name>.json` and says where. */
export function writeResults(name: string, results: unknown): void {
  writeResultsFile(`${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
}

/** Whether the module at `url` (its `import.meta.url`) is the script node was started with, not an import. */
export function isEntryPoint(url: string): boolean {
  const script = process.argv[1];
  return script !== undefined && url === pathToFileURL(script).href;
}
