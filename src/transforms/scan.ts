/**
 * `scan`: a loop over the leading axis of its inputs, traced and compiled once.
 *
 * `scan(f, init, xs)` runs `[carry, y] = f(carry, x)` for each `x` along the
 * leading axis of `xs` and returns the last carry with the `y`s stacked. The
 * body is traced once into a program whose captured values (weights closed
 * over, tensors of enclosing transforms) become explicit operands, and the
 * loop is one `scan` equation (`prims/scan.ts`): under `jit` the program of a
 * 1000-step loop is as long as that of a 1-step one. Its rules are scans too:
 * the JVP is a scan of the body's JVP over (carry, tangent carry); the
 * transpose runs a forward scan that stores the nonlinear carries of every
 * step, then a reverse scan of the body's pullback; the batching rule is a
 * scan of the vmapped body.
 *
 * The result of the primitive packs the final carry and the stacked outputs
 * into one vector (a primitive has one result); `scanFlat` slices it apart.
 * Hence one restriction: the carry's leaves share one dtype, and the outputs
 * have it too, or travel in it exactly (bool, or int32 in a float64 loop).
 */

import { allocate, isFloatDType, type DType, type Storage } from "../core/dtype.js";
import { ShapeError, shapeError } from "../core/errors.js";
import { formatShape, sameShape, shapeSize, type Dim, type Shape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { compileProgram, type Executable } from "../ir/fusion/execute.js";
import { evaluateProgram } from "../ir/interpret.js";
import type { Program } from "../ir/program.js";
import { batchAt, moveAxis } from "../prims/batching.js";
import { bind, tracerOf } from "../prims/bind.js";
import { add, cast, reshape, zerosLike } from "../prims/lax.js";
import type { ScanParams } from "../prims/params.js";
import type { AnyTensor, Aval, BatchDim, LinearInput } from "../prims/types.js";
import { jvpFlat } from "./jvp.js";
import { linearizeFlat, pullbackOf } from "./linearize.js";
import { traceProgram } from "./trace.js";
import { vmapFlat } from "./vmap.js";

/** A loop body on flat lists of tensors: the carry and one step's inputs in, the new carry and the step's outputs out. */
export type FlatBody = (carry: readonly AnyTensor[], x: readonly AnyTensor[]) => readonly [readonly AnyTensor[], readonly AnyTensor[]];

/** A traced body: inputs are [captured..., carry..., x...], outputs [carry..., y...]; its constants are the concrete values it captured. */
export interface Body {
  readonly program: Program;
  readonly nConsts: number;
  readonly nCarry: number;
  readonly nX: number;
  readonly yAvals: readonly Aval[];
}

export const aval = (x: { readonly shape: readonly number[]; readonly dtype: DType }): Aval => ({ shape: [...x.shape], dtype: x.dtype });
/** The aval of a missing entry (never read: indices come from the same lists). */
const NONE: Aval = { shape: [], dtype: "float32" };
const show = (a: Aval): string => `${a.dtype}${formatShape(a.shape)}`;

/** Traces `f` once on one step's avals (errors name `op`); its captured values of enclosing traces become leading inputs. */
export function traceBody(f: FlatBody, carry: readonly Aval[], x: readonly Aval[], op = "scan"): { body: Body; captured: AnyTensor[] } {
  let yAvals: Aval[] = [];
  const p = traceProgram((ins) => {
    const [c, y] = f(ins.slice(0, carry.length), ins.slice(carry.length));
    if (c.length !== carry.length) shapeError(op, `the body returned ${c.length} carry leaves, but the carry has ${carry.length}`);
    c.forEach((t, i) => {
      const want = carry[i];
      if (want !== undefined && (t.dtype !== want.dtype || !sameShape(t.shape, want.shape))) {
        shapeError(op, `the body changed carry leaf ${i} from ${show(want)} to ${show(aval(t))} (the carry's type must stay the same)`);
      }
    });
    yAvals = y.map(aval);
    return [...c, ...y];
  }, [...carry, ...x]);
  // NOTE: a concrete captured value (a literal, a constant of the layer) stays a constant of the body, so that
  // the fusion pass can fold it (a broadcast scalar becomes a constant of its loop nest, not an array read each step)
  const traced = p.consts.filter((c) => c.value.tracer !== undefined);
  const program: Program = { inputs: [...traced.map((c) => c.v), ...p.inputs], consts: p.consts.filter((c) => c.value.tracer === undefined), eqns: liveEqns(p), outputs: p.outputs };
  return { body: { program, nConsts: traced.length, nCarry: carry.length, nX: x.length, yAvals }, captured: traced.map((c) => c.value) };
}

/**
 * The equations of `p` that its outputs need, in order: the body runs once
 * per step, so a value computed and never read (a linearization's primal
 * outputs inside a pullback) is dropped here rather than paid for each step.
 */
function liveEqns(p: Program): Program["eqns"] {
  const live = new Set(p.outputs.map((v) => v.id));
  const kept: Program["eqns"][number][] = [];
  for (let k = p.eqns.length - 1; k >= 0; k--) {
    const e = p.eqns[k];
    if (e === undefined || !live.has(e.out.id)) continue;
    kept.push(e);
    for (const v of e.inputs) live.add(v.id);
  }
  return kept.reverse();
}

/** One step's slice of a stacked concrete tensor. */
function stepOf(x: AnyTensor, t: number): AnyTensor {
  const shape = x.shape.slice(1);
  const n = shapeSize(shape);
  return new Tensor(shape, x.dtype, x.data.subarray(t * n, (t + 1) * n));
}

/** `x` flattened to a vector. */
export const flat = (x: AnyTensor): AnyTensor => (x.shape.length === 1 ? x : reshape(x, [shapeSize(x.shape)]));

/** The vectors joined end to end (an empty vector of `dtype` for none). */
export function join(xs: readonly AnyTensor[], dtype: DType, axis = 0): AnyTensor {
  if (xs.length === 1 && xs[0] !== undefined) return xs[0];
  if (xs.length === 0) return new Tensor([0], dtype, allocate(dtype, 0));
  return bind("concatenate", xs, { axis });
}

/** `size` elements of the vector `v` from `start`, shaped `shape`. */
function piece(v: AnyTensor, start: number, shape: readonly number[]): AnyTensor {
  const n = shapeSize(shape);
  const s = v.shape.length === 1 && start === 0 && n === v.shape[0] ? v : bind("slice", [v], { starts: [start], steps: [1], sizes: [n] });
  return reshape(s, [...shape]);
}

/** The shapes packed into a scan's result: the carry's, then each output stacked `length` times. */
function packedShapes(body: Body, carry: readonly Aval[], length: number): number[][] {
  return [...carry.map((a) => [...a.shape]), ...body.yAvals.map((a) => [length, ...a.shape])];
}

/** Splits a packed result into its leaves (see `packedShapes`). */
export function unpack(v: AnyTensor, shapes: readonly (readonly number[])[]): AnyTensor[] {
  let at = 0;
  return shapes.map((s) => {
    const x = piece(v, at, s);
    at += shapeSize(s);
    return x;
  });
}

/** Where each operand of a loop belongs. */
interface Split<T> {
  readonly consts: T[];
  readonly carry: T[];
  readonly xs: T[];
}
function split<T>(body: Body, all: readonly T[]): Split<T> {
  return { consts: all.slice(0, body.nConsts), carry: all.slice(body.nConsts, body.nConsts + body.nCarry), xs: all.slice(body.nConsts + body.nCarry) };
}

/** The one dtype of the carry and outputs. */
export function packedDType(carry: readonly Aval[], ys: readonly Aval[]): DType {
  const all = [...carry, ...ys];
  const dtype = all[0]?.dtype ?? "float32";
  const other = all.find((a) => a.dtype !== dtype);
  if (other !== undefined) shapeError("scan", `the carry and outputs must share one dtype, got ${dtype} and ${other.dtype}`);
  return dtype;
}

/**
 * Runs a loop of `length` steps of `f` from `init` over the leading axis of
 * `xs`: the final carry and the outputs stacked along a new leading axis.
 */
export function scanFlat(f: FlatBody, init: readonly AnyTensor[], xs: readonly AnyTensor[], length: number, reverse: boolean, checkpoint = false): { carry: AnyTensor[]; ys: AnyTensor[] } {
  xs.forEach((x, i) => {
    if (x.shape[0] !== length) shapeError("scan", `input ${i} is ${show(aval(x))}, but the loop has ${length} steps (its leading axis must be the length)`);
  });
  // outputs of another dtype than the carry's travel in the carry's: bool (a mask), or int32 in float64, exactly
  const target = init[0]?.dtype;
  let yDTypes: DType[] = [];
  const g: FlatBody = (c, x) => {
    const [cOut, y] = f(c, x);
    yDTypes = y.map((v) => v.dtype);
    return [cOut, y.map((v) => (target === undefined || v.dtype === target || !exactIn(v.dtype, target) ? v : cast(v, target)))];
  };
  const { inputs, params, shapes } = scanEquation(g, init, xs, length, reverse, checkpoint);
  const out = unpack(bind("scan", inputs, params), shapes);
  return { carry: out.slice(0, init.length), ys: out.slice(init.length).map((y, j) => cast(y, yDTypes[j] ?? y.dtype)) };
}

/** Whether every value of `from` survives a round trip through `to`. */
const exactIn = (from: DType, to: DType): boolean => from === to || from === "bool" || (to === "float64" && from !== "float64");

/**
 * The `scan` equation of a loop, unbound: its operands (captured values,
 * `init`, `xs`), its parameters, and the shapes packed into its result.
 */
export function scanEquation(
  f: FlatBody,
  init: readonly AnyTensor[],
  xs: readonly AnyTensor[],
  length: number,
  reverse: boolean,
  checkpoint = false,
): { inputs: AnyTensor[]; params: ScanParams; shapes: number[][] } {
  const carryAvals = init.map(aval);
  const { body, captured } = traceBody(
    f,
    carryAvals,
    xs.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype })),
  );
  const inputs = [...captured, ...init, ...xs];
  return { inputs, params: scanParams(body, inputs.map(aval), length, reverse, checkpoint), shapes: packedShapes(body, carryAvals, length) };
}

