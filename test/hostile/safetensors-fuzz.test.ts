/**
 * A bounded fuzz of the safetensors readers: forged headers (every format
 * dtype and some unknown ones, shapes up to 2^31 - 1, offsets anywhere,
 * surrogate escapes, leading whitespace, lying length fields) and byte
 * mutations of valid files in every format dtype. Every read must return a
 * `Left(LoadError)` or a `Right`, never throw, and allocate at most 4 bytes
 * of tensor storage per byte of the file (U8 to int32 is the widest
 * decoding). A few thousand cases run in `npm test`; `STRATUM_FUZZ_RUNS=n`
 * runs `n` per property instead. A failing case prints its seed.
 */

import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect } from "vitest";
import { zeros } from "../../src/core/create.js";
import { encodeSafetensors, loadTree, LoadError, readSafetensors, type FormatDType, type Safetensors } from "../../src/io/index.js";
import { fileOf } from "../io/files.js";

const numRuns = Number(process.env["STRATUM_FUZZ_RUNS"] ?? 2000);

const FORMAT_DTYPES: readonly FormatDType[] = ["F64", "F32", "F16", "BF16", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8", "BOOL"];
const SIZES: Record<FormatDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };

/** What one read may allocate for tensors: 4 bytes of storage per byte of the file. */
function expectBounded(bytes: Uint8Array, file: E.Either<LoadError, Safetensors>): void {
  if (E.isLeft(file)) {
    expect(file.left).toBeInstanceOf(LoadError);
    expect(file.left.message).toMatch(/^safetensors: /);
    return;
  }
  let stored = 0;
  for (const x of file.right.tensors.values()) {
    expect(x.data.length).toBe(x.shape.reduce((a, b) => a * b, 1));
    stored += x.data.byteLength;
  }
  expect(stored).toBeLessThanOrEqual(4 * bytes.length);
}

/** Names: short ASCII, the reserved one, and escapes of lone, reversed and paired surrogates. */
const names = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom("__metadata__", "\\ud800", "\\udc00\\ud800", "\\ud83d\\ude00", "a\\u0000b", "__proto__"),
);

const dims = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53, -1, 1.5));

/** A header entry as JSON text: a random dtype name, shape and offsets (mostly plausible). */
const entries = fc
  .record({
    name: names,
    dtype: fc.oneof(fc.constantFrom<string>(...FORMAT_DTYPES), fc.constantFrom("F8_E4M3", "C64", "f32", "", "U128")),
    shape: fc.array(dims, { maxLength: 3 }),
    begin: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(2 ** 53, -1)),
    length: fc.integer({ min: 0, max: 64 }),
  })
  .map(({ name, dtype, shape, begin, length }) => `"${name.replace(/"/g, "")}":{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${begin},${begin + length}]}`);

const metadata = fc.array(fc.tuple(names, names), { maxLength: 2 }).map((pairs) => `"__metadata__":{${pairs.map(([k, v]) => `"${k.replace(/"/g, "")}":"${v.replace(/"/g, "")}"`).join(",")}}`);

/** A forged header: entries and metadata, whitespace around, sometimes truncated. */
const headers = fc
  .tuple(fc.array(entries, { maxLength: 4 }), fc.option(metadata), fc.constantFrom("", " ", "\n\t", "\u000b"), fc.nat({ max: 3 }))
  .map(([fields, meta, space, cut]) => {
    const text = `${space}{${[...(meta === null ? [] : [meta]), ...fields].join(",")}}`;
    return cut === 0 ? text : text.slice(0, text.length - cut);
  });

/** A valid file of one to three tensors in any format dtype, with random bytes. */
const validFiles = fc
  .array(
    fc.tuple(fc.constantFrom(...FORMAT_DTYPES), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })).chain(([dtype, shape]) => {
      const size = shape.reduce((a, b) => a * b, 1) * SIZES[dtype];
      return fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => ({ dtype, shape, bytes }));
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((tensors) => encodeSafetensors(tensors.map((t, i) => ({ name: `t${i}`, ...t }))));

const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });

describe("fuzzing the safetensors reader", () => {
  test.prop([headers, fc.nat({ max: 96 }), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { freq: 8 })], { numRuns })(
    "forged headers never throw and allocate at most 4 bytes per byte of the file",
    (header, data, declared) => {
      const bytes = fileOf(header, data, declared ?? undefined);
      expectBounded(bytes, readSafetensors(bytes));
    },
  );

  test.prop([validFiles, edits, fc.nat({ max: 16 })], { numRuns })("mutated files of every format dtype never throw and stay bounded", (file, changes, cut) => {
    const bytes = file.slice(0, Math.max(0, file.length - cut));
    for (const [at, value] of changes) if (bytes.length > 0) bytes[at % bytes.length] = value;
    expectBounded(bytes, readSafetensors(bytes));
  });

  test.prop([validFiles, edits], { numRuns: Math.ceil(numRuns / 4) })("loadTree of a mutated file never throws", (file, changes) => {
    const bytes = file.slice();
    for (const [at, value] of changes) bytes[at % bytes.length] = value;
    const loaded = loadTree(bytes, { t0: zeros([2]) });
    expect(E.isLeft(loaded) || E.isRight(loaded)).toBe(true);
  });
});
