/**
 * Saving and loading parameter trees as safetensors files.
 *
 * A tree's leaves are named by their paths joined with "." (`layers.0.w`),
 * arrays by index and records by key, in `flattenTree`'s order. `loadTree`
 * checks the file against a tree of the same structure (`like`) and reports
 * every mismatch at once: missing and extra names, wrong dtypes, wrong
 * shapes. Deliberately left out: partial loading and renaming rules.
 */

import * as E from "fp-ts/lib/Either.js";
import type { DType } from "../core/dtype.js";
import { formatShape, sameShape, type Shape } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { flattenTree, unflattenTree, type Tree, type TreeDef } from "../core/tree.js";
import { LoadError } from "./load-error.js";
import { readSafetensors, writeSafetensors, type Metadata } from "./safetensors.js";

/** The name of each leaf of `def`, in `flattenTree`'s order. */
function leafNames(def: TreeDef, prefix: readonly string[] = []): string[] {
  if (def.kind === "leaf") return [prefix.join(".")];
  if (def.kind === "array") return def.children.flatMap((c, i) => leafNames(c, [...prefix, String(i)]));
  return def.children.flatMap((c, i) => leafNames(c, [...prefix, def.keys[i] ?? ""]));
}

/** The leaves of `tree` by name, or the problems with its structure. */
function namedLeaves(tree: unknown): E.Either<string[], { def: TreeDef; named: [string, Tensor<Shape, DType>][] }> {
  let flat: ReturnType<typeof flattenTree>;
  try {
    flat = flattenTree(tree);
  } catch (e) {
    return E.left([e instanceof Error ? e.message : String(e)]);
  }
  const names = leafNames(flat.def);
  const seen = new Set<string>();
  const clashes = names.filter((n) => seen.has(n) || (seen.add(n), false));
  if (clashes.length > 0) return E.left(clashes.map((n) => `two leaves of the tree are both named ${JSON.stringify(n)}`));
  // leafNames walks the same structure as flattenTree, so there is one name per leaf.
  const named = flat.leaves.map((x, i): [string, Tensor<Shape, DType>] => [names[i] ?? "", x]);
  return E.right({ def: flat.def, named });
}

/**
 * Loads a safetensors file into a tree shaped like `like`: every leaf of
 * `like` names a tensor of the same dtype and shape in the file, and the file
 * holds nothing else. A `Left` lists every mismatch in `problems`.
 *
 * @example
 * const params = { w: zeros([2, 3]), b: zeros([3]) };
 * loadTree(saveTree(params), params); // Right({ w: Tensor<[2, 3]>, b: Tensor<[3]> })
 */
export function loadTree<P extends Tree>(bytes: Uint8Array, like: P): E.Either<LoadError, P> {
  const file = readSafetensors(bytes);
  if (E.isLeft(file)) return file;
  const expected = namedLeaves(like);
  if (E.isLeft(expected)) return E.left(new LoadError(expected.left));
  const { tensors } = file.right;
  const problems: string[] = [];
  const leaves: Tensor<Shape, DType>[] = [];
  for (const [name, x] of expected.right.named) {
    const found = tensors.get(name);
    if (found === undefined) {
      problems.push(`missing tensor ${JSON.stringify(name)} (${x.dtype}${formatShape(x.shape)})`);
      continue;
    }
    if (found.dtype !== x.dtype) problems.push(`tensor ${JSON.stringify(name)}: dtype ${found.dtype}, expected ${x.dtype}`);
    if (!sameShape(found.shape, x.shape)) {
      problems.push(`tensor ${JSON.stringify(name)}: shape ${formatShape(found.shape)}, expected ${formatShape(x.shape)}`);
    }
    leaves.push(found);
  }
  const wanted = new Set(expected.right.named.map(([name]) => name));
  for (const [name, x] of tensors) {
    if (!wanted.has(name)) problems.push(`extra tensor ${JSON.stringify(name)} (${x.dtype}${formatShape(x.shape)}) is not in the tree`);
  }
  if (problems.length > 0) return E.left(new LoadError(problems));
  // Every leaf matched a tensor of its dtype and shape, in like's structure: the tree is a P.
  return E.right(unflattenTree<P>(expected.right.def, leaves));
}

/**
 * Writes a tree as a safetensors file, each leaf under its path joined with
 * "." (as `loadTree` reads it back). Throws a `LoadError` when the tree has a
 * leaf that is not a tensor or two leaves with the same name (`{ "a.b": x,
 * a: { b: y } }`).
 *
 * @example
 * saveTree({ layers: [{ w: zeros([2, 2]) }] }); // a file with the tensor "layers.0.w"
 */
export function saveTree(tree: Tree, metadata: Metadata = {}): Uint8Array {
  const named = namedLeaves(tree);
  if (E.isLeft(named)) throw new LoadError(named.left);
  return writeSafetensors(new Map(named.right.named), metadata);
}
