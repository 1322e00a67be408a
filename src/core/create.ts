/**
 * The tensor constructors: from literals, from shapes, from ranges, and from
 * data that comes from outside.
 *
 * Literal constructors (`tensor`, `zeros`, `eye`, `arange`, ...) know their
 * shapes at compile time and throw a `ShapeError` on bad input: a ragged
 * literal, a negative dim, a fraction for int32. `fromArray` is the gate for
 * data from files, the network or JSON: it never throws, and returns an fp-ts
 * `Either<ShapeError, Tensor<S, D>>` whose shape may hold symbolic dims
 * (`["batch", 784]`) sized from the data. `assertShape` retypes a tensor after
 * checking it at run time. The constructors follow NumPy's semantics
 * (`np.array`, `np.zeros`, `np.eye`, `np.arange`, `np.linspace`), except that
 * no value is ever converted silently into something else: int32 takes only
 * integers in range, bool only booleans, 0 and 1, float32 only values within
 * its range. Deliberately left out: random constructors (they take a key and
 * live with the PRNG) and `*Like` variants (`zeros(x.shape)` serves).
 */

import * as E from "fp-ts/lib/Either.js";
import { allocate, type DType, type Storage } from "./dtype.js";
import { ShapeError, shapeError } from "./errors.js";
import {
  badDim,
  checkShape,
  formatShape,
  MAX_DIM,
  type CheckShape,
  type Concrete,
  type Dim,
  type RuntimeShape,
  type Shape,
  type ShowShape,
  type WidenUnions,
} from "./shape.js";
import type { Checked } from "./rules/dims.js";
import { Tensor } from "./tensor.js";
import { checkDType } from "./validate.js";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/**
 * A nested array literal: numbers or booleans at the leaves, any depth; a
 * bare number is a rank-0 literal.
 *
 * @example
 * const rows: NestedInput = [[1, 2, 3], [4, 5, 6]];
 */
export type NestedInput = number | boolean | readonly NestedInput[];

/**
 * The shape of a nested literal: one dim per level, the length of a tuple
 * level (`as const` or a `const` type parameter), `number` for an array
 * level of unknown length, `[]` for a bare number.
 *
 * @example
 * type S = NestedShape<readonly [readonly [1, 2, 3], readonly [4, 5, 6]]>; // [2, 3]
 */
export type NestedShape<T> =
  IsAnyDepth<T> extends true
    ? number[]
    : T extends number | boolean
      ? []
      : T extends readonly []
        ? [0]
        : T extends readonly [infer H, ...unknown[]]
          ? [T["length"], ...NestedShape<H>]
          : T extends readonly (infer X)[]
            ? [number, ...NestedShape<X>]
            : never;

/**
 * The message for a ragged nested literal (rows of different shapes at some
 * level), or `never` when every level is even.
 *
 * @example
 * type M = RaggedLiteral<readonly [readonly [1, 2, 3], readonly [4, 5]]>;
 * // "ragged nested literal: rows of shapes [3] and [2]"
 */
export type RaggedLiteral<T> = T extends readonly [infer H, ...infer R]
  ? [OddRow<NestedShape<H>, R>] extends [never]
    ? { [K in keyof T]: RaggedLiteral<T[K]> }[number]
    : `ragged nested literal: rows of shapes ${ShowShape<NestedShape<H>>} and ${ShowShape<OddRow<NestedShape<H>, R>>}`
  : never;

/** The shapes among `Rows` that differ from `S`, as a union (`never` when none does). */
type OddRow<S, Rows extends readonly unknown[]> = {
  [K in keyof Rows]: SameShape<NestedShape<Rows[K]>, S> extends true ? never : NestedShape<Rows[K]>;
}[number];

type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `unknown` for an even literal; for a ragged one, the `ShapeError` that `tensor` shows. */
type EvenLiteral<T> = [RaggedLiteral<T>] extends [never] ? unknown : ShapeError<`tensor: ${RaggedLiteral<T>}`>;

