/**
 * Keys as tensors, for randomness inside `jit`.
 *
 * A `Key` is a JavaScript value: a trace would freeze whatever it draws into
 * the program as a constant. A key's data (`keyData`, an int32 tensor `[2]`)
 * is a tensor like any other, so a jitted function can take it as an argument
 * and draw from it with the `random_bits` primitive, anew on every call.
 * `splitKeys` and `bernoulliMask` accept either form and give the same values
 * for the same key, eagerly and under `jit`: `splitKeys(keyData(k), n)` holds
 * the words of `split(k, n)`.
 *
 * @example
 * const step = jit((x: Tensor<[8, 16]>, k: KeyData) => model.apply(p, x, { training: true, key: k }));
 * step(x, keyData(foldIn(key(0), epoch)));
 */

import { shapeError } from "../core/errors.js";
import { formatShape, type RuntimeShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { bind } from "../prims/bind.js";
import { add, cast, less, where } from "../ops/elementwise.js";
import { slice } from "../ops/shape.js";
import { checkKey, Key, split } from "./key.js";

/** A key's two words in an int32 tensor, as `random_bits` reads them. */
export type KeyData = Tensor<[2], "int32">;

/** A key, as a value or as a tensor (traced under `jit`). */
export type AnyKey = Key | KeyData;

/**
 * The words of `k` as an int32 tensor `[2]` (uint32 read as two's complement).
 *
 * @example
 * keyData(key(42)).toArray(); // [0, 42]
 */
export function keyData(k: Key): KeyData {
  checkKey("keyData", k);
  return new Tensor([2], "int32", Int32Array.of(k.words[0] | 0, k.words[1] | 0));
}

/** Checks that `k` is a key tensor, naming `op`. */
function checkKeyData(op: string, k: Tensor<readonly number[], "int32">): void {
  if (k.dtype !== "int32" || k.shape.length !== 1 || k.shape[0] !== 2) {
    shapeError(op, `expects a key as int32 [2] but gets ${String(k.dtype)} ${formatShape(k.shape)}`);
  }
}

/**
 * `n` keys from `k`: `split(k, n)` for a `Key`, and the same words as tensors
 * for a key tensor.
 *
 * @example
 * const [k1, k2] = splitKeys(keyData(key(0)), 2); // KeyData each
 */
export function splitKeys<K extends AnyKey>(k: K, n: number): K[] {
  if (k instanceof Key) return split(k, n) as K[]; // a Key in, Keys out
  checkKeyData("splitKeys", k);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`splitKeys: the count must be an integer of at least 1, got ${String(n)}`);
  const words = bind("random_bits", [k], { shape: [n, 2] }) as Tensor<[number, 2], "int32">; // random_bits gives int32 of the shape asked
  return Array.from({ length: n }, (_, i) => slice(words, [i]) as K); // row i of [n, 2] is a [2] int32 key: a KeyData in, KeyData out
}

/**
 * A mask that is true with probability `p` at each element of `shape`, from
 * the bits of `k`: an element is true where its uint32 word is below
 * `p · 2^32`. The same key gives the same mask, eagerly and under `jit`.
 *
 * @example
 * bernoulliMask(key(0), 0.9, [4, 4]); // Tensor<[4, 4], "bool">, about 90% true
 */
export function bernoulliMask<const S extends RuntimeShape>(k: AnyKey, p: number, shape: S): Tensor<[...S], "bool"> {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`bernoulliMask: p must be in [0, 1], got ${String(p)}`);
  const data = k instanceof Key ? keyData(k) : k;
  checkKeyData("bernoulliMask", data);
  const bits = bind("random_bits", [data], { shape: [...shape] }) as Tensor<[...S], "int32">; // random_bits gives int32 of the shape asked
  // the words are uint32 stored as int32: add 2^32 back to the negative ones (exact in float64)
  const signed = cast(bits, "float64");
  const unsigned = where(less(bits, 0), add(signed, 2 ** 32), signed);
  return less(unsigned, p * 2 ** 32);
}
