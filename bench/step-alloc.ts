/**
 * What a jitted training step allocates (issue 14, item 6): the MLP and CNN
 * SGD steps of `mlp.bench.ts` and `cnn.bench.ts`, as they are (a step
 * returns new parameters) and jitted again with their parameters donated
 * (`jit(step, { donate: [0] })`: the update is written over the old ones).
 *
 * Allocation is counted, not sampled: the typed-array constructors are
 * wrapped before the library is imported (dynamic imports below), and every
 * array created with a length or values (not a view of existing memory) adds
 * its bytes, by the function that created it. CPU time per step
 * (`process.cpuUsage`, garbage collector threads included) is printed too:
 * on a loaded machine it moves less than wall time, but compare builds only
 * in the same run. Run with `npx tsc -p tsconfig.run.json && node .build/bench/step-alloc.js`.
 */

import type { Tensor } from "../src/core/tensor.js";
import type { Tree } from "../src/core/tree.js";
import { printTable } from "./support/report.js";

const STEPS = Number(process.env["STEP_ALLOC_STEPS"] ?? "20");
const constructors = ["Float32Array", "Float64Array", "Int32Array", "Uint8Array", "Uint32Array", "Int8Array", "Int16Array", "Uint16Array"] as const;

let counting = false;
let bytes = 0;
const bySite = new Map<string, number>();

/** The first frame of the stack outside this file, `allocate` and built-ins: who asked for the array. */
function site(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1).map((l) => l.trim());
  const outside = frames.find((f) => !f.includes("step-alloc") && !f.includes("new Counting") && !f.includes("core/dtype") && !f.includes("<anonymous>"));
  return (outside ?? "?").replace(/^at /, "").replace(/\(.*\/\.build\//, "(").replace(/file:\/\/.*\/\.build\//, "");
}

for (const name of constructors) {
  const Base = globalThis[name] as unknown as new (...args: unknown[]) => { byteLength: number }; // every typed-array constructor has this shape
  const Counting = class extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      const [first] = args;
      if (!counting || first instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && first instanceof SharedArrayBuffer)) return;
      bytes += this.byteLength;
      const at = site();
      bySite.set(at, (bySite.get(at) ?? 0) + this.byteLength);
    }
  };
  Object.defineProperty(Counting, "name", { value: name });
  Object.defineProperty(globalThis, name, { value: Counting, writable: true, configurable: true });
}

type Images = Tensor<readonly number[]>;
type Labels = Tensor<readonly number[], "int32">;
type Step = (p: Tree, x: Images, y: Labels) => { readonly loss: Tensor<[], "float32">; readonly params: Tree };

/** Bytes and CPU ms per step of `step` from fresh params, after 3 steps of warm-up; the largest allocation sites. */
function measure(step: Step, params: Tree, x: Images, y: Labels): { bytes: number; cpuMs: number; sites: [string, number][] } {
  let p = params;
  const run = (): void => {
    const out = step(p, x, y);
    p = out.params;
    out.loss.item();
  };
  for (let i = 0; i < 3; i++) run();
  bytes = 0;
  bySite.clear();
  counting = true;
  const cpu = process.cpuUsage();
  for (let i = 0; i < STEPS; i++) run();
  const used = process.cpuUsage(cpu);
  counting = false;
  const sites = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([s, n]): [string, number] => [s, n / STEPS]);
  return { bytes: bytes / STEPS, cpuMs: (used.user + used.system) / 1000 / STEPS, sites };
}

const { Tensor: TensorClass } = await import("../src/core/tensor.js");
const { jit } = await import("../src/transforms/jit.js");
const mlp = await import("./mlp.bench.js");
const cnn = await import("./cnn.bench.js");

const rows: string[][] = [];
const workloads = [
  { name: "MLP", bench: mlp, x: new TensorClass([mlp.BATCH, 784], "float32", mlp.inputData.slice()) },
  { name: "CNN", bench: cnn, x: new TensorClass([cnn.BATCH, 28, 28, 1], "float32", cnn.inputData.slice()) },
] as const;
for (const { name, bench, x } of workloads) {
  const y = new TensorClass([bench.BATCH], "int32", bench.labelData.slice());
  // the module's step, typed by its own params and input shapes; this bench only threads its own values through it
  const step = bench.jittedStep as unknown as Step;
  // the same step traced inline, with its parameters donated
  const donated = jit((p: Tree, xs: Images, ys: Labels) => step(p, xs, ys), { donate: [0] });
  for (const [variant, f] of [["as is", step], ["donated", donated]] as const) {
    const r = measure(f, bench.stratumParams(), x, y);
    rows.push([`${name} ${variant}`, (r.bytes / 1e6).toFixed(3), r.cpuMs.toFixed(1), r.sites.map(([s, n]) => `${(n / 1e6).toFixed(3)} MB ${s}`).join("; ")]);
  }
}
printTable(["workload", "MB / step", "CPU ms / step", "largest allocation sites"], rows);
