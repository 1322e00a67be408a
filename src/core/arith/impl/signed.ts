/**
 * Signed integers over the magnitude machinery: reading a literal's text,
 * writing the result back, and the sign rules of each operation.
 *
 * An integer is a pair of its sign and its reversed magnitude (see
 * `digits.ts`): -120 is ["-", "021"], 0 is ["+", ""]. The magnitude operations
 * (`AddRev`, `SubRev`, `MulRev`, `DivModRev`, `CompareRev`) never see a sign;
 * this module decides which of them to run and what sign the result takes.
 *
 * Leaves out: the edge rules for `never`, `number` and non-integer literals,
 * which `edges.ts` applies before anything here reads a digit.
 */
import type { AddRev } from "./add.js";
import type { CompareRev } from "./compare.js";
import type { Reverse, ToNumber, ToRev } from "./digits.js";
import type { DivModRev } from "./divmod.js";
import type { MulRev } from "./mul.js";
import type { SubRev } from "./sub.js";

/** The sign of an integer; zero reads as "+". */
export type Sign = "+" | "-";

/** An integer as [sign, reversed magnitude]. */
export type Signed = [sign: Sign, magnitude: string];

/** The other sign. */
type Flip<S extends Sign> = S extends "+" ? "-" : "+";

/** An integer literal type as a `Signed`: -120 -> ["-", "021"]. */
export type Read<N extends number> = `${N}` extends `-${infer M}` ? ["-", ToRev<M>] : ["+", ToRev<`${N}`>];

/**
 * A `Signed` back to its number literal type; a zero magnitude is 0 whatever
 * its sign.
 *
 * NOTE: X is left unconstrained on purpose: a `Signed` constraint makes the
 * checker expand the generic result of `Plus` (a recursive type) at the use
 * site in `index.ts`, which trips "excessively deep" (TS2589).
 */
export type Write<X> = X extends [infer S extends Sign, infer M extends string]
  ? ToNumber<M extends "" ? "0" : S extends "-" ? `-${Reverse<M>}` : Reverse<M>>
  : never;

/** -X. */
export type Negate<X extends Signed> = [Flip<X[0]>, X[1]];

/** X + Y: like signs add magnitudes; unlike signs subtract the smaller from the larger. */
export type Plus<X extends Signed, Y extends Signed> = X[0] extends Y[0]
  ? [X[0], AddRev<X[1], Y[1]>]
  : CompareRev<X[1], Y[1]> extends "<"
    ? [Y[0], SubRev<Y[1], X[1]>]
    : [X[0], SubRev<X[1], Y[1]>];

/** X * Y: magnitudes multiply, signs multiply. */
export type Times<X extends Signed, Y extends Signed> = [X[0] extends Y[0] ? "+" : "-", MulRev<X[1], Y[1]>];

/** How X orders against Y: a negative is below any non-negative; two negatives order opposite to their magnitudes. */
export type Compare<X extends Signed, Y extends Signed> = X[0] extends "+"
  ? Y[0] extends "+"
    ? CompareRev<X[1], Y[1]>
    : ">"
  : Y[0] extends "+"
    ? "<"
    : CompareRev<Y[1], X[1]>;

/**
 * [floor(X / Y), X mod Y] for Y > 0, the remainder in [0, Y).
 * For X = -a with a = q * Y + r, r > 0: floor(-a / Y) = -(q + 1), and the
 * remainder is Y - r.
 */
export type FloorDivMod<X extends Signed, Y extends Signed> =
  DivModRev<X[1], Y[1]> extends [infer Q extends string, infer R extends string]
    ? X[0] extends "+"
      ? [["+", Q], ["+", R]]
      : R extends ""
        ? [["-", Q], ["+", ""]]
        : [["-", AddRev<Q, "1">], ["+", SubRev<Y[1], R>]]
    : never;
