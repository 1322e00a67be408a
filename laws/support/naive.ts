/**
 * Naive reference ops over nested JavaScript arrays of numbers, the oracle of
 * the shape-rule laws (`laws/rules.law.test.ts`).
 *
 * Every op computes its values the slow, obvious way, loop by loop, and none
 * computes a result shape: the laws read the shape off the result with
 * `shapeOf`. Lengths come from counting (pushed items, windows that fit,
 * indices a slice walks through). A call the op cannot carry out throws
 * `Refused`. Nothing here imports `src/`, so the rules are checked against an
 * independent account of NumPy's semantics.
 *
 * NOTE: an empty array hides the shape of its elements (`[]` could be of
 * shape `[0]` or `[0, 3]`), so every empty array made here records what one
 * element would look like (`elementOf`), and every op carries that element
 * through as if it were one more item. Its numbers are placeholders, never
 * data: no value is ever read from it.
 *
 * Leaves out: dtypes, strides and speed.
 */

/** A scalar, or an array of nested arrays all of one shape. */
export type Nested = number | readonly Nested[];

/** Thrown when an op cannot carry out a call (the rules' `ShapeError` cases). */
export class Refused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Refused";
  }
}

function refuse(message: string): never {
  throw new Refused(message);
}

/** The element that each empty array made here stands for. */
const hiddenElements = new WeakMap<readonly Nested[], Nested>();

/** The array of `items`; when there are none, `element()` says what one would look like. */
function arrayOf<T extends Nested>(items: T[], element: () => T): T[] {
  if (items.length === 0) hiddenElements.set(items, element());
  return items;
}

/** What an item of `xs` looks like: its first item, or the recorded element when it is empty. */
function elementOf(xs: readonly Nested[]): Nested {
  const element = xs[0] ?? hiddenElements.get(xs);
  // NOTE: a bug of this module, not a refusal: every empty array made here records its element.
  if (element === undefined) throw new Error("naive: an empty array without a recorded element");
  return element;
}

function asArray(x: Nested): readonly Nested[] {
  if (typeof x === "number") throw new Error("naive: a number where an array was expected");
  return x;
}

/** Item `i` of `xs`; reading past the end is a bug of this module, never a refusal. */
function itemAt(xs: readonly Nested[], i: number): Nested {
  const item = xs[i];
  if (item === undefined) throw new Error(`naive: item ${i} past an array of length ${xs.length}`);
  return item;
}

/** Array `i` of `arrays` (the parts of a join); reading past the end is a bug. */
function itemArray(arrays: readonly (readonly Nested[])[], i: number): readonly Nested[] {
  return asArray(itemAt(arrays, i));
}

function asNumber(x: Nested | undefined): number {
  if (typeof x !== "number") throw new Error("naive: an array where a number was expected");
  return x;
}

