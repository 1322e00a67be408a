/**
 * Running a fused program: the plan of `fuse.ts` compiled once, then run per
 * call with buffers reused by liveness.
 *
 * `compileProgram` fuses the program, generates (or fetches from the cache)
 * one kernel per loop nest, and decides once where every computed value is
 * stored. A kernel's output, and the output of a primitive whose `impl`
 * writes into a given buffer (`Primitive.writesOut`: matmul, convolutions,
 * pools, reductions, gathers, copies), gets a buffer of the plan: a buffer
 * whose values are all dead is handed to a later value of the same dtype and
 * size, and an elementwise kernel that reads a dying value only at the index
 * it writes may write over it in place. The plan's buffers are allocated on
 * the first call and kept by the executable for the next calls, so a jitted
 * training loop allocates only its program outputs, which the caller keeps:
 * they are fresh on every call, and a call never writes storage that an
 * earlier call returned. With `inLoopMemory` (jit's cached programs) the
 * plan's float32 buffers live in the kernels' memory where it is shared
 * (`backend/wasm/kernel-memory.ts`), so a loop kernel reads and writes them in
 * place; they are given back when the executable is released or collected. Inputs and constants are never written, except
 * inputs the caller donates (`CompileOptions.donate`, the opt-in of JAX's
 * `donate_argnums`): their storage may receive a program output of the same
 * dtype and size once the input is dead, so that a parameter update is
 * written over the old parameters. A value that a primitive without
 * `writesOut` made may share storage with that primitive's operands
 * (reshape returns a view), so an operand's buffer stays taken while such a
 * value lives. A B operand that several matrix products of the plan read is
 * packed by the first of them and copied by the rest, once per call
 * (`sharedProductOperands`). `fusionPlan` shows the plan: its kernels, their loop depths
 * and their generated source.
 */

import { allocate, type DType, type Storage } from "../../core/dtype.js";
import { shapeError } from "../../core/errors.js";
import { formatShape, sameShape, shapeSize, stridesOf } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { loopKernelBackend } from "../../backend/compile.js";
import { generateKernel } from "../../backend/js-codegen.js";
import { interpretedKernel } from "../../backend/interpret.js";
import { withPackedB } from "../../backend/kernels/matmul.js";
import { arenaAllocator } from "../../backend/wasm/kernel-memory.js";
import { wasmAvailable } from "../../backend/wasm/runtime.js";
import { PackedOperands } from "../../backend/kernels/wasm-matmul.js";
import type { Kernel } from "../../backend/loop-ir.js";
import { primitives } from "../../prims/registry.js";
import type { AnyTensor } from "../../prims/types.js";
import { fuseProgram, type FusedProgram, type KernelStep, type PlanStep, type PrimStep } from "./fuse.js";
import { varName, type Program, type Var } from "../program.js";

/** A compiled program: tensors in, tensors out. */
export interface Executable {
  (inputs: readonly AnyTensor[]): AnyTensor[];
  /** The bytes of the buffers the executable keeps between calls (allocated on its first call). */
  readonly bufferBytes: number;
  /**
   * Gives the buffers it keeps between calls back now (at the end of the call
   * when one is running); a later call makes new ones. For a cache that drops
   * the executable: its buffers in the kernels' memory need not wait for a
   * garbage collection.
   */
  readonly release: () => void;
}

/**
 * How `compileProgram` runs loop nests: generated code, the loop-IR
 * interpreter with the reference functions, or the interpreter with the ops
 * of the backend each nest's generated kernel runs on (`loopKernelBackend`;
 * the last two for testing). `donate` lists inputs (by position) whose
 * storage the program may write its outputs into once it has read them: the
 * caller gives those tensors up and must not read them after the call.
 * `inLoopMemory` puts the plan's own float32 buffers in the loop kernels'
 * memory (`backend/wasm/kernel-memory.ts`), for an owner that calls `release`
 * when it drops the executable (the jit cache): blocks otherwise come back
 * only through a garbage collection, which a synchronous loop never lets
 * finish (an eager `scan` compiles a program per call).
 */
export interface CompileOptions {
  readonly kernels?: "generated" | "interpreted" | "interpreted-as-generated";
  readonly donate?: readonly number[];
  readonly inLoopMemory?: boolean;
}

