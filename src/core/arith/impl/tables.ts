/**
 * The one-column facts that long arithmetic is built from, as lookup tables.
 *
 * Every multi-digit operation in `impl/` walks its operands one digit at a
 * time and asks these tables what one column gives; nothing here recurses, so
 * a column costs one indexed access on a fixed type. Entries are two
 * characters, high then low: `SumTable["0"]["7"]["5"]` is `"12"` (carry 1, digit
 * 2). The carry (or borrow) into a column picks the table, so a step needs no
 * conditional to fold it in. The grade-school idea, as in hotscript's
 * `internals/numbers` and ts-arithmetic's `OperationTable`, written out flat
 * instead of computed.
 *
 * Leaves out: anything wider than one column; the walks live in `add.ts`,
 * `sub.ts`, `mul.ts`, `compare.ts`.
 */

/** A decimal digit, as the characters of `${number}` text show it. */
export type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";

/** A carry (or borrow) between columns. */
export type Carry = "0" | "1";

/** `Bump[c][d]` is d + c, for a carry c, where that is still a digit. */
export type Bump = {
  "0": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
  "1": ["1", "2", "3", "4", "5", "6", "7", "8", "9", never]; // 9 + 1 is no digit
};

/** `Below[d]` is the union of the digits smaller than d. */
export type Below = [
  never,
  "0",
  "0" | "1",
  "0" | "1" | "2",
  "0" | "1" | "2" | "3",
  "0" | "1" | "2" | "3" | "4",
  "0" | "1" | "2" | "3" | "4" | "5",
  "0" | "1" | "2" | "3" | "4" | "5" | "6",
  "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7",
  "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8",
];

/** Row r, column b: r + b as carry and digit, for r in 0..10. */
type SumRows = [
  ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"],
  ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"],
  ["02", "03", "04", "05", "06", "07", "08", "09", "10", "11"],
  ["03", "04", "05", "06", "07", "08", "09", "10", "11", "12"],
  ["04", "05", "06", "07", "08", "09", "10", "11", "12", "13"],
  ["05", "06", "07", "08", "09", "10", "11", "12", "13", "14"],
  ["06", "07", "08", "09", "10", "11", "12", "13", "14", "15"],
  ["07", "08", "09", "10", "11", "12", "13", "14", "15", "16"],
  ["08", "09", "10", "11", "12", "13", "14", "15", "16", "17"],
  ["09", "10", "11", "12", "13", "14", "15", "16", "17", "18"],
  ["10", "11", "12", "13", "14", "15", "16", "17", "18", "19"],
];

/** Row s, column a: a - s as borrow and digit (a - s + 10 when a < s), for s in 0..10. */
type DiffRows = [
  ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"],
  ["19", "00", "01", "02", "03", "04", "05", "06", "07", "08"],
  ["18", "19", "00", "01", "02", "03", "04", "05", "06", "07"],
  ["17", "18", "19", "00", "01", "02", "03", "04", "05", "06"],
  ["16", "17", "18", "19", "00", "01", "02", "03", "04", "05"],
  ["15", "16", "17", "18", "19", "00", "01", "02", "03", "04"],
  ["14", "15", "16", "17", "18", "19", "00", "01", "02", "03"],
  ["13", "14", "15", "16", "17", "18", "19", "00", "01", "02"],
  ["12", "13", "14", "15", "16", "17", "18", "19", "00", "01"],
  ["11", "12", "13", "14", "15", "16", "17", "18", "19", "00"],
  ["10", "11", "12", "13", "14", "15", "16", "17", "18", "19"],
];

/** The rows of T after the first: row r of the result is row r + 1 of T. */
type ShiftRows<T extends readonly unknown[]> = T extends readonly [unknown, ...infer Rest] ? Rest : never;

/** `SumTable[c][a][b]` is a + b + c as carry and digit. */
export type SumTable = { "0": SumRows; "1": ShiftRows<SumRows> };

/** `DiffTable[w][b][a]` is a - b - w as borrow and digit, for a borrow w. */
export type DiffTable = { "0": DiffRows; "1": ShiftRows<DiffRows> };

/** `ProductTable[a][b]` is a * b as tens and units. */
export type ProductTable = [
  ["00", "00", "00", "00", "00", "00", "00", "00", "00", "00"],
  ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"],
  ["00", "02", "04", "06", "08", "10", "12", "14", "16", "18"],
  ["00", "03", "06", "09", "12", "15", "18", "21", "24", "27"],
  ["00", "04", "08", "12", "16", "20", "24", "28", "32", "36"],
  ["00", "05", "10", "15", "20", "25", "30", "35", "40", "45"],
  ["00", "06", "12", "18", "24", "30", "36", "42", "48", "54"],
  ["00", "07", "14", "21", "28", "35", "42", "49", "56", "63"],
  ["00", "08", "16", "24", "32", "40", "48", "56", "64", "72"],
  ["00", "09", "18", "27", "36", "45", "54", "63", "72", "81"],
];