/**
 * How many steps one call of the compiled body runs. Each call of a compiled
 * program has a fixed cost (argument checks, fresh buffers for its outputs
 * and intermediates, then garbage to collect), which a small body pays per
 * step; so the body is compiled `stepsPerCall(body)` times over into one
 * program (about 256 equations at most, up to 8 steps), whose intermediates
 * share buffers by liveness as an unrolled loop's do. This is JAX's `unroll`
 * of `scan`, chosen here from the body's size: the program stays a constant
 * size whatever the length, and the numbers are the same (the same
 * operations in the same order).
 */
export function stepsPerCall(body: { readonly program: Program }): number {
  return Math.max(1, Math.min(8, Math.floor(256 / Math.max(1, body.program.eqns.length))));
}

/** The body run `k` times in one program: inputs [captured..., carry..., x of each step...], outputs [carry..., y of each step...]. */
function chainedBody(body: Body, k: number): Program {
  const xAvals = body.program.inputs.slice(body.nConsts + body.nCarry).map((v) => v.aval);
  const head = body.program.inputs.slice(0, body.nConsts + body.nCarry).map((v) => v.aval);
  return traceProgram((ins) => {
    const consts = ins.slice(0, body.nConsts);
    let carry = ins.slice(body.nConsts, body.nConsts + body.nCarry);
    const ys: AnyTensor[] = [];
    for (let s = 0; s < k; s++) {
      const at = head.length + s * xAvals.length;
      const outs = apply(body, [...consts, ...carry, ...ins.slice(at, at + xAvals.length)]);
      carry = outs.slice(0, body.nCarry);
      ys.push(...outs.slice(body.nCarry));
    }
    return [...carry, ...ys];
  }, [...head, ...Array.from({ length: k }, () => xAvals).flat()]);
}

