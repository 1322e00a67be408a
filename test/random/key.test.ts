import { describe, expect, test } from "vitest";
import { foldIn, Key, key, randomBits, split } from "../../src/random/key.js";

describe("key", () => {
  test("a seed maps to the words [0, seed], as jax.random.PRNGKey does", () => {
    expect(key(0).words).toEqual([0, 0]);
    expect(key(42).words).toEqual([0, 42]);
    expect(key(-1).words).toEqual([0, 0xffffffff]);
  });

  test("prints both words in hex", () => {
    expect(String(key(0))).toBe("Key(0x00000000, 0x00000000)");
    expect(String(key(42))).toBe("Key(0x00000000, 0x0000002a)");
  });

  test("is immutable", () => {
    const k = key(1);
    expect(Object.isFrozen(k)).toBe(true);
    expect(Object.isFrozen(k.words)).toBe(true);
    expect(k).toBeInstanceOf(Key);
  });

  test("refuses a seed that is not an integer in the 32-bit range", () => {
    expect(() => key(1.5)).toThrow(/seed must be an integer/);
    expect(() => key(Number.NaN)).toThrow(RangeError);
    expect(() => key(2 ** 32)).toThrow(RangeError);
    expect(() => key(-(2 ** 31) - 1)).toThrow(RangeError);
  });
});

describe("split", () => {
  test("splitting key 0 gives the keys jax.random.split(PRNGKey(0)) gives", () => {
    const [k1, k2] = split(key(0));
    expect(k1?.words).toEqual([4146024105, 967050713]);
    expect(k2?.words).toEqual([2718843009, 1272950319]);
  });

  test("is JAX's legacy split: split(PRNGKey(0), 4) under jax_threefry_partitionable=False (jax 0.4.38), and the key words are the first 2n random bits", () => {
    const words = [2285895361, 1501764800, 1518642379, 4090693311, 433833334, 4221794875, 839183663, 3740430601];
    expect(split(key(0), 4).flatMap((k) => [...k.words])).toEqual(words);
    expect([...randomBits(key(0), 8)]).toEqual(words);
  });

  test("gives n distinct keys, none equal to the parent", () => {
    const parent = key(7);
    const keys = split(parent, 100);
    const words = new Set([parent, ...keys].map(String));
    expect(keys).toHaveLength(100);
    expect(words.size).toBe(101);
  });

  test("is deterministic", () => {
    expect(split(key(3), 5).map(String)).toEqual(split(key(3), 5).map(String));
  });

  test("refuses a count below 1 or not an integer", () => {
    expect(() => split(key(0), 0)).toThrow(/split: the count must be an integer from 1/);
    expect(() => split(key(0), 2.5)).toThrow(RangeError);
  });
});

describe("foldIn", () => {
  test("is threefry of the key over the counter [0, data]", () => {
    // counter [0, 1] under key [0, 0]: the iota pair of split(key(0), 1)
    expect(foldIn(key(0), 1).words).toEqual(split(key(0), 1)[0]?.words);
  });

  test("different data give different keys, the same data the same key", () => {
    const k = key(11);
    const folded = Array.from({ length: 50 }, (_, i) => String(foldIn(k, i)));
    expect(new Set(folded).size).toBe(50);
    expect(String(foldIn(k, 3))).toBe(folded[3]);
  });

  test("refuses data that is not an integer in the 32-bit range", () => {
    expect(() => foldIn(key(0), 0.5)).toThrow(/foldIn: data must be an integer/);
  });
});

describe("randomBits", () => {
  test("the same key gives the same bits; another key other bits", () => {
    expect([...randomBits(key(5), 16)]).toEqual([...randomBits(key(5), 16)]);
    expect([...randomBits(key(5), 16)]).not.toEqual([...randomBits(key(6), 16)]);
  });

  test("bits of key 0 are the words of split(key(0), 2), the same counters", () => {
    const [k1, k2] = split(key(0));
    expect([...randomBits(key(0), 4)]).toEqual([...(k1?.words ?? []), ...(k2?.words ?? [])]);
  });

  test("gives uint32 words with about half their bits set", () => {
    const bits = randomBits(key(0), 10_000);
    let ones = 0;
    for (const w of bits) for (let b = 0; b < 32; b++) ones += (w >>> b) & 1;
    // 320,000 fair bits: mean 160,000, standard deviation about 283
    expect(Math.abs(ones - 160_000)).toBeLessThan(5 * 283);
  });

  test("refuses a negative count", () => {
    expect(() => randomBits(key(0), -1)).toThrow(RangeError);
  });
});
