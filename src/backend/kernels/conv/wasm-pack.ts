/**
 * The two gathers of implicit GEMM in WebAssembly SIMD, for groups of
 * channels in fours: they copy window values from an input placed in the
 * shared memory into the WebAssembly matmul's panels of A, four floats a
 * vector, where JavaScript copied one float at a time.
 *
 * - `gatherRows`: a forward panel holds PANEL_ROWS (4) output positions per
 *   step of k, and k runs over channels, so four channels of four windows
 *   (a 4 x 4 block, one vector from each) are transposed by shuffles and
 *   stored as four steps.
 * - `gatherColumns`: a filter-gradient panel holds four channels of one tap
 *   per step, and k runs over output positions: one vector per step, from an
 *   address the table gives (a position in the padding points at zeros).
 *
 * The addresses come from JavaScript (`implicit.ts`), which knows the
 * geometry; the module is built from fixed opcodes, nothing from the data.
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { instantiateKernel } from "../wasm-matmul.js";

const VECTOR = 16;
/** Bytes of one `gatherRows` segment: destination, four sources, groups of four channels. */
export const SEGMENT_BYTES = 24;

/** The byte lanes of `i8x16.shuffle` that pick 32-bit lanes `lanes` (0 to 3 from the first operand, 4 to 7 from the second). */
function pick(...lanes: readonly number[]): number[] {
  return lanes.flatMap((lane) => [0, 1, 2, 3].map((b) => 4 * lane + b));
}

/**
 * `gatherRows(segments, count)`: for each of `count` segments (six i32 from
 * `segments`: `dst, a0, a1, a2, a3, groups`), for each of `groups` groups,
 * loads four floats from each `a_r`, transposes the 4 x 4 block and stores it
 * from `dst` (`[channel][row]`); then `a_r` move on 16 bytes and `dst` 64.
 */
function gatherRowsBody(): FunctionBody {
  const f = new FunctionBody(2);
  const [segments, count] = [0, 1];
  const dst = f.local(ValType.i32);
  const a = [f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)] as const;
  const groups = f.local(ValType.i32);
  const r = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)] as const;
  const t = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)] as const;
  const i32At = (offset: number): number[] => FunctionBody.memarg(ALIGN_4, offset);
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  f.loop(); // over segments
  f.get(segments).op(Op.i32_load, i32At(0)).set(dst);
  a.forEach((local, i) => f.get(segments).op(Op.i32_load, i32At(4 + 4 * i)).set(local));
  f.get(segments).op(Op.i32_load, i32At(20)).set(groups);
  f.loop(); // over groups of four channels
  for (const [from, to] of [[a[0], r[0]], [a[1], r[1]], [a[2], r[2]], [a[3], r[3]]] as const) f.get(from).simd(SimdOp.v128_load, i32At(0)).set(to);
  // [r0.0 r1.0 r0.1 r1.1], [r0.2 r1.2 r0.3 r1.3], and the same of r2 and r3
  f.get(r[0]).get(r[1]).simd(SimdOp.i8x16_shuffle, pick(0, 4, 1, 5)).set(t[0]);
  f.get(r[0]).get(r[1]).simd(SimdOp.i8x16_shuffle, pick(2, 6, 3, 7)).set(t[1]);
  f.get(r[2]).get(r[3]).simd(SimdOp.i8x16_shuffle, pick(0, 4, 1, 5)).set(t[2]);
  f.get(r[2]).get(r[3]).simd(SimdOp.i8x16_shuffle, pick(2, 6, 3, 7)).set(t[3]);
  // channel j of the four rows: [r0.j r1.j r2.j r3.j]
  const v128At = (j: number): number[] => FunctionBody.memarg(ALIGN_16, j * VECTOR);
  f.get(dst).get(t[0]).get(t[2]).simd(SimdOp.i8x16_shuffle, pick(0, 1, 4, 5)).simd(SimdOp.v128_store, v128At(0));
  f.get(dst).get(t[0]).get(t[2]).simd(SimdOp.i8x16_shuffle, pick(2, 3, 6, 7)).simd(SimdOp.v128_store, v128At(1));
  f.get(dst).get(t[1]).get(t[3]).simd(SimdOp.i8x16_shuffle, pick(0, 1, 4, 5)).simd(SimdOp.v128_store, v128At(2));
  f.get(dst).get(t[1]).get(t[3]).simd(SimdOp.i8x16_shuffle, pick(2, 3, 6, 7)).simd(SimdOp.v128_store, v128At(3));
  for (const local of a) f.get(local).i32(VECTOR).op(Op.i32_add).set(local);
  f.get(dst).i32(4 * VECTOR).op(Op.i32_add).set(dst);
  countDown(groups);
  f.end();
  f.get(segments).i32(SEGMENT_BYTES).op(Op.i32_add).set(segments);
  countDown(count);
  f.end();
  return f;
}

/**
 * `gatherColumns(dst, table, count, offset)`: for each of `count` i32
 * addresses from `table`, the four floats at `address + offset` go to `dst`,
 * which moves on 16 bytes.
 */
function gatherColumnsBody(): FunctionBody {
  const f = new FunctionBody(4);
  const [dst, table, count, offset] = [0, 1, 2, 3];
  f.loop();
  f.get(dst);
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).get(offset).op(Op.i32_add).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_4, 0));
  f.simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16, 0));
  f.get(dst).i32(VECTOR).op(Op.i32_add).set(dst);
  f.get(table).i32(4).op(Op.i32_add).set(table);
  f.get(count).i32(1).op(Op.i32_sub).tee(count).brIf(0);
  f.end();
  return f;
}

/** The two gathers, compiled on first use; null where WebAssembly SIMD is not available. */
export interface Gathers {
  /** See `gatherRowsBody`; `count >= 1`, every segment's `groups >= 1`. */
  readonly rows: (segments: number, count: number) => void;
  /** See `gatherColumnsBody`; `count >= 1`. */
  readonly columns: (dst: number, table: number, count: number, offset: number) => void;
}

let gathers: Gathers | null | undefined;

export function compiledGathers(): Gathers | null {
  if (gathers !== undefined) return gathers;
  const rows = instantiateKernel(gatherRowsBody(), 2);
  const columns = instantiateKernel(gatherColumnsBody(), 4);
  gathers = rows === null || columns === null ? null : { rows, columns };
  return gathers;
}
