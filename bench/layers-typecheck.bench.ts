/**
 * Compile-time cost of `sequential`'s shape fold.
 *
 * Generates a file with a 50-layer `sequential` (dense layers alternating with
 * activations, sizes cycling through 784 -> 512 -> 256 -> 128 -> 784) applied
 * to a `Tensor<["batch", 784]>`, its result annotated with the expected type,
 * and type-checks it with `--extendedDiagnostics` under TypeScript 6 and
 * TypeScript 7. The same 50 layers applied one by one (no fold) are the
 * baseline. Results go to `bench/results/layers-typecheck.json`. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/layers-typecheck.bench.js`.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compilers, measure, root, type Figures } from "./support/typecheck.js";

const LAYERS = 50;
const sizes = [784, 512, 256, 128];
const activations = ["relu", "gelu", "silu", "tanh", "sigmoid"];

/** The layers' source, in order, and the output width. */
function layers(): { code: string[]; out: number } {
  const code: string[] = [];
  let width = 784;
  for (let i = 0; i < LAYERS; i++) {
    if (i % 2 === 0) {
      const next = sizes[(i / 2 + 1) % sizes.length] ?? 784;
      code.push(`dense(${width}, ${next})`);
      width = next;
    } else {
      code.push(`${activations[((i - 1) / 2) % activations.length] ?? "relu"}()`);
    }
  }
  return { code, out: width };
}

/** The generated file: one `sequential` of all layers, or each layer applied in turn. */
function source(folded: boolean): string {
  const { code, out } = layers();
  const lines = [
    `import type { Tensor } from "${root}/src/core/tensor.js";`,
    `import { key } from "${root}/src/random/key.js";`,
    `import { dense, gelu, relu, sequential, sigmoid, silu, tanh } from "${root}/src/layers/index.js";`,
    `declare const x: Tensor<["batch", 784]>;`,
  ];
  if (folded) {
    lines.push(`const net = sequential(\n  ${code.join(",\n  ")},\n);`);
    lines.push(`export const y: Tensor<["batch", ${out}]> = net.apply(net.init(key(0)), x);`);
  } else {
    lines.push(`const h0 = x;`);
    code.forEach((layer, i) => {
      lines.push(`const l${i} = ${layer};`);
      lines.push(`const h${i + 1} = l${i}.apply(l${i}.init(key(${i})), h${i});`);
    });
    lines.push(`export const y: Tensor<["batch", ${out}]> = h${code.length};`);
  }
  return lines.join("\n") + "\n";
}

const dir = mkdtempSync(join(tmpdir(), "stratum-layers-typecheck-"));
const files = { sequential: join(dir, "sequential.ts"), unfolded: join(dir, "unfolded.ts") };
writeFileSync(files.sequential, source(true));
writeFileSync(files.unfolded, source(false));

const results: Record<string, { sequential: Figures; unfolded: Figures }> = {};
for (const [name, tsc] of Object.entries(compilers)) {
  results[name] = { sequential: measure(tsc, files.sequential), unfolded: measure(tsc, files.unfolded) };
}

console.log(`Type-checking a ${LAYERS}-layer sequential on Tensor<["batch", 784]> (check time in seconds, instantiations):`);
console.log("compiler       sequential check  unfolded check  sequential inst.  unfolded inst.");
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(14)} ${r.sequential.checkSeconds.toFixed(2).padStart(16)}  ${r.unfolded.checkSeconds.toFixed(2).padStart(14)}  ${String(r.sequential.instantiations).padStart(16)}  ${String(r.unfolded.instantiations).padStart(14)}`,
  );
}
mkdirSync(join(root, "bench", "results"), { recursive: true });
const outFile = join(root, "bench", "results", "layers-typecheck.json");
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, layers: LAYERS, results }, null, 2) + "\n");
console.log(`written to ${outFile}`);
