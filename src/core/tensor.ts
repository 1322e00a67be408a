/**
 * The tensor: an immutable, row-major array of elements whose shape lives in
 * its type.
 *
 * `Tensor<[B, 28, 28, 1]>` and `Tensor<[B, 784]>` are different types. The
 * run-time `shape` holds the sizes (symbolic dims are numbers there); the
 * type parameter `S` keeps the type-level shape, symbolic names included.
 * Storage is a typed array chosen by the dtype (see `dtype.ts`). Tensors are
 * never mutated after construction and are freed by the garbage collector:
 * there is no `dispose`. Deliberately left out: strided views (every tensor is
 * contiguous; ops that move data copy it).
 */

import { loadValue, type DType, type Scalar, type Storage } from "./dtype.js";
import { ShapeError } from "./errors.js";
import { formatTensor } from "./format.js";
import { formatShape, shapeSize, type Concrete, type Shape } from "./shape.js";

/**
 * What a transform attaches to a tensor it traces: opaque to the core, which
 * only needs to know that a traced tensor has no values.
 */
export interface Traced {
  /** The nesting level of the transform that owns this value. */
  readonly level: number;
}

/**
 * The nested-array form of a tensor of shape `S`: `Nested<[2, 3]>` is
 * `number[][]`, `Nested<[]>` is `number`.
 *
 * NOTE: `S` appears only as the checked type, never after `extends` (as in
 * `number extends S["length"]`): TypeScript 5.9 measures a type parameter
 * there as invariant, which made `Tensor<[2, 3]>` unassignable to
 * `Tensor<Shape>`.
 */
export type Nested<S extends Shape, D extends DType = "float32"> = S extends readonly [
  unknown,
  ...infer T extends Shape,
]
  ? Nested<T, D>[]
  : S extends readonly []
    ? Scalar<D>
    : NestedArray<Scalar<D>>;

/** A nested array of any depth (the form of a tensor of unknown rank). */
export type NestedArray<X> = X | readonly NestedArray<X>[];

/**
 * An n-dimensional array of `D` elements with shape `S`.
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]] as const); // Tensor<[2, 3]>
 * x.shape; // [2, 3]
 */
export class Tensor<S extends Shape = Shape, D extends DType = "float32"> {
  /** The type-level shape; exists only in the types (symbolic dims included). */
  declare readonly shapeType: S;
  /** The sizes of the dims, outermost first. */
  readonly shape: Concrete<S>;
  /** The element type. */
  readonly dtype: D;
  /** Set while a transform traces this value (see `transforms/`); undefined for a concrete tensor. */
  readonly tracer: Traced | undefined;
  readonly #data: Storage<D> | undefined;

  /**
   * Wraps `data` without copying. Internal: use the constructors in
   * `create.ts` (`tensor`, `zeros`, `fromArray`, ...), which validate.
   */
  constructor(shape: Concrete<S>, dtype: D, data: Storage<D>);
  /** A tensor that stands for a value being traced by a transform. Internal. */
  constructor(shape: Concrete<S>, dtype: D, data: undefined, tracer: Traced);
  constructor(shape: Concrete<S>, dtype: D, data: Storage<D> | undefined, tracer?: Traced) {
    this.shape = Object.freeze(shape.slice()) as unknown as Concrete<S>; // a frozen copy of the same tuple
    this.dtype = dtype;
    this.#data = data;
    this.tracer = tracer;
  }

  /**
   * The elements in row-major order. Treat as read-only: tensors are
   * immutable. Throws for a traced tensor, whose values do not exist yet.
   */
  get data(): Storage<D> {
    if (this.#data === undefined) {
      throw new Error(
        `a traced tensor of shape ${formatShape(this.shape)} has no values yet: inside jit or a transform, ` +
          "compute with ops instead of reading elements",
      );
    }
    return this.#data;
  }

  /** The number of dims. */
  get rank(): S["length"] {
    return this.shape.length;
  }

  /** The number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** The elements as a flat array, row-major. */
  toArray(): Scalar<D>[] {
    const out: Scalar<D>[] = [];
    for (let i = 0; i < this.data.length; i++) out.push(loadValue(this.dtype, this.data[i] ?? 0));
    return out;
  }

  /** The elements as nested arrays, one level per dim. */
  toNested(): Nested<S, D> {
    const flat = this.toArray();
    const build = (axis: number, offset: number, stride: number): unknown => {
      if (axis === this.shape.length) return flat[offset];
      const n = this.shape[axis] ?? 0;
      const inner = stride / (n || 1);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(build(axis + 1, offset + i * inner, inner));
      return out;
    };
    // build nests exactly rank levels deep over the row-major data: Nested<S, D>.
    return build(0, 0, this.data.length) as Nested<S, D>;
  }

  /** The single element of a tensor of size 1; throws otherwise. */
  item(): Scalar<D> {
    if (this.data.length !== 1) {
      throw new ShapeError(`item: a tensor of shape ${formatShape(this.shape)} has ${this.data.length} elements, not 1`);
    }
    return loadValue(this.dtype, this.data[0] ?? 0);
  }

  /** Prints like NumPy's repr, summarised for large tensors. */
  toString(): string {
    if (this.tracer !== undefined) return `Traced<${this.dtype}${formatShape(this.shape)}>`;
    return formatTensor(this);
  }
}
