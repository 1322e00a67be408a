/**
 * Max pooling of float32 NHWC arrays in WebAssembly SIMD: four channels per
 * f32x4 lane group, the running maximum and its position chosen without a
 * branch (`v128.bitselect` on the comparison's mask), so random data costs no
 * mispredicted jumps. The rule is `pool.ts`'s, lane by lane: a value replaces
 * the maximum when it is greater, or when it is the window's first NaN; so
 * the first maximum wins on ties, -0 and +0 included, and the results are the
 * JavaScript kernels' bits. The gradient, where windows neither overlap nor
 * reach into the padding (the usual 2 x 2 of stride 2), is one kernel that
 * finds each window's maximum and writes the window's `dx` (`0 + dy` at the
 * maximum, 0 elsewhere: the JavaScript loop's bits, with no clearing pass);
 * elsewhere it takes the positions and sends each `dy` to its window's
 * maximum (`scatter`, one float at a time in the outputs' order). The
 * forward's positions are not kept for the gradient: `max_pool2d_grad` gets
 * `x` and `dy`, and finding the maxima again is a small part of the
 * gradient's time (the copies into and out of the WebAssembly memory are most of it).
 *
 * The windows come as a table of input offsets, one per tap of every output
 * pixel, made once per geometry in JavaScript; a tap in the padding points
 * at the window's first pixel inside the input, which changes neither the
 * maximum nor its first position. Nothing from the data or a caller goes
 * into the module: it is built from fixed opcodes.
 *
 * Windows that lie inside the input (no padding reached) go to
 * `wasm-pool-blocks.ts` first, which needs no table and stages a block at a
 * time; the kernels here take the padded ones.
 *
 * Left out: float64, channel counts that are not a multiple of 4 (both stay
 * on the JavaScript loops) and average pooling.
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { lazyKernel } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";
import { KernelCache } from "./kernel-cache.js";

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

/**
 * The body of `maxPoolGrad(x, table, dy, dx, pixels, taps, vectors)`, for
 * windows that neither overlap nor reach into the padding: for each of
 * `pixels` output pixels and each of `vectors` groups of 4 channels, the
 * window's maximum is found as `maxPool` finds it (the tap's number in each
 * lane), then every tap of the window gets `0 + dy` where it was the
 * maximum and 0 elsewhere, written to `dx` at the tap's offset (`table`
 * holds byte offsets from `x`, which the same offsets from `dx` mirror).
 * Each element of `dx` under a window is written once: the scatter's sum
 * `0 + dy` or its 0, with no pass to clear `dx` and no table of maxima.
 */
function maxPoolGradBody(): FunctionBody {
  const f = new FunctionBody(7);
  const [x, table, dy, dx, pixels, taps, vectors] = [0, 1, 2, 3, 4, 5, 6];
  const channel = f.local(ValType.i32);
  const left = f.local(ValType.i32);
  const tap = f.local(ValType.i32);
  const rest = f.local(ValType.i32);
  const best = f.local(ValType.v128);
  const which = f.local(ValType.v128); // each lane's maximum's tap number, as a float
  const number = f.local(ValType.v128); // the current tap's number, as a float in every lane
  const value = f.local(ValType.v128);
  const mask = f.local(ValType.v128);
  const grad = f.local(ValType.v128);
  const ones = [...new Uint8Array(Float32Array.of(1, 1, 1, 1).buffer)];
  const v128 = FunctionBody.memarg(ALIGN_16, 0);
  const i32 = FunctionBody.memarg(ALIGN_4, 0);
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  /** The address `base` + the table entry at `tap` + `channel`, on the stack. */
  const address = (base: number): void => void f.get(base).get(tap).op(Op.i32_load, i32).op(Op.i32_add).get(channel).op(Op.i32_add);
  /** The next tap: `tap` and `number` move on one. */
  const nextTap = (): void => {
    f.get(tap).i32(FLOAT).op(Op.i32_add).set(tap);
    f.get(number).simd(SimdOp.v128_const, ones).simd(SimdOp.f32x4_add).set(number);
  };

  f.loop(); // over output pixels
  f.i32(0).set(channel).get(vectors).set(left);
  f.loop(); // over groups of 4 channels
  f.get(table).set(tap).zeros().set(number);
  address(x);
  f.simd(SimdOp.v128_load, v128).set(best);
  f.zeros().set(which);
  f.get(taps).i32(1).op(Op.i32_sub).tee(rest).if();
  f.loop(); // over the other taps: maxPool's rule, lane by lane
  nextTap();
  address(x);
  f.simd(SimdOp.v128_load, v128).set(value);
  f.get(value).get(best).simd(SimdOp.f32x4_gt);
  f.get(value).get(value).simd(SimdOp.f32x4_ne).get(best).get(best).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_and);
  f.simd(SimdOp.v128_or).set(mask);
  f.get(value).get(best).get(mask).simd(SimdOp.v128_bitselect).set(best);
  f.get(number).get(which).get(mask).simd(SimdOp.v128_bitselect).set(which);
  countDown(rest);
  f.end();
  f.end();
  // 0 + dy, the scatter's sum into a cleared dx (-0 becomes +0)
  f.zeros().get(dy).get(channel).op(Op.i32_add).simd(SimdOp.v128_load, v128).simd(SimdOp.f32x4_add).set(grad);
  f.get(table).set(tap).zeros().set(number).get(taps).set(rest);
  f.loop(); // over every tap: the gradient where it was the maximum, else 0
  address(dx);
  f.get(grad).zeros().get(which).get(number).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_bitselect);
  f.simd(SimdOp.v128_store, v128);
  nextTap();
  countDown(rest);
  f.end();
  f.get(channel).i32(VECTOR).op(Op.i32_add).set(channel);
  countDown(left);
  f.end();
  f.get(table).get(taps).i32(2).op(Op.i32_shl).op(Op.i32_add).set(table);
  f.get(dy).get(vectors).i32(4).op(Op.i32_shl).op(Op.i32_add).set(dy);
  countDown(pixels);
  f.end();
  return f;
}

