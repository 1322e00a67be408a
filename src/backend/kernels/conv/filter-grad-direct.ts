/**
 * The filter gradient of a float32 convolution with few input channels, as
 * the direct sum in WebAssembly SIMD: `dw[kh, kw, c, o] = sum_{n, oh, ow}
 * x[n, oh - padTop + kh, ow - padLeft + kw, c] * dy[n, oh, ow, o]`, four
 * output channels a vector. For each group of four output channels and each
 * input channel, the KH x KW taps' sums stay in registers (one f32x4 each)
 * while the output pixels go by in order: per pixel one load of `dy` and,
 * per tap, one splat of `x`, a multiply and an add.
 *
 * Why not Winograd's F(3 x 3, 4 x 4) here: with one input channel its
 * products pad the channels to four, so it does the direct sum's multiplies
 * and its transforms besides (the CNN bench's first convolution, 64 x 28 x 28,
 * 1 to 32 channels, spent more time on its filter gradient than on its
 * forward). The sums run in a fixed order (pixels in order, per tap and
 * pair of channels), the same order as a one-row-at-a-time matmul's.
 *
 * `dy` goes into the WebAssembly memory a block of output rows at a time
 * (BLOCK_BYTES), and each block is summed for every group of output
 * channels while it is in the cache, the sums going on from what the last
 * block left in `dw`: the bits of one pass over all pixels. A `dy` that is a
 * compiled program's buffer in the kernels' memory (`wasm/kernel-memory.ts`),
 * in the staged layout, is read where it is, in the same blocks. It runs on
 * the calling thread at every thread count (see BLOCK_BYTES).
 *
 * Left out: strides and dilations other than 1, groups, float64, an
 * epilogue (the callers' plain case only).
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { arenaAddress } from "../../wasm/kernel-memory.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { instantiateKernel } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";
import { KernelCache } from "./kernel-cache.js";
import { regions } from "./winograd-wasm.js";

const FLOAT = 4;
const VECTOR = 16;

/** The sizes one kernel is built for (validated integers from the geometry). */
interface Plan {
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly channels: number;
  /** Output channels rounded up to 4. */
  readonly o4: number;
  readonly outWidth: number;
  /** Columns of the staged (padded) input. */
  readonly cols: number;
}

/**
 * `filterGrad(x, dy, dw, vectors, rows)`: for `vectors` groups of four output
 * channels from the first at `dy` and `dw` (byte addresses of the group's
 * first channel), and every input channel, adds the taps' sums over `rows`
 * output rows of one image (`x` at the staged input's row of the first, `dy`
 * at its output gradient) to `dw` (`[KH][KW][C][o4]`): the sums start from
 * what `dw` holds, so a call per block of rows continues each sum in pixel
 * order, the bits of one pass over all pixels. A block's `dy` (rows x OW x
 * o4 floats) is read once per group and input channel: sized to stay in the
 * cache (BLOCK_BYTES), it comes from memory once.
 */
function filterGradBody(plan: Plan): FunctionBody {
  const { kernelHeight: KH, kernelWidth: KW, channels: C, o4, outWidth: OW, cols } = plan;
  const f = new FunctionBody(5);
  const [x, dy, dw, vectors, rows] = [0, 1, 2, 3, 4];
  const channel = f.local(ValType.i32); // byte offset of the input channel
  const xAt = f.local(ValType.i32);
  const dwAt = f.local(ValType.i32);
  const dyAt = f.local(ValType.i32);
  const oh = f.local(ValType.i32);
  const ow = f.local(ValType.i32);
  const d = f.local(ValType.v128);
  const taps = KH * KW;
  const acc = Array.from({ length: taps }, () => f.local(ValType.v128));
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  const addTo = (local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);
  const pixelBytes = C * FLOAT;
  const tapBytes = (t: number): number[] => FunctionBody.memarg(ALIGN_16, t * C * o4 * FLOAT);
  f.loop(); // over groups of 4 output channels
  f.i32(0).set(channel).get(dw).set(dwAt);
  f.loop(); // over input channels
  acc.forEach((a, t) => void f.get(dwAt).simd(SimdOp.v128_load, tapBytes(t)).set(a));
  f.get(x).get(channel).op(Op.i32_add).set(xAt);
  f.get(dy).set(dyAt);
  f.get(rows).set(oh);
  f.loop(); // over output rows
  f.i32(OW).set(ow);
  f.loop(); // over output pixels of the row
  f.get(dyAt).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16, 0)).set(d);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const a = acc[kh * KW + kw] ?? 0;
      // acc += x[tap] * dy, the tap's input value in every lane
      f.get(a).get(xAt).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, (kh * cols + kw) * pixelBytes));
      f.get(d).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(a);
    }
  }
  addTo(xAt, pixelBytes);
  addTo(dyAt, o4 * FLOAT);
  countDown(ow);
  f.end();
  addTo(xAt, (cols - OW) * pixelBytes); // to the next row of the staged input
  countDown(oh);
  f.end();
  acc.forEach((a, t) => void f.get(dwAt).get(a).simd(SimdOp.v128_store, tapBytes(t)));
  addTo(channel, FLOAT);
  addTo(dwAt, o4 * FLOAT);
  f.get(channel).i32(pixelBytes).op(Op.i32_ne).brIf(0);
  f.end();
  addTo(dy, VECTOR);
  addTo(dw, VECTOR);
  countDown(vectors);
  f.end();
  return f;
}

