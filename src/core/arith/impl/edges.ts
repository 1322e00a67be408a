/**
 * The edge rules every public operation applies before it reads a digit.
 *
 * In order: a `never` operand gives `never`; a wide `number` operand gives the
 * operation's wide result (`number`, or `boolean` for a comparison); a literal
 * that is not an integer (1.5, or 1e21, whose text is exponent form) gives
 * `never`. Only then do the operands reach `signed.ts`. Keeping the checks in
 * front means the digit machinery never meets `number`, where a template
 * pattern would match `${number}` in surprising ways.
 *
 * An edge rule's answer comes back wrapped, `[R]`, and "no rule applies" as
 * `[]`, so a caller can tell an answer of `never` from going on:
 * `EdgeCase<A, B, number> extends [infer R extends number] ? R : ...`.
 *
 * Leaves out: unions, which are not supported (they distribute where a
 * conditional happens to distribute).
 */

/** `[R]` when an edge rule decides the operation on A and B, `[]` otherwise. */
export type EdgeCase<A extends number, B extends number, Wide> = [A] extends [never]
  ? [never]
  : [B] extends [never]
    ? [never]
    : number extends A | B
      ? [Wide]
      : `${A}` | `${B}` extends `${bigint}`
        ? []
        : [never];

/** `EdgeCase`, plus the divisor rule: B <= 0 gives `never`. */
export type DivisionEdgeCase<A extends number, B extends number> =
  EdgeCase<A, B, number> extends [infer R]
    ? [R]
    : `${B}` extends "0" | `-${string}`
      ? [never]
      : [];
