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
 * pair of channels), the same order as a one-row-at-a-time matmul's; with
 * more than one thread the groups of output channels are tasks of the
 * worker pool, each group's sums its own, so the bits do not depend on the
 * thread count.
 *
 * Left out: strides and dilations other than 1, groups, float64, an
 * epilogue (the callers' plain case only).
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { getThreads, runTasks, type PoolKernel, type TaskCall } from "../../threads/pool.js";
import { compileKernel } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";
import { regions, stageImage } from "./winograd-wasm.js";

const FLOAT = 4;
const VECTOR = 16;

/** The sizes one kernel is built for (validated integers from the geometry). */
interface Plan {
  readonly batch: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly channels: number;
  /** Output channels rounded up to 4. */
  readonly o4: number;
  readonly outHeight: number;
  readonly outWidth: number;
  /** Rows and columns of the staged (padded) input. */
  readonly rows: number;
  readonly cols: number;
}

/**
 * `filterGrad(x, dy, dw, vectors)`: for `vectors` groups of four output
 * channels from the first at `dy` and `dw` (byte addresses of the group's
 * first channel), and every input channel, the taps' sums over all output
 * pixels, to `dw` as `[KH][KW][C][o4]`.
 */
function filterGradBody(plan: Plan): FunctionBody {
  const { batch, kernelHeight: KH, kernelWidth: KW, channels: C, o4, outHeight: OH, outWidth: OW, rows, cols } = plan;
  const f = new FunctionBody(4);
  const [x, dy, dw, vectors] = [0, 1, 2, 3];
  const channel = f.local(ValType.i32); // byte offset of the input channel
  const xAt = f.local(ValType.i32);
  const dwAt = f.local(ValType.i32);
  const dyAt = f.local(ValType.i32);
  const n = f.local(ValType.i32);
  const oh = f.local(ValType.i32);
  const ow = f.local(ValType.i32);
  const d = f.local(ValType.v128);
  const taps = KH * KW;
  const acc = Array.from({ length: taps }, () => f.local(ValType.v128));
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  const addTo = (local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);
  const pixelBytes = C * FLOAT;
  f.loop(); // over groups of 4 output channels
  f.i32(0).set(channel).get(dw).set(dwAt);
  f.loop(); // over input channels
  for (const a of acc) f.zeros().set(a);
  f.get(x).get(channel).op(Op.i32_add).set(xAt);
  f.get(dy).set(dyAt);
  f.i32(batch).set(n);
  f.loop(); // over images
  f.i32(OH).set(oh);
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
  addTo(xAt, (rows - OH) * cols * pixelBytes); // to the next image
  countDown(n);
  f.end();
  for (let t = 0; t < taps; t++) f.get(dwAt).get(acc[t] ?? 0).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16, t * C * o4 * FLOAT));
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

/** Compiled kernels by plan; emptied when it grows past KERNEL_CACHE_SIZE. */
const kernelCache = new Map<string, PoolKernel | null>();
const KERNEL_CACHE_SIZE = 32;

function kernelOf(plan: Plan): PoolKernel | null {
  const key = Object.values(plan).join(",");
  const known = kernelCache.get(key);
  if (known !== undefined || kernelCache.has(key)) return known ?? null;
  if (kernelCache.size >= KERNEL_CACHE_SIZE) kernelCache.clear();
  const kernel = compileKernel(filterGradBody(plan), 4);
  kernelCache.set(key, kernel);
  return kernel;
}

/**
 * The fewest multiply-adds (pixels x taps x C x o4) for which the groups of
 * output channels become tasks of the worker pool: the threshold of the
 * WebAssembly matmul and of the Winograd kernels, work of the same kind.
 */
const PARALLEL_MIN = 2 ** 21;

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
 * The filter gradient `dw` (`[KH, KW, C, O]`) of a float32 convolution
 * `usesDirectFilterGrad` accepts, from `x` (`[N, H, W, C]`) and `dy`
 * (`[N, OH, OW, O]`), by the direct sum in WebAssembly (see the file's
 * header). Returns false, having written nothing, where WebAssembly SIMD or
 * the memory is missing.
 */
export function conv2dFilterGradDirect(dw: Float32Array, x: Float32Array, dy: Float32Array, g: ConvGeometry): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const o4 = Math.ceil(O / 4) * 4;
  // stride and dilation 1: the staged input holds every window, padding written out
  const plan: Plan = { batch: N, kernelHeight: KH, kernelWidth: KW, channels: C, o4, outHeight: OH, outWidth: OW, rows: OH + KH - 1, cols: OW + KW - 1 };
  const kernel = kernelOf(plan);
  if (kernel === null) return false;
  const at = regions({ x: N * plan.rows * plan.cols * C, dy: N * OH * OW * o4, dw: KH * KW * C * o4 });
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  stageImage(floats, at.x / FLOAT, x, { N, H, W, C }, plan.rows, plan.cols, C, g.padTop, g.padLeft);
  stageImage(floats, at.dy / FLOAT, dy, { N, H: OH, W: OW, C: O }, OH, OW, o4, 0, 0);
  const vectors = o4 / 4;
  const parts = getThreads() > 1 && N * OH * OW * KH * KW * C * o4 >= PARALLEL_MIN ? vectors : 1;
  const per = Math.ceil(vectors / parts);
  const tasks: TaskCall[][] = [];
  for (let q = 0; q < vectors; q += per) tasks.push([{ kernel, args: [at.x, at.dy + q * VECTOR, at.dw + q * VECTOR, Math.min(per, vectors - q)] }]);
  runTasks(tasks);
  const dwAt = at.dw / FLOAT;
  for (let tc = 0; tc < KH * KW * C; tc++) dw.set(floats.subarray(dwAt + tc * o4, dwAt + tc * o4 + O), tc * O);
  return true;
}