/** `f` applied to every item of `xs`, and to the element an empty `xs` records. */
function mapItems(xs: readonly Nested[], f: (item: Nested) => Nested): Nested[] {
  return arrayOf(
    xs.map((item) => f(item)), // not `xs.map(f)`: f takes no index
    () => f(elementOf(xs)),
  );
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------
// Building and reading nested arrays

/**
 * The shape of a nested array, read off by walking it; throws if it is
 * ragged (then the op that made it is wrong, which the laws report).
 */
export function shapeOf(x: Nested): number[] {
  if (typeof x === "number") return [];
  const inner = shapeOf(elementOf(x));
  for (const item of x) {
    const other = shapeOf(item);
    if (other.length !== inner.length || other.some((d, i) => d !== inner[i])) {
      throw new Error(`naive: ragged nested array (items of shapes [${inner}] and [${other}])`);
    }
  }
  return [x.length, ...inner];
}

/** The rank of a nested array: how deep its first elements go. */
function rankOf(x: Nested): number {
  return typeof x === "number" ? 0 : 1 + rankOf(elementOf(x));
}

/** The nested array of shape `dims` whose element at `index` is `f(index)`, built in row-major order. */
function tabulate(dims: readonly number[], f: (index: readonly number[]) => number): Nested {
  const build = (index: number[]): Nested => {
    if (index.length === dims.length) return f(index);
    const items: Nested[] = [];
    for (let i = 0; i < (dims[index.length] ?? 0); i++) items.push(build([...index, i]));
    return arrayOf(items, () => tabulate(dims.slice(index.length + 1), () => 0));
  };
  return build([]);
}

/** The nested array of shape `dims` holding 1, 2, 3, ... in row-major order (every element distinct). */
export function counting(dims: readonly number[]): Nested {
  let next = 0;
  return tabulate(dims, () => ++next);
}

/** The element at `index`. */
function read(x: Nested, index: readonly number[]): number {
  return asNumber(index.reduce((node, i) => itemAt(asArray(node), i), x));
}

/** The numbers of a nested array in row-major order. */
function leaves(x: Nested): number[] {
  return typeof x === "number" ? [x] : x.flatMap(leaves);
}

/** The position that `name` names among `count`, Python's way: `i` and `i - count` both name position `i`. */
function positionOf(name: number, count: number): number | undefined {
  return range(count).find((i) => name === i || name === i - count);
}

/** The position of `axis` among `count` axes; refuses any other axis. */
function axisAt(op: string, axis: number, count: number): number {
  return positionOf(axis, count) ?? refuse(`${op}: no axis ${axis} among ${count}`);
}

/** Refuses when two of the (resolved) axes are the same. */
function distinct(op: string, axes: readonly number[]): void {
  axes.forEach((axis, i) => {
    if (axes.indexOf(axis) !== i) refuse(`${op}: axis ${axis} named twice`);
  });
}

// ---------------------------------------------------------------------------
// Elementwise and matrix ops

/** `x` with a new leading axis of length 1. */
const wrap = (x: Nested): Nested => [x];

/** Elementwise `a + b` with NumPy broadcasting: missing leading axes and axes of length 1 repeat. */
export function add(a: Nested, b: Nested): Nested {
  const rankA = rankOf(a);
  const rankB = rankOf(b);
  if (rankA < rankB) return add(wrap(a), b);
  if (rankB < rankA) return add(a, wrap(b));
  if (typeof a === "number" || typeof b === "number") return asNumber(a) + asNumber(b);
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) {
    refuse(`add: axes of lengths ${a.length} and ${b.length} do not broadcast`);
  }
  const items: Nested[] = [];
  for (let i = 0; i < (a.length === 1 ? b.length : a.length); i++) {
    items.push(add(itemAt(a, a.length === 1 ? 0 : i), itemAt(b, b.length === 1 ? 0 : i)));
  }
  return arrayOf(items, () => add(elementOf(a), elementOf(b)));
}

/**
 * The matrix product with NumPy's `matmul` semantics: a vector on the left is
 * a row, a vector on the right a column, and the added axis is dropped again;
 * leading (batch) axes broadcast as in `add`. Scalars are refused.
 */
export function matmul(a: Nested, b: Nested): Nested {
  const rankA = rankOf(a);
  const rankB = rankOf(b);
  if (rankA === 0 || rankB === 0) refuse("matmul: a scalar operand");
  const left = rankA === 1 ? wrap(a) : a;
  const right = rankB === 1 ? mapItems(asArray(b), wrap) : b;
  const product = batched(left, right);
  const rank = rankOf(product);
  // Drop the axes that the vectors gained (each has length 1).
  const withoutRow = rankA === 1 ? squeeze(product, [rank - 2]) : product;
  return rankB === 1 ? squeeze(withoutRow, [-1]) : withoutRow;
}