/**
 * True for a nested type of unknown depth, such as `NestedArray<number>`,
 * which admits both a bare number and an array of numbers at the same level;
 * `NestedShape` stops there instead of recursing forever.
 */
type IsAnyDepth<T> = ([number] extends [T] ? true : [boolean] extends [T] ? true : false) extends true
  ? [readonly number[]] extends [T]
    ? true
    : [readonly boolean[]] extends [T]
      ? true
      : false
  : false;

/** The leaf type of a nested literal: `Leaf<readonly [readonly [true]]>` is `true`. */
type Leaf<T> = IsAnyDepth<T> extends true
  ? [number] extends [T]
    ? number
    : boolean
  : T extends readonly (infer X)[]
    ? Leaf<X>
    : T;

/**
 * The dtype `tensor` gives a literal when none is named: `"bool"` when every
 * leaf is a boolean, else `"float32"`.
 *
 * @example
 * type D = DefaultDType<readonly [true, false]>; // "bool"
 */
export type DefaultDType<T> = [Leaf<T>] extends [never]
  ? "float32"
  : [Leaf<T>] extends [boolean]
    ? "bool"
    : "float32";

/**
 * The length of `arange(start, stop, step)` at the type level: `Stop` for
 * `arange(Stop)` with a non-negative integer literal, `0` for a negative
 * literal, otherwise `number` (checked at run time).
 *
 * @example
 * type N = ArangeLength<0, 5, 1>; // 5
 */
export type ArangeLength<Start extends number, Stop extends number, Step extends number> = [Start, Step] extends [0, 1]
  ? number extends Stop
    ? number
    : `${Stop}` extends `-${string}`
      ? 0
      : `${Stop}` extends `${bigint}`
        ? Stop
        : number
  : number;

// ---------------------------------------------------------------------------
// Constructors from literals and shapes
// ---------------------------------------------------------------------------

/**
 * A tensor from a nested literal; its shape is the nesting (`[2, 3]` for two
 * rows of three). The dtype is `bool` for boolean leaves, else `float32`,
 * unless named. A ragged literal does not compile; at run time ragged rows
 * (of arrays built at run time) and leaves the dtype cannot hold throw a
 * `ShapeError`.
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]]); // Tensor<[2, 3]>
 * x.toNested(); // [[1, 2, 3], [4, 5, 6]]
 */
export function tensor<const T extends NestedInput, D extends DType = DefaultDType<T>>(
  nested: T & EvenLiteral<T>,
  dtype?: D,
): Tensor<NestedShape<T>, NoInfer<D>> {
  const op = "tensor";
  const { shape, leaves } = flattenNested(op, nested);
  const bool = leaves.length > 0 && leaves.every((v) => typeof v === "boolean");
  // DefaultDType<T> reads the same leaves at the type level.
  return build(op, shape, dtypeOr(op, dtype, bool ? "bool" : "float32"), leaves, shape);
}

/**
 * A tensor of shape `S` filled with zeros (`false` for bool).
 *
 * @example
 * zeros([2, 3]); // Tensor<[2, 3]>, all 0
 */
export function zeros<const S extends RuntimeShape, D extends DType = "float32">(
  shape: S & Checked<CheckShape<"zeros", S>, unknown>,
  dtype?: D,
): Tensor<WidenUnions<S>, NoInfer<D>> {
  const op = "zeros";
  const d = dtypeOr(op, dtype, "float32");
  const sizes = checkSize(op, shape);
  // the sizes are `shape`'s, checked; WidenUnions<S> only widens union dims to number
  return make(sizes, d, allocateChecked(op, d, sizes)) as Tensor<WidenUnions<S>, NoInfer<D>>;
}

/**
 * A tensor of shape `S` filled with ones (`true` for bool).
 *
 * @example
 * ones([3], "int32").toArray(); // [1, 1, 1]
 */
