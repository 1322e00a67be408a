/**
 * The graph IR: a program of typed variables and equations, like a Jaxpr.
 *
 * A program takes input variables and constants, runs a list of equations
 * (one primitive applied to variables, giving a new variable) in order, and
 * returns some of its variables. Every variable carries its abstract value
 * (shape and dtype). The printer writes programs the way JAX prints Jaxprs;
 * `typecheckProgram` re-runs every shape rule and checks every variable is
 * defined once before use.
 */

import type { DType } from "../core/dtype.js";
import { formatShape } from "../core/shape.js";
import { primitives } from "../prims/registry.js";
import type { PrimName, PrimParams } from "../prims/params.js";
import type { AnyTensor, Aval } from "../prims/types.js";

/** A variable of a program. */
export interface Var {
  readonly id: number;
  readonly aval: Aval;
}

/** One equation: `out = prim[params](inputs)`. */
export type Eqn = {
  [K in PrimName]: { readonly prim: K; readonly params: PrimParams[K]; readonly inputs: readonly Var[]; readonly out: Var };
}[PrimName];

/** A program: inputs and constants in, equations, outputs out. */
export interface Program {
  readonly inputs: readonly Var[];
  readonly consts: readonly { readonly v: Var; readonly value: AnyTensor }[];
  readonly eqns: readonly Eqn[];
  readonly outputs: readonly Var[];
}

const shortDType: Record<DType, string> = { float32: "f32", float64: "f64", int32: "i32", bool: "bool" };

/** A variable's name: a, b, ..., z, ba, bb, ... */
export function varName(v: Var): string {
  let n = v.id;
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

function typed(v: Var): string {
  return `${varName(v)}:${shortDType[v.aval.dtype]}${formatShape(v.aval.shape)}`;
}

function formatParams(params: object): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return "";
  const show = (v: unknown): string =>
    Array.isArray(v) ? formatShape(v) : typeof v === "function" ? "<function>" : typeof v === "object" && v !== null ? "{...}" : String(v);
  return `[${entries.map(([k, v]) => `${k}=${show(v)}`).join(" ")}]`;
}

/** Prints a program like a Jaxpr. */
export function printProgram(p: Program): string {
  const head = `{ lambda ${p.inputs.map(typed).join(" ")}${p.consts.length > 0 ? ` ; consts ${p.consts.map((c) => typed(c.v)).join(" ")}` : ""} .`;
  const lines = p.eqns.map((e) => `    ${typed(e.out)} = ${e.prim}${formatParams(e.params)} ${e.inputs.map(varName).join(" ")}`);
  return [head, "  let", ...lines, `  in (${p.outputs.map(varName).join(", ")}) }`].join("\n");
}

/** Runs one equation's shape rule on its inputs' avals. */
export function eqnAval(e: Eqn): Aval {
  const prim = primitives[e.prim] as { shape: (inputs: readonly Aval[], params: unknown) => Aval }; // e.params is PrimParams[e.prim]
  return prim.shape(e.inputs.map((v) => v.aval), e.params);
}

/**
 * Checks a program: every variable is defined once before it is used, and
 * every equation's output aval is what its primitive's shape rule gives.
 * Returns the problems found (empty when the program is well typed).
 */
export function typecheckProgram(p: Program): string[] {
  const problems: string[] = [];
  const defined = new Set<number>();
  const define = (v: Var): void => {
    if (defined.has(v.id)) problems.push(`${varName(v)} is defined twice`);
    defined.add(v.id);
  };
  p.inputs.forEach(define);
  p.consts.forEach((c) => define(c.v));
  for (const e of p.eqns) {
    for (const v of e.inputs) if (!defined.has(v.id)) problems.push(`${e.prim} uses ${varName(v)} before it is defined`);
    try {
      const aval = eqnAval(e);
      if (aval.dtype !== e.out.aval.dtype || formatShape(aval.shape) !== formatShape(e.out.aval.shape)) {
        problems.push(`${e.prim} gives ${aval.dtype}${formatShape(aval.shape)}, but ${typed(e.out)} says otherwise`);
      }
    } catch (err) {
      problems.push(`${e.prim}: ${err instanceof Error ? err.message : String(err)}`);
    }
    define(e.out);
  }
  for (const v of p.outputs) if (!defined.has(v.id)) problems.push(`output ${varName(v)} is never defined`);
  return problems;
}
