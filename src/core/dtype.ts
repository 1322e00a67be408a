/**
 * Element types and their storage.
 *
 * A dtype names how elements are stored: `float32` and `float64` in the float
 * typed arrays, `int32` in an `Int32Array`, `bool` as bytes (0 or 1) in a
 * `Uint8Array`. The mapping is a table so that a new dtype is one line here.
 * Deliberately left out: float16/bfloat16 compute (they are decoded to float32
 * at the io boundary) and complex numbers.
 */

/** The element types a tensor can hold. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The typed array that stores each dtype. */
export interface StorageOf {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** The storage of one dtype, e.g. `Storage<"int32">` is `Int32Array`. */
export type Storage<D extends DType> = StorageOf[D];

/** The float dtypes, the ones with tangents. */
export type FloatDType = "float32" | "float64";

/** True when `dtype` is a float dtype. */
export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

/** What one element reads as in JavaScript: `boolean` for bool, else `number`. */
export type Scalar<D extends DType> = D extends "bool" ? boolean : number;

/** Every dtype, in a fixed order. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** True when `x` names a dtype (for strings that come from outside). */
export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

const constructors = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

/** A zero-filled storage of `size` elements. */
export function allocate<D extends DType>(dtype: D, size: number): Storage<D> {
  // The table maps each key to the constructor of StorageOf[key]; TypeScript
  // cannot correlate the two through the generic index, hence the cast.
  return new constructors[dtype](size) as Storage<D>;
}

/** True when `data` is storage of `dtype` (its typed array), of any length. */
export function isStorageOf<D extends DType>(dtype: D, data: Storage<DType>): data is Storage<D> {
  return data instanceof constructors[dtype];
}

/**
 * Converts a JavaScript number or boolean to the value stored for `dtype`:
 * int32 truncates toward zero (as `Int32Array` does), bool stores 0 or 1.
 */
export function storeValue(dtype: DType, x: number | boolean): number {
  if (dtype === "bool") return x ? 1 : 0;
  return typeof x === "boolean" ? (x ? 1 : 0) : x;
}

/** Reads a stored element back as its JavaScript value. */
export function loadValue<D extends DType>(dtype: D, x: number): Scalar<D> {
  // Scalar<D> is boolean exactly when D is "bool", which is the branch taken.
  return (dtype === "bool" ? x !== 0 : x) as Scalar<D>;
}