const compiledScatter = lazyKernel<(dx: number, where: number, dy: number, count: number) => void>(scatterBody, 4);

type MaxPoolKernel = (x: number, table: number, out: number, at: number, pixels: number, taps: number, vectors: number, withAt: number) => void;

/**
 * The compiled pooling kernels (built on first use), or null where WebAssembly with SIMD cannot run them.
 * NOTE: they run on the calling thread: split over the worker pool (runs of output pixels as tasks), a 2 x 2
 * pooling at 2 threads took 1.02 to 1.67 times its one-thread time from 2^15 to 2^20.6 input elements (the
 * CNN bench's pools are 2^19.6 and 2^20.6; `bench/pool-split.ts`, machine loaded): the copies into and out of
 * the WebAssembly memory, on the calling thread either way, are most of a call.
 */
const compiledKernel = lazyKernel<MaxPoolKernel>(maxPoolBody, 8);
const compiledGrad = lazyKernel<(x: number, table: number, dy: number, dx: number, pixels: number, taps: number, vectors: number) => void>(maxPoolGradBody, 7);

/**
 * Runs max pooling in WebAssembly: the maxima to `out` and, with `positions`,
 * each maximum's element index in `x` there. Returns false, having written
 * nothing, when it cannot run here (no WebAssembly SIMD, channels not a
 * multiple of 4, too much memory).
 */
export function wasmMaxPool(g: ConvGeometry, x: Float32Array, out: Float32Array | undefined, positions: Int32Array | undefined): boolean {
  const staged = stagePool(g, x, 0);
  if (staged === undefined) return false;
  if (staged.pixels === 0) return true; // nothing to write (the kernel's loops run at least once)
  const { heap, outAt, whereAt, count } = runMaxPool(g, staged, positions !== undefined);
  if (out !== undefined) out.set(new Float32Array(heap, outAt, count));
  if (positions !== undefined) {
    const where = new Int32Array(heap, whereAt, count);
    for (let i = 0; i < count; i++) positions[i] = (where[i] ?? 0) >> 2;
  }
  return true;
}

/**
 * The gradient of max pooling in WebAssembly: each `dy` added to its
 * window's maximum's element of `dx` (zero elsewhere), in the order of the
 * outputs: the bits of `maxPool2dBackward`'s JavaScript loop. Where the
 * windows neither overlap nor reach into the padding (a 2 x 2 pooling of
 * stride 2, say), one kernel finds each window's maximum and writes its
 * whole window of `dx` (`maxPoolGrad`); elsewhere the maxima's positions as
 * `wasmMaxPool` finds them, then a scatter. Returns false, having written
 * nothing, where `wasmMaxPool` would.
 */
