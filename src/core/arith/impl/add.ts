/**
 * Long addition on reversed digit strings (see `digits.ts`).
 *
 * One step per column, tail-recursive, so the depth is the digit count of the
 * longer operand: each column looks up `SumTable[carry][a][b]` and appends
 * the digit. When the shorter operand runs out without a carry the rest of the
 * longer one is copied in one step.
 *
 * Leaves out: signs; `signed.ts` turns a sum of unlike signs into a `SubRev`.
 */
import type { Carry, Digit, SumTable } from "./tables.js";

/** A + B on reversed digit strings; C is the carry into the first column. */
export type AddRev<
  A extends string,
  B extends string,
  C extends Carry = "0",
  Acc extends string = "",
> = A extends `${infer a extends Digit}${infer A2}`
  ? B extends `${infer b extends Digit}${infer B2}`
    ? SumTable[C][a][b] extends `${infer C2 extends Carry}${infer d}`
      ? AddRev<A2, B2, C2, `${Acc}${d}`>
      : never
    : C extends "1"
      ? AddRev<A, "1", "0", Acc> // the carry is one more digit to add
      : `${Acc}${A}`
  : B extends ""
    ? C extends "1"
      ? `${Acc}1`
      : Acc
    : AddRev<B, A, C, Acc>;