/** `matmul` of operands of rank 2 or more: batch axes first, then the matrices. */
function batched(a: Nested, b: Nested): Nested {
  const rankA = rankOf(a);
  const rankB = rankOf(b);
  if (rankA > rankB && rankA > 2) return mapItems(asArray(a), (item) => batched(item, b));
  if (rankB > rankA && rankB > 2) return mapItems(asArray(b), (item) => batched(a, item));
  if (rankA === 2) return matrixProduct(asArray(a), asArray(b));
  const xs = asArray(a);
  const ys = asArray(b);
  if (xs.length !== ys.length && xs.length !== 1 && ys.length !== 1) {
    refuse(`matmul: batch axes of lengths ${xs.length} and ${ys.length} do not broadcast`);
  }
  const items: Nested[] = [];
  for (let i = 0; i < (xs.length === 1 ? ys.length : xs.length); i++) {
    items.push(batched(itemAt(xs, xs.length === 1 ? 0 : i), itemAt(ys, ys.length === 1 ? 0 : i)));
  }
  return arrayOf(items, () => batched(elementOf(xs), elementOf(ys)));
}

/** `(a @ b)[i][j] = sum_p a[i][p] * b[p][j]`; refuses when a row of `a` and a column of `b` differ in length. */
function matrixProduct(a: readonly Nested[], b: readonly Nested[]): Nested {
  const inner = asArray(elementOf(a)).length;
  if (inner !== b.length) refuse(`matmul: rows of length ${inner} against columns of length ${b.length}`);
  const columns = asArray(elementOf(b)).length;
  const row = (i: number): Nested => {
    const items: Nested[] = [];
    for (let j = 0; j < columns; j++) {
      let total = 0;
      for (let p = 0; p < inner; p++) total += read(a, [i, p]) * read(b, [p, j]);
      items.push(total);
    }
    return arrayOf(items, () => 0);
  };
  return arrayOf(
    range(a.length).map(row),
    () => tabulate([columns], () => 0),
  );
}

// ---------------------------------------------------------------------------
// Moving elements around

/** `x` with its axes permuted: result axis `k` is axis `perm[k]` of `x`; refuses a non-permutation. */
export function transpose(x: Nested, perm?: readonly number[]): Nested {
  const dims = shapeOf(x);
  const order = perm ?? range(dims.length).reverse();
  if (order.length !== dims.length) refuse(`transpose: ${order.length} axes named for rank ${dims.length}`);
  const axes = order.map((axis) => axisAt("transpose", axis, dims.length));
  distinct("transpose", axes);
  return tabulate(
    axes.map((axis) => dims[axis] ?? 0),
    (index) => {
      const source = new Array<number>(dims.length).fill(0);
      index.forEach((i, k) => (source[axes[k] ?? 0] = i));
      return read(x, source);
    },
  );
}

/**
 * The elements of `x` in row-major order, refilled row-major into `target`
 * (one dim may be -1: the one size that makes the counts agree). Refuses when
 * the elements do not fill the target exactly.
 */
export function reshape(x: Nested, target: readonly number[]): Nested {
  const elements = leaves(x);
  target.forEach((d) => {
    if (d !== -1 && !(Number.isInteger(d) && d >= 0)) refuse(`reshape: ${d} is not a size`);
  });
  if (target.filter((d) => d === -1).length > 1) refuse("reshape: more than one -1");
  let dims = target;
  if (target.includes(-1)) {
    const known = target.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
    // With a 0 among the other dims every size (or none) fits, as in NumPy: refused.
    if (known === 0) refuse("reshape: -1 next to a 0");
    const fits = range(elements.length + 1).filter((d) => d * known === elements.length);
    if (fits.length !== 1) refuse(`reshape: no size for -1 makes ${known} * d = ${elements.length}`);
    dims = target.map((d) => (d === -1 ? (fits[0] ?? 0) : d));
  }
  let next = 0;
  const out = tabulate(dims, () => {
    const element = elements[next++];
    return element ?? refuse(`reshape: ${elements.length} elements are too few for [${target}]`);
  });
  if (next !== elements.length) refuse(`reshape: ${elements.length} elements are too many for [${target}]`);
  return out;
}

