/**
 * The float32 matrix product in WebAssembly SIMD: the kernel `gemm` hands a
 * big float32 product to when the engine runs WebAssembly with SIMD.
 *
 * The blocking is Goto and van de Geijn's, as in `matmul.ts`, and here the
 * micro-kernel is theirs too (BLIS's register tile): WebAssembly locals of
 * type v128 are registers, with no bounds checks and no spills at this size,
 * so what lost on V8's JavaScript wins here. B is packed once per call into
 * panels of NR columns (`[k][NR]`, zero after column n), each block of MC
 * rows of A into panels of MR rows (`[kc][MR]`, zero after row m). The
 * macro-kernel, one exported WebAssembly function, walks the panels of a
 * block: for each panel of B, for each panel of A, an MR x NR tile of C sits
 * in MR * NR / 4 f32x4 accumulators while each step of k loads NR values of
 * B (NR / 4 vectors) and splats MR values of A (`v128.load32_splat`), then
 * adds the tile to (or stores it in) a staging block of C in the shared
 * memory. JavaScript packs (reading any strided view) and copies the staged
 * block out through C's view with the epilogue (bias, accumulate, relu:
 * applied in place by a small WebAssembly kernel, `epilogueBody`, where C's
 * rows are contiguous and it gives the bits of the JavaScript loop), so
 * every layout `gemm` accepts runs here.
 *
 * Measured on the bench machine (Node 20, V8 11.3, x64, float32, square
 * products): 31 to 40 GFLOP/s from n = 256 to 1024, against 5.5 to 6 for the
 * JavaScript kernel and 27 to 31 for TensorFlow.js's XNNPACK. A 6 x 8 tile
 * (12 accumulators) made 22 to 24 and an 8 x 8 one 23: V8 has 16 vector
 * registers, and the 4 x 8 tile needs 11 of them. KC = 256 and MC = 128
 * matched every other pair of 128, 256, 512 by 64, 128, 256 (within the noise).
 *
 * Measured later (issue 14, `bench/matmul-ab.ts`, interleaved in one process
 * on a loaded 2-core Intel Xeon with AVX-512, Node 20), ways to write the
 * loop over k that give the same bits, all slower than the plain loop:
 * unrolling it by 2 or 4 with constant load offsets (0.78 to 0.90 and 0.59
 * to 0.71 of its GFLOP/s at N = 256 to 1024, four runs), and reading A as
 * one vector a step with its lanes splat by shuffles (0.70 to 0.93, unrolled
 * or not).
 * TurboFan's code shows why: it already unrolls the plain loop three times
 * itself, with one add per pointer and a counter per step, and in a loop
 * unrolled by hand it issues all loads of a turn first (loads keep their
 * order, the arithmetic is scheduled after them), so 12 or more loaded
 * vectors and 8 accumulators want 16 registers and accumulators spill to the
 * stack. Left at one step a turn. On that machine the plain loop ran at 28
 * to 29 GFLOP/s at its best (N = 256 to 576; 26 at 1024): each step is 8
 * f32x4 mul and 8 add, and where 128-bit mul and add share 2 ports (Intel
 * cores before Golden Cove) that is at most 8 flops a cycle, 28 GFLOP/s at
 * 3.5 GHz; the figures above (31 to 40) are from the AMD EPYC bench machine,
 * whose 4 vector pipes allow twice that: the 50 GFLOP/s of issue 14 can only
 * be looked for there. On the Intel machine, `npm run bench:torch` (one
 * run, loaded) timed the 1024 product at 74.1 ms (29.0 GFLOP/s) against
 * 67.6 ms (31.7) for PyTorch 1.13 on OpenBLAS at one thread: 1.10x.
 * Packing is about 5% of a 1024 product's time (a CPU profile: packB 3.2%,
 * packA 1.7%, storeBlock 0.4%; the macro-kernel 92%), more in the thin
 * products of training steps (packB 9.7% of an MLP step, packA 7.5% of a
 * transformer's): an operand is therefore copied into the memory as it is
 * stored (`set`), row-major or transposed, and cut into panels by small
 * WebAssembly kernels (`packPanelsBody`, `packTilesBody`: a plain copy of
 * runs of 4 or 8 floats, or 4 x 4 transposes); other layouts pack in
 * JavaScript. On the pool, B's panels are cut by the tasks that read them
 * where each panel has one reader (`parallelGemm`).
 *
 * NOTE: sums over k accumulate in float32 (the JavaScript kernel sums in
 * float64), in blocks of KC, each block then added to the staged sum: the
 * worst-case error is (KC + k / KC) float32 roundings of the sum of the
 * terms' absolute values (1.5e-5 of it at k = 400), inside the 2e-5 the
 * kernel laws allow; errors of random sign grow like its square root
 * (about 1e-6 in practice).
 *
 * The module is built in memory with our encoder from fixed opcodes and the
 * validated tile sizes below; nothing from the data or a caller goes into
 * it. It imports the kernels' memory (`wasm/kernel-memory.ts`); a call lays
 * out its packed B, packed A block and staged C from address 0 (its working
 * memory, below the arena of compiled programs' buffers).
 *
 * A compiled program whose products read one B several times (an LSTM's
 * recurrent weights, once per time step) packs it once per call: the
 * executor names the operand (`withPackedB` in `matmul.ts`), the first
 * product keeps its packing in `PackedOperands`, and the others copy it
 * into place (same bits; in the LSTM step packB fell from 27.6% of the
 * profile to 5.3%).
 *
 * A large product with more than one thread (`getThreads`) runs on the
 * worker pool (`parallelGemm`): B and all of A packed first (B's panels by
 * the tasks themselves where no two tasks read one), then tasks of one
 * block of rows times a run of column panels, fixed by the shapes; every
 * sum is formed by the same operations in the same order as on one thread,
 * so the bits are the same for any thread count.
 *
 * Leaves out: float64 (WebAssembly SIMD has two float64 lanes, and the
 * JavaScript kernel already runs at that rate), packing A on the workers
 * (the calling thread copies both operands in and packs A). Relaxed
 * SIMD's multiply-add is an opt-in (`../wasm/relaxed-simd.ts`): the same
 * kernel with `f32x4.relaxed_madd` in place of each mul then add.
 */

import { ALIGN_16, ALIGN_4, encodeModule, FunctionBody, Op, SimdOp, ValType } from "../wasm/encoder.js";
import { MEMORY_IMPORT } from "../wasm/codegen.js";
import { relaxedSimdEnabled } from "../wasm/relaxed-simd.js";
import { compileWithSharedMemory, sharedHeap } from "../wasm/runtime.js";
import { getThreads, poolKernel, runTasks, type PoolKernel, type TaskCall } from "../threads/pool.js";
import type { FloatArray, MatrixView } from "./matrix-view.js";

/** Rows of a register tile (A panels are MR rows wide). */
const MR = 4;
/** Columns of a register tile (B panels are NR columns wide): NR / 4 vectors. */
const NR = 8;
/** Largest depth of a block of k. */
const KC = 256;
/** Rows of a packed block of A (a multiple of MR). */
const MC = 128;
/** How the micro-kernel's loop over k is written (the same sums in the same order for every variant). */
export interface MicroKernelVariant {
  /** Steps of k per turn of the loop. */
  readonly unroll: number;
  /** Read a step's MR values of A as one vector and splat its lanes by shuffles, rather than MR splat loads. */
  readonly shuffleA: boolean;
  /** Each multiply-add as one relaxed `f32x4.relaxed_madd` (the opt-in fast mode: see `relaxed-simd.ts`) rather than a mul then an add. */
  readonly relaxedMadd?: boolean;
}

const DEFAULT_VARIANT: MicroKernelVariant = { unroll: 1, shuffleA: false };

const FLOAT = 4;
const VECTOR = 16;

/** The epilogue, as `gemm` applies it to each stored sum: `act(beta * C + (sum + bias[j]))`. */
export interface WasmEpilogue {
  /** Add C's old value. */
  readonly beta: boolean;
  /** The bias, or undefined. */
  readonly bias: FloatArray | undefined;
  /** Where column 0 of C reads its bias. */
  readonly biasOffset: number;
  /** Apply relu (`y < 0 ? 0 : y`). */
  readonly relu: boolean;
}