/**
 * Runs a body `length` times on concrete operands and returns the packed
 * result. `chunk` runs `k` steps per call (see `stepsPerCall`), `single` one
 * step (for the steps left over). The result is allocated once, up front:
 * each step's outputs are copied straight to their place in it (output `j`
 * of step `t` at `t * size(y_j)` within output `j`'s block), and the inputs
 * of step `t` are views into the stacked inputs, so no per-step stack or
 * slice is made.
 */
function runLoop(single: () => Executable, chunk: () => Executable, k: number, body: Body, inputs: readonly AnyTensor[], dtype: DType, size: number, length: number, reverse: boolean): AnyTensor {
  const { consts, carry: init, xs } = split(body, inputs);
  const packed = allocate(dtype, size);
  const carrySize = init.reduce((n, c) => n + c.data.length, 0);
  const yViews: Storage<DType>[] = [];
  let at = carrySize;
  for (const a of body.yAvals) {
    const n = length * shapeSize(a.shape);
    yViews.push(packed.subarray(at, at + n));
    at += n;
  }
  const [nc, ny] = [body.nCarry, body.yAvals.length];
  let carry: readonly AnyTensor[] = init;
  for (let s = 0; s < length; ) {
    const steps = length - s >= k ? k : 1;
    const ts = Array.from({ length: steps }, (_, j) => (reverse ? length - 1 - (s + j) : s + j));
    const outs = (steps === k ? chunk() : single())([...consts, ...carry, ...ts.flatMap((t) => xs.map((x) => stepOf(x, t)))]);
    carry = outs.slice(0, nc);
    ts.forEach((t, j) => {
      for (let i = 0; i < ny; i++) {
        const y = outs[nc + j * ny + i]?.data;
        if (y !== undefined) yViews[i]?.set(y, t * y.length);
      }
    });
    s += steps;
  }
  at = 0;
  for (const c of carry) {
    packed.set(c.data, at);
    at += c.data.length;
  }
  return new Tensor([size], dtype, packed);
}

