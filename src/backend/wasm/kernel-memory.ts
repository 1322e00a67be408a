/**
 * The one WebAssembly memory of every kernel (the fused loops, matmul,
 * convolution and pooling, on the calling thread and on the worker pool),
 * and the buffers of compiled programs that live in it.
 *
 * A compiled program (`src/ir/fusion/execute.ts`) keeps its intermediate
 * buffers from call to call; where the memory is a shared one (its views
 * survive its growth) those buffers are views of this memory
 * (`arenaAllocator`), so a kernel can read and write them where they are
 * (`arenaAddress`) instead of copying them in and out: measured on a CNN's
 * bias + relu over [64, 28, 28, 32] (2-core Intel Xeon, 2026-12-08), 0.52 ms
 * in place against 1.33 ms with the copies. Every kernel that does not know
 * them takes such a view as it takes any `Float32Array`.
 *
 * Layout: a kernel call's working memory (its copies of other buffers, its
 * packings, its accumulators) from address 0, below `ARENA_BASE`; the
 * buffers (blocks 64-byte aligned, first fit, freed blocks merged with free
 * neighbours) from `ARENA_BASE` up, at most `ARENA_MAX_BYTES` of them, at
 * the top of the memory's largest size. A kernel's working memory lives for
 * one call: calls on the calling thread follow one another, and a call's
 * pool tasks end before it returns. A block is taken or given back only
 * between kernel calls, and its memory is zero when it is handed out.
 * Blocks are given back when the program that took them is released or
 * garbage collected (`arenaAllocator`). Using the arena grows the memory
 * past `ARENA_BASE`: WebAssembly reserves a shared memory's maximum when it
 * is made, and a page costs physical memory only once it is written, so the
 * pages between the working memory and the arena cost address space only.
 */

import { hostWebAssembly } from "../../core/host.js";
import { grownBuffer, MEMORY_MAX_PAGES, newKernelMemory, sharing, type KernelMemory } from "./memory-type.js";

const ALIGN = 64;

/**
 * The most bytes the buffers in the kernels' memory take together (past it,
 * programs get ordinary arrays; the rest of the memory is for the kernels'
 * working memory): the jit cache's default budget (`jit-cache.ts`), which
 * counts these buffers too. Programs that the cache never drops (those of a
 * jitted function that was itself dropped) hold theirs until a garbage
 * collection finishes, which a synchronous loop never lets happen: this
 * bounds what they hold.
 */
export const ARENA_MAX_BYTES = 256 * 2 ** 20;

/** Where the arena starts (bytes): the top `ARENA_MAX_BYTES` of the memory's largest size. A kernel call's working memory stays below it. */
export const ARENA_BASE = MEMORY_MAX_PAGES * 65536 - ARENA_MAX_BYTES;

let memory: KernelMemory | undefined;
/** Every buffer the memory has had (a shared memory's buffer object changes as it grows; older ones stay valid). */
const buffers = new WeakSet<ArrayBufferLike>();

/** The kernels' memory (made on first use), of the type `MEMORY_IMPORT` declares; undefined without WebAssembly. */
export function wasmMemory(): KernelMemory | undefined {
  if (hostWebAssembly === undefined) return undefined;
  try {
    memory ??= newKernelMemory(hostWebAssembly);
  } catch {
    return undefined; // the engine refused the memory: the kernels run in JavaScript
  }
  buffers.add(memory.buffer);
  return memory;
}

/** The memory's buffer, grown to at least `bytes`; undefined when it cannot grow that far. */
function grownTo(bytes: number): ArrayBufferLike | undefined {
  const m = wasmMemory();
  const buffer = m === undefined ? undefined : grownBuffer(m, bytes);
  if (buffer !== undefined) buffers.add(buffer);
  return buffer;
}

let view: Float32Array | undefined;

/**
 * The memory's buffer for a kernel call's working memory of `bytes` from
 * address 0: grown to hold it (the memory keeps its largest size);
 * undefined when WebAssembly is missing or `bytes` reaches past
 * `ARENA_BASE` (a shared memory, which holds the arena) or where the memory
 * can grow. A plain memory's buffer is
 * replaced when it grows, so views of an earlier one must be made again
 * after each call.
 *
 * @example
 * const heap = workingMemory(1024);
 * if (heap !== undefined) new Float32Array(heap, 0, 256).fill(0);
 */
export function workingMemory(bytes: number): ArrayBufferLike | undefined {
  // NOTE: a plain memory has no arena (`arenaAllocator`): a call may use all of it
  return sharing.shared && bytes > ARENA_BASE ? undefined : grownTo(bytes);
}

/**
 * A float32 view of the whole memory, grown to hold a working memory of
 * `bytes` (`workingMemory`; the view is made again only when the memory
 * grew); undefined where that cannot be. Good until the next call that may
 * grow the memory.
 */
export function loopHeap(bytes: number): Float32Array | undefined {
  const heap = workingMemory(bytes);
  if (heap === undefined) return undefined;
  if (view?.buffer !== heap) view = new Float32Array(heap);
  return view;
}

/** A block of the arena: its first byte and its length in bytes. */
interface Block {
  readonly at: number;
  readonly bytes: number;
}

/** The free blocks below the top, by address. */
const free: Block[] = [];
let top = 0;


