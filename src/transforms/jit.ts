/**
 * `jit(f)`: trace once per input signature, compile, and reuse.
 *
 * The first call with a given structure of arguments and shapes and dtypes of
 * their tensors traces `f` into a program (see `trace.ts`), compiles it, and
 * caches the result under that signature; later calls with the same signature
 * run the compiled program without tracing again. Arguments and results are
 * trees of tensors (records and arrays). Values captured from the closure are
 * constants of the program. The cache is bounded (`jit-cache.ts`): at most
 * `maxSignatures` programs per function (64 by default), least recently used
 * evicted first, within a byte budget shared by every jitted function.
 * A compiled program keeps its intermediate buffers from call to call
 * (`ir/fusion/execute.ts`): a jitted training step allocates only what it
 * returns. `jit(f, { donate: [0] })` also lets it write its results over
 * argument 0's tensors once it has read them (JAX's `donate_argnums`), so a
 * parameter update needs no new storage at all; the caller gives those
 * tensors up.
 */

import type { ShapeError } from "../core/errors.js";
import { flattenTree, treeDefKey, unflattenTree, type Tree, type TreeDef } from "../core/tree.js";
import { compileProgram, type Executable } from "../ir/fusion/execute.js";
import type { Program } from "../ir/program.js";
import type { AnyTensor } from "../prims/types.js";
import { DEFAULT_MAX_SIGNATURES, programBytes, SignatureCache } from "./jit-cache.js";
import { tracerOf } from "../prims/bind.js";
import { traceProgram } from "./trace.js";

let staging = 0;

/**
 * Whether a `jit` is tracing its function now. Code that draws randomness
 * from a JavaScript value (dropout's key) asks, because such a value would be
 * frozen into the program as a constant and replayed on every call.
 */
export function insideJit(): boolean {
  return staging > 0;
}

/**
 * A check of scalar values that a program computes: `failure` reads their
 * numbers and gives the error to throw, or undefined when they are fine.
 */
interface ValueCheck {
  readonly values: readonly AnyTensor[];
  readonly failure: (values: readonly number[]) => Error | undefined;
}

/** The checks recorded by the function that a jit is tracing now, if any. */
let pendingChecks: ValueCheck[] | undefined;

/**
 * Checks scalar values once they exist: at once for concrete tensors; while
 * a `jit` traces, the values become extra outputs of its program, read after
 * every run (so a check costs one scalar per call, never a sync inside the
 * program). Inside another transform (grad, vmap) of values not traced by a
 * jit, the check is skipped.
 *
 * @example
 * checkValues([rate], ([r]) => (r >= 0 ? undefined : new RangeError(`sgd: the rate ${r} is negative`)));
 */
export function checkValues(values: readonly AnyTensor[], failure: (values: readonly number[]) => Error | undefined): void {
  if (values.every((x) => x.tracer === undefined)) {
    const error = failure(values.map((x) => Number(x.data[0])));
    if (error !== undefined) throw error;
    return;
  }
  pendingChecks?.push({ values, failure });
}

interface Compiled {
  readonly program: Program;
  readonly run: Executable;
  readonly outDef: TreeDef;
  /** The checks whose values follow the result's leaves among the program's outputs. */
  readonly checks: readonly ValueCheck[];
}

/** The options of `jit`. */
export interface JitOptions {
  /** How many signatures to keep compiled, least recently used evicted first (default 64). */
  readonly maxSignatures?: number;
  /**
   * Positions of arguments whose tensors the caller gives up (JAX's
   * `donate_argnums`): the program may write its results into their storage
   * once it has read them, so that `params = step(params, ...)` updates in
   * place. NOTE: a donated tensor must not be read after the call: it may
   * hold a result. Default: none (every argument is left as it was).
   */
  readonly donate?: readonly number[];
}

/** The number of leaves of a tree of definition `def`. */
function leafCount(def: TreeDef): number {
  return def.kind === "leaf" ? 1 : def.children.reduce((n, c) => n + leafCount(c), 0);
}

/** The positions among the flattened leaves of the arguments (of definition `def`) at positions `argnums`. */
function donatedLeaves(def: TreeDef, argnums: readonly number[]): number[] {
  if (def.kind === "leaf" || argnums.length === 0) return [];
  const out: number[] = [];
  let at = 0;
  def.children.forEach((child, i) => {
    const n = leafCount(child);
    if (argnums.includes(i)) for (let k = 0; k < n; k++) out.push(at + k);
    at += n;
  });
  return out;
}

/** What a jitted function reports of its traces (for tests and inspection). */
export interface JitInfo {
  /** How many times `f` was traced (once per distinct signature, again after an eviction). */
  readonly traces: number;
  /** How many signatures are compiled and kept now (at most `maxSignatures`). */
  readonly cached: number;
  /** The program traced for the most recent new signature. */
  readonly lastProgram: Program | undefined;
}

