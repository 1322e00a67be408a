/**
 * The compilers the project type-checks with, TypeScript 6 and TypeScript 7
 * (the `typescript7` alias), as installed under a folder's node_modules: one
 * table for the type tests, the error-line check, the type-check bench and
 * the consumer test.
 */
import { join } from "node:path";

/** Each compiler's name and the path of its `tsc` under `root`. */
export function compilersIn(root: string): Readonly<Record<"TypeScript 6" | "TypeScript 7", string>> {
  return {
    "TypeScript 6": join(root, "node_modules", "typescript", "bin", "tsc"),
    "TypeScript 7": join(root, "node_modules", "typescript7", "bin", "tsc"),
  };
}