/** Takes `bytes` (a multiple of ALIGN) from the free blocks or the top; undefined past the arena's limit. */
function takeBlock(bytes: number): number | undefined {
  const i = free.findIndex((b) => b.bytes >= bytes);
  const block = free[i];
  if (block !== undefined) {
    if (block.bytes === bytes) free.splice(i, 1);
    else free[i] = { at: block.at + bytes, bytes: block.bytes - bytes };
    return block.at;
  }
  if (top + bytes > ARENA_MAX_BYTES) return undefined;
  const at = top;
  top += bytes;
  return at;
}

/** Gives a block back, merged with its free neighbours; the top comes down past free blocks. */
function giveBlock(at: number, bytes: number): void {
  let i = free.findIndex((b) => b.at > at);
  if (i < 0) i = free.length;
  free.splice(i, 0, { at, bytes });
  const next = free[i + 1];
  const current = free[i];
  if (next !== undefined && current !== undefined && current.at + current.bytes === next.at) free.splice(i, 2, { at: current.at, bytes: current.bytes + next.bytes });
  const before = free[i - 1];
  const merged = free[i];
  if (before !== undefined && merged !== undefined && before.at + before.bytes === merged.at) free.splice(i - 1, 2, { at: before.at, bytes: before.bytes + merged.bytes });
  const last = free[free.length - 1];
  if (last !== undefined && last.at + last.bytes === top) {
    top = last.at;
    free.pop();
  }
}

/** The blocks of every owner that is still alive, given back when it is collected. */
const collected = new FinalizationRegistry<Block[]>((blocks) => {
  for (const b of blocks) giveBlock(b.at, b.bytes);
});

/** Buffers in the kernels' memory for one owner (`arenaAllocator`). */
export interface ArenaAllocator {
  /** A float32 buffer of `size` elements, all zero; undefined where the arena cannot make it (see `arenaAllocator`). */
  readonly take: (size: number) => Float32Array | undefined;
  /** Gives every buffer taken so far back now (none of them may be used afterwards); later ones are given back on collection as before. */
  readonly release: () => void;
}

/**
 * Makes float32 buffers in the kernels' memory for `owner`, given back when
 * `owner` is garbage collected (or by `release`). `take` returns undefined
 * where the memory is not shared (a plain memory's views die when it grows)
 * or the arena or the memory cannot take the buffer: the caller then
 * allocates an ordinary array. The buffers are the owner's alone: nothing
 * may hold one once the owner is gone.
 *
 * @example
 * const arena = arenaAllocator(executable);
 * const buffer = arena.take(1024) ?? new Float32Array(1024);
 */
export function arenaAllocator(owner: object): ArenaAllocator {
  let blocks: Block[] = [];
  const token = {};
  const take = (size: number): Float32Array | undefined => {
    if (!sharing.shared || !Number.isSafeInteger(size) || size < 1) return undefined;
    const bytes = Math.ceil((size * 4) / ALIGN) * ALIGN;
    const at = takeBlock(bytes);
    if (at === undefined) return undefined;
    const heap = grownTo(ARENA_BASE + top);
    if (heap === undefined) {
      giveBlock(at, bytes);
      return undefined;
    }
    if (blocks.length === 0) collected.register(owner, blocks, token);
    blocks.push({ at, bytes });
    const buffer = new Float32Array(heap, ARENA_BASE + at, size);
    buffer.fill(0);
    return buffer;
  };
  const release = (): void => {
    collected.unregister(token);
    for (const b of blocks) giveBlock(b.at, b.bytes);
    blocks = [];
  };
  return { take, release };
}

/** The addresses `arenaAddress` has given out while `watchArena` runs, else undefined. */
let answered: Set<number> | undefined;

/**
 * The byte address of `buffer` in the kernels' memory when it is a view of
 * the arena (a compiled program's buffer), else undefined: views of a
 * kernel call's working memory (below `ARENA_BASE`) are not, as the next
 * call lays its own working memory out over them.
 */
export function arenaAddress(buffer: Float32Array): number | undefined {
  const address = sharing.shared && buffers.has(buffer.buffer) && buffer.byteOffset >= ARENA_BASE ? buffer.byteOffset : undefined;
  if (address !== undefined) answered?.add(address);
  return address;
}

/**
 * Runs `run` and returns its result with the byte addresses `arenaAddress`
 * gave out meanwhile: the buffers a kernel found it could read or write
 * where they are (one that then copies such a buffer anyway still counts:
 * the tests search the working memory for the copy too). For tests, which
 * check that kernels take buffers in place (the bits are the same either
 * way). `run` is synchronous: what runs after its first `await` is not
 * watched.
 */
export function watchArena<T>(run: () => T): { readonly result: T; readonly addresses: ReadonlySet<number> } {
  const outer = answered;
  const addresses = new Set<number>();
  answered = addresses;
  try {
    return { result: run(), addresses };
  } finally {
    answered = outer;
    // a watch around this one sees these addresses too
    if (outer !== undefined) for (const a of addresses) outer.add(a);
  }
}

/** The arena's extent, for tests: its top and its free blocks below the top, in bytes from `ARENA_BASE`. */
export function arenaState(): { readonly top: number; readonly free: readonly Block[] } {
  return { top, free: free.map((b) => ({ ...b })) };
}
