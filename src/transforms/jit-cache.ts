/**
 * The jit cache: compiled programs by input signature, bounded twice over.
 *
 * Each jitted function keeps its programs in a `SignatureCache`, a
 * least-recently-used map of at most `maxSignatures` entries (64 by default,
 * `jit(f, { maxSignatures })`). Across every jitted function, the programs
 * held count against one byte budget (256 MiB by default,
 * `setJitCacheBudget`); past it, the least recently used program anywhere is
 * evicted. An evicted program is dropped whole (its IR, its compiled steps,
 * its constants and the intermediate buffers its executable keeps between
 * calls, `ir/fusion/execute.ts`) and is traced again if its signature comes
 * back. A program's size is an estimate: the bytes of its constants and of
 * its kept buffers (what grows with the shapes) plus `EQUATION_BYTES` per
 * equation for its IR and compiled steps. The budget tracks only live functions: the programs of
 * a jitted function that is garbage leave the count when they are collected.
 * Deliberately left out: the kernel cache below (`fusion/compile.ts`, bounded
 * on its own) and the WebAssembly memory, which keeps its largest size.
 */

import type { Program } from "../ir/program.js";

/** How many signatures one jitted function keeps by default. */
export const DEFAULT_MAX_SIGNATURES = 64;

/** The byte budget of all jitted functions' programs together, by default: 256 MiB. */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

/** The bytes counted for each equation of a program: its IR and its compiled step, estimated. */
export const EQUATION_BYTES = 256;

/** One program held by some cache, in the global least-recently-used order. */
interface Held {
  readonly owner: WeakRef<SignatureCache<object>>;
  readonly key: string;
  readonly bytes: number;
}

let budget = DEFAULT_CACHE_BYTES;
let total = 0;
let nextId = 0;
/** Every held program, least recently used first (a `Map` iterates in insertion order). */
const held = new Map<number, Held>();
/** Forgets the programs of caches that were collected with their jitted function. */
const collected = new FinalizationRegistry<number>((id) => forget(id));

function forget(id: number): void {
  const h = held.get(id);
  if (h === undefined) return;
  held.delete(id);
  total -= h.bytes;
}

/** The estimated bytes of `program`'s IR, steps and constants (its executable's kept buffers are counted apart: `Executable.bufferBytes`). */
export function programBytes(program: Program): number {
  const constants = program.consts.reduce((n, c) => n + c.value.data.byteLength, 0);
  return constants + EQUATION_BYTES * program.eqns.length;
}

/**
 * Sets the byte budget of all jitted functions' programs together, evicting
 * at once down to it; returns the previous budget. Throws a `RangeError` for
 * anything but a non-negative number.
 *
 * @example
 * const before = setJitCacheBudget(64 * 2 ** 20); // 64 MiB
 */
export function setJitCacheBudget(bytes: number): number {
  if (typeof bytes !== "number" || !(bytes >= 0)) throw new RangeError(`setJitCacheBudget: bytes must be a non-negative number, got ${String(bytes)}`);
  const before = budget;
  budget = bytes;
  evictOverBudget();
  return before;
}

/** What the jit cache holds now, across every jitted function (for tests and monitoring). */
export function jitCacheStats(): { readonly programs: number; readonly bytes: number; readonly budget: number } {
  return { programs: held.size, bytes: total, budget };
}

/** Evicts the least recently used programs anywhere until the total fits the budget (keeping the newest). */
function evictOverBudget(): void {
  for (const [id, h] of held) {
    if (total <= budget || held.size <= 1) return;
    const owner = h.owner.deref();
    if (owner === undefined) forget(id);
    else owner.evict(h.key, id);
  }
}

/** A least-recently-used map of compiled programs by signature, in the global byte budget. */
export class SignatureCache<V extends object> {
  readonly #entries = new Map<string, { readonly value: V; readonly id: number }>();

  /** The constructor's `onEvict`, as a method signature: so that a cache of any values counts as a cache of objects. */
  readonly #hooks: { onEvict?(value: V): void };

  /** `onEvict` is told of each value the cache drops (not of those collected with it). */
  constructor(
    readonly maxSignatures: number,
    onEvict?: (value: V) => void,
  ) {
    this.#hooks = onEvict === undefined ? {} : { onEvict };
    if (!Number.isInteger(maxSignatures) || maxSignatures < 1) {
      throw new RangeError(`jit: maxSignatures must be an integer of at least 1, got ${String(maxSignatures)}`);
    }
  }

  /** How many signatures are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, now the most recently used here and globally. */
  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    const h = held.get(hit.id);
    if (h !== undefined) {
      held.delete(hit.id);
      held.set(hit.id, h);
    }
    return hit.value;
  }

  /** Holds `value` under `key`, counting `bytes`; evicts past `maxSignatures` here and past the budget anywhere. */
  set(key: string, value: V, bytes: number): void {
    const id = nextId++;
    this.#entries.set(key, { value, id });
    held.set(id, { owner: new WeakRef<SignatureCache<object>>(this), key, bytes });
    total += bytes;
    collected.register(value, id);
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.maxSignatures) break;
      this.evict(oldest, entry.id);
    }
    evictOverBudget();
  }

  /** Drops the program `id` held under `key` (a later one under the same key stays). */
  evict(key: string, id: number): void {
    const entry = this.#entries.get(key);
    if (entry?.id === id) {
      this.#entries.delete(key);
      this.#hooks.onEvict?.(entry.value);
    }
    forget(id);
  }
}