/** `x` with the axes `start..end` (inclusive) merged into one, their elements in row-major order. */
export function flatten(x: Nested, start = 1, end = -1): Nested {
  const rank = rankOf(x);
  const first = axisAt("flatten", start, rank);
  const last = axisAt("flatten", end, rank);
  if (last < first) refuse(`flatten: axis ${end} comes before axis ${start}`);
  /** The sub-arrays `levels` deep below `y`, in row-major order. */
  const below = (y: Nested, levels: number): Nested[] => (levels === 0 ? [y] : asArray(y).flatMap((item) => below(item, levels - 1)));
  /** What a sub-array `levels` deep looks like, even when there is none. */
  const elementBelow = (y: Nested, levels: number): Nested => (levels === 0 ? y : elementBelow(elementOf(asArray(y)), levels - 1));
  const merge = (y: Nested, level: number): Nested =>
    level < first
      ? mapItems(asArray(y), (item) => merge(item, level + 1))
      : arrayOf(below(y, last - first + 1), () => elementBelow(y, last - first + 1));
  return merge(x, 0);
}

/**
 * `x` without the named axes, each of which must have length 1; without
 * `axes`, without every axis of length 1.
 */
export function squeeze(x: Nested, axes?: readonly number[]): Nested {
  const rank = rankOf(x);
  if (axes === undefined) {
    const dropAll = (y: Nested): Nested => (typeof y === "number" ? y : y.length === 1 ? dropAll(itemAt(y, 0)) : mapItems(y, dropAll));
    return dropAll(x);
  }
  const drop = axes.map((axis) => axisAt("squeeze", axis, rank));
  distinct("squeeze", drop);
  const dropAt = (y: Nested, level: number): Nested => {
    if (level === rank) return y;
    const ys = asArray(y);
    if (!drop.includes(level)) return mapItems(ys, (item) => dropAt(item, level + 1));
    if (ys.length !== 1) refuse(`squeeze: axis ${level} has length ${ys.length}, not 1`);
    return dropAt(itemAt(ys, 0), level + 1);
  };
  return dropAt(x, 0);
}

/** `x` with a new axis of length 1 that sits at `axis` in the result. */
export function expandDims(x: Nested, axis: number): Nested {
  const at = axisAt("expandDims", axis, rankOf(x) + 1);
  const insert = (y: Nested, level: number): Nested => (level === at ? wrap(y) : mapItems(asArray(y), (item) => insert(item, level + 1)));
  return insert(x, 0);
}

/** The parts joined along an existing axis: their items at that axis, one part after another. */
export function concat(parts: readonly Nested[], axis: number): Nested {
  const first = parts[0] ?? refuse("concat: no parts");
  const rank = rankOf(first);
  if (parts.some((part) => rankOf(part) !== rank)) refuse("concat: parts of different ranks");
  const at = axisAt("concat", axis, rank);
  const join = (ys: readonly Nested[], level: number): Nested => {
    const arrays = ys.map(asArray);
    if (level === at) {
      const shapes = arrays.map((xs) => JSON.stringify(shapeOf(elementOf(xs))));
      if (shapes.some((s) => s !== shapes[0])) refuse(`concat: items of shapes ${shapes.join(", ")} below axis ${at}`);
      const items: Nested[] = [];
      for (const xs of arrays) for (const item of xs) items.push(item);
      return arrayOf(items, () => elementOf(itemArray(arrays, 0)));
    }
    const length = arrays[0]?.length ?? 0;
    if (arrays.some((xs) => xs.length !== length)) refuse(`concat: parts differ in length at axis ${level}`);
    return arrayOf(
      range(length).map((i) => join(arrays.map((xs) => itemAt(xs, i)), level + 1)),
      () => join(arrays.map(elementOf), level + 1),
    );
  };
  return join(parts, 0);
}

