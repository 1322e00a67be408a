import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { fromArray, tensor, zeros } from "../../src/core/create.js";
import type { DType } from "../../src/core/dtype.js";
import type { Shape } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import { encodeSafetensors, readSafetensors, writeSafetensors, type FormatDType, type Safetensors } from "../../src/io/index.js";
import { fileOf } from "./files.js";

/** The tensor of a `Right`; a `Left` fails the test. */
function ok<X>(x: E.Either<Error, X>): X {
  if (E.isLeft(x)) throw x.left;
  return x.right;
}

function read(bytes: Uint8Array): Safetensors {
  const file = readSafetensors(bytes);
  if (E.isLeft(file)) throw file.left;
  return file.right;
}

function get(file: Safetensors, name: string): Tensor<number[], DType> {
  const x = file.tensors.get(name);
  if (x === undefined) throw new Error(`no tensor ${name}`);
  return x;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

describe("writeSafetensors then readSafetensors", () => {
  test("gives back tensors of every dtype bit for bit", () => {
    const tensors = {
      f64: ok(fromArray([1.5, -0, NaN, Infinity, Number.MIN_VALUE], [5], "float64")),
      f32: ok(fromArray([1, 2, 3, -Infinity, NaN, 2 ** -149], [2, 3], "float32")),
      i32: ok(fromArray([-(2 ** 31), 2 ** 31 - 1, 0, 7], [2, 2], "int32")),
      b: ok(fromArray([true, false, true], [3], "bool")),
    };
    const file = read(writeSafetensors(tensors));
    for (const [name, x] of Object.entries(tensors)) {
      const y = get(file, name);
      expect(y.dtype).toBe(x.dtype);
      expect(y.shape).toEqual(x.shape);
      expect(bytesOf(y.data)).toEqual(bytesOf(x.data));
    }
  });

  test("keeps empty tensors and rank-0 tensors", () => {
    const file = read(writeSafetensors(new Map<string, Tensor<Shape, DType>>([["empty", zeros([0, 3])], ["scalar", tensor(4)], ["none", zeros([0], "int32")]])));
    expect(get(file, "empty").shape).toEqual([0, 3]);
    expect(get(file, "empty").size).toBe(0);
    expect(get(file, "scalar").shape).toEqual([]);
    expect(get(file, "scalar").item()).toBe(4);
    expect(get(file, "none").dtype).toBe("int32");
  });

  test("keeps the metadata", () => {
    const file = read(writeSafetensors({ w: zeros([1]) }, new Map([["format", "pt"], ["note", "é \" \\ \n"]])));
    expect([...file.metadata]).toEqual([["format", "pt"], ["note", "é \" \\ \n"]]);
  });

  test("a tensor named __proto__ is an ordinary entry of the map", () => {
    const tensors = new Map<string, Tensor<Shape, DType>>([["__proto__", tensor([1, 2])], ["constructor", tensor([3])]]);
    const file = read(writeSafetensors(tensors, new Map([["__proto__", "meta"]])));
    expect(get(file, "__proto__").toArray()).toEqual([1, 2]);
    expect(get(file, "constructor").toArray()).toEqual([3]);
    expect(file.metadata.get("__proto__")).toBe("meta");
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  test("an empty file of tensors round trips", () => {
    const file = read(writeSafetensors({}));
    expect(file.tensors.size).toBe(0);
  });
});

describe("the writer's layout follows the reference writer", () => {
  test("an empty file is {} padded to 8 bytes", () => {
    expect([...writeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  });

  test("a float32 tensor is written byte for byte as the reference writes it", () => {
    const out = writeSafetensors({ "attn.0": ok(fromArray([0, 1, 2, 3, 4, 5], [1, 2, 3])) });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    expect(out).toEqual(fileOf(header, bytesOf(new Float32Array([0, 1, 2, 3, 4, 5]))));
  });

  test("metadata comes first and tensors are sorted by descending alignment, then name", () => {
    const out = writeSafetensors({ b: zeros([1], "bool"), z: zeros([1]), a: zeros([1]), d: zeros([1], "float64"), i: zeros([1], "int32") }, { k: "v" });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect((8 + n) % 8).toBe(0);
    expect(Object.keys(JSON.parse(header) as object)).toEqual(["__metadata__", "d", "a", "z", "i", "b"]);
    expect(header.trimEnd().length).toBeLessThanOrEqual(n);
  });
});

describe("readSafetensors decodes the format's dtypes", () => {
  const one = (dtype: FormatDType, shape: number[], bytes: Uint8Array) =>
    readSafetensors(encodeSafetensors([{ name: "x", dtype, shape, bytes }]));

  test("F16 decodes to float32, normals, subnormals, infinities and NaN", () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000]);
    const x = one("F16", [8], bytesOf(halves));
    expect(E.isRight(x)).toBe(true);
    if (E.isRight(x)) {
      const y = get(x.right, "x");
      expect(y.dtype).toBe("float32");
      expect(y.toArray()).toEqual([1, -2, 2 ** -24, 65504, Infinity, -Infinity, NaN, -0]);
    }
  });

  test("BF16 decodes to float32 as the high half of its bits", () => {
    const x = one("BF16", [3], bytesOf(new Uint16Array([0x3f80, 0xc040, 0x7f80])));
    expect(E.isRight(x) && get(x.right, "x").toArray()).toEqual([1, -3, Infinity]);
  });

  test("integer dtypes decode to int32", () => {
    const i16 = one("I16", [2], bytesOf(new Int16Array([-32768, 32767])));
    const i8 = one("I8", [2], bytesOf(new Int8Array([-128, 127])));
    const u8 = one("U8", [2], new Uint8Array([0, 255]));
    const i64 = one("I64", [2], bytesOf(new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n])));
    for (const [x, values] of [[i16, [-32768, 32767]], [i8, [-128, 127]], [u8, [0, 255]], [i64, [-(2 ** 31), 2 ** 31 - 1]]] as const) {
      expect(E.isRight(x) && get(x.right, "x").dtype).toBe("int32");
      expect(E.isRight(x) && get(x.right, "x").toArray()).toEqual(values);
    }
  });

  test("U16 decodes to int32, and U32, I64 and U64 to int32 when every value fits", () => {
    const u16 = one("U16", [2], bytesOf(new Uint16Array([0, 65535])));
    const u32 = one("U32", [2], bytesOf(new Uint32Array([0, 2 ** 31 - 1])));
    const u64 = one("U64", [2], bytesOf(new BigUint64Array([0n, 2n ** 31n - 1n])));
    for (const [x, values] of [[u16, [0, 65535]], [u32, [0, 2 ** 31 - 1]], [u64, [0, 2 ** 31 - 1]]] as const) {
      expect(E.isRight(x) && get(x.right, "x").dtype).toBe("int32");
      expect(E.isRight(x) && get(x.right, "x").toArray()).toEqual(values);
    }
  });

  test("U32, I64 and U64 beyond int32 decode to float64 when every value is exact there", () => {
    const u32 = one("U32", [2], bytesOf(new Uint32Array([1, 2 ** 32 - 1])));
    const i64 = one("I64", [3], bytesOf(new BigInt64Array([1n, 2n ** 40n, -(2n ** 53n) - 2n])));
    const u64 = one("U64", [2], bytesOf(new BigUint64Array([2n ** 64n - 2048n, 2n ** 53n])));
    for (const [x, values] of [[u32, [1, 2 ** 32 - 1]], [i64, [1, 2 ** 40, -(2 ** 53) - 2]], [u64, [2 ** 64 - 2048, 2 ** 53]]] as const) {
      expect(E.isRight(x) && get(x.right, "x").dtype).toBe("float64");
      expect(E.isRight(x) && get(x.right, "x").toArray()).toEqual(values);
    }
  });

  test("an I64 or U64 value no double holds is a Left naming the tensor and the exact value", () => {
    const i64 = one("I64", [2], bytesOf(new BigInt64Array([1n, 2n ** 53n + 1n])));
    expect(E.isLeft(i64) && i64.left.message).toBe('safetensors: tensor "x": I64 value 9007199254740993 at index 1 fits neither int32 nor float64 exactly');
    const u64 = one("U64", [1], bytesOf(new BigUint64Array([2n ** 64n - 1n])));
    expect(E.isLeft(u64) && u64.left.message).toMatch(/U64 value 18446744073709551615 at index 0 fits neither/);
    const min = one("I64", [1], bytesOf(new BigInt64Array([-(2n ** 63n) + 1n])));
    expect(E.isLeft(min) && min.left.message).toMatch(/I64 value -9223372036854775807 at index 0/);
  });

  test("BOOL bytes other than 0 read as true", () => {
    const x = one("BOOL", [3], new Uint8Array([0, 1, 7]));
    expect(E.isRight(x) && get(x.right, "x").toArray()).toEqual([false, true, true]);
  });
});

