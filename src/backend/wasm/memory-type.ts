/**
 * The type of the one WebAssembly memory every kernel module imports:
 * shared (threads can work in it at once) where the host allows it, plain
 * otherwise. Decided once, when the backend loads, because a module's
 * import names the type and a shared memory can only be imported by modules
 * that declare it shared, with a maximum.
 *
 * A shared memory needs `SharedArrayBuffer`, which a browser gives only to a
 * cross-origin-isolated page (COOP and COEP headers). Where it is missing the
 * memory is plain and every kernel runs on the calling thread; `sharing`
 * says which and why. Left out: choosing per module (one memory serves all).
 */

import { hostWebAssembly, type WebAssemblyApi } from "../../core/host.js";

const PAGE = 65536;

/** The most pages the memory may grow to: 2^31 bytes, the backend's `WASM_MAX_BYTES` (codegen.ts). */
export const MEMORY_MAX_PAGES = 2 ** 31 / PAGE;

/** Whether the memory is shared, and if not, why. */
export interface MemorySharing {
  readonly shared: boolean;
  /** Why it is not shared (empty when it is). */
  readonly reason: string;
}

/** The host globals read here (typed without DOM or Node typings). */
interface IsolationGlobals {
  readonly SharedArrayBuffer?: unknown;
  readonly crossOriginIsolated?: boolean;
}

function decideSharing(): MemorySharing {
  // Sound: reading possibly-absent properties of the global object; each is checked before use.
  const host = globalThis as IsolationGlobals;
  if (hostWebAssembly === undefined) return { shared: false, reason: "this engine has no WebAssembly" };
  if (typeof host.SharedArrayBuffer !== "function") {
    const page = host.crossOriginIsolated === false ? " (the page is not cross-origin isolated: serve it with COOP and COEP headers)" : "";
    return { shared: false, reason: `SharedArrayBuffer is not available${page}` };
  }
  try {
    new hostWebAssembly.Memory({ initial: 0, maximum: MEMORY_MAX_PAGES, shared: true });
  } catch {
    return { shared: false, reason: "this engine cannot make a shared WebAssembly memory" };
  }
  return { shared: true, reason: "" };
}

/** Whether the kernels' memory is shared here (decided once, when the backend loads). */
export const sharing: MemorySharing = decideSharing();

/**
 * The memory import's limits every module declares: shared with a maximum
 * where `sharing.shared`, a plain minimum otherwise.
 */
export const MEMORY_LIMITS: { readonly minPages: number; readonly maxPages?: number; readonly shared?: boolean } = sharing.shared
  ? { minPages: 0, maxPages: MEMORY_MAX_PAGES, shared: true }
  : { minPages: 0 };

/** A WebAssembly memory, as the host's API makes it. */
export type KernelMemory = InstanceType<WebAssemblyApi["Memory"]>;

/** A new memory of the type every kernel module imports (`MEMORY_LIMITS`): shared with a maximum where `sharing.shared`. */
export function newKernelMemory(wasm: WebAssemblyApi): KernelMemory {
  return new wasm.Memory(sharing.shared ? { initial: 1, maximum: MEMORY_MAX_PAGES, shared: true } : { initial: 1 });
}

/** `memory`'s buffer, the memory grown to at least `bytes`; undefined when it cannot grow that far. */
export function grownBuffer(memory: KernelMemory, bytes: number): ArrayBufferLike | undefined {
  if (bytes > MEMORY_MAX_PAGES * PAGE) return undefined;
  const have = memory.buffer.byteLength;
  try {
    // NOTE: a memory keeps its largest size for the life of the process, as WebAssembly memories cannot shrink.
    if (have < bytes) memory.grow(Math.ceil((bytes - have) / PAGE));
  } catch {
    return undefined; // the engine refused the pages
  }
  return memory.buffer;
}