/** The name under which a kernel's module exports its function. */
const KERNEL_NAME = "kernel";

/**
 * The body of the macro-kernel `macro(a, b, c, rowTiles, colTiles, kc, ldc,
 * beta)` for an `mr x (4 * vectors)` register tile: for each of `colTiles`
 * panels of B (from address `b`, `kc` steps each), for each of `rowTiles`
 * panels of A (from `a`), the tile of C at `c` (rows `ldc` bytes apart)
 * becomes the panels' product, plus its old value when `beta` is not 0.
 * The loop over k runs `unroll` steps per turn (their loads at constant
 * offsets from one pair of pointers), then the `kc % unroll` steps left
 * one per turn: the same sums in the same order for every `unroll`. The
 * default variant (one step a turn, splat loads of A) is what `matmul` runs.
 */
function macroKernelBody(mr: number, vectors: number, { unroll, shuffleA, relaxedMadd = false }: MicroKernelVariant = DEFAULT_VARIANT): FunctionBody {
  if (!Number.isInteger(mr) || mr < 1 || mr > 8 || !Number.isInteger(vectors) || vectors < 1 || vectors > 3) {
    throw new Error(`wasm matmul: a ${mr} x ${4 * vectors} tile is not supported`);
  }
  if (shuffleA && mr !== 4) throw new Error("wasm matmul: shuffled A needs 4 rows");
  if (![1, 2, 4, 8].includes(unroll)) throw new Error(`wasm matmul: an unroll of ${unroll} is not supported`);
  const nr = 4 * vectors;
  const f = new FunctionBody(8);
  const [a, b, c, rowTiles, colTiles, kc, ldc, beta] = [0, 1, 2, 3, 4, 5, 6, 7];
  const colLeft = f.local(ValType.i32);
  const rowLeft = f.local(ValType.i32);
  const steps = f.local(ValType.i32);
  const aAt = f.local(ValType.i32);
  const bAt = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const cColumn = f.local(ValType.i32);
  const cAt = f.local(ValType.i32);
  const cOld = f.local(ValType.i32);
  const acc = Array.from({ length: mr * vectors }, () => f.local(ValType.v128));
  const bv = Array.from({ length: vectors }, () => f.local(ValType.v128));
  const av = f.local(ValType.v128);
  const aRow = f.local(ValType.v128);
  const laneSplat = (r: number): number[] => Array.from({ length: 16 }, (_, i) => 4 * r + (i % 4));
  const accOf = (r: number, v: number): number => acc[r * vectors + v] ?? 0;
  const v128Memarg = (offset: number): number[] => FunctionBody.memarg(ALIGN_16, offset);
  const addTo = (local: number, bytes: number): void => void f.get(local).i32(bytes).op(Op.i32_add).set(local);
  /** `counter -= 1`, and loop again while it is not 0. */
  const countDown = (counter: number): void => void f.get(counter).i32(1).op(Op.i32_sub).tee(counter).brIf(0);
  /** Step `u` of a turn: acc[r][v] += A[r] * B[v], A and B read `u` steps past aAt and bAt. */
  const step = (u: number): void => {
    for (let v = 0; v < vectors; v++) f.get(bAt).simd(SimdOp.v128_load, v128Memarg((u * nr + v * 4) * FLOAT)).set(bv[v] ?? 0);
    if (shuffleA) f.get(aAt).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16, u * mr * FLOAT)).set(aRow);
    for (let r = 0; r < mr; r++) {
      if (shuffleA) f.get(aRow).get(aRow).simd(SimdOp.i8x16_shuffle, laneSplat(r)).set(av);
      else f.get(aAt).simd(SimdOp.v128_load32_splat, FunctionBody.memarg(ALIGN_4, (u * mr + r) * FLOAT)).set(av);
      for (let v = 0; v < vectors; v++) {
        if (relaxedMadd) f.get(av).get(bv[v] ?? 0).get(accOf(r, v)).simd(SimdOp.f32x4_relaxed_madd).set(accOf(r, v));
        else f.get(accOf(r, v)).get(av).get(bv[v] ?? 0).simd(SimdOp.f32x4_mul).simd(SimdOp.f32x4_add).set(accOf(r, v));
      }
    }
  };
  /** A loop of `unroll`-step turns while `counter` (at least 1) counts down. */
  const kLoop = (turn: number, counter: number): void => {
    f.loop();
    for (let u = 0; u < turn; u++) step(u);
    addTo(aAt, turn * mr * FLOAT);
    addTo(bAt, turn * nr * FLOAT);
    countDown(counter);
    f.end();
  };

  f.get(b).set(bPanel).get(c).set(cColumn).get(colTiles).set(colLeft);
  f.loop(); // over panels of B
  f.get(a).set(aAt).get(cColumn).set(cAt).get(rowTiles).set(rowLeft);
  f.loop(); // over panels of A
  for (const x of acc) f.zeros().set(x);
  f.get(bPanel).set(bAt);
  if (unroll === 1) {
    f.get(kc).set(steps);
    kLoop(1, steps); // over k
  } else {
    // Over k: kc / unroll turns of `unroll` steps, then kc % unroll turns of one.
    f.get(kc).i32(Math.log2(unroll)).op(Op.i32_shr_u).tee(steps).if();
    kLoop(unroll, steps);
    f.end();
    f.get(kc).i32(unroll - 1).op(Op.i32_and).tee(steps).if();
    kLoop(1, steps);
    f.end();
  }
  // The tile: add C's old values (a later block of k), then store; aAt has moved on to the next panel of A.
  f.get(beta).if();
  f.get(cAt).set(cOld);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < vectors; v++) {
      f.get(accOf(r, v)).get(cOld).simd(SimdOp.v128_load, v128Memarg(v * VECTOR)).simd(SimdOp.f32x4_add).set(accOf(r, v));
    }
    f.get(cOld).get(ldc).op(Op.i32_add).set(cOld);
  }
  f.end();
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < vectors; v++) f.get(cAt).get(accOf(r, v)).simd(SimdOp.v128_store, v128Memarg(v * VECTOR));
    f.get(cAt).get(ldc).op(Op.i32_add).set(cAt);
  }
  countDown(rowLeft);
  f.end();
  f.get(bAt).set(bPanel); // the next panel of B follows this one
  addTo(cColumn, nr * FLOAT);
  countDown(colLeft);
  f.end();
  return f;
}

/**
 * The body of `panels(src, dst, kc, ld, count)` for panels `width` floats
 * wide (4 or 8): copies `count` panels from a row-major matrix in the memory
 * (rows `ld` bytes apart, from `src`) to `dst`, one after another, each
 * `kc` rows of `width` floats (`[kc][width]`): `width / 4` vector loads and
 * stores a row, where the JavaScript loop moves one float at a time. With
 * width NR it cuts a row-major B into the panels `packB` lays out; with
 * width MR, a transposed A (stored `[k][m]`: the rows of the stored matrix
 * are A's columns) into the panels of `packA`. `kc` and `count` are at
 * least 1.
 */
function packPanelsBody(width: number): FunctionBody {
  if (width !== 4 && width !== 8) throw new Error(`wasm matmul: panels of ${width} floats are not supported`);
  const f = new FunctionBody(5);
  const [src, dst, kc, ld, count] = [0, 1, 2, 3, 4];
  const column = f.local(ValType.i32);
  const from = f.local(ValType.i32);
  const steps = f.local(ValType.i32);
  f.get(src).set(column);
  f.loop(); // over panels
  f.get(column).set(from).get(kc).set(steps);
  f.loop(); // over rows
  for (let v = 0; v < width / 4; v++) {
    f.get(dst).get(from).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_4, v * VECTOR)).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16, v * VECTOR));
  }
  f.get(dst).i32(width * FLOAT).op(Op.i32_add).set(dst);
  f.get(from).get(ld).op(Op.i32_add).set(from);
  f.get(steps).i32(1).op(Op.i32_sub).tee(steps).brIf(0);
  f.end();
  f.get(column).i32(width * FLOAT).op(Op.i32_add).set(column);
  f.get(count).i32(1).op(Op.i32_sub).tee(count).brIf(0);
  f.end();
  return f;
}

