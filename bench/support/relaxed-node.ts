/**
 * Runs a compiled bench script (its path and arguments follow) in a Node
 * process where relaxed SIMD is available, so that the bench can time the
 * opt-in relaxed kernels beside the default ones: with
 * `--experimental-wasm-relaxed-simd` where this Node accepts the flag (Node
 * 20 and 21 need it), without it where it does not (newer Node has relaxed
 * SIMD on). Exits with the script's status.
 * Run as `node .build/bench/support/relaxed-node.js .build/bench/torch.bench.js`.
 */

import { spawnSync } from "node:child_process";

const FLAG = "--experimental-wasm-relaxed-simd";
const [script, ...args] = process.argv.slice(2);
if (script === undefined) throw new Error("relaxed-node: give the script to run");
const accepted = spawnSync(process.execPath, [FLAG, "-e", "0"], { stdio: "ignore" }).status === 0;
const run = spawnSync(process.execPath, [...(accepted ? [FLAG] : []), script, ...args], { stdio: "inherit" });
process.exit(run.status ?? 1);
