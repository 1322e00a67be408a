/**
 * Reading and writing `.npy` files, NumPy's format for one array.
 *
 * The layout, from NumPy's `numpy/lib/format.py` (NEP 1): the magic string
 * `\x93NUMPY`, a major and minor version byte, the header's length (a
 * little-endian u16 in version 1.0, u32 in 2.0 and 3.0), the header (a Python
 * dict literal, Latin-1 in 1.0 and 2.0, UTF-8 in 3.0; see `npy-header.ts`),
 * then the elements, row-major or (`fortran_order`) column-major. We read
 * the dtypes we have, in either byte order: floats (`f4`, `f8`), signed and
 * unsigned integers of up to 8 bytes (to int32, refusing a value that does
 * not fit, which the message names exactly) and bools (`b1`); a
 * column-major array is reordered into row-major. The writer writes version
 * 1.0, little-endian, row-major, its header padded to a multiple of 64
 * bytes as NumPy does. Deliberately left out: float16, complex, strings,
 * structured and object arrays (pickles, which we would never run).
 */

import * as E from "fp-ts/lib/Either.js";
import { allocate, type DType, type Storage } from "../core/dtype.js";
import { utf8DecodeStrict, utf8Encode } from "../core/host.js";
import type { Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { LoadError } from "./load-error.js";
import { parseNpyHeader } from "./npy-header.js";
import { dataCount, expectTensor, fail, guard } from "./reader-kit.js";
import { LITTLE_ENDIAN_HOST } from "./safetensors-format.js";

/** One element kind of `descr` (without its byte order): its size, the dtype it loads as, how to read one. */
interface NpyFormat {
  readonly size: number;
  readonly dtype: DType;
  readonly read: (view: DataView, at: number, little: boolean) => number | bigint;
}

/** The element kinds we read, by `descr` without its byte-order character. */
const FORMATS: { readonly [kind: string]: NpyFormat } = {
  f4: { size: 4, dtype: "float32", read: (v, at, little) => v.getFloat32(at, little) },
  f8: { size: 8, dtype: "float64", read: (v, at, little) => v.getFloat64(at, little) },
  i1: { size: 1, dtype: "int32", read: (v, at) => v.getInt8(at) },
  u1: { size: 1, dtype: "int32", read: (v, at) => v.getUint8(at) },
  i2: { size: 2, dtype: "int32", read: (v, at, little) => v.getInt16(at, little) },
  u2: { size: 2, dtype: "int32", read: (v, at, little) => v.getUint16(at, little) },
  i4: { size: 4, dtype: "int32", read: (v, at, little) => v.getInt32(at, little) },
  u4: { size: 4, dtype: "int32", read: (v, at, little) => v.getUint32(at, little) },
  i8: { size: 8, dtype: "int32", read: (v, at, little) => v.getBigInt64(at, little) },
  u8: { size: 8, dtype: "int32", read: (v, at, little) => v.getBigUint64(at, little) },
  b1: { size: 1, dtype: "bool", read: (v, at) => v.getUint8(at) },
};

/** The `descr` each dtype is written as. */
const WRITTEN_AS: { readonly [D in DType]: string } = { float32: "<f4", float64: "<f8", int32: "<i4", bool: "|b1" };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const READER = "npy";

/**
 * The longest header we read: ten times NumPy's own default limit
 * (`max_header_size`, 10,000), far beyond any array's dict.
 */
const MAX_NPY_HEADER = 100_000;

/** Latin-1 text: each byte is its code point (in chunks, as arguments of `fromCharCode`). */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return text;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The format of `descr` and its byte order, or why it is not one we read. */
function formatOf(descr: string): E.Either<LoadError, { format: NpyFormat; little: boolean }> {
  const order = descr[0] ?? "";
  const format = FORMATS[descr.slice(1)];
  if (format === undefined || !"<>|".includes(order) || order === "") {
    return fail(READER, `dtype ${JSON.stringify(descr)} is not supported (we read f4, f8, i1, u1, i2, u2, i4, u4, i8, u8 and b1)`);
  }
  if (order === "|" && format.size > 1) return fail(READER, `dtype ${JSON.stringify(descr)} has no byte order, but its elements have ${format.size} bytes`);
  return E.right({ format, little: order !== ">" });
}

/**
 * Where each element of a column-major array of `shape` goes in row-major
 * order: `at[j]` is the row-major index of the j-th element in the file.
 */
function rowMajorIndexOfFortran(shape: readonly number[], count: number): Int32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(1); // row-major strides
  for (let k = rank - 2; k >= 0; k--) strides[k] = (strides[k + 1] ?? 1) * (shape[k + 1] ?? 1);
  const at = new Int32Array(count);
  const index = new Array<number>(rank).fill(0); // the multi-index of file element j; axis 0 varies fastest
  let offset = 0;
  for (let j = 0; j < count; j++) {
    at[j] = offset;
    for (let k = 0; k < rank; k++) {
      index[k] = (index[k] ?? 0) + 1;
      offset += strides[k] ?? 1;
      if ((index[k] ?? 0) < (shape[k] ?? 1)) break;
      offset -= (strides[k] ?? 1) * (shape[k] ?? 1);
      index[k] = 0;
    }
  }
  return at;
}