/** Compiled kernels by plan (see `kernel-cache.ts`). */
const kernelCache = new KernelCache<FilterGradKernel | null>(128);

/** `filterGrad(x, dy, dw, vectors, rows)` (see `filterGradBody`). */
type FilterGradKernel = (x: number, dy: number, dw: number, vectors: number, rows: number) => void;

/** The kernel of `plan`, instantiated for the calling thread (it runs there alone, see BLOCK_BYTES). */
function kernelOf(plan: Plan): FilterGradKernel | null {
  return kernelCache.get(Object.values(plan).join(","), () => instantiateKernel(filterGradBody(plan), 5) as FilterGradKernel | null); // NOTE: sound: built with 5 i32 parameters and no result
}

/**
 * True where a float32 filter gradient takes `conv2dFilterGradDirect`:
 * stride and dilation 1, one group, at most MAX_CHANNELS input channels.
 */
export function usesDirectFilterGrad(g: ConvGeometry): boolean {
  const unit = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  return unit && g.groups === 1 && g.inChannels <= MAX_CHANNELS && g.kernelHeight * g.kernelWidth <= MAX_TAPS;
}

/**
 * The most input channels the direct filter gradient takes. Measured against
 * the Winograd filter gradient, CPU time, medians of 20, batch 64, 28 x 28,
 * 3 x 3 'same', 32 output channels, loaded 2-core Xeon: 1 input channel 0.81
 * of its time (3.57 against 4.41 ms; the largest error 9.1e-6 of the
 * largest |dw| against Winograd's 1.1e-4); 2 channels 1.19; 3, 1.79; 4, 2.30.
 */
const MAX_CHANNELS = 1;
/** The most taps: one f32x4 register each, beside `dy`'s and the splat's (16 registers). */
const MAX_TAPS = 9;

/**
 * About how many bytes of `dy` a block of output rows holds (see
 * `filterGradBody`). On one thread, measured on the CNN bench's first
 * convolution (batch 64, 28 x 28, 1 to 32 channels: a row is 3.5 KiB, an
 * image 98 KiB): 32 KiB, 128 KiB and 512 KiB all took 0.60 of the time of
 * one pass per group of 4 output channels over the whole `dy`
 * (bench/results/cnnbwd.md). The blocks run on the calling thread at any
 * thread count: on the pool (each group of 4 output channels a task, blocks
 * of 1 MiB) that convolution took 1.43 times the wall time and 1.38 times
 * the CPU time of one thread (bench/results/cnnbwd.md, a loaded machine;
 * 3.70 against 2.07 ms in the final A/B), and the bits are the same either
 * way. With a `dy` read in place, runs of 16 output channels as pool tasks
 * (each a cache line of every pixel of `dy`) took 0.973 and 0.993 of the
 * CNN step at two threads (quiet, 2026-12-08): no gain worth a second path.
 */
const BLOCK_BYTES = 128 * 1024;

/** A block: output rows `r0 .. r0 + rows` of each of `images` images from image `n` (several images only with all their rows). */
interface Block {
  readonly n: number;
  readonly images: number;
  readonly r0: number;
  readonly rows: number;
}

/** The blocks of `N` images of `OH` rows of `rowBytes`, in order: whole images while one fits in `budget` bytes, else runs of rows. */
function blocksOf(N: number, OH: number, rowBytes: number, budget: number): Block[] {
  const blocks: Block[] = [];
  const perImage = Math.floor(budget / (OH * rowBytes));
  if (perImage >= 1) {
    for (let n = 0; n < N; n += perImage) blocks.push({ n, images: Math.min(perImage, N - n), r0: 0, rows: OH });
    return blocks;
  }
  const per = Math.max(1, Math.floor(budget / rowBytes));
  for (let n = 0; n < N; n++) for (let r0 = 0; r0 < OH; r0 += per) blocks.push({ n, images: 1, r0, rows: Math.min(per, OH - r0) });
  return blocks;
}

