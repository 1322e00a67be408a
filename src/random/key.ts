/**
 * PRNG keys: immutable, splittable, counter-based, as in JAX.
 *
 * A `Key` is two uint32 words. Randomness never lives in hidden state: a
 * sampler takes a key and gives the same values for it on every run and
 * machine, and code that needs more randomness derives new keys with `split`
 * or `foldIn`. The definitions follow JAX's original Threefry PRNG
 * (`jax._src.prng`, `threefry_seed`, `_threefry_split_original`,
 * `threefry_fold_in`, `_threefry_random_bits_original`), so a key gives the
 * same words as `jax.random.PRNGKey` under `jax_threefry_partitionable=False`.
 * Deliberately left out: other PRNG implementations (rbg), typed key arrays,
 * and the partitionable layout of newer JAX versions.
 */

import { Tensor } from "../core/tensor.js";
import { describeValue } from "../core/validate.js";
import { threefry2x32Counters, threefry2x32Iota } from "../backend/kernels/threefry.js";

/** The most counters one call draws bits from (the element limit of a tensor). */
const MAX_COUNT = 2 ** 31 - 1;

/**
 * A PRNG key: two uint32 words. Immutable; make one with `key(seed)` and new
 * ones with `split` and `foldIn`.
 *
 * @example
 * String(key(0)); // "Key(0x00000000, 0x00000000)"
 */
export class Key {
  /** The two uint32 words, high word first (JAX's key data). */
  readonly words: readonly [number, number];

  /** Internal: use `key`, `split` or `foldIn`. */
  constructor(hi: number, lo: number) {
    this.words = Object.freeze([hi >>> 0, lo >>> 0] as const);
    Object.freeze(this);
  }

  /** Prints both words in hex: `Key(0x00000000, 0x0000002a)`. */
  toString(): string {
    const hex = (w: number): string => `0x${w.toString(16).padStart(8, "0")}`;
    return `Key(${hex(this.words[0])}, ${hex(this.words[1])})`;
  }
}

/**
 * The key of an integer seed in the 32-bit range (-2^31 to 2^32 - 1): the
 * words `[0, seed mod 2^32]`, as `jax.random.PRNGKey(seed)` gives. Throws a
 * `RangeError` for any other seed.
 *
 * @example
 * key(42).words; // [0, 42]
 */
export function key(seed: number): Key {
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed > 2 ** 32 - 1) {
    throw new RangeError(`key: the seed must be an integer from -2^31 to 2^32 - 1, got ${String(seed)}`);
  }
  return new Key(0, seed >>> 0);
}

/**
 * `n` new keys (default 2) derived from `k`, independent of it and of each
 * other. Throws a `RangeError` unless `n` is an integer of at least 1.
 *
 * The scheme is JAX's legacy, non-partitionable split
 * (`_threefry_split_original` in `jax._src.prng`): the `2n` words of
 * `threefry_2x32(k, iota(2n))`, where one Threefry-2x32 block hashes counters
 * `i` and `i + n` together and the two output halves are concatenated, read
 * as `n` consecutive pairs; so the keys of `split(k, n)` are the first `2n`
 * words of `randomBits(k, 2n)`, and `split(k, 2)` is not a prefix of
 * `split(k, 4)`. `jax.random.split` gives the same keys under
 * `jax.config.update("jax_threefry_partitionable", False)`, the default
 * before JAX 0.5.0; from 0.5.0 on, JAX defaults to `True`, the fold-like
 * partitionable split (`_threefry_split_foldlike`, each key the block of the
 * counter pair `(0, i)`), whose keys differ.
 *
 * @example
 * const [k1, k2] = split(key(0)); // k1.words: [4146024105, 967050713]
 */
export function split(k: Key, n = 2): Key[] {
  checkKey("split", k);
  checkCount("split", n, 1, MAX_COUNT / 2);
  const bits = threefry2x32Iota(k.words, 2 * n);
  return Array.from({ length: n }, (_, i) => new Key(bits[2 * i] ?? 0, bits[2 * i + 1] ?? 0));
}

/**
 * The key `k` folded with the integer `data` (a step number, a layer index):
 * Threefry of `k` over the counter `[0, data]` (JAX's `fold_in`). Different
 * data give independent keys. `data` must be an integer from -2^31 to
 * 2^32 - 1 (taken mod 2^32).
 *
 * @example
 * foldIn(key(0), 1); // a new key, the same one every time
 */
export function foldIn(k: Key, data: number): Key {
  checkKey("foldIn", k);
  if (!Number.isInteger(data) || data < -(2 ** 31) || data > 2 ** 32 - 1) {
    throw new RangeError(`foldIn: data must be an integer from -2^31 to 2^32 - 1, got ${String(data)}`);
  }
  const [hi = 0, lo = 0] = threefry2x32Counters(k.words, Uint32Array.of(0, data >>> 0));
  return new Key(hi, lo);
}

/**
 * `count` random uint32 words from `k`: Threefry of `k` over the counters
 * `0 .. count - 1` (JAX's `random_bits` with 32-bit width).
 *
 * @example
 * randomBits(key(0), 4).length; // 4
 */
export function randomBits(k: Key, count: number): Uint32Array {
  checkKey("randomBits", k);
  checkCount("randomBits", count, 0, MAX_COUNT);
  return threefry2x32Iota(k.words, count);
}

/**
 * Throws a `RangeError` naming `op` unless `k` is a `Key` (a key's data,
 * `keyData(k)`, is a tensor for the staged samplers, not a `Key`).
 */
export function checkKey(op: string, k: unknown): asserts k is Key {
  if (!(k instanceof Key)) {
    const hint = k instanceof Tensor ? " (a key tensor from keyData goes to splitKeys or bernoulliMask)" : "";
    throw new RangeError(`${op}: k must be a Key from key(seed), split or foldIn, got ${describeValue(k)}${hint}`);
  }
}

/** Throws a `RangeError` unless `n` is an integer from `min` to `max`. */
export function checkCount(op: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${op}: the count must be an integer from ${min} to ${Math.floor(max)}, got ${String(n)}`);
  }
}
