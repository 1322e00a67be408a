/**
 * The float storages the matrix kernels read and write, and a matrix read in
 * place through strides: the currency of `matmul.ts`, `wasm-matmul.ts` and
 * the convolutions built on them.
 *
 * A module of its own so that the JavaScript and WebAssembly kernels can both
 * name these types without importing each other. Left out: integer matrices.
 */

/** The float storages the kernels read and write. */
export type FloatArray = Float32Array | Float64Array;

/**
 * A matrix read in place: element `(i, j)` is
 * `data[offset + i * rowStride + j * colStride]`. A row-major `[rows, cols]`
 * array is `{ offset: 0, rowStride: cols, colStride: 1 }`; its transpose is the
 * same data with the strides swapped.
 */
export interface MatrixView<F extends FloatArray = FloatArray> {
  readonly data: F;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}
