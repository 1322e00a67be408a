/**
 * Reverse mode as linearize + transpose, in the style of JAX.
 *
 * `linearizeFlat` runs `f` under a JVP trace whose tangents are values of a
 * staging trace one level below: the primal work runs at once, and only the
 * tangent work, which the JVP rules make linear in the tangents, is recorded
 * as a program. Its constants are the residuals of the forward pass.
 * `transposeProgram` then runs that linear program backwards with each
 * primitive's transpose rule, accumulating cotangents; no primitive has a
 * hand-written VJP. Both evaluate through `bind`, so an enclosing transform
 * sees every operation (grad of grad, jit of grad).
 */

import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { evaluateProgram } from "../ir/interpret.js";
import type { Program } from "../ir/program.js";
import { bind, withTrace } from "../prims/bind.js";
import { zerosLike } from "../prims/lax.js";
import { primitives } from "../prims/registry.js";
import type { SliceParams } from "../backend/strided-view.js";
import type { AnyTensor, Aval, LinearInput, TransposeRule } from "../prims/types.js";
import { jvpFlat } from "./jvp.js";
import { isFloatDType } from "../core/dtype.js";
import { StagingTrace } from "./trace.js";

/** The primal outputs of `f` and the linear program of its derivative. */
export interface Linearized {
  readonly outputs: AnyTensor[];
  /** Tangents of the inputs in, tangents of the outputs out; linear. */
  readonly program: Program;
}

/** Linearizes `f` at `primals`: its outputs and the program of its JVP. */
export function linearizeFlat(f: (inputs: readonly AnyTensor[]) => readonly AnyTensor[], primals: readonly AnyTensor[]): Linearized {
  return withTrace(
    (level) => new StagingTrace(level),
    (staging) => {
      // every primal gets an input of the program; only float ones carry a tangent
      const tangentsIn = primals.map((x) => {
        const t = staging.newInput(x);
        return isFloatDType(x.dtype) ? t : null;
      });
      const out = jvpFlat(f, primals, tangentsIn);
      const tangentsOut = out.primals.map((y, i) => out.tangents[i] ?? zerosLike(y));
      return { outputs: out.primals, program: staging.program(tangentsOut) };
    },
  );
}

/**
 * Runs the linear program `p` backwards: the cotangents of its outputs in,
 * the cotangents of its inputs out (`null` where nothing flows back).
 *
 * The cotangents of the slices of one variable are kept apart until that
 * variable's cotangent is needed: windows along one axis that do not overlap
 * (the steps of a sequence, an LSTM's gates) are then joined by one
 * `concatenate` with zeros in the gaps, instead of each being scattered into
 * a tensor of the variable's full size and summed, which would cost the
 * variable's size once per slice (quadratic in a sequence's length).
 */
export function transposeProgram(p: Program, cts: readonly AnyTensor[]): (AnyTensor | null)[] {
  const known = new Map<number, AnyTensor>(p.consts.map((c) => [c.v.id, c.value]));
  const ctOf = new Map<number, AnyTensor>();
  const sliced = new Map<number, SlicedCotangent[]>();
  const accumulate = (id: number, ct: AnyTensor): void => {
    const before = ctOf.get(id);
    ctOf.set(id, before === undefined ? ct : bind("add", [before, ct], {}));
  };
  /** The whole cotangent of variable `id`, its slices' pieces joined in; undefined when none flowed back. */
  const take = (id: number, aval: Aval): AnyTensor | undefined => {
    const pieces = sliced.get(id);
    if (pieces !== undefined) {
      sliced.delete(id);
      for (const ct of joinSlices(pieces, aval)) accumulate(id, ct);
    }
    const ct = ctOf.get(id);
    ctOf.delete(id);
    return ct;
  };
  p.outputs.forEach((v, i) => {
    const ct = cts[i];
    if (ct !== undefined && !known.has(v.id)) accumulate(v.id, ct);
  });
  for (let e = p.eqns.length - 1; e >= 0; e--) {
    const eqn = p.eqns[e];
    if (eqn === undefined) continue;
    const ct = take(eqn.out.id, eqn.out.aval);
    if (ct === undefined) continue;
    const [source] = eqn.inputs;
    if (eqn.prim === "slice" && source !== undefined && !known.has(source.id)) {
      const pieces = sliced.get(source.id) ?? [];
      pieces.push({ ct, params: eqn.params as SliceParams }); // a slice equation's params are SliceParams
      sliced.set(source.id, pieces);
      continue;
    }
    const rule = (primitives[eqn.prim] as { transpose?: TransposeRule<unknown> }).transpose; // each primitive's rule takes its own params
    if (rule === undefined) {
      throw new Error(`transpose: ${eqn.prim} has no transpose rule: it is not linear, so it cannot appear in a linearized program`);
    }
    const inputs: LinearInput[] = eqn.inputs.map((v) => {
      const value = known.get(v.id);
      return value === undefined ? { linear: true, aval: v.aval } : { linear: false, value };
    });
    const inputCts = rule(ct, inputs, eqn.params);
    eqn.inputs.forEach((v, i) => {
      const c = inputCts[i];
      if (c !== null && c !== undefined && !known.has(v.id)) accumulate(v.id, c);
    });
  }
  return p.inputs.map((v) => take(v.id, v.aval) ?? null);
}

/** The cotangent of one slice of a variable, with the slice's parameters. */
interface SlicedCotangent {
  readonly ct: AnyTensor;
  readonly params: SliceParams;
}

/**
 * Cotangents of the variable `aval` from the cotangents of its slices: one
 * `concatenate` for the largest set of unit-step windows along one axis that
 * do not overlap (zeros fill the gaps), and the slice transpose for the rest.
 */
