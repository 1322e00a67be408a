/**
 * The forward convolution of float32 arrays with a shallow window (few
 * taps times input channels, such as a network's first layer over one or
 * three channels), as the direct sum in WebAssembly SIMD: `out[n, oh, ow,
 * o] = act(bias[o] + sum_{kh, kw, c} x[n, oh * sh - padTop + kh * dh, ow *
 * sw - padLeft + kw * dw, c] * w[kh, kw, c, o])`.
 *
 * Output-stationary: a register tile of PIXELS output pixels of a row by
 * eight output channels sits in eight f32x4 accumulators while the window's
 * taps go by (each tap's offset in the staged input from a table): per tap
 * two loads of the filter, and per pixel a splat of the input value, two
 * multiplies and two adds. The input is staged with its padding written
 * out, so every tap is a plain load.
 *
 * Why not Winograd's F(4 x 4, 3 x 3) for one input channel: it pads the
 * channels to four, so its products do the direct sum's multiplies, and its
 * transforms come on top (the CNN bench's first convolution, batch 64,
 * 28 x 28, 1 to 32 channels). The sum of each output runs in one fixed order
 * (taps in HWIO order, then the bias), whatever the tiling; with more than
 * one thread, runs of output rows are tasks of the worker pool, each output
 * written by one task, so the bits do not depend on the thread count.
 *
 * On one thread the rows go a chunk at a time (CHUNK_BYTES of output), each
 * copied out while it is still in the cache: 0.94 of the CPU time of one
 * pass over every row for the CNN's first convolution (`bench/conv-fwd-ab.ts`,
 * loaded machine), with the same bits.
 *
 * Left out: groups other than 1, float64, windows deeper than MAX_DEPTH
 * (deeper windows reuse each input value for more outputs, which implicit
 * GEMM's packed panels and Winograd's transforms exploit).
 */

import { ALIGN_16, ALIGN_4, FunctionBody, Op, SimdOp, ValType } from "../../wasm/encoder.js";
import { arenaAddress } from "../../wasm/kernel-memory.js";
import { sharedHeap } from "../../wasm/runtime.js";
import { getThreads, runTasks, type PoolKernel, type TaskCall } from "../../threads/pool.js";
import { compileKernel, type WasmEpilogue } from "../wasm-matmul.js";
import type { ConvGeometry } from "./geometry.js";
import { addTo, cached, countDown, regions, stageByCopy } from "./winograd-wasm.js";

/**
 * The error bound of `conv2dDirectWasm`, per term of an output's sum: a
 * worst case, not a measure. The output is `depth` products and the bias
 * added in float32 one after another (each product rounded once, each sum
 * once), so its error is at most `gamma(depth + 1) * (sum |x w| + |bias|)`
 * with `gamma(n) = n u / (1 - n u)` and `u = 2^-24` (Higham, "Accuracy and
 * Stability of Numerical Algorithms", 2002, section 3.1; relu adds none),
 * plus DIRECT_ERROR_FLOOR per term where products fall in the subnormal
 * range. `laws/conv-direct-wasm.law.test.ts` holds it.
 */
export function directErrorBound(depth: number): number {
  const nu = (depth + 1) * 2 ** -24;
  return nu / (1 - nu);
}

/** The absolute part of the bound, per term: a product rounded in the subnormal range is off by up to 2^-150, a sum not at all. */
export const DIRECT_ERROR_FLOOR = 2 ** -149;

const FLOAT = 4;
const VECTOR = 16;
/** Output pixels and output channels of the register tile. */
const PIXELS = 4;
const LANES = 8;

/** The sizes one kernel is built for (validated integers from the geometry). */
interface Plan {
  /** Taps times input channels. */
  readonly depth: number;
  /** Bytes between the input values of neighbouring output pixels: the stride times a pixel's channels. */
  readonly pixelStep: number;
  /** Output channels rounded up to LANES, output pixels of a row rounded up to PIXELS. */
  readonly o8: number;
  readonly outCols: number;
  readonly bias: boolean;
  readonly relu: boolean;
}

/**
 * `direct(table, count, w, y, bias, taps)`: for `count` output rows, the
 * byte address of each one's first input row from the i32 table `table`,
 * the row's `outCols` pixels of `o8` channels to `y` (rows consecutive),
 * from the staged filter at `w` (`[depth][o8]`, HWIO order) and, with a
 * bias, `o8` floats at `bias`; the i32 table `taps` holds each tap's byte
 * offset in the staged input from the pixel's corner.
 */