/** The parameters of a `scan` equation of `body`: its rules, closed over the body. */
function scanParams(body: Body, operands: readonly Aval[], length: number, reverse: boolean, checkpoint: boolean): ScanParams {
  const carryAvals = split(body, operands).carry;
  const dtype = packedDType(carryAvals, body.yAvals);
  const shapes = packedShapes(body, carryAvals, length);
  const size = shapes.reduce((n, s) => n + shapeSize(s), 0);
  let single: Executable | undefined;
  let chunk: Executable | undefined;
  const k = Math.min(stepsPerCall(body), Math.max(1, length));
  return {
    length,
    reverse,
    bodyEqns: body.program.eqns.length,
    signature: { operands },
    out: { shape: [size], dtype },
    run: (inputs) => {
      const one = (): Executable => (single ??= compileProgram(body.program));
      const many = (): Executable => (chunk ??= k === 1 ? one() : compileProgram(chainedBody(body, k)));
      return runLoop(one, many, k, body, inputs, dtype, size, length, reverse);
    },
    jvp: (primals, tangents) => (checkpoint ? checkpointedJvp : scanJvp)(body, primals, tangents, length, reverse),
    transpose: (ct, inputs) => scanTranspose(body, ct, inputs, length, reverse, checkpoint),
    batch: (inputs, dims, n) => scanBatch(body, inputs, dims, n, length, reverse, checkpoint),
  };
}

/** The body program applied through `bind` (so enclosing transforms see it). */
export const apply = (body: Body, inputs: readonly AnyTensor[]): AnyTensor[] => evaluateProgram(body.program, inputs);

/**
 * The tangent of a scan's packed result, by two scans. The first runs the
 * primal loop and linearizes the body at each step, storing the values the
 * step's linear map reads (its residuals) stacked along the steps; the second
 * runs that linear map over (tangent carry, tangent inputs), reading each
 * step's residuals. The second is linear in the tangents with no other carry,
 * so its transpose is one reverse scan that recomputes nothing.
 */
function scanJvp(body: Body, primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[], length: number, reverse: boolean): readonly [AnyTensor, AnyTensor | null] {
  const p = split(body, primals);
  const t = split(body, tangents);
  const dtype = packedDType(p.carry.map(aval), body.yAvals);
  if (!isFloatDType(dtype)) return [bind("scan", primals, scanParams(body, primals.map(aval), length, reverse, false)), null];
  const nc = body.nCarry;
  // which operands the linearization follows: captured values and inputs with a tangent, every carry
  // (a carry's tangent becomes nonzero after a step whatever it starts as)
  const constActive = t.consts.map((d) => d !== null);
  const xActive = t.xs.map((d) => d !== null);
  let linear: Program | undefined;
  let perStep: boolean[] = [];
  let invariant: AnyTensor[] = [];
  const known = scanFlat(
    (c, x) => {
      const self = tracerOf(c[0] ?? x[0] ?? p.carry[0] ?? p.consts[0] ?? zerosLike(NONE))?.trace;
      const activeConsts = p.consts.filter((_, i) => constActive[i] === true);
      const activeXs = x.filter((_, i) => xActive[i] === true);
      const lin = linearizeFlat((ins) => {
        let k = 0;
        const consts = p.consts.map((v, i) => (constActive[i] === true ? (ins[k++] ?? v) : v));
        const carry = c.map((v) => ins[k++] ?? v);
        const xs = x.map((v, i) => (xActive[i] === true ? (ins[k++] ?? v) : v));
        return apply(body, [...consts, ...carry, ...xs]);
      }, [...activeConsts, ...c, ...activeXs]);
      // a residual of this step is a value of this trace; any other (a captured value, a literal) is the same at every step
      perStep = lin.program.consts.map((r) => self !== undefined && tracerOf(r.value)?.trace === self);
      invariant = lin.program.consts.filter((_, i) => perStep[i] !== true).map((r) => r.value);
      linear = lin.program;
      return [lin.outputs.slice(0, nc), [...lin.outputs.slice(nc), ...lin.program.consts.filter((_, i) => perStep[i] === true).map((r) => r.value)]];
    },
    p.carry,
    p.xs,
    length,
    reverse,
  );
  const program = linear;
  if (program === undefined) throw new Error("scan: the body was not linearized");
  const residuals = known.ys.slice(body.yAvals.length);
  // the linear map with its per-step residuals as leading inputs and the invariant ones as its constants
  const resVars = program.consts.filter((_, i) => perStep[i] === true).map((r) => r.v);
  const map: Program = {
    inputs: [...resVars, ...program.inputs],
    consts: program.consts.filter((_, i) => perStep[i] !== true).map((r, i) => ({ v: r.v, value: invariant[i] ?? r.value })),
    eqns: program.eqns,
    outputs: program.outputs,
  };
  const dConsts = t.consts.filter((d): d is AnyTensor => d !== null);
  const dXs = t.xs.filter((d): d is AnyTensor => d !== null);
  const { carry, ys } = scanFlat(
    (dc, x) => {
      const res = x.slice(0, residuals.length);
      const dx = x.slice(residuals.length);
      return split2(evaluateProgram(map, [...res, ...dConsts, ...dc, ...dx]), nc);
    },
    p.carry.map((c, i) => t.carry[i] ?? zerosLike(c)),
    [...residuals, ...dXs],
    length,
    reverse,
  );
  const value = join([...known.carry, ...known.ys.slice(0, body.yAvals.length)].map(flat), dtype);
  return [value, join([...carry, ...ys].map(flat), dtype)];
}

