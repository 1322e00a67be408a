/**
 * Parsing and validating a safetensors header, before anything is allocated.
 *
 * The layout, after the reference implementation (huggingface/safetensors,
 * `SafeTensors::read_metadata` and `Metadata::validate`): an 8-byte
 * little-endian u64 `N` (at most 100,000,000), then `N` bytes of UTF-8 JSON
 * starting with `{`, then the data section. The JSON maps each tensor name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets into the data
 * section), plus an optional `__metadata__` map of strings. Sorted by offset,
 * the byte ranges must tile the data section exactly from 0 to its end, and
 * each range's length must be the shape's size times the dtype's size.
 *
 * Like the reference we accept JSON whitespace before the `{`, refuse a
 * string that escapes a lone or reversed surrogate (`"\ud800"`, which is no
 * Unicode text), and ignore unknown fields inside a tensor entry. Beyond the
 * reference we refuse duplicate JSON keys (JSON.parse would keep the last one
 * silently) and dims over 2^31 - 1 (a Stratum tensor's limit).
 */

import * as E from "fp-ts/lib/Either.js";
import { MAX_DIM } from "../core/shape.js";
import { utf8DecodeStrict } from "../core/host.js";
import { loadError, type LoadError } from "./load-error.js";
import { FORMATS, isFormatDType, UNSUPPORTED, type FormatDType } from "./safetensors-format.js";

/** The largest header the reference accepts, in bytes. */
export const MAX_HEADER_SIZE = 100_000_000;

/** One tensor as the header describes it; offsets are absolute in the file. */
export interface HeaderEntry {
  readonly name: string;
  readonly format: FormatDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated header: entries sorted by offset, and the metadata. */
export interface Header {
  readonly entries: readonly HeaderEntry[];
  readonly metadata: Map<string, string>;
}

function isObject(x: unknown): x is { readonly [key: string]: unknown } {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? "an object" : `${typeof x} ${JSON.stringify(x)}`;
}

/** A surrogate that is not half of a high-low pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `text` is well-formed Unicode: no lone or reversed surrogate. */
export function wellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The first string (key or value) anywhere in parsed JSON that is not well-formed, if any. */
function illFormedString(json: unknown): string | undefined {
  const pending: unknown[] = [json];
  while (pending.length > 0) {
    const x = pending.pop();
    if (typeof x === "string") {
      if (!wellFormed(x)) return x;
    } else if (Array.isArray(x)) {
      for (const y of x) pending.push(y);
    } else if (isObject(x)) {
      for (const key of Object.keys(x)) {
        if (!wellFormed(key)) return key;
        pending.push(x[key]);
      }
    }
  }
  return undefined;
}

/**
 * The first key that appears twice in one object of `json`, which must be
 * valid JSON. One linear scan: a stack of the keys seen per open object.
 */
export function findDuplicateKey(json: string): string | undefined {
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys !== undefined) {
        const key: unknown = JSON.parse(json.slice(i, j + 1));
        if (typeof key === "string") {
          if (keys.has(key)) return key;
          keys.add(key);
        }
      }
      expectKey = false;
      i = j;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(undefined);
      expectKey = false;
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** The shape of entry `name`, or why it is not one. */
function checkShapeOf(name: string, shape: unknown): E.Either<string, number[]> {
  if (!Array.isArray(shape)) return E.left(`tensor ${JSON.stringify(name)}: shape must be an array of sizes, got ${describe(shape)}`);
  const dims: number[] = [];
  for (const [i, d] of shape.entries()) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      return E.left(`tensor ${JSON.stringify(name)}: dim ${i} must be a non-negative integer, got ${describe(d)}`);
    }
    if (d > MAX_DIM) return E.left(`tensor ${JSON.stringify(name)}: dim ${i} is ${d}, larger than 2^31 - 1`);
    dims.push(d);
  }
  return E.right(dims);
}