function directBody(plan: Plan): FunctionBody {
  const { depth, pixelStep, o8, outCols, relu } = plan;
  const f = new FunctionBody(6);
  const [table, count, w, y, bias, taps] = [0, 1, 2, 3, 4, 5];
  const xAt = f.local(ValType.i32);
  const groups = f.local(ValType.i32);
  const panels = f.local(ValType.i32);
  const wAt = f.local(ValType.i32);
  const biasAt = f.local(ValType.i32);
  const tapAt = f.local(ValType.i32);
  const tapsLeft = f.local(ValType.i32);
  const xTap = f.local(ValType.i32);
  const wTap = f.local(ValType.i32);
  const acc = Array.from({ length: PIXELS * 2 }, () => f.local(ValType.v128));
  const [b0, b1, av] = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];
  const accOf = (p: number, half: number): number => acc[2 * p + half] ?? 0;
  f.loop(); // over output rows
  f.get(table).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).set(xAt);
  f.i32(outCols / PIXELS).set(groups);
  f.loop(); // over groups of PIXELS output pixels
  f.get(w).set(wAt).get(bias).set(biasAt).i32(o8 / LANES).set(panels);
  f.loop(); // over panels of LANES output channels
  for (const a of acc) f.zeros().set(a);
  f.get(taps).set(tapAt).get(wAt).set(wTap).i32(depth).set(tapsLeft);
  // NOTE: a loop over the taps, not unrolled code: TurboFan hoists the loads of straight-line code ahead of the arithmetic and spills them
  f.loop(); // over taps, in HWIO order
  f.get(xAt).get(tapAt).op(Op.i32_load, FunctionBody.memarg(ALIGN_4, 0)).op(Op.i32_add).set(xTap);
  f.get(wTap).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16, 0)).set(b0);
  f.get(wTap).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16, VECTOR)).set(b1);
  for (let p = 0; p < PIXELS; p++) {
    // acc += x[pixel p under the tap] * w[tap], the input value in every lane
    f.get(xTap).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, p * pixelStep)).set(av);
    f.get(accOf(p, 0)).get(av).get(b0).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(p, 0));
    f.get(accOf(p, 1)).get(av).get(b1).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(p, 1));
  }
  addTo(f, tapAt, 4);
  addTo(f, wTap, o8 * FLOAT);
  countDown(f, tapsLeft);
  f.end();
  for (let p = 0; p < PIXELS; p++) {
    for (const half of [0, 1]) {
      const a = accOf(p, half);
      if (plan.bias) f.get(a).get(biasAt).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16, half * VECTOR)).simd(SimdOp.f32x4_add).set(a);
      // relu: y < 0 ? 0 : y, lane by lane (the epilogue's rule: -0 and NaN stay)
      if (relu) f.zeros().get(a).get(a).zeros().simd(SimdOp.f32x4_lt).simd(SimdOp.v128_bitselect).set(a);
      f.get(y).get(a).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16, p * o8 * FLOAT + half * VECTOR));
    }
  }
  addTo(f, wAt, LANES * FLOAT);
  addTo(f, biasAt, LANES * FLOAT);
  addTo(f, y, LANES * FLOAT);
  countDown(f, panels);
  f.end();
  // y moved on one pixel's o8 channels: on to the group's last pixel's end
  addTo(f, y, (PIXELS - 1) * o8 * FLOAT);
  addTo(f, xAt, PIXELS * pixelStep);
  countDown(f, groups);
  f.end();
  addTo(f, table, 4);
  countDown(f, count);
  f.end();
  return f;
}

const kernelOf = (plan: Plan): PoolKernel | null => cached("direct", Object.values(plan), () => compileKernel(directBody(plan), 6));

/** The deepest window (taps times input channels) the kernel takes: below the depth from which `conv2d` takes implicit GEMM. */
const MAX_DEPTH = 63;

/**
 * The fewest multiply-adds (outputs x depth, channels rounded up) for which
 * runs of rows become tasks of the worker pool: the threshold of the
 * WebAssembly matmul, work of the same kind.
 */
const PARALLEL_MIN = 2 ** 21;
/** About how many bytes of output one thread computes before copying them out (in the L2 cache). */
const CHUNK_BYTES = 256 * 1024;
/** The most tasks the rows are split into. */
const MAX_TASKS = 16;

/**
 * True where a float32 convolution can take `conv2dDirectWasm`: one group,
 * a window of 1 to MAX_DEPTH taps times input channels.
 */
export function fitsDirectWasm(g: ConvGeometry): boolean {
  const depth = g.kernelHeight * g.kernelWidth * g.inChannels;
  return g.groups === 1 && depth >= 1 && depth <= MAX_DEPTH;
}

/**
 * The forward convolution of float32 arrays by the direct sum in
 * WebAssembly (see the file's header): `out = act(conv(x, w) + bias)` for a
 * geometry `fitsDirectWasm` accepts. Returns false, having written nothing,
 * where WebAssembly SIMD or the memory is missing (or the window is empty).
 * An `x` or an `out` that is a compiled program's buffer in the kernels'
 * memory (`out` laid out as the staged output: whole vectors of pixels and
 * channels) is read or written where it is, with no copy.
 */
