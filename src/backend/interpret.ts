/**
 * The reference interpreter of the loop IR: the meaning of a loop nest, and
 * the oracle that generated kernels are tested against.
 *
 * It visits every index of the nest in row-major order, evaluates each node
 * with the scalar ops' reference functions and `round`s the result to the
 * node's dtype, stores outputs, and accumulates reductions in float64, one
 * accumulator per output element (`accumulate`), rounded once at the end. It takes the
 * kernels' calling convention (input buffers, then output buffers, and the
 * constants), so the two can stand in for each other. Deliberately slow and
 * plain: no coalescing, hoisting or pointer arithmetic.
 *
 * The reference functions are the meaning. A float32 WebAssembly kernel
 * computes some ops by approximations within their rows' stated bounds
 * (`scalar-ops.ts`); interpreting a nest with `semantics: "webassembly"`
 * evaluates those ops as that kernel does, so a test can check that the
 * kernel adds nothing beyond its ops' own errors, bit for bit.
 */

import type { DType, Storage } from "../core/dtype.js";
import { shapeSize } from "../core/shape.js";
import { accumulate, emptyReduction, operandDType, outputDType, outputMap, outputShape, REDUCE_START, validateNest, type IndexMap, type Kernel, type LoopNest, type ScalarNode } from "./loop-ir.js";
import { round, scalarOpRow, type ScalarOp } from "./scalar-ops.js";
import { wasmKernel } from "./wasm/runtime.js";

/** Which functions evaluate the ops: the rows' reference functions, or the float32 WebAssembly kernels' own (`wasmRoutineOp`) where those approximate. */
export type OpSemantics = "reference" | "webassembly";

const routineKernels = new Map<ScalarOp, ((args: readonly number[]) => number) | undefined>();

/**
 * What a float32 WebAssembly kernel computes for scalar op `op` (a math
 * routine without parameters) on float32 operands: one element's kernel, run
 * in its one-lane loop (which computes as the four-lane loop does).
 * Undefined when WebAssembly is not available or does not compile `op` alone.
 *
 * @example
 * wasmRoutineOp("exp")?.([1]); // 2.7182817459106445 (within the exp row's stated bound)
 */
export function wasmRoutineOp(op: ScalarOp): ((args: readonly number[]) => number) | undefined {
  if (!routineKernels.has(op)) {
    const arity = scalarOpRow(op).arity;
    const operands = Array.from({ length: arity }, (_, i): ScalarNode => ({ kind: "read", dtype: "float32", input: i, map: { offset: 0, strides: [1] } }));
    const nest: LoopNest = {
      shape: [1],
      reducedAxes: [],
      inputs: operands.map(() => ({ dtype: "float32", size: 1 })),
      constants: [],
      nodes: [...operands, { kind: "op", dtype: "float32", op, params: {}, args: operands.map((_, i) => i) } as ScalarNode], // an op without parameters (the generator declines any other: wasmSupports)
      outputs: [{ node: arity }],
    };
    const kernel = wasmKernel(nest);
    const buffers = [...operands.map(() => new Float32Array(1)), new Float32Array(1)];
    routineKernels.set(
      op,
      kernel === undefined
        ? undefined
        : (args) => {
            args.forEach((v, i) => buffers[i]?.fill(v));
            if (!kernel.run(buffers, [])) throw new Error(`interpreter: the WebAssembly ${op} kernel declined a call`);
            return buffers[arity]?.[0] ?? NaN;
          },
    );
  }
  return routineKernels.get(op);
}

/** The function that evaluates `op` under `semantics`, where it differs from the reference. */
function approximation(op: LoopNest["nodes"][number], semantics: OpSemantics): ((args: readonly number[]) => number) | undefined {
  if (semantics === "reference" || op.kind !== "op" || op.dtype !== "float32") return undefined;
  const lowering = scalarOpRow(op.op).wasm;
  return typeof lowering === "object" && "routine" in lowering ? wasmRoutineOp(op.op) : undefined;
}

function address(map: IndexMap, index: readonly number[]): number {
  let at = map.offset;
  for (let d = 0; d < index.length; d++) at += (map.strides[d] ?? 0) * (index[d] ?? 0);
  return at;
}

/**
 * Runs `nest` element by element. `buffers` holds one storage per input, then
 * one per output (of its dtype and size); `constants` one value per constant.
 */
export function interpretLoopNest(nest: LoopNest, buffers: readonly Storage<DType>[], constants: ArrayLike<number>, semantics: OpSemantics = "reference"): void {
  validateNest(nest);
  const approximations = nest.nodes.map((node) => approximation(node, semantics));
  const outs = nest.outputs.map((out, j) => {
    const data = buffers[nest.inputs.length + j];
    const size = shapeSize(outputShape(nest, out));
    if (data === undefined || data.length !== size) throw new Error(`loop IR: output ${j} needs a buffer of ${size}`);
    const acc = out.reduce === undefined ? undefined : new Float64Array(size).fill(REDUCE_START[out.reduce]);
    return { out, data, map: outputMap(nest, out), acc, dtype: outputDType(nest, out) };
  });
  const rank = nest.shape.length;
  const total = shapeSize(nest.shape);
  const index = new Array<number>(rank).fill(0);
  const values = new Array<number>(nest.nodes.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    for (let d = rank - 1; d >= 0; d--) {
      const n = nest.shape[d] ?? 1;
      index[d] = rest % n;
      rest = Math.floor(rest / n);
    }
    nest.nodes.forEach((node, n) => {
      switch (node.kind) {
        case "read":
          values[n] = buffers[node.input]?.[address(node.map, index)] ?? NaN;
          return;
        case "const":
          values[n] = constants[node.index] ?? NaN;
          return;
        case "op": {
          const rule = scalarOpRow(node.op);
          const args = node.args.map((a) => values[a] ?? NaN);
          const approximate = approximations[n];
          values[n] = round(node.dtype, approximate === undefined ? rule.scalar(args, operandDType(nest, node), node.params) : approximate(args));
          return;
        }
      }
    });
    for (const { out, data, map, acc } of outs) {
      const v = values[out.node] ?? NaN;
      const at = address(map, index);
      if (out.reduce === undefined) data[at] = v;
      else if (acc !== undefined) acc[at] = accumulate(out.reduce, acc[at] ?? NaN, v);
    }
  }
  // Each reduced output element gathers this many elements (none when a reduced axis is empty).
  const count = shapeSize(nest.reducedAxes.map((a) => nest.shape[a] ?? 1));
  for (const { out, data, acc, dtype } of outs) {
    if (acc === undefined || out.reduce === undefined) continue;
    const empty = emptyReduction(out.reduce, dtype);
    acc.forEach((v, i) => (data[i] = round(dtype, count === 0 ? empty : v)));
  }
}

/** `interpretLoopNest` for one nest, as a kernel. */
export function interpretedKernel(nest: LoopNest, semantics: OpSemantics = "reference"): Kernel {
  return (buffers, constants) => interpretLoopNest(nest, buffers, constants, semantics);
}
