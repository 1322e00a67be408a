/**
 * The zip reader on archives Python's zipfile wrote (through NumPy), and on
 * hand-built ones: stored and deflated entries, and every refusal (no end
 * record, ZIP64, encryption, other methods, sizes past the archive, a bad
 * CRC, duplicate names, the size limit).
 */

import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { readZip } from "../../src/io/zip.js";
import { fixture } from "./npy-fixtures.js";
import { zipOf } from "./zip-files.js";

function leftMessage(x: E.Either<Error, unknown>): string {
  if (E.isRight(x)) throw new Error("expected a Left");
  return x.left.message;
}

const hello = new TextEncoder().encode("hello, hello, hello, zip");

describe("readZip", () => {
  test("reads NumPy's stored and deflated archives", () => {
    for (const file of ["stored.npz", "deflated.npz"]) {
      const files = readZip(fixture(file));
      if (E.isLeft(files)) throw files.left;
      expect([...files.right.keys()].sort()).toEqual(["b.npy", "big_endian.npy", "mask.npy", "scalar.npy", "w.npy"]);
    }
  });

  test("reads stored and deflated entries, after an archive comment", () => {
    const files = readZip(zipOf([{ name: "a.txt", data: hello }, { name: "b/c.txt", data: hello, method: 8 }, { name: "empty", data: new Uint8Array(0) }], "a comment"));
    if (E.isLeft(files)) throw files.left;
    expect([...files.right.entries()].map(([k, v]) => [k, [...v]])).toEqual([
      ["a.txt", [...hello]],
      ["b/c.txt", [...hello]],
      ["empty", []],
    ]);
  });

  test("refuses what is not a zip archive, or a truncated one", () => {
    expect(leftMessage(readZip(new Uint8Array(10)))).toBe("zip: no end-of-central-directory record (not a zip archive, or a truncated one)");
    const file = zipOf([{ name: "a", data: hello }]);
    expect(leftMessage(readZip(file.subarray(0, file.length - 1)))).toMatch(/^zip: no end-of-central-directory record/);
    expect(leftMessage(readZip(file.subarray(10)))).toMatch(/^zip: /);
  });

  test("refuses encryption, other methods, and a bad CRC-32", () => {
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, flags: 1 }])))).toBe('zip: entry "a" is encrypted, which is not supported');
    const bzip2 = zipOf([{ name: "a", data: hello }]);
    bzip2[8] = 12;
    const at = bzip2.length - 22 - 47; // the central header's method field
    bzip2[at + 10] = 12;
    expect(leftMessage(readZip(bzip2))).toBe('zip: entry "a" uses compression method 12; only stored (0) and deflated (8) are supported');
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, crc: 1234 }])))).toMatch(/^zip: entry "a": the CRC-32 is 0x4d2, the data gives 0x[0-9a-f]+$/);
  });

  test("refuses ZIP64", () => {
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, size: 0xffffffff, method: 8 }])))).toBe('zip: entry "a" needs ZIP64, which is not supported');
    const file = zipOf([{ name: "a", data: hello }]);
    const view = new DataView(file.buffer);
    view.setUint16(file.length - 22 + 10, 0xffff, true);
    expect(leftMessage(readZip(file))).toBe("zip: ZIP64 archives are not supported");
  });

  test("checks sizes against the archive before allocating", () => {
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, method: 8, size: 2 ** 31 }])))).toMatch(/^zip: entry "a" declares 2147483648 bytes from \d+ deflated bytes, more than DEFLATE can expand to$/);
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, size: 5 }])))).toBe('zip: entry "a" is stored but its sizes differ (24 and 5)');
    const file = zipOf([{ name: "a", data: hello }]);
    new DataView(file.buffer).setUint32(file.length - 22 + 16, 5, true); // the central directory's offset
    expect(leftMessage(readZip(file))).toMatch(/^zip: /);
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello, method: 8, size: 23 }])))).toMatch(/^zip: entry "a": inflate|^zip: entry "a": .*limit of 23 bytes/);
  });

  test("refuses a name given twice and more than maxBytes in all", () => {
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello }, { name: "a", data: hello }])))).toBe('zip: entry "a" appears twice');
    expect(leftMessage(readZip(zipOf([{ name: "a", data: hello }, { name: "b", data: hello }]), { maxBytes: 47 }))).toBe("zip: the entries hold 48 bytes in all, more than the limit of 47");
  });
});