function joinSlices(pieces: readonly SlicedCotangent[], aval: Aval): AnyTensor[] {
  /** The one axis a slice narrows with step 1, -1 when it narrows none, undefined when it is not such a window. */
  const windowAxis = ({ params }: SlicedCotangent): number | undefined => {
    const narrowed = aval.shape.flatMap((d, a) => (params.starts[a] === 0 && params.steps[a] === 1 && params.sizes[a] === d ? [] : [a]));
    if (narrowed.length === 0) return -1;
    const [a] = narrowed;
    return narrowed.length === 1 && a !== undefined && params.steps[a] === 1 ? a : undefined;
  };
  const byAxis = new Map<number, SlicedCotangent[]>();
  const out: AnyTensor[] = [];
  const rest: SlicedCotangent[] = [];
  for (const piece of pieces) {
    const a = windowAxis(piece);
    if (a === -1) out.push(piece.ct);
    else if (a === undefined) rest.push(piece);
    else byAxis.set(a, [...(byAxis.get(a) ?? []), piece]);
  }
  const [axis, group] = [...byAxis.entries()].reduce<[number, SlicedCotangent[]]>((best, entry) => (entry[1].length > best[1].length ? entry : best), [-1, []]);
  for (const [a, others] of byAxis) if (a !== axis) rest.push(...others);
  const windows = [...group].sort((x, y) => (x.params.starts[axis] ?? 0) - (y.params.starts[axis] ?? 0));
  const overlap = windows.some((w, i) => i > 0 && (w.params.starts[axis] ?? 0) < end(windows[i - 1], axis));
  if (overlap || windows.length < 2) rest.push(...windows);
  else {
    const parts: AnyTensor[] = [];
    let at = 0;
    const zeros = (size: number): AnyTensor => zerosLike({ shape: aval.shape.map((d, a) => (a === axis ? size : d)), dtype: aval.dtype });
    for (const w of windows) {
      const start = w.params.starts[axis] ?? 0;
      if (start > at) parts.push(zeros(start - at));
      parts.push(w.ct);
      at = end(w, axis);
    }
    const size = aval.shape[axis] ?? 0;
    if (at < size) parts.push(zeros(size - at));
    out.push(parts.length === 1 ? (parts[0] ?? zeros(size)) : bind("concatenate", parts, { axis }));
  }
  const transpose = primitives.slice.transpose;
  for (const piece of rest) {
    const [ct] = transpose?.(piece.ct, [{ linear: true, aval }], piece.params) ?? [];
    if (ct !== null && ct !== undefined) out.push(ct);
  }
  return out;
}

/** One past the last index a unit-step window reads along `axis`. */
const end = (w: SlicedCotangent | undefined, axis: number): number => (w?.params.starts[axis] ?? 0) + (w?.params.sizes[axis] ?? 0);

/** The pullback of a linearized function: output cotangents to input cotangents, zeros made explicit. */
export function pullbackOf(lin: Linearized, primals: readonly AnyTensor[]): (cts: readonly AnyTensor[]) => AnyTensor[] {
  return (cts) => {
    lin.outputs.forEach((y, i) => {
      const ct = cts[i];
      if (ct === undefined || ct.dtype !== y.dtype || ct.shape.join() !== y.shape.join()) {
        throw new Error(`vjp: cotangent ${i} must be ${y.dtype}[${y.shape.join(", ")}] like the output`);
      }
    });
    return transposeProgram(lin.program, cts).map((ct, i) => {
      const x = primals[i];
      if (x === undefined) throw new Error(`vjp: input ${i} is missing`);
      return ct ?? zerosLike(x);
    });
  };
}

/**
 * The value of `f` at `primals` and its pullback: a function from a
 * cotangent of the output's type to cotangents of the primals' types.
 *
 * @example
 * const [y, pullback] = vjp((x: Tensor<[3]>) => sum(mul(x, x)), x);
 * pullback(ones([])); // [2x]
 */
export function vjp<Args extends readonly Tree[], R extends Tree>(f: (...args: Args) => R, ...primals: Args): [R, (ct: R) => Args] {
  const { leaves, def } = flattenTree(primals, "vjp primal");
  let outDef = flattenTree([]).def;
  const lin = linearizeFlat((inputs) => {
    const flat = flattenTree(f(...unflattenTree<Args>(def, inputs)), "vjp result");
    outDef = flat.def;
    return flat.leaves;
  }, leaves);
  const pullback = pullbackOf(lin, leaves);
  return [unflattenTree<R>(outDef, lin.outputs), (ct: R) => unflattenTree<Args>(def, pullback(flattenTree(ct, "vjp cotangent").leaves))];
}

/**
 * `f` linearized at `primals`: its value and its JVP as a function of the
 * tangents alone (the forward pass is not run again).
 *
 * @example
 * const [y, fJvp] = linearize((x: Tensor<[3]>) => sin(x), x);
 * fJvp(ones([3])); // cos(x)
 */
export function linearize<Args extends readonly Tree[], R extends Tree>(f: (...args: Args) => R, ...primals: Args): [R, (...tangents: Args) => R] {
  const { leaves, def } = flattenTree(primals, "linearize primal");
  let outDef = flattenTree([]).def;
  const lin = linearizeFlat((inputs) => {
    const flat = flattenTree(f(...unflattenTree<Args>(def, inputs)), "linearize result");
    outDef = flat.def;
    return flat.leaves;
  }, leaves);
  const apply = (...tangents: Args): R => unflattenTree<R>(outDef, evaluateProgram(lin.program, flattenTree(tangents, "linearize tangent").leaves));
  return [unflattenTree<R>(outDef, lin.outputs), apply];
}
