/**
 * Reading IDX files, the format of MNIST and Fashion-MNIST, plain or
 * gzip-compressed (as they are usually downloaded).
 *
 * The format, from Yann LeCun's MNIST page: a 4-byte magic number (two zero
 * bytes, an element-type code, the rank), one big-endian u32 per dim, then
 * the elements in row-major order, big-endian. The type codes are 0x08
 * unsigned byte, 0x09 signed byte, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
 * Integer types load as int32, f32 as float32, f64 as float64. The header is
 * checked against the file's length before anything is allocated: the dims'
 * product times the element size must be exactly the bytes that follow it.
 * Deliberately left out: writing IDX (nobody exchanges new data in it) and
 * reading a file lazily.
 */

import * as E from "fp-ts/lib/Either.js";
import { allocate, type DType } from "../core/dtype.js";
import { MAX_DIM, type Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { gunzip, isGzip } from "./inflate.js";
import type { LoadError } from "./load-error.js";
import { DEFAULT_MAX_BYTES, dataCount, expectTensor, fail, guard, within } from "./reader-kit.js";

/** The dtypes an IDX file loads as. */
export type IdxDType = "int32" | "float32" | "float64";

/** The element types of the format, by name. */
export type IdxType = "ubyte" | "sbyte" | "i16" | "i32" | "f32" | "f64";

interface IdxFormat {
  readonly name: IdxType;
  readonly size: number;
  readonly dtype: IdxDType;
  readonly read: (view: DataView, at: number) => number;
}

/** Each type code's element: its name, size, the dtype it loads as, and how to read one (big-endian). */
const FORMATS: ReadonlyMap<number, IdxFormat> = new Map<number, IdxFormat>([
  [0x08, { name: "ubyte", size: 1, dtype: "int32", read: (v, at) => v.getUint8(at) }],
  [0x09, { name: "sbyte", size: 1, dtype: "int32", read: (v, at) => v.getInt8(at) }],
  [0x0b, { name: "i16", size: 2, dtype: "int32", read: (v, at) => v.getInt16(at, false) }],
  [0x0c, { name: "i32", size: 4, dtype: "int32", read: (v, at) => v.getInt32(at, false) }],
  [0x0d, { name: "f32", size: 4, dtype: "float32", read: (v, at) => v.getFloat32(at, false) }],
  [0x0e, { name: "f64", size: 8, dtype: "float64", read: (v, at) => v.getFloat64(at, false) }],
]);

/** The header of an IDX file. */
export interface IdxHeader {
  /** The element type the file stores. */
  readonly type: IdxType;
  /** The dims, outermost first. */
  readonly shape: readonly number[];
  /** The dtype its elements load as. */
  readonly dtype: IdxDType;
}

/** Options of the IDX readers. */
export interface IdxOptions {
  /**
   * The most bytes a gzip-compressed file may decompress to (default
   * `DEFAULT_MAX_BYTES`, 1 GiB): a few forged bytes can describe gigabytes.
   */
  readonly maxBytes?: number;
}

const READER = "idx";

/** The plain bytes of a file that may be gzip-compressed. */
function plain(bytes: Uint8Array, options: IdxOptions): E.Either<LoadError, Uint8Array> {
  if (!isGzip(bytes)) return E.right(bytes);
  return E.mapLeft((e: LoadError) => within(READER, e))(gunzip(bytes, options.maxBytes ?? DEFAULT_MAX_BYTES));
}

/** The header of the plain `bytes`, checked against their length, and where the data starts. */
function parse(bytes: Uint8Array): E.Either<LoadError, { header: IdxHeader; format: IdxFormat; start: number; count: number }> {
  if (bytes.length < 4) return fail(READER, `the file is ${bytes.length} bytes long, shorter than the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== 0 || view.getUint8(1) !== 0) {
    return fail(READER, `the magic number must start with two zero bytes, found 0x${hex(view.getUint8(0))} 0x${hex(view.getUint8(1))}`);
  }
  const code = view.getUint8(2);
  const format = FORMATS.get(code);
  if (format === undefined) return fail(READER, `unknown element type 0x${hex(code)} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const rank = view.getUint8(3);
  const start = 4 + 4 * rank;
  if (bytes.length < start) return fail(READER, `the header declares ${rank} dims, which need ${start} bytes, but the file has ${bytes.length}`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d > MAX_DIM) return fail(READER, `dim ${i} is ${d}, larger than 2^31 - 1`);
    shape.push(d);
  }
  const count = dataCount(READER, shape, format.size, format.name, start, bytes.length);
  if (E.isLeft(count)) return count;
  return E.right({ header: { type: format.name, shape, dtype: format.dtype }, format, start, count: count.right });
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/**
 * The header of an IDX file (plain or gzip-compressed): its element type,
 * shape and the dtype it loads as, checked against the file's length.
 *
 * @example
 * readIdxHeader(labels); // Right({ type: "ubyte", shape: [60000], dtype: "int32" })
 */
export function readIdxHeader(bytes: Uint8Array, options: IdxOptions = {}): E.Either<LoadError, IdxHeader> {
  return guard(READER, () =>
    E.map((parsed: { header: IdxHeader }) => parsed.header)(E.flatMap(plain(bytes, options), parse)),
  );
}

/**
 * Reads an IDX file, plain or gzip-compressed (told apart by the gzip magic
 * number), of any rank and element type: integer types give an int32
 * tensor, f32 float32 and f64 float64. Never throws; a `Left` names what is
 * wrong (the magic number, the type code, a dim, a length that does not fit
 * the header, a gzip error). What it allocates is the tensor the file
 * describes, at most 4 times the plain file's size (bytes to int32).
 *
 * @example
 * const images = readIdx(bytes); // Right(Tensor<number[], IdxDType>) of shape [60000, 28, 28], int32
 */
export function readIdx(bytes: Uint8Array, options: IdxOptions = {}): E.Either<LoadError, Tensor<number[], IdxDType>> {
  return guard(READER, () => {
    const file = plain(bytes, options);
    if (E.isLeft(file)) return file;
    const parsed = parse(file.right);
    if (E.isLeft(parsed)) return parsed;
    const { header, format, start, count } = parsed.right;
    const data = allocate(header.dtype, count);
    if (format.name === "ubyte") {
      data.set(file.right.subarray(start, start + count));
    } else {
      const view = new DataView(file.right.buffer, file.right.byteOffset + start, count * format.size);
      for (let i = 0; i < count; i++) data[i] = format.read(view, i * format.size);
    }
    return E.right(new Tensor<number[], IdxDType>(header.shape.slice(), header.dtype, data));
  });
}

/**
 * Reads an IDX file whose shape (and dtype, `"int32"` unless `dtype` says
 * otherwise) the caller states, as `Tensor<[...S], D>`. A symbolic dim
 * (`"n"`) takes its size from the file, as in `fromArray`. A file of another
 * shape or dtype is a `Left` naming both.
 *
 * @example
 * const images = readIdxAs(bytes, [60000, 28, 28]); // Either<LoadError, Tensor<[60000, 28, 28], "int32">>
 * const labels = readIdxAs(bytes, ["n"]); // Either<LoadError, Tensor<["n"], "int32">>
 */
export function readIdxAs<const S extends Shape>(
  bytes: Uint8Array,
  shape: S,
  options?: IdxOptions & { readonly dtype?: "int32" },
): E.Either<LoadError, Tensor<[...S], "int32">>;
export function readIdxAs<const S extends Shape, D extends IdxDType>(
  bytes: Uint8Array,
  shape: S,
  options: IdxOptions & { readonly dtype: D },
): E.Either<LoadError, Tensor<[...S], D>>;
export function readIdxAs<const S extends Shape>(
  bytes: Uint8Array,
  shape: S,
  options: IdxOptions & { readonly dtype?: IdxDType } = {},
): E.Either<LoadError, Tensor<[...S], IdxDType>> {
  return E.flatMap(readIdx(bytes, options), (x: Tensor<number[], DType>) => expectTensor(READER, x, shape, options.dtype ?? "int32"));
}
