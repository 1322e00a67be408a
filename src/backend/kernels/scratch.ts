/**
 * The scratch buffers of the CPU kernels, owned by one allocator.
 *
 * A kernel asks for a buffer by purpose and size and gets one at least that
 * long, grown on demand and reused across calls, so a convolution over any
 * batch works in bounded memory without allocating per call. The contents
 * are whatever the last user left: a kernel fills what it reads. Buffers of
 * different purposes never alias, so one kernel may hold several at once
 * (columns and the gradient they add into).
 *
 * NOTE: a kernel never calls out while it holds a buffer, and one thread runs
 * one kernel at a time, so reuse is safe; a worker has its own module
 * instance, and so its own allocator. Left out: giving memory back (a buffer
 * keeps its largest size).
 */

/** What each scratch buffer is for (one buffer per purpose). */
export type ScratchPurpose =
  | "columns" // im2col columns of a chunk of output rows; also the windows' input band and Winograd's tiles
  | "columns32" // float32 columns, for the WebAssembly matmul
  | "sums" // per-channel float64 sums of the pooling loops
  | "gradient" // the float64 input gradient that col2im adds into
  | "stationary" // the weights and biases of one sweep of the window kernel
  | "lanes" // the per-pixel lane sums of the window kernel
  | "flipped" // the filter turned by 180 degrees for the Winograd input gradient
  | "positions" // the positions of the maxima of max pooling, one per output element
  | "pack" // the packed block of A and the sums of a block of C of the blocked matmul
  | "gemmStationary" // the block of B of one sweep of the matmul micro-kernel
  | "rowSums" // the row accumulators of the matmul's small path
  | "rowAccumulators" // the per-column float64 accumulators of a row-wise reduction
  | "rowBest"; // the per-column running best values of a row-wise argmax/argmin

/** Growable buffers by purpose, one table per element type. */
export class ScratchAllocator {
  readonly #float64 = new Map<ScratchPurpose, Float64Array>();
  readonly #float32 = new Map<ScratchPurpose, Float32Array>();
  readonly #int32 = new Map<ScratchPurpose, Int32Array>();

  /** A float64 buffer of at least `size` elements for `purpose`. */
  float64(purpose: ScratchPurpose, size: number): Float64Array {
    return grow(this.#float64, purpose, size, (n) => new Float64Array(n));
  }

  /** A float32 buffer of at least `size` elements for `purpose`. */
  float32(purpose: ScratchPurpose, size: number): Float32Array {
    return grow(this.#float32, purpose, size, (n) => new Float32Array(n));
  }

  /** An int32 buffer of at least `size` elements for `purpose`. */
  int32(purpose: ScratchPurpose, size: number): Int32Array {
    return grow(this.#int32, purpose, size, (n) => new Int32Array(n));
  }

  /** The bytes all buffers hold, for tests and benchmarks. */
  bytes(): number {
    let total = 0;
    for (const table of [this.#float64, this.#float32, this.#int32]) for (const b of table.values()) total += b.byteLength;
    return total;
  }
}

function grow<T extends { readonly length: number }>(table: Map<ScratchPurpose, T>, purpose: ScratchPurpose, size: number, make: (size: number) => T): T {
  const held = table.get(purpose);
  if (held !== undefined && held.length >= size) return held;
  const fresh = make(size);
  table.set(purpose, fresh);
  return fresh;
}

/** The allocator of the kernels on this thread. */
export const scratch = new ScratchAllocator();