export function wasmMaxPoolBackward(g: ConvGeometry, x: Float32Array, dy: Float32Array, dx: Float32Array): boolean {
  const [scatter, grad] = [compiledScatter(), compiledGrad()];
  if (scatter === null || grad === null) return false;
  const xSize = g.batch * g.inHeight * g.inWidth * g.inChannels;
  const ySize = g.batch * g.outHeight * g.outWidth * g.inChannels;
  // after the pooling's own regions: dy, then dx
  const staged = stagePool(g, x, ySize + xSize);
  if (staged === undefined) return false;
  if (staged.pixels === 0) {
    dx.fill(0, 0, xSize);
    return true;
  }
  const { heap, end, tableAt, pixels, taps } = staged;
  const dyAt = end;
  const dxAt = dyAt + ySize * FLOAT;
  new Float32Array(heap, dyAt, ySize).set(dy.subarray(0, ySize));
  const target = new Float32Array(heap, dxAt, xSize);
  const apart = g.strideHeight >= g.kernelHeight && g.strideWidth >= g.kernelWidth && g.padTop === 0 && g.padLeft === 0;
  const inside = (g.outHeight - 1) * g.strideHeight + g.kernelHeight <= g.inHeight && (g.outWidth - 1) * g.strideWidth + g.kernelWidth <= g.inWidth;
  if (apart && inside) {
    // NOTE: elements under no window (rows or columns past the last window, or between windows) get no write: clear them first
    const covered = g.strideHeight === g.kernelHeight && g.strideWidth === g.kernelWidth && g.outHeight * g.kernelHeight === g.inHeight && g.outWidth * g.kernelWidth === g.inWidth;
    if (!covered) target.fill(0);
    grad(0, tableAt, dyAt, dxAt, pixels, taps, g.inChannels / 4);
  } else {
    const { whereAt } = runMaxPool(g, staged, true);
    target.fill(0);
    scatter(dxAt, whereAt, dyAt, ySize);
  }
  dx.set(target);
  return true;
}

/** Runs the pooling kernel over `staged`: the maxima and, `withAt`, their byte offsets. */
function runMaxPool(g: ConvGeometry, staged: StagedPool, withAt: boolean): { heap: ArrayBufferLike; outAt: number; whereAt: number; count: number } {
  const { heap, outAt, whereAt, tableAt, pixels, taps, kernel } = staged;
  kernel(0, tableAt, outAt, whereAt, pixels, taps, g.inChannels / 4, withAt ? 1 : 0);
  return { heap, outAt, whereAt, count: pixels * g.inChannels };
}

/**
 * Window tables by geometry (a few per model), each made once, the least
 * recently used dropped past 64 tables or TABLE_CACHE_BYTES (a 3x3 'same'
 * pool over 64 x 112 x 112 pixels has a 29 MB table); a larger table is made
 * per call.
 */
const TABLE_CACHE_BYTES = 64 * 1024 * 1024;
const tableCache = new KernelCache<Int32Array>(64, { maxWeight: TABLE_CACHE_BYTES, weigh: (table) => table.byteLength });

/**
 * The windows' table of a pooling geometry: for each output pixel in order,
 * the byte offset from `x` of each of its taps' pixels, a tap in the padding
 * pointing at the window's first pixel inside the input. Made once per
 * geometry and copied in on every call: building it in JavaScript took as
 * long as the pooling kernel itself (the CNN bench's profile: 5.9% of a step).
 */
function windowTable(g: ConvGeometry): Int32Array {
  const key = [g.batch, g.inHeight, g.inWidth, g.inChannels, g.kernelHeight, g.kernelWidth, g.outHeight, g.outWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft].join(",");
  return tableCache.get(key, () => buildWindowTable(g));
}

function buildWindowTable(g: ConvGeometry): Int32Array {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
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
  return table;
}

/** `x` and the windows' table in the shared memory, and where the pooling's regions are (bytes). */
interface StagedPool {
  readonly heap: ArrayBufferLike;
  readonly kernel: MaxPoolKernel;
  readonly pixels: number;
  readonly taps: number;
  readonly outAt: number;
  readonly whereAt: number;
  readonly tableAt: number;
  /** The end of the pooling's regions, where the `extra` room starts. */
  readonly end: number;
}

/**
 * Places `x` and the windows' table in the shared memory (with `extra`
 * floats free after them), or undefined where the pooling cannot run (see
 * `wasmMaxPool`). Layout (bytes, 16-byte aligned): x, the maxima, their
 * offsets, the table, then the extra room.
 */
function stagePool(g: ConvGeometry, x: Float32Array, extra: number): StagedPool | undefined {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  if (C % 4 !== 0 || C === 0) return undefined;
  const kernel = compiledKernel();
  if (kernel === null) return undefined;
  const pixels = g.batch * OH * OW;
  const taps = KH * KW;
  const xSize = g.batch * H * W * C;
  const outAt = xSize * FLOAT;
  const whereAt = outAt + pixels * C * FLOAT;
  const tableAt = whereAt + pixels * C * FLOAT;
  const end = tableAt + Math.ceil((pixels * taps) / 4) * 4 * FLOAT;
  const heap = sharedHeap(end + extra * FLOAT);
  if (heap === undefined) return undefined;
  if (pixels > 0) {
    new Float32Array(heap, 0, xSize).set(x.subarray(0, xSize));
    new Int32Array(heap, tableAt, pixels * taps).set(windowTable(g));
  }
  return { heap, kernel, pixels, taps, outAt, whereAt, tableAt, end };
}
