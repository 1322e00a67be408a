/**
 * Max pooling of float32 NHWC arrays in WebAssembly SIMD: four channels per
 * f32x4 lane group, the running maximum and its position chosen without a
 * branch (`v128.bitselect` on the comparison's mask), so random data costs no
 * mispredicted jumps. The rule is `pool.ts`'s, lane by lane: a value replaces
 * the maximum when it is greater, or when it is the window's first NaN; so
 * the first maximum wins on ties, -0 and +0 included, and the results are the
 * JavaScript kernels' bits. The gradient takes the positions and sends each
 * `dy` to its window's maximum, in WebAssembly too (`scatter`, one float at
 * a time in the outputs' order, the JavaScript loop's bits).
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

/**
 * The body of `scatter(dx, where, dy, count)`: for each of `count` output
 * elements in order, `dx[where[i]] += dy[i]` (`where` holds byte offsets
 * from `dx`), one float at a time: the sums of the JavaScript loop, in its order.
 */
function scatterBody(): FunctionBody {
  const f = new FunctionBody(4);
  const [dx, where, dy, count] = [0, 1, 2, 3];
  const to = f.local(ValType.i32);
  const f32 = FunctionBody.memarg(ALIGN_4, 0);
  f.get(count).if();
  f.loop();
  f.get(dx).get(where).op(Op.i32_load, f32).op(Op.i32_add).tee(to);
  f.get(to).op(Op.f32_load, f32).get(dy).op(Op.f32_load, f32).op(Op.f32_add);
  f.op(Op.f32_store, f32);
  f.get(where).i32(FLOAT).op(Op.i32_add).set(where);
  f.get(dy).i32(FLOAT).op(Op.i32_add).set(dy);
  f.get(count).i32(1).op(Op.i32_sub).tee(count).brIf(0);
  f.end();
  f.end();
  return f;
}

const compiledScatter = lazyKernel<(dx: number, where: number, dy: number, count: number) => void>(scatterBody, 4);

/** The compiled max-pooling kernel (built on first use), or null where WebAssembly with SIMD cannot run it. */
const compiledKernel = lazyKernel<MaxPoolKernel>(maxPoolBody, 8);

/**
 * Runs max pooling in WebAssembly: the maxima to `out` and, with `positions`,
 * each maximum's element index in `x` there. Returns false, having written
 * nothing, when it cannot run here (no WebAssembly SIMD, channels not a
 * multiple of 4, too much memory).
 */
export function wasmMaxPool(g: ConvGeometry, x: Float32Array, out: Float32Array | undefined, positions: Int32Array | undefined): boolean {
  const run = stagePool(g, x, 0);
  if (run === undefined) return false;
  if (run.pixels === 0) return true; // nothing to write (the kernel's loops run at least once)
  const { heap, outAt, whereAt, count } = run.go(positions !== undefined);
  if (out !== undefined) out.set(new Float32Array(heap, outAt, count));
  if (positions !== undefined) {
    const where = new Int32Array(heap, whereAt, count);
    for (let i = 0; i < count; i++) positions[i] = (where[i] ?? 0) >> 2;
  }
  return true;
}

/**
 * The gradient of max pooling in WebAssembly: the maxima's positions as
 * `wasmMaxPool` finds them, then each `dy` added to its maximum's element of
 * `dx` (zero elsewhere), in the order of the outputs: the bits of
 * `maxPool2dBackward`'s JavaScript loop. Returns false, having written
 * nothing, where `wasmMaxPool` would.
 */
export function wasmMaxPoolBackward(g: ConvGeometry, x: Float32Array, dy: Float32Array, dx: Float32Array): boolean {
  const scatter = compiledScatter();
  if (scatter === null) return false;
  const xSize = g.batch * g.inHeight * g.inWidth * g.inChannels;
  const ySize = g.batch * g.outHeight * g.outWidth * g.inChannels;
  // after the pooling's own regions: dy, then dx
  const run = stagePool(g, x, ySize + xSize);
  if (run === undefined) return false;
  if (run.pixels === 0) {
    dx.fill(0, 0, xSize);
    return true;
  }
  const { heap, whereAt, end } = run.go(true);
  const dyAt = end;
  const dxAt = dyAt + ySize * FLOAT;
  new Float32Array(heap, dyAt, ySize).set(dy.subarray(0, ySize));
  const target = new Float32Array(heap, dxAt, xSize);
  target.fill(0);
  scatter(dxAt, whereAt, dyAt, ySize);
  dx.set(target);
  return true;
}

/** Window tables by geometry (a few per model), each made once: emptied when it grows past TABLE_CACHE_SIZE. */
const tableCache = new Map<string, Int32Array>();
const TABLE_CACHE_SIZE = 16;

/**
 * The windows' table of a pooling geometry: for each output pixel in order,
 * the byte offset from `x` of each of its taps' pixels, a tap in the padding
 * pointing at the window's first pixel inside the input. Made once per
 * geometry and copied in on every call: building it in JavaScript took as
 * long as the pooling kernel itself (the CNN bench's profile: 5.9% of a step).
 */
function windowTable(g: ConvGeometry): Int32Array {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  const key = [N, H, W, C, KH, KW, OH, OW, g.strideHeight, g.strideWidth, g.padTop, g.padLeft].join(",");
  const known = tableCache.get(key);
  if (known !== undefined) return known;
  const table = new Int32Array(N * OH * OW * KH * KW);
  for (let n = 0, t = 0; n < N; n++) {
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
  if (tableCache.size >= TABLE_CACHE_SIZE) tableCache.clear();
  tableCache.set(key, table);
  return table;
}

/**
 * Places `x` and the windows' table in the shared memory (with `extra`
 * floats free after them) and returns the pooling's run, or undefined where
 * it cannot run (see `wasmMaxPool`). Layout (bytes, 16-byte aligned): x, the
 * maxima, their offsets, the table, then the extra room.
 */
function stagePool(g: ConvGeometry, x: Float32Array, extra: number): { pixels: number; go: (withAt: boolean) => { heap: ArrayBufferLike; outAt: number; whereAt: number; count: number; end: number } } | undefined {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  if (C % 4 !== 0 || C === 0) return undefined;
  const run = compiledKernel();
  if (run === null) return undefined;
  const pixels = g.batch * OH * OW;
  const taps = KH * KW;
  const xSize = g.batch * H * W * C;
  const outAt = xSize * FLOAT;
  const whereAt = outAt + pixels * C * FLOAT;
  const tableAt = whereAt + pixels * C * FLOAT;
  const end = tableAt + Math.ceil((pixels * taps) / 4) * 4 * FLOAT;
  const heap = sharedHeap(end + extra * FLOAT);
  if (heap === undefined) return undefined;
  const go = (withAt: boolean): { heap: ArrayBufferLike; outAt: number; whereAt: number; count: number; end: number } => {
    new Float32Array(heap, 0, xSize).set(x.subarray(0, xSize));
    new Int32Array(heap, tableAt, pixels * taps).set(windowTable(g));
    run(0, tableAt, outAt, whereAt, pixels, taps, C / 4, withAt ? 1 : 0);
    return { heap, outAt, whereAt, count: pixels * C, end };
  };
  return { pixels, go };
}
