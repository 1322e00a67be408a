/**
 * Float32 max pooling and its gradient in WebAssembly SIMD for windows that
 * lie inside the input (no padding reached: the usual 2 x 2 of stride 2 on
 * an even size, any "valid" pooling), a block of rows at a time.
 *
 * Inside the input a window's taps sit at fixed offsets from its first
 * pixel, so the kernels are built per geometry with those offsets as
 * constants of their loads: no window table (`wasm-pool.ts`'s is 4 bytes a
 * tap of every output pixel, copied in on every call). And the input goes
 * into the WebAssembly memory a block at a time (whole images, or rows of
 * one, about BLOCK_BYTES), pooled while it is in the cache and its results
 * copied out, where copying it all in, pooling, and copying all out made
 * each byte pass through the cache three times.
 *
 * The rules are `wasm-pool.ts`'s, lane by lane and in the same tap order
 * (rows of the window, then columns): a value replaces the maximum when it
 * is greater, or when it is the window's first NaN, so the first maximum
 * wins on ties (-0 and +0 included); the gradient, for windows that do not
 * overlap, writes each window's `dx` whole: `0 + dy` at its maximum, 0 at its
 * other taps (elements under no window are cleared first). The same bits as
 * `wasm-pool.ts` and the JavaScript loops. Nothing from the data or a caller
 * goes into the modules: they are built from fixed opcodes and the
 * geometry's validated integers.
 *
 * A compiled program's buffers that live in the kernels' memory
 * (`wasm/kernel-memory.ts`) are pooled where they are, with no copies, as
 * worker-pool tasks of whole images (`runInPlace`). Other buffers are pooled on the calling
 * thread (as `wasm-pool.ts` does: the copies are most of a call). Left out:
 * padding, channels that are not a multiple of 4 (`wasm-pool.ts` and the
 * JavaScript loops take them).
 */

