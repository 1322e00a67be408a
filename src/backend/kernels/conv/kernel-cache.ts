/**
 * The caches of the convolution and pooling kernels: compiled WebAssembly
 * (and the plans and window tables around it) by the sizes its code depends
 * on, built on first use and kept while used.
 *
 * A cache that empties itself when full rebuilds everything a model uses
 * every step once the model's kernels outnumber it, and each rebuilt kernel
 * registers a new module with the worker pool until its `MAX_MODULES`
 * (past which that kernel's jobs run on the calling thread alone). So these
 * caches drop their least recently used entry instead, and hold many: a
 * training step of one 3 x 3 convolution geometry builds about 20 to 30
 * entries (the forward's and the input gradient's tile kinds, the filter
 * gradient's, the staging passes), and a model meets a few geometries per
 * stage, twice where it evaluates at another batch size. Measured
 * (2026-12-08, one thread, a jitted gradient of seven 3 x 3 convolutions
 * with relu, 16 to 72 channels, batch 8, 16 x 16; 162 builds in all): 423
 * ms a step with the Winograd cache of 128 that emptied itself, against 24
 * ms with this one (six layers, 137 builds, fitted either way).
 */

/** Every cache made, for `kernelBuilds`. */
const caches: { readonly builds: number }[] = [];

/**
 * How many kernels and plans the caches have built so far, all of them: for
 * tests, which check that a model's later steps build nothing.
 */
export function kernelBuilds(): number {
  return caches.reduce((n, c) => n + c.builds, 0);
}

/**
 * A map of at most `capacity` entries, and at most `maxWeight` of their
 * `weigh` (bytes, say), that forgets the least recently used first. A value
 * heavier than `maxWeight` alone is handed out and not kept.
 */
export class KernelCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #capacity: number;
  readonly #maxWeight: number;
  readonly #weigh: (value: V) => number;
  #weight = 0;
  #builds = 0;

  constructor(capacity: number, limit?: { readonly maxWeight: number; readonly weigh: (value: V) => number }) {
    this.#capacity = capacity;
    this.#maxWeight = limit?.maxWeight ?? Infinity;
    this.#weigh = limit?.weigh ?? (() => 0);
    caches.push(this);
  }

  /** The value under `key`, made by `build` (and kept) when there is none. */
  get(key: string, build: () => V): V {
    if (this.#entries.has(key)) {
      const value = this.#entries.get(key) as V; // NOTE: sound: `has` said the key is present (its value may be null)
      // the most recently used entry goes last in the map's order
      this.#entries.delete(key);
      this.#entries.set(key, value);
      return value;
    }
    const value = build();
    this.#builds++;
    const weight = this.#weigh(value);
    if (weight > this.#maxWeight) return value;
    while (this.#entries.size > 0 && (this.#entries.size >= this.#capacity || this.#weight + weight > this.#maxWeight)) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value[0]);
      this.#weight -= this.#weigh(oldest.value[1]);
    }
    this.#entries.set(key, value);
    this.#weight += weight;
    return value;
  }

  /** How many values `build` has made. */
  get builds(): number {
    return this.#builds;
  }

  /** The entries kept. */
  get size(): number {
    return this.#entries.size;
  }
}