/**
 * The tangent of a scan's packed result under the checkpoint policy: the
 * first scan runs the primal loop storing only the carry each step starts
 * from; the second runs the body's JVP from those carries and the step's
 * inputs over (tangent carry, tangent inputs), so the body's primal values
 * are computed again there (and, once transposed, in the reverse scan of
 * the gradient) instead of being stored. Residual memory is then the
 * carries alone, `length` times; the arithmetic is the same as `scanJvp`'s
 * in the same order, so the numbers are too.
 */
function checkpointedJvp(body: Body, primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[], length: number, reverse: boolean): readonly [AnyTensor, AnyTensor | null] {
  const p = split(body, primals);
  const t = split(body, tangents);
  const dtype = packedDType(p.carry.map(aval), body.yAvals);
  if (!isFloatDType(dtype)) return [bind("scan", primals, scanParams(body, primals.map(aval), length, reverse, true)), null];
  const [nc, nx] = [body.nCarry, body.nX];
  const known = scanFlat(
    (c, x) => {
      const outs = apply(body, [...p.consts, ...c, ...x]);
      return [outs.slice(0, nc), [...outs.slice(nc), ...c]];
    },
    p.carry,
    p.xs,
    length,
    reverse,
    true,
  );
  const starts = known.ys.slice(body.yAvals.length);
  const xActive = t.xs.map((d) => d !== null);
  const dXs = t.xs.filter((d): d is AnyTensor => d !== null);
  const { carry, ys } = scanFlat(
    (dc, x) => {
      const c = x.slice(0, nc);
      const xs = x.slice(nc, nc + nx);
      const dx = x.slice(nc + nx);
      let k = 0;
      const dxAll = xs.map((_, i) => (xActive[i] === true ? (dx[k++] ?? null) : null));
      const out = jvpFlat((ins) => apply(body, ins), [...p.consts, ...c, ...xs], [...t.consts, ...dc, ...dxAll]);
      const dOut = out.tangents.map((d, i) => d ?? zerosLike(out.primals[i] ?? zerosLike(NONE)));
      return split2(dOut, nc);
    },
    p.carry.map((c, i) => t.carry[i] ?? zerosLike(c)),
    [...starts, ...p.xs, ...dXs],
    length,
    reverse,
    true,
  );
  const value = join([...known.carry, ...known.ys.slice(0, body.yAvals.length)].map(flat), dtype);
  return [value, join([...carry, ...ys].map(flat), dtype)];
}

/** The first `n` and the rest. */
const split2 = (xs: readonly AnyTensor[], n: number): readonly [AnyTensor[], AnyTensor[]] => [xs.slice(0, n), xs.slice(n)];

