/**
 * The header of a `.npy` file: a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, read by a
 * small strict parser of our own (never `eval`).
 *
 * The grammar is the part of Python's literal syntax that NumPy's
 * `format.py` writes (and `ast.literal_eval` reads there): dicts with string
 * keys, strings in single or double quotes with the usual backslash escapes,
 * decimal integers (an `L` suffix from Python 2 files allowed), `True`,
 * `False`, `None`, tuples and lists. Like NumPy we require exactly the keys
 * `descr`, `fortran_order` and `shape`; unlike `literal_eval` we refuse a
 * key given twice. Deliberately left out: structured dtypes (a `descr` that
 * is a list), floats, and any other Python syntax.
 */

import * as E from "fp-ts/lib/Either.js";
import { MAX_DIM } from "../core/shape.js";

/** A value of the literal grammar. */
type Literal = string | bigint | boolean | null | Literal[] | { readonly tuple: Literal[] } | Map<string, Literal>;

/** What the header says about the array. */
export interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
}

/** The deepest nesting of tuples, lists and dicts the parser follows. */
const MAX_DEPTH = 32;

class Parser {
  at = 0;
  constructor(readonly text: string) {}

  error(detail: string): never {
    throw new HeaderFailure(`${detail} at character ${this.at} of the header`);
  }

  space(): void {
    while (this.at < this.text.length && " \t\n\r".includes(this.text[this.at] ?? "")) this.at++;
  }

  /** Skips spaces, then consumes `c` when it comes next. */
  eat(c: string): boolean {
    this.space();
    if (this.text[this.at] !== c) return false;
    this.at++;
    return true;
  }

  value(depth: number): Literal {
    if (depth > MAX_DEPTH) this.error(`nesting deeper than ${MAX_DEPTH}`);
    this.space();
    const c = this.text[this.at];
    if (c === "'" || c === '"') return this.string(c);
    if (c === "{") return this.dict(depth);
    if (c === "(") return { tuple: this.sequence(")", depth) };
    if (c === "[") return this.sequence("]", depth);
    if (c !== undefined && /[-+0-9]/.test(c)) return this.integer();
    for (const [word, x] of [["True", true], ["False", false], ["None", null]] as const) {
      if (this.text.startsWith(word, this.at) && !/[A-Za-z0-9_]/.test(this.text[this.at + word.length] ?? "")) {
        this.at += word.length;
        return x;
      }
    }
    return this.error(c === undefined ? "the header ends where a value should be" : `unexpected ${JSON.stringify(c)}`);
  }

  string(quote: string): string {
    const escapes: { readonly [c: string]: string } = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", "0": "\0" };
    let out = "";
    for (this.at++; ; this.at++) {
      const c = this.text[this.at];
      if (c === undefined || c === "\n") return this.error("an unterminated string");
      if (c === quote) {
        this.at++;
        return out;
      }
      if (c === "\\") {
        const e = escapes[this.text[++this.at] ?? ""];
        if (e === undefined) this.error(`an unsupported escape \\${this.text[this.at] ?? ""}`);
        out += e;
      } else {
        out += c;
      }
    }
  }

  integer(): bigint {
    const m = /^[-+]?[0-9]+L?/.exec(this.text.slice(this.at, this.at + 64));
    if (m === null) return this.error("a malformed number");
    const digits = m[0].replace(/L$/, "");
    if (/^[-+]?0[0-9]/.test(digits)) this.error(`an integer with a leading zero (${digits})`);
    if (/[.eEjJxX]/.test(this.text[this.at + m[0].length] ?? "")) this.error("a number that is not a decimal integer");
    this.at += m[0].length;
    return BigInt(digits);
  }

  sequence(close: string, depth: number): Literal[] {
    this.at++;
    const items: Literal[] = [];
    while (!this.eat(close)) {
      items.push(this.value(depth + 1));
      if (!this.eat(",")) {
        if (!this.eat(close)) this.error(`expected "," or "${close}"`);
        // (x) is x in Python, not a tuple; NumPy never writes it for a shape.
        if (close === ")" && items.length === 1) this.error("a one-element tuple without its trailing comma");
        return items;
      }
    }
    return items;
  }

  dict(depth: number): Map<string, Literal> {
    this.at++;
    const out = new Map<string, Literal>();
    while (!this.eat("}")) {
      const key = this.value(depth + 1);
      if (typeof key !== "string") this.error("a dict key that is not a string");
      if (out.has(key)) this.error(`the key ${JSON.stringify(key)} given twice`);
      if (!this.eat(":")) this.error('expected ":"');
      out.set(key, this.value(depth + 1));
      if (!this.eat(",")) {
        if (!this.eat("}")) this.error('expected "," or "}"');
        return out;
      }
    }
    return out;
  }
}

class HeaderFailure {
  constructor(readonly detail: string) {}
}

function describe(x: Literal): string {
  if (x === null) return "None";
  if (typeof x === "boolean") return x ? "True" : "False";
  if (typeof x === "bigint") return x.toString();
  if (typeof x === "string") return JSON.stringify(x);
  if (Array.isArray(x)) return "a list";
  return x instanceof Map ? "a dict" : "a tuple";
}

/**
 * The fields of a `.npy` header's text, or why it is not one (a message
 * without the reader's name).
 *
 * @example
 * parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
 * // Right({ descr: "<f4", fortranOrder: false, shape: [2, 3] })
 */
export function parseNpyHeader(text: string): E.Either<string, NpyHeader> {
  let dict: Literal;
  try {
    const parser = new Parser(text);
    dict = parser.value(0);
    parser.space();
    if (parser.at !== text.length) parser.error("text after the dict");
  } catch (e) {
    if (e instanceof HeaderFailure) return E.left(`the header is not a Python literal: ${e.detail}`);
    throw e;
  }
  if (!(dict instanceof Map)) return E.left(`the header must be a dict, found ${describe(dict)}`);
  const keys = [...dict.keys()].sort();
  if (keys.join() !== "descr,fortran_order,shape") {
    return E.left(`the header must have exactly the keys 'descr', 'fortran_order' and 'shape', found ${keys.map((k) => JSON.stringify(k)).join(", ") || "none"}`);
  }
  const descr = dict.get("descr") ?? null;
  if (typeof descr !== "string") {
    return E.left(Array.isArray(descr) ? "structured dtypes (a 'descr' list) are not supported" : `'descr' must be a string, found ${describe(descr)}`);
  }
  const fortranOrder = dict.get("fortran_order") ?? null;
  if (typeof fortranOrder !== "boolean") return E.left(`'fortran_order' must be True or False, found ${describe(fortranOrder)}`);
  const shapeValue = dict.get("shape") ?? null;
  if (shapeValue === null || typeof shapeValue !== "object" || !("tuple" in shapeValue)) return E.left(`'shape' must be a tuple, found ${describe(shapeValue)}`);
  const shape: number[] = [];
  for (const [i, d] of shapeValue.tuple.entries()) {
    if (typeof d !== "bigint" || d < 0n) return E.left(`dim ${i} of 'shape' must be a non-negative integer, found ${describe(d)}`);
    if (d > BigInt(MAX_DIM)) return E.left(`dim ${i} of 'shape' is ${d}, larger than 2^31 - 1`);
    shape.push(Number(d));
  }
  return E.right({ descr, fortranOrder, shape });
}
