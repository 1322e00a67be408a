/**
 * Comparison of magnitudes on reversed digit strings (see `digits.ts`).
 *
 * Both strings are walked together, one column a step: the one that runs out
 * first is shorter, hence smaller (well-formed strings have no leading
 * zeros); at equal length the last column that differs, the most significant
 * one, decides. One pass, tail-recursive, depth the shorter digit count.
 *
 * Leaves out: signs (see `signed.ts`).
 */
import type { Below, Digit } from "./tables.js";

/** The outcome of a comparison: A < B, A = B, A > B. */
export type Order = "<" | "=" | ">";

/** Whether an `Order` is one of `Accepted`, as a boolean literal type: `Holds<"<", "<" | "=">` is true. */
export type Holds<O extends Order, Accepted extends Order> = O extends Accepted ? true : false;

/** How magnitude A orders against magnitude B, both reversed digit strings. */
export type CompareRev<A extends string, B extends string, Last extends Order = "="> =
  A extends `${infer a extends Digit}${infer A2}`
    ? B extends `${infer b extends Digit}${infer B2}`
      ? CompareRev<A2, B2, a extends b ? Last : a extends Below[b] ? "<" : ">">
      : ">"
    : B extends ""
      ? Last
      : "<";