/** The inputs of the body that depend on a linear operand, carries closed under the loop. */
function linearCarries(body: Body, linear: readonly boolean[]): boolean[] {
  const p = body.program;
  const lin = [...linear];
  for (;;) {
    const dep = new Set(p.inputs.filter((_, i) => lin[i] === true).map((v) => v.id));
    for (const e of p.eqns) if (e.inputs.some((v) => dep.has(v.id))) dep.add(e.out.id);
    let changed = false;
    for (let j = 0; j < body.nCarry; j++) {
      const out = p.outputs[j];
      const at = body.nConsts + j;
      if (out !== undefined && dep.has(out.id) && lin[at] !== true) [lin[at], changed] = [true, true];
    }
    if (!changed) return lin;
  }
}

/**
 * The transpose of a scan in its linear operands. A forward scan computes the
 * nonlinear carries and stores each step's (the residuals); a reverse scan
 * then runs the body's pullback in the linear inputs, step by step, summing
 * the cotangents of the captured values.
 */
function scanTranspose(body: Body, ct: AnyTensor, inputs: readonly LinearInput[], length: number, reverse: boolean, checkpoint: boolean): (AnyTensor | null)[] {
  const lin = linearCarries(body, inputs.map((x) => x.linear));
  const avals = inputs.map((x) => (x.linear ? x.aval : aval(x.value)));
  const value = (i: number): AnyTensor => {
    const x = inputs[i];
    if (x === undefined || x.linear) throw new Error(`scan: operand ${i} is linear, it has no value`);
    return x.value;
  };
  const idx = split(body, inputs.map((_, i) => i));
  const isLin = (i: number): boolean => lin[i] === true;
  const zeros = (i: number): AnyTensor => zerosLike(avals[i] ?? NONE);
  const stepAval = (i: number): Aval => {
    const a = avals[i] ?? { shape: [0], dtype: "float32" };
    return { shape: a.shape.slice(1), dtype: a.dtype };
  };
  // the nonlinear carries of every step, stored by a forward scan with the linear operands at zero
  const nlCarry = idx.carry.filter((i) => !isLin(i));
  const nlXs = idx.xs.filter((i) => !isLin(i));
  const assemble = (known: Map<number, AnyTensor>, linear: (i: number) => AnyTensor): AnyTensor[] =>
    inputs.map((_, i) => known.get(i) ?? linear(i));
  const stepInputs = (c: readonly AnyTensor[], x: readonly AnyTensor[], linear: (i: number) => AnyTensor): AnyTensor[] => {
    const known = new Map<number, AnyTensor>();
    idx.consts.forEach((i) => (isLin(i) ? undefined : known.set(i, value(i))));
    nlCarry.forEach((i, j) => known.set(i, c[j] ?? value(i)));
    nlXs.forEach((i, j) => known.set(i, x[j] ?? value(i)));
    return assemble(known, linear);
  };
  const zeroStep = (i: number): AnyTensor => (idx.xs.includes(i) ? zerosLike(stepAval(i)) : zeros(i));
  let residuals: AnyTensor[] = [];
  if (nlCarry.length > 0) {
    residuals = scanFlat(
      (c, x) => {
        const outs = apply(body, stepInputs(c, x, zeroStep));
        return [nlCarry.map((i) => outs[i - body.nConsts] ?? c[0] ?? zeros(i)), [...c]];
      },
      nlCarry.map(value),
      nlXs.map(value),
      length,
      reverse,
      checkpoint,
    ).ys;
  }
  // the cotangents of the packed result, leaf by leaf
  const carryAvals = idx.carry.map((i) => avals[i] ?? NONE);
  const ctLeaves = unpack(ct, packedShapes(body, carryAvals, length));
  const linConsts = idx.consts.filter(isLin);
  const linCarry = idx.carry.filter(isLin);
  const linXs = idx.xs.filter(isLin);
  const linAll = [...linConsts, ...linCarry, ...linXs];
  const ny = body.yAvals.length;
  const back = scanFlat(
    (c, x) => {
      const ctCarry = c.slice(0, linCarry.length);
      const acc = c.slice(linCarry.length);
      const res = x.slice(0, nlCarry.length);
      const nx = x.slice(nlCarry.length, nlCarry.length + nlXs.length);
      const ctY = x.slice(nlCarry.length + nlXs.length);
      const point = linAll.map(zeroStep);
      const l = linearizeFlat((ins) => {
        const at = new Map(linAll.map((i, j) => [i, ins[j] ?? point[j] ?? zeroStep(i)] as const));
        return apply(body, stepInputs(res, nx, (i) => at.get(i) ?? zeroStep(i)));
      }, point);
      const cts = pullbackOf(l, point)([
        ...idx.carry.map((i, j) => (isLin(i) ? (ctCarry[linCarry.indexOf(i)] ?? zeros(i)) : zerosLike(l.outputs[j] ?? zeros(i)))),
        ...body.yAvals.map((a, j) => ctY[j] ?? zerosLike(a)),
      ]);
      const ctConsts = cts.slice(0, linConsts.length);
      return [
        [...cts.slice(linConsts.length, linConsts.length + linCarry.length), ...acc.map((a, j) => add(a, ctConsts[j] ?? zerosLike(a)))],
        cts.slice(linConsts.length + linCarry.length),
      ];
    },
    [...linCarry.map((i) => ctLeaves[i - body.nConsts] ?? zeros(i)), ...linConsts.map(zeros)],
    [...residuals, ...nlXs.map(value), ...ctLeaves.slice(body.nCarry, body.nCarry + ny)],
    length,
    !reverse,
    checkpoint,
  );
  const result = new Map<number, AnyTensor>();
  linCarry.forEach((i, j) => result.set(i, back.carry[j] ?? zeros(i)));
  linConsts.forEach((i, j) => result.set(i, back.carry[linCarry.length + j] ?? zeros(i)));
  linXs.forEach((i, j) => result.set(i, back.ys[j] ?? zeros(i)));
  return inputs.map((x, i) => (x.linear ? (result.get(i) ?? null) : null));
}