export function ones<const S extends RuntimeShape, D extends DType = "float32">(
  shape: S & Checked<CheckShape<"ones", S>, unknown>,
  dtype?: D,
): Tensor<WidenUnions<S>, NoInfer<D>> {
  // the sizes are `shape`'s, checked; WidenUnions<S> only widens union dims to number
  return fill("ones", shape, 1, dtypeOr("ones", dtype, "float32")) as Tensor<WidenUnions<S>, NoInfer<D>>;
}

/** A constructor of a tensor of a given shape, as library code calls it with a generic shape (`[F]` inside a layer). */
type ShapeConstructor = <const S extends RuntimeShape, D extends DType = "float32">(shape: S, dtype?: D) => Tensor<[...S], NoInfer<D>>;

/**
 * `zeros` for library code whose shape is generic (`[F]` inside a layer),
 * which the compile-time check of literal dims cannot look into; the
 * run-time check is the same. Users call `zeros`.
 *
 * @example
 * const bias = <F extends number>(features: F): Tensor<[F]> => zerosOfShape([features]);
 */
// `zeros` itself: the generic view only leaves out the compile-time check, and a generic shape has no union dims to widen
export const zerosOfShape = zeros as unknown as ShapeConstructor;

/**
 * `ones` for library code whose shape is generic; see `zerosOfShape`.
 *
 * @example
 * const scale = <F extends number>(features: F): Tensor<[F]> => onesOfShape([features]);
 */
// `ones` itself: the generic view only leaves out the compile-time check, and a generic shape has no union dims to widen
export const onesOfShape = ones as unknown as ShapeConstructor;

/**
 * A tensor of shape `S` with every element `value`; the dtype is `bool` for
 * a boolean value, else `float32`, unless named.
 *
 * @example
 * full([2, 2], 7, "int32").toNested(); // [[7, 7], [7, 7]]
 */
export function full<
  const S extends RuntimeShape,
  V extends number | boolean,
  D extends DType = [V] extends [boolean] ? "bool" : "float32",
>(shape: S & Checked<CheckShape<"full", S>, unknown>, value: V, dtype?: D): Tensor<WidenUnions<S>, NoInfer<D>> {
  // the sizes are `shape`'s, checked; WidenUnions<S> only widens union dims to number
  return fill("full", shape, value, dtypeOr("full", dtype, typeof value === "boolean" ? "bool" : "float32")) as Tensor<WidenUnions<S>, NoInfer<D>>;
}

/**
 * The `n × m` identity matrix (ones on the main diagonal); square when `m` is
 * left out.
 *
 * @example
 * eye(2).toNested(); // [[1, 0], [0, 1]]
 * eye(2, 3, "int32"); // Tensor<[2, 3], "int32">
 */
export function eye<N extends number, D extends DType = "float32">(n: N, dtype?: D): Tensor<[N, N], NoInfer<D>>;
export function eye<N extends number, M extends number, D extends DType = "float32">(
  n: N,
  m: M,
  dtype?: D,
): Tensor<[N, M], NoInfer<D>>;
export function eye(n: number, mOrDType?: number | DType, dtype?: DType): Tensor<[number, number], DType> {
  const op = "eye";
  const m = typeof mOrDType === "number" ? mOrDType : n;
  const d = checkDType(op, typeof mOrDType === "string" ? mOrDType : (dtype ?? "float32"));
  const sizes = checkSize(op, [n, m]);
  const data = allocateChecked(op, d, sizes);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return make(sizes, d, data);
}

/**
 * The numbers `start, start + step, ...` up to but not including `stop`, as
 * a rank-1 tensor of `ceil((stop - start) / step)` elements (NumPy's
 * `arange`). The length is a literal type for `arange(5)`, else `number`.
 * Throws a `ShapeError` for a zero step or a bound that is not finite.
 *
 * @example
 * arange(4).toArray(); // [0, 1, 2, 3], a Tensor<[4]>
 * arange(1, 2, 0.25).toArray(); // [1, 1.25, 1.5, 1.75]
 */