/**
 * The body of `tiles(src, dst, quads, ld, count)` for panels of `rows` rows
 * (4 or 8): packs `count` panels from a row-major matrix in the memory
 * (rows `ld` bytes apart, from `src`; `rows` of its rows per panel) to
 * `dst`, each `[4 * quads][rows]`: per 4 columns of the matrix, for each 4
 * of its rows, 4 vector loads (one per row), a 4 x 4 transpose in 8
 * shuffles and 4 vector stores. With 4 rows it cuts a row-major A into the
 * panels `packA` lays out; with 8, a transposed B (stored `[n][k]`: the
 * rows of the stored matrix are B's columns) into the panels of `packB`.
 * `quads` and `count` are at least 1.
 */
function packTilesBody(rows: number): FunctionBody {
  if (rows !== 4 && rows !== 8) throw new Error(`wasm matmul: tiles of ${rows} rows are not supported`);
  const f = new FunctionBody(5);
  const [src, dst, quads, ld, count] = [0, 1, 2, 3, 4];
  const pointers = Array.from({ length: rows }, () => f.local(ValType.i32));
  const steps = f.local(ValType.i32);
  const loaded = Array.from({ length: 4 }, () => f.local(ValType.v128));
  const pairs = Array.from({ length: 4 }, () => f.local(ValType.v128));
  /** The i8x16.shuffle lanes that pick floats `lanes` (0-3 from the first vector, 4-7 from the second). */
  const floatLanes = (lanes: readonly number[]): number[] => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
  const [low, high, firstHalves, secondHalves] = [floatLanes([0, 4, 1, 5]), floatLanes([2, 6, 3, 7]), floatLanes([0, 1, 4, 5]), floatLanes([2, 3, 6, 7])];
  const at = (i: number): number => pointers[i] ?? 0;
  const v = (list: readonly number[], i: number): number => list[i] ?? 0;
  f.loop(); // over panels
  f.get(src).set(at(0));
  for (let r = 1; r < rows; r++) f.get(at(r - 1)).get(ld).op(Op.i32_add).set(at(r));
  f.get(quads).set(steps);
  f.loop(); // over 4 steps of k at a time
  for (let group = 0; group < rows / 4; group++) {
    for (let r = 0; r < 4; r++) f.get(at(4 * group + r)).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_4)).set(v(loaded, r));
    // rows a, b, c, d -> (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3) -> (a0 b0 c0 d0) ... (a3 b3 c3 d3)
    f.get(v(loaded, 0)).get(v(loaded, 1)).simd(SimdOp.i8x16_shuffle, low).set(v(pairs, 0));
    f.get(v(loaded, 0)).get(v(loaded, 1)).simd(SimdOp.i8x16_shuffle, high).set(v(pairs, 1));
    f.get(v(loaded, 2)).get(v(loaded, 3)).simd(SimdOp.i8x16_shuffle, low).set(v(pairs, 2));
    f.get(v(loaded, 2)).get(v(loaded, 3)).simd(SimdOp.i8x16_shuffle, high).set(v(pairs, 3));
    const out = [[0, 2, firstHalves], [0, 2, secondHalves], [1, 3, firstHalves], [1, 3, secondHalves]] as const;
    out.forEach(([x, y, lanes], step) => {
      // step `step` of the quad: its `rows` floats, this group's 4 of them at float 4 * group
      const offset = (step * rows + 4 * group) * FLOAT;
      f.get(dst).get(v(pairs, x)).get(v(pairs, y)).simd(SimdOp.i8x16_shuffle, lanes).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16, offset));
    });
  }
  f.get(dst).i32(4 * rows * FLOAT).op(Op.i32_add).set(dst);
  for (let r = 0; r < rows; r++) f.get(at(r)).i32(VECTOR).op(Op.i32_add).set(at(r));
  f.get(steps).i32(1).op(Op.i32_sub).tee(steps).brIf(0);
  f.end();
  f.get(src).get(ld).i32(Math.log2(rows)).op(Op.i32_shl).op(Op.i32_add).set(src); // the next `rows` rows
  f.get(count).i32(1).op(Op.i32_sub).tee(count).brIf(0);
  f.end();
  return f;
}

/** A compiled packing kernel: `panels(src, dst, kc, ld, count)` or `tiles(src, dst, quads, ld, count)`. */
type PackKernel = (src: number, dst: number, steps: number, ld: number, count: number) => void;

/** The compiled `packTilesBody` of A's panels (MR rows), built on first use; null without WebAssembly SIMD. */
const compiledPackTiles = lazyKernel<PackKernel>(() => packTilesBody(MR), 5);
/** The compiled `packPanelsBody` of a transposed A's panels (MR floats wide), built on first use; null without WebAssembly SIMD. */
const compiledPackPanelsA = lazyKernel<PackKernel>(() => packPanelsBody(MR), 5);

/** A kernel built on first use by `compileKernel(build(), params)` (so the worker pool can run it too) and kept, or null (also kept). */
function lazyPoolKernel(build: () => FunctionBody, params: number): () => PoolKernel | null {
  let kernel: PoolKernel | null | undefined;
  return () => (kernel === undefined ? (kernel = compileKernel(build(), params)) : kernel);
}

/** The compiled `packPanelsBody` of B's panels (NR floats wide) and `packTilesBody` of a transposed B's (NR rows), on the pool. */
const poolPackPanels = lazyPoolKernel(() => packPanelsBody(NR), 5);
const poolPackTilesB = lazyPoolKernel(() => packTilesBody(NR), 5);

/** The macro-kernel's signature, as the module exports it (i32 arguments). */
type MacroKernel = (a: number, b: number, c: number, rowTiles: number, colTiles: number, kc: number, ldc: number, beta: number) => void;

/** The compiled macro-kernels (built on first use, and registered with the worker pool), or null when WebAssembly with SIMD is not available. */
let macroKernel: PoolKernel | null | undefined;
let relaxedMacroKernel: PoolKernel | null | undefined;
/**
 * The macro-kernel products run on now: the default one, or under the
 * opt-in relaxed SIMD (`relaxedSimdEnabled`, checked at every call) the one
 * whose multiply-adds are `f32x4.relaxed_madd`, with the same loops, tiles and
 * order of sums.
 */
function compiledPoolMacroKernel(): PoolKernel | null {
  if (relaxedSimdEnabled()) {
    relaxedMacroKernel ??= compileKernel(macroKernelBody(MR, NR / 4, { ...DEFAULT_VARIANT, relaxedMadd: true }), 8);
    if (relaxedMacroKernel !== null) return relaxedMacroKernel;
  }
  return (macroKernel ??= compileKernel(macroKernelBody(MR, NR / 4), 8));
}
// The module declares it with eight i32 parameters and no result: a function of eight numbers.
const compiledMacroKernel = (): MacroKernel | null => (compiledPoolMacroKernel()?.local ?? null) as MacroKernel | null;

/**
 * A kernel built on first use by `instantiateKernel(build(), params)` and
 * kept: the function returns it, or null (also kept) where it cannot run.
 * `K` must be a function of `params` numbers returning nothing.
 */
export function lazyKernel<K extends (...args: number[]) => void>(build: () => FunctionBody, params: number): () => K | null {
  let kernel: K | null | undefined;
  return () => {
    // the module declares it with `params` i32 parameters and no result: a function of that many numbers, as K is
    if (kernel === undefined) kernel = instantiateKernel(build(), params) as K | null;
    return kernel;
  };
}

/**
 * The function of `params` i32 parameters and no result that `body`
 * defines, in a module of its own over the runtime's shared memory; null
 * when WebAssembly with SIMD is not available here, or the engine's SIMD
 * lacks an instruction the body uses.
 */
export function instantiateKernel(body: FunctionBody, params: number): ((...args: number[]) => void) | null {
  return compileKernel(body, params)?.local ?? null;
}

/**
 * `instantiateKernel` with its compiled module, registered with the worker
 * pool (`poolKernel`) so that workers can run it too; null where
 * `instantiateKernel` gives null.
 */