/**
 * A scan on a batch: the scan of the vmapped body. Every carry is batched
 * (a shared one is broadcast, as it may meet the batch in a step); a batched
 * stacked input has its batch moved to axis 1, behind the loop's axis.
 */
function scanBatch(body: Body, inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number, length: number, reverse: boolean, checkpoint: boolean): readonly [AnyTensor, BatchDim] {
  const ins = split(body, inputs);
  const d = split(body, [...dims]);
  const batched = inputs.filter((_, i) => (dims[i] ?? null) !== null);
  const consts = ins.consts.map((x, i) => {
    const at = d.consts[i] ?? null;
    return at === null ? x : moveAxis(x, at, 0);
  });
  const constDims = d.consts.map((at) => (at === null ? null : 0));
  const init = ins.carry.map((x, i) => batchAt(x, d.carry[i] ?? null, size, 0, batched));
  const xs = ins.xs.map((x, i) => {
    const at = d.xs[i] ?? null;
    return at === null ? x : moveAxis(x, at, 1);
  });
  const xDims = d.xs.map((at) => (at === null ? null : 0));
  const { carry, ys } = scanFlat(
    (c, x) => {
      const outs = vmapFlat(
        (all) => apply(body, all),
        [...consts, ...c, ...x],
        [...constDims, ...c.map(() => 0), ...xDims],
        (n) => new Array<BatchDim>(n).fill(0),
        (i) => `scan operand ${i}`,
      );
      return [outs.slice(0, body.nCarry), outs.slice(body.nCarry)];
    },
    init,
    xs,
    length,
    reverse,
    checkpoint,
  );
  const dtype = packedDType(ins.carry.map(aval), body.yAvals);
  const rows = [...carry, ...ys.map((y) => moveAxis(y, 1, 0))].map((x) => reshape(x, [size, shapeSize(x.shape.slice(1))]));
  return [rows.length === 0 ? new Tensor([size, 0], dtype, allocate(dtype, 0)) : join(rows, dtype, 1), 0];
}

/** One step's slice of a tree of stacked tensors: each leaf without its leading dim. */
export type Unstacked<X> = Tree extends X
  ? Tree
  : X extends Tensor<infer S, infer D>
    ? S extends readonly [Dim, ...infer R extends Shape]
      ? Tensor<R, D>
      : never
    : { readonly [K in keyof X]: Unstacked<X[K]> };

/** A tree of per-step outputs stacked along a new leading dim `N`. */
export type Stacked<Y, N extends Dim> = Tree extends Y ? Tree : Y extends Tensor<infer S, infer D> ? Tensor<[N, ...S], D> : { -readonly [K in keyof Y]: Stacked<Y[K], N> };

/** The options of `scan`. */
export interface ScanOptions {
  /** The number of steps: required when there are no inputs, else it must equal their leading dim. */
  readonly length?: number;
  /** Runs the steps from the last index to the first (the outputs stay stacked by index). */
  readonly reverse?: boolean;
  /**
   * The checkpoint policy of derivatives: `false` (the default) stores the
   * values each step's derivative reads (its residuals); `true` stores only
   * the carry each step starts from and computes the step again in the
   * tangent and gradient loops: less memory (the carries instead of every
   * residual), one more forward pass of the body per step, the same numbers.
   */
  readonly checkpoint?: boolean;
}

