/**
 * Where the time of a `node --cpu-prof` run goes (issue 14, item 1), as
 * markdown: self time by kernel family, by kernel entry point, by source
 * file, and the top functions by self time.
 *
 * Usage: `node .build/bench/profile-summary.js FILE.cpuprofile... [--top N] [--from-ms MS] [--after FUNCTION]`
 * (`--from-ms` leaves out the samples of the first MS ms; `--after` those
 * before the first sample with FUNCTION on its stack: `--after timeRounds`
 * leaves out start-up and the jit's first call). A profile of the jitted training steps comes from
 * the PyTorch bench with Stratum alone, for example:
 *
 *     npm run compile
 *     TORCH_BENCH_STRATUM_ONLY=1 TORCH_BENCH_ONLY=cnn node --cpu-prof --cpu-prof-interval 500 \
 *       --cpu-prof-dir=/tmp/prof --cpu-prof-name=cnn.cpuprofile .build/bench/torch.bench.js
 *     node .build/bench/profile-summary.js /tmp/prof/cnn.cpuprofile --after timeRounds
 *
 * A sample's family is decided by its stack, outermost frame first: the
 * first frame in a kernel (matmul, conv and pool forward or backward, the
 * reduction kernels, the fused-loop runners, structural copies) names it, so
 * the packing inside matmul counts as matmul and the GEMM inside a
 * convolution counts as convolution. Samples with no kernel on their stack
 * go by their own frame: the garbage collector and `allocate` as allocation,
 * the rest of `src/` as tracing and dispatch, Node's internals as start-up.
 * Files are matched by path (`backend/kernels/conv/`, `wasm-matmul.js`, `backend/wasm/`)
 * so that the rules survive the move of the backend to `src/backend/`.
 * WebAssembly and generated JavaScript have no source file: by file, they
 * are grouped under the nearest caller that has one. Lines are those of the
 * compiled JavaScript under `.build/`, 1-based.
 */

import { readFileSync } from "node:fs";
import { isEntryPoint } from "./support/report.js";

/** The parts of a V8 `.cpuprofile` that the summary reads. */
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

/** A frame as the summary names it. */
interface Frame {
  readonly name: string;
  /** The path under the repository (or `node:...`), "" for WebAssembly, generated code and V8's own entries. */
  readonly file: string;
  readonly line: number;
  readonly wasm: boolean;
  readonly parent: Frame | undefined;
}

/** Whether `f` is in a kernel file named `base` (not the prim, op or layer of the same name). */
function inKernelFile(f: Frame, base: RegExp): boolean {
  const name = f.file.slice(f.file.lastIndexOf("/") + 1);
  return base.test(name) && !/(^|\/)(prims|ops|layers)\//.test(f.file);
}

/** Whether `f` is in the convolution and pooling kernels (`backend/kernels/conv/`). */
function inConvKernels(f: Frame): boolean {
  return /(^|\/)backend\/kernels\/conv\//.test(f.file);
}

/** Whether `f` is generated JavaScript (no file) that Stratum's code called. */
function generated(f: Frame): boolean {
  return f.file === "" && !f.wasm && !f.name.startsWith("(") && /(^|\/)src\//.test(nearestFile(f));
}

