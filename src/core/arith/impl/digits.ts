/**
 * Digit strings: how `impl/` reads the text of a number literal and writes
 * one back.
 *
 * A magnitude travels as its decimal digits reversed, least significant first,
 * with zero as the empty string: 120 is "021", 0 is "". Reversed, the column
 * that long addition, subtraction and multiplication start from is the first
 * character, which one template-literal match takes off; with zero as "" a
 * well-formed result never carries zeros past its most significant digit.
 * Every operation in `impl/` takes and returns this form. Strings rather than
 * digit tuples, after ts-arithmetic's and hotscript's digit arrays, because a
 * template-literal match and a concatenation are each one step.
 *
 * Leaves out: signs (see `signed.ts`) and validation of the text (see
 * `edges.ts`); these helpers assume digits only.
 */
import type { Digit } from "./tables.js";

/** S with its characters in the opposite order; tail-recursive, one step per two characters. */
export type Reverse<S extends string, Acc extends string = ""> =
  S extends `${infer D1}${infer D2}${infer Rest}` ? Reverse<Rest, `${D2}${D1}${Acc}`> : `${S}${Acc}`;

/** Decimal text of a magnitude to reversed digits: "120" -> "021", "0" -> "". */
export type ToRev<T extends string> = T extends "0" ? "" : Reverse<T>;

/**
 * R * 10 + d on reversed digits: d becomes the new least significant digit.
 * Zero stays "", so digits brought down into an empty remainder or quotient
 * never leave a leading zero behind.
 */
export type PushDigit<R extends string, D extends Digit> =
  R extends "" ? (D extends "0" ? "" : D) : `${D}${R}`;

/**
 * Decimal text to its number literal type.
 *
 * NOTE: TypeScript infers the literal only when the text round-trips through
 * `Number`; past 2^53 digits that do not round-trip give the wide `number`.
 */
export type ToNumber<T extends string> = T extends `${infer N extends number}` ? N : never;
