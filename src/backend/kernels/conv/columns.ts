/**
 * im2col: the window under each output position copied into one row of a
 * matrix (Chellapilla, Puri and Simard 2006; Caffe's `im2col`), so that a
 * convolution is one `gemm` per group and chunk of output rows, the
 * epilogue fused into the product. Columns of float32 operands stay float32
 * for the WebAssembly matmul; a pointwise filter reads the input in place.
 * Left out: the choice of path (`forward.ts`) and col2im (`backward.ts`).
 */

import { type Epilogue, gemm } from "../matmul.js";
import type { FloatArray, MatrixView } from "../matrix-view.js";
import { scratch } from "../scratch.js";
import { type ConvGeometry, epilogueOf, forEachWindowRow, isPointwise, wasmEpilogueOf } from "./geometry.js";
import { conv2dImplicit } from "./implicit.js";

/** Elements of the column buffer per chunk (2 MiB of float64). */
const COLS_BUDGET = 1 << 18;

/** Column storage of the operands' own precision: float32 columns keep a float32 product on the WebAssembly matmul. */
export function growColsLike(like: FloatArray, size: number): FloatArray {
  return like instanceof Float32Array ? scratch.float32("columns32", size) : scratch.float64("columns", size);
}

/** Output rows (of `N * OH * OW`) per chunk of columns `depth` wide. */
export function chunkRows(depth: number): number {
  return Math.max(64, Math.floor(COLS_BUDGET / Math.max(depth, 1)));
}

/**
 * The forward convolution as one `gemm` per group and chunk of output rows;
 * float32 arrays whose windows are not the input itself take implicit GEMM
 * (`implicit.ts`: the same sums, packed from the input) when the
 * WebAssembly matmul runs.
 */
export function conv2dColumns(out: FloatArray, x: FloatArray, w: FloatArray, g: ConvGeometry, epilogue: Epilogue): void {
  if (out instanceof Float32Array && x instanceof Float32Array && w instanceof Float32Array && !isPointwise(g)) {
    if (conv2dImplicit(out, x, w, g, wasmEpilogueOf(epilogue))) return;
  }
  const depth = g.kernelHeight * g.kernelWidth * g.groupInChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const O = g.outChannels;
  const chunk = chunkRows(depth);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const count = Math.min(chunk, rows - r0);
    for (let group = 0; group < g.groups; group++) {
      const a = columns(x, g, group, r0, count);
      const filter: MatrixView = { data: w, offset: group * g.groupOutChannels, rowStride: O, colStride: 1 };
      const target: MatrixView = { data: out, offset: r0 * O + group * g.groupOutChannels, rowStride: O, colStride: 1 };
      gemm(count, depth, g.groupOutChannels, a, filter, target, { ...epilogueOf(epilogue), biasOffset: (epilogue.biasOffset ?? 0) + group * g.groupOutChannels });
    }
  }
}

/**
 * The columns of one group for output rows `r0 .. r0 + count`: row `r` holds
 * the window under output position `r` (of `N * OH * OW`), ordered
 * `(kh, kw, c)` like the filter's rows. A pointwise convolution reads the
 * input in place; otherwise the columns are built into the shared buffer.
 */
export function columns(x: FloatArray, g: ConvGeometry, group: number, r0: number, count: number): MatrixView {
  const C = g.inChannels;
  const Cg = g.groupInChannels;
  if (isPointwise(g)) return { data: x, offset: r0 * C + group * Cg, rowStride: C, colStride: 1 };
  const depth = g.kernelHeight * g.kernelWidth * Cg;
  const buffer = growColsLike(x, count * depth);
  if (Cg === 1) {
    // NOTE: one channel per tap (a first layer on grey images, a depthwise group): one element a tap, without the channel loop.
    // Measured on the demo's CNN step at batch 128, three runs each: 80.1-81.9 ms before, 75.8-78.3 ms after.
    forEachWindowRow(g, r0, count, (row, xAt, taps) => {
      const dst = row * depth;
      const from = xAt + group;
      for (let t = 0; t < taps.length; t++) {
        const tap = taps[t] ?? -1;
        buffer[dst + t] = tap < 0 ? 0 : (x[from + tap] ?? 0);
      }
    });
    return { data: buffer, offset: 0, rowStride: depth, colStride: 1 };
  }
  forEachWindowRow(g, r0, count, (row, xAt, taps) => {
    const dst = row * depth;
    for (let t = 0; t < taps.length; t++) {
      const tap = taps[t] ?? -1;
      const at = dst + t * Cg;
      // NOTE: a plain loop, not fill(): a tap is often one or a few channels, where the call costs more (measured: 4% on bench case 1).
      if (tap < 0) for (let c = 0; c < Cg; c++) buffer[at + c] = 0;
      else for (let c = 0, s = xAt + tap + group * Cg; c < Cg; c++) buffer[at + c] = x[s + c] ?? 0;
    }
  });
  return { data: buffer, offset: 0, rowStride: depth, colStride: 1 };
}
