/**
 * The safetensors element types and how each maps onto a Stratum dtype.
 *
 * One table row per format dtype: its size in bytes, the dtype it decodes to,
 * and how one element reads from little-endian bytes. The names and sizes
 * follow the reference implementation (huggingface/safetensors,
 * `safetensors/src/tensor.rs`, `enum Dtype`), whose declaration order is also
 * the alignment order the writer sorts by. The unsigned and 64-bit integers
 * have no Stratum dtype of their own: U16 reads as int32, and U32, I64 and U64
 * as int32 when every value fits, else as float64 when every value is exact
 * there (`safetensors.ts` applies this policy). Deliberately left out: the
 * 8-bit and smaller floats, which are refused by name.
 */

import type { DType } from "../core/dtype.js";

/** A safetensors dtype that this reader decodes. */
export type FormatDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "U64" | "I32" | "U32" | "I16" | "U16" | "I8" | "U8" | "BOOL";

/** How one format dtype is stored and decoded. */
export interface Format {
  /** Bytes per element. */
  readonly size: number;
  /** The Stratum dtype it decodes to (for a `wide` format: when every value fits in it). */
  readonly dtype: DType;
  /** True when its bytes are exactly the storage of `dtype` on a little-endian host. */
  readonly native: boolean;
  /** Reads element `i` (a number; a `wide` format may exceed the int32 range and is checked by the caller). */
  readonly read: (view: DataView, i: number) => number;
  /** For the integers wider than int32 (U32, I64, U64): element `i` exactly, as a bigint. */
  readonly wide?: (view: DataView, i: number) => bigint;
}

/** The bits of an IEEE half (1 sign, 5 exponent, 10 fraction bits) as a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal: f * 2^-14 / 2^10
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloat = new DataView(new ArrayBuffer(4));

/** The bits of a bfloat16 as a number: they are the high half of a float32. */
export function bfloatToNumber(bits: number): number {
  bfloat.setUint32(0, bits << 16, true);
  return bfloat.getFloat32(0, true);
}

export const FORMATS: { readonly [F in FormatDType]: Format } = {
  F64: { size: 8, dtype: "float64", native: true, read: (v, i) => v.getFloat64(i * 8, true) },
  F32: { size: 4, dtype: "float32", native: true, read: (v, i) => v.getFloat32(i * 4, true) },
  F16: { size: 2, dtype: "float32", native: false, read: (v, i) => halfToNumber(v.getUint16(i * 2, true)) },
  BF16: { size: 2, dtype: "float32", native: false, read: (v, i) => bfloatToNumber(v.getUint16(i * 2, true)) },
  I64: { size: 8, dtype: "int32", native: false, read: (v, i) => Number(v.getBigInt64(i * 8, true)), wide: (v, i) => v.getBigInt64(i * 8, true) },
  U64: { size: 8, dtype: "int32", native: false, read: (v, i) => Number(v.getBigUint64(i * 8, true)), wide: (v, i) => v.getBigUint64(i * 8, true) },
  I32: { size: 4, dtype: "int32", native: true, read: (v, i) => v.getInt32(i * 4, true) },
  U32: { size: 4, dtype: "int32", native: false, read: (v, i) => v.getUint32(i * 4, true), wide: (v, i) => BigInt(v.getUint32(i * 4, true)) },
  I16: { size: 2, dtype: "int32", native: false, read: (v, i) => v.getInt16(i * 2, true) },
  U16: { size: 2, dtype: "int32", native: false, read: (v, i) => v.getUint16(i * 2, true) },
  I8: { size: 1, dtype: "int32", native: false, read: (v, i) => v.getInt8(i) },
  U8: { size: 1, dtype: "int32", native: false, read: (v, i) => v.getUint8(i) },
  BOOL: { size: 1, dtype: "bool", native: true, read: (v, i) => (v.getUint8(i) === 0 ? 0 : 1) },
};

/** True when `x` names a format dtype this reader decodes. */
export function isFormatDType(x: string): x is FormatDType {
  return Object.prototype.hasOwnProperty.call(FORMATS, x);
}

/** Format dtypes the reference knows that this reader refuses by name. */
export const UNSUPPORTED: readonly string[] = ["F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"];

/** The format dtype each Stratum dtype is written as. */
export const WRITTEN_AS: { readonly [D in DType]: "F64" | "F32" | "I32" | "BOOL" } = {
  float64: "F64",
  float32: "F32",
  int32: "I32",
  bool: "BOOL",
};

/**
 * The rank of a format dtype in the reference's `enum Dtype` order (which is
 * increasing alignment); the writer puts higher ranks first.
 */
export const ALIGNMENT_RANK: { readonly [F in FormatDType]: number } = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 5,
  U16: 6,
  F16: 7,
  BF16: 8,
  I32: 9,
  U32: 10,
  F32: 11,
  F64: 12,
  I64: 13,
  U64: 14,
};

/** True when this machine stores typed arrays little-endian (every current engine does). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
