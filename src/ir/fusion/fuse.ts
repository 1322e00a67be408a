/**
 * The fusion pass: a program's equations grouped into loop nests.
 *
 * A group is a DAG of elementwise equations with the views over them
 * (broadcast, transpose, slice, reshape: they become index maps) that ends in
 * one root, whose value is materialised; a root may be a reduction
 * (`reduce_sum`, `reduce_max`), so a reduction comes only at the end of its
 * loop nest. Everything else (dot_general, gather, scatter_add, concatenate,
 * pad, argmax, ...) runs its primitive's `impl` as a step of its own.
 *
 * Groups are formed walking the program backwards, as XLA's instruction
 * fusion does: an equation joins the group of its users when they are all in
 * one group. An elementwise value whose users are in several groups (or are
 * primitives' `impl`s that run after its first group) is computed in the
 * first of those groups, which stores it as a second output for the others
 * (multi-output fusion: one pass over the data instead of two; softmax's
 * `exp(x - max)` is stored by the loop that sums it). A value is
 * materialised by a group of its own when it is a program output, when a
 * primitive's `impl` needs it before any group, when it is a reduction, or
 * when a broadcast would repeat its computation. Views never compute, so they
 * join every group that uses them, and a view of a materialised buffer is
 * read in place. Lowering a group can still find a value it cannot express
 * (a reshape of a strided read that would need a copy, an elementwise value
 * needed under two different views, or a second output that its group reads
 * through a view); that value is then materialised and the grouping is
 * redone. Dead equations are dropped.
 *
 * Constants whose elements are all one value (a scalar, or a scalar that the
 * ops broadcast while tracing) become constants of the loop nest: their
 * values travel with the plan, never in a kernel's source. Left out: sibling
 * fusion (groups that only share inputs, computed in one loop) and fusing
 * into matmul epilogues.
 */

import { sameShape, shapeSize } from "../../core/shape.js";
import type { IndexMap, LoopNest, OpNode, ReduceOp, ScalarNode } from "../../backend/loop-ir.js";
import { broadcastView, reshapeView, rowMajorView, sliceView, transposeView, type StridedView } from "../../backend/strided-view.js";
import { scalarOpRow } from "../../backend/scalar-ops.js";
import { primitives } from "../../prims/registry.js";
import type { AnyTensor } from "../../prims/types.js";
import type { Eqn, Program, Var } from "../program.js";

/** A loop nest that computes `outputs` from `inputs` (one buffer per nest input) and `constants`. */
export interface KernelStep {
  readonly kind: "kernel";
  readonly nest: LoopNest;
  readonly inputs: readonly Var[];
  readonly outputs: readonly Var[];
  /** The values of the nest's constants, in order. */
  readonly constants: readonly number[];
  /** The equations the kernel computes, in program order. */
  readonly eqns: readonly Eqn[];
}

/** An equation run by its primitive's `impl`. */
export interface PrimStep {
  readonly kind: "prim";
  readonly eqn: Eqn;
}

/** A step of a fused program. */
export type PlanStep = KernelStep | PrimStep;

/** A program as steps, in an order that computes every value before its use. */
export interface FusedProgram {
  readonly program: Program;
  readonly steps: readonly PlanStep[];
}

type Role = "elementwise" | "view" | "reduce" | "opaque";

const REDUCE_OPS: Readonly<Partial<Record<Eqn["prim"], ReduceOp>>> = { reduce_sum: "sum", reduce_max: "max" };

function roleOf(e: Eqn): Role {
  switch (e.prim) {
    case "broadcast":
    case "transpose":
    case "slice":
    case "reshape":
      return "view";
    case "reduce_sum":
    case "reduce_max":
      return "reduce";
    default:
      return primitives[e.prim].scalarOp !== undefined ? "elementwise" : "opaque";
  }
}

/** A broadcast that makes more elements than it reads: fusing its operand would repeat work. */
function expands(e: Eqn): boolean {
  const x = e.inputs[0];
  return e.prim === "broadcast" && x !== undefined && shapeSize(e.out.aval.shape) > shapeSize(x.aval.shape);
}

/** Thrown while lowering a group: variable `id` must be materialised. */
class Materialise {
  constructor(readonly id: number) {}
}

