import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { LoadError, MAX_HEADER_SIZE, readSafetensors, writeSafetensors } from "../../src/io/index.js";
import { findDuplicateKey } from "../../src/io/safetensors-header.js";
import { entry, fileOf } from "./files.js";

/** Reads `bytes`, which must give a Left, and returns its message. */
function refusal(bytes: Uint8Array): string {
  const file = readSafetensors(bytes);
  if (E.isRight(file)) throw new Error("expected a Left, got a Right");
  expect(file.left).toBeInstanceOf(LoadError);
  expect(file.left.problems).toEqual([file.left.message]);
  return file.left.message;
}

const valid = writeSafetensors({ a: tensor([1, 2, 3]), b: zeros([2], "int32"), s: tensor(true) }, { k: "v" });

describe("readSafetensors refuses malformed files with a clear message", () => {
  test("a valid file truncated at every byte is a Left", () => {
    for (let n = 0; n < valid.length; n++) {
      const message = refusal(valid.subarray(0, n));
      expect(message).toMatch(/^safetensors: (the file has \d+ bytes|header length \d+ runs past the end|the tensors cover|tensor ".*": data_offsets .* run past the end)/);
    }
    expect(E.isRight(readSafetensors(valid))).toBe(true);
  });

  test("a header length past the end of the file", () => {
    expect(refusal(fileOf("{}", 0, 100n))).toBe("safetensors: header length 100 runs past the end of the file (2 bytes follow it)");
  });

  test("a huge header length, over the limit or past 2^53", () => {
    expect(refusal(fileOf("{}", 0, BigInt(MAX_HEADER_SIZE + 1)))).toMatch(/header length 100000001 is over the limit of 100000000 bytes/);
    expect(refusal(fileOf("{}", 0, 2n ** 64n - 1n))).toMatch(/is over the limit/);
  });

  test("overlapping offsets", () => {
    const header = `{"a":${entry("U8", [4], 0, 4)},"b":${entry("U8", [4], 2, 6)}}`;
    expect(refusal(fileOf(header, 6))).toBe('safetensors: tensor "b": data_offsets [2, 6] overlap the previous tensor, which ends at 4');
  });

  test("gapped offsets, also at the start", () => {
    expect(refusal(fileOf(`{"a":${entry("U8", [2], 0, 2)},"b":${entry("U8", [2], 3, 5)}}`, 5))).toMatch(/"b": data_offsets \[3, 5\] leave a gap/);
    expect(refusal(fileOf(`{"a":${entry("U8", [2], 1, 3)}}`, 3))).toMatch(/"a": data_offsets \[1, 3\] leave a gap: the previous tensor ends at 0/);
  });

  test("offsets past the end of the data", () => {
    expect(refusal(fileOf(`{"a":${entry("F32", [4], 0, 16)}}`, 8))).toMatch(/"a": data_offsets \[0, 16\] run past the end of the data section \(8 bytes\)/);
  });

  test("offsets whose length does not match the shape", () => {
    expect(refusal(fileOf(`{"a":${entry("F32", [3], 0, 8)}}`, 8))).toMatch(/holds? 8 bytes, but F32 of shape \[3\] needs 12/);
  });

  test("dims whose product overflows", () => {
    const header = `{"a":${entry("F64", [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], 0, 8)}}`;
    expect(refusal(fileOf(header, 8))).toMatch(/shape \[2147483647, 2147483647, 2147483647\] overflows/);
    expect(refusal(fileOf(`{"a":${entry("F64", [2 ** 53], 0, 8)}}`, 8))).toMatch(/dim 0 must be a non-negative integer/);
    expect(refusal(fileOf(`{"a":${entry("U8", [0, 2 ** 40], 0, 0)}}`))).toMatch(/dim 1 is 1099511627776, larger than 2\^31 - 1/);
  });

  test("duplicate names, at the top and inside an entry or the metadata", () => {
    expect(refusal(fileOf(`{"a":${entry("U8", [1], 0, 1)},"a":${entry("U8", [1], 0, 1)}}`, 1))).toBe('safetensors: the header names "a" twice');
    expect(refusal(fileOf(`{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, 1))).toMatch(/names "dtype" twice/);
    expect(refusal(fileOf(`{"__metadata__":{"k":"1","\\u006b":"2"}}`))).toMatch(/names "k" twice/);
  });

  test("wrong JSON types in an entry", () => {
    const cases: [string, RegExp][] = [
      [`{"a":[1]}`, /"a": entry must be an object, got an array/],
      [`{"a":{"dtype":7,"shape":[],"data_offsets":[0,1]}}`, /"a": dtype must be a string, got number 7/],
      [`{"a":{"dtype":"F99","shape":[],"data_offsets":[0,1]}}`, /"a": unknown dtype "F99"/],
      [`{"a":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]}}`, /"a": dtype F8_E4M3 is not supported/],
      [`{"a":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}`, /"a": shape must be an array of sizes, got string "1"/],
      [`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, /dim 0 must be a non-negative integer, got number -1/],
      [`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, /dim 0 must be a non-negative integer/],
      [`{"a":{"dtype":"U8","shape":[null],"data_offsets":[0,1]}}`, /dim 0 must be a non-negative integer, got null/],
      [`{"a":{"dtype":"U8","shape":[1]}}`, /"a": data_offsets must be a pair \[begin, end\], got undefined/],
      [`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, /data_offsets must be a pair/],
      [`{"a":{"dtype":"U8","shape":[1],"data_offsets":["0",1]}}`, /data_offsets must be integers/],
      [`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, /data_offsets must be integers with 0 <= begin <= end, got \[1,0\]/],
      [`{"__metadata__":[]}`, /__metadata__ must be an object of strings, got an array/],
      [`{"__metadata__":{"k":1}}`, /__metadata__ "k" must be a string, got number 1/],
    ];
    for (const [header, message] of cases) expect(refusal(fileOf(header, 1))).toMatch(message);
  });

  test("a header that is not a JSON object", () => {
    expect(refusal(fileOf("[1, 2]"))).toBe("safetensors: the header must be a JSON object starting with '{'");
    expect(refusal(fileOf("null"))).toMatch(/starting with '\{'/);
    expect(refusal(fileOf('"{}"'))).toMatch(/starting with '\{'/);
    expect(refusal(fileOf("{"))).toMatch(/^safetensors: the header is not valid JSON/);
    expect(refusal(fileOf("{} x"))).toMatch(/not valid JSON/);
  });

  test("JSON whitespace before the opening brace is accepted, as the reference accepts it", () => {
    for (const space of [" ", "\n", "\t\r\n "]) {
      const file = readSafetensors(fileOf(`${space}{"a":${entry("U8", [1], 0, 1)}}`, 1));
      expect(E.isRight(file) && file.right.tensors.get("a")?.shape).toEqual([1]);
    }
    expect(refusal(fileOf("\u000b{}"))).toMatch(/starting with '\{'/); // a vertical tab is not JSON whitespace
  });

  test("a lone or reversed surrogate escape in a name, a metadata key or a value is refused", () => {
    for (const text of ["\\ud800", "\\udc00", "\\udc00\\ud800", "a\\ud83d"]) {
      expect(refusal(fileOf(`{"${text}":${entry("U8", [1], 0, 1)}}`, 1))).toMatch(/^safetensors: the header holds a string with a lone surrogate/);
      expect(refusal(fileOf(`{"__metadata__":{"${text}":"v"}}`))).toMatch(/lone surrogate/);
      expect(refusal(fileOf(`{"__metadata__":{"k":"${text}"}}`))).toMatch(/lone surrogate/);
    }
    // a proper pair is text: U+1F600
    const file = readSafetensors(fileOf(`{"__metadata__":{"k":"\\ud83d\\ude00"}}`));
    expect(E.isRight(file) && file.right.metadata.get("k")).toBe("\u{1F600}");
  });

  test("a header that is not valid UTF-8", () => {
    expect(refusal(fileOf(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe("safetensors: the header is not valid UTF-8");
    expect(refusal(fileOf(new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d])))).toMatch(/not valid UTF-8/);
  });

  test("trailing bytes after the last tensor", () => {
    const bytes = new Uint8Array(valid.length + 3);
    bytes.set(valid);
    expect(refusal(bytes)).toMatch(/the tensors cover 21 bytes of the data section, but it has 24: 3 trailing bytes/);
    expect(refusal(fileOf("{}", 1))).toMatch(/cover 0 bytes .* 1 trailing bytes/);
  });

  test("the reference's own example file reads, header padding and all", () => {
    const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    const file = readSafetensors(fileOf(header, 16));
    expect(E.isRight(file) && file.right.tensors.get("test")?.shape).toEqual([2, 2]);
  });
});

describe("findDuplicateKey", () => {
  test("finds a key repeated in one object, not across objects or in values", () => {
    expect(findDuplicateKey('{"a":{"b":1},"c":{"b":2}}')).toBeUndefined();
    expect(findDuplicateKey('{"a":"a","b":["a","a"]}')).toBeUndefined();
    expect(findDuplicateKey('{"a":{"x":1,"y":{"z":[{"q":1,"q":2}]}}}')).toBe("q");
    expect(findDuplicateKey('{"\\"a":1,"\\u0022a":2}')).toBe('"a');
  });
});
