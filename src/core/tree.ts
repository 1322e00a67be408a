/**
 * Parameter trees: nested arrays and plain records whose leaves are tensors.
 *
 * Transforms work on flat lists of tensors; users work on trees (a model's
 * parameters, a batch). `flattenTree` lists the leaves in a fixed order
 * (arrays by index, records by sorted key) and records the structure;
 * `unflattenTree` rebuilds a tree of the same structure from new leaves.
 * Leaves are tensors only: anything else in a tree is an error naming its path.
 */

import type { DType } from "./dtype.js";
import type { Shape } from "./shape.js";
import { Tensor } from "./tensor.js";

/** The parameters of something that takes none (a primitive, a layer): the empty record. */
export type NoParams = { readonly [key: string]: never };

/** A tree of tensors. */
export type Tree = Tensor<Shape, DType> | readonly Tree[] | { readonly [key: string]: Tree };

/** The structure of a tree, without its leaves. */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "record"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

function isRecord(x: unknown): x is { readonly [key: string]: unknown } {
  if (typeof x !== "object" || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** The leaves of `tree` in order, and its structure. */
export function flattenTree(tree: unknown, path = "tree"): { leaves: Tensor<Shape, DType>[]; def: TreeDef } {
  const leaves: Tensor<Shape, DType>[] = [];
  const walk = (x: unknown, at: string): TreeDef => {
    if (x instanceof Tensor) {
      leaves.push(x);
      return { kind: "leaf" };
    }
    if (Array.isArray(x)) return { kind: "array", children: x.map((c: unknown, i) => walk(c, `${at}[${i}]`)) };
    if (isRecord(x)) {
      const keys = Object.keys(x).sort();
      return { kind: "record", keys, children: keys.map((k) => walk(x[k], `${at}.${k}`)) };
    }
    throw new TypeError(`${at} is ${x === null ? "null" : typeof x}, not a tensor, an array or a record`);
  };
  const def = walk(tree, path);
  return { leaves, def };
}

/** A tree of structure `def` with the given leaves, in `flattenTree`'s order. */
export function unflattenTree<T>(def: TreeDef, leaves: readonly Tensor<Shape, DType>[]): T {
  let next = 0;
  const build = (d: TreeDef): unknown => {
    if (d.kind === "leaf") {
      const leaf = leaves[next++];
      if (leaf === undefined) throw new Error("unflattenTree: fewer leaves than the structure holds");
      return leaf;
    }
    if (d.kind === "array") return d.children.map(build);
    const out: Record<string, unknown> = {};
    d.keys.forEach((k, i) => {
      const child = d.children[i];
      if (child !== undefined) out[k] = build(child);
    });
    return out;
  };
  const tree = build(def);
  if (next !== leaves.length) throw new Error("unflattenTree: more leaves than the structure holds");
  return tree as T; // the caller names the type of the tree whose structure `def` records
}

/** A string that is equal for two trees exactly when their structures are. */
export function treeDefKey(def: TreeDef): string {
  if (def.kind === "leaf") return "*";
  if (def.kind === "array") return `[${def.children.map(treeDefKey).join(",")}]`;
  return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treeDefKey(def.children[i] ?? { kind: "leaf" })}`).join(",")}}`;
}
