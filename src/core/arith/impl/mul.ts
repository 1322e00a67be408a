/**
 * Long multiplication on reversed digit strings (see `digits.ts`).
 *
 * Schoolbook: for each digit b of B, least significant first, add the row
 * A * b to a running sum; the sum's lowest digit is then final, so it moves to
 * the output and the rest carries on as the next running sum (no shifted rows
 * of zeros). A row costs one pass over A, a `ProductTable` then a `SumTable`
 * lookup per column, and the addition one more pass: about 2 * |A| * |B| steps
 * in all. Every loop is tail-recursive, so no digit count makes it deeper.
 *
 * Leaves out: signs (see `signed.ts`); Karatsuba and the like, which do not
 * pay for themselves at the 10 to 16 digits a shape holds.
 */
import type { AddRev } from "./add.js";
import type { Bump, Carry, Digit, ProductTable, SumTable } from "./tables.js";

/**
 * A * d for a single digit d > 0, on reversed digits. The carry C between
 * columns stays at most 8 (a * d + C <= 81 + 8), so `Bump` keeps it a digit.
 */
export type MulDigitRev<
  A extends string,
  D extends Digit,
  C extends Digit = "0",
  Acc extends string = "",
> = A extends `${infer a extends Digit}${infer A2}`
  ? ProductTable[a][D] extends `${infer tens extends Digit}${infer units extends Digit}`
    ? SumTable["0"][C][units] extends `${infer k extends Carry}${infer d}`
      ? MulDigitRev<A2, D, Bump[k][tens], `${Acc}${d}`>
      : never
    : never
  : C extends "0"
    ? Acc
    : `${Acc}${C}`;

/** A * B on reversed digit strings. */
export type MulRev<A extends string, B extends string> = A extends "" ? "" : MulLoop<A, B, "", "">;

/** Sum is the running sum above the digits already written to Out. */
type MulLoop<A extends string, B extends string, Sum extends string, Out extends string> =
  B extends `${infer b extends Digit}${infer B2}`
    ? AddRev<Sum, b extends "0" ? "" : MulDigitRev<A, b>> extends `${infer d}${infer Rest}`
      ? MulLoop<A, B2, Rest, `${Out}${d}`>
      : MulLoop<A, B2, "", `${Out}0`> // the running sum is still zero
    : `${Out}${Sum}`;