/**
 * Copies `x` (`[N, H, W, C]`) to float `at` of the shared memory as
 * `[N][rows][cols][C]`, pixel (h, w) at (h + top, w + left), zeros around
 * it (`rows` and `cols` hold the padded image: stride 1). One float at a
 * time: with C at most MAX_CHANNELS a row is a few dozen floats, where a
 * `set` per row (a view each) costs more: the whole filter gradient of the
 * CNN bench's first convolution (64 x 28 x 28 x 1 to 32) took 0.91 of its
 * time with this against `stageImage` (interleaved, medians of 75 calls).
 */
function stageInput(floats: Float32Array, at: number, x: Float32Array, g: ConvGeometry, rows: number, cols: number): void {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, padTop: top, padLeft: left } = g;
  floats.fill(0, at, at + N * rows * cols * C);
  const h0 = Math.max(0, -top), h1 = Math.min(H, rows - top);
  const w0 = Math.max(0, -left), w1 = Math.min(W, cols - left);
  for (let n = 0; n < N; n++) {
    for (let h = h0; h < h1; h++) {
      const from = ((n * H + h) * W + w0) * C;
      const to = at + ((n * rows + h + top) * cols + w0 + left) * C;
      for (let i = 0; i < (w1 - w0) * C; i++) floats[to + i] = x[from + i] ?? 0;
    }
  }
}

/**
 * Copies rows `r0 .. r0 + rows` of image `n` of `dy` (`[N, OH, OW, O]`) to
 * float `at` of the shared memory as `[rows][OW][o4]`, the channels past `O` zero.
 */
function stageRows(floats: Float32Array, at: number, dy: Float32Array, g: ConvGeometry, o4: number, n: number, r0: number, rows: number): void {
  const { outHeight: OH, outWidth: OW, outChannels: O } = g;
  const from = (n * OH + r0) * OW * O;
  if (o4 === O) {
    floats.set(dy.subarray(from, from + rows * OW * O), at);
    return;
  }
  floats.fill(0, at, at + rows * OW * o4);
  // NOTE: one float at a time: a `set` per pixel of a few channels costs far more (a view each)
  for (let p = 0; p < rows * OW; p++) for (let o = 0; o < O; o++) floats[at + p * o4 + o] = dy[from + p * O + o] ?? 0;
}

/**
 * The filter gradient `dw` (`[KH, KW, C, O]`) of a float32 convolution
 * `usesDirectFilterGrad` accepts, from `x` (`[N, H, W, C]`) and `dy`
 * (`[N, OH, OW, O]`), by the direct sum in WebAssembly (see the file's
 * header): `dy` goes into the kernels' memory a block at a time, each block
 * summed while it is in the cache (or, a compiled program's buffer that
 * lives there, is read where it is, in the same blocks), on the calling
 * thread at any thread count (see BLOCK_BYTES). Returns false, having written nothing, where WebAssembly SIMD or the
 * memory is missing.
 */
export function conv2dFilterGradDirect(dw: Float32Array, x: Float32Array, dy: Float32Array, g: ConvGeometry): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const o4 = Math.ceil(O / 4) * 4;
  // stride and dilation 1: the staged input holds every window, padding written out
  const [rows, cols] = [OH + KH - 1, OW + KW - 1];
  const kernel = kernelOf({ kernelHeight: KH, kernelWidth: KW, channels: C, o4, outWidth: OW, cols });
  if (kernel === null) return false;
  const vectors = o4 / 4;
  const rowBytes = OW * o4 * FLOAT;
  const blocks = blocksOf(N, OH, rowBytes, BLOCK_BYTES);
  const largest = blocks.reduce((most, b) => Math.max(most, b.images * b.rows), 0);
  // dy read where it is when it is a compiled program's buffer in the kernels' memory of the staged layout (the same blocks, the same sums)
  const dyIn = o4 === O ? arenaAddress(dy) : undefined;
  const at = regions({ x: N * rows * cols * C, dy: dyIn === undefined ? largest * OW * o4 : 0, dw: KH * KW * C * o4 });
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  stageInput(floats, at.x / FLOAT, x, g, rows, cols);
  const dwAt = at.dw / FLOAT;
  floats.fill(0, dwAt, dwAt + KH * KW * C * o4);
  for (const b of blocks) {
    // the block's rows of dy, images one after another: stageRows copies `images * rows` rows from its first
    const dyAt = dyIn === undefined ? at.dy : dyIn + (b.n * OH + b.r0) * rowBytes;
    if (dyIn === undefined) stageRows(floats, at.dy / FLOAT, dy, g, o4, b.n, b.r0, b.images * b.rows);
    for (let i = 0; i < b.images; i++) kernel(at.x + ((b.n + i) * rows + b.r0) * cols * C * FLOAT, dyAt + i * OH * rowBytes, at.dw, vectors, b.rows);
  }
  for (let tc = 0; tc < KH * KW * C; tc++) dw.set(floats.subarray(dwAt + tc * o4, dwAt + tc * o4 + O), tc * O);
  return true;
}
