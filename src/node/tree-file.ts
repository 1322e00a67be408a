/**
 * Parameter trees as safetensors files on disk (Node only).
 *
 * `saveTreeFile` writes through `writeFileAtomic`, so an interrupted save
 * leaves the previous checkpoint whole; `loadTreeFile` reads a file into a
 * tree shaped like a given one and reports a missing or unreadable file as a
 * `LoadError`, like every other problem with it. The format and the naming
 * of leaves are `saveTree` / `loadTree`'s (`src/io/tree-io.ts`).
 *
 * Deliberately left out: streaming (checkpoints are read and written whole)
 * and a checksum (safetensors has none; the atomic write is what keeps a
 * file whole).
 */

import * as E from "fp-ts/lib/Either.js";
import type { Tree } from "../core/tree.js";
import type { LoadError } from "../io/load-error.js";
import type { Metadata } from "../io/safetensors.js";
import { loadTree, saveTree } from "../io/tree-io.js";
import { writeFileAtomic } from "./atomic-write.js";
import { readFileBytes } from "./data-files.js";

/**
 * Saves `tree` (and string `metadata`) as a safetensors file at `path`,
 * atomically: a save that is interrupted at any point leaves the old file
 * (or none), never a truncated one. Throws a `LoadError` for a tree that
 * cannot be named (see `saveTree`) and the file system's error when the
 * write fails.
 *
 * @example
 * saveTreeFile("out/mlp.safetensors", params, { epochs: "3" });
 */
export function saveTreeFile(path: string, tree: Tree, metadata: Metadata = {}): void {
  writeFileAtomic(path, saveTree(tree, metadata));
}

/**
 * Loads the safetensors file at `path` into a tree shaped like `like`
 * (every leaf's name, dtype and shape must match, as `loadTree` checks). A
 * file that cannot be read is a `Left` too, naming the path and the reason.
 *
 * @example
 * const loaded = loadTreeFile("out/mlp.safetensors", params); // Either<LoadError, typeof params>
 */
export function loadTreeFile<P extends Tree>(path: string, like: P): E.Either<LoadError, P> {
  return E.flatMap(readFileBytes(path), (bytes) => loadTree(bytes, like));
}
