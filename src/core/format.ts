/**
 * The repr of a tensor, printed the way NumPy prints `repr(array)`.
 *
 * `tensor([[1., 2., 3.],\n        [4., 5., 6.]], dtype=float32)`: rows nest in
 * brackets, continuation lines align under the first bracket, every element of
 * a tensor takes one common width, and a tensor of more than 1000 elements is
 * summarised to its first and last 3 items along each long axis. This follows
 * NumPy 2's `arrayprint.py` with its default options (line width 75,
 * precision 8, threshold 1000, edge items 3, `floatmode="maxprec"`): floats
 * print with their shortest round-tripping digits in their own dtype, at most
 * 8 fractional digits, and switch to scientific notation when the largest
 * magnitude reaches 1e8 (1e6 for float32, whose precision is 6 digits), the
 * smallest non-zero one is below 1e-4, or the two are more than 1000 apart.
 * Deliberately left out: NumPy's print options (no global state here) and
 * its legacy modes.
 */

import type { DType } from "./dtype.js";
import { formatShape, stridesOf } from "./shape.js";

/**
 * What printing needs of a tensor: its shape, size, dtype and elements. A
 * structural type, so that `tensor.ts` can use this module without this
 * module importing it back.
 */
export interface Printable {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  readonly data: ArrayLike<number>;
}

const PREFIX = "tensor(";
const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;
const SUMMARY = "...";

/**
 * The NumPy-style repr of a tensor: its elements nested by dim, then the
 * dtype (and the shape when the elements do not show it: empty or
 * summarised tensors).
 *
 * @example
 * formatTensor(tensor([[1, 2, 3], [4, 5, 6]] as const));
 * // tensor([[1., 2., 3.],
 * //         [4., 5., 6.]], dtype=float32)
 */
export function formatTensor(t: Printable): string {
  const shape: readonly number[] = t.shape;
  const summarise = t.size > THRESHOLD;
  const extras: string[] = [];
  // NOTE: NumPy omits the shape of an empty 1-d array: `[]` already shows it.
  if ((t.size === 0 && shape.length !== 1) || summarise) extras.push(`shape=${formatShape(shape)}`);
  extras.push(`dtype=${t.dtype}`);
  const head = `${PREFIX}${t.size === 0 ? "[]" : formatElements(t, summarise)},`;
  const tail = `${extras.join(", ")})`;
  const lastLine = head.length - (head.lastIndexOf("\n") + 1);
  const spacer = lastLine + tail.length + 1 > LINE_WIDTH ? `\n${" ".repeat(PREFIX.length)}` : " ";
  return head + spacer + tail;
}

/** The indices shown along an axis of length `n`; `undefined` marks the `...`. */
function shownIndices(n: number, summarise: boolean): (number | undefined)[] {
  if (summarise && n > 2 * EDGE_ITEMS) {
    const last = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
    return [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), undefined, ...last];
  }
  return Array.from({ length: n }, (_, i) => i);
}

/** The bracketed elements, wrapped and aligned as NumPy's `_formatArray` does. */
function formatElements(t: Printable, summarise: boolean): string {
  const shape: readonly number[] = t.shape;
  const strides = stridesOf(shape);
  const rank = shape.length;
  const at = (offset: number): number => t.data[offset] ?? 0;

  // Only the elements on show decide the common width, as in NumPy.
  const shown: number[] = [];
  const collect = (offset: number, axis: number): void => {
    if (axis === rank) {
      shown.push(at(offset));
      return;
    }
    for (const i of shownIndices(shape[axis] ?? 0, summarise)) {
      if (i !== undefined) collect(offset + i * (strides[axis] ?? 0), axis + 1);
    }
  };
  collect(0, 0);
  const format = elementFormatter(t.dtype, shown, rank === 0);

  // `hanging` is the indent of continuation lines; `width` the room left for
  // a line, less one for each closing bracket still to come.
  const recurse = (offset: number, axis: number, hanging: string, width: number): string => {
    if (axis === rank) return format(at(offset));
    const words = shownIndices(shape[axis] ?? 0, summarise).map((i) =>
      i === undefined ? SUMMARY : recurse(offset + i * (strides[axis] ?? 0), axis + 1, `${hanging} `, width - 1),
    );
    let body: string;
    if (axis === rank - 1) {
      // The last axis: elements flow along the line and wrap when it is full
      // (keeping a column for the `,` or `]` that follows each one).
      let done = "";
      let line = hanging;
      words.forEach((word, k) => {
        if (line.length + word.length > width - 1 && line.length > hanging.length) {
          done += `${line.trimEnd()}\n`;
          line = hanging;
        }
        line += k < words.length - 1 ? `${word}, ` : word;
      });
      body = done + line;
    } else {
      // Outer axes: one block per line, with a blank line per axis below.
      body = words.map((word) => hanging + word).join(`,${"\n".repeat(rank - axis - 1)}`);
    }
    return `[${body.slice(hanging.length)}]`;
  };
  return recurse(0, 0, " ".repeat(PREFIX.length + 1), LINE_WIDTH - ")".length);
}