/** Validates one tensor entry; the offsets it returns are still relative. */
function checkEntry(name: string, info: unknown): E.Either<string, HeaderEntry> {
  const at = `tensor ${JSON.stringify(name)}`;
  if (!isObject(info)) return E.left(`${at}: entry must be an object, got ${describe(info)}`);
  const dtype = info["dtype"];
  if (typeof dtype !== "string") return E.left(`${at}: dtype must be a string, got ${describe(dtype)}`);
  if (!isFormatDType(dtype)) {
    return E.left(UNSUPPORTED.includes(dtype) ? `${at}: dtype ${dtype} is not supported` : `${at}: unknown dtype ${JSON.stringify(dtype)}`);
  }
  const shape = checkShapeOf(name, info["shape"]);
  if (E.isLeft(shape)) return shape;
  const offsets = info["data_offsets"];
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    return E.left(`${at}: data_offsets must be a pair [begin, end], got ${describe(offsets)}`);
  }
  const [begin, end]: unknown[] = offsets;
  if (typeof begin !== "number" || typeof end !== "number" || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
    return E.left(`${at}: data_offsets must be integers with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  // size = product of dims times the element size, refused once past 2^53 (the reference's checked_mul)
  let bytes = FORMATS[dtype].size;
  for (const d of shape.right) {
    bytes *= d;
    if (bytes > Number.MAX_SAFE_INTEGER) return E.left(`${at}: shape [${shape.right.join(", ")}] overflows: it has more than 2^53 bytes`);
  }
  if (end - begin !== bytes) {
    return E.left(`${at}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} of shape [${shape.right.join(", ")}] needs ${bytes}`);
  }
  return E.right({ name, format: dtype, shape: shape.right, begin, end });
}

/**
 * The header of a safetensors file, validated against the file's length;
 * a `Left` naming the first problem otherwise. Allocates nothing but the
 * decoded header text.
 */
export function parseHeader(bytes: Uint8Array): E.Either<LoadError, Header> {
  if (bytes.length < 8) return E.left(loadError(`the file has ${bytes.length} bytes, fewer than the 8 of the header length`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_HEADER_SIZE) {
    return E.left(loadError(`header length ${high * 2 ** 32 + low} is over the limit of ${MAX_HEADER_SIZE} bytes`));
  }
  const dataStart = 8 + low;
  if (dataStart > bytes.length) {
    return E.left(loadError(`header length ${low} runs past the end of the file (${bytes.length - 8} bytes follow it)`));
  }
  let text: string;
  try {
    text = utf8DecodeStrict(bytes.subarray(8, dataStart));
  } catch {
    return E.left(loadError("the header is not valid UTF-8"));
  }
  if (!/^[ \t\n\r]*\{/.test(text)) return E.left(loadError("the header must be a JSON object starting with '{'"));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(loadError(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`));
  }
  if (!isObject(json)) return E.left(loadError(`the header must be a JSON object, got ${describe(json)}`));
  const illFormed = illFormedString(json);
  if (illFormed !== undefined) return E.left(loadError(`the header holds a string with a lone surrogate: ${JSON.stringify(illFormed.slice(0, 40))}`));
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) return E.left(loadError(`the header names ${JSON.stringify(duplicate)} twice`));

  const metadata = new Map<string, string>();
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(json)) {
    const info = json[name];
    if (name === "__metadata__") {
      if (!isObject(info)) return E.left(loadError(`__metadata__ must be an object of strings, got ${describe(info)}`));
      for (const key of Object.keys(info)) {
        const value = info[key];
        if (typeof value !== "string") return E.left(loadError(`__metadata__ ${JSON.stringify(key)} must be a string, got ${describe(value)}`));
        metadata.set(key, value);
      }
      continue;
    }
    const entry = checkEntry(name, info);
    if (E.isLeft(entry)) return E.left(loadError(entry.left));
    entries.push(entry.right);
  }

  // Sorted by offset, the ranges must tile [0, data length) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.length - dataStart;
  let cursor = 0;
  for (const e of entries) {
    const at = `tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}]`;
    if (e.begin < cursor) return E.left(loadError(`${at} overlap the previous tensor, which ends at ${cursor}`));
    if (e.begin > cursor) return E.left(loadError(`${at} leave a gap: the previous tensor ends at ${cursor}`));
    if (e.end > dataLength) return E.left(loadError(`${at} run past the end of the data section (${dataLength} bytes)`));
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    return E.left(loadError(`the tensors cover ${cursor} bytes of the data section, but it has ${dataLength}: ${dataLength - cursor} trailing bytes`));
  }
  const absolute = entries.map((e) => ({ ...e, begin: e.begin + dataStart, end: e.end + dataStart }));
  return E.right({ entries: absolute, metadata });
}