import { ALIGN_16, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { arenaAddress } from "../../wasm/kernel-memory.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { MAX_TASKS, runTasks, type PoolKernel as PoolTaskKernel, type TaskCall } from "../../threads/pool.js";
import { compileKernel } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";
import { KernelCache } from "./kernel-cache.js";

const FLOAT = 4;
const VECTOR = 16;

/**
 * About how many bytes of input a block holds: small enough to stay in a
 * core's L2 cache from its copy in to its copy out. Not tuned for pooling
 * (the size the one-channel filter gradient measured flat from 32 to
 * 512 KiB, bench/results/cnnbwd.md).
 */
const BLOCK_BYTES = 128 * 1024;

/**
 * About how many bytes of input one pool task of an in-place pooling takes
 * (whole images). Not tuned: the CNN's poolings (64 images of 98 KiB and of
 * 49 KiB) make 32 and 16 tasks, a few microseconds of the pool's each.
 */
const IN_PLACE_TASK_BYTES = 256 * 1024;

/** The integers a kernel is built for (validated sizes of the geometry). */
interface Shape {
  readonly windowHeight: number;
  readonly windowWidth: number;
  readonly channels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
}

/** `v128.const` of four float32 lanes, all `v`. */
function f32x4(f: FunctionBody, v: number): void {
  const lane = [...new Uint8Array(Float32Array.of(v).buffer)];
  f.simd(SimdOp.v128_const, lane, lane, lane, lane);
}

/**
 * The body of `pool(x, y, images, rows)`, or with `grad` of `poolGrad(x, dy,
 * images, rows, toDx)`: for `images` images from `x` (each `inHeight` rows
 * apart), for `rows` output rows of each from the image's first, every
 * output pixel and group of 4 channels: the window's maximum to `y` (in
 * order); or, with `grad`, `0 + dy` (read in order) to `dx` at the
 * maximum's tap and 0 at the others, `dx` at `toDx` bytes from `x`.
 */
function poolBody(s: Shape, grad: boolean): FunctionBody {
  const { windowHeight: KH, windowWidth: KW, channels: C, inHeight: H, inWidth: W, outWidth: OW, strideHeight: sh, strideWidth: sw } = s;
  const f = new FunctionBody(grad ? 5 : 4);
  const [x, y, images, rows, toDx] = [0, 1, 2, 3, 4];
  const row = f.local(ValType.i32);
  const col = f.local(ValType.i32);
  const group = f.local(ValType.i32);
  const xRow = f.local(ValType.i32);
  const xAt = f.local(ValType.i32);
  const dxAt = f.local(ValType.i32);
  const best = f.local(ValType.v128);
  const value = f.local(ValType.v128);
  const mask = f.local(ValType.v128);
  const which = f.local(ValType.v128); // each lane's maximum's tap number, as a float
  const gradient = f.local(ValType.v128);
  const taps: number[] = [];
  for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) taps.push((kh * W + kw) * C * FLOAT);
  const at = (offset: number): number[] => FunctionBody.memarg(ALIGN_16, offset);
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  const addTo = (local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);
  f.loop(); // over images
  f.get(x).set(xRow).get(rows).set(row);
  f.loop(); // over output rows
  f.get(xRow).set(xAt).i32(OW).set(col);
  f.loop(); // over output pixels of the row
  f.i32(C / 4).set(group);
  f.loop(); // over groups of 4 channels
  f.get(xAt).simd(SimdOp.v128_load, at(taps[0] ?? 0)).set(best);
  if (grad) f.zeros().set(which);
  taps.forEach((offset, t) => {
    if (t === 0) return;
    f.get(xAt).simd(SimdOp.v128_load, at(offset)).set(value);
    // value > best, or value is NaN and best is not: the first NaN wins, and stays.
    f.get(value).get(best).simd(SimdOp.f32x4_gt);
    f.get(value).get(value).simd(SimdOp.f32x4_ne).get(best).get(best).simd(SimdOp.f32x4_eq).simd(SimdOp.v128_and);
    f.simd(SimdOp.v128_or).set(mask);
    f.get(value).get(best).get(mask).simd(SimdOp.v128_bitselect).set(best);
    if (grad) {
      f32x4(f, t);
      f.get(which).get(mask).simd(SimdOp.v128_bitselect).set(which);
    }
  });
  if (grad) {
    // 0 + dy, the scatter's sum into a cleared dx (-0 becomes +0)
    f.zeros().get(y).simd(SimdOp.v128_load, at(0)).simd(SimdOp.f32x4_add).set(gradient);
    f.get(xAt).get(toDx).op(Op.i32_add).set(dxAt);
    taps.forEach((offset, t) => {
      f.get(dxAt);
      f.get(gradient).zeros().get(which);
      f32x4(f, t);
      f.simd(SimdOp.f32x4_eq).simd(SimdOp.v128_bitselect);
      f.simd(SimdOp.v128_store, at(offset));
    });
  } else {
    f.get(y).get(best).simd(SimdOp.v128_store, at(0));
  }
  addTo(y, VECTOR);
  addTo(xAt, VECTOR);
  countDown(group);
  f.end();
  addTo(xAt, (sw - 1) * C * FLOAT); // the groups moved it one pixel on: to the next window's first pixel
  countDown(col);
  f.end();
  addTo(xRow, sh * W * C * FLOAT);
  countDown(row);
  f.end();
  addTo(x, H * W * C * FLOAT);
  countDown(images);
  f.end();
  return f;
}

type PoolKernel = (x: number, y: number, images: number, rows: number) => void;
type PoolGradKernel = (x: number, dy: number, images: number, rows: number, toDx: number) => void;

/**
 * Compiled kernels by shape and kind (a few per model), each registered
 * with the worker pool (`compileKernel`): its `local` pools a block on the
 * calling thread, and pool tasks run it on a compiled program's buffers
 * where they are. The least recently used goes when it is full
 * (`kernel-cache.ts`): a process that meets ever new shapes registers new
 * kernels until the pool's `MAX_MODULES`, past which they run on the
 * calling thread alone.
 */
const kernelCache = new KernelCache<PoolTaskKernel | null>(128);

function kernelOf(s: Shape, grad: boolean): PoolTaskKernel | null {
  return kernelCache.get([...Object.values(s), grad].join(","), () => compileKernel(poolBody(s, grad), grad ? 5 : 4));
}

/**
 * Runs `kernel` in place over `batch` images as pool tasks of whole images,
 * about IN_PLACE_TASK_BYTES of input each (fixed by the shapes: every
 * element is computed by the same instructions whoever runs it, so the bits
 * are the same for any thread count); `args(n0, images)` gives a task's
 * arguments.
 */
