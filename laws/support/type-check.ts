/**
 * Type-checks generated TypeScript source in memory, for laws that compare a
 * type-level rule with its run-time twin on many random cases at once.
 *
 * The source is checked as if it were a file in `laws/`, with the project's
 * compiler options, in one program: a few hundred cases cost one check.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function projectOptions(): ts.CompilerOptions {
  const configPath = join(root, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return { ...parsed.options, noEmit: true, incremental: false };
}

/** A type-level equality helper to prepend to generated sources. */
export const equalityPrelude = `
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
`;

/**
 * The compiler's errors for `source` (checked as `laws/<name>.ts`), each as
 * `line N: message` followed by the text of that line.
 */
export function typeErrors(source: string, name = "generated-law-cases"): string[] {
  const fileName = join(root, "laws", `${name}.ts`).replaceAll("\\", "/");
  const options = projectOptions();
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (path, languageVersion, ...rest) =>
    path === fileName ? ts.createSourceFile(path, source, languageVersion, true) : getSourceFile(path, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (path) => path === fileName || fileExists(path);
  const program = ts.createProgram([fileName], options, host);
  const file = program.getSourceFile(fileName);
  const lines = source.split("\n");
  return ts.getPreEmitDiagnostics(program, file).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file === undefined || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `line ${line + 1}: ${message}\n    ${lines[line] ?? ""}`;
  });
}
