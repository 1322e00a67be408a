/**
 * The .npz reader on archives NumPy wrote with `savez` (stored) and
 * `savez_compressed` (deflated), and on archives holding something else.
 */

import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { tensor } from "../../src/core/create.js";
import { encodeNpy } from "../../src/io/npy.js";
import { readNpz } from "../../src/io/npz.js";
import { contentsOf, expected, type Expected, fixture, storedValues } from "./npy-fixtures.js";
import { zipOf } from "./zip-files.js";

function leftMessage(x: E.Either<Error, unknown>): string {
  if (E.isRight(x)) throw new Error("expected a Left");
  return x.left.message;
}

describe("readNpz", () => {
  for (const file of ["stored.npz", "deflated.npz", "images.npz"]) {
    test(`${file} gives NumPy's arrays by name`, () => {
      // Sound: an archive's entry in expected.json maps names to arrays.
      const want = expected[file] as { readonly [name: string]: Expected };
      const arrays = readNpz(fixture(file));
      if (E.isLeft(arrays)) throw arrays.left;
      expect([...arrays.right.keys()].sort()).toEqual(Object.keys(want).sort());
      for (const [name, x] of arrays.right) {
        const e = want[name];
        if (e === undefined) throw new Error(name);
        expect(contentsOf(x), name).toEqual({ dtype: e.dtype, shape: e.shape, values: storedValues(e) });
      }
    });
  }

  test("names the entry that is not a .npy file, or not a good one", () => {
    expect(leftMessage(readNpz(zipOf([{ name: "notes.txt", data: new Uint8Array(3) }])))).toBe('npz: entry "notes.txt" is not a .npy file');
    expect(leftMessage(readNpz(zipOf([{ name: "x.npy", data: new Uint8Array(3) }])))).toMatch(/^npz: entry "x.npy": npy: the file does not start with the magic string/);
    expect(leftMessage(readNpz(new Uint8Array(30)))).toMatch(/^npz: zip: no end-of-central-directory record/);
  });

  test("reads an archive of encodeNpy files, stored or deflated", () => {
    const x = tensor([[1, 2], [3, 4]]);
    const arrays = readNpz(zipOf([{ name: "x.npy", data: encodeNpy(x) }, { name: "y.npy", data: encodeNpy(tensor([true])), method: 8 }]));
    if (E.isLeft(arrays)) throw arrays.left;
    expect([...(arrays.right.get("x")?.data ?? [])]).toEqual([1, 2, 3, 4]);
    expect(arrays.right.get("y")?.dtype).toBe("bool");
  });
});