export function compileKernel(body: FunctionBody, params: number): PoolKernel | null {
  const type = { params: new Array<ValType>(params).fill(ValType.i32), results: [] };
  const binary = encodeModule({ imports: [], memory: { ...MEMORY_IMPORT, minPages: 0 }, functions: [{ type, body, export: KERNEL_NAME }] });
  let compiled: ReturnType<typeof compileWithSharedMemory>;
  try {
    compiled = compileWithSharedMemory(binary);
  } catch {
    compiled = undefined; // an engine whose SIMD lacks an instruction used here
  }
  const exported = compiled?.exports[KERNEL_NAME];
  if (compiled === undefined || typeof exported !== "function") return null;
  // An exported WebAssembly function of i32 parameters and no result takes numbers and returns undefined.
  return poolKernel(compiled.module, exported as (...args: number[]) => void);
}

/**
 * Whether the WebAssembly kernel runs here: WebAssembly with SIMD is
 * available (checked once).
 *
 * @example
 * wasmMatmulAvailable(); // true on Node 20
 */
export function wasmMatmulAvailable(): boolean {
  return compiledMacroKernel() !== null;
}

const roundUp = (x: number, multiple: number): number => Math.ceil(x / multiple) * multiple;

/**
 * The bytes of the scratch after a product's layout (16-byte aligned): the copy of B that `packB` cuts into
 * panels, then (once B is packed) the `aFloats` the packer of A asks for (`APacker`).
 */
const rawBytes = (k: number, n: number, aFloats: number): number => roundUp(Math.max(k * n, aFloats), 4) * FLOAT;

/**
 * `C = act(A @ B + bias)` (or `act(C + A @ B + bias)` with `beta`) in
 * WebAssembly SIMD, for `m x k` A, `k x n` B and `m x n` C read and written
 * through float32 views, checked in range by the caller (`gemm`), with
 * `m, k, n >= 1`. Returns false, having written nothing, when it cannot run
 * here: no WebAssembly SIMD, an operand that is not float32, or more memory
 * than the shared memory may have (`WASM_MAX_BYTES`).
 *
 * @example
 * const a = Float32Array.of(1, 2, 3, 4);
 * const c = new Float32Array(4);
 * const view = (data: Float32Array) => ({ data, offset: 0, rowStride: 2, colStride: 1 });
 * wasmGemm(2, 2, 2, view(a), view(a), view(c), { beta: false, bias: undefined, biasOffset: 0, relu: false });
 * // true, and c is [7, 10, 15, 22]
 */
export function wasmGemm(m: number, k: number, n: number, a: MatrixView, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue, reuse?: PackedB): boolean {
  if (!(a.data instanceof Float32Array)) return false;
  return gemmWith(compiledMacroKernel(), m, k, n, viewPacker(a, m, k), b, c, epilogue, 0, reuse);
}

/**
 * Packed copies of B operands, kept for the length of one call of a
 * compiled program: a B that several products of the call read (an LSTM's
 * recurrent weights, read once per time step) is packed by the first and
 * copied (one `set`, several times faster than packing) by the rest.
 *
 * NOTE: an entry is valid only until `begin` starts the next call, and only
 * for the operand its caller names by `key`: the caller must give one key
 * only to one value, whose storage nothing writes while the call may read it
 * (a value of a compiled program, from its computation to its last use).
 * The entry also checks that the view (array, offset, strides, k, n) is the
 * one it packed, so a mistaken key repacks rather than reading a stale copy.
 */
export class PackedOperands {
  #call = 0;
  readonly #entries = new Map<number, PackedEntry>();

  /** Starts a call: every packed copy from before goes stale (its memory is kept for reuse). */
  begin(): void {
    this.#call++;
  }