/** The parts, all of one shape, as the items of a new axis that sits at `axis` in the result. */
export function stack(parts: readonly Nested[], axis: number): Nested {
  const first = parts[0] ?? refuse("stack: no parts");
  const shape = JSON.stringify(shapeOf(first));
  if (parts.some((part) => JSON.stringify(shapeOf(part)) !== shape)) refuse("stack: parts of different shapes");
  const at = axisAt("stack", axis, rankOf(first) + 1);
  const gather = (ys: readonly Nested[], level: number): Nested => {
    if (level === at) return [...ys];
    const arrays = ys.map(asArray);
    return arrayOf(
      range(itemArray(arrays, 0).length).map((i) => gather(arrays.map((xs) => itemAt(xs, i)), level + 1)),
      () => gather(arrays.map(elementOf), level + 1),
    );
  };
  return gather(parts, 0);
}

// ---------------------------------------------------------------------------
// Indexing

/** A range of one axis, Python's `start:stop:step`; omitted fields take Python's defaults. */
export interface Range {
  readonly start?: number;
  readonly stop?: number;
  readonly step?: number;
}

/** The spec of one axis: an index, the whole axis (`null`), or a range. */
export type Spec = number | null | Range;

/**
 * The indices that Python's `start:stop:step` visits on an axis of `length`
 * items, found by walking: begin at `start` (from the end when negative, or
 * the first index the walk can reach) and take steps while still inside both
 * the axis and `stop`.
 */
function visited(length: number, { start, stop, step = 1 }: Range): number[] {
  if (step === 0) refuse("slice: step 0");
  if (![start, stop, step].every((x) => x === undefined || Number.isInteger(x))) refuse("slice: a bound is not an integer");
  const fromEnd = (x: number): number => (x < 0 ? x + length : x);
  const out: number[] = [];
  if (step > 0) {
    // A start before the axis begins at its first index.
    let i = Math.max(start === undefined ? 0 : fromEnd(start), 0);
    const end = stop === undefined ? length : fromEnd(stop);
    for (; i < end && i < length; i += step) out.push(i);
  } else {
    // A start past the axis begins at its last index.
    let i = Math.min(start === undefined ? length - 1 : fromEnd(start), length - 1);
    const end = stop === undefined ? -1 : fromEnd(stop);
    for (; i > end && i >= 0; i += step) out.push(i);
  }
  return out;
}

/**
 * `x[spec0, spec1, ...]` in Python: an index picks one item (negative from
 * the end) and removes the axis, `null` keeps the axis, a range keeps the
 * items it visits. Axes past the specs are kept whole.
 */
export function slice(x: Nested, specs: readonly Spec[]): Nested {
  if (specs.length > rankOf(x)) refuse(`slice: ${specs.length} specs for rank ${rankOf(x)}`);
  const cut = (y: Nested, level: number): Nested => {
    const spec = specs[level];
    if (spec === undefined) return y;
    const ys = asArray(y);
    if (spec === null) return mapItems(ys, (item) => cut(item, level + 1));
    if (typeof spec === "number") {
      const at = positionOf(spec, ys.length) ?? refuse(`slice: no index ${spec} on an axis of length ${ys.length}`);
      return cut(itemAt(ys, at), level + 1);
    }
    // NOTE: below an axis that the range empties, the specs still check the recorded element.
    return arrayOf(
      visited(ys.length, spec).map((i) => cut(itemAt(ys, i), level + 1)),
      () => cut(elementOf(ys), level + 1),
    );
  };
  return cut(x, 0);
}

// ---------------------------------------------------------------------------
// Reductions

/** The same nested array with every number replaced by 0. */
function zerosLike(x: Nested): Nested {
  return typeof x === "number" ? 0 : mapItems(x, zerosLike);
}

/**
 * The sum of `x` over `axes` (one axis, a list, or every axis when
 * `undefined`): each summed axis is removed, or kept with length 1 when
 * `keepDims`. Refuses an axis out of range or named twice.
 */
