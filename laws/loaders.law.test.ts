/**
 * Hostile input to the data readers: valid IDX, .npy, .npz and gzip files
 * (NumPy's fixtures, zlib's streams, hand-built IDX files), truncated,
 * bit-flipped, with forged header fields (sizes, counts, offsets at their
 * edge values), or replaced by random bytes, fed to `readIdx`, `readNpy`,
 * `readNpz`, `gunzip` and `inflateRaw`. Each read must
 *
 * - never throw: it returns a `Right` or a `Left(LoadError)`;
 * - finish quickly (no hang on a forged length or a looping stream);
 * - allocate no more than a small multiple of its input: the tensors it
 *   returns hold at most 4 bytes per input byte (a byte becomes an int32),
 *   times DEFLATE's largest expansion (1032) where the input is compressed.
 *
 * The runs are fixed (a few seconds in all); set STRATUM_FUZZ_RUNS for a
 * longer campaign, e.g. `STRATUM_FUZZ_RUNS=20000 npx vitest run laws/loaders.law.test.ts`.
 * A failure prints its seed and the shrunk input.
 */

import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { readdirSync } from "node:fs";
import { deflateRawSync, gzipSync } from "node:zlib";
import { describe, expect } from "vitest";
import type { DType } from "../src/core/dtype.js";
import type { Tensor } from "../src/core/tensor.js";
import { gunzip, inflateRaw, LoadError, readIdx, readNpy, readNpz } from "../src/io/index.js";
import { fixture, FIXTURES } from "../test/io/npy-fixtures.js";

const numRuns = Number(process.env["STRATUM_FUZZ_RUNS"] ?? 1000);

/** The longest one read may take, in milliseconds: generous for a loaded 2-core machine, far below a hang. */
const TIME_LIMIT = 1000;

/** DEFLATE's largest expansion, and int32's 4 bytes per input byte. */
const INFLATE_RATIO = 1032;
const WIDEN = 4;

function idxOf(code: number, dims: readonly number[], size: number): Uint8Array {
  const count = dims.reduce((n, d) => n * d, 1);
  const out = new Uint8Array(4 + 4 * dims.length + size * count);
  out.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  for (let i = 4 + 4 * dims.length; i < out.length; i++) out[i] = (i * 37) & 0xff;
  return out;
}

const idxSeeds = [idxOf(0x08, [3, 4, 4], 1), idxOf(0x0d, [5, 2], 4), idxOf(0x0e, [3], 8), idxOf(0x0b, [], 2), idxOf(0x09, [0, 7], 1)];
const npySeeds = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".npy"))
  .map(fixture);
const npzSeeds = ["stored.npz", "deflated.npz", "images.npz"].map(fixture);
const text = new TextEncoder().encode("the quick brown tensor jumps over the lazy gradient; ".repeat(40));
const gzipSeeds = [new Uint8Array(gzipSync(text)), new Uint8Array(gzipSync(new Uint8Array(0))), ...idxSeeds.slice(0, 2).map((s) => new Uint8Array(gzipSync(s, { level: 9 })))];
const deflateSeeds = [0, 1, 6, 9].map((level) => new Uint8Array(deflateRawSync(text, { level })));

/** Edge values of a forged size, count, offset or length field. */
const forgedValues = fc.oneof(fc.constantFrom(0, 1, 2, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff), fc.nat({ max: 0xffffffff }));

/** One way of damaging a file. */
type Damage =
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "flip"; readonly bits: readonly number[] }
  | { readonly kind: "forge"; readonly fromEnd: boolean; readonly at: number; readonly value: number; readonly littleEndian: boolean }
  | { readonly kind: "random"; readonly bytes: Uint8Array };

