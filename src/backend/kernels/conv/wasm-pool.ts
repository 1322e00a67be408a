/**
 * Max pooling of float32 NHWC arrays in WebAssembly SIMD: four channels per
 * f32x4 lane group, the running maximum and its position chosen without a
 * branch (`v128.bitselect` on the comparison's mask), so random data costs no
 * mispredicted jumps. The rule is `pool.ts`'s, lane by lane: a value replaces
 * the maximum when it is greater, or when it is the window's first NaN; so
 * the first maximum wins on ties, -0 and +0 included, and the results are the
 * JavaScript kernels' bits. The gradient takes the positions and sends each
 * `dy` to its window's maximum.
 *
 * The windows come as a table of input offsets, one per tap of every output
 * pixel, made in JavaScript from the geometry; a tap in the padding points
 * at the window's first pixel inside the input, which changes neither the
 * maximum nor its first position. Nothing from the data or a caller goes
 * into the module: it is built from fixed opcodes.
 *
 * Left out: float64, channel counts that are not a multiple of 4 (both stay
 * on the JavaScript loops) and average pooling.
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { lazyKernel } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";

const FLOAT = 4;
const VECTOR = 16;

/**
 * The body of `maxPool(x, table, out, at, pixels, taps, vectors, withAt)`: for
 * each of `pixels` output pixels (its `taps` input byte offsets from `x` in
 * the i32 table), for each of `vectors` groups of 4 channels, the maximum
 * goes to `out` and, when `withAt` is not 0, the byte offset from `x` of
 * each lane's maximum to `at` (both `vectors` vectors per pixel).
 */
function maxPoolBody(): FunctionBody {
  const f = new FunctionBody(8);
  const [x, table, out, at, pixels, taps, vectors, withAt] = [0, 1, 2, 3, 4, 5, 6, 7];
  const channel = f.local(ValType.i32); // byte offset of the lane group within a pixel
  const left = f.local(ValType.i32);
  const tap = f.local(ValType.i32);
  const rest = f.local(ValType.i32);
  const offset = f.local(ValType.i32);
  const best = f.local(ValType.v128);
  const where = f.local(ValType.v128);
  const value = f.local(ValType.v128);
  const mask = f.local(ValType.v128);
  const lanes = [...new Uint8Array(Int32Array.of(0, FLOAT, 2 * FLOAT, 3 * FLOAT).buffer)];
  const v128 = FunctionBody.memarg(ALIGN_16, 0);
  const i32 = FunctionBody.memarg(ALIGN_4, 0);
  /** `offset` = the table entry at `tap` plus `channel`; then the 4 lanes' offsets, and their values, on the stack. */
  const load = (): void => {
    f.get(tap).op(Op.i32_load, i32).get(channel).op(Op.i32_add).set(offset);
    f.get(offset).simd(SimdOp.i32x4_splat).simd(SimdOp.v128_const, lanes).simd(SimdOp.i32x4_add);
    f.get(x).get(offset).op(Op.i32_add).simd(SimdOp.v128_load, v128);
  };
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);

  f.loop(); // over output pixels
  f.i32(0).set(channel).get(vectors).set(left);
  f.loop(); // over groups of 4 channels
  f.get(table).set(tap);
  load();
  f.set(best).set(where);
  f.get(taps).i32(1).op(Op.i32_sub).tee(rest).if();
  f.loop(); // over the other taps
  f.get(tap).i32(FLOAT).op(Op.i32_add).set(tap);
  load();
  f.set(value);
  // value > best, or value is NaN and best is not: the first NaN wins, and stays.
  f.get(value).get(best).simd(SimdOp.f32x4_gt);
  f.get(value).get(value).simd(SimdOp.f32x4_ne).get(best).get(best).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_and);
  f.simd(SimdOp.v128_or).set(mask);
  f.get(value).get(best).get(mask).simd(SimdOp.v128_bitselect).set(best);
  f.get(where).get(mask).simd(SimdOp.v128_bitselect).set(where); // the lanes' offsets are still on the stack, under `where`
  countDown(rest);
  f.end();
  f.end();
  f.get(out).get(channel).op(Op.i32_add).get(best).simd(SimdOp.v128_store, v128);
  f.get(withAt).if();
  f.get(at).get(channel).op(Op.i32_add).get(where).simd(SimdOp.v128_store, v128);
  f.end();
  f.get(channel).i32(VECTOR).op(Op.i32_add).set(channel);
  countDown(left);
  f.end();
  f.get(table).get(taps).i32(2).op(Op.i32_shl).op(Op.i32_add).set(table);
  f.get(vectors).i32(4).op(Op.i32_shl).set(offset); // the bytes of a pixel's channels
  f.get(out).get(offset).op(Op.i32_add).set(out);
  f.get(at).get(offset).op(Op.i32_add).set(at);
  countDown(pixels);
  f.end();
  return f;
}

type MaxPoolKernel = (x: number, table: number, out: number, at: number, pixels: number, taps: number, vectors: number, withAt: number) => void;

/** The compiled max-pooling kernel (built on first use), or null where WebAssembly with SIMD cannot run it. */
const compiledKernel = lazyKernel<MaxPoolKernel>(maxPoolBody, 8);

/**
 * Runs max pooling in WebAssembly: the maxima to `out` and, with `positions`,
 * each maximum's element index in `x` there. Returns false, having written
 * nothing, when it cannot run here (no WebAssembly SIMD, channels not a
 * multiple of 4, too much memory).
 */
export function wasmMaxPool(g: ConvGeometry, x: Float32Array, out: Float32Array | undefined, positions: Int32Array | undefined): boolean {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  if (C % 4 !== 0 || C === 0) return false;
  const run = compiledKernel();
  if (run === null) return false;
  const pixels = g.batch * OH * OW;
  if (pixels === 0) return true; // nothing to write (the kernel's loops run at least once)
  const taps = KH * KW;
  const xSize = g.batch * H * W * C;
  // Layout (bytes, 16-byte aligned): x, the maxima, their offsets, the table.
  const outAt = xSize * FLOAT;
  const whereAt = outAt + pixels * C * FLOAT;
  const tableAt = whereAt + pixels * C * FLOAT;
  const heap = sharedHeap(tableAt + pixels * taps * FLOAT);
  if (heap === undefined) return false;
  new Float32Array(heap, 0, xSize).set(x.subarray(0, xSize));
  const table = new Int32Array(heap, tableAt, pixels * taps);
  for (let n = 0, t = 0; n < g.batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * g.strideWidth - g.padLeft;
        // the window's first pixel inside the input (poolGeometry checked that there is one)
        const first = ((n * H + Math.max(0, top)) * W + Math.max(0, left)) * C * FLOAT;
        for (let kh = 0; kh < KH; kh++) {
          const ih = top + kh;
          for (let kw = 0; kw < KW; kw++, t++) {
            const iw = left + kw;
            table[t] = ih >= 0 && ih < H && iw >= 0 && iw < W ? ((n * H + ih) * W + iw) * C * FLOAT : first;
          }
        }
      }
    }
  }
  run(0, tableAt, outAt, whereAt, pixels, taps, C / 4, positions === undefined ? 0 : 1);
  if (out !== undefined) out.set(new Float32Array(heap, outAt, pixels * C));
  if (positions !== undefined) {
    const where = new Int32Array(heap, whereAt, pixels * C);
    for (let i = 0; i < pixels * C; i++) positions[i] = (where[i] ?? 0) >> 2;
  }
  return true;
}