export function arange<Stop extends number, D extends DType = "float32">(
  stop: Stop,
  dtype?: D,
): Tensor<[ArangeLength<0, Stop, 1>], NoInfer<D>>;
export function arange<Start extends number, Stop extends number, D extends DType = "float32">(
  start: Start,
  stop: Stop,
  dtype?: D,
): Tensor<[ArangeLength<Start, Stop, 1>], NoInfer<D>>;
export function arange<Start extends number, Stop extends number, Step extends number, D extends DType = "float32">(
  start: Start,
  stop: Stop,
  step: Step,
  dtype?: D,
): Tensor<[ArangeLength<Start, Stop, Step>], NoInfer<D>>;
export function arange(
  a: number,
  b?: number | DType,
  c?: number | DType,
  dtype?: DType,
): Tensor<[number], DType> {
  const op = "arange";
  const [start, stop, step, d] =
    typeof b === "number"
      ? typeof c === "number"
        ? [a, b, c, dtype]
        : [a, b, 1, c]
      : [0, a, 1, b];
  const n = arangeLength(start, stop, step);
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return build(op, [n], checkDType(op, d ?? "float32"), values, [n]);
}

/**
 * The number of elements of `arange(start, stop, step)`:
 * `max(0, ceil((stop - start) / step))`. Throws a `ShapeError` for a zero
 * step, a bound that is not finite, or a length no tensor can hold.
 *
 * @example
 * arangeLength(0, 10, 3); // 4
 */
export function arangeLength(start: number, stop: number, step: number): number {
  const op = "arange";
  checkFinite(op, { start, stop, step });
  if (step === 0) shapeError(op, "step must not be 0");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (!(n <= MAX_SIZE)) shapeError(op, `[${start}, ${stop}) in steps of ${step} has ${n} elements, more than ${MAX_SIZE}`);
  return n;
}

/**
 * `num` evenly spaced numbers from `start` to `stop`, both included (NumPy's
 * `linspace`): a `Tensor<[N]>`.
 *
 * @example
 * linspace(0, 1, 5).toArray(); // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace<N extends number, D extends DType = "float32">(
  start: number,
  stop: number,
  num: N,
  dtype?: D,
): Tensor<[N], NoInfer<D>> {
  const op = "linspace";
  checkFinite(op, { start, stop });
  const [n = 0] = checkSize(op, [num]);
  const step = (stop - start) / (n - 1);
  // value i = start + i * (stop - start) / (num - 1), the last exactly stop
  const values = Array.from({ length: n }, (_, i) => (i === 0 ? start : i === n - 1 ? stop : start + i * step));
  return build(op, [n], dtypeOr(op, dtype, "float32"), values, [n]);
}

// ---------------------------------------------------------------------------
// Data from outside
// ---------------------------------------------------------------------------

/**
 * A tensor of shape `S` from data that comes from outside: a flat array or
 * typed array in row-major order (any length-matching shape), or a nested
 * array (which must have the shape itself). A symbolic dim (`"batch"`) takes
 * its size from the data. Never throws: a `Left` says what is wrong (a length
 * that does not fit, a bad dim, ragged rows, a non-numeric value, a fraction
 * for int32, an unknown dtype).
 *
 * @example
 * const x = fromArray(new Float32Array(6), ["batch", 3]); // Either<ShapeError, Tensor<["batch", 3]>>
 * E.isRight(x) && x.right.shape; // [2, 3]
 */
