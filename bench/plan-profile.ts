/**
 * Where a jitted program's time goes, step by step: the program that a
 * jitted function last traced is fused as `jit` fuses it, then run step by
 * step (each loop nest on the kernel `jit` would run, each other primitive by
 * its `impl`), timing each step over many calls. Steps are grouped by what
 * they compute (the primitives of a kernel with its loop shape and backend,
 * or a primitive's name with its output shape), so the table says which
 * kernels take the time, how many there are and how long one call takes;
 * the header adds the plan's kernel count and the megabytes of their
 * buffers (a figure that does not depend on the machine's load).
 *
 * Usage: `npm run --silent compile && node .build/bench/plan-profile.js [transformer|lstm|cnn] [CALLS]`.
 * A development tool: it writes nothing and is not part of `npm run bench`.
 */

import { allocate, type DType, type Storage } from "../src/core/dtype.js";
import { shapeSize } from "../src/core/shape.js";
import { Tensor } from "../src/core/tensor.js";
import { flattenTree } from "../src/core/tree.js";
import { loopKernelBackend } from "../src/backend/compile.js";
import { generateKernel } from "../src/backend/js-codegen.js";
import { fuseProgram } from "../src/ir/fusion/fuse.js";
import type { Program } from "../src/ir/program.js";
import { primitives } from "../src/prims/registry.js";
import type { AnyTensor } from "../src/prims/types.js";
import { mean, square } from "../src/index.js";
import { lstm } from "../src/layers/recurrent.js";
import { valueAndGrad } from "../src/transforms/grad.js";
import { jit } from "../src/transforms/jit.js";
import * as cnnBench from "./cnn.bench.js";
import * as lstmBench from "./lstm.bench.js";
import * as transformerBench from "./transformer.bench.js";
import { isEntryPoint } from "./support/report.js";

interface Row {
  label: string;
  steps: number;
  ms: number;
}

/** Runs `program` `calls` times on `inputs`, step by step, and returns the time of each kind of step. */
export function profileProgram(program: Program, inputs: readonly AnyTensor[], calls: number): Row[] {
  const fused = fuseProgram(program);
  const env = new Map<number, AnyTensor>();
  program.inputs.forEach((v, i) => {
    const x = inputs[i];
    if (x !== undefined) env.set(v.id, x);
  });
  for (const c of program.consts) env.set(c.v.id, c.value);
  const read = (id: number): AnyTensor => {
    const x = env.get(id);
    if (x === undefined) throw new Error("plan-profile: a value is used before it is computed");
    return x;
  };
  const runs = fused.steps.map((s) => {
    if (s.kind === "prim") {
      const prim = primitives[s.eqn.prim] as { impl: (inputs: readonly AnyTensor[], params: unknown) => AnyTensor }; // eqn.params is ParamsOf[eqn.prim]
      const label = `prim ${s.eqn.prim} -> [${s.eqn.out.aval.shape.join(",")}]`;
      return { label, run: () => env.set(s.eqn.out.id, prim.impl(s.eqn.inputs.map((v) => read(v.id)), s.eqn.params)) };
    }
    const kernel = generateKernel(s.nest).run;
    const outs = s.outputs.map((v) => ({ v, data: allocate(v.aval.dtype, shapeSize(v.aval.shape)) }));
    const reduce = s.nest.outputs[0]?.reduce;
    const label = `${loopKernelBackend(s.nest)} [${s.nest.shape.join(",")}]${reduce === undefined ? "" : ` ${reduce} over ${s.nest.reducedAxes.join(",")}`}: ${s.eqns.map((e) => e.prim).join(" ")}`;
    const constants = Float64Array.from(s.constants);
    return {
      label,
      run: () => {
        const io: Storage<DType>[] = [...s.inputs.map((v) => read(v.id).data), ...outs.map((o) => o.data)];
        kernel(io, constants);
        for (const o of outs) env.set(o.v.id, new Tensor(o.v.aval.shape, o.v.aval.dtype, o.data));
      },
    };
  });
  const times = new Float64Array(runs.length);
  for (let c = 0; c < calls + 1; c++) {
    runs.forEach((r, i) => {
      const t0 = performance.now();
      r.run();
      if (c > 0) times[i] = (times[i] ?? 0) + performance.now() - t0;
    });
  }
  const rows = new Map<string, Row>();
  runs.forEach((r, i) => {
    const row = rows.get(r.label) ?? { label: r.label, steps: 0, ms: 0 };
    row.steps++;
    row.ms += (times[i] ?? 0) / calls;
    rows.set(r.label, row);
  });
  return [...rows.values()].sort((a, b) => b.ms - a.ms);
}