function runInPlace(kernel: PoolTaskKernel, g: ConvGeometry, args: (n0: number, images: number) => number[]): void {
  const imageBytes = g.inHeight * g.inWidth * g.inChannels * FLOAT;
  const per = Math.max(1, Math.floor(IN_PLACE_TASK_BYTES / imageBytes), Math.ceil(g.batch / MAX_TASKS));
  const tasks: TaskCall[][] = [];
  for (let n0 = 0; n0 < g.batch; n0 += per) tasks.push([{ kernel, args: args(n0, Math.min(per, g.batch - n0)) }]);
  runTasks(tasks);
}

/** True where every window lies inside the input (no padding reached) and the channels go in fours. */
function windowsInside(g: ConvGeometry): boolean {
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  const inside = g.padTop === 0 && g.padLeft === 0 && (OH - 1) * g.strideHeight + KH <= H && (OW - 1) * g.strideWidth + KW <= W;
  return inside && C > 0 && C % 4 === 0 && g.batch * OH * OW > 0;
}

/** One block: `images` images from `n`, or output rows `oh .. oh + rows` of image `n`; its input rows `from .. to` of each image. */
interface Block {
  readonly n: number;
  readonly images: number;
  readonly oh: number;
  readonly rows: number;
  readonly from: number;
  readonly to: number;
}

/**
 * The blocks of a pooling, in order: whole images while one is at most
 * BLOCK_BYTES, else runs of output rows. A block's input rows are those its
 * windows read (`grad`: up to the next block's first, or the image's last
 * row, so that the blocks' rows of `dx` tile the image).
 */
function blocksOf(g: ConvGeometry, grad: boolean): Block[] {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, outHeight: OH, strideHeight: sh } = g;
  const rowBytes = W * C * FLOAT;
  const blocks: Block[] = [];
  if (H * rowBytes <= BLOCK_BYTES) {
    const per = Math.floor(BLOCK_BYTES / (H * rowBytes));
    for (let n = 0; n < N; n += per) blocks.push({ n, images: Math.min(per, N - n), oh: 0, rows: OH, from: 0, to: H });
    return blocks;
  }
  const per = Math.max(1, Math.floor(BLOCK_BYTES / (sh * rowBytes)));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh += per) {
      const rows = Math.min(per, OH - oh);
      const last = oh + rows === OH;
      const to = last ? H : grad ? (oh + rows) * sh : (oh + rows - 1) * sh + KH;
      blocks.push({ n, images: 1, oh, rows, from: oh * sh, to });
    }
  }
  return blocks;
}

const shapeOf = (g: ConvGeometry): Shape => ({
  windowHeight: g.kernelHeight,
  windowWidth: g.kernelWidth,
  channels: g.inChannels,
  inHeight: g.inHeight,
  inWidth: g.inWidth,
  outWidth: g.outWidth,
  strideHeight: g.strideHeight,
  strideWidth: g.strideWidth,
});

/** The input and output elements of a block (`images` whole images, or its rows of one). */
function blockSizes(g: ConvGeometry, b: Block): { inputs: number; outputs: number } {
  const pixel = g.inChannels;
  return { inputs: b.images * (b.to - b.from) * g.inWidth * pixel, outputs: b.images * b.rows * g.outWidth * pixel };
}

/** Regions of the shared memory for the largest block: input, outputs (or `dy`), and with `grad` `dx`, in bytes. */
function layoutOf(g: ConvGeometry, blocks: readonly Block[], grad: boolean): { xAt: number; yAt: number; dxAt: number; end: number } {
  let [inputs, outputs] = [0, 0];
  for (const b of blocks) {
    const size = blockSizes(g, b);
    inputs = Math.max(inputs, size.inputs);
    outputs = Math.max(outputs, size.outputs);
  }
  const yAt = inputs * FLOAT;
  const dxAt = yAt + outputs * FLOAT;
  return { xAt: 0, yAt, dxAt, end: grad ? dxAt + inputs * FLOAT : dxAt };
}

/**
 * Max pooling of float32 NHWC `x` to `out` where every window lies inside
 * the input, a block at a time. Returns false, having written nothing, where
 * it does not apply (padding, channels not in fours, no output) or
 * WebAssembly SIMD or the memory is missing.
 */
