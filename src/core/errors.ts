/**
 * The one error type of shape checking, at run time and at compile time.
 *
 * At run time a `ShapeError` is thrown by every shape rule with a message that
 * names the op and the shapes involved. At compile time the same name, with the
 * message as a string literal type parameter, is what a type-level rule returns
 * on a mismatch: an argument typed `ShapeError<"matmul: inner dims 784 and 512
 * differ">` cannot be satisfied by a tensor, so the compiler prints that text.
 */

/**
 * A shape mismatch or a bad shape. The type parameter carries the message at
 * the type level; at run time `message` holds it.
 *
 * @example
 * try { reshapeShape([2, 3], [4]) } catch (e) { e instanceof ShapeError } // true
 */
export class ShapeError<M extends string = string> extends Error {
  /** Brands the type with its message so that no tensor is assignable to it. */
  declare readonly shapeError: M;

  constructor(message: M) {
    super(message);
    this.name = "ShapeError";
  }
}

/** Throws a `ShapeError` with the message `"op: detail"`. */
export function shapeError(op: string, detail: string): never {
  throw new ShapeError(`${op}: ${detail}`);
}