/** The loop kernels of `program`'s plan, and the megabytes their buffers hold (inputs as whole buffers, outputs): what the kernels read and write per call. */
export function planTraffic(program: Program): { kernels: number; megabytes: number } {
  const kernels = fuseProgram(program).steps.flatMap((s) => (s.kind === "kernel" ? [s] : []));
  const elements = kernels.reduce((n, s) => n + [...s.inputs, ...s.outputs].reduce((m, v) => m + shapeSize(v.aval.shape), 0), 0);
  return { kernels: kernels.length, megabytes: (elements * 4) / 2 ** 20 };
}

function print(name: string, rows: readonly Row[], program: Program): void {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const kernels = rows.filter((r) => !r.label.startsWith("prim")).reduce((s, r) => s + r.ms, 0);
  const traffic = planTraffic(program);
  console.log(`### ${name}: ${total.toFixed(2)} ms per call, loop kernels ${kernels.toFixed(2)} ms (${traffic.kernels} kernels, buffers of ${traffic.megabytes.toFixed(1)} MB)\n`);
  console.log("| step | count | ms per call | share |\n|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.label} | ${r.steps} | ${r.ms.toFixed(3)} | ${((100 * r.ms) / total).toFixed(1)}% |`);
}

if (isEntryPoint(import.meta.url)) {
  const which = process.argv[2] ?? "transformer";
  const calls = Number(process.argv[3] ?? "20");
  if (which === "transformer") {
    const p = transformerBench.stratumParams();
    const x = new Tensor([transformerBench.BATCH, transformerBench.T, transformerBench.D], "float32", transformerBench.inputData.slice());
    transformerBench.jittedStep(p, x as Parameters<typeof transformerBench.jittedStep>[1]); // x has the bench's input shape [BATCH, T, D]
    const program = transformerBench.jittedStep.lastProgram;
    if (program === undefined) throw new Error("no program");
    print("transformer", profileProgram(program, flattenTree([p, x]).leaves, calls), program);
  } else if (which === "cnn") {
    const p = cnnBench.stratumParams();
    const x = new Tensor([cnnBench.BATCH, 28, 28, 1], "float32", cnnBench.inputData.slice());
    const y = new Tensor([cnnBench.BATCH], "int32", cnnBench.labelData.slice());
    // x and y have the bench's shapes [64, 28, 28, 1] and [64]
    cnnBench.jittedStep(p, x as Parameters<typeof cnnBench.jittedStep>[1], y as Parameters<typeof cnnBench.jittedStep>[2]);
    const program = cnnBench.jittedStep.lastProgram;
    if (program === undefined) throw new Error("no program");
    print("cnn", profileProgram(program, flattenTree([p, x, y]).leaves, calls), program);
  } else {
    const layer = lstm(lstmBench.INPUT, lstmBench.HIDDEN);
    const step = jit(valueAndGrad((p: lstmBench.Params, xs: lstmBench.Inputs): Tensor<[]> => mean(square(layer.apply(p, xs)))));
    const x: lstmBench.Inputs = new Tensor([lstmBench.BATCH, lstmBench.STEPS, lstmBench.INPUT], "float32", lstmBench.inputData.slice());
    const p = lstmBench.stratumParams();
    step(p, x);
    const program = step.lastProgram;
    if (program === undefined) throw new Error("no program");
    print("lstm", profileProgram(program, flattenTree([p, x]).leaves, calls), program);
  }
}
