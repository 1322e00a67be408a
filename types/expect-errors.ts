/**
 * Runs the type tests in `types/` under each of our compilers (TypeScript 6
 * and TypeScript 7) and checks tsd's contract there: every `expectError(...)`
 * call holds at least one compile error, and no error falls outside one.
 *
 * tsd itself checks exact type identity with its bundled compiler; this
 * script makes sure the same files mean the same thing under the compilers our
 * users run. Usage: `node .build/types/expect-errors.js` after `tsc -p tsconfig.run.json`.
 */

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { compilersIn } from "./compilers.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const typesDir = join(root, "types");

const compilers = compilersIn(root);

interface Span {
  readonly file: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
}

/** The source spans of every `expectError(...)` call in the type tests. */
function expectErrorSpans(file: string): Span[] {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: Span[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "expectError") {
      const start = node.getStart(source);
      spans.push({ file, line: source.getLineAndCharacterOfPosition(start).line + 1, start, end: node.getEnd() });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

/** The compile errors of the type tests under one compiler, as positions. */
function compileErrors(tsc: string): { file: string; pos: number; text: string }[] {
  const run = spawnSync(process.execPath, [tsc, "-p", join(typesDir, "tsconfig.json"), "--pretty", "false"], {
    encoding: "utf8",
  });
  const errors: { file: string; pos: number; text: string }[] = [];
  for (const line of run.stdout.split("\n")) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (m === null) continue;
    const [, path = "", row = "0", col = "0", text = ""] = m;
    const file = resolve(root, path);
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    errors.push({ file, pos: source.getPositionOfLineAndCharacter(Number(row) - 1, Number(col) - 1), text: `${relative(root, file)}:${row}: ${text}` });
  }
  if (errors.length === 0 && run.status !== 0) errors.push({ file: "", pos: -1, text: `${run.stdout}${run.stderr}` });
  return errors;
}

const files = readdirSync(typesDir)
  .filter((name) => name.endsWith(".test-d.ts"))
  .map((name) => join(typesDir, name));
const spans = files.flatMap(expectErrorSpans);
let failures = 0;
for (const [name, tsc] of Object.entries(compilers)) {
  const errors = compileErrors(tsc);
  const stray = errors.filter((e) => !spans.some((s) => s.file === e.file && s.start <= e.pos && e.pos < s.end));
  const unmet = spans.filter((s) => !errors.some((e) => e.file === s.file && s.start <= e.pos && e.pos < s.end));
  for (const e of stray) console.error(`${name}: unexpected error ${e.text}`);
  for (const s of unmet) console.error(`${name}: ${relative(root, s.file)}:${s.line}: expectError found no error`);
  failures += stray.length + unmet.length;
  console.log(`${name}: ${files.length} files, ${spans.length} expectError calls, ${errors.length} errors, all where expected: ${stray.length + unmet.length === 0}`);
}
process.exit(failures === 0 ? 0 : 1);
