/**
 * Threefry-2x32 with 20 rounds: the counter-based block function behind the
 * PRNG keys.
 *
 * Threefry (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011; the Random123 library) maps a 64-bit key and a 64-bit counter to
 * 64 random bits; each round is add, rotate, xor on two uint32 words, and a
 * key word is injected every four rounds. JAX's `threefry_2x32` runs it over
 * an array of counters, which `threefry2x32Counters` follows word for word.
 * Words are uint32 values held in JS numbers (`>>> 0` after every add); no
 * BigInt. Deliberately left out: the other Random123 widths (2x64, 4x32) and
 * round counts.
 */

/** The rotation distances of the 2x32 variant, rounds 0..7 (Random123's `R_32x2_*`). */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;

/** The key-schedule parity constant of Threefish/Threefry for 32-bit words. */
const PARITY = 0x1bd11bda;

/** `x` rotated left by `r` bits, as a uint32. */
function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/**
 * Threefry-2x32-20 of one counter `[x0, x1]` under the key `[k0, k1]`; writes
 * the two output words to `out[at]` and `out[at + n]` (JAX's split layout).
 */
function block(k0: number, k1: number, x0: number, x1: number, out: Uint32Array, at: number, n: number): void {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ PARITY) >>> 0] as const;
  let a = (x0 + ks[0]) >>> 0;
  let b = (x1 + ks[1]) >>> 0;
  for (let group = 0; group < 5; group++) {
    const base = (group % 2) * 4;
    for (let r = 0; r < 4; r++) {
      // mix: a += b; b = rotl(b, R) ^ a
      a = (a + b) >>> 0;
      b = (rotl(b, ROTATIONS[base + r] ?? 0) ^ a) >>> 0;
    }
    // key injection s = group + 1: a += ks[s mod 3]; b += ks[(s + 1) mod 3] + s
    const s = group + 1;
    a = (a + (ks[s % 3] ?? 0)) >>> 0;
    b = (b + (ks[(s + 1) % 3] ?? 0) + s) >>> 0;
  }
  out[at] = a;
  out[at + n] = b;
}

/**
 * Threefry-2x32-20 of a single counter: the Random123 block function.
 *
 * @example
 * threefry2x32([0, 0], [0, 0]); // [0x6b200159, 0x99ba4efe]
 */
export function threefry2x32(key: readonly [number, number], counter: readonly [number, number]): [number, number] {
  const out = new Uint32Array(2);
  block(key[0], key[1], counter[0], counter[1], out, 0, 1);
  return [out[0] ?? 0, out[1] ?? 0];
}

/**
 * JAX's `threefry_2x32(key, counts)`: the counts (padded with a 0 to an even
 * length `2m`) are read as the pairs `(counts[i], counts[i + m])`, and the
 * outputs are laid out the same way, then trimmed to `counts.length`.
 *
 * @example
 * threefry2x32Counters([0, 0], Uint32Array.of(0, 1, 2, 3)); // 4 words
 */
export function threefry2x32Counters(key: readonly [number, number], counts: Uint32Array): Uint32Array {
  const m = Math.ceil(counts.length / 2);
  const out = new Uint32Array(2 * m);
  for (let i = 0; i < m; i++) block(key[0], key[1], counts[i] ?? 0, counts[i + m] ?? 0, out, i, m);
  return counts.length === 2 * m ? out : out.slice(0, counts.length);
}

/**
 * `threefry2x32Counters(key, [0, 1, ..., count - 1])` without building the
 * counts: JAX's `threefry_2x32(key, iota(count))`.
 */
export function threefry2x32Iota(key: readonly [number, number], count: number): Uint32Array {
  const m = Math.ceil(count / 2);
  const out = new Uint32Array(2 * m);
  // NOTE: for an odd count the last pair's second counter is the padding 0.
  for (let i = 0; i < m; i++) block(key[0], key[1], i, i + m < count ? i + m : 0, out, i, m);
  return count === 2 * m ? out : out.slice(0, count);
}
