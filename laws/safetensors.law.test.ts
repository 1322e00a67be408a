/**
 * Laws of the safetensors reader and writer, over random trees of tensors
 * (rank 0 to 3, dims of size 0 and 1 included, every dtype, special values):
 *
 * - `loadTree(saveTree(tree), tree)` is the tree again, bit for bit;
 * - `readSafetensors(writeSafetensors(tensors))` gives back every tensor;
 * - random byte mutations of a valid file never throw: each read is a `Left`
 *   or a `Right`, and completes quickly.
 *
 * A failing law prints its seed and the shrunk counterexample.
 */

import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect } from "vitest";
import { fromArray } from "../src/core/create.js";
import type { DType } from "../src/core/dtype.js";
import type { Tensor } from "../src/core/tensor.js";
import type { Tree } from "../src/core/tree.js";
import { flattenTree } from "../src/core/tree.js";
import { loadTree, readSafetensors, saveTree, writeSafetensors } from "../src/io/index.js";

const numRuns = 100;

const valuesOf: Record<DType, fc.Arbitrary<number | boolean>> = {
  float64: fc.double(),
  float32: fc.float(),
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  bool: fc.boolean(),
};

/** A random tensor of a random dtype and a shape of rank 0 to 3. */
const tensors: fc.Arbitrary<Tensor<number[], DType>> = fc
  .tuple(fc.constantFrom<DType>("float32", "float64", "int32", "bool"), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.array(valuesOf[dtype], { minLength: size, maxLength: size }).map((data) => {
      const x = fromArray(data, shape, dtype);
      if (E.isLeft(x)) throw x.left;
      return x.right;
    });
  });

/** Random trees: records (names with dots excluded, so paths stay unique) and arrays. */
const trees: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tensors,
    fc.array(tie("tree"), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }).filter((k) => !k.includes(".")), tie("tree"), { maxKeys: 3 }),
  ),
})).tree;

/** The bytes of every leaf, with its dtype and shape, in order. */
function contents(tree: Tree): unknown[] {
  return flattenTree(tree).leaves.map((x) => [x.dtype, x.shape, [...new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)]]);
}

describe("safetensors laws", () => {
  test.prop([trees], { numRuns })("saveTree then loadTree is the identity", (tree) => {
    const loaded = loadTree(saveTree(tree), tree);
    expect(E.isRight(loaded)).toBe(true);
    if (E.isRight(loaded)) expect(contents(loaded.right)).toEqual(contents(tree));
  });

  test.prop([fc.dictionary(fc.string({ maxLength: 6 }), tensors, { maxKeys: 5 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })], { numRuns })(
    "writeSafetensors then readSafetensors gives back every tensor and the metadata",
    (named, metadata) => {
      const file = readSafetensors(writeSafetensors(named, metadata));
      expect(E.isRight(file)).toBe(true);
      if (E.isLeft(file)) return;
      expect([...file.right.tensors.keys()].sort()).toEqual(Object.keys(named).sort());
      for (const [name, x] of Object.entries(named)) {
        const y = file.right.tensors.get(name);
        expect(y && contents(y)).toEqual(contents(x));
      }
      expect(Object.fromEntries(file.right.metadata)).toEqual(metadata);
    },
  );

  const mutations = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });

  // NOTE: no timing here (a hang is the test timeout's to catch); what is bounded is what a mutated file can make the reader allocate.
  test.prop([trees, mutations, fc.nat({ max: 8 })], { numRuns: 300 })("random byte mutations never throw and allocate no more than the file holds", (tree, edits, cut) => {
    const bytes = saveTree(tree).slice();
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    const input = bytes.subarray(0, bytes.length - cut);
    const file = readSafetensors(input);
    expect(E.isLeft(file) || E.isRight(file)).toBe(true);
    if (E.isRight(file)) {
      const held = [...file.right.tensors.values()].reduce((n, x) => n + x.data.byteLength, 0);
      expect(held).toBeLessThanOrEqual(4 * input.length); // a stored byte becomes at most one int32 or float32 (bool, u8 widen)
    }
  });
});