/** The loop-IR node of an elementwise equation: its primitive's scalar op, with the primitive's params. */
function opNode(e: Eqn, args: readonly number[]): OpNode {
  const op = primitives[e.prim].scalarOp;
  if (op === undefined) throw new Error(`fusion: ${e.prim} is not elementwise`);
  // an elementwise primitive's params are its scalar op's (ParamsOf[K] is ScalarOpParams[K]), which is what an OpNode pairs
  return { kind: "op", dtype: e.out.aval.dtype, op, params: e.params, args } as OpNode;
}

/** The index map of `chain` (views, innermost first) applied to a row-major buffer of shape `shape`. */
function composeViews(shape: readonly number[], chain: readonly Eqn[]): IndexMap {
  let view: StridedView = rowMajorView(shape);
  for (const e of chain) {
    switch (e.prim) {
      case "broadcast":
        view = broadcastView(view, e.params.shape, e.params.dims);
        break;
      case "transpose":
        view = transposeView(view, e.params.perm);
        break;
      case "slice":
        view = sliceView(view, e.params);
        break;
      case "reshape": {
        const next = reshapeView(view, e.params.shape);
        const x = e.inputs[0];
        if (next === undefined) throw new Materialise(x?.id ?? -1);
        view = next;
        break;
      }
      default:
        throw new Error(`fusion: ${e.prim} is not a view`);
    }
  }
  // NOTE: an empty view reads nothing; its offset may be any integer a slice named, so drop it.
  if (shapeSize(view.shape) === 0) return { offset: 0, strides: view.shape.map(() => 0) };
  return { offset: view.offset, strides: view.strides };
}

/**
 * Groups the equations of `p` into loop nests and primitive steps.
 *
 * @example
 * const p = traceProgram(([x, a]) => [tanh(add(x, a))], [f32([4, 3]), f32([3])]);
 * fuseProgram(p).steps; // [{ kind: "kernel", ... }]: one loop, `a` read with stride 0 along axis 0
 */