  /** Ends a call: the copies stay (their memory), but no entry holds the array it packed any more (a caller's buffer is not kept alive between calls). */
  end(): void {
    for (const [key, e] of this.#entries) this.#entries.set(key, { ...e, call: -1, data: RELEASED });
  }

  /** The slot of the operand named `key` in this call, to pass to `wasmGemm` or `matmul`. */
  slot(key: number): PackedB {
    return { operands: this, key };
  }

  /** The packed copy of `b` (`k x n`) for `key`, or undefined when this call has not packed that view yet. */
  packed(key: number, b: MatrixView, k: number, n: number): Float32Array | undefined {
    const e = this.#entries.get(key);
    if (e === undefined || e.call !== this.#call || e.data !== b.data || e.offset !== b.offset || e.rowStride !== b.rowStride || e.colStride !== b.colStride || e.k !== k || e.n !== n) return undefined;
    return e.packed;
  }

  /** Keeps a copy of `packed` as the packing of `b` (`k x n`) for `key` in this call. */
  keep(key: number, b: MatrixView, k: number, n: number, packed: Float32Array): void {
    const old = this.#entries.get(key)?.packed;
    const copy = old !== undefined && old.length === packed.length ? old : new Float32Array(packed.length);
    copy.set(packed);
    this.#entries.set(key, { call: this.#call, data: b.data, offset: b.offset, rowStride: b.rowStride, colStride: b.colStride, k, n, packed: copy });
  }

  /** The bytes the packed copies hold, for tests and benchmarks. */
  bytes(): number {
    let total = 0;
    for (const e of this.#entries.values()) total += e.packed.byteLength;
    return total;
  }
}

/** What an entry's `data` is once its call has ended: no operand's array. */
const RELEASED = new Float32Array(0);

/** One packed B of `PackedOperands`: the call that packed it, the view it packed, the panels. */
interface PackedEntry {
  readonly call: number;
  readonly data: FloatArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
  readonly k: number;
  readonly n: number;
  readonly packed: Float32Array;
}

/** Where a product may find (or leave) its packed B: an operand `key` of `operands`. */
export interface PackedB {
  readonly operands: PackedOperands;
  readonly key: number;
}

/**
 * Packs all of B at float `at` of `floats` as `packB` does, or copies the
 * packing that `reuse` holds from earlier in the call (the same bits), and
 * leaves a copy there when it packs.
 */
function placeB(floats: Float32Array, at: number, b: MatrixView, k: number, n: number, nPad: number, depth: number, reuse: PackedB | undefined, rawAt: number): void {
  const held = reuse?.operands.packed(reuse.key, b, k, n);
  if (held !== undefined) {
    floats.set(held, at);
    return;
  }
  packB(floats, at, b, k, n, nPad, depth, rawAt);
  reuse?.operands.keep(reuse.key, b, k, n, floats.subarray(at, at + k * nPad));
}


/** The depth of a block of k: sums over k run in blocks this deep (see the NOTE above). */
export const DEPTH_BLOCK = KC;

/** Rows of a panel of packed A (the register tile's rows): what a `PanelPacker` writes per `[kc][PANEL_ROWS]` panel. */
export const PANEL_ROWS = MR;

/**
 * Packs rows `i0 .. i0 + mc` and columns `p0 .. p0 + kc` of an implicit A
 * (`m x k`) from float `at` of `floats`: `rowTiles` panels one after
 * another, each `[kc][PANEL_ROWS]` (panel `t`, step `p`, row `r` at `at + (t
 * * kc + p) * PANEL_ROWS + r`), zero past row `mc`. It must write every
 * element of the block: the memory holds what the last call left. From
 * float `scratchAt` (when given) it may use `mc * kc` floats as scratch.
 */
export type PanelPacker = (floats: Float32Array, at: number, i0: number, mc: number, rowTiles: number, p0: number, kc: number, scratchAt?: number) => void;

/** A packer of A as a product runs it: the packer, and the floats of scratch from `scratchAt` it may use. */
interface APacker {
  readonly pack: PanelPacker;
  readonly scratch: number;
}

/**
 * `wasmGemm` with A given by its packer rather than a view, for an operand
 * that exists only implicitly (a convolution's columns, packed straight from
 * its input: implicit GEMM). The sums, their order and the epilogue are
 * those of `wasmGemm` on the matrix the packer describes, so the two give
 * the same bits. Its memory starts at byte `base` (a multiple of 16): the
 * bytes below are the caller's, for what its packer reads, and stay as they
 * are. Returns false, having written nothing, where `wasmGemm` would.
 */
export function wasmGemmPacked(m: number, k: number, n: number, pack: PanelPacker, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue, base = 0): boolean {
  return gemmWith(compiledMacroKernel(), m, k, n, { pack, scratch: Math.min(m, MC) * Math.min(k, KC) }, b, c, epilogue, base);
}

/**
 * `wasmGemm` on a macro-kernel built as `variant` says (see
 * `macroKernelBody`), or null where WebAssembly SIMD is not available: for
 * benchmarks that set variants side by side in one process.
 */
export function wasmGemmVariant(variant: MicroKernelVariant): typeof wasmGemm | null {
  // The module declares it with eight i32 parameters and no result: a function of eight numbers.
  const kernel = instantiateKernel(macroKernelBody(MR, NR / 4, variant), 8) as MacroKernel | null;
  if (kernel === null) return null;
  return (m, k, n, a, b, c, epilogue) => {
    if (!(a.data instanceof Float32Array)) return false;
    return gemmWith(kernel, m, k, n, viewPacker(a, m, k), b, c, epilogue, 0);
  };
}

/** `wasmGemmPacked` on `kernel` (false, having written nothing, when it is null). */
function gemmWith(kernel: MacroKernel | null, m: number, k: number, n: number, { pack, scratch }: APacker, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue, base: number, reuse?: PackedB): boolean {
  if (!(b.data instanceof Float32Array && c.data instanceof Float32Array)) return false;
  if (kernel === null || m < 1 || k < 1 || n < 1) return false;
  const nPad = roundUp(n, NR);
  const mcPad = Math.min(roundUp(m, MR), MC);
  const depth = Math.min(k, KC);
  // Layout (bytes, each part 16-byte aligned as all sizes are multiples of 4 floats): packed B, packed A block, staged C block.
  const bAt = base;
  const aAt = bAt + k * nPad * FLOAT;
  const cAt = aAt + mcPad * depth * FLOAT;
  const rawAt = cAt + mcPad * nPad * FLOAT;
  const epilogueAt = rawAt + rawBytes(k, n, scratch);
  const bytes = epilogueAt + epilogueBytes(m, nPad, epilogue);
  const pool = compiledPoolMacroKernel();
  if (pool !== null && kernel === pool.local && parallelGemm(pool, m, k, n, { pack, scratch }, b, c, epilogue, base, reuse)) return true;
  const heap = sharedHeap(bytes);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap, 0, bytes / FLOAT);
  placeB(floats, bAt / FLOAT, b, k, n, nPad, depth, reuse, rawAt / FLOAT);
  for (let ic = 0; ic < m; ic += MC) {
    const mc = Math.min(MC, m - ic);
    const rowTiles = Math.ceil(mc / MR);
    for (let pc = 0; pc < k; pc += depth) {
      const kc = Math.min(depth, k - pc);
      pack(floats, aAt / FLOAT, ic, mc, rowTiles, pc, kc, rawAt / FLOAT);
      kernel(aAt, bAt + pc * nPad * FLOAT, cAt, rowTiles, nPad / NR, kc, nPad * FLOAT, pc > 0 ? 1 : 0);
    }
    storeBlock(floats, cAt / FLOAT, nPad, c, ic, mc, n, epilogue, epilogueAt / FLOAT);
  }
  return true;
}

/**
 * Products of fewer multiply-adds (m * k * n) run on the calling thread
 * alone: below it, waking the workers and packing all of A first cost more
 * than a second thread can save. At 128^3 = 2^21 a square product first
 * splits at all (two blocks of rows need m > 128, two runs of panels
 * n >= 256). Measured (`bench/threads-split.bench.ts`, 2-core Intel Xeon
 * shared with other jobs, load average 5 to 6): the parallel layout alone,
 * with the workers kept out, ran at 0.95 to 0.98 of the one-thread path's
 * speed from 2^21 to 2^26 multiply-adds (0.89 once, at 192^3); with the
 * workers in, they ran half the tasks (8.2 to 8.7 of 16 at 512^3, 31 to 32
 * of 64 at 1024^3) but the speed stayed at 0.94 to 0.98 of one thread: on that
 * loaded machine two threads got the CPU time of one, so where a second
 * thread starts to pay is still to be measured on an idle machine.
 */
const PARALLEL_MIN_WORK = 2 ** 21;
/** The fewest panels of B (NR columns each) a task of the parallel product covers. */
const TASK_MIN_PANELS = 16;
/** About how many tasks the parallel product aims at (for balance on up to 16 threads). */
const TASK_TARGET = 64;
/**
 * The fewest tasks a parallel product is cut into: where blocks of rows and
 * runs of panels give fewer (few rows and few columns, as an LSTM's
 * `32 x 512 @ 512 x 128` has: one block of rows, 16 panels), each block of
 * rows is cut further into runs of register tiles (MR rows). A tile's sums
 * do not depend on the tiles beside it, so the bits stay those of one thread.
 */
const TASK_MIN_COUNT = 4;
/**
 * The fewest panels of B a task covers where a product of one block of rows
 * is cut into up to TASK_MIN_COUNT runs of panels before runs of row tiles.
 * Where that gives TASK_MIN_COUNT runs (32 panels or more), each run of B's
 * panels has one task, which cuts it (`cutInTasks`); with 16 to 31 panels
 * the runs of row tiles remain and the calling thread cuts B as before (a
 * different partition, the same bits). Measured (interleaved A/B at 2 threads, same bits, load average 7.5: no
 * second core free): `128 x 512 x 256` (4 runs of 8 panels, before 2 runs of
 * 16 times 2 runs of tiles) 1.01 to 1.02 of the time, `32 x 512 x 128` with
 * B^T (2 runs of 8 panels times 2 runs of tiles, before 4 runs of tiles)
 * 0.99 to 1.00: no cost seen; the gain (B's cutting on the pool) needs an
 * idle second core to show.
 */
const SPLIT_MIN_PANELS = 8;

/**
 * `gemmWith` on the worker pool, for a product big enough and more than one
 * thread; false, having written nothing, where it does not run (the caller
 * then runs the one-thread path, which gives the same bits). B and all of A
 * are packed first, on the calling thread, as the one-thread path packs
 * them; C is staged whole; a task is one block of MC rows (or a run of its
 * register tiles, see TASK_MIN_COUNT) times a run of column panels, running the macro-kernel over every block of k in order,
 * so each sum is formed by the same operations in the same order as on one
 * thread, whoever runs its task. The tasks are fixed by the shapes alone
 * (`TASK_MIN_PANELS`, `TASK_TARGET`), never by the thread count. Where the
 * product has one block of rows in one run of tiles, each task first cuts
 * its own run of B's panels from B's copy (`cutPanels`): no panel is read by
 * two tasks, so the calling thread only copies B in.
 */
function parallelGemm(kernel: PoolKernel, m: number, k: number, n: number, { pack, scratch }: APacker, b: MatrixView, c: MatrixView, epilogue: WasmEpilogue, base: number, reuse: PackedB | undefined): boolean {
  if (getThreads() < 2 || m * k * n < PARALLEL_MIN_WORK) return false;
  const nPad = roundUp(n, NR);
  const mPad = roundUp(m, MR);
  const depth = Math.min(k, KC);
  const panels = nPad / NR;
  const rowBlocks = Math.ceil(m / MC);
  const wide = Math.max(1, Math.min(Math.floor(panels / TASK_MIN_PANELS), Math.ceil(TASK_TARGET / rowBlocks)));
  // one block of rows: runs of fewer panels (down to SPLIT_MIN_PANELS) before runs of row tiles, so that each run of B's panels has one task (cutInTasks below)
  const groups = rowBlocks === 1 && wide < TASK_MIN_COUNT ? Math.max(wide, Math.min(TASK_MIN_COUNT, Math.floor(panels / SPLIT_MIN_PANELS))) : wide;
  // runs of row tiles per block of rows (every block but the last has MC / MR tiles; the last may have fewer runs)
  const rowRuns = Math.min(Math.ceil(TASK_MIN_COUNT / (rowBlocks * groups)), Math.ceil(Math.min(m, MC) / MR));
  if (rowBlocks * groups * rowRuns < 2) return false;
  const held = reuse?.operands.packed(reuse.key, b, k, n);
  const plan = bPacking(b, k, n);
  // B's panels are cut by the tasks that read them where each run of panels has one such task (one block of rows in one run of tiles): no panel is cut twice, and the cutting is parallel too.
  const cutInTasks = held === undefined && plan.kernel !== null && rowBlocks * rowRuns === 1;
  // Layout (bytes from base, each part 16-byte aligned): packed B, packed A (block ic, depth block pc at ic * k + pc * its padded rows), staged C (mPad x nPad), B's copy (cutInTasks), scratch.
  const bAt = base;
  const aAt = bAt + k * nPad * FLOAT;
  const cAt = aAt + mPad * k * FLOAT;
  const copyAt = cAt + mPad * nPad * FLOAT;
  const rawAt = copyAt + (cutInTasks ? roundUp(k * n, 4) * FLOAT : 0);
  const epilogueAt = rawAt + rawBytes(k, n, scratch);
  const bytes = epilogueAt + epilogueBytes(m, nPad, epilogue);
  const heap = sharedHeap(bytes);
  if (heap === undefined) return false;
  const floats = new Float32Array(heap, 0, bytes / FLOAT);
  if (held !== undefined) floats.set(held, bAt / FLOAT);
  else if (!cutInTasks) packB(floats, bAt / FLOAT, b, k, n, nPad, depth, rawAt / FLOAT);
  else {
    copyB(floats, copyAt / FLOAT, b, k, n, plan);
    packRestOfB(floats, bAt / FLOAT, b, k, n, nPad, depth, plan);
  }
  const tasks: TaskCall[][] = [];
  for (let ic = 0; ic < m; ic += MC) {
    const mc = Math.min(MC, m - ic);
    const rowTiles = Math.ceil(mc / MR);
    const block = aAt + ic * k * FLOAT;
    for (let pc = 0; pc < k; pc += depth) pack(floats, block / FLOAT + pc * rowTiles * MR, ic, mc, rowTiles, pc, Math.min(depth, k - pc), rawAt / FLOAT);
    const runs = Math.min(rowRuns, rowTiles);
    for (let r = 0; r < runs; r++) {
      const [t0, t1] = [Math.floor((r * rowTiles) / runs), Math.floor(((r + 1) * rowTiles) / runs)];
      for (let g = 0; g < groups; g++) {
        const [j0, j1] = [Math.floor((g * panels) / groups), Math.floor(((g + 1) * panels) / groups)];
        const task: TaskCall[] = [];
        for (let pc = 0; pc < k; pc += depth) {
          const kc = Math.min(depth, k - pc);
          const cut = cutInTasks ? cutPanels(plan, copyAt / FLOAT, bAt / FLOAT, k, n, nPad, pc, kc, j0, j1) : undefined;
          if (cut !== undefined) task.push(cut);
          const args = [block + (pc * rowTiles + t0 * kc) * MR * FLOAT, bAt + (pc * nPad + j0 * NR * kc) * FLOAT, cAt + ((ic + t0 * MR) * nPad + j0 * NR) * FLOAT, t1 - t0, j1 - j0, kc, nPad * FLOAT, pc > 0 ? 1 : 0];
          task.push({ kernel, args });
        }
        tasks.push(task);
      }
    }
  }
  runTasks(tasks);
  if (held === undefined) reuse?.operands.keep(reuse.key, b, k, n, floats.subarray(bAt / FLOAT, bAt / FLOAT + k * nPad));
  for (let ic = 0; ic < m; ic += MC) storeBlock(floats, cAt / FLOAT + ic * nPad, nPad, c, ic, Math.min(MC, m - ic), n, epilogue, epilogueAt / FLOAT);
  return true;
}

/**
 * How `packB` packs a B: the first `panels` panels of NR columns are cut by
 * a WebAssembly kernel from B's copy in the memory (`copyB`), the rest in
 * JavaScript; `kernel` is null (and `panels` 0) where none applies.
 *
 * - A row-major B: copied as it is (one `set` for contiguous rows), its
 *   panels cut by `packPanelsBody`. NOTE: measured (whole float32 products,
 *   interleaved, loaded machine): 32 x 128 x 512 took 0.82 to 0.84 of the
 *   time of the JavaScript loop, 128 x 784 x 512 0.87 to 0.93, 512 x 128 x
 *   512 0.85 to 0.99; bigger m leaves less to gain.
 * - A transposed B (stored `[n, k]`, as `ct @ W^T` reads W): its stored rows
 *   copied as they are, its panels cut by 4 x 4 transposes (`packTilesBody`);
 *   a depth block of `k % 4` steps is left to JavaScript. NOTE: measured
 *   (whole products, interleaved with the JavaScript 8-stream loop, same
 *   bits, load 5.6): `128 x 256 x 512` 0.95 of the time, at 2 threads (where
 *   the cutting runs in the tasks, `parallelGemm`) 0.96.
 */
interface BPacking {
  readonly kernel: PoolKernel | null;
  readonly transposed: boolean;
  readonly panels: number;
}

function bPacking(b: MatrixView, k: number, n: number): BPacking {
  const { data, rowStride, colStride } = b;
  const wasm = data instanceof Float32Array && n >= NR;
  const rows = wasm && colStride === 1 ? poolPackPanels() : null;
  if (rows !== null) return { kernel: rows, transposed: false, panels: Math.floor(n / NR) };
  const columns = wasm && rowStride === 1 && colStride >= k ? poolPackTilesB() : null;
  if (columns !== null) return { kernel: columns, transposed: true, panels: Math.floor(n / NR) };
  return { kernel: null, transposed: false, panels: 0 };
}

/** Copies B into the memory from float `rawAt`, as `plan` cuts its panels: row-major `[k][n]` or, transposed, `[n][k]`. */
function copyB(floats: Float32Array, rawAt: number, b: MatrixView, k: number, n: number, plan: BPacking): void {
  if (plan.kernel === null) return;
  if (plan.transposed) copyRows(floats, rawAt, b.data, b.offset, b.colStride, n, k);
  else copyRows(floats, rawAt, b.data, b.offset, b.rowStride, k, n);
}

/** Whether `plan`'s kernel cuts the panels of a depth block of `kc` steps (the transposes go 4 steps at a time). */
const cutsBlock = (plan: BPacking, kc: number): boolean => plan.kernel !== null && (!plan.transposed || kc % 4 === 0);

/**
 * The kernel call that cuts panels `j0 .. j1` (at most `plan.panels`) of
 * the depth block at `pc` (`kc` steps) from B's copy at float `rawAt` into
 * the packing at float `at`, or undefined when the plan's kernel does not
 * cut that block or the run is empty.
 */
function cutPanels(plan: BPacking, rawAt: number, at: number, k: number, n: number, nPad: number, pc: number, kc: number, j0: number, j1: number): TaskCall | undefined {
  const count = Math.min(j1, plan.panels) - j0;
  if (plan.kernel === null || count <= 0 || !cutsBlock(plan, kc)) return undefined;
  const dst = (at + pc * nPad + j0 * NR * kc) * FLOAT;
  const args = plan.transposed ? [(rawAt + j0 * NR * k + pc) * FLOAT, dst, kc / 4, k * FLOAT, count] : [(rawAt + pc * n + j0 * NR) * FLOAT, dst, kc, n * FLOAT, count];
  return { kernel: plan.kernel, args };
}

/**
 * Packs all of B: for each block of k (`depth` deep, the last one shorter),
 * its panels of NR columns one after another, each `[kc][NR]` and zero past
 * column n. A block starts at float `at + pc * nPad`. The panels a
 * WebAssembly kernel cuts (`bPacking`) come from B's copy at float `rawAt`.
 */
function packB(floats: Float32Array, at: number, b: MatrixView, k: number, n: number, nPad: number, depth: number, rawAt: number): void {
  const plan = bPacking(b, k, n);
  copyB(floats, rawAt, b, k, n, plan);
  for (let pc = 0; pc < k; pc += depth) {
    const kc = Math.min(depth, k - pc);
    const call = cutPanels(plan, rawAt, at, k, n, nPad, pc, kc, 0, plan.panels);
    call?.kernel.local(...call.args);
  }
  packRestOfB(floats, at, b, k, n, nPad, depth, plan);
}

/** Packs in JavaScript the panels of B that `plan`'s kernel does not cut (`packB`). */
function packRestOfB(floats: Float32Array, at: number, b: MatrixView, k: number, n: number, nPad: number, depth: number, plan: BPacking): void {
  const { data, offset, rowStride, colStride } = b;
  for (let pc = 0; pc < k; pc += depth) {
    const kc = Math.min(depth, k - pc);
    const wasmPanels = cutsBlock(plan, kc) ? plan.panels : 0;
    for (let j0 = wasmPanels * NR; j0 < nPad; j0 += NR) {
      const panel = at + pc * nPad + j0 * kc;
      const cols = Math.min(NR, n - j0);
      if (colStride === 1 && cols === NR) {
        // NOTE: the common case (a row-major B, a whole panel) copies a row of 8 unrolled: twice as fast as the general loop.
        for (let p = 0, to = panel, from = offset + pc * rowStride + j0; p < kc; p++, to += NR, from += rowStride) {
          floats[to] = data[from] ?? 0;
          floats[to + 1] = data[from + 1] ?? 0;
          floats[to + 2] = data[from + 2] ?? 0;
          floats[to + 3] = data[from + 3] ?? 0;
          floats[to + 4] = data[from + 4] ?? 0;
          floats[to + 5] = data[from + 5] ?? 0;
          floats[to + 6] = data[from + 6] ?? 0;
          floats[to + 7] = data[from + 7] ?? 0;
        }
        continue;
      }
      if (rowStride === 1 && cols === NR) {
        // NOTE: a transposed B (stored [n, k], as `ct @ W^T` reads W) reads its 8 columns as 8 contiguous streams: measured, whole transB products of 32 x 512 x 128 to 128 x 512 x 784 took 0.72 to 0.88 of the time of the general loop.
        const c0 = offset + pc + j0 * colStride;
        const [c1, c2, c3] = [c0 + colStride, c0 + 2 * colStride, c0 + 3 * colStride];
        const [c4, c5, c6, c7] = [c0 + 4 * colStride, c0 + 5 * colStride, c0 + 6 * colStride, c0 + 7 * colStride];
        for (let p = 0, to = panel; p < kc; p++, to += NR) {
          floats[to] = data[c0 + p] ?? 0;
          floats[to + 1] = data[c1 + p] ?? 0;
          floats[to + 2] = data[c2 + p] ?? 0;
          floats[to + 3] = data[c3 + p] ?? 0;
          floats[to + 4] = data[c4 + p] ?? 0;
          floats[to + 5] = data[c5 + p] ?? 0;
          floats[to + 6] = data[c6 + p] ?? 0;
          floats[to + 7] = data[c7 + p] ?? 0;
        }
        continue;
      }
      for (let p = 0; p < kc; p++) {
        const to = panel + p * NR;
        let from = offset + (pc + p) * rowStride + j0 * colStride;
        for (let j = 0; j < cols; j++, from += colStride) floats[to + j] = data[from] ?? 0;
        for (let j = cols; j < NR; j++) floats[to + j] = 0;
      }
    }
  }
}

/**
 * Copies `rows` rows of `cols` floats, `stride` apart from `data[offset]`,
 * to `floats[to]` back to back: one `set` when they lie back to back already.
 */
function copyRows(floats: Float32Array, to: number, data: FloatArray, offset: number, stride: number, rows: number, cols: number): void {
  if (stride === cols) floats.set(data.subarray(offset, offset + rows * cols), to);
  else for (let r = 0; r < rows; r++) floats.set(data.subarray(offset + r * stride, offset + r * stride + cols), to + r * cols);
}

/** The most floats of A a product copies into the memory at once (64 MiB), for the WebAssembly packing kernels. */
const RAW_A_MAX = 2 ** 24;

/**
 * The packer of a float32 A (`m x k`) read through its view, and the floats
 * of scratch it needs. Where a WebAssembly kernel packs A's layout, A is
 * copied into the scratch as it is stored (one `set` when its rows lie back
 * to back), then cut into panels there:
 *
 * - a row-major A: each block of MC rows copied once with all its k columns
 *   (a depth block's rows alone where that copy would pass RAW_A_MAX), its
 *   panels cut by 4 x 4 transposes (`packTilesBody`);
 * - a transposed A (stored `[k, m]`, as `X^T @ dY` reads X): copied whole
 *   once (up to RAW_A_MAX floats), its panels the stored rows' runs of MR
 *   floats (`packPanelsBody`).
 *
 * Other layouts, depth blocks of `k % 4` steps (row-major) and the rows
 * past the last whole panel pack in JavaScript, from the view. NOTE:
 * measured (whole products, interleaved with the JavaScript loops, same
 * bits, load 5.6): transposed A `256 x 128 x 10` 0.72 of the time and
 * `512 x 128 x 256` 0.95; row-major A copied per block of rows rather than
 * per depth block, `128 x 784 x 512` 0.99.
 * NOTE: the copies made once per product (rather than per block of rows and
 * depth) are valid because a product writes the scratch only in `packB`,
 * which runs before the first call of the packer.
 */
function viewPacker(a: MatrixView, m: number, k: number): { readonly pack: PanelPacker; readonly scratch: number } {
  const { data, offset, rowStride, colStride } = a;
  const f32 = data instanceof Float32Array && m >= MR;
  const block = Math.min(m, MC);
  if (f32 && colStride === 1 && compiledPackTiles() !== null) {
    const wholeRows = block * k <= RAW_A_MAX;
    let copied = -1; // the first row of the block of rows the scratch holds (wholeRows)
    const pack: PanelPacker = (floats, at, i0, mc, rowTiles, p0, kc, scratchAt) => {
      const wholeTiles = Math.floor(mc / MR);
      const tiles = compiledPackTiles();
      if (tiles === null || scratchAt === undefined || kc % 4 !== 0 || wholeTiles === 0) return packA(floats, at, a, i0, mc, rowTiles, p0, kc);
      const rows = wholeTiles * MR;
      if (!wholeRows) {
        copyRows(floats, scratchAt, data, offset + i0 * rowStride + p0, rowStride, rows, kc);
        tiles(scratchAt * FLOAT, at * FLOAT, kc / 4, kc * FLOAT, wholeTiles);
      } else {
        if (copied !== i0) copyRows(floats, scratchAt, data, offset + i0 * rowStride, rowStride, rows, k);
        copied = i0;
        tiles((scratchAt + p0) * FLOAT, at * FLOAT, kc / 4, k * FLOAT, wholeTiles);
      }
      packRows(floats, at, a, i0, mc, rows, rowTiles * MR, p0, kc);
    };
    return { pack, scratch: wholeRows ? block * k : block * Math.min(k, KC) };
  }
  if (f32 && rowStride === 1 && colStride >= m && m * k <= RAW_A_MAX && compiledPackPanelsA() !== null) {
    let copied = false;
    const pack: PanelPacker = (floats, at, i0, mc, rowTiles, p0, kc, scratchAt) => {
      const wholeTiles = Math.floor(mc / MR);
      const panels = compiledPackPanelsA();
      if (panels === null || scratchAt === undefined || wholeTiles === 0) return packA(floats, at, a, i0, mc, rowTiles, p0, kc);
      if (!copied) copyRows(floats, scratchAt, data, offset, colStride, k, m);
      copied = true;
      panels((scratchAt + p0 * m + i0) * FLOAT, at * FLOAT, kc, m * FLOAT, wholeTiles);
      packRows(floats, at, a, i0, mc, wholeTiles * MR, rowTiles * MR, p0, kc);
    };
    return { pack, scratch: m * k };
  }
  return { pack: (floats, at, i0, mc, rowTiles, p0, kc) => packA(floats, at, a, i0, mc, rowTiles, p0, kc), scratch: 0 };
}

/** Packs `A[i0 .. i0 + mc, p0 .. p0 + kc]` from float `at` as `rowTiles` panels of MR rows, each `[kc][MR]` and zero past row mc, in JavaScript. */
function packA(floats: Float32Array, at: number, a: MatrixView, i0: number, mc: number, rowTiles: number, p0: number, kc: number): void {
  const { data, offset, rowStride, colStride } = a;
  const wholeTiles = Math.floor(mc / MR);
  if (MR === 4) {
    // NOTE: whole panels pack 4 rows at a time, unrolled: twice as fast as the row-by-row loop.
    for (let tile = 0; tile < wholeTiles; tile++) {
      const row0 = offset + (i0 + tile * MR) * rowStride + p0 * colStride;
      const row1 = row0 + rowStride, row2 = row1 + rowStride, row3 = row2 + rowStride;
      for (let p = 0, to = at + tile * kc * MR, s = 0; p < kc; p++, to += MR, s += colStride) {
        floats[to] = data[row0 + s] ?? 0;
        floats[to + 1] = data[row1 + s] ?? 0;
        floats[to + 2] = data[row2 + s] ?? 0;
        floats[to + 3] = data[row3 + s] ?? 0;
      }
    }
    packRows(floats, at, a, i0, mc, wholeTiles * MR, rowTiles * MR, p0, kc);
    return;
  }
  packRows(floats, at, a, i0, mc, 0, rowTiles * MR, p0, kc);
}

/** Packs rows `first .. end` of the block of `packA` one by one (zeros past row mc). */
function packRows(floats: Float32Array, at: number, a: MatrixView, i0: number, mc: number, first: number, end: number, p0: number, kc: number): void {
  const { data, offset, rowStride, colStride } = a;
  for (let i = first; i < end; i++) {
    let to = at + Math.floor(i / MR) * kc * MR + (i % MR);
    if (i >= mc) {
      for (let p = 0; p < kc; p++, to += MR) floats[to] = 0;
      continue;
    }
    for (let p = 0, from = offset + (i0 + i) * rowStride + p0 * colStride; p < kc; p++, from += colStride, to += MR) floats[to] = data[from] ?? 0;
  }
}

/**
 * The body of `epilogue(c, rows, vectors, ld, bias, old)` for an epilogue
 * of `bias`, `beta` and `relu` (not both of the first two): applies it in
 * place to `rows` rows of `vectors` f32x4 each (rows `ld` bytes apart, from
 * `c`), reading the bias from `bias` (one row) and C's old values from
 * `old` (rows `ld` apart): `y = sum + bias` or `y = old + sum`, each one
 * float32 addition, then relu as `y < 0 ? 0 : y` (`f32x4.pmax(y, 0)`: NaN
 * and -0 stay). These are the bits of `storeBlock`'s JavaScript loop (up to
 * a NaN's payload, which WebAssembly leaves open; the same on x64), which
 * adds two float32 values in float64 and rounds once: the exact sum of two
 * float32 values rounds the same through float64 (53 >= 2 * 24 + 2 bits),
 * and it is 0 only when it is exactly 0, so relu sees the same sign. With
 * both bias and beta the loop adds three values before it rounds, so that
 * case stays in JavaScript.
 */
function epilogueBody(bias: boolean, beta: boolean, relu: boolean): FunctionBody {
  if (bias && beta) throw new Error("wasm matmul: the epilogue kernel does not add both a bias and C");
  const f = new FunctionBody(6);
  const [c, rows, vectors, ld, biasAt, old] = [0, 1, 2, 3, 4, 5];
  const [row, from, at, left] = [f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)];
  const [x, zero] = [f.local(ValType.v128), f.local(ValType.v128)];
  f.zeros().set(zero);
  f.get(c).set(row);
  f.loop(); // over rows
  f.get(row).set(at).get(old).set(from).get(biasAt).set(c).get(vectors).set(left);
  f.loop(); // over vectors of a row; `c` walks the bias
  f.get(at).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16)).set(x);
  if (bias) f.get(x).get(c).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16)).simd(SimdOp.f32x4_add).set(x);
  if (beta) f.get(from).simd(SimdOp.v128_load, FunctionBody.memarg(ALIGN_16)).get(x).simd(SimdOp.f32x4_add).set(x);
  if (relu) f.get(x).get(zero).simd(SimdOp.f32x4_pmax).set(x);
  f.get(at).get(x).simd(SimdOp.v128_store, FunctionBody.memarg(ALIGN_16));
  for (const p of [at, from, c]) f.get(p).i32(VECTOR).op(Op.i32_add).set(p);
  f.get(left).i32(1).op(Op.i32_sub).tee(left).brIf(0);
  f.end();
  f.get(row).get(ld).op(Op.i32_add).set(row);
  f.get(old).get(ld).op(Op.i32_add).set(old);
  f.get(rows).i32(1).op(Op.i32_sub).tee(rows).brIf(0);
  f.end();
  return f;
}

