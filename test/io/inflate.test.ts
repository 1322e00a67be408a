/**
 * The DEFLATE decoder and gunzip against Node's zlib: every level and
 * strategy, random and compressible data, empty input, multi-member files,
 * header fields, and the ways a stream can be malformed.
 */

import * as E from "fp-ts/lib/Either.js";
import { constants, deflateRawSync, gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { crc32, gunzip, inflateRaw, isGzip } from "../../src/io/inflate.js";

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like data with repeats far and near, so every length and distance code appears. */
function compressible(n: number): Uint8Array {
  const words = ["tensor", "shape", "stratum", "gradient", "kernel", "\n", " ", "0123456789"];
  const out = new Uint8Array(n);
  const r = randomBytes(n, 7);
  for (let i = 0; i < n; ) {
    const w = words[(r[i] ?? 0) % words.length] ?? "";
    for (let k = 0; k < w.length && i < n; k++) out[i++] = w.charCodeAt(k);
  }
  return out;
}

const MAX = 2 ** 26;

function right<A>(x: E.Either<unknown, A>): A {
  if (E.isLeft(x)) throw new Error(String(x.left));
  return x.right;
}

/** Byte equality without vitest's element-by-element diffing (slow on large arrays). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** A copy of `bytes` with byte `at` xor-ed with `mask`. */
function flip(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] ?? 0) ^ mask;
  return out;
}

function leftMessage(x: E.Either<Error, unknown>): string {
  if (E.isRight(x)) throw new Error("expected a Left");
  return x.left.message;
}

const inputs: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["one byte", new Uint8Array([42])],
  ["random 100 kB", randomBytes(100_000)],
  ["compressible 300 kB", compressible(300_000)],
  ["zeros 200 kB", new Uint8Array(200_000)],
];

const strategies: [string, number][] = [
  ["default", constants.Z_DEFAULT_STRATEGY],
  ["filtered", constants.Z_FILTERED],
  ["huffman only", constants.Z_HUFFMAN_ONLY],
  ["rle", constants.Z_RLE],
  ["fixed", constants.Z_FIXED],
];

