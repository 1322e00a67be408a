/**
 * Packed reads: an input of a WebAssembly kernel that the nest reads only in
 * part (a slice of a larger buffer, a column block of a matrix) is copied
 * into the kernel's memory as the elements the nest reads, not as the whole
 * buffer.
 *
 * A kernel works on copies of its buffers in one linear memory (see
 * `runtime.ts`), and copying a whole input costs time in proportion to the
 * input's size, however little of it the nest reads: a recurrent step that
 * adds one time step's slice of a projection of every step would otherwise
 * copy all the steps, once per step. `packReads` finds the inputs that one
 * read visits at fewer than half of their elements, and gives the nest in
 * which each such input is a compact row-major buffer over the axes its read
 * moves along (the axes where it does not move stay broadcast, stride 0);
 * `copyPacked` fills that compact buffer from the caller's. The kernel then
 * computes the same elements from the same values, so its results do not
 * change. Left out: inputs read through several index maps (they are copied
 * whole).
 */

import { shapeSize } from "../../core/shape.js";
import type { LoopNest, ReadNode } from "../loop-ir.js";

/**
 * The elements one read visits, as nested runs: `sizes` and `strides` (in
 * elements of the source buffer, outermost first, neighbouring axes merged
 * where they step as one) from `offset`, in the nest's row-major order.
 */
export interface Pack {
  readonly offset: number;
  readonly sizes: readonly number[];
  readonly strides: readonly number[];
}

/** A nest with some inputs packed: the nest over the packed buffers, and per input its pack (undefined: copied whole). */
export interface PackedNest {
  readonly nest: LoopNest;
  readonly packs: readonly (Pack | undefined)[];
}

/** An input is packed when its read visits at most this fraction of its elements. */
const PACK_FRACTION = 0.5;

/**
 * `nest` with every input that one read visits sparsely (at most half of its
 * elements) replaced by the compact buffer of the elements it visits, and
 * how to fill each such buffer (`copyPacked`).
 *
 * @example
 * // a [32, 512] step reading one time step of a [32, 32, 512] buffer
 * packReads(nest).packs; // [{ offset: t * 512, sizes: [32, 512], strides: [16384, 1] }, undefined]
 */
export function packReads(nest: LoopNest): PackedNest {
  const readsOf = nest.inputs.map((): ReadNode[] => []);
  for (const node of nest.nodes) if (node.kind === "read") readsOf[node.input]?.push(node);
  const packs = nest.inputs.map((input, i): Pack | undefined => {
    const reads = readsOf[i] ?? [];
    const read = reads[0];
    if (read === undefined || reads.length > 1 || shapeSize(nest.shape) === 0) return undefined;
    const moving = nest.shape.flatMap((size, d) => ((read.map.strides[d] ?? 0) !== 0 && size > 1 ? [{ size, stride: read.map.strides[d] ?? 0 }] : []));
    const count = moving.reduce((n, a) => n * a.size, 1);
    if (count > PACK_FRACTION * input.size) return undefined;
    // merge an axis into the next inner one where they step as one
    const sizes: number[] = [];
    const strides: number[] = [];
    for (const { size, stride } of moving) {
      const last = sizes.length - 1;
      if (last >= 0 && strides[last] === stride * size) {
        sizes[last] = (sizes[last] ?? 1) * size;
        strides[last] = stride;
      } else {
        sizes.push(size);
        strides.push(stride);
      }
    }
    return { offset: read.map.offset, sizes, strides };
  });
  if (packs.every((p) => p === undefined)) return { nest, packs };
  const inputs = nest.inputs.map((input, i) => {
    const pack = packs[i];
    return pack === undefined ? input : { ...input, size: shapeSize(pack.sizes) };
  });
  const nodes = nest.nodes.map((node) => {
    if (node.kind !== "read" || packs[node.input] === undefined) return node;
    // row-major strides over the axes the read moves along, in the nest's order
    const strides = new Array<number>(nest.shape.length).fill(0);
    let step = 1;
    for (let d = nest.shape.length - 1; d >= 0; d--) {
      const size = nest.shape[d] ?? 1;
      if ((node.map.strides[d] ?? 0) === 0 || size <= 1) continue;
      strides[d] = step;
      step *= size;
    }
    return { ...node, map: { offset: 0, strides } };
  });
  return { nest: { ...nest, inputs, nodes }, packs };
}

/** Runs of at least this many elements are copied with `set`, shorter ones element by element. */
const SET_RUN = 32;

/**
 * Copies the elements `pack` visits in `source` to `target` from index `at`
 * on, one after another in the nest's row-major order.
 *
 * @example
 * copyPacked(heap, at, x, { offset: 512, sizes: [32, 512], strides: [16384, 1] }); // 32 runs of 512
 */
export function copyPacked(target: Float32Array, at: number, source: Float32Array, pack: Pack): void {
  const { offset, sizes, strides } = pack;
  const depth = sizes.length;
  const run = sizes[depth - 1] ?? 1;
  const step = strides[depth - 1] ?? 1;
  const rows = shapeSize(sizes) / run;
  const index = new Array<number>(depth).fill(0);
  let from = offset;
  let to = at;
  for (let r = 0; r < rows; r++) {
    if (step === 1 && run >= SET_RUN) target.set(source.subarray(from, from + run), to);
    else for (let k = 0; k < run; k++) target[to + k] = source[from + k * step] ?? NaN;
    to += run;
    // the next row: an odometer over the outer axes
    for (let d = depth - 2; d >= 0; d--) {
      const [stride = 0, size = 1] = [strides[d], sizes[d]];
      const next = (index[d] ?? 0) + 1;
      from += stride;
      index[d] = next;
      if (next < size) break;
      from -= stride * size;
      index[d] = 0;
    }
  }
}
