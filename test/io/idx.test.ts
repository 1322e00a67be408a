/**
 * The IDX reader on hand-built files of every element type and rank, plain
 * and gzip-compressed, on forged headers, and its typed variant.
 */

import * as E from "fp-ts/lib/Either.js";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { readIdx, readIdxAs, readIdxHeader } from "../../src/io/idx.js";

function leftMessage(x: E.Either<Error, unknown>): string {
  if (E.isRight(x)) throw new Error("expected a Left");
  return x.left.message;
}

/** An IDX file: type code, dims, and the big-endian bytes of `values` written by `write`. */
export function idxOf(code: number, dims: readonly number[], size: number, values: readonly number[], write?: (v: DataView, at: number, x: number) => void): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + size * values.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => (write ?? ((v, at, y) => v.setUint8(at, y)))(view, 4 + 4 * dims.length + i * size, x));
  return out;
}

const types: [string, number, number, "int32" | "float32" | "float64", number[], (v: DataView, at: number, x: number) => void][] = [
  ["ubyte", 0x08, 1, "int32", [0, 1, 128, 255, 7, 42], (v, at, x) => v.setUint8(at, x)],
  ["sbyte", 0x09, 1, "int32", [-128, 127, 0, -1, 5, 6], (v, at, x) => v.setInt8(at, x)],
  ["i16", 0x0b, 2, "int32", [-32768, 32767, 0, -1, 256, 1000], (v, at, x) => v.setInt16(at, x, false)],
  ["i32", 0x0c, 4, "int32", [-(2 ** 31), 2 ** 31 - 1, 0, -1, 65536, 3], (v, at, x) => v.setInt32(at, x, false)],
  ["f32", 0x0d, 4, "float32", [0, -0, 1.5, -2.25, Infinity, Math.fround(0.1)], (v, at, x) => v.setFloat32(at, x, false)],
  ["f64", 0x0e, 8, "float64", [0, -0, 0.1, -1e300, -Infinity, 5e-324], (v, at, x) => v.setFloat64(at, x, false)],
];

describe("readIdx", () => {
  for (const [name, code, size, dtype, values, write] of types) {
    test(`reads ${name} as ${dtype}, plain and gzip-compressed`, () => {
      const file = idxOf(code, [2, 3], size, values, write);
      for (const bytes of [file, new Uint8Array(gzipSync(file))]) {
        const x = readIdx(bytes);
        if (E.isLeft(x)) throw x.left;
        expect(x.right.dtype).toBe(dtype);
        expect(x.right.shape).toEqual([2, 3]);
        expect([...x.right.data]).toEqual(values);
      }
      expect(readIdxHeader(file)).toEqual(E.right({ type: name, shape: [2, 3], dtype }));
    });
  }

  test("reads any rank: a scalar, a vector, rank 4, and empty dims", () => {
    const scalar = readIdx(idxOf(0x08, [], 1, [9]));
    expect(E.isRight(scalar) && [scalar.right.shape, [...scalar.right.data]]).toEqual([[], [9]]);
    const rank4 = readIdx(idxOf(0x08, [1, 2, 1, 2], 1, [1, 2, 3, 4]));
    expect(E.isRight(rank4) && rank4.right.shape).toEqual([1, 2, 1, 2]);
    const empty = readIdx(idxOf(0x0d, [0, 28, 28], 4, []));
    expect(E.isRight(empty) && empty.right.shape).toEqual([0, 28, 28]);
  });

  test("refuses a bad magic number or type code", () => {
    expect(leftMessage(readIdx(new Uint8Array([0, 0, 8])))).toBe("idx: the file is 3 bytes long, shorter than the 4-byte magic number");
    expect(leftMessage(readIdx(new Uint8Array([0, 1, 8, 0, 5])))).toBe("idx: the magic number must start with two zero bytes, found 0x00 0x01");
    expect(leftMessage(readIdx(new Uint8Array([0, 0, 0x0a, 0, 5])))).toBe("idx: unknown element type 0x0a (expected 08, 09, 0b, 0c, 0d or 0e)");
  });

  test("checks the header against the file before allocating", () => {
    expect(leftMessage(readIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1])))).toBe("idx: the header declares 3 dims, which need 16 bytes, but the file has 8");
    // A forged count of 4 billion images: refused from the 16 bytes after the header, nothing allocated.
    const forged = idxOf(0x08, [0xffffffff, 28, 28], 1, [1, 2, 3]);
    expect(leftMessage(readIdx(forged))).toBe("idx: dim 0 is 4294967295, larger than 2^31 - 1");
    const big = idxOf(0x0e, [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], 1, [1, 2, 3]);
    expect(leftMessage(readIdx(big))).toBe(`idx: shape [2147483647, 2147483647, 2147483647] of f64 needs ${(2n ** 31n - 1n) ** 3n * 8n} bytes after the 16-byte header, the file has 3`);
    expect(leftMessage(readIdx(idxOf(0x08, [2, 3], 1, [1, 2, 3, 4, 5, 6, 7])))).toBe("idx: shape [2, 3] of ubyte needs 6 bytes after the 12-byte header, the file has 7");
    expect(leftMessage(readIdx(idxOf(0x08, [0, 3], 1, [1])))).toMatch(/needs 0 bytes/);
  });

  test("names gzip's problems and keeps its limit", () => {
    const file = new Uint8Array(gzipSync(idxOf(0x08, [1000], 1, new Array<number>(1000).fill(3))));
    expect(leftMessage(readIdx(file, { maxBytes: 500 }))).toBe("idx: gunzip: the output is larger than the limit of 500 bytes");
    expect(leftMessage(readIdx(file.subarray(0, file.length - 3)))).toMatch(/^idx: gunzip: /);
  });
});

describe("readIdxAs", () => {
  const labels = idxOf(0x08, [4], 1, [5, 0, 4, 1]);
  const images = idxOf(0x0d, [2, 2, 2], 4, [1, 2, 3, 4, 5, 6, 7, 8], (v, at, x) => v.setFloat32(at, x, false));

  test("gives the shape and dtype the caller states", () => {
    const x = readIdxAs(labels, [4]);
    expect(E.isRight(x) && [x.right.dtype, x.right.shape]).toEqual(["int32", [4]]);
    const y = readIdxAs(images, ["n", 2, 2], { dtype: "float32" });
    expect(E.isRight(y) && [y.right.dtype, y.right.shape]).toEqual(["float32", [2, 2, 2]]);
  });

  test("refuses another shape or dtype, naming both", () => {
    expect(leftMessage(readIdxAs(labels, [5]))).toBe("idx: the file's shape does not fit: expected shape [5], got [4]: dim 0 is 4, not 5");
    expect(leftMessage(readIdxAs(labels, [4, 1]))).toBe("idx: the file's shape does not fit: expected shape [4, 1], got [4]: rank 1, not 2");
    const grid = idxOf(0x08, [2, 3], 1, [1, 2, 3, 4, 5, 6]);
    expect(leftMessage(readIdxAs(grid, ["n", "n"]))).toBe("idx: the file's shape does not fit: expected shape [n, n], got [2, 3]: n is 2 at dim 0 but 3 at dim 1");
    expect(leftMessage(readIdxAs(images, [2, 2, 2]))).toBe("idx: the file holds float32 of shape [2, 2, 2], not int32");
  });
});