describe("the writers refuse what the reader would refuse", () => {
  const raw = (name: string) => ({ name, dtype: "U8" as const, shape: [1], bytes: new Uint8Array(1) });

  test("a tensor named __metadata__", () => {
    expect(() => encodeSafetensors([raw("__metadata__")])).toThrow(new RangeError('encodeSafetensors: tensor "__metadata__": the name __metadata__ is reserved for the metadata'));
    expect(() => writeSafetensors({ __metadata__: zeros([1]) })).toThrow(/the name __metadata__ is reserved/);
  });

  test("two tensors of one name", () => {
    expect(() => encodeSafetensors([raw("w"), raw("b"), raw("w")])).toThrow(new RangeError('encodeSafetensors: tensor "w": two tensors have this name'));
  });

  test("a lone surrogate in a name or in the metadata", () => {
    expect(() => encodeSafetensors([raw("\ud800")])).toThrow(/^encodeSafetensors: a tensor name must be a well-formed string/);
    expect(() => writeSafetensors({ w: zeros([1]) }, { k: "\udc00" })).toThrow(/^encodeSafetensors: metadata "k" must be a well-formed string/);
  });

  test("a shape or bytes of the wrong kind", () => {
    expect(() => encodeSafetensors([{ ...raw("w"), shape: [-1] }])).toThrow(/^encodeSafetensors: tensor "w": shape must be an array of sizes/);
    // a caller past the types: bytes that are not a Uint8Array
    expect(() => encodeSafetensors([{ ...raw("w"), bytes: [0] as unknown as Uint8Array }])).toThrow(/bytes must be a Uint8Array, got an array of 1 elements/);
  });
});
