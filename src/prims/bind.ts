/**
 * The interpreter stack: how one call of a primitive finds who evaluates it.
 *
 * Every op ends in `bind(prim, inputs, params)`. With only concrete tensors,
 * bind runs the primitive's implementation at once (eager evaluation). A
 * transform (jit's staging, jvp, linearize) pushes a `Trace` with a new level
 * and hands the function tensors whose `tracer` belongs to it; bind gives the
 * call to the highest-level trace among its inputs, as Autodidax's
 * `find_top_trace` does. This lives beside the primitives because their
 * derivative rules are themselves written with `bind`, which is what makes
 * derivatives of any order work.
 */

import type { Traced } from "../core/tensor.js";
import { checkTensor } from "../core/validate.js";
import type { PrimName, PrimParams } from "./params.js";
import type { AnyTensor, Aval } from "./types.js";

/** What eager evaluation needs of a primitive: its shape rule (the checks) and its implementation. */
interface Eager<P> {
  readonly shape: (inputs: readonly Aval[], params: P) => Aval;
  readonly impl: (inputs: readonly AnyTensor[], params: P) => AnyTensor;
}

type Implementations = { readonly [K in PrimName]: Eager<PrimParams[K]> };

let implementations: Implementations | undefined;

/**
 * Installs the primitives that eager evaluation runs. The registry calls this
 * once when it loads; bind imports no primitive itself, so that the modules
 * defining primitives can use bind without an import cycle.
 */
export function installPrimitives(table: Implementations): void {
  implementations = table;
}

/** A tracer: what a trace attaches to a tensor it follows. */
export interface Tracer extends Traced {
  readonly trace: Trace;
}

/** An interpreter of primitives at one level of the stack. */
export abstract class Trace {
  constructor(readonly level: number) {}
  /** The tracer of `x` when this trace made it (`T` is the kind of tracer it makes), else undefined. */
  protected own<T extends Tracer>(x: AnyTensor): T | undefined {
    const t = tracerOf(x);
    return t !== undefined && t.trace === this ? (t as T) : undefined; // a trace makes tracers of one kind, which the subclass names
  }

  /** Evaluates `prim` on inputs of which at least one is this trace's. */
  abstract process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: PrimParams[K]): AnyTensor;
}

/** The tracer of `x`, or undefined for a concrete tensor. */
export function tracerOf(x: AnyTensor): Tracer | undefined {
  const t = x.tracer;
  return t !== undefined && "trace" in t ? (t as Tracer) : undefined; // every tracer in the stack carries its trace
}

let levels = 0;

/** Runs `f` with a new trace level, made by `make`; the level is released after. */
export function withTrace<T extends Trace, R>(make: (level: number) => T, f: (trace: T) => R): R {
  levels++;
  try {
    return f(make(levels));
  } finally {
    levels--;
  }
}

/**
 * Applies a primitive: eagerly on concrete tensors, else by the top trace.
 * The trace is chosen among the inputs' and, when given, the `context`
 * tensors': a constant that will meet a traced value (a scalar broadcast to
 * an operand's shape) is then staged with it instead of computed at once.
 * Every input must be a tensor of a known dtype, and an eager call passes the
 * primitive's shape rule first, as a staged one does: eager and jitted code
 * refuse the same operands (mixed dtypes, `exp` of an int32) with the same
 * `ShapeError`.
 */
export function bind<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: PrimParams[K], context: readonly AnyTensor[] = []): AnyTensor {
  inputs.forEach((x, i) => checkTensor(prim, `operand ${i}`, x));
  let top: Trace | undefined;
  for (const x of inputs.length === 0 || context.length === 0 ? inputs : [...inputs, ...context]) {
    const t = tracerOf(x);
    if (t !== undefined && (top === undefined || t.level > top.level)) top = t.trace;
  }
  if (top !== undefined) return top.process(prim, inputs, params);
  if (implementations === undefined) throw new Error("bind: no primitives installed (import src/prims/registry.ts)");
  const rule = implementations[prim] as Eager<PrimParams[K]>; // implementations[K] takes PrimParams[K]
  rule.shape(inputs, params);
  return rule.impl(inputs, params);
}
