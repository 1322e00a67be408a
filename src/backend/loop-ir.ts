/**
 * The loop IR: one loop nest, the unit that fusion produces and the code
 * generator prints.
 *
 * A nest walks an index space (`shape`) in row-major order. At every index it
 * evaluates a small DAG of scalar nodes: reads of input buffers through an
 * index map (`offset + sum(strides[d] * index[d])`, stride 0 along a broadcast
 * axis), constants (whose values arrive in a constants array when the kernel
 * runs, never in its text), and scalar ops applied to earlier
 * nodes (rows of the scalar-op table, `scalar-ops.ts`), each rounded to its
 * dtype as eager evaluation rounds it. Outputs store
 * a node at every index, or reduce it (sum or max) over `reducedAxes`; a
 * reduced output has the nest's shape without those axes. Reductions visit
 * their elements in row-major order and follow `reduce_sum`/`reduce_max`
 * exactly (`accumulate`, `REDUCE_START`, `emptyReduction`): sums accumulate
 * in float64 and are rounded once when stored.
 *
 * The idea is tinygrad's and jax-js's: a scalar expression graph over index
 * arithmetic, one table (the scalar ops' `expr`) that prints it, and a
 * reference interpreter (`interpret.ts`) that defines what it means. Left out:
 * control flow, gathers (data-dependent indices), and several reductions of
 * different axes in one nest.
 */

import type { DType, Storage } from "../core/dtype.js";
import { formatShape, shapeSize, stridesOf } from "../core/shape.js";
import { accepts, scalarOpDType, scalarOpRow, type ScalarOp, type ScalarOpParams } from "./scalar-ops.js";

/** Where a read finds the element of each index: `offset + sum(strides[d] * index[d])`. */
export interface IndexMap {
  readonly offset: number;
  /** One stride per axis of the nest; 0 where the read does not move (a broadcast axis). */
  readonly strides: readonly number[];
}

/** A buffer the nest reads: its dtype and its number of elements. */
export interface LoopInput {
  readonly dtype: DType;
  readonly size: number;
}

/** An element of input buffer `input`, located by `map`. */
export interface ReadNode {
  readonly kind: "read";
  readonly dtype: DType;
  readonly input: number;
  readonly map: IndexMap;
}

/** Constant number `index` of the constants array the kernel is called with. */
export interface ConstNode {
  readonly kind: "const";
  readonly dtype: DType;
  readonly index: number;
}

/** A scalar op applied to earlier nodes; `dtype` is its result's dtype. */
export type OpNode = {
  [K in ScalarOp]: {
    readonly kind: "op";
    readonly dtype: DType;
    readonly op: K;
    readonly params: ScalarOpParams[K];
    readonly args: readonly number[];
  };
}[ScalarOp];

/** One node of a nest's scalar DAG. */
export type ScalarNode = ReadNode | ConstNode | OpNode;

/** A reduction of an output over the nest's `reducedAxes`. */
export type ReduceOp = "sum" | "max";

/** An output: node `node` stored at every index, or reduced over the nest's `reducedAxes`. */
export interface LoopOutput {
  readonly node: number;
  readonly reduce?: ReduceOp;
}

/** One loop nest. */
export interface LoopNest {
  /** The index space, outermost axis first. */
  readonly shape: readonly number[];
  /** The axes that reducing outputs sum or max over (distinct, increasing). */
  readonly reducedAxes: readonly number[];
  readonly inputs: readonly LoopInput[];
  /** The dtypes of the constants; their values are passed when the kernel runs. */
  readonly constants: readonly DType[];
  /** The scalar DAG; every node's arguments come before it. */
  readonly nodes: readonly ScalarNode[];
  readonly outputs: readonly LoopOutput[];
}

/**
 * A compiled loop nest: fills the output buffers (after the input buffers in
 * `buffers`) from the inputs and the constants' values.
 */
export type Kernel = (buffers: readonly Storage<DType>[], constants: ArrayLike<number>) => void;

/** The dtype of an op node's operands (for `select`: of its two values). */
export function operandDType(nest: LoopNest, node: OpNode): DType {
  const arg = node.args[node.args.length === 3 ? 1 : 0];
  const operand = arg === undefined ? undefined : nest.nodes[arg];
  if (operand === undefined) throw new Error(`loop IR: ${node.op} has no operand`);
  return operand.dtype;
}

/** The shape of an output: the nest's, without the reduced axes when it reduces. */
export function outputShape(nest: LoopNest, out: LoopOutput): number[] {
  return out.reduce === undefined ? [...nest.shape] : nest.shape.filter((_, d) => !nest.reducedAxes.includes(d));
}

/** Where an output stores the value of each index: row-major in its shape, 0 along reduced axes. */
export function outputMap(nest: LoopNest, out: LoopOutput): IndexMap {
  if (out.reduce === undefined) return { offset: 0, strides: stridesOf(nest.shape) };
  const kept = stridesOf(outputShape(nest, out));
  let k = 0;
  return { offset: 0, strides: nest.shape.map((_, d) => (nest.reducedAxes.includes(d) ? 0 : (kept[k++] ?? 0))) };
}

/** The dtype of an output. */
export function outputDType(nest: LoopNest, out: LoopOutput): DType {
  const node = nest.nodes[out.node];
  if (node === undefined) throw new Error(`loop IR: output reads node ${out.node}, which does not exist`);
  return node.dtype;
}

/**
 * The value a reduction over at least one element starts from: -0 for a sum
 * (so a sum of -0s stays -0, as in NumPy) and -Infinity for a max.
 */
export const REDUCE_START: Readonly<Record<ReduceOp, number>> = { sum: -0, max: -Infinity };