describe("inflateRaw", () => {
  for (const [name, data] of inputs) {
    for (const level of [0, 1, 6, 9]) {
      test(`decodes zlib's raw deflate of ${name} at level ${level}`, () => {
        expectBytes(right(inflateRaw(deflateRawSync(data, { level }), MAX)), data);
      });
    }
    for (const [strategyName, strategy] of strategies) {
      test(`decodes zlib's raw deflate of ${name} with strategy ${strategyName}`, () => {
        expectBytes(right(inflateRaw(deflateRawSync(data, { strategy }), MAX)), data);
      });
    }
  }

  test("decodes small windows and memory levels", () => {
    const data = compressible(50_000);
    for (const windowBits of [9, 12, 15]) {
      expectBytes(right(inflateRaw(deflateRawSync(data, { windowBits, memLevel: 1 }), MAX)), data);
    }
  });

  test("refuses output past the limit, and accepts exactly the limit", () => {
    const data = new Uint8Array(10_000);
    const packed = deflateRawSync(data);
    expect(leftMessage(inflateRaw(packed, 9_999))).toMatch(/^inflate: the output is larger than the limit of 9999 bytes$/);
    expectBytes(right(inflateRaw(packed, 10_000)), data);
  });

  test("refuses a bad limit", () => {
    expect(leftMessage(inflateRaw(new Uint8Array([3, 0]), -1))).toMatch(/maxOutput must be a non-negative integer/);
  });

  test("says a truncated stream is truncated", () => {
    const packed = deflateRawSync(compressible(10_000));
    for (const cut of [0, 1, 5, packed.length >> 1, packed.length - 1]) {
      expect(E.isLeft(inflateRaw(packed.subarray(0, cut), MAX))).toBe(true);
    }
    expect(leftMessage(inflateRaw(new Uint8Array(0), MAX))).toMatch(/truncated/);
  });

  test("refuses bytes after the end of the stream", () => {
    expect(leftMessage(inflateRaw(new Uint8Array([3, 0, 0]), MAX))).toBe("inflate: 1 bytes follow the end of the stream");
  });

  test("refuses the reserved block type", () => {
    expect(leftMessage(inflateRaw(new Uint8Array([0x07]), MAX))).toBe("inflate: a block has the reserved type 3");
  });

  test("refuses a stored block whose length fails its complement", () => {
    expect(leftMessage(inflateRaw(new Uint8Array([1, 5, 0, 0, 0, 1, 2, 3, 4, 5]), MAX))).toMatch(/does not match its complement/);
  });

  test("refuses a distance before the start of the output", () => {
    // A fixed block (bits 1, 1 0), then length symbol 257 (code 0000001: length 3) and distance symbol 0 (distance 1), with nothing written yet.
    expect(leftMessage(inflateRaw(new Uint8Array([0x03, 0x02, 0x00]), MAX))).toBe("inflate: a distance of 1 reaches before the start of the output (0 bytes)");
  });

  test("refuses a dynamic block without an end-of-block code, or with an over-subscribed code", () => {
    // A dynamic header (BFINAL=1, BTYPE=2) whose code-length code gives every symbol length 1: over-subscribed.
    expect(leftMessage(inflateRaw(new Uint8Array([0x05, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), MAX))).toMatch(/over-subscribed|incomplete/);
  });
});

describe("gunzip", () => {
  test("decodes gzipSync at every level", () => {
    const data = compressible(100_000);
    for (const level of [0, 1, 5, 9]) expectBytes(right(gunzip(gzipSync(data, { level }), MAX)), data);
  });

  test("decodes an empty file and joins members one after another", () => {
    expectBytes(right(gunzip(gzipSync(new Uint8Array(0)), MAX)), new Uint8Array(0));
    const a = randomBytes(1000, 3);
    const b = compressible(2000);
    const both = new Uint8Array([...gzipSync(a), ...gzipSync(b)]);
    expectBytes(right(gunzip(both, MAX)), new Uint8Array([...a, ...b]));
  });

  test("reads the optional header fields: extra, name, comment and header CRC", () => {
    const data = compressible(5000);
    const body = deflateRawSync(data);
    const header = [0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3, 3, 0, 1, 2, 3, ...new TextEncoder().encode("x.idx"), 0, ...new TextEncoder().encode("hi"), 0];
    const crc16 = crc32(new Uint8Array(header)) & 0xffff;
    const trailer = new Uint8Array(8);
    new DataView(trailer.buffer).setUint32(0, crc32(data), true);
    new DataView(trailer.buffer).setUint32(4, data.length, true);
    const file = new Uint8Array([...header, crc16 & 0xff, crc16 >> 8, ...body, ...trailer]);
    expectBytes(right(gunzip(file, MAX)), data);
    expect(leftMessage(gunzip(flip(file, header.length, 1), MAX))).toMatch(/^gunzip: the header's CRC-16 is/);
  });

  test("checks the CRC-32 and the size", () => {
    const file = new Uint8Array(gzipSync(compressible(3000)));
    expect(leftMessage(gunzip(flip(file, file.length - 8, 0xff), MAX))).toMatch(/^gunzip: the CRC-32 is 0x[0-9a-f]+, the data gives 0x[0-9a-f]+$/);
    expect(leftMessage(gunzip(flip(file, file.length - 4, 1), MAX))).toMatch(/^gunzip: the size is \d+ \(mod 2\^32\), the data has 3000 bytes$/);
  });

  test("refuses a wrong magic, method or reserved flag, and a truncated file", () => {
    const file = new Uint8Array(gzipSync(compressible(3000)));
    expect(leftMessage(gunzip(new Uint8Array([1, 2, 3]), MAX))).toMatch(/gzip magic number/);
    const method = file.slice();
    method[2] = 7;
    expect(leftMessage(gunzip(method, MAX))).toBe("gunzip: compression method 7 is not deflate (8)");
    const flags = file.slice();
    flags[3] = 0x20;
    expect(leftMessage(gunzip(flags, MAX))).toBe("gunzip: reserved header flags are set (0x20)");
    for (const cut of [2, 10, 17, 30, file.length - 1]) expect(E.isLeft(gunzip(file.subarray(0, cut), MAX))).toBe(true);
  });

  test("refuses output past the limit across members too", () => {
    const one = gzipSync(new Uint8Array(600));
    expect(leftMessage(gunzip(new Uint8Array([...one, ...one]), 1000))).toMatch(/larger than the limit of 400 bytes/);
  });

  test("isGzip looks at the magic number", () => {
    expect(isGzip(gzipSync(new Uint8Array(1)))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
  });

  test("crc32 of the check string", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});