/**
 * Reads a `.npy` file (format version 1.0, 2.0 or 3.0) into a tensor:
 * `f4` as float32, `f8` as float64, `b1` as bool, and the integer types
 * (`i1` to `i8`, `u1` to `u8`) as int32 when every value fits, else a
 * `Left` naming the first value that does not. Little- and big-endian,
 * C and Fortran order (read into row-major), scalars (shape `()`). Never
 * throws; a `Left` names what is wrong. What it allocates is at most 4 times
 * the file's size (bytes to int32), plus an index for a Fortran-order array.
 *
 * @example
 * const x = readNpy(bytes); // Right(Tensor<number[], DType>), e.g. float32 of shape [2, 3]
 */
export function readNpy(bytes: Uint8Array): E.Either<LoadError, Tensor<number[], DType>> {
  return guard(READER, () => {
    if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) return fail(READER, "the file does not start with the magic string \\x93NUMPY and its version");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const major = view.getUint8(6);
    const minor = view.getUint8(7);
    if (!((major === 1 || major === 2 || major === 3) && minor === 0)) return fail(READER, `format version ${major}.${minor} is not 1.0, 2.0 or 3.0`);
    const lengthSize = major === 1 ? 2 : 4;
    if (bytes.length < 8 + lengthSize) return fail(READER, `the file ends inside the header length`);
    const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    const start = 8 + lengthSize + headerLength;
    if (start > bytes.length) return fail(READER, `the header declares ${headerLength} bytes, but the file has ${bytes.length - 8 - lengthSize} after the header length`);
    if (headerLength > MAX_NPY_HEADER) return fail(READER, `the header declares ${headerLength} bytes, more than the ${MAX_NPY_HEADER} we read`);
    const headerBytes = bytes.subarray(8 + lengthSize, start);
    let text: string;
    if (major === 3) {
      try {
        text = utf8DecodeStrict(headerBytes);
      } catch {
        return fail(READER, "the version 3.0 header is not valid UTF-8");
      }
    } else {
      text = latin1(headerBytes);
    }
    const header = parseNpyHeader(text);
    if (E.isLeft(header)) return fail(READER, header.left);
    const { descr, fortranOrder, shape } = header.right;
    const dtype = formatOf(descr);
    if (E.isLeft(dtype)) return dtype;
    const { format, little } = dtype.right;
    const counted = dataCount(READER, shape, format.size, descr, start, bytes.length);
    if (E.isLeft(counted)) return counted;
    const count = counted.right;
    const data: Storage<DType> = allocate(format.dtype, count);
    const body = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
    const at = fortranOrder && shape.length > 1 ? rowMajorIndexOfFortran(shape, count) : undefined;
    for (let j = 0; j < count; j++) {
      const x = format.read(body, j * format.size, little);
      const i = at === undefined ? j : (at[j] ?? 0);
      if (typeof x === "bigint" || format.dtype === "int32") {
        if (x < INT32_MIN || x > INT32_MAX) {
          return fail(READER, `${descr} value ${x} at index ${i} (row-major) does not fit in int32`);
        }
        data[i] = Number(x);
      } else {
        data[i] = format.dtype === "bool" ? (x === 0 ? 0 : 1) : x;
      }
    }
    return E.right(new Tensor<number[], DType>(shape.slice(), format.dtype, data));
  });
}

/**
 * Reads a `.npy` file whose shape and dtype the caller states, as
 * `Tensor<[...S], D>` (a symbolic dim takes its size from the file). A file
 * of another shape or dtype is a `Left` naming both.
 *
 * @example
 * const w = readNpyAs(bytes, [784, "h"], "float32"); // Either<LoadError, Tensor<[784, "h"], "float32">>
 */
export function readNpyAs<const S extends Shape, D extends DType>(bytes: Uint8Array, shape: S, dtype: D): E.Either<LoadError, Tensor<[...S], D>> {
  return E.flatMap(readNpy(bytes), (x) => expectTensor(READER, x, shape, dtype));
}

/**
 * The little-endian bytes of a tensor's storage: a view of it on a
 * little-endian host (every current one), a converted copy otherwise.
 */
function littleEndianBytes(x: Tensor<Shape, DType>): Uint8Array {
  const data = x.data;
  if (LITTLE_ENDIAN_HOST || x.dtype === "bool") return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const write = { float32: view.setFloat32, float64: view.setFloat64, int32: view.setInt32 }[x.dtype];
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) write.call(view, i * size, data[i] ?? 0, true);
  return out;
}

/**
 * The `.npy` file (format version 1.0) of a tensor, which `numpy.load`
 * reads as an array of the same shape and values: float32 as `<f4`,
 * float64 as `<f8`, int32 as `<i4`, bool as `|b1`. Throws for a traced
 * tensor, which has no values.
 *
 * @example
 * const bytes = encodeNpy(tensor([[1, 2], [3, 4]])); // numpy.load gives array([[1., 2.], [3., 4.]], dtype=float32)
 */
export function encodeNpy(x: Tensor<Shape, DType>): Uint8Array {
  const dims = x.shape.length === 1 ? `${x.shape[0] ?? 0},` : x.shape.join(", ");
  const dict = `{'descr': '${WRITTEN_AS[x.dtype]}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Pad with spaces so that magic (6) + version (2) + length (2) + header, ending in "\n", is a multiple of 64.
  const headerLength = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = utf8Encode(dict.padEnd(headerLength - 1, " ") + "\n");
  const data = littleEndianBytes(x);
  const out = new Uint8Array(10 + headerLength + data.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerLength, true);
  out.set(header, 10);
  out.set(data, 10 + headerLength);
  return out;
}