/**
 * `F` when its arguments are trees of tensors, else an error type naming the
 * rule. (`jit` takes `F` whole, not its arguments and result, so that a
 * generic function, such as a vmapped one, stays generic.) A `ShapeError`
 * in a parameter's type is a message for callers that admits no tensor (as
 * `vmap`'s arguments carry), so it passes.
 */
export type TreeFunction<F extends (...args: never[]) => Tree> = Parameters<F> extends readonly (Tree | ShapeError)[]
  ? F
  : ShapeError<"jit: every argument must be a tree of tensors">;

/** A jitted function of trees, with what it has traced. */
export type Jitted<Args extends readonly Tree[], R extends Tree> = ((...args: Args) => R) & JitInfo;

/**
 * What `jit(f)` returns: `f`'s own type (generic where `f` is), with what it
 * has traced. `NoInfer` keeps the type a call expects of `jit`'s result from
 * fixing `F`: in `vmap(jit(vmap(f)))` the outer vmap's parameter type would
 * otherwise pin the inner function's batch dim before vmap sees it.
 */
export type JitFunction<F> = NoInfer<F> & JitInfo;

/**
 * Compiles `f` once per distinct signature of its arguments.
 *
 * @example
 * const f = jit((x: Tensor<[3]>) => exp(neg(x)), { maxSignatures: 8 });
 * f(tensor([1, 2, 3])); // traced and compiled
 * f(tensor([4, 5, 6])); // reused
 */
export function jit<F extends (...args: never[]) => Tree>(f: TreeFunction<F>, options?: JitOptions): JitFunction<F>;
// The implementation takes `unknown` so that it is compatible with the overload's checked parameter.
export function jit(fn: unknown, options: JitOptions = {}): unknown {
  const f = fn as (...args: readonly Tree[]) => Tree; // the overload admits only functions of trees
  // a program dropped from the cache gives its buffers in the kernels' memory back at once
  const cache = new SignatureCache<Compiled>(options.maxSignatures ?? DEFAULT_MAX_SIGNATURES, (dropped) => dropped.run.release());
  const donate = options.donate ?? [];
  for (const i of donate) if (!Number.isInteger(i) || i < 0) throw new RangeError(`jit: donate must list argument positions, got ${String(i)}`);
  let traces = 0;
  let lastProgram: Program | undefined;
  const call = (...args: readonly Tree[]): Tree => {
    const { leaves, def } = flattenTree(args, "jit argument");
    // NOTE: inside another transform (grad of a jitted function) the arguments are traced:
    // f then runs inline, so that the enclosing transform sees its operations.
    if (leaves.some((x) => x.tracer !== undefined)) return f(...args);
    const key = `${treeDefKey(def)}|${leaves.map((x) => `${x.dtype}[${x.shape.join(",")}]`).join(";")}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      let outDef: TreeDef = { kind: "leaf" };
      let checks: ValueCheck[] = [];
      const outer = pendingChecks;
      staging++;
      let program: Program;
      try {
        program = traceProgram((inputs) => {
          pendingChecks = [];
          const out = f(...unflattenTree<Tree[]>(def, inputs));
          const flat = flattenTree(out, "jit result");
          outDef = flat.def;
          // only values of this trace can be its outputs (a check inside grad of a jitted function is skipped)
          const trace = inputs[0] === undefined ? undefined : tracerOf(inputs[0])?.trace;
          const ours = (x: AnyTensor): boolean => x.tracer === undefined || (trace !== undefined && tracerOf(x)?.trace === trace);
          checks = pendingChecks.filter((c) => c.values.every(ours));
          return [...flat.leaves, ...checks.flatMap((c) => c.values)];
        }, leaves);
      } finally {
        pendingChecks = outer;
        staging--;
      }
      // its buffers live in the kernels' memory: the cache releases them when it drops the program
      const run = compileProgram(program, { donate: donatedLeaves(def, donate), inLoopMemory: true });
      compiled = { program, run, outDef, checks };
      cache.set(key, compiled, programBytes(program) + run.bufferBytes);
      traces++;
      lastProgram = program;
    }
    const outs = compiled.run(leaves);
    let at = outs.length - compiled.checks.reduce((n, c) => n + c.values.length, 0);
    const results = outs.slice(0, at);
    for (const c of compiled.checks) {
      const values = outs.slice(at, (at += c.values.length)).map((x) => Number(x.data[0]));
      const error = c.failure(values);
      if (error !== undefined) throw error;
    }
    return unflattenTree<Tree>(compiled.outDef, results);
  };
  return Object.defineProperties(call, {
    traces: { get: () => traces },
    cached: { get: () => cache.size },
    lastProgram: { get: () => lastProgram },
  }) as typeof call & JitInfo; // the getters of JitInfo are defined just above
}
