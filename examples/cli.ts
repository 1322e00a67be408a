/**
 * Command-line options for the examples, parsed strictly with
 * `node:util`'s `parseArgs`: an unknown option, a missing or malformed value,
 * a number out of range or a stray positional argument is a usage error,
 * which `parseOptions` returns as a `Left` (never throws), and `optionsOrExit`
 * turns into a message, the help, and exit code 2. `--help` prints the help
 * and exits with 0.
 *
 * An example declares its options once, as a table of `Spec`s, and gets back
 * a record with one typed value per option: the table is the parser, the
 * help text and the type.
 */

import * as E from "fp-ts/lib/Either.js";
import { parseArgs } from "node:util";

/** One option: a number (integer or not, within bounds) or a string, with its default and help. */
export type Spec =
  | { readonly kind: "int" | "float"; readonly default: number; readonly min: number; readonly max: number; readonly help: string }
  | { readonly kind: "string"; readonly default: string; readonly help: string }
  | { readonly kind: "flag"; readonly default: false; readonly help: string };

/** The parsed value of each option of a table. */
export type Values<T extends Record<string, Spec>> = {
  -readonly [K in keyof T]: T[K]["default"] extends number ? number : T[K]["default"] extends boolean ? boolean : string;
};

/** What a command line asks for: a run with these values, or the help. */
export type Request<T extends Record<string, Spec>> = { readonly kind: "run"; readonly values: Values<T> } | { readonly kind: "help" };

/** The exit code of a usage error, as getopt-based tools use. */
export const USAGE_EXIT_CODE = 2;

/**
 * The help text of a command: its usage line, what it does, and one line per
 * option with its default.
 *
 * @example
 * helpText("npm run demo --", "Trains a CNN.", { epochs: { kind: "int", default: 3, min: 1, max: 100, help: "passes" } });
 */
export function helpText(command: string, summary: string, specs: Record<string, Spec>): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = spec.kind === "flag" ? `--${name}` : `--${name} ${spec.kind === "string" ? "<text>" : "<n>"}`;
    return `  ${flag.padEnd(22)} ${spec.help} (default ${String(spec.default)})`;
  });
  return [`Usage: ${command} [options]`, "", summary, "", "Options:", ...rows, `  ${"--help".padEnd(22)} print this help and exit`].join("\n");
}

/**
 * Parses `argv` (without the node and script paths) against `specs`: a
 * `Right` with the request, or a `Left` with what is wrong.
 *
 * @example
 * parseOptions(["--epochs", "2"], specs); // Right({ kind: "run", values: { epochs: 2, ... } })
 * parseOptions(["--epochs", "two"], specs); // Left("--epochs: expected an integer, got \"two\"")
 */
export function parseOptions<T extends Record<string, Spec>>(argv: readonly string[], specs: T): E.Either<string, Request<T>> {
  const options: Record<string, { type: "string" } | { type: "boolean" }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.kind === "flag" ? "boolean" : "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values["help"] === true) return E.right({ kind: "help" });
  const values: Record<string, number | string | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      values[name] = spec.default;
      continue;
    }
    if (spec.kind === "flag") {
      values[name] = raw === true;
      continue;
    }
    if (typeof raw !== "string") return E.left(`--${name}: expected a value`);
    if (spec.kind === "string") {
      if (raw.length === 0) return E.left(`--${name}: expected a non-empty value`);
      values[name] = raw;
      continue;
    }
    const x = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim()) ? Number(raw) : NaN;
    if (spec.kind === "int" && !Number.isInteger(x)) return E.left(`--${name}: expected an integer, got ${JSON.stringify(raw)}`);
    if (!Number.isFinite(x)) return E.left(`--${name}: expected a number, got ${JSON.stringify(raw)}`);
    if (x < spec.min || x > spec.max) return E.left(`--${name}: expected a value from ${spec.min} to ${spec.max}, got ${raw}`);
    values[name] = x;
  }
  // One value per key of `specs`, a number where its spec's default is a number, a boolean for a flag: a Values<T>.
  return E.right({ kind: "run", values: values as Values<T> });
}

/**
 * The values of the command line `argv`, or the process ends: with the help
 * and exit code 0 for `--help`, with the error, the help and exit code 2 for
 * a usage error.
 *
 * @example
 * const { epochs } = optionsOrExit(process.argv.slice(2), "npm run demo --", "Trains a CNN.", specs);
 */
export function optionsOrExit<T extends Record<string, Spec>>(argv: readonly string[], command: string, summary: string, specs: T): Values<T> {
  const request = parseOptions(argv, specs);
  if (E.isLeft(request)) {
    process.stderr.write(`error: ${request.left}\n\n${helpText(command, summary, specs)}\n`);
    process.exit(USAGE_EXIT_CODE);
  }
  if (request.right.kind === "help") {
    process.stdout.write(`${helpText(command, summary, specs)}\n`);
    process.exit(0);
  }
  return request.right.values;
}
