/**
 * PyTorch beside Stratum (issue 14, item 7): finding Debian's PyTorch under
 * `/usr/bin/python3`, writing the tensors a workload starts from where
 * `bench/torch/workloads.py` reads them, and driving that script as a child
 * process at one thread (`OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`, and the
 * script calls `torch.set_num_threads(1)`) or at N (the same at N, with
 * `OMP_WAIT_POLICY=PASSIVE` so that its idle threads sleep rather than spin
 * on a shared machine), one round of steps per request, so that the runner
 * can interleave its rounds with Stratum's.
 */

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The interpreter that has Debian's `python3-torch` (not the first `python3` on PATH); `TORCH_BENCH_PYTHON` overrides it, e.g. to try the bench without torch. */
export const PYTHON = process.env["TORCH_BENCH_PYTHON"] ?? "/usr/bin/python3";

/** The script, in the sources (this module runs as `.build/bench/support/torch.js`). */
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench", "torch", "workloads.py");

/** `threads` threads for every library PyTorch may call into; idle OpenMP threads sleep when there are several. */
function threadsEnv(threads: number): Record<string, string> {
  const n = String(threads);
  return { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, ...(threads > 1 ? { OMP_WAIT_POLICY: "PASSIVE" } : {}) };
}

/** Whether PyTorch can run: its version and the BLAS libraries it loaded, or why not. */
export type TorchStatus = { readonly available: true; readonly version: string; readonly blas: string } | { readonly available: false; readonly reason: string };

/** Asks `/usr/bin/python3` for torch (a few seconds: it imports torch). */
export function torchStatus(): TorchStatus {
  // The BLAS torch reports is the interface it was built for ("generic" on Debian); the library it loaded says which one runs.
  const probe = [
    "import torch, json",
    "torch.mm(torch.ones(4, 4), torch.ones(4, 4))",
    "libs = sorted({l.split()[-1].rsplit('/', 1)[-1] for l in open('/proc/self/maps') if 'blas' in l})",
    "print(json.dumps([torch.__version__, ', '.join(libs) or 'no BLAS library mapped']))",
  ].join("\n");
  const out = spawnSync(PYTHON, ["-c", probe], { encoding: "utf8", env: { ...process.env, ...threadsEnv(1) } });
  if (out.error !== undefined) return { available: false, reason: `${PYTHON}: ${out.error.message}` };
  if (out.status !== 0) return { available: false, reason: `${PYTHON} cannot import torch: ${out.stderr.trim().split("\n").at(-1) ?? ""}` };
  const [version, blas] = JSON.parse(out.stdout) as [string, string]; // the probe prints a pair of strings
  return { available: true, version, blas };
}

/** A tensor to hand to the script: its shape and values. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * Writes `tensors` as `<prefix>.bin` (the values back to back, native
 * little-endian) and `<prefix>.json` (name, dtype, shape and byte offset of
 * each), the files `workloads.py` reads; returns the prefix.
 */
export function writeTensors(dir: string, name: string, tensors: Readonly<Record<string, HostTensor>>): string {
  const prefix = join(dir, name);
  const manifest: Record<string, { dtype: string; shape: readonly number[]; offset: number }> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of Object.entries(tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`${name}/${key}: shape [${t.shape.join(", ")}] holds ${size} values, not ${t.data.length}`);
    manifest[key] = { dtype: t.data instanceof Int32Array ? "int32" : "float32", shape: t.shape, offset };
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  writeFileSync(`${prefix}.bin`, Buffer.concat(parts));
  writeFileSync(`${prefix}.json`, JSON.stringify({ tensors: manifest }));
  return prefix;
}

/** What the script checks on its side before timing (see `workloads.py`). */
export interface TorchCheck {
  readonly outputDifference?: number;
  readonly loss0?: number;
  readonly loss1?: number;
  readonly gradNorms?: Readonly<Record<string, number>>;
}

/** A running `workloads.py --serve`: its first report, rounds of timed steps, and its end. */
export interface TorchWorkload {
  readonly workload: string;
  readonly version: string;
  readonly threads: number;
  readonly check: TorchCheck;
  /** `steps` timed steps, in ms each. */
  run(steps: number): Promise<number[]>;
  close(): void;
}

/** Starts `workloads.py <workload> <data> --threads <threads> --serve` and waits for its check. */
export async function startTorch(workload: string, data: string, threads = 1): Promise<TorchWorkload> {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [SCRIPT, workload, data, "--threads", String(threads), "--serve"], { env: { ...process.env, ...threadsEnv(threads) } });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done === true) throw new Error(`workloads.py ${workload} ended: ${stderr.trim()}`);
    return JSON.parse(line.value) as Record<string, unknown>; // the script prints one JSON object per line
  };
  const ready = await next();
  // the first line's fields, as workloads.py writes them
  const check = ready["check"] as TorchCheck;
  return {
    workload,
    version: String(ready["torch"]),
    threads: Number(ready["threads"]),
    check,
    async run(steps: number): Promise<number[]> {
      child.stdin.write(`run ${steps}\n`);
      const reply = await next();
      const ms = reply["ms"];
      if (!Array.isArray(ms)) throw new Error(`workloads.py ${workload}: no timings in ${JSON.stringify(reply)}`);
      return ms.map(Number);
    },
    close(): void {
      child.stdin.end("quit\n");
    },
  };
}
