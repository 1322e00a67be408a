/**
 * Staging: the trace that records primitive calls as IR equations.
 *
 * Every op ends in `bind` (see `prims/bind.ts`), which hands a call to the
 * highest-level trace among its inputs. `StagingTrace` is the trace of jit
 * and of linearize: it records each call as an equation of a program. Values
 * of lower-level traces and concrete tensors that reach it become constants
 * of the program.
 */

import { Tensor } from "../core/tensor.js";
import type { Eqn, Program, Var } from "../ir/program.js";
import { Trace, withTrace, type Tracer } from "../prims/bind.js";
import { primitives } from "../prims/registry.js";
import type { PrimName, PrimParams } from "../prims/params.js";
import type { AnyTensor, Aval } from "../prims/types.js";

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

  /**
   * The variable for `x`: its own for this trace's tracers, a constant for a
   * concrete tensor or a value of a lower-level trace (which bind never hands
   * here unless a tracer of this trace is among the inputs).
   */
  varOf(x: AnyTensor): Var {
    const t = this.own<StagedTracer>(x);
    if (t !== undefined) return t.v;
    let v = this.#constVars.get(x);
    if (v === undefined) {
      v = this.newVar({ shape: x.shape, dtype: x.dtype });
      this.#constVars.set(x, v);
      this.consts.push({ v, value: x });
    }
    return v;
  }

  process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: PrimParams[K]): AnyTensor {
    const vars = inputs.map((x) => this.varOf(x));
    const rule = primitives[prim] as { shape: (inputs: readonly Aval[], params: PrimParams[K]) => Aval }; // primitives[K] takes PrimParams[K]
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
