/**
 * The .npy reader on files NumPy wrote (every dtype we read, both byte
 * orders, Fortran order, scalars, empty arrays, header versions 1 to 3), on
 * hand-forged bad files, and the writer against NumPy's own bytes.
 */

import * as E from "fp-ts/lib/Either.js";
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { encodeNpy, readNpy, readNpyAs } from "../../src/io/npy.js";
import { parseNpyHeader } from "../../src/io/npy-header.js";
import { contentsOf, expected, type Expected, fixture, FIXTURES, storedValues } from "./npy-fixtures.js";

function leftMessage(x: E.Either<Error, unknown>): string {
  if (E.isRight(x)) throw new Error("expected a Left");
  return x.left.message;
}

/** A .npy file (version 1.0) with the header text `dict` and the data `body`. */
function npyOf(dict: string, body: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const header = new TextEncoder().encode(dict + "\n");
  const lengthSize = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthSize + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, 8 + lengthSize);
  out.set(body, 8 + lengthSize + header.length);
  return out;
}

const npyFiles = readdirSync(FIXTURES).filter((f) => f.endsWith(".npy"));

describe("readNpy on NumPy's files", () => {
  test("there are fixtures for every dtype and both byte orders", () => {
    for (const kind of ["f4-le", "f4-be", "f8-le", "f8-be", "i1", "u1", "i2-le", "i2-be", "u2-le", "u2-be", "i4-le", "i4-be", "i8-le", "i8-be", "u4-le", "u8-le", "b1"]) {
      expect(npyFiles).toContain(`${kind}.npy`);
    }
  });

  for (const file of npyFiles) {
    const e = expected[file];
    if (e !== undefined && "error" in e) {
      test(`${file} is a Left naming the value that does not fit in int32`, () => {
        const message = leftMessage(readNpy(fixture(file)));
        expect(message).toMatch(/^npy: [<>|][iu]\d value -?\d+ at index \d+ \(row-major\) does not fit in int32$/);
        expect(message).toContain(String(e.error));
      });
    } else {
      test(`${file} loads with NumPy's dtype, shape and values`, () => {
        // Sound: every non-error, non-archive entry of expected.json is an Expected.
        const want = e as Expected;
        const x = readNpy(fixture(file));
        if (E.isLeft(x)) throw x.left;
        expect(contentsOf(x.right)).toEqual({ dtype: want.dtype, shape: want.shape, values: storedValues(want) });
      });
    }
  }

  test("a Fortran-order array reads into row-major order", () => {
    const x = readNpy(fixture("f4-fortran.npy"));
    if (E.isLeft(x)) throw x.left;
    expect(x.right.shape).toEqual([2, 3, 4]);
    expect([...x.right.data]).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  test("readNpyAs binds a symbolic dim and refuses another shape or dtype", () => {
    const x = readNpyAs(fixture("f4-le.npy"), ["rows", 4], "float32");
    if (E.isLeft(x)) throw x.left;
    expect(x.right.shape).toEqual([3, 4]);
    expect(leftMessage(readNpyAs(fixture("f4-le.npy"), [4, 3], "float32"))).toMatch(/^npy: the file's shape does not fit: .*\[3, 4\]/);
    expect(leftMessage(readNpyAs(fixture("f4-le.npy"), [3, 4], "float64"))).toBe("npy: the file holds float32 of shape [3, 4], not float64");
  });
});

describe("readNpy on bad files", () => {
  const f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

  test("checks the magic string and version", () => {
    expect(leftMessage(readNpy(new Uint8Array(3)))).toMatch(/magic string/);
    const v = npyOf(f4, new Uint8Array(8));
    v[6] = 4;
    expect(leftMessage(readNpy(v))).toBe("npy: format version 4.0 is not 1.0, 2.0 or 3.0");
  });

  test("refuses a header length past the file", () => {
    const file = npyOf(f4, new Uint8Array(8));
    new DataView(file.buffer).setUint16(8, 60000, true);
    expect(leftMessage(readNpy(file))).toMatch(/^npy: the header declares 60000 bytes, but the file has \d+ after the header length$/);
  });

  test("refuses data that does not fill the shape exactly, before allocating", () => {
    expect(leftMessage(readNpy(npyOf(f4, new Uint8Array(7))))).toMatch(/^npy: shape \[2\] of <f4 needs 8 bytes after the \d+-byte header, the file has 7$/);
    expect(leftMessage(readNpy(npyOf(f4, new Uint8Array(9))))).toMatch(/needs 8 bytes/);
    const huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }";
    expect(leftMessage(readNpy(npyOf(huge, new Uint8Array(16))))).toMatch(/needs 79228162403583873202826248184 bytes/);
  });

  test("refuses dtypes we do not read", () => {
    for (const descr of ["<f2", "<c8", "|O", "<U3", "=f4", "|f4", "f4"]) {
      expect(leftMessage(readNpy(npyOf(`{'descr': '${descr}', 'fortran_order': False, 'shape': (), }`, new Uint8Array(4))))).toMatch(/^npy: dtype /);
    }
    expect(leftMessage(readNpy(npyOf("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4))))).toBe(
      "npy: structured dtypes (a 'descr' list) are not supported",
    );
  });

  test("a v2 header is read with a 4-byte length", () => {
    const x = readNpy(npyOf(f4, new Uint8Array(8), 2));
    expect(E.isRight(x) && x.right.shape).toEqual([2]);
  });
});

describe("parseNpyHeader", () => {
  test("reads what NumPy writes", () => {
    expect(parseNpyHeader("{'descr': '>i2', 'fortran_order': True, 'shape': (3, 4), }   ")).toEqual(E.right({ descr: ">i2", fortranOrder: true, shape: [3, 4] }));
    expect(parseNpyHeader('{"shape": (), "descr": "|b1", "fortran_order": False}')).toEqual(E.right({ descr: "|b1", fortranOrder: false, shape: [] }));
    expect(parseNpyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (10L, 2L), }")).toEqual(E.right({ descr: "<f8", fortranOrder: false, shape: [10, 2] }));
  });

  test("refuses anything else, saying where", () => {
    const bad: [string, RegExp][] = [
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", /one-element tuple without its trailing comma/],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", /the key "descr" given twice/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", /exactly the keys/],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", /'fortran_order' must be True or False, found 0/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", /'shape' must be a tuple, found a list/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", /dim 0 of 'shape' must be a non-negative integer, found -1/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }", /larger than 2\^31 - 1/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,), }", /not a decimal integer/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (__import__('os'),), }", /unexpected "_"/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x", /text after the dict/],
      ["{'descr': '<f4", /unterminated string/],
      ["(" .repeat(100), /nesting deeper than 32/],
      ["", /ends where a value should be/],
    ];
    for (const [text, why] of bad) {
      const r = parseNpyHeader(text);
      expect(E.isLeft(r) && r.left).toMatch(why);
    }
  });
});

describe("encodeNpy", () => {
  test("writes NumPy's bytes exactly for each of our dtypes", () => {
    // NumPy's writer (format 1.0, padded to 64 bytes) made these from the same values.
    for (const file of ["f4-le.npy", "f8-le.npy", "i4-le.npy", "b1.npy", "f8-scalar.npy", "i4-scalar.npy", "f4-empty.npy", "f8-1d.npy"]) {
      const bytes = fixture(file);
      const x = readNpy(bytes);
      if (E.isLeft(x)) throw x.left;
      expect([...encodeNpy(x.right)], file).toEqual([...bytes]);
    }
  });

  test("round-trips through readNpy", () => {
    for (const x of [tensor([[1, 2], [3, 4]]), zeros([2, 0, 3], "int32"), tensor(true), tensor([0.1, -0], "float64")]) {
      const back = readNpy(encodeNpy(x));
      if (E.isLeft(back)) throw back.left;
      expect(contentsOf(back.right)).toEqual({ dtype: x.dtype, shape: [...x.shape], values: [...x.data] });
    }
  });

  test("pads the header to a multiple of 64 bytes", () => {
    const bytes = encodeNpy(zeros([0, 1000, 20000, 300000, 4000000, 50000000, 600000000, 3, 4, 5, 6, 7]));
    const headerLength = (bytes[8] ?? 0) | ((bytes[9] ?? 0) << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a);
  });
});
