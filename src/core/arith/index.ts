/**
 * Exact integer arithmetic on number literal types, for the dims of a shape.
 *
 * `Mul<50257, 768>` is the literal 38597376, not `number`: the operands are
 * read as digit strings and worked column by column with lookup tables (long
 * addition, multiplication, division), so the cost and the recursion depth
 * grow with the digit count, never with the value. Exact for operands up to
 * 2^31 - 1 and results up to 2^53. The machinery is in `impl/`; the idea is
 * hotscript's `internals/numbers` and arielhs/ts-arithmetic.
 *
 * Edge rules, checked first, in this order: a `never` operand gives `never`;
 * a wide `number` operand gives `number` (`boolean` for a comparison); a
 * literal that is not an integer (1.5, 1e21) gives `never`; a divisor <= 0
 * gives `never`.
 *
 * Leaves out: fractions, exponent-form literals, unions (they distribute only
 * where a conditional happens to), and exactness past 2^53 (a result whose
 * digits do not round-trip through `Number` widens to `number`).
 */
import type { DivisionEdgeCase, EdgeCase } from "./impl/edges.js";
import type { Holds } from "./impl/compare.js";
import type { Compare, FloorDivMod, Negate, Plus, Read, Times, Write } from "./impl/signed.js";

/**
 * A + B, for any integer literals.
 *
 * @example
 *   type T = Add<99999999, 1>; // 100000000
 */
export type Add<A extends number, B extends number> =
  EdgeCase<A, B, number> extends [infer R extends number] ? R : Write<Plus<Read<A>, Read<B>>>;

/**
 * A - B, for any integer literals; the result may be negative.
 *
 * @example
 *   type T = Sub<3, 5>; // -2
 */
export type Sub<A extends number, B extends number> =
  EdgeCase<A, B, number> extends [infer R extends number] ? R : Write<Plus<Read<A>, Negate<Read<B>>>>;

/**
 * A * B, for any integer literals.
 *
 * @example
 *   type T = Mul<50257, 768>; // 38597376
 */
export type Mul<A extends number, B extends number> =
  EdgeCase<A, B, number> extends [infer R extends number] ? R : Write<Times<Read<A>, Read<B>>>;

/**
 * floor(A / B) for B > 0; A may be negative, and rounds toward -Infinity.
 *
 * @example
 *   type T = FloorDiv<-1, 2>; // -1
 */
export type FloorDiv<A extends number, B extends number> =
  DivisionEdgeCase<A, B> extends [infer R extends number] ? R : Write<FloorDivMod<Read<A>, Read<B>>[0]>;

/**
 * A mod B for B > 0, always in [0, B) (so `Mod<-1, 3>` is 2, unlike `%`).
 *
 * @example
 *   type T = Mod<7, 3>; // 1
 */
export type Mod<A extends number, B extends number> =
  DivisionEdgeCase<A, B> extends [infer R extends number] ? R : Write<FloorDivMod<Read<A>, Read<B>>[1]>;

/**
 * ceil(A / B) for B > 0, e.g. the output length of a "same"-padded strided
 * window. Made as ceil(a / b) = -floor(-a / b), so A may be negative too.
 *
 * @example
 *   type T = CeilDiv<7, 2>; // 4
 */
export type CeilDiv<A extends number, B extends number> =
  DivisionEdgeCase<A, B> extends [infer R extends number] ? R : Write<Negate<FloorDivMod<Negate<Read<A>>, Read<B>>[0]>>;

/**
 * The product of a tuple of dims, the element count of a shape; 1 for `[]`.
 * A non-tuple array (`number[]`) gives `number`.
 *
 * @example
 *   type T = Product<[2, 3, 4]>; // 24
 */
export type Product<Ds extends readonly number[]> = number extends Ds["length"] ? number : ProductLoop<Ds, 1>;

/** Folds `Mul` over Ds from the left; tail-recursive, one step per dim. */
type ProductLoop<Ds extends readonly number[], Acc extends number> =
  Ds extends readonly [infer D extends number, ...infer Rest extends readonly number[]]
    ? ProductLoop<Rest, Mul<Acc, D>>
    : Acc;

/**
 * A < B, as a boolean literal type; A and B may be negative.
 *
 * @example
 *   type T = Lt<-3, 2>; // true
 */
export type Lt<A extends number, B extends number> =
  EdgeCase<A, B, boolean> extends [infer R extends boolean] ? R : Holds<Compare<Read<A>, Read<B>>, "<">;

/**
 * A <= B, as a boolean literal type; A and B may be negative.
 *
 * @example
 *   type T = Lte<4, 4>; // true
 */
export type Lte<A extends number, B extends number> =
  EdgeCase<A, B, boolean> extends [infer R extends boolean] ? R : Holds<Compare<Read<A>, Read<B>>, "<" | "=">;

/**
 * A > B, as a boolean literal type; A and B may be negative.
 *
 * @example
 *   type T = Gt<10, 9>; // true
 */
export type Gt<A extends number, B extends number> =
  EdgeCase<A, B, boolean> extends [infer R extends boolean] ? R : Holds<Compare<Read<A>, Read<B>>, ">">;

/**
 * A >= B, as a boolean literal type; A and B may be negative.
 *
 * @example
 *   type T = Gte<-5, -4>; // false
 */
export type Gte<A extends number, B extends number> =
  EdgeCase<A, B, boolean> extends [infer R extends boolean] ? R : Holds<Compare<Read<A>, Read<B>>, ">" | "=">;

/**
 * Whether A is a natural number (0, 1, 2, ...), i.e. a valid dim: false for a
 * negative, fractional or exponent-form literal, `boolean` for `number`,
 * `never` for `never`.
 *
 * @example
 *   type T = IsNatural<1.5>; // false
 */
export type IsNatural<A extends number> = number extends A
  ? boolean
  : A extends unknown // one union member at a time; `never` stays `never`
    ? `${A}` extends `${bigint}`
      ? `${A}` extends `-${string}`
        ? false
        : true
      : false
    : never;