/** The number of steps of a scan: `length`, which must agree with every input's leading dim. */
function stepsOf(xs: readonly AnyTensor[], length: number | undefined): number {
  const n = length ?? xs[0]?.shape[0];
  if (n === undefined) throw new ShapeError("scan: without inputs, give the number of steps as { length }");
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`scan: the length must be a natural number, got ${n}`);
  return n;
}

/**
 * A scan without inputs: `f` gets only the carry, for `length` steps.
 *
 * @example
 * // powers of two: carry 2^5, outputs [1, 2, 4, 8, 16]
 * const [last, powers] = scan((c: Tensor<[]>) => [mul(c, scalar(2)), c] as const, scalar(1), null, { length: 5 });
 */
export function scan<C extends Tree, Y extends Tree>(
  f: (carry: C) => readonly [NoInfer<C>, Y],
  init: C,
  xs: null | undefined,
  options: ScanOptions & { readonly length: number },
): [C, Stacked<Y, number>];
/**
 * Loops `f` over the leading axis of `xs`, threading a carry: returns the
 * final carry and the per-step outputs stacked along a new leading axis.
 * `f`'s carry type must be the same in and out. Under `jit` the body is
 * traced and compiled once, whatever the length; `grad`, `jvp` and `vmap`
 * go through it (its derivative is a scan, its pullback a reverse scan over
 * the carries stored at each step). The carry and outputs share one dtype.
 *
 * @example
 * // a running sum: carry [3], outputs stacked to [5, 3]
 * const [total, partials] = scan((c: Tensor<[3]>, x: Tensor<[3]>) => [add(c, x), add(c, x)] as const, zeros([3]), xs);
 */
export function scan<C extends Tree, X extends Tree, Y extends Tree>(
  f: (carry: C, x: Unstacked<X>) => readonly [NoInfer<C>, Y],
  init: C,
  xs: X,
  options?: ScanOptions,
): [C, Stacked<Y, number>];
export function scan(body: (carry: never, x: never) => readonly [unknown, unknown], init: Tree, xs: Tree | null | undefined, options: ScanOptions = {}): [Tree, Tree] {
  const f = body as unknown as (carry: Tree, x?: Tree) => readonly [Tree, Tree]; // the overloads type the body's carry and step as the trees it gets here
  const c = flattenTree(init, "scan carry");
  const x = xs === null || xs === undefined ? { leaves: [], def: undefined } : flattenTree(xs, "scan input");
  const length = stepsOf(x.leaves, options.length);
  let yDef = flattenTree([]).def;
  const out = scanFlat(
    (carry, step) => {
      const [cOut, y] = x.def === undefined ? f(unflattenTree(c.def, carry)) : f(unflattenTree(c.def, carry), unflattenTree(x.def, step));
      const cFlat = flattenTree(cOut, "scan body carry");
      if (JSON.stringify(cFlat.def) !== JSON.stringify(c.def)) shapeError("scan", "the body returned a carry of another structure than init");
      const yFlat = flattenTree(y, "scan body output");
      yDef = yFlat.def;
      return [cFlat.leaves, yFlat.leaves];
    },
    c.leaves,
    x.leaves,
    length,
    options.reverse ?? false,
    options.checkpoint ?? false,
  );
  return [unflattenTree(c.def, out.carry), unflattenTree(yDef, out.ys)];
}

/**
 * Runs `body(i, carry)` for `i` from `lower` up to `upper - 1` and returns the
 * last carry: a scan without outputs over the indices (an int32 scalar each).
 * Compiled once under `jit`; differentiable in the carry and captured values.
 *
 * @example
 * // 2^10: doubles the carry ten times
 * const y = foriLoop(0, 10, (_i, c: Tensor<[]>) => mul(c, scalar(2)), scalar(1));
 */
export function foriLoop<C extends Tree>(lower: number, upper: number, body: (i: Tensor<[], "int32">, carry: C) => NoInfer<C>, init: C): C {
  if (!Number.isInteger(lower) || !Number.isInteger(upper)) throw new ShapeError(`foriLoop: the bounds must be integers, got ${lower} and ${upper}`);
  const n = Math.max(0, upper - lower);
  const indices = new Tensor([n], "int32", Int32Array.from({ length: n }, (_, k) => lower + k));
  const [carry] = scan((c: C, i: Tensor<[], "int32">) => [body(i, c), []] as const, init, indices as Tensor<[number], "int32">); // indices has n = upper - lower elements
  return carry;
}
