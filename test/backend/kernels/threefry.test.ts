import { describe, expect, test } from "vitest";
import { threefry2x32, threefry2x32Counters, threefry2x32Iota } from "../../../src/backend/kernels/threefry.js";

// Random123's tests/kat_vectors, threefry2x32 with 20 rounds: counter, key, expected output.
const KNOWN_ANSWERS: readonly (readonly [[number, number], [number, number], [number, number]])[] = [
  [[0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6b200159, 0x99ba4efe]],
  [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
  [[0x243f6a88, 0x85a308d3], [0x13198a2e, 0x03707344], [0xc4923a9c, 0x483df7a0]],
];

describe("threefry2x32", () => {
  test.each(KNOWN_ANSWERS)("counter %j under key %j gives Random123's known answer %j", (counter, key, expected) => {
    expect(threefry2x32(key, counter)).toEqual(expected);
  });

  test("the example in the doc comment holds", () => {
    expect(threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe]);
  });
});

describe("threefry2x32Counters", () => {
  test("pairs the first half of the counts with the second half, as JAX does", () => {
    const key = [0x13198a2e, 0x03707344] as const;
    const out = threefry2x32Counters(key, Uint32Array.of(0x243f6a88, 7, 0x85a308d3, 9));
    expect([out[0], out[2]]).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  test("pads an odd number of counts with a zero and trims the output", () => {
    const odd = threefry2x32Counters([1, 2], Uint32Array.of(5, 6, 7));
    const even = threefry2x32Counters([1, 2], Uint32Array.of(5, 6, 7, 0));
    expect(odd.length).toBe(3);
    expect([...odd]).toEqual([...even.slice(0, 3)]);
  });

  test("iota gives the same words as counting explicitly", () => {
    for (const n of [0, 1, 2, 5, 8]) {
      const counts = Uint32Array.from({ length: n }, (_, i) => i);
      expect([...threefry2x32Iota([3, 4], n)]).toEqual([...threefry2x32Counters([3, 4], counts)]);
    }
  });
});
