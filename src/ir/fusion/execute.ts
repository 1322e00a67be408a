/**
 * Running a fused program: the plan of `fuse.ts` compiled once, then run per
 * call with buffers reused by liveness.
 *
 * `compileProgram` fuses the program, generates (or fetches from the cache)
 * one kernel per loop nest, and decides once which intermediate buffers can
 * share storage: a kernel's output buffer whose last reader has run is handed
 * to a later kernel output of the same dtype and size. Program outputs get
 * fresh buffers on every call (the caller keeps them), and inputs and
 * constants are never written. A value that a primitive's `impl` made may
 * share storage with that impl's operands (reshape does), so an operand's
 * buffer stays taken while such a value lives. `fusionPlan` shows the plan:
 * its kernels, their loop depths and their generated source.
 */

import { allocate, type DType, type Storage } from "../../core/dtype.js";
import { shapeError } from "../../core/errors.js";
import { formatShape, sameShape, shapeSize } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { loopKernelBackend } from "../../backend/compile.js";
import { generateKernel } from "../../backend/js-codegen.js";
import { interpretedKernel } from "../../backend/interpret.js";
import type { Kernel } from "../../backend/loop-ir.js";
import { primitives } from "../../prims/registry.js";
import type { AnyTensor } from "../../prims/types.js";
import { fuseProgram, type FusedProgram, type PlanStep } from "./fuse.js";
import { varName, type Program, type Var } from "../program.js";

/** A compiled program: tensors in, tensors out. */
export type Executable = (inputs: readonly AnyTensor[]) => AnyTensor[];

/**
 * How `compileProgram` runs loop nests: generated code, the loop-IR
 * interpreter with the reference functions, or the interpreter with the ops
 * of the backend each nest's generated kernel runs on (`loopKernelBackend`;
 * the last two for testing).
 */
export interface CompileOptions {
  readonly kernels?: "generated" | "interpreted" | "interpreted-as-generated";
}

/** One step as the executable runs it: slots of the environment in and out. */
type RunStep =
  | { readonly kind: "prim"; readonly impl: (inputs: readonly AnyTensor[]) => AnyTensor; readonly args: readonly number[]; readonly out: number }
  | {
      readonly kind: "kernel";
      readonly run: Kernel;
      readonly args: readonly number[];
      readonly outs: readonly { readonly slot: number; readonly buffer: number; readonly v: Var }[];
      readonly constants: Float64Array;
    };

/** A buffer that intermediate values share: its dtype and size. */
interface BufferSpec {
  readonly dtype: DType;
  readonly size: number;
}