/** The value of a reduction over no element: 0, or the lowest value `dtype` stores. */
export function emptyReduction(op: ReduceOp, dtype: DType): number {
  if (op === "sum") return 0;
  return dtype === "int32" ? -(2 ** 31) : -Infinity;
}

/**
 * One step of a reduction: the accumulator after `v`. A max keeps the first
 * of equal values (-0 before 0 stays -0) and any NaN.
 */
export function accumulate(op: ReduceOp, acc: number, v: number): number {
  if (op === "sum") return acc + v;
  return v > acc || v !== v ? v : acc;
}

/**
 * Checks that `nest` is well formed: arguments come before their users, reads
 * stay inside their buffers, op dtypes are what the scalar ops' rows give,
 * and only numeric values reduce. Throws an Error naming the problem.
 */
export function validateNest(nest: LoopNest): void {
  const fail = (why: string): never => {
    throw new Error(`loop IR: ${why}`);
  };
  const rank = nest.shape.length;
  nest.shape.forEach((n) => {
    if (!Number.isSafeInteger(n) || n < 0) fail(`bad size ${n} in ${formatShape(nest.shape)}`);
  });
  nest.reducedAxes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a <= (nest.reducedAxes[i - 1] ?? -1))) {
      fail(`reduced axes ${formatShape(nest.reducedAxes)} do not fit ${formatShape(nest.shape)}`);
    }
  });
  const empty = shapeSize(nest.shape) === 0;
  nest.nodes.forEach((node, n) => {
    switch (node.kind) {
      case "read": {
        const input = nest.inputs[node.input];
        if (input === undefined) return fail(`node ${n} reads input ${node.input}, which does not exist`);
        if (input.dtype !== node.dtype) fail(`node ${n} reads a ${input.dtype} buffer as ${node.dtype}`);
        const { offset, strides } = node.map;
        if (strides.length !== rank || ![offset, ...strides].every(Number.isSafeInteger)) {
          fail(`node ${n} has index map ${offset} + ${formatShape(strides)} for ${formatShape(nest.shape)}`);
        }
        if (empty) return;
        const [lo, hi] = accessRange(node.map, nest.shape);
        if (lo < 0 || hi >= input.size) fail(`node ${n} reads [${lo}, ${hi}] of a buffer of ${input.size}`);
        return;
      }
      case "const":
        if (!Number.isInteger(node.index) || nest.constants[node.index] !== node.dtype) fail(`node ${n} is not a ${node.dtype} constant`);
        return;
      case "op": {
        const row = scalarOpRow(node.op);
        if (node.args.length !== row.arity || node.args.some((a) => !Number.isInteger(a) || a < 0 || a >= n)) {
          fail(`node ${n}: ${node.op} takes ${row.arity} earlier nodes, got ${formatShape(node.args)}`);
        }
        const dtypes = node.args.map((a) => nest.nodes[a]?.dtype ?? "float32");
        const values = row.arity === 3 ? dtypes.slice(1) : dtypes;
        const operand = operandDType(nest, node);
        if (row.arity === 3 && dtypes[0] !== "bool") fail(`node ${n}: the condition of ${node.op} must be bool, got ${dtypes[0] ?? "nothing"}`);
        if (values.some((d) => d !== operand)) fail(`node ${n}: ${node.op} has operands of dtypes ${values.join(" and ")}`);
        if (!accepts(row.accepts, operand)) fail(`node ${n}: ${node.op} does not take ${operand}`);
        const dtype = scalarOpDType(row, operand, node.params);
        if (dtype !== node.dtype) fail(`node ${n}: ${node.op} gives ${dtype}, not ${node.dtype}`);
        return;
      }
    }
  });
  for (const out of nest.outputs) {
    const dtype = outputDType(nest, out);
    if (out.reduce !== undefined && dtype === "bool") fail(`a bool output cannot ${out.reduce}-reduce`);
  }
}

/** JSON with object keys sorted, so equal structures print equally. */
function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(",")}]`;
  if (x !== null && typeof x === "object") {
    const entries = Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(x) ?? "null";
}

/**
 * A key that describes `nest` completely: its structure, shapes, index maps,
 * dtypes and op parameters (never constant values, which a nest does
 * not hold). Two nests with one key generate one kernel.
 */
export function nestKey(nest: LoopNest): string {
  return stableJson(nest);
}

/**
 * Whether a read of `map` over a nest of shape `shape` (not empty) moves
 * forward along the outermost axis and each row reads only its own stretch
 * of that axis's stride `s`: row r's elements lie in [r s, (r + 1) s), so
 * rows from..to read elements from * s up to to * s (a nest run or copied
 * a run of rows at a time).
 *
 * @example
 * readsOwnRow({ offset: 0, strides: [8, 1] }, [4, 8]); // true
 * readsOwnRow({ offset: 0, strides: [4, 1] }, [4, 8]); // false: rows overlap
 */
export function readsOwnRow(map: IndexMap, shape: readonly number[]): boolean {
  const s = map.strides[0] ?? 0;
  const [lo, hi] = accessRange({ offset: map.offset, strides: [0, ...map.strides.slice(1)] }, shape);
  return s > 0 && lo >= 0 && hi < s;
}

/**
 * The lowest and highest element an index map reaches over a loop nest of
 * shape `shape` (not empty).
 *
 * @example
 * accessRange({ offset: 5, strides: [-1, 0] }, [3, 4]); // [3, 5]
 */
export function accessRange(map: IndexMap, shape: readonly number[]): [number, number] {
  let lo = map.offset;
  let hi = map.offset;
  map.strides.forEach((s, d) => {
    const reach = s * ((shape[d] ?? 1) - 1);
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  return [lo, hi];
}
