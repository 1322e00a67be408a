/**
 * Compile-time cost of shapes in the types.
 *
 * Generates a file with a chain of 50 shaped calls (flatten, matmul with a
 * 50257-wide vocabulary projection, broadcast, reshape with -1, permute,
 * slice, concat, reduce, conv sizes), each feeding the next, and type-checks
 * it with `--extendedDiagnostics` under TypeScript 6 and TypeScript 7. The
 * same chain with the shapes typed as plain `number[]` is the baseline, so the
 * figures show what the shape types cost. Results go to
 * `bench/results/typecheck.json`. Run with `npm run bench:types`.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as R from "../src/core/rules/index.js";
import { compilers, measure, root, type Figures } from "./support/typecheck.js";


/** One link of the chain: its source, given the previous result's name, and what it computes. */
interface Link {
  readonly code: (prev: string) => string;
  readonly run: (prev: readonly number[]) => readonly number[];
}

const links: Link[] = [
  { code: (p) => `flattenShape(${p})`, run: (p) => R.flattenShape(p) },
  { code: (p) => `matmulShape(${p}, [784, 768])`, run: (p) => R.matmulShape(p, [784, 768]) },
  { code: (p) => `matmulShape(${p}, [768, 50257])`, run: (p) => R.matmulShape(p, [768, 50257]) },
  { code: (p) => `reshapeShape(${p}, [-1, 50257, 1])`, run: (p) => R.reshapeShape(p, [-1, 50257, 1]) },
  { code: (p) => `squeezeShape(${p}, [2])`, run: (p) => R.squeezeShape(p, [2]) },
  { code: (p) => `matmulShape(${p}, [50257, 784])`, run: (p) => R.matmulShape(p, [50257, 784]) },
  { code: (p) => `broadcastShapes(${p}, [1, 784])`, run: (p) => R.broadcastShapes(p, [1, 784]) },
  { code: (p) => `reshapeShape(${p}, [32, 28, 28, 1])`, run: (p) => R.reshapeShape(p, [32, 28, 28, 1]) },
  { code: (p) => `permuteShape(${p}, [0, 3, 1, 2])`, run: (p) => R.permuteShape(p, [0, 3, 1, 2]) },
  { code: (p) => `permuteShape(${p}, [0, 2, 3, 1])`, run: (p) => R.permuteShape(p, [0, 2, 3, 1]) },
  { code: (p) => `sliceShape(${p}, [null, { start: 0, stop: 28 }])`, run: (p) => R.sliceShape(p, [null, { start: 0, stop: 28 }]) },
  { code: (p) => `concatShape([${p}, ${p}], -1)`, run: (p) => R.concatShape([p, p], -1) },
  { code: (p) => `reduceShape(${p}, -1, true)`, run: (p) => R.reduceShape(p, -1, true) },
  { code: (p) => `expandDimsShape(${p}, 0)`, run: (p) => R.expandDimsShape(p, 0) },
  { code: (p) => `squeezeShape(${p}, [0])`, run: (p) => R.squeezeShape(p, [0]) },
  { code: (p) => `reshapeShape(${p}, [32, 28, 28, 1])`, run: (p) => R.reshapeShape(p, [32, 28, 28, 1]) },
];

/**
 * The generated chain. The shaped version annotates every result with the
 * shape the run-time rule computes, so a link whose type widened to `Dim[]`
 * fails the check instead of looking cheap.
 */
function chain(typed: boolean): string {
  const lines = [
    `import { broadcastShapes, concatShape, expandDimsShape, flattenShape, matmulShape, permuteShape, reduceShape, reshapeShape, sliceShape, squeezeShape } from "${root}/src/index.js";`,
    typed ? `const s0 = [32, 28, 28, 1] as const;` : `const s0: number[] = [32, 28, 28, 1];`,
  ];
  let shape: readonly number[] = [32, 28, 28, 1];
  for (let i = 0; i < 50; i++) {
    const link = links[i % links.length];
    if (link === undefined) continue;
    shape = link.run(shape);
    const call = link.code(`s${i}`);
    lines.push(typed ? `const s${i + 1}: ${JSON.stringify(shape)} = ${call};` : `const s${i + 1}: number[] = ${call} as number[];`);
  }
  lines.push(`export const out = s50;`);
  return lines.join("\n") + "\n";
}

const dir = mkdtempSync(join(tmpdir(), "stratum-typecheck-"));
const files = { shaped: join(dir, "shaped.ts"), untyped: join(dir, "untyped.ts") };
writeFileSync(files.shaped, chain(true));
writeFileSync(files.untyped, chain(false));

const results: Record<string, Record<string, Figures>> = {};
for (const [name, tsc] of Object.entries(compilers)) {
  results[name] = { shaped: measure(tsc, files.shaped), untyped: measure(tsc, files.untyped) };
}

console.log("Type-checking a 50-call shaped chain (check time in seconds, instantiations):");
console.log("compiler       shaped check  untyped check  shaped inst.  untyped inst.  ratio (check)");
for (const [name, r] of Object.entries(results)) {
  const { shaped, untyped } = r as { shaped: Figures; untyped: Figures };
  console.log(
    `${name.padEnd(14)} ${shaped.checkSeconds.toFixed(2).padStart(12)}  ${untyped.checkSeconds.toFixed(2).padStart(13)}  ${String(shaped.instantiations).padStart(12)}  ${String(untyped.instantiations).padStart(13)}  ${(shaped.checkSeconds / Math.max(untyped.checkSeconds, 0.01)).toFixed(1).padStart(13)}`,
  );
}
mkdirSync(join(root, "bench", "results"), { recursive: true });
const outFile = join(root, "bench", "results", "typecheck.json");
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2) + "\n");
console.log(`written to ${outFile}`);