export function blockMaxPool(g: ConvGeometry, x: Float32Array, out: Float32Array): boolean {
  if (!windowsInside(g)) return false;
  // a compiled program's buffers in the kernels' memory: pooled where they are, as pool tasks of whole images
  const [xIn, outIn] = [arenaAddress(x), arenaAddress(out)];
  const inPlace = xIn !== undefined && outIn !== undefined ? kernelOf(shapeOf(g), false) : null;
  if (inPlace !== null && xIn !== undefined && outIn !== undefined) {
    const [inImage, outImage] = [g.inHeight * g.inWidth * g.inChannels * FLOAT, g.outHeight * g.outWidth * g.inChannels * FLOAT];
    runInPlace(inPlace, g, (n0, images) => [xIn + n0 * inImage, outIn + n0 * outImage, images, g.outHeight]);
    return true;
  }
  const kernel = kernelOf(shapeOf(g), false)?.local as PoolKernel | undefined; // NOTE: sound: built with 4 i32 parameters and no result
  if (kernel === undefined) return false;
  const blocks = blocksOf(g, false);
  const { xAt, yAt, end } = layoutOf(g, blocks, false);
  const heap = sharedHeap(end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  for (const b of blocks) {
    const { inputs, outputs } = blockSizes(g, b);
    const xFrom = (b.n * H + b.from) * W * C;
    floats.set(x.subarray(xFrom, xFrom + inputs), xAt / FLOAT);
    kernel(xAt, yAt, b.images, b.rows);
    out.set(floats.subarray(yAt / FLOAT, yAt / FLOAT + outputs), (b.n * OH + b.oh) * OW * C);
  }
  return true;
}

/**
 * The gradient of max pooling (`dx` from `x` and `dy`) where every window
 * lies inside the input and no two overlap (strides at least the window), a
 * block at a time. Returns false, having written nothing, where it does not
 * apply or cannot run (as `blockMaxPool`).
 */
export function blockMaxPoolBackward(g: ConvGeometry, x: Float32Array, dy: Float32Array, dx: Float32Array): boolean {
  if (!windowsInside(g) || g.strideHeight < g.kernelHeight || g.strideWidth < g.kernelWidth) return false;
  const { inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW } = g;
  // elements under no window (rows or columns past the last window, or between windows) get no write: cleared first
  const covered = g.strideHeight === KH && g.strideWidth === KW && OH * KH === H && OW * KW === W;
  // a compiled program's buffers in the kernels' memory: the gradient where they are, as pool tasks of whole images
  const [xIn, dyIn, dxIn] = [arenaAddress(x), arenaAddress(dy), arenaAddress(dx)];
  const inPlace = xIn !== undefined && dyIn !== undefined && dxIn !== undefined ? kernelOf(shapeOf(g), true) : null;
  if (inPlace !== null && xIn !== undefined && dyIn !== undefined && dxIn !== undefined) {
    if (!covered) dx.fill(0);
    const [inImage, outImage] = [H * W * C * FLOAT, OH * OW * C * FLOAT];
    // dx's distance from x: the kernel adds it to x's addresses (modulo 2^32)
    runInPlace(inPlace, g, (n0, images) => [xIn + n0 * inImage, dyIn + n0 * outImage, images, OH, dxIn - xIn]);
    return true;
  }
  const kernel = kernelOf(shapeOf(g), true)?.local as PoolGradKernel | undefined; // NOTE: sound: built with 5 i32 parameters and no result
  if (kernel === undefined) return false;
  const blocks = blocksOf(g, true);
  const { xAt, yAt, dxAt, end } = layoutOf(g, blocks, true);
  const heap = sharedHeap(end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  for (const b of blocks) {
    const { inputs, outputs } = blockSizes(g, b);
    const xFrom = (b.n * H + b.from) * W * C;
    const yFrom = (b.n * OH + b.oh) * OW * C;
    floats.set(x.subarray(xFrom, xFrom + inputs), xAt / FLOAT);
    floats.set(dy.subarray(yFrom, yFrom + outputs), yAt / FLOAT);
    if (!covered) floats.fill(0, dxAt / FLOAT, dxAt / FLOAT + inputs);
    kernel(xAt, yAt, b.images, b.rows, dxAt - xAt);
    dx.set(floats.subarray(dxAt / FLOAT, dxAt / FLOAT + inputs), xFrom);
  }
  return true;
}