export function fromArray<const S extends Shape, D extends DType = "float32">(
  data: ArrayLike<unknown>,
  shape: S,
  dtype?: D,
): E.Either<ShapeError, Tensor<[...S], D>> {
  const op = "fromArray";
  try {
    const d = dtypeOr(op, dtype, "float32");
    const dims = checkDims(op, shape);
    if (isNested(data)) {
      const { shape: dataShape, leaves } = flattenNested(op, data);
      return E.right(build(op, bindToShape(op, dims, dataShape, "nested data has shape"), d, leaves, dataShape));
    }
    const length = data.length;
    if (!Number.isInteger(length) || length < 0) shapeError(op, `data has no valid length (${String(length)})`);
    return E.right(build(op, inferSymbols(op, dims, length), d, data, [length]));
  } catch (e) {
    if (e instanceof ShapeError) return E.left(e);
    // A hostile array-like (a throwing getter, a proxy) ends here too.
    return E.left(new ShapeError(`${op}: could not read the data: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/**
 * `x` retyped as `Tensor<S, D>` after checking at run time that its shape
 * fits `S`: the same rank, each number dim equal, each symbolic dim the same
 * size wherever its name recurs. Throws a `ShapeError` naming both shapes.
 *
 * @example
 * const y = assertShape(x, ["batch", 784]); // Tensor<["batch", 784]>
 */
export function assertShape<const S extends Shape, D extends DType>(x: Tensor<Shape, D>, shape: S): Tensor<[...S], NoInfer<D>> {
  bindToShape("assertShape", checkDims("assertShape", shape), x.shape, "got");
  // bindToShape has checked the run-time shape against every dim of S.
  return x as unknown as Tensor<[...S], D>;
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/**
 * The largest number of elements of a tensor, 2^31 - 1: every engine's typed
 * arrays hold it, and a flat index stays an int32.
 */
const MAX_SIZE = MAX_DIM;

/** The deepest nesting read from a nested array (NumPy allows 64 dims). */
const MAX_RANK = 64;

/** A tensor over `data`; the run-time sizes `sizes` are the shape `S` promised by the caller's signature. */
function make<S extends Shape, D extends DType>(sizes: readonly number[], dtype: D, data: Storage<D>): Tensor<S, D> {
  // Each caller passes the sizes its signature's S describes (checked sizes of a
  // literal shape, a nesting, or a shape with its symbols bound).
  return new Tensor<S, D>(sizes as unknown as Concrete<S>, dtype, data);
}

/** Stores `values` (row-major, read as `valuesShape` for messages) into a new tensor of shape `sizes`. */
function build<S extends Shape, D extends DType>(
  op: string,
  sizes: readonly number[],
  dtype: D,
  values: ArrayLike<unknown>,
  valuesShape: readonly number[],
): Tensor<S, D> {
  const data = allocateChecked(op, dtype, sizes);
  for (let i = 0; i < data.length; i++) data[i] = storedValue(op, dtype, values[i], () => unravel(i, valuesShape));
  return make(sizes, dtype, data);
}

/** A tensor of shape `shape` with every element `value`. */
function fill<S extends RuntimeShape, D extends DType>(
  op: string,
  shape: S,
  value: unknown,
  dtype: D,
): Tensor<[...S], NoInfer<D>> {
  const d = checkDType(op, dtype);
  const sizes = checkSize(op, shape);
  const stored = storedValue(op, d, value, () => []);
  const data = allocateChecked(op, d, sizes);
  data.fill(stored);
  return make(sizes, d, data);
}

/**
 * The dtype argument, or `fallback` when it is left out; throws on a string
 * that names no dtype.
 */
function dtypeOr<D extends DType>(op: string, dtype: D | undefined, fallback: DType): D {
  // Without a dtype argument, D is its declared default, which each caller
  // passes as `fallback` (type arguments written out against the values are
  // outside the contract).
  return checkDType(op, dtype ?? (fallback as D));
}

/** Throws unless every named bound is a finite number. */
function checkFinite(op: string, bounds: Record<string, number>): void {
  for (const [name, v] of Object.entries(bounds)) {
    if (typeof v !== "number" || !Number.isFinite(v)) shapeError(op, `${name} must be a finite number, got ${String(v)}`);
  }
}

/** `checkShape`, then refuses a total size no typed array can hold. */
function checkSize(op: string, shape: unknown): number[] {
  const sizes = checkShape(op, shape);
  const size = sizes.reduce((a, b) => a * b, 1);
  if (size > MAX_SIZE) shapeError(op, `shape ${formatShape(sizes)} has ${size} elements, more than ${MAX_SIZE}`);
  return sizes;
}

/** Allocates storage for `sizes`, turning an allocation failure into a `ShapeError`. */
function allocateChecked<D extends DType>(op: string, dtype: D, sizes: readonly number[]): Storage<D> {
  const size = checkSize(op, sizes).reduce((a, b) => a * b, 1);
  try {
    return allocate(dtype, size);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return shapeError(op, `cannot allocate ${size} ${dtype} elements for shape ${formatShape(sizes)}: ${e.message}`);
  }
}

/**
 * The number stored for one element, refusing what the dtype cannot hold
 * exactly; `where` names the element's index for the message.
 */
function storedValue(op: string, dtype: DType, x: unknown, where: () => readonly number[]): number {
  const at = (): string => (where().length === 0 ? "value" : `element ${formatShape(where())}`);
  if (typeof x === "boolean") return x ? 1 : 0;
  if (typeof x !== "number") return shapeError(op, `${at()} is ${describe(x)}, not a number or boolean`);
  switch (dtype) {
    case "float64":
      return x;
    case "float32":
      if (Number.isFinite(x) && !Number.isFinite(Math.fround(x))) shapeError(op, `${at()} is ${x}, outside the float32 range`);
      return x;
    case "int32":
      if (!Number.isInteger(x)) shapeError(op, `${at()} is ${x}, not an integer (dtype int32)`);
      if (x < -(2 ** 31) || x > 2 ** 31 - 1) shapeError(op, `${at()} is ${x}, outside the int32 range`);
      return x;
    case "bool":
      if (x !== 0 && x !== 1) shapeError(op, `${at()} is ${x}, not a bool (true, false, 0 or 1)`);
      return x;
  }
}

/** How a value that is not a number reads in a message: "a string", "null", "an array". */
function describe(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (Array.isArray(x)) return "an array";
  const type = typeof x;
  return type === "object" ? "an object" : `a ${type}`;
}

/** True for an array or a typed array (not a DataView): one level of a nested array. */
function isArrayLevel(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** True when `data` is an array whose first element is itself an array. */
function isNested(data: ArrayLike<unknown>): boolean {
  return Array.isArray(data) && data.length > 0 && isArrayLevel(data[0]);
}

/**
 * The shape and the row-major leaves of a nested array. The shape follows
 * the first element down each level; every other row must match it, or a
 * `ShapeError` names the first row that does not.
 */
function flattenNested(op: string, nested: unknown): { shape: number[]; leaves: unknown[] } {
  const shape: number[] = [];
  for (let level = nested; isArrayLevel(level); level = level[0]) {
    if (shape.length === MAX_RANK) shapeError(op, `nested array is deeper than ${MAX_RANK} levels`);
    shape.push(level.length);
    if (level.length === 0) break;
  }
  checkSize(op, shape);
  const leaves: unknown[] = [];
  const visit = (x: unknown, path: number[]): void => {
    const depth = path.length;
    if (depth === shape.length) {
      if (isArrayLevel(x)) shapeError(op, `ragged nested array: element ${formatShape(path)} is an array, expected a number`);
      leaves.push(x);
      return;
    }
    const expected = shape[depth] ?? 0;
    if (!isArrayLevel(x)) {
      shapeError(op, `ragged nested array: element ${formatShape(path)} is ${describe(x)}, expected an array of length ${expected}`);
    }
    if (x.length !== expected) {
      shapeError(op, `ragged nested array: row ${formatShape(path)} has length ${x.length}, expected ${expected}`);
    }
    for (let i = 0; i < x.length; i++) visit(x[i], [...path, i]);
  };
  visit(nested, []);
  return { shape, leaves };
}

/** The multi-index of flat index `i` in a row-major array of shape `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let axis = shape.length - 1, rest = i; axis >= 0; axis--) {
    const n = shape[axis] ?? 1;
    index[axis] = rest % n;
    rest = Math.floor(rest / n);
  }
  return index;
}

/**
 * Checks a shape that may name symbolic dims: an array of sizes (as
 * `checkShape` wants them) and non-empty names.
 */
function checkDims(op: string, shape: unknown): readonly Dim[] {
  if (!Array.isArray(shape)) return shapeError(op, `shape must be an array of sizes and names, got ${describe(shape)}`);
  const dims: unknown[] = shape;
  dims.forEach((d, i) => {
    const why = dimProblem(d);
    if (why !== undefined) shapeError(op, `dim ${i} of ${formatShape(dims)}: ${why}`);
  });
  // dimProblem found every element to be a valid size or a non-empty name.
  return dims as readonly Dim[];
}

/** What is wrong with `d` as a dim of a shape that may hold names, or undefined. */
function dimProblem(d: unknown): string | undefined {
  if (typeof d === "string") return d === "" ? "a name must not be empty" : undefined;
  if (typeof d !== "number") return `${describe(d)} is neither a size nor a name`;
  return badDim(d);
}

/**
 * The sizes of `dims` for `length` elements of flat data: a symbolic dim
 * takes the size that makes the product `length` (one name, which may
 * recur); throws when no size or more than one would fit.
 */
function inferSymbols(op: string, dims: readonly Dim[], length: number): number[] {
  const names = [...new Set(dims.filter((d): d is string => typeof d === "string"))];
  const known = dims.reduce<number>((a, d) => (typeof d === "number" ? a * d : a), 1);
  const fits = `${length} elements do not fit shape ${formatShape(dims)}`;
  const [name] = names;
  if (name === undefined) {
    if (known !== length) shapeError(op, `${fits} (of size ${known})`);
    return dims.map(Number);
  }
  if (names.length > 1) shapeError(op, `cannot infer ${names.length} symbolic dims (${names.join(", ")}) from one data length`);
  if (known === 0) {
    if (length !== 0) shapeError(op, `${fits} (of size 0)`);
    shapeError(op, `cannot infer ${name} from empty data: the other dims have size 0, so any size fits`);
  }
  const repeats = dims.filter((d) => d === name).length;
  const product = length / known;
  const size = Math.round(product ** (1 / repeats));
  if (size ** repeats !== product) {
    const power = `${known === 1 ? "" : `${known} × `}${name}^${repeats}`;
    const why = repeats === 1 ? `${length} is not a multiple of ${known}` : `no size of ${name} gives ${power} = ${length}`;
    shapeError(op, `${fits}: ${why}`);
  }
  const sizes = dims.map((d) => (typeof d === "string" ? size : d));
  return checkSize(op, sizes);
}

/**
 * Matches the run-time shape `actual` against `dims`: the same rank, every
 * number dim equal, every name one size. Returns the sizes; throws a
 * `ShapeError` that shows both shapes (`label` introduces `actual`).
 */
function bindToShape(op: string, dims: readonly Dim[], actual: RuntimeShape, label: string): number[] {
  const fail = (why: string): never =>
    shapeError(op, `expected shape ${formatShape(dims)}, ${label} ${formatShape(actual)}: ${why}`);
  if (dims.length !== actual.length) fail(`rank ${actual.length}, not ${dims.length}`);
  const bound = new Map<string, { size: number; axis: number }>();
  dims.forEach((d, axis) => {
    const size = actual[axis] ?? 0;
    if (typeof d === "number") {
      if (d !== size) fail(`dim ${axis} is ${size}, not ${d}`);
      return;
    }
    const first = bound.get(d);
    if (first === undefined) bound.set(d, { size, axis });
    else if (first.size !== size) fail(`${d} is ${first.size} at dim ${first.axis} but ${size} at dim ${axis}`);
  });
  return actual.slice();
}
