/**
 * The interpreter stack: how one call of a primitive finds who evaluates it.
 *
 * Every op ends in `bind(prim, inputs, params)`. With only concrete tensors,
 * bind runs the primitive's implementation at once (eager evaluation). A
 * transform that traces (jit's staging, and later jvp) pushes a `Trace` with a
 * new level and hands the function tensors whose `tracer` belongs to it; bind
 * gives the call to the highest-level trace among its inputs, as Autodidax's
 * `find_top_trace` does. `StagingTrace` records calls as IR equations.
 */

import { formatShape } from "../core/shape.js";
import { Tensor, type Traced } from "../core/tensor.js";
import type { Eqn, Program, Var } from "../ir/program.js";
import { primitives, type ParamsOf, type PrimName } from "../prims/registry.js";
import type { AnyTensor, Aval } from "../prims/types.js";

/** A tracer: what a trace attaches to a tensor it follows. */
export interface Tracer extends Traced {
  readonly trace: Trace;
}

/** An interpreter of primitives at one level of the stack. */
export abstract class Trace {
  constructor(readonly level: number) {}
  /** Evaluates `prim` on inputs of which at least one is this trace's. */
  abstract process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: ParamsOf[K]): AnyTensor;
}

function tracerOf(x: AnyTensor): Tracer | undefined {
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

/** Applies a primitive: eagerly on concrete tensors, else by the top trace. */
export function bind<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: ParamsOf[K]): AnyTensor {
  let top: Trace | undefined;
  for (const x of inputs) {
    const t = tracerOf(x);
    if (t !== undefined && (top === undefined || t.level > top.level)) top = t.trace;
  }
  if (top !== undefined) return top.process(prim, inputs, params);
  const rule = primitives[prim] as { impl: (inputs: readonly AnyTensor[], params: ParamsOf[K]) => AnyTensor }; // primitives[K] takes ParamsOf[K]
  return rule.impl(inputs, params);
}

interface StagedTracer extends Tracer {
  readonly v: Var;
}

/** Records every primitive call as an equation of a program. */
export class StagingTrace extends Trace {
  readonly inputs: Var[] = [];
  readonly consts: { v: Var; value: AnyTensor }[] = [];
  readonly eqns: Eqn[] = [];
  readonly #constVars = new Map<AnyTensor, Var>();
  #nextId = 0;

  /** A new variable of this program. */
  newVar(aval: Aval): Var {
    return { id: this.#nextId++, aval: { shape: [...aval.shape], dtype: aval.dtype } };
  }

  /** A tensor that stands for `v` while the function runs. */
  tracerFor(v: Var): AnyTensor {
    const tracer: StagedTracer = { level: this.level, trace: this, v };
    return new Tensor(v.aval.shape, v.aval.dtype, undefined, tracer);
  }

  /** A new input of the program, as a traced tensor. */
  newInput(aval: Aval): AnyTensor {
    const v = this.newVar(aval);
    this.inputs.push(v);
    return this.tracerFor(v);
  }

  /** The variable for `x`: its own for this trace's tracers, a constant for a concrete tensor. */
  varOf(x: AnyTensor): Var {
    const t = tracerOf(x);
    if (t !== undefined) {
      if (t.trace === this) return (t as StagedTracer).v; // this trace made every tracer it owns
      throw new Error(`a traced value of shape ${formatShape(x.shape)} from another transform reached jit; pass it as an argument`);
    }
    let v = this.#constVars.get(x);
    if (v === undefined) {
      v = this.newVar({ shape: x.shape, dtype: x.dtype });
      this.#constVars.set(x, v);
      this.consts.push({ v, value: x });
    }
    return v;
  }

  process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: ParamsOf[K]): AnyTensor {
    const vars = inputs.map((x) => this.varOf(x));
    const rule = primitives[prim] as { shape: (inputs: readonly Aval[], params: ParamsOf[K]) => Aval }; // primitives[K] takes ParamsOf[K]
    const out = this.newVar(rule.shape(vars.map((v) => v.aval), params));
    // An Eqn pairs each prim with its own params, as this call does.
    this.eqns.push({ prim, params, inputs: vars, out } as Eqn);
    return this.tracerFor(out);
  }

  /** The program traced so far, returning the given tensors. */
  program(outputs: readonly AnyTensor[]): Program {
    const outs = outputs.map((x) => this.varOf(x));
    return { inputs: this.inputs, consts: this.consts, eqns: this.eqns, outputs: outs };
  }
}

/**
 * Traces `f` on inputs with the given avals into a program.
 *
 * @example
 * const p = traceProgram(([x]) => [exp(x)], [{ shape: [3], dtype: "float32" }]);
 * printProgram(p); // { lambda a:f32[3] . let b:f32[3] = exp a in (b) }
 */
export function traceProgram(f: (inputs: readonly AnyTensor[]) => readonly AnyTensor[], avals: readonly Aval[]): Program {
  return withTrace(
    (level) => new StagingTrace(level),
    (trace) => {
      const inputs = avals.map((a) => trace.newInput(a));
      return trace.program(f(inputs));
    },
  );
}