/** The function that prints one element, padded to the width common to `shown`. */
function elementFormatter(dtype: DType, shown: readonly number[], scalar: boolean): (x: number) => string {
  switch (dtype) {
    case "bool": {
      // NumPy pads True to the width of False, except in a rank-0 tensor.
      const yes = scalar ? "True" : " True";
      return (x) => (x !== 0 ? yes : "False");
    }
    case "int32": {
      const width = Math.max(...shown.map((x) => String(x).length));
      return (x) => String(x).padStart(width);
    }
    case "float32":
    case "float64":
      return floatFormatter(dtype, shown);
  }
}

/** NumPy's `FloatingFormat`: one mode (positional or scientific) and one set of paddings for all elements. */
function floatFormatter(dtype: "float32" | "float64", shown: readonly number[]): (x: number) => string {
  const finite = shown.filter(Number.isFinite);
  // NOTE: NumPy compares float32 data in float32, so the limits are rounded to it too.
  const round = dtype === "float32" ? Math.fround : (x: number): number => x;
  const magnitudes = finite.filter((x) => x !== 0).map(Math.abs);
  let scientific = false;
  if (magnitudes.length > 0) {
    const max = magnitudes.reduce((a, b) => Math.max(a, b));
    const min = magnitudes.reduce((a, b) => Math.min(a, b));
    const cutoff = dtype === "float32" ? 1e6 : 1e8;
    scientific = max >= cutoff || min < round(1e-4) || round(max / min) > 1000;
  }
  const toDigits = (x: number): Decimal => limitDigits(x, dtype, scientific);

  let padLeft = 0;
  let padRight = 0;
  let fractionDigits = 0; // scientific only: the common number of mantissa digits after the point
  let exponentDigits = 0; // scientific only
  if (finite.length > 0 && scientific) {
    const parts = finite.map((x) => scientificParts(x, toDigits(x)));
    fractionDigits = Math.max(...parts.map((p) => p.fraction.length));
    exponentDigits = Math.max(...parts.map((p) => p.exponent.length));
    padLeft = Math.max(...parts.map((p) => p.integer.length));
    padRight = exponentDigits + 2 + fractionDigits;
  } else if (finite.length > 0) {
    const parts = finite.map((x) => positionalParts(x, toDigits(x)));
    padLeft = Math.max(...parts.map((p) => p.integer.length));
    padRight = Math.max(...parts.map((p) => p.fraction.length));
  }
  if (finite.length < shown.length) {
    // Room for `nan`, `inf` and `-inf`, right-aligned with the numbers.
    const negativeInfinity = shown.some((x) => x === -Infinity) ? 1 : 0;
    padLeft = Math.max(padLeft, 3 + negativeInfinity - (padRight + 1));
  }

  return (x) => {
    if (Number.isNaN(x)) return "nan".padStart(padLeft + padRight + 1);
    if (!Number.isFinite(x)) return (x < 0 ? "-inf" : "inf").padStart(padLeft + padRight + 1);
    if (scientific) {
      // NOTE: a mantissa shorter than the others is lengthened with more digits
      // of its exact value (Dragon4's `min_digits`), not with zeros.
      const shortest = toDigits(x);
      const digits =
        shortest.digits.length < fractionDigits + 1 ? roundDecimal(exactDecimal(x), fractionDigits + 1) : shortest;
      const p = scientificParts(x, digits);
      const fraction = p.fraction.padEnd(fractionDigits, "0");
      return `${p.integer.padStart(padLeft)}.${fraction}e${p.exponentSign}${p.exponent.padStart(exponentDigits, "0")}`;
    }
    const p = positionalParts(x, toDigits(x));
    return `${p.integer.padStart(padLeft)}.${p.fraction.padEnd(padRight)}`;
  };
}

/**
 * A non-negative decimal `0.DIGITS × 10^point`, with no leading or trailing
 * zeros in `digits` (`""` is zero): 123.45 is `{ digits: "12345", point: 3 }`.
 */
interface Decimal {
  readonly digits: string;
  readonly point: number;
}

const ZERO: Decimal = { digits: "", point: 0 };

/** Parses the magnitude of a decimal numeral such as `"1.25e-7"` or `"300"`. */
function parseDecimal(text: string): Decimal {
  const [mantissa = "", exponent = "0"] = text.replace(/^-/, "").split(/e/i);
  const [integer = "", fraction = ""] = mantissa.split(".");
  const all = integer + fraction;
  const lead = all.length - all.replace(/^0+/, "").length;
  const digits = all.slice(lead).replace(/0+$/, "");
  if (digits === "") return ZERO;
  return { digits, point: integer.length - lead + Number(exponent) };
}