/** The compiled `epilogueBody` of each epilogue (index: bias + 2 beta + 4 relu), built on first use; null without WebAssembly SIMD. */
const compiledEpilogues = Array.from({ length: 8 }, (_, i) => lazyKernel<(c: number, rows: number, vectors: number, ld: number, bias: number, old: number) => void>(() => epilogueBody((i & 1) !== 0, (i & 2) !== 0, (i & 4) !== 0), 6));

/** Whether `storeBlock` applies the epilogue `e` in WebAssembly (`epilogueBody`): a float32 bias or C's old values, not both, or relu alone. */
const wasmEpilogue = (e: WasmEpilogue): boolean => (e.beta || e.bias !== undefined || e.relu) && !(e.beta && e.bias !== undefined) && (e.bias === undefined || e.bias instanceof Float32Array);

/** The bytes `storeBlock` needs past a product's scratch for the epilogue `e`: a row of bias and a block of C's old values. */
const epilogueBytes = (m: number, nPad: number, e: WasmEpilogue): number => (wasmEpilogue(e) ? (1 + Math.min(m, MC)) * nPad * FLOAT : 0);

/**
 * Stores rows `i0 .. i0 + mc` of C from the staged block (float `at`, rows
 * `nPad` apart) through C's view, with the epilogue: applied in place in
 * WebAssembly (`epilogueBody`; the bias and C's old rows copied to float
 * `epilogueAt` first) where it can be and C's rows are contiguous, then the
 * rows copied out; otherwise in a JavaScript loop.
 */
