/**
 * `jit(f)`: trace once per input signature, compile, and reuse.
 *
 * The first call with a given structure of arguments and shapes and dtypes of
 * their tensors traces `f` into a program (see `trace.ts`), compiles it, and
 * caches the result under that signature; later calls with the same signature
 * run the compiled program without tracing again. Arguments and results are
 * trees of tensors (records and arrays). Values captured from the closure are
 * constants of the program.
 */

import { flattenTree, treeDefKey, unflattenTree, type Tree, type TreeDef } from "../core/tree.js";
import { compileProgram, type Executable } from "../ir/fusion/execute.js";
import type { Program } from "../ir/program.js";
import type { AnyTensor } from "../prims/types.js";
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

interface Compiled {
  readonly program: Program;
  readonly run: Executable;
  readonly outDef: TreeDef;
}

/** A jitted function, with what it has traced (for tests and inspection). */
export type Jitted<Args extends readonly Tree[], R extends Tree> = ((...args: Args) => R) & {
  /** How many times `f` was traced (once per distinct signature). */
  readonly traces: number;
  /** The program traced for the most recent new signature. */
  readonly lastProgram: Program | undefined;
};

/**
 * Compiles `f` once per distinct signature of its arguments.
 *
 * @example
 * const f = jit((x: Tensor<[3]>) => exp(neg(x)));
 * f(tensor([1, 2, 3])); // traced and compiled
 * f(tensor([4, 5, 6])); // reused
 */
export function jit<Args extends readonly Tree[], R extends Tree>(f: (...args: Args) => R): Jitted<Args, R> {
  const cache = new Map<string, Compiled>();
  let traces = 0;
  let lastProgram: Program | undefined;
  const call = (...args: Args): R => {
    const { leaves, def } = flattenTree(args, "jit argument");
    // NOTE: inside another transform (grad of a jitted function) the arguments are traced:
    // f then runs inline, so that the enclosing transform sees its operations.
    if (leaves.some((x) => x.tracer !== undefined)) return f(...args);
    const key = `${treeDefKey(def)}|${leaves.map((x) => `${x.dtype}[${x.shape.join(",")}]`).join(";")}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      let outDef: TreeDef = { kind: "leaf" };
      staging++;
      let program: Program;
      try {
        program = traceProgram((inputs) => {
          const out = f(...unflattenTree<Args>(def, inputs));
          const flat = flattenTree(out, "jit result");
          outDef = flat.def;
          return flat.leaves;
        }, leaves);
      } finally {
        staging--;
      }
      compiled = { program, run: compileProgram(program), outDef };
      cache.set(key, compiled);
      traces++;
      lastProgram = program;
    }
    return unflattenTree<R>(compiled.outDef, compiled.run(leaves));
  };
  return Object.defineProperties(call, {
    traces: { get: () => traces },
    lastProgram: { get: () => lastProgram },
  }) as Jitted<Args, R>; // call has the signature of f, and the two getters are defined above
}