/** The exact decimal value of `|x|` (every finite double is a finite decimal). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return ZERO;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  // |x| = mantissa × 2^exponent, exactly.
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  if (exponent >= 0) return parseDecimal((mantissa << BigInt(exponent)).toString());
  // m × 2^-k = m × 5^k / 10^k
  const scaled = (mantissa * 5n ** BigInt(-exponent)).toString();
  const parsed = parseDecimal(scaled);
  return { digits: parsed.digits, point: parsed.point + exponent };
}

/**
 * The shortest decimal that reads back as `x` in its dtype (the closest one
 * when several are as short), as Dragon4's unique mode finds it.
 */
function shortestDecimal(x: number, dtype: "float32" | "float64"): Decimal {
  if (dtype === "float64") return parseDecimal(String(Math.abs(x))); // ECMAScript's Number::toString is exactly this
  const magnitude = Math.abs(x);
  const exact = exactDecimal(x);
  for (let precision = 1; precision < 9; precision++) {
    // NOTE: not toPrecision, which rounds ties up where Dragon4 rounds them to even.
    const closest = roundDecimal(exact, precision);
    // NOTE: next to a power of two the round-trip interval is lopsided, so a
    // neighbour of the closest numeral may read back when the closest does not.
    const candidates = [closest, stepDecimal(closest, precision, -1), stepDecimal(closest, precision, 1)];
    const found = candidates.find((d) => Math.fround(Number(toNumeral(d))) === magnitude);
    if (found !== undefined) return found;
  }
  return roundDecimal(exact, 9); // nine digits always round-trip a float32
}

/** `d` moved by one unit in its `precision`-th significant digit. */
function stepDecimal(d: Decimal, precision: number, direction: 1 | -1): Decimal {
  const units = BigInt(d.digits.padEnd(precision, "0")) + BigInt(direction);
  if (units <= 0n) return ZERO;
  const text = units.toString();
  const parsed = parseDecimal(text);
  return { digits: parsed.digits, point: d.point + (text.length - precision) };
}

/** A plain numeral for `d`, e.g. `"0.125e1"`. */
function toNumeral(d: Decimal): string {
  return d.digits === "" ? "0" : `0.${d.digits}e${d.point}`;
}

/** `d` rounded to its first `keep` digits, ties to even, as Dragon4 rounds at its cutoff. */
function roundDecimal(d: Decimal, keep: number): Decimal {
  if (keep >= d.digits.length) return d;
  if (keep < 0) return ZERO;
  const head = d.digits.slice(0, keep);
  const next = d.digits[keep] ?? "0";
  const rest = d.digits.length > keep + 1; // digits has no trailing zeros: anything after `next` is non-zero
  const odd = Number(head.at(-1) ?? "0") % 2 === 1;
  const up = next > "5" || (next === "5" && (rest || odd));
  if (!up) return head === "" ? ZERO : parseDecimal(`0.${head}e${d.point}`);
  const units = (BigInt(head === "" ? "0" : head) + 1n).toString();
  // A carry out of the kept digits (999 -> 1000) moves the point one place.
  const point = d.point + (units.length - keep);
  return parseDecimal(`0.${units}e${point}`);
}

/**
 * The digits NumPy prints for `x` with `floatmode="maxprec"`: the shortest
 * unique digits, cut to `PRECISION` fractional digits (positional) or
 * mantissa digits after the point (scientific), rounding the exact value.
 */
function limitDigits(x: number, dtype: "float32" | "float64", scientific: boolean): Decimal {
  const shortest = shortestDecimal(x, dtype);
  const allowed = scientific ? PRECISION + 1 : shortest.point + PRECISION;
  if (shortest.digits.length <= allowed) return shortest;
  const exact = exactDecimal(x);
  return roundDecimal(exact, scientific ? PRECISION + 1 : exact.point + PRECISION);
}

/** The sign and the two sides of the point of a positional numeral: `-12.5` is `-12` and `5`. */
function positionalParts(x: number, d: Decimal): { integer: string; fraction: string } {
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (d.point <= 0) return { integer: `${sign}0`, fraction: "0".repeat(-d.point) + d.digits };
  return { integer: sign + d.digits.slice(0, d.point).padEnd(d.point, "0"), fraction: d.digits.slice(d.point) };
}

/** The parts of a scientific numeral: `-1.25e-07` is `-1`, `25`, `-` and `07`. */
function scientificParts(
  x: number,
  d: Decimal,
): { integer: string; fraction: string; exponentSign: string; exponent: string } {
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const exponent = d.digits === "" ? 0 : d.point - 1;
  return {
    integer: sign + (d.digits[0] ?? "0"),
    fraction: d.digits.slice(1),
    exponentSign: exponent < 0 ? "-" : "+",
    exponent: String(Math.abs(exponent)).padStart(2, "0"),
  };
}