export function sum(x: Nested, axes?: number | readonly number[], keepDims = false): Nested {
  const rank = rankOf(x);
  const list = axes === undefined ? range(rank) : typeof axes === "number" ? [axes] : axes;
  const summed = list.map((axis) => axisAt("sum", axis, rank));
  distinct("sum", summed);
  const sumFrom = (y: Nested, level: number): Nested => {
    if (level === rank) return y;
    const ys = asArray(y);
    if (!summed.includes(level)) return mapItems(ys, (item) => sumFrom(item, level + 1));
    let total = zerosLike(sumFrom(elementOf(ys), level + 1));
    for (const item of ys) total = add(total, sumFrom(item, level + 1));
    return keepDims ? wrap(total) : total;
  };
  return sumFrom(x, 0);
}

// ---------------------------------------------------------------------------
// Sliding windows

/** Padding of a 1-D input: a named scheme, one size for both ends, or `[lo, hi]`. */
export type Padding = "valid" | "same" | number | readonly [number, number];

/** The options of a sliding window. */
export interface Window {
  readonly stride: number;
  readonly dilation: number;
  readonly padding: Padding;
}

function positive(op: string, what: string, x: number): void {
  if (!Number.isInteger(x) || x < 1) refuse(`${op}: ${what} ${x} is not a positive integer`);
}

/**
 * `[lo, hi]` padding of an input of `length`. "same" is TensorFlow's: enough
 * to give `ceil(length / stride)` windows, `total = max((ceil(n/s) - 1) * s +
 * reach - n, 0)` where `reach = dilation * (taps - 1) + 1`, the odd element
 * after.
 */
function padsOf(op: string, length: number, taps: number, { stride, dilation, padding }: Window): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding === "same") {
    const reach = dilation * (taps - 1) + 1;
    const total = Math.max((Math.ceil(length / stride) - 1) * stride + reach - length, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  const [lo, hi] = typeof padding === "number" ? [padding, padding] : padding;
  for (const p of [lo, hi]) if (!Number.isInteger(p) || p < 0) refuse(`${op}: padding ${p} is not a size`);
  return [lo, hi];
}

/**
 * The windows that fit in `x` padded with `fill`: each window reads `taps`
 * elements `dilation` apart, and the windows start `stride` apart. With
 * explicit or "valid" padding at least one window must fit.
 */
function windows(op: string, x: readonly number[], taps: number, window: Window, fill: number): number[][] {
  positive(op, "kernel size", taps);
  positive(op, "stride", window.stride);
  positive(op, "dilation", window.dilation);
  const [lo, hi] = padsOf(op, x.length, taps, window);
  const padded = [...new Array<number>(lo).fill(fill), ...x, ...new Array<number>(hi).fill(fill)];
  const out: number[][] = [];
  for (let start = 0; ; start += window.stride) {
    const values = range(taps).map((j) => padded[start + j * window.dilation]);
    if (values.some((v) => v === undefined)) break;
    out.push(values.map(asNumber));
  }
  if (out.length === 0 && window.padding !== "same") refuse(`${op}: no window fits in the padded input`);
  return out;
}

/** 1-D cross-correlation of `x` with `kernel` (deep learning's "convolution"), zero padded: `out[i] = sum_j kernel[j] * x[i * stride + j * dilation]`. */
export function conv1d(x: readonly number[], kernel: readonly number[], window: Window): number[] {
  const out = windows("conv", x, kernel.length, window, 0).map((values) =>
    values.reduce((acc, v, j) => acc + v * asNumber(kernel[j]), 0),
  );
  return arrayOf(out, () => 0);
}

/** 1-D max pooling of `x` over windows of `size` elements, padded with -Infinity. */
export function maxPool1d(x: readonly number[], size: number, window: Omit<Window, "dilation">): number[] {
  const out = windows("pool", x, size, { ...window, dilation: 1 }, -Infinity).map((values) => Math.max(...values));
  return arrayOf(out, () => 0);
}