export function conv2dDirectWasm(out: Float32Array, x: Float32Array, w: Float32Array, g: ConvGeometry, epilogue: WasmEpilogue): boolean {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, kernelHeight: KH, kernelWidth: KW, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const o8 = Math.ceil(O / LANES) * LANES;
  const outCols = Math.ceil(OW / PIXELS) * PIXELS;
  const rows = (OH - 1) * g.strideHeight + (KH - 1) * g.dilationHeight + 1;
  const cols = (outCols - 1) * g.strideWidth + (KW - 1) * g.dilationWidth + 1;
  const depth = KH * KW * C;
  const plan: Plan = { depth, pixelStep: g.strideWidth * C * FLOAT, o8, outCols, bias: epilogue.bias !== undefined, relu: epilogue.relu };
  const outRows = N * OH;
  // NOTE: the kernel's loops run at least once: an empty window (which fitsDirectWasm refuses) goes elsewhere, an empty output is done
  if (depth === 0) return false;
  if (outRows * OW * O === 0) return true;
  const kernel = kernelOf(plan);
  if (kernel === null) return false;
  // Runs of rows: each output is written by one task, its sum in one order, so the bits do not depend on the split.
  const parallel = getThreads() > 1 && outRows * outCols * depth * o8 >= PARALLEL_MIN;
  const rowBytes = outCols * o8 * FLOAT;
  // the output written where it is when it is a compiled program's buffer in the kernels' memory laid out as the staged one
  const outIn = outCols === OW && o8 === O ? arenaAddress(out) : undefined;
  // On one thread, rows a chunk at a time, each copied out while it is in the cache.
  const chunkRows = parallel || outIn !== undefined ? outRows : Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const yRows = outIn === undefined ? Math.min(outRows, chunkRows) : 0;
  const at = regions({ source: arenaAddress(x) === undefined ? N * H * W * C : 0, x: N * rows * cols * C, w: KH * KW * C * o8, y: yRows * outCols * o8, bias: o8, table: outRows, taps: depth });
  const heap = sharedHeap(at.end);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap);
  stageByCopy(floats, at.source, at.x, x, { N, H, W, C }, rows, cols, g.padTop, g.padLeft);
  const wAt = at.w / FLOAT;
  if (o8 === O) floats.set(w.subarray(0, depth * O), wAt);
  else {
    floats.fill(0, wAt, wAt + depth * o8);
    for (let t = 0; t < depth; t++) floats.set(w.subarray(t * O, (t + 1) * O), wAt + t * o8);
  }
  if (epilogue.bias !== undefined) {
    floats.fill(0, at.bias / FLOAT, at.bias / FLOAT + o8);
    floats.set(epilogue.bias.subarray(epilogue.biasOffset, epilogue.biasOffset + O), at.bias / FLOAT);
  }
  const taps = new Int32Array(heap, at.taps, depth);
  for (let t = 0; t < depth; t++) taps[t] = ((Math.floor(t / (KW * C)) * g.dilationHeight * cols + (Math.floor(t / C) % KW) * g.dilationWidth) * C + (t % C)) * FLOAT;
  const table = new Int32Array(heap, at.table, outRows);
  for (let r = 0; r < outRows; r++) table[r] = at.x + ((Math.floor(r / OH) * rows + (r % OH) * g.strideHeight) * cols) * C * FLOAT;
  const yAt = at.y / FLOAT;
  for (let r0 = 0; r0 < outRows; r0 += chunkRows) {
    const count = Math.min(chunkRows, outRows - r0);
    const per = Math.ceil(count / (parallel ? Math.min(count, MAX_TASKS) : 1));
    const tasks: TaskCall[][] = [];
    const yOf = (r: number): number => (outIn === undefined ? at.y + r * rowBytes : outIn + (r0 + r) * rowBytes);
    for (let r = 0; r < count; r += per) tasks.push([{ kernel, args: [at.table + (r0 + r) * 4, Math.min(per, count - r), at.w, yOf(r), at.bias, at.taps] }]);
    runTasks(tasks);
    if (outIn !== undefined) continue;
    if (outCols === OW && o8 === O) {
      out.set(floats.subarray(yAt, yAt + count * OW * O), r0 * OW * O);
      continue;
    }
    for (let r = 0; r < count; r++) {
      const [from, to] = [yAt + r * outCols * o8, (r0 + r) * OW * O];
      if (o8 === O) out.set(floats.subarray(from, from + OW * O), to);
      else for (let ow = 0; ow < OW; ow++) out.set(floats.subarray(from + ow * o8, from + ow * o8 + O), to + ow * O);
    }
  }
  return true;
}
