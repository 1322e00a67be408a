/**
 * Compile-time cost of `sequential`'s shape fold.
 *
 * For each depth (50, 200, 500 and 1000 layers), generates a file with a
 * `sequential` of that many layers (dense layers alternating with activations,
 * sizes cycling through 784 -> 512 -> 256 -> 128 -> 784) applied to a
 * `Tensor<["batch", 784]>`, its result annotated with the expected type, and
 * type-checks it with `--extendedDiagnostics` under TypeScript 6 and
 * TypeScript 7. The same layers applied one by one (no fold) are the
 * baseline, and a builder (`input<S>().then(layer)...`, `bench/support/builder.ts`)
 * the alternative to the fold that issue 16 asked to measure. A GPT-2-sized stack (embedding(50257, 768), 12
 * transformerEncoderBlock(768, 12, 3072), layerNorm, dense(768, 50257)) on
 * `Tensor<["batch", 1024], "int32">` is timed the same way. A check that fails (TS2589 on a stack too deep to fold) is
 * recorded with its error, not thrown. Results go to
 * `bench/results/layers-typecheck.json`. Run with
 * `npx tsc -p tsconfig.run.json && node .build/bench/layers-typecheck.bench.js [depth ...]`.
 * NOTE: timings depend on the machine's load; compare figures taken together.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compilers, measure, root, type Figures } from "./support/typecheck.js";

const DEPTHS = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [50, 200, 500, 1000];
const sizes = [784, 512, 256, 128];
const activations = ["relu", "gelu", "silu", "tanh", "sigmoid"];

/** The source of `depth` layers, in order, and the output width. */
function layers(depth: number): { code: string[]; out: number } {
  const code: string[] = [];
  let width = 784;
  for (let i = 0; i < depth; i++) {
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

type Form = "sequential" | "builder" | "unfolded";

/** The generated file: one `sequential` of all layers, one builder chain, or each layer applied in turn. */
function source(depth: number, form: Form): string {
  const { code, out } = layers(depth);
  const lines = [
    `import type { Tensor } from "${root}/src/core/tensor.js";`,
    `import { key } from "${root}/src/random/key.js";`,
    `import { dense, gelu, relu, sequential, sigmoid, silu, tanh } from "${root}/src/layers/index.js";`,
    `import { input } from "${root}/bench/support/builder.js";`,
    `declare const x: Tensor<["batch", 784]>;`,
  ];
  if (form === "builder") {
    lines.push(`const net = input<["batch", 784]>()\n  ${code.map((layer) => `.then(${layer})`).join("\n  ")};`);
    lines.push(`export const y: Tensor<["batch", ${out}]> = net.apply(net.init(key(0)), x);`);
  } else if (form === "sequential") {
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

/** A GPT-2-sized stack (12 blocks of width 768, 12 heads) on int32 tokens. */
function gpt2Source(): string {
  const blocks = Array.from({ length: 12 }, () => "transformerEncoderBlock(768, 12, 3072)");
  return [
    `import type { Tensor } from "${root}/src/core/tensor.js";`,
    `import { key } from "${root}/src/random/key.js";`,
    `import { dense, embedding, layerNorm, sequential, transformerEncoderBlock } from "${root}/src/layers/index.js";`,
    `declare const tokens: Tensor<["batch", 1024], "int32">;`,
    `const gpt2 = sequential(\n  embedding(50257, 768),\n  ${blocks.join(",\n  ")},\n  layerNorm(768),\n  dense(768, 50257),\n);`,
    `export const logits: Tensor<["batch", 1024, 50257]> = gpt2.apply(gpt2.init(key(0)), tokens);`,
  ].join("\n") + "\n";
}

const dir = mkdtempSync(join(tmpdir(), "stratum-layers-typecheck-"));
const FORMS: readonly Form[] = ["sequential", "builder", "unfolded"];
const results: Record<string, Record<string, Record<Form, Figures>>> = {};
for (const depth of DEPTHS) {
  const files = Object.fromEntries(FORMS.map((form) => [form, join(dir, `${form}-${depth}.ts`)])) as Record<Form, string>; // one file per form
  for (const form of FORMS) writeFileSync(files[form], source(depth, form));
  const byCompiler: Record<string, Record<Form, Figures>> = {};
  // interleaved: each compiler checks the three forms one after another, so a change in the machine's load hits all three
  for (const [name, tsc] of Object.entries(compilers)) {
    byCompiler[name] = { sequential: measure(tsc, files.sequential, true), builder: measure(tsc, files.builder, true), unfolded: measure(tsc, files.unfolded, true) };
  }
  results[String(depth)] = byCompiler;
}

const gpt2File = join(dir, "gpt2.ts");
writeFileSync(gpt2File, gpt2Source());
const gpt2: Record<string, Figures> = {};
for (const [name, tsc] of Object.entries(compilers)) gpt2[name] = measure(tsc, gpt2File, true);

const show = (f: Figures): string => (f.error === undefined ? f.checkSeconds.toFixed(2) : f.error.slice(0, 6));
console.log(`Type-checking a sequential on Tensor<["batch", 784]> (check time in seconds, or the error; instantiations):`);
console.log("layers  compiler       sequential check  builder check  unfolded check  builder/sequential  sequential inst.  builder inst.  unfolded inst.");
for (const [depth, byCompiler] of Object.entries(results)) {
  for (const [name, r] of Object.entries(byCompiler)) {
    const ratio = r.builder.error === undefined && r.sequential.error === undefined ? (r.builder.checkSeconds / r.sequential.checkSeconds).toFixed(2) : "-";
    console.log(
      `${depth.padStart(6)}  ${name.padEnd(14)} ${show(r.sequential).padStart(16)}  ${show(r.builder).padStart(13)}  ${show(r.unfolded).padStart(14)}  ${ratio.padStart(18)}  ${String(r.sequential.instantiations).padStart(16)}  ${String(r.builder.instantiations).padStart(13)}  ${String(r.unfolded.instantiations).padStart(14)}`,
    );
  }
}
for (const [name, f] of Object.entries(gpt2)) console.log(`GPT-2-sized stack, ${name}: ${show(f)} s check, ${f.instantiations} instantiations`);
mkdirSync(join(root, "bench", "results"), { recursive: true });
const outFile = join(root, "bench", "results", "layers-typecheck.json");
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, depths: DEPTHS, results, gpt2 }, null, 2) + "\n");
console.log(`written to ${outFile}`);
