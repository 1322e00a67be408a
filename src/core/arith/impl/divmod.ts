/**
 * Long division with remainder on reversed digit strings (see `digits.ts`).
 *
 * Bring down A's digits from the most significant one; at each, the quotient
 * digit is the largest q with B * q <= the running remainder, which then
 * loses B * q. The ten multiples B * 0 .. B * 9 are a mapped type over the
 * digits, so each is computed once, on first use, and shared by every step
 * (hotscript's `DivModByDigit` recomputes them per step). A step costs at
 * most nine comparisons and one subtraction, each one pass over |B| + 1 digits;
 * the recursion is |A| deep.
 *
 * Leaves out: signs and the floor rule for negative dividends (see
 * `signed.ts`); division by zero, which callers rule out first.
 */
import type { CompareRev } from "./compare.js";
import type { PushDigit, Reverse } from "./digits.js";
import type { MulDigitRev } from "./mul.js";
import type { SubRev } from "./sub.js";
import type { Digit } from "./tables.js";

/** [A div B, A mod B] on reversed digit strings, for B > 0. */
export type DivModRev<A extends string, B extends string> = DivLoop<Reverse<A>, Multiples<B>, "", "">;

/** `Multiples<B>[d]` is B * d; each property is computed when first read. */
type Multiples<B extends string> = { [d in Digit]: d extends "0" ? "" : MulDigitRev<B, d> };

/** The candidate quotient digits after 0, in the order `Fit` tries them. */
type Candidates = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/**
 * The largest digit q with M[q] <= R, by a scan up from 1.
 *
 * NOTE: a binary search (four or five comparisons for any q > 0) measured
 * worse where shapes divide: by small divisors the quotient digits are small,
 * and `FloorDiv<223, 2>` took 890 instantiations against the scan's 651. It
 * won only 5% on large divisors. The scan also never computes a multiple past
 * M[q + 1].
 */
type Fit<M extends Record<Digit, string>, R extends string, Ds = Candidates, Q extends Digit = "0"> =
  Ds extends [infer d extends Digit, ...infer Rest]
    ? CompareRev<M[d], R> extends ">"
      ? Q
      : Fit<M, R, Rest, d>
    : Q;

/** Digits is A's text, most significant first; R and Q are reversed. */
type DivLoop<Digits extends string, M extends Record<Digit, string>, R extends string, Q extends string> =
  Digits extends `${infer a extends Digit}${infer Rest}`
    ? PushDigit<R, a> extends infer R2 extends string
      ? Fit<M, R2> extends infer q extends Digit
        ? DivLoop<Rest, M, SubRev<R2, M[q]>, PushDigit<Q, q>>
        : never
      : never
    : [Q, R];