export function fuseProgram(p: Program): FusedProgram {
  const eqns = p.eqns;
  const producer = new Map<number, number>();
  eqns.forEach((e, i) => producer.set(e.out.id, i));
  const outputs = new Set(p.outputs.map((v) => v.id));
  const consts = new Map<number, AnyTensor>(p.consts.map((c) => [c.v.id, c.value]));
  const uniformConsts = new Map<number, boolean>();
  /** A constant whose elements are all one value (as a broadcast scalar is) becomes a constant of the nest. */
  const uniform = (id: number, value: AnyTensor): boolean => {
    let known = uniformConsts.get(id);
    if (known === undefined) {
      const data = value.data;
      const first = data[0];
      known = data.length > 0;
      for (let i = 1; known && i < data.length; i++) known = Object.is(data[i], first);
      uniformConsts.set(id, known);
    }
    return known;
  };

  // Dead equations are dropped; users are counted among the live ones only.
  const live = new Array<boolean>(eqns.length).fill(false);
  const needed = new Set(outputs);
  for (let i = eqns.length - 1; i >= 0; i--) {
    const e = eqns[i];
    if (e === undefined || !needed.has(e.out.id)) continue;
    live[i] = true;
    for (const v of e.inputs) needed.add(v.id);
  }
  const users = new Map<number, number[]>();
  eqns.forEach((e, i) => {
    if (!live[i]) return;
    for (const id of new Set(e.inputs.map((v) => v.id))) users.set(id, [...(users.get(id) ?? []), i]);
  });

  /**
   * For each live fusible equation, the roots of the groups it belongs to (only its own when it is a root), and
   * for each root the elementwise equations its kernel also outputs (see `sharedIn`).
   */
  const assignGroups = (forced: ReadonlySet<number>): { memberOf: (ReadonlySet<number> | undefined)[]; alsoOutputs: Map<number, number[]> } => {
    const memberOf = new Array<ReadonlySet<number> | undefined>(eqns.length);
    const alsoOutputs = new Map<number, number[]>();
    const underExpansion = new Array<boolean>(eqns.length).fill(false);
    for (let i = eqns.length - 1; i >= 0; i--) {
      const e = eqns[i];
      if (e === undefined || !live[i]) continue;
      const role = roleOf(e);
      if (role === "opaque") continue;
      let root = role === "reduce" || outputs.has(e.out.id) || forced.has(e.out.id);
      let expanded = false;
      let firstOpaqueUser = Infinity;
      const groups = new Set<number>();
      for (const u of users.get(e.out.id) ?? []) {
        const user = eqns[u];
        const g = memberOf[u];
        if (g === undefined) firstOpaqueUser = Math.min(firstOpaqueUser, u); // an impl needs it as a tensor
        else g.forEach((r) => groups.add(r));
        if ((user !== undefined && expands(user)) || underExpansion[u] === true) expanded = true;
      }
      if (role === "elementwise" && !root && !expanded && groups.size > 1 && firstOpaqueUser === Infinity && recomputable(e)) {
        memberOf[i] = groups; // computed again in each group that uses it, as a view is
        continue;
      }
      const shared = role === "elementwise" && !root && !expanded ? sharedIn(groups, firstOpaqueUser) : undefined;
      if (shared !== undefined) {
        memberOf[i] = new Set([shared]);
        alsoOutputs.set(shared, [...(alsoOutputs.get(shared) ?? []), i]);
        continue;
      }
      if (firstOpaqueUser < Infinity) root = true;
      if (role !== "view" && (expanded || groups.size > 1)) root = true;
      if (role === "view" && !root) underExpansion[i] = expanded;
      memberOf[i] = root ? new Set([i]) : groups;
    }
    return { memberOf, alsoOutputs };
  };

  /**
   * Whether an elementwise value used by several groups (and by no primitive's impl) is computed again in each of
   * them rather than stored by the first: when its op is one exact or correctly rounded arithmetic step (so every
   * group computes the same bits), and it reads only values stored anyway (inputs, constants, the outputs of
   * primitives and reductions, through views), at most one of them not much smaller than itself and none larger.
   * Storing it would write it once and read it once more; computing it again reads that one operand instead,
   * which is read once more either way, and the operand lives on in place of the stored value, of the same size or
   * less. A CNN's `conv + bias` is computed again by relu's gradient instead of being stored by the forward.
   */
  const recomputable = (e: Eqn): boolean => {
    const op = primitives[e.prim].scalarOp;
    if (op === undefined) return false;
    const row = scalarOpRow(op);
    if ((typeof row.wasm === "object" && "routine" in row.wasm) || row.error.float32 > 0.5 || row.error.float64 > 0.5) return false;
    const size = shapeSize(e.out.aval.shape);
    let large = 0;
    for (const x of e.inputs) {
      let v: Var = x;
      for (let p = producer.get(v.id); p !== undefined && roleOf(eqns[p] ?? e) === "view"; p = producer.get(v.id)) v = eqns[p]?.inputs[0] ?? v;
      const p = producer.get(v.id);
      const stored = p === undefined || roleOf(eqns[p] ?? e) === "opaque" || roleOf(eqns[p] ?? e) === "reduce";
      const n = shapeSize(v.aval.shape);
      if (!stored || n > size) return false;
      if (8 * n >= size) large++;
    }
    return large <= 1;
  };

  /**
   * Multi-output fusion: an elementwise value used by several groups (or by a group and by primitives' impls) is
   * computed in the first of those groups, which stores it as a second output for the others, instead of in a loop
   * of its own. That group's root must come before every other user (the plan runs the steps in program order);
   * the group is then the one whose root comes first. Undefined when the value has only one group of users (it
   * simply joins it) or none, or when a primitive uses it first. A reduction hosts a value of any size: a large
   * WebAssembly kernel that reduces runs in blocks of rows that stay in cache, as an elementwise one does
   * (`wasm/runtime.ts`), so a CNN's relu gradient is stored by the loop that sums it into the bias gradient.
   */
  const sharedIn = (groups: ReadonlySet<number>, firstOpaqueUser: number): number | undefined => {
    if (groups.size === 0 || (groups.size === 1 && firstOpaqueUser === Infinity)) return undefined;
    const first = Math.min(...groups);
    return first < firstOpaqueUser ? first : undefined;
  };

  const lowerGroup = (r: number, memberOf: readonly (ReadonlySet<number> | undefined)[], alsoOutputs: readonly number[]): PlanStep => {
    const root = eqns[r];
    if (root === undefined) throw new Error(`fusion: no equation ${r}`);
    const inGroup = (v: Var): Eqn | undefined => {
      const i = producer.get(v.id);
      return i !== undefined && memberOf[i]?.has(r) === true ? eqns[i] : undefined;
    };
    const rootInput = root.inputs[0];
    // A reshape of a buffer made elsewhere is a view of it: the primitive shares the data.
    if (root.prim === "reshape" && rootInput !== undefined && inGroup(rootInput) === undefined) return { kind: "prim", eqn: root };

    const inputs: Var[] = [];
    const constants: number[] = [];
    const constDTypes: LoopNest["constants"][number][] = [];
    const nodes: ScalarNode[] = [];
    const memo = new Map<string, number>();
    const chainOf = new Map<number, string>();
    const members = new Set<Eqn>([root]);
    const node = (key: string, make: () => ScalarNode): number => {
      let n = memo.get(key);
      if (n === undefined) {
        const made = make();
        n = nodes.length;
        nodes.push(made);
        memo.set(key, n);
      }
      return n;
    };
    const leaf = (v: Var, chain: readonly Eqn[]): number => {
      const value = consts.get(v.id);
      if (value !== undefined && uniform(v.id, value)) {
        return node(`c${v.id}`, () => {
          constants.push(value.data[0] ?? 0);
          constDTypes.push(v.aval.dtype);
          return { kind: "const", dtype: v.aval.dtype, index: constants.length - 1 };
        });
      }
      let input = inputs.indexOf(v);
      if (input < 0) input = inputs.push(v) - 1;
      const map = composeViews(v.aval.shape, chain);
      return node(`r${input}:${map.offset}:${map.strides.join(",")}`, () => ({ kind: "read", dtype: v.aval.dtype, input, map }));
    };
    const emit = (v: Var, chain: readonly Eqn[]): number => {
      const e = inGroup(v);
      if (e === undefined) return leaf(v, chain);
      members.add(e);
      const operand = e.inputs[0];
      if (roleOf(e) === "view" && operand !== undefined) return emit(operand, [e, ...chain]);
      const chainKey = chain.map((c) => c.out.id).join(",");
      const seen = chainOf.get(v.id);
      if (seen !== undefined && seen !== chainKey) throw new Materialise(v.id); // needed under two views: compute it once
      chainOf.set(v.id, chainKey);
      const key = `v${v.id}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const args = e.inputs.map((x) => emit(x, chain));
      return node(key, () => opNode(e, args));
    };

    const reduce = REDUCE_OPS[root.prim];
    let nest: LoopNest;
    if (reduce !== undefined && rootInput !== undefined && (root.prim === "reduce_sum" || root.prim === "reduce_max")) {
      const n = emit(rootInput, []);
      nest = { shape: rootInput.aval.shape, reducedAxes: root.params.axes, inputs: [], constants: [], nodes, outputs: [{ node: n, reduce }] };
    } else {
      const n = emit(root.out, []);
      nest = { shape: root.out.aval.shape, reducedAxes: [], inputs: [], constants: [], nodes, outputs: [{ node: n }] };
    }
    // a value the group also outputs is stored at every index of the nest: it must be computed there, under no view
    const also = alsoOutputs.flatMap((i) => {
      const v = eqns[i]?.out;
      if (v === undefined) return [];
      const n = memo.get(`v${v.id}`);
      if (n === undefined || chainOf.get(v.id) !== "" || !sameShape(v.aval.shape, nest.shape)) throw new Materialise(v.id);
      return [{ v, n }];
    });
    nest = {
      ...nest,
      inputs: inputs.map((v) => ({ dtype: v.aval.dtype, size: shapeSize(v.aval.shape) })),
      constants: constDTypes,
      outputs: [...nest.outputs, ...also.map(({ n }) => ({ node: n }))],
    };
    const ordered = eqns.filter((e) => members.has(e));
    return { kind: "kernel", nest, inputs, outputs: [root.out, ...also.map(({ v }) => v)], constants, eqns: ordered };
  };

  const forced = new Set<number>();
  for (;;) {
    const { memberOf, alsoOutputs } = assignGroups(forced);
    try {
      const steps: PlanStep[] = [];
      eqns.forEach((e, i) => {
        if (!live[i]) return;
        if (roleOf(e) === "opaque") steps.push({ kind: "prim", eqn: e });
        else if (memberOf[i]?.has(i) === true) steps.push(lowerGroup(i, memberOf, alsoOutputs.get(i) ?? []));
      });
      return { program: p, steps };
    } catch (err) {
      if (!(err instanceof Materialise)) throw err;
      if (forced.has(err.id) || !producer.has(err.id)) throw new Error(`fusion: cannot materialise variable ${err.id}`);
      forced.add(err.id);
    }
  }
}
