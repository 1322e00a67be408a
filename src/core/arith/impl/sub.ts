/**
 * Long subtraction on reversed digit strings (see `digits.ts`), for A >= B.
 *
 * One step per column, tail-recursive: each column looks up
 * `DiffTable[borrow][b][a]`. Zero digits wait in `Z` until a nonzero digit
 * follows them, so zeros that would end up most significant are dropped and
 * the result is again well formed (zero is "").
 *
 * Leaves out: A < B, which gives `never`; `signed.ts` compares first and
 * subtracts the smaller magnitude from the larger.
 */
import type { Carry, Digit, DiffTable } from "./tables.js";

/** A - B on reversed digit strings, A >= B; W is the borrow into the first column. */
export type SubRev<
  A extends string,
  B extends string,
  W extends Carry = "0",
  Acc extends string = "",
  Z extends string = "",
> = B extends `${infer b extends Digit}${infer B2}`
  ? A extends `${infer a extends Digit}${infer A2}`
    ? DiffTable[W][b][a] extends `${infer W2 extends Carry}${infer d}`
      ? d extends "0"
        ? SubRev<A2, B2, W2, Acc, `${Z}0`>
        : SubRev<A2, B2, W2, `${Acc}${Z}${d}`, "">
      : never
    : never // A < B
  : W extends "1"
    ? SubRev<A, "1", "0", Acc, Z> // the borrow is one more digit to take away
    : A extends ""
      ? Acc
      : `${Acc}${Z}${A}`;