const damages: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("forge" as const), fromEnd: fc.boolean(), at: fc.nat({ max: 200 }), value: forgedValues, littleEndian: fc.boolean() }),
  fc.record({ kind: fc.constant("random" as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
);

/** `seed` with `damage` done to a copy of it. */
function damaged(seed: Uint8Array, damage: Damage): Uint8Array {
  if (damage.kind === "random") return damage.bytes;
  if (damage.kind === "truncate") return seed.slice(0, damage.at % (seed.length + 1));
  const out = seed.slice();
  if (out.length === 0) return out;
  if (damage.kind === "flip") {
    for (const bit of damage.bits) {
      const at = Math.floor(bit / 8) % out.length;
      out[at] = (out[at] ?? 0) ^ (1 << bit % 8);
    }
    return out;
  }
  if (out.length < 4) return out;
  // Forge a 4-byte field near the start (headers) or the end (a zip's directory and end record).
  const offset = damage.at % (out.length - 3);
  new DataView(out.buffer).setUint32(damage.fromEnd ? out.length - 4 - offset : offset, damage.value, damage.littleEndian);
  return out;
}

/** Runs `read` on `input` and checks the promises: no throw, an Either, quick, bounded. */
function checkRead<A>(input: Uint8Array, read: (bytes: Uint8Array) => E.Either<LoadError, A>, sizeOf: (a: A) => number, ratio: number): void {
  const start = performance.now();
  let result: E.Either<LoadError, A>;
  try {
    result = read(input);
  } catch (e) {
    throw new Error(`the reader threw: ${String(e)}`);
  }
  expect(performance.now() - start).toBeLessThan(TIME_LIMIT);
  expect(E.isLeft(result) || E.isRight(result)).toBe(true);
  if (E.isLeft(result)) {
    expect(result.left).toBeInstanceOf(LoadError);
    expect(result.left.message.length).toBeGreaterThan(0);
  } else {
    expect(sizeOf(result.right)).toBeLessThanOrEqual(ratio * input.length + 1024);
  }
}

const tensorBytes = (x: Tensor<number[], DType>): number => x.data.byteLength;
const mapBytes = (m: Map<string, Tensor<number[], DType>>): number => [...m.values()].reduce((n, x) => n + x.data.byteLength, 0);
const length = (b: Uint8Array): number => b.length;

describe("hostile input to the data readers", () => {
  test.prop([fc.constantFrom(...idxSeeds, ...gzipSeeds.slice(2)), damages], { numRuns })("readIdx: never a throw, a hang or an outsized tensor", (seed, damage) => {
    const input = damaged(seed, damage);
    const compressed = input[0] === 0x1f && input[1] === 0x8b;
    checkRead(input, (b) => readIdx(b), tensorBytes, compressed ? WIDEN * INFLATE_RATIO : WIDEN);
  });

  test.prop([fc.constantFrom(...npySeeds), damages], { numRuns })("readNpy: never a throw, a hang or an outsized tensor", (seed, damage) => {
    checkRead(damaged(seed, damage), readNpy, tensorBytes, WIDEN);
  });

  test.prop([fc.constantFrom(...npzSeeds), damages], { numRuns })("readNpz: never a throw, a hang or outsized tensors", (seed, damage) => {
    checkRead(damaged(seed, damage), (b) => readNpz(b), mapBytes, WIDEN * INFLATE_RATIO);
  });

  test.prop([fc.constantFrom(...gzipSeeds), damages], { numRuns })("gunzip: never a throw, a hang or more than DEFLATE's expansion", (seed, damage) => {
    checkRead(damaged(seed, damage), (b) => gunzip(b, 2 ** 26), length, INFLATE_RATIO);
  });

  test.prop([fc.constantFrom(...deflateSeeds), damages], { numRuns })("inflateRaw: never a throw, a hang or more than DEFLATE's expansion", (seed, damage) => {
    checkRead(damaged(seed, damage), (b) => inflateRaw(b, 2 ** 26), length, INFLATE_RATIO);
  });

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 2000 })], { numRuns })("inflateRaw on random bytes: never a throw or a hang", (bytes) => {
    checkRead(bytes, (b) => inflateRaw(b, 2 ** 26), length, INFLATE_RATIO);
  });
});
