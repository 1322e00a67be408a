/**
 * Type-checking one generated file with `--extendedDiagnostics` under each of
 * our compilers, for the compile-time benchmarks.
 */

import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compilersIn } from "../../types/compilers.js";

/** The repository root (this file runs from `.build/bench/support/`). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The compilers the figures are taken with. */
export const compilers = compilersIn(root);

/** What `--extendedDiagnostics` reports of one check. */
export interface Figures {
  checkSeconds: number;
  totalSeconds: number;
  instantiations: number;
  types: number;
  memoryKiB: number;
  /** The first compile error, when the check failed (TS2589 on a stack too deep to fold); `undefined` when it passed. */
  error?: string;
}

/** Type-checks `file` alone with the project's strictness; throws on any type error unless `allowErrors`, which records the first one instead. */
export function measure(tsc: string, file: string, allowErrors = false): Figures {
  const args = [
    tsc,
    "--ignoreConfig",
    "--noEmit",
    "--extendedDiagnostics",
    "--strict",
    "--exactOptionalPropertyTypes",
    "--noUncheckedIndexedAccess",
    "--target",
    "es2022",
    "--module",
    "nodenext",
    "--skipLibCheck",
    file,
  ];
  const run = spawnSync(process.execPath, args, { encoding: "utf8", cwd: dirname(file) });
  const out = run.stdout + run.stderr;
  // a compile error, or a compiler that stopped without one (a stack overflow on a very deep expression)
  const error = /error (TS\d+: .*)/.exec(out)?.[1] ?? (run.status === 0 ? undefined : `crashed: ${/RangeError.*|Maximum call stack.*|fatal error.*/.exec(out)?.[0] ?? `exit ${String(run.status)}`}`);
  if (error !== undefined && !allowErrors) throw new Error(`type errors in ${file}:\n${out}`);
  const read = (label: string): number => {
    const m = new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(out);
    return m === null ? Number.NaN : Number(m[1]);
  };
  return {
    checkSeconds: read("Check time"),
    totalSeconds: read("Total time"),
    instantiations: read("Instantiations"),
    types: read("Types"),
    memoryKiB: read("Memory used"),
    ...(error === undefined ? {} : { error }),
  };
}
