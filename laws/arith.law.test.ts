/**
 * Law: type-level arithmetic agrees with JavaScript arithmetic.
 *
 * For random integer operands (small ones, the boundaries 0, 1 and 2^31 - 1,
 * and large ones up to 2^52), every operation of `src/core/arith` must give
 * exactly the literal that BigInt arithmetic gives, and booleans that match
 * the comparison operators. Each case is written twice into one generated
 * file, as a value check (`const c1: Mul<50257, 768> = 38597376 as const;`)
 * and as an exact-identity check (`Expect<Equal<...>>`); the file is
 * type-checked once, so all cases cost one program. `STRATUM_HEAVY=1` runs
 * more cases.
 *
 * Leaves out: the edge rules (`number`, `never`, fractions, division by 0),
 * which `types/arith.test-d.ts` pins down case by case.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { equalityPrelude, typeErrors } from "./support/type-check.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
const casesPerOperation = heavy ? 1000 : 200;

/** One case: the type expression under test and the literal it must be. */
interface Case {
  readonly type: string;
  readonly expected: string;
}

const int32Max = 2 ** 31 - 1;
const exactMax = 2n ** 53n;

const small = fc.integer({ min: 0, max: 300 });
const boundary = fc.constantFrom(0, 1, 2, int32Max);
const large = fc.integer({ min: 0, max: int32Max });
const huge = fc.integer({ min: 0, max: 2 ** 52 });

/** A natural number from the small, boundary and large ranges. */
const natural = fc.oneof(small, boundary, large);
/** A positive divisor from the same ranges. */
const divisor = natural.map((n) => Math.max(n, 1));
/** An integer of either sign, up to 2^52 in size, so that sums stay within 2^53. */
const integer = fc.tuple(fc.oneof(small, boundary, large, huge), fc.boolean()).map(([n, negative]) => (negative ? -n : n));

/** floor(a / b) for b > 0, in BigInt, which truncates. */
const floorDiv = (a: bigint, b: bigint): bigint => (a < 0n && a % b !== 0n ? a / b - 1n : a / b);

const binary = (name: string, a: number, b: number, expected: bigint | boolean): Case => ({
  type: `${name}<${a}, ${b}>`,
  expected: String(expected),
});

const addCase = fc.tuple(integer, integer).map(([a, b]) => binary("Add", a, b, BigInt(a) + BigInt(b)));

const subCase = fc.tuple(integer, integer).map(([a, b]) => binary("Sub", a, b, BigInt(a) - BigInt(b)));

/** Operands up to 2^31 - 1 whose product stays within 2^53. */
const mulCase = fc.tuple(natural, natural, fc.boolean(), fc.boolean()).map(([a, b, negativeA, negativeB]) => {
  const fitted = BigInt(a) * BigInt(b) > exactMax ? Number(exactMax / BigInt(Math.max(a, 1))) : b;
  const x = negativeA ? -a : a;
  const y = negativeB ? -fitted : fitted;
  return binary("Mul", x, y, BigInt(x) * BigInt(y));
});

const floorDivCase = fc.tuple(integer, divisor).map(([a, b]) => binary("FloorDiv", a, b, floorDiv(BigInt(a), BigInt(b))));

const modCase = fc.tuple(integer, divisor).map(([a, b]) => binary("Mod", a, b, BigInt(a) - BigInt(b) * floorDiv(BigInt(a), BigInt(b))));

// ceil(a / b) = -floor(-a / b)
const ceilDivCase = fc.tuple(natural, divisor).map(([a, b]) => binary("CeilDiv", a, b, -floorDiv(-BigInt(a), BigInt(b))));

/** Shapes of up to six dims; a dim that would push the product past 2^53 becomes 1. */
const productCase = fc.array(fc.oneof({ weight: 4, arbitrary: small }, { weight: 1, arbitrary: natural }), { maxLength: 6 }).map((dims): Case => {
  let product = 1n;
  const fitted = dims.map((d) => {
    if (product * BigInt(d) > exactMax) return 1;
    product *= BigInt(d);
    return d;
  });
  return { type: `Product<[${fitted.join(", ")}]>`, expected: String(product) };
});

/** Pairs of integers, a quarter of them equal, so that ties are tested. */
const comparisonPair = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(integer, integer) },
  { weight: 1, arbitrary: integer.map((a): [number, number] => [a, a]) },
);
const compareCase = (name: string, holds: (a: number, b: number) => boolean): fc.Arbitrary<Case> =>
  comparisonPair.map(([a, b]) => binary(name, a, b, holds(a, b)));

/** Integers of either sign and fractions; only integers >= 0 are natural. */
const isNaturalCase = fc
  .oneof(integer, fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }))
  .map((a): Case => ({ type: `IsNatural<${a}>`, expected: String(Number.isInteger(a) && a >= 0) }));

const operations: Record<string, fc.Arbitrary<Case>> = {
  Add: addCase,
  Sub: subCase,
  Mul: mulCase,
  FloorDiv: floorDivCase,
  Mod: modCase,
  CeilDiv: ceilDivCase,
  Product: productCase,
  Lt: compareCase("Lt", (a, b) => a < b),
  Lte: compareCase("Lte", (a, b) => a <= b),
  Gt: compareCase("Gt", (a, b) => a > b),
  Gte: compareCase("Gte", (a, b) => a >= b),
  IsNatural: isNaturalCase,
};

const imports = `
import type { Add, CeilDiv, FloorDiv, Gt, Gte, IsNatural, Lt, Lte, Mod, Mul, Product, Sub } from "../src/core/arith/index.js";
`;

/** The two checks of case i: the literal is assignable, and the type is exactly that literal. */
const caseLines = (c: Case, i: number): string[] => [
  `const c${i}: ${c.type} = ${c.expected} as const;`,
  `type _c${i} = Expect<Equal<${c.type}, ${c.expected}>>;`,
];

describe("type-level arithmetic agrees with JavaScript arithmetic", () => {
  test("on random integers from the small, boundary and large ranges", () => {
    const all = fc.tuple(...Object.values(operations).map((arb) => fc.array(arb, { minLength: casesPerOperation, maxLength: casesPerOperation })));
    fc.assert(
      fc.property(all, (groups) => {
        const lines = groups.flat().flatMap(caseLines);
        const errors = typeErrors([imports, equalityPrelude, ...lines, "export {};"].join("\n"), "arith-law-cases");
        expect(errors.slice(0, 10)).toEqual([]);
      }),
      { numRuns: 1, endOnFailure: true },
    );
  }, 120_000);
});