function storeBlock(floats: Float32Array, at: number, nPad: number, c: MatrixView, i0: number, mc: number, n: number, e: WasmEpilogue, epilogueAt: number): void {
  const { data, offset, rowStride, colStride } = c;
  const inPlace = colStride === 1 && wasmEpilogue(e) ? compiledEpilogues[(e.bias === undefined ? 0 : 1) + (e.beta ? 2 : 0) + (e.relu ? 4 : 0)]?.() : null;
  if (inPlace !== null && inPlace !== undefined) {
    const [biasAt, oldAt] = [epilogueAt, epilogueAt + nPad];
    if (e.bias !== undefined) floats.set(e.bias.subarray(e.biasOffset, e.biasOffset + n), biasAt);
    if (e.beta) for (let i = 0; i < mc; i++) floats.set(data.subarray(offset + (i0 + i) * rowStride, offset + (i0 + i) * rowStride + n), oldAt + i * nPad);
    // the padding columns (past n) take garbage through the epilogue and are never stored
    inPlace(at * FLOAT, mc, nPad / 4, nPad * FLOAT, biasAt * FLOAT, oldAt * FLOAT);
  }
  const plain = inPlace !== null && inPlace !== undefined ? true : !e.beta && e.bias === undefined && !e.relu;
  // NOTE: a row of fewer than 32 floats copies faster by hand than through `subarray` and `set`.
  if (plain && colStride === 1 && rowStride === nPad && n === nPad) {
    // C's rows lie back to back, as the staged rows do (a convolution's NHWC output): the block in one copy.
    data.set(floats.subarray(at, at + mc * nPad), offset + i0 * rowStride);
    return;
  }
  if (plain && colStride === 1 && n >= 32) {
    for (let i = 0; i < mc; i++) data.set(floats.subarray(at + i * nPad, at + i * nPad + n), offset + (i0 + i) * rowStride);
    return;
  }
  if (plain) {
    for (let i = 0; i < mc; i++) {
      for (let j = 0, from = at + i * nPad, to = offset + (i0 + i) * rowStride; j < n; j++, from++, to += colStride) data[to] = floats[from] ?? 0;
    }
    return;
  }
  const { bias, biasOffset } = e;
  for (let i = 0; i < mc; i++) {
    for (let j = 0, from = at + i * nPad, to = offset + (i0 + i) * rowStride; j < n; j++, from++, to += colStride) {
      const sum = floats[from] ?? 0;
      const v = bias === undefined ? sum : sum + (bias[biasOffset + j] ?? 0);
      const y = e.beta ? (data[to] ?? 0) + v : v;
      data[to] = e.relu && y < 0 ? 0 : y;
    }
  }
}