/** A kernel family and whether a frame belongs to it (tried outermost frame first). */
const KERNEL_FAMILIES: readonly (readonly [string, (f: Frame) => boolean])[] = [
  ["matmul (JS and Wasm, packing included)", (f) => inKernelFile(f, /^(wasm-)?matmul\.js$/)],
  ["conv / pool backward", (f) => inConvKernels(f) && (/(^|\/)backward\.js$/.test(f.file) || /Backprop|Backward|backpropBy/.test(f.name))],
  ["conv / pool forward", inConvKernels],
  ["reduction kernels", (f) => inKernelFile(f, /^reduce\.js$/)],
  ["fused loops, Wasm", (f) => /(^|\/)backend\/wasm\//.test(f.file)],
  ["fused loops, interpreter", (f) => /(^|\/)backend\/interpret\.js$/.test(f.file)],
  ["fused loops, generated JS", generated],
  ["transposes / copies", (f) => /(^|\/)prims\/structural\.js$/.test(f.file) || /(^|\/)strided-view\.js$/.test(f.file)],
];

/** The family of a sample whose stack has no kernel, by its own frame. */
function fallbackFamily(f: Frame): string {
  if (f.name === "(garbage collector)" || /(^|\/)dtype\.js$/.test(f.file)) return "allocation / GC";
  if (f.name === "(idle)" || f.name === "(program)" || f.name === "(root)") return "V8: program / idle";
  if (f.file.startsWith("node:") || (f.file === "" && !f.wasm)) return "Node start-up, module loading, native";
  if (/(^|\/)src\//.test(f.file)) return "tracing / dispatch / executor (rest of src/)";
  if (/(^|\/)bench\//.test(f.file)) return "bench harness and data";
  return "other";
}

/** The family of a sample whose innermost frame is `leaf`, and the kernel's entry point (its outermost kernel frame) if it ran in one. */
function classify(leaf: Frame): { family: string; entry: string } {
  const stack: Frame[] = [];
  for (let f: Frame | undefined = leaf; f !== undefined; f = f.parent) stack.push(f);
  for (const f of stack.reverse()) {
    const family = KERNEL_FAMILIES.find(([, test]) => test(f));
    if (family !== undefined) return { family: family[0], entry: `${family[0]}: ${f.file === "" ? label(f) : f.name}` };
  }
  const family = fallbackFamily(leaf);
  return { family, entry: family };
}

/** The path of a script URL under the repository (the part after `.build/`), or the URL. */
function shortFile(url: string): string {
  if (url.startsWith("wasm://")) return "";
  const path = url.replace(/^file:\/\//, "");
  const at = path.lastIndexOf("/.build/");
  return at >= 0 ? path.slice(at + "/.build/".length) : path;
}

/** The frames of a profile by node id, each linked to its caller. */
function frames(profile: CpuProfile): Map<number, Frame> {
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<number, Frame>();
  const frameOf = (id: number): Frame | undefined => {
    const known = out.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    if (n === undefined) return undefined;
    const parentId = parents.get(id);
    const parent = parentId === undefined ? undefined : frameOf(parentId);
    const { functionName, url, lineNumber } = n.callFrame;
    const f: Frame = { name: functionName === "" ? "(anonymous)" : functionName, file: shortFile(url), line: lineNumber + 1, wasm: url.startsWith("wasm://"), parent };
    out.set(id, f);
    return f;
  };
  for (const n of profile.nodes) frameOf(n.id);
  return out;
}

/** The nearest caller of `f` (itself included) that has a source file. */
function nearestFile(f: Frame): string {
  for (let g: Frame | undefined = f; g !== undefined; g = g.parent) if (g.file !== "") return g.file;
  return "?";
}

/** The name of a function in the tables: anonymous closures get the two nearest named callers. */
function label(f: Frame): string {
  if (f.wasm) return `${f.name} (Wasm, called from ${nearestFile(f)})`;
  if (f.file === "") return f.name.startsWith("(") ? f.name : `${f.name} (generated, called from ${nearestFile(f)})`;
  let name = f.name;
  if (name === "(anonymous)") {
    const callers: string[] = [];
    for (let g = f.parent; g !== undefined && callers.length < 2; g = g.parent) if (g.name !== "(anonymous)") callers.push(g.name);
    name = `(closure in ${callers.join(" <- ")})`;
  }
  return `${name} ${f.file}:${f.line}`;
}

/** The source group of a frame: its file, or what calls WebAssembly and generated code. */
function fileGroup(f: Frame): string {
  if (f.wasm) return `Wasm called from ${nearestFile(f)}`;
  if (f.file === "") return f.name.startsWith("(") ? f.name : `generated JS called from ${nearestFile(f)}`;
  if (f.file.startsWith("node:")) return "node: internals";
  return f.file;
}

/** Whether `name` is on the stack of `f`. */
function onStack(f: Frame | undefined, name: string): boolean {
  for (let g = f; g !== undefined; g = g.parent) if (g.name === name) return true;
  return false;
}

/** Where the summary starts: `fromMs` after the start, and not before the first sample with `after` on its stack ("" for none). */
interface Window {
  readonly fromMs: number;
  readonly after: string;
}

/** Self time per sample node, in ms, within `window`; and when the window started. */
function selfTimes(profile: CpuProfile, byId: ReadonlyMap<number, Frame>, window: Window): { times: Map<number, number>; totalMs: number; samples: number; startMs: number } {
  const times = new Map<number, number>();
  let t = profile.startTime;
  let totalMs = 0;
  let samples = 0;
  let startMs = Number.NaN;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    if (id === undefined || (t - profile.startTime) / 1000 < window.fromMs) continue;
    if (Number.isNaN(startMs)) {
      if (window.after !== "" && !onStack(byId.get(id), window.after)) continue;
      startMs = (t - profile.startTime) / 1000;
    }
    const ms = Math.max(0, next) / 1000;
    times.set(id, (times.get(id) ?? 0) + ms);
    totalMs += ms;
    samples++;
  }
  return { times, totalMs, samples, startMs };
}

/** Sums `times` by `key` of each node's frame, largest first. */
function groupBy(times: ReadonlyMap<number, number>, byId: ReadonlyMap<number, Frame>, key: (f: Frame) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const [id, ms] of times) {
    const f = byId.get(id);
    if (f === undefined) continue;
    const k = key(f);
    sums.set(k, (sums.get(k) ?? 0) + ms);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** A markdown table of (name, ms) rows with their share of `totalMs`. */
function table(title: string, rows: readonly [string, number][], totalMs: number): string {
  const lines = [`| ${title} | self ms | share |`, "|---|---:|---:|", ...rows.map(([name, ms]) => `| ${name.replace(/\|/g, "\\|")} | ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)}% |`)];
  return lines.join("\n");
}

/** The summary of one profile, as markdown. */
export function summarise(profile: CpuProfile, name: string, top: number, window: Window): string {
  const byId = frames(profile);
  const { times, totalMs, samples, startMs } = selfTimes(profile, byId, window);
  const families = groupBy(times, byId, (f) => classify(f).family);
  const entries = groupBy(times, byId, (f) => classify(f).entry).slice(0, top);
  const files = groupBy(times, byId, fileGroup).slice(0, top);
  const functions = groupBy(times, byId, label).slice(0, top);
  return [
    `### ${name}`,
    "",
    `${samples} samples, ${totalMs.toFixed(0)} ms of the ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled: from ${startMs.toFixed(0)} ms on${window.after === "" ? "" : ` (the first sample under \`${window.after}\`)`}.`,
    "",
    table("kernel family", families, totalMs),
    "",
    table("kernel entry point (outermost kernel frame)", entries, totalMs),
    "",
    table("source file (compiled)", files, totalMs),
    "",
    table(`top ${top} functions by self time`, functions, totalMs),
    "",
  ].join("\n");
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (flag: string, fallback: string): string => {
    const at = args.indexOf(flag);
    if (at < 0) return fallback;
    const value = args[at + 1] ?? fallback;
    args.splice(at, 2);
    return value;
  };
  const top = Number(option("--top", "25"));
  const window = { fromMs: Number(option("--from-ms", "0")), after: option("--after", "") };
  if (args.length === 0) throw new Error("usage: profile-summary FILE.cpuprofile... [--top N] [--from-ms MS] [--after FUNCTION]");
  for (const file of args) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile; // the format node --cpu-prof writes
    console.log(summarise(profile, file.replace(/^.*\//, ""), top, window));
  }
}

if (isEntryPoint(import.meta.url)) main();
