/**
 * Running a program equation by equation.
 *
 * `interpretProgram` applies each primitive's implementation: the unfused
 * reference for everything that compiles programs. `evaluateProgram` applies
 * each equation through `bind` instead, so that an enclosing transform (jit,
 * jvp, another linearize) sees and transforms every operation; its constants
 * may be values of enclosing traces.
 */

import { shapeError } from "../core/errors.js";
import { formatShape, sameShape } from "../core/shape.js";
import { bind } from "../prims/bind.js";
import { primitives } from "../prims/registry.js";
import type { AnyTensor } from "../prims/types.js";
import { varName, type Eqn, type Program } from "./program.js";

/** Runs `p` on `inputs`, computing each equation with `apply`. */
function run(p: Program, inputs: readonly AnyTensor[], apply: (e: Eqn, inputs: readonly AnyTensor[]) => AnyTensor): AnyTensor[] {
  const env = new Map<number, AnyTensor>();
  p.inputs.forEach((v, i) => {
    const x = inputs[i];
    if (x === undefined) throw new Error(`program: input ${varName(v)} is missing`);
    env.set(v.id, x);
  });
  for (const c of p.consts) env.set(c.v.id, c.value);
  const read = (id: number): AnyTensor => {
    const x = env.get(id);
    if (x === undefined) throw new Error(`program: variable ${id} is used before it is defined`);
    return x;
  };
  for (const e of p.eqns) env.set(e.out.id, apply(e, e.inputs.map((v) => read(v.id))));
  return p.outputs.map((v) => read(v.id));
}

/** The outputs of `p` on `inputs` (one tensor per input variable, matching its aval). */
export function interpretProgram(p: Program, inputs: readonly AnyTensor[]): AnyTensor[] {
  if (inputs.length !== p.inputs.length) shapeError("program", `takes ${p.inputs.length} inputs, got ${inputs.length}`);
  p.inputs.forEach((v, i) => {
    const x = inputs[i];
    if (x === undefined || x.dtype !== v.aval.dtype || !sameShape(x.shape, v.aval.shape)) {
      shapeError("program", `input ${varName(v)} wants ${v.aval.dtype}${formatShape(v.aval.shape)}`);
    }
  });
  return run(p, inputs, (e, xs) => {
    const prim = primitives[e.prim] as { impl: (inputs: readonly AnyTensor[], params: unknown) => AnyTensor }; // e.params is ParamsOf[e.prim]
    return prim.impl(xs, e.params);
  });
}

/** The outputs of `p` on `inputs`, each equation applied through `bind`. */
export function evaluateProgram(p: Program, inputs: readonly AnyTensor[]): AnyTensor[] {
  return run(p, inputs, (e, xs) => bind(e.prim, xs, e.params as never)); // e.params is ParamsOf[e.prim], which bind's overload cannot see through the union
}