/** Union-find over variable ids: values that may share one storage. */
class Storages {
  readonly #parent = new Map<number, number>();
  find(id: number): number {
    let root = id;
    for (let up = this.#parent.get(root); up !== undefined && up !== root; up = this.#parent.get(root)) root = up;
    this.#parent.set(id, root);
    return root;
  }
  union(a: number, b: number): void {
    this.#parent.set(this.find(a), this.find(b));
  }
}

/**
 * Which buffer each kernel output writes: -1 for a fresh one every call (a
 * program output, or a value that may share storage with one), else an
 * index into `buffers`, reused once every value that may share it is dead.
 */
function assignBuffers(fused: FusedProgram): { readonly bufferOf: Map<number, number>; readonly buffers: BufferSpec[] } {
  const { program, steps } = fused;
  const storages = new Storages();
  steps.forEach((s) => {
    if (s.kind === "prim") for (const x of s.eqn.inputs) storages.union(s.eqn.out.id, x.id);
  });
  const pinned = new Set([...program.outputs, ...program.inputs, ...program.consts.map((c) => c.v)].map((v) => storages.find(v.id)));
  // The last step that reads a storage (through any value that may share it).
  const lastUse = new Map<number, number>();
  steps.forEach((s, t) => {
    const reads = s.kind === "prim" ? s.eqn.inputs : s.inputs;
    const writes = s.kind === "prim" ? [s.eqn.out] : s.outputs;
    for (const v of [...reads, ...writes]) lastUse.set(storages.find(v.id), t);
  });
  const bufferOf = new Map<number, number>();
  const buffers: BufferSpec[] = [];
  const free: number[] = [];
  const taken = new Map<number, number>(); // buffer -> storage
  steps.forEach((s, t) => {
    if (s.kind === "kernel") {
      for (const v of s.outputs) {
        const storage = storages.find(v.id);
        if (pinned.has(storage)) {
          bufferOf.set(v.id, -1);
          continue;
        }
        const spec = { dtype: v.aval.dtype, size: shapeSize(v.aval.shape) };
        const at = free.findIndex((b) => buffers[b]?.dtype === spec.dtype && buffers[b]?.size === spec.size);
        const buffer = at >= 0 ? (free.splice(at, 1)[0] ?? -1) : buffers.push(spec) - 1;
        bufferOf.set(v.id, buffer);
        taken.set(buffer, storage);
      }
    }
    for (const [buffer, storage] of taken) {
      if ((lastUse.get(storage) ?? t) <= t) {
        taken.delete(buffer);
        free.push(buffer);
      }
    }
  });
  return { bufferOf, buffers };
}

function kernelOf(step: Extract<PlanStep, { kind: "kernel" }>, kernels: CompileOptions["kernels"]): Kernel {
  switch (kernels) {
    case "interpreted":
      return interpretedKernel(step.nest);
    case "interpreted-as-generated":
      return interpretedKernel(step.nest, loopKernelBackend(step.nest) === "webassembly" ? "webassembly" : "reference");
    case "generated":
    case undefined:
      return generateKernel(step.nest).run;
  }
}

/**
 * Compiles `p` into a function that runs its fused plan.
 *
 * @example
 * const run = compileProgram(traceProgram(([x]) => [exp(neg(x))], [{ shape: [3], dtype: "float32" }]));
 * run([tensor([0, 1, 2])]); // one loop: [exp(-0), exp(-1), exp(-2)]
 */
export function compileProgram(p: Program, options: CompileOptions = {}): Executable {
  const fused = fuseProgram(p);
  const slotOf = new Map<number, number>();
  const slot = (v: Var): number => {
    let s = slotOf.get(v.id);
    if (s === undefined) {
      s = slotOf.size;
      slotOf.set(v.id, s);
    }
    return s;
  };
  const inputSlots = p.inputs.map(slot);
  const constSlots = p.consts.map((c) => ({ slot: slot(c.v), value: c.value }));
  const { bufferOf, buffers } = assignBuffers(fused);
  const steps: RunStep[] = fused.steps.map((s) => {
    if (s.kind === "prim") {
      const prim = primitives[s.eqn.prim] as { impl: (inputs: readonly AnyTensor[], params: unknown) => AnyTensor }; // eqn.params is ParamsOf[eqn.prim]
      const params = s.eqn.params;
      return { kind: "prim", impl: (inputs) => prim.impl(inputs, params), args: s.eqn.inputs.map(slot), out: slot(s.eqn.out) };
    }
    return {
      kind: "kernel",
      run: kernelOf(s, options.kernels),
      args: s.inputs.map(slot),
      outs: s.outputs.map((v) => ({ slot: slot(v), buffer: bufferOf.get(v.id) ?? -1, v })),
      constants: Float64Array.from(s.constants),
    };
  });
  const outputSlots = p.outputs.map(slot);
  const size = slotOf.size;

  return (inputs) => {
    if (inputs.length !== p.inputs.length) shapeError("program", `takes ${p.inputs.length} inputs, got ${inputs.length}`);
    const env = new Array<AnyTensor | undefined>(size);
    p.inputs.forEach((v, i) => {
      const x = inputs[i];
      if (x === undefined || x.dtype !== v.aval.dtype || !sameShape(x.shape, v.aval.shape)) {
        shapeError("program", `input ${varName(v)} wants ${v.aval.dtype}${formatShape(v.aval.shape)}`);
      }
      env[inputSlots[i] ?? -1] = x;
    });
    for (const c of constSlots) env[c.slot] = c.value;
    const read = (s: number): AnyTensor => {
      const x = env[s];
      if (x === undefined) throw new Error("program: a value is used before it is computed");
      return x;
    };
    const storage = new Array<Storage<DType> | undefined>(buffers.length);
    for (const step of steps) {
      if (step.kind === "prim") {
        env[step.out] = step.impl(step.args.map(read));
        continue;
      }
      const io: Storage<DType>[] = step.args.map((s) => read(s).data);
      for (const out of step.outs) {
        const { dtype, shape } = out.v.aval;
        let data: Storage<DType>;
        if (out.buffer < 0) data = allocate(dtype, shapeSize(shape));
        else data = storage[out.buffer] ??= allocate(dtype, shapeSize(shape));
        io.push(data);
        env[out.slot] = new Tensor(shape, dtype, data);
      }
      step.run(io, step.constants);
    }
    return outputSlots.map(read);
  };
}

/** One step of a plan, as `fusionPlan` describes it. */
export type PlanEntry =
  | {
      readonly kind: "kernel";
      /** The primitives the kernel computes, in program order. */
      readonly prims: readonly string[];
      /** How many loops deep its code nests (1 for a flat loop). */
      readonly depth: number;
      readonly source: string;
      readonly key: string;
    }
  | { readonly kind: "prim"; readonly prim: string };

/** What `compileProgram` makes of `p`: its steps, how many are loop nests, and their code. */
export interface FusionPlan {
  readonly steps: readonly PlanEntry[];
  readonly kernels: number;
  /** Kernel outputs that are neither program outputs nor share storage with one. */
  readonly intermediates: number;
  /** The buffers those intermediates share, allocated once per call. */
  readonly buffers: number;
}

/**
 * The fused plan of `p`, for inspection.
 *
 * @example
 * fusionPlan(jitted.lastProgram).kernels; // 1 for gelu(x * a + b)
 */
export function fusionPlan(p: Program): FusionPlan {
  const fused = fuseProgram(p);
  const steps = fused.steps.map((s): PlanEntry => {
    if (s.kind === "prim") return { kind: "prim", prim: s.eqn.prim };
    const { source, depth, key } = generateKernel(s.nest);
    return { kind: "kernel", prims: s.eqns.map((e) => e.prim), depth, source, key };
  });
  const { bufferOf, buffers } = assignBuffers(fused);
  const intermediates = [...bufferOf.values()].filter((b) => b >= 0).length;
  return { steps, kernels: steps.filter((s) => s.kind === "kernel").length, intermediates, buffers: buffers.length };
}
