/**
 * Reading and writing safetensors files, with no dependency beyond fp-ts.
 *
 * The format (see `safetensors-header.ts` for its rules) is the one the
 * Hugging Face reference implementation reads and writes; we follow its
 * writer too: tensors sorted by descending dtype alignment then by name, the
 * `__metadata__` entry first, the header padded with spaces so the data
 * section starts at a multiple of 8. Reading validates the whole header before
 * allocating any tensor, never throws, and decodes F16 and BF16 to float32,
 * the integer types to int32 (U32, I64 and U64 when every value fits, else
 * float64 when every value is exact there, else a `Left` naming the value) and
 * BOOL to bool. Deliberately left out: lazy or memory-mapped loading, writing F16.
 */

import * as E from "fp-ts/lib/Either.js";
import { allocate, type DType, type Storage } from "../core/dtype.js";
import { utf8Encode } from "../core/host.js";
import type { Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { checkTensor, describeValue } from "../core/validate.js";
import { loadError, type LoadError } from "./load-error.js";
import { parseHeader, wellFormed, type HeaderEntry } from "./safetensors-header.js";
import { ALIGNMENT_RANK, FORMATS, isFormatDType, LITTLE_ENDIAN_HOST, WRITTEN_AS, type FormatDType } from "./safetensors-format.js";

/** What a safetensors file holds: tensors by name, and string metadata. */
export interface Safetensors {
  readonly tensors: Map<string, Tensor<number[], DType>>;
  readonly metadata: Map<string, string>;
}

/** Tensors to write, by name: a `Map` or a plain record. */
export type NamedTensors = ReadonlyMap<string, Tensor<Shape, DType>> | { readonly [name: string]: Tensor<Shape, DType> };

/** String metadata to write: a `Map` or a plain record. */
export type Metadata = ReadonlyMap<string, string> | { readonly [key: string]: string };

/** One tensor as raw little-endian bytes, in any format dtype. */
export interface RawTensor {
  readonly name: string;
  readonly dtype: FormatDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

function entriesOf<V>(x: ReadonlyMap<string, V> | { readonly [key: string]: V }): [string, V][] {
  return x instanceof Map ? [...x.entries()] : Object.entries(x);
}

/**
 * The dtype that holds every value of a wide integer entry (U32, I64, U64):
 * int32 when every value fits, else float64 when every value is exact there,
 * else a `Left` naming the first value that is not, printed exactly.
 */
function wideDType(view: DataView, e: HeaderEntry, count: number, exactly: (view: DataView, i: number) => bigint): E.Either<LoadError, DType> {
  const read = FORMATS[e.format].read;
  let dtype: DType = "int32";
  for (let i = 0; i < count; i++) {
    const x = read(view, i);
    if (x >= -(2 ** 31) && x <= 2 ** 31 - 1) continue;
    dtype = "float64";
    // NOTE: read rounds to the nearest double; the value is exact there when that double converts back to it
    if (Math.abs(x) > Number.MAX_SAFE_INTEGER && BigInt(x) !== exactly(view, i)) {
      const value = exactly(view, i).toString();
      return E.left(loadError(`tensor ${JSON.stringify(e.name)}: ${e.format} value ${value} at index ${i} fits neither int32 nor float64 exactly`));
    }
  }
  return E.right(dtype);
}

/** Decodes one validated entry; a `Left` only for a wide integer that no dtype holds exactly. */
function decode(bytes: Uint8Array, e: HeaderEntry): E.Either<LoadError, Tensor<number[], DType>> {
  const format = FORMATS[e.format];
  const count = (e.end - e.begin) / format.size;
  const view = new DataView(bytes.buffer, bytes.byteOffset + e.begin, e.end - e.begin);
  const dtype = format.wide === undefined ? E.right(format.dtype) : wideDType(view, e, count, format.wide);
  if (E.isLeft(dtype)) return dtype;
  const data: Storage<DType> = allocate(dtype.right, count);
  if (format.native && LITTLE_ENDIAN_HOST) {
    // The file's bytes are this dtype's storage: copy them bit for bit (NaN payloads included).
    new Uint8Array(data.buffer).set(bytes.subarray(e.begin, e.end));
    if (format.dtype === "bool") for (let i = 0; i < count; i++) data[i] = data[i] === 0 ? 0 : 1;
  } else {
    for (let i = 0; i < count; i++) data[i] = format.read(view, i);
  }
  return E.right(new Tensor<number[], DType>(e.shape.slice(), dtype.right, data));
}

/**
 * Reads a safetensors file: its tensors by name and its metadata, or a
 * `Left(LoadError)` naming the first problem. Never throws. The whole header
 * is validated before any tensor is allocated, so what is allocated is
 * bounded by the file's own size (times 4 at most, for I8 or U8 to int32).
 *
 * @example
 * const file = writeSafetensors({ w: zeros([2, 3]) });
 * readSafetensors(file); // Right({ tensors: Map { "w" => Tensor<[2, 3]> }, metadata: Map {} })
 */
export function readSafetensors(bytes: Uint8Array): E.Either<LoadError, Safetensors> {
  try {
    const header = parseHeader(bytes);
    if (E.isLeft(header)) return header;
    const tensors = new Map<string, Tensor<number[], DType>>();
    for (const e of header.right.entries) {
      const x = decode(bytes, e);
      if (E.isLeft(x)) return x;
      tensors.set(e.name, x.right);
    }
    return E.right({ tensors, metadata: header.right.metadata });
  } catch (e) {
    // Nothing above should throw; this keeps the promise if an engine limit does (memory, say).
    return E.left(loadError(`could not read the file: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/** Orders code points the way Rust orders strings (by UTF-8 bytes). */
function compareNames(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Throws a `RangeError` naming `op` for what a reader would refuse: a name
 * or metadata string that is not well-formed Unicode (a lone surrogate), a
 * tensor named `__metadata__`, two tensors of one name, an unknown dtype, a
 * shape that is not sizes, bytes that are not a `Uint8Array`.
 */
function checkRaw(op: string, tensors: readonly RawTensor[], metadata: readonly [string, string][]): void {
  if (!Array.isArray(tensors)) throw new RangeError(`${op}: tensors must be an array, got ${describeValue(tensors)}`);
  for (const [k, v] of metadata) {
    if (typeof v !== "string" || !wellFormed(k) || !wellFormed(v)) {
      throw new RangeError(`${op}: metadata ${JSON.stringify(k)} must be a well-formed string, got ${describeValue(v)}`);
    }
  }
  const names = new Set<string>();
  for (const t of tensors) {
    const name: unknown = t.name;
    if (typeof name !== "string" || !wellFormed(name)) throw new RangeError(`${op}: a tensor name must be a well-formed string, got ${describeValue(name)}`);
    const at = `${op}: tensor ${JSON.stringify(name)}`;
    if (name === "__metadata__") throw new RangeError(`${at}: the name __metadata__ is reserved for the metadata`);
    if (names.has(name)) throw new RangeError(`${at}: two tensors have this name`);
    names.add(name);
    if (!isFormatDType(String(t.dtype))) throw new RangeError(`${at}: dtype must be one of ${Object.keys(FORMATS).join(", ")}, got ${describeValue(t.dtype)}`);
    if (!Array.isArray(t.shape) || badShape(t.shape)) throw new RangeError(`${at}: shape must be an array of sizes, got ${describeValue(t.shape)}`);
    if (!(t.bytes instanceof Uint8Array)) throw new RangeError(`${at}: bytes must be a Uint8Array, got ${describeValue(t.bytes)}`);
  }
}

/** True when some dim is not a size (a non-negative safe integer). */
function badShape(shape: readonly unknown[]): boolean {
  return shape.some((d) => typeof d !== "number" || !Number.isSafeInteger(d) || d < 0);
}

/**
 * Writes raw tensors in any format dtype, as the reference writer does:
 * sorted by descending dtype alignment then by name, `__metadata__` first
 * (its keys sorted), the header padded with spaces to a multiple of 8 bytes.
 * Throws a `RangeError` when a tensor's byte length does not fit its shape,
 * and for what `readSafetensors` would refuse: a tensor named `__metadata__`,
 * two tensors of one name, a lone surrogate in a name or in the metadata.
 */
export function encodeSafetensors(tensors: readonly RawTensor[], metadata: Metadata = {}): Uint8Array {
  checkRaw("encodeSafetensors", tensors, entriesOf(metadata));
  const sorted = tensors.slice().sort((a, b) => ALIGNMENT_RANK[b.dtype] - ALIGNMENT_RANK[a.dtype] || compareNames(a.name, b.name));
  const fields: string[] = [];
  const meta = entriesOf(metadata).sort(([a], [b]) => compareNames(a, b));
  if (meta.length > 0) fields.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  let offset = 0;
  for (const t of sorted) {
    const expected = t.shape.reduce((n, d) => n * d, FORMATS[t.dtype].size);
    if (t.bytes.length !== expected) throw new RangeError(`encodeSafetensors: tensor ${JSON.stringify(t.name)} has ${t.bytes.length} bytes, its shape needs ${expected}`);
    fields.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + t.bytes.length}]}`);
    offset += t.bytes.length;
  }
  const json = utf8Encode(`{${fields.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // pad with spaces so the data starts 8-aligned
  let at = 8 + headerLength;
  for (const t of sorted) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** The little-endian bytes of a tensor's storage. */
function bytesOf(x: Tensor<Shape, DType>): Uint8Array {
  const data = x.data;
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    if (x.dtype === "float64") view.setFloat64(i * 8, v, true);
    else if (x.dtype === "float32") view.setFloat32(i * 4, v, true);
    else if (x.dtype === "int32") view.setInt32(i * 4, v, true);
    else view.setUint8(i, v);
  }
  return out;
}

/**
 * Writes tensors (by name) and optional string metadata as a safetensors
 * file that the reference implementation reads. Throws for a traced tensor,
 * which has no values.
 *
 * @example
 * const file = writeSafetensors(new Map([["w", zeros([2, 3])]]), { format: "pt" });
 * E.isRight(readSafetensors(file)); // true
 */
export function writeSafetensors(tensors: NamedTensors, metadata: Metadata = {}): Uint8Array {
  const raw = entriesOf(tensors).map(([name, x]): RawTensor => {
    checkTensor("writeSafetensors", `tensor ${JSON.stringify(name)}`, x);
    return { name, dtype: WRITTEN_AS[x.dtype], shape: x.shape, bytes: bytesOf(x) };
  });
  return encodeSafetensors(raw, metadata);
}