/** Where a step stores a value: `slot` in the environment, `buffer` of the plan (-1: fresh storage). */
interface Store {
  readonly slot: number;
  readonly buffer: number;
  readonly v: Var;
}

/** One step as the executable runs it: slots of the environment in and out. */
type RunStep =
  | {
      readonly kind: "prim";
      readonly impl: (inputs: readonly AnyTensor[], out: Storage<DType> | undefined, packs: PackedOperands) => AnyTensor;
      readonly args: readonly number[];
      /** Where the output goes; its buffer is -1 also for a primitive that does not write into one. */
      readonly out: Store;
      readonly writesOut: boolean;
    }
  | {
      readonly kind: "kernel";
      readonly run: Kernel;
      readonly args: readonly number[];
      readonly outs: readonly Store[];
      readonly constants: Float64Array;
    };

/** A buffer of the plan: its dtype and size, and the input whose storage it is when donated. */
interface BufferSpec {
  readonly dtype: DType;
  readonly size: number;
  readonly donated?: number;
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

/** True when `prim`'s implementation stores its result in a buffer it is given. */
const writesOut = (s: PrimStep): boolean => primitives[s.eqn.prim].writesOut === true;

/** The values a step computes that get a buffer of the plan. */
function storedBy(s: PlanStep): readonly Var[] {
  if (s.kind === "kernel") return s.outputs;
  return writesOut(s) ? [s.eqn.out] : [];
}

/**
 * True when kernel `s` may write its output `v` over the storage of its
 * inputs in `storage`: the nest stores `v` (no reduction) as its only output,
 * and reads those inputs only at the index it writes, so every element is
 * read before it is overwritten, whatever the order of the loop.
 */
function writesInPlace(s: KernelStep, v: Var, storage: number, storages: Storages): boolean {
  const { nest } = s;
  const [out] = nest.outputs;
  if (nest.outputs.length !== 1 || out === undefined || out.reduce !== undefined || s.outputs[0] !== v) return false;
  const identity = stridesOf(nest.shape);
  return nest.nodes.every((node) => {
    if (node.kind !== "read") return true;
    const input = s.inputs[node.input];
    if (input === undefined || storages.find(input.id) !== storage) return true;
    return node.map.offset === 0 && node.map.strides.length === identity.length && node.map.strides.every((d, i) => d === identity[i]) && input.aval.dtype === v.aval.dtype;
  });
}

/** Where every stored value of a plan goes. */
interface BufferPlan {
  /** The buffer of each value that gets one: -1 for fresh storage on every call. */
  readonly bufferOf: Map<number, number>;
  readonly buffers: readonly BufferSpec[];
}

/**
 * Assigns buffers by liveness. A program output (or a value that may share
 * storage with one) takes a donated input's buffer when one of its dtype and
 * size is dead, else fresh storage (-1); any other value takes a dead buffer
 * of the plan of its dtype and size, or a new one. A value that may share
 * storage with a (not donated) input or a constant gets fresh storage.
 */
function assignBuffers(fused: FusedProgram, donate: readonly number[] = []): BufferPlan {
  const { program, steps } = fused;
  const storages = new Storages();
  steps.forEach((s) => {
    if (s.kind === "prim" && !writesOut(s)) for (const x of s.eqn.inputs) storages.union(s.eqn.out.id, x.id);
  });
  const escaping = new Set(program.outputs.map((v) => storages.find(v.id)));
  const donatedInputs = new Set(donate);
  const fixed = new Set([...program.inputs.filter((_, i) => !donatedInputs.has(i)), ...program.consts.map((c) => c.v)].map((v) => storages.find(v.id)));
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
  const release = (t: number): void => {
    for (const [buffer, storage] of taken) {
      if ((lastUse.get(storage) ?? -1) <= t) {
        taken.delete(buffer);
        free.push(buffer);
      }
    }
  };
  // A donated input's storage is a buffer of the plan, taken until its last reader has run.
  const claimed = new Set<number>();
  for (const i of donatedInputs) {
    const v = program.inputs[i];
    if (v === undefined) continue;
    const storage = storages.find(v.id);
    if (escaping.has(storage) || fixed.has(storage) || claimed.has(storage)) continue;
    claimed.add(storage);
    taken.set(buffers.push({ dtype: v.aval.dtype, size: shapeSize(v.aval.shape), donated: i }) - 1, storage);
  }
  release(-1);
  steps.forEach((s, t) => {
    for (const v of storedBy(s)) {
      const storage = storages.find(v.id);
      if (fixed.has(storage)) {
        bufferOf.set(v.id, -1);
        continue;
      }
      const out = escaping.has(storage);
      const spec = { dtype: v.aval.dtype, size: shapeSize(v.aval.shape) };
      // program outputs live on after the call: only donated storage may hold them; the rest take the plan's own buffers
      const fits = (b: number): boolean => {
        const bs = buffers[b];
        return bs !== undefined && bs.dtype === spec.dtype && bs.size === spec.size && (bs.donated !== undefined) === out;
      };
      let buffer = -1;
      const at = free.findIndex(fits);
      if (at >= 0) buffer = free.splice(at, 1)[0] ?? -1;
      else {
        for (const [b, held] of taken) {
          if (s.kind === "kernel" && fits(b) && lastUse.get(held) === t && writesInPlace(s, v, held, storages)) {
            buffer = b;
            break;
          }
        }
        if (buffer < 0 && !out) buffer = buffers.push(spec) - 1;
      }
      bufferOf.set(v.id, buffer);
      // (a buffer written in place passes from the dying value to this one)
      taken.delete(buffer);
      // a program output's buffer is the caller's from now on: never freed, never written again
      if (buffer >= 0 && !out) taken.set(buffer, storage);
    }
    release(t);
  });
  return { bufferOf, buffers };
}
/**
 * The matrix products whose B operand (a value, read the same way: as is or
 * transposed) other products of the plan read too, each with the number
 * that names that operand: at run time the first of them packs it and the
 * rest copy the packing (`PackedOperands`; an LSTM reads its recurrent
 * weights once per time step, forward and transposed backward). A value
 * never changes while the plan may read it, so a packing stays right for
 * the whole call.
 */
function sharedProductOperands(steps: readonly PlanStep[]): Map<PrimStep, number> {
  const products = steps.filter((s): s is PrimStep => s.kind === "prim" && s.eqn.prim === "dot_general");
  const operandOf = (s: PrimStep): string => {
    const { eqn } = s;
    // eqn.params is ParamsOf["dot_general"]
    const { transB } = eqn.params as { readonly transB: boolean };
    return `${eqn.inputs[1]?.id ?? -1}:${transB}`;
  };
  const readers = new Map<string, number>();
  for (const s of products) readers.set(operandOf(s), (readers.get(operandOf(s)) ?? 0) + 1);
  const keys = new Map<string, number>();
  const shared = new Map<PrimStep, number>();
  for (const s of products) {
    const operand = operandOf(s);
    if ((readers.get(operand) ?? 0) < 2) continue;
    if (!keys.has(operand)) keys.set(operand, keys.size);
    shared.set(s, keys.get(operand) ?? -1);
  }
  return shared;
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
  const donate = options.donate ?? [];
  for (const i of donate) {
    if (!Number.isInteger(i) || i < 0 || i >= p.inputs.length) throw new RangeError(`program: cannot donate input ${i} of ${p.inputs.length}`);
  }
  const { bufferOf, buffers } = assignBuffers(fused, donate);
  const store = (v: Var): Store => ({ slot: slot(v), buffer: bufferOf.get(v.id) ?? -1, v });
  const sharedOperands = sharedProductOperands(fused.steps);
  const steps: RunStep[] = fused.steps.map((s) => {
    if (s.kind === "prim") {
      // eqn.params is ParamsOf[eqn.prim]
      const prim = primitives[s.eqn.prim] as { impl: (inputs: readonly AnyTensor[], params: unknown, out?: Storage<DType>) => AnyTensor };
      const params = s.eqn.params;
      const operand = sharedOperands.get(s);
      const impl: Extract<RunStep, { kind: "prim" }>["impl"] =
        operand === undefined ? (inputs, out) => prim.impl(inputs, params, out) : (inputs, out, packs) => withPackedB(packs.slot(operand), () => prim.impl(inputs, params, out));
      return { kind: "prim", impl, args: s.eqn.inputs.map(slot), out: store(s.eqn.out), writesOut: writesOut(s) };
    }
    return { kind: "kernel", run: kernelOf(s, options.kernels), args: s.inputs.map(slot), outs: s.outputs.map(store), constants: Float64Array.from(s.constants) };
  });
  const outputSlots = p.outputs.map(slot);
  const size = slotOf.size;
  const donated = buffers.flatMap((b, buffer) => (b.donated === undefined ? [] : [{ buffer, input: b.donated }]));
  // The plan's own buffers, kept from call to call; a call made while another runs (re-entry) takes its own.
  const kept = new Array<Storage<DType> | undefined>(buffers.length);
  // The packings of shared product operands, kept (their memory) from call to call like the buffers. NOTE: `bufferBytes` (the jit cache's budget) does not count them: at most one packed copy per shared operand, sized as the operand.
  const keptPacks = new PackedOperands();
  let running = false;

  const run = (inputs: readonly AnyTensor[]): AnyTensor[] => {
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
    const storage = running ? new Array<Storage<DType> | undefined>(buffers.length) : kept;
    const packs = running ? new PackedOperands() : keptPacks;
    packs.begin();
    // A donated input whose memory another input or a constant also views is not written: its outputs get fresh storage this call.
    for (const { buffer, input } of donated) {
      const data = read(inputSlots[input] ?? -1).data;
      const shared = inputs.some((x, j) => j !== input && x.data.buffer === data.buffer) || constSlots.some((c) => c.value.data.buffer === data.buffer);
      storage[buffer] = shared ? undefined : data;
    }
    const bufferFor = (out: Store): Storage<DType> => {
      const { dtype, shape } = out.v.aval;
      if (out.buffer < 0) return allocate(dtype, shapeSize(shape));
      const have = storage[out.buffer];
      if (have !== undefined) return have;
      // the plan's own float32 buffers live in the kernels' memory where they can (a re-entered call's are ordinary arrays)
      // a donated input's buffer that this call may not write (its storage is shared) is never one: it holds a program output
      const inMemory = useLoopMemory && storage === kept && dtype === "float32" && buffers[out.buffer]?.donated === undefined;
      const made = (inMemory ? inLoopMemory.take(shapeSize(shape)) : undefined) ?? allocate(dtype, shapeSize(shape));
      storage[out.buffer] = made;
      return made;
    };
    const outer = running;
    running = true;
    try {
      for (const step of steps) {
        if (step.kind === "prim") {
          env[step.out.slot] = step.impl(step.args.map(read), step.writesOut && step.out.buffer >= 0 ? bufferFor(step.out) : undefined, packs);
          continue;
        }
        const io: Storage<DType>[] = step.args.map((s) => read(s).data);
        for (const out of step.outs) {
          const data = bufferFor(out);
          io.push(data);
          env[out.slot] = new Tensor(out.v.aval.shape, out.v.aval.dtype, data);
        }
        step.run(io, step.constants);
      }
      return outputSlots.map(read);
    } finally {
      running = outer;
      if (!running && releasing) dropKept();
      packs.end();
      // the caller's donated storage is not kept past the call
      for (const { buffer } of donated) storage[buffer] = undefined;
    }
  };
  // the buffers in the kernels' memory are given back when the executable is collected or released (no caller ever holds one)
  const inLoopMemory = arenaAllocator(run);
  const useLoopMemory = options.inLoopMemory === true && wasmAvailable();
  let releasing = false;
  const dropKept = (): void => {
    releasing = false;
    kept.fill(undefined);
    inLoopMemory.release();
  };
  const release = (): void => {
    if (running) releasing = true;
    else dropKept();
  };
  const bufferBytes = buffers.reduce((n, b) => n + (b.donated === undefined ? b.size * allocate(b.dtype, 0).BYTES_PER_ELEMENT : 0), 0);
  return Object.assign(run, { bufferBytes, release });
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
  /** Kernel and `writesOut` primitive outputs that take a buffer of the plan (not program outputs, nor values that may share storage with one). */
  readonly intermediates: number;
  /** The buffers those intermediates share, allocated on the first call and kept. */
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
