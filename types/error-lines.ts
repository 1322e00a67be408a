/**
 * The first line a user sees: compiles a list of typical shape mistakes with
 * each of our compilers (TypeScript 6 and TypeScript 7) and checks that the
 * first line of the first diagnostic of each names the op or layer and the
 * dims (it holds the expected text), and is neither an overload list nor an
 * `exactOptionalPropertyTypes` remark.
 *
 * The mistakes go into one generated file, one per line, checked with the
 * project's strictness; a line's first diagnostic is the one the compiler
 * prints first for it. Usage: `node .build/types/error-lines.js` after
 * `tsc -p tsconfig.run.json` (part of `npm run test:types`).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compilersIn } from "./compilers.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const compilers = compilersIn(root);

/** A typical mistake, and the text the first line of its first diagnostic must hold. */
interface Mistake {
  readonly code: string;
  readonly names: string;
}

const mistakes: readonly Mistake[] = [
  { code: `sequential(dense(784, 512), relu(), dense(256, 10));`, names: `sequential: layer 2 expects [..., 256] but gets [..., 512]` },
  { code: `sequential(conv2d(1, 32, 3), dense(800, 10));`, names: `sequential: layer 1 expects [..., 800] but gets [..., ?, ?, 32]` },
  { code: `sequential(embedding(256, 64), dense(32, 10));`, names: `sequential: layer 1 expects [..., 32] but gets [..., ?, 64]` },
  { code: `sequential(embedding(256, 64), lstm(32, 128));`, names: `sequential: layer 1 expects [..., T, 32] but gets [..., ?, 64]` },
  { code: `sequential(embedding(256, 64), transformerEncoderBlock(128, 4, 512));`, names: `sequential: layer 1 expects [N, T, 128] but gets [..., ?, 64]` },
  { code: `sequential(dense(128, 64), batchNorm(64));`, names: `sequential: layer 1 is stateful` },
  { code: `residual(dense(512, 256));`, names: `residual: the layer maps [..., 512] to [..., 256]` },
  { code: `dense(784, 512).apply(dense(784, 512).init(k), zeros([32, 100]));`, names: `dense: expects [..., 784] but gets [32, 100]` },
  { code: `lenet.apply(lenet.init(k), zeros([8, 32, 32, 1]));`, names: `sequential: layer 7 expects [..., 400] but gets [8, 576]` },
  { code: `summary(lenet, [1, 28, 28, 3]);`, names: `sequential: layer 0 expects [N, H, W, 1] but gets [1, 28, 28, 3]` },
  { code: `transformerEncoderBlock(128, 3, 512);`, names: `transformerEncoderBlock: dModel 128 is not a multiple of numHeads 3` },
  { code: `multiHeadAttention(128, 3);`, names: `multiHeadAttention: dModel 128 is not a multiple of numHeads 3; give keyDim` },
  { code: `adaptiveAvgPool2d(zeros([8, 13, 13, 3]), 0);`, names: `adaptiveAvgPool2d: an output size must be a positive integer, got 0` },
  { code: `sequential(multiHeadAttention(128, 4, { kdim: 64, vdim: 32 }), dense(128, 10));`, names: `sequential: layer 0 expects separate keys [N, Tk, 64] and values [N, Tk, 32]` },
  { code: `zeros([-1, 2.5]);`, names: `zeros: dim 0 of [-1, 2.5]: -1 is negative` },
  { code: `ones([2, 1.5]);`, names: `ones: dim 1 of [2, 1.5]: 1.5 is not an integer` },
  { code: `reshape(features, [28, 28]);`, names: `reshape: cannot reshape [batch, 784] into [28, 28]` },
  { code: `reshape(zeros([2, 3]), [4, 2]);`, names: `reshape: cannot reshape [2, 3] into [4, 2]: the sizes differ` },
  { code: `vmap(perPair)(zeros([32, 784]), zeros([64, 784]));`, names: `vmap: a mapped argument must be its example's type with the first mapped argument's batch dim 32 added` },
  { code: `vmap(perPair)(features, zeros([64, 784]));`, names: `vmap: a mapped argument must be its example's type with the first mapped argument's batch dim batch added` },
  { code: `vmap((p: { a: Tensor<[784]>; b: Tensor<[784]> }) => add(p.a, p.b))(pair);`, names: `vmap: the leaves of the first mapped argument have different batch dims, one of them 32` },
];

/**
 * Mistakes whose first line is still "No overload matches this call": `matmul`
 * and the elementwise ops keep a second signature for code generic over the
 * batch dims. Their lines are printed, not checked; the op and dims follow
 * in the overload's own lines.
 */
const overloaded: readonly string[] = [`matmul(features, zeros([512, 10]));`, `add(features, zeros([3, 5]));`];

const prelude = [
  `import { zeros, ones } from "${root}/src/core/create.js";`,
  `import type { Tensor } from "${root}/src/core/tensor.js";`,
  `import { add } from "${root}/src/ops/elementwise.js";`,
  `import { matmul } from "${root}/src/ops/linalg.js";`,
  `import { reshape } from "${root}/src/ops/shape.js";`,
  `import { adaptiveAvgPool2d } from "${root}/src/ops/adaptive-pool.js";`,
  `import { key } from "${root}/src/random/key.js";`,
  `import { avgPool2d, batchNorm, conv2d, dense, embedding, flatten, lstm, multiHeadAttention, relu, residual, sequential, summary, tanh, transformerEncoderBlock } from "${root}/src/layers/index.js";`,
  `import { vmap } from "${root}/src/transforms/vmap.js";`,
  `const k = key(0);`,
  `const perPair = (a: Tensor<[784]>, b: Tensor<[784]>) => add(a, b);`,
  `declare const features: Tensor<["batch", 784]>;`,
  `declare const pair: { a: Tensor<[32, 784]>; b: Tensor<[64, 784]> };`,
  `const lenet = sequential(conv2d(1, 6, 5, { padding: "same" }), tanh(), avgPool2d(2), conv2d(6, 16, 5), tanh(), avgPool2d(2), flatten(), dense(400, 10));`,
];

/** The first line of the first diagnostic on each line of the file, by line number (1-based). */
function firstLines(tsc: string, file: string): Map<number, string> {
  const args = [tsc, "--ignoreConfig", "--noEmit", "--pretty", "false", "--strict", "--exactOptionalPropertyTypes", "--noUncheckedIndexedAccess", "--target", "es2022", "--module", "nodenext", "--skipLibCheck", file];
  const run = spawnSync(process.execPath, args, { encoding: "utf8", cwd: dirname(file) });
  const lines = new Map<number, string>();
  if (!/^.+?\(\d+,\d+\): error/m.test(run.stdout)) lines.set(0, `no diagnostics with positions: ${run.stdout}${run.stderr}`);
  for (const line of run.stdout.split("\n")) {
    const m = /^.+?\((\d+),\d+\): (error TS\d+: .*)$/.exec(line);
    if (m === null) continue;
    const row = Number(m[1]);
    if (!lines.has(row)) lines.set(row, m[2] ?? "");
  }
  return lines;
}

const dir = mkdtempSync(join(tmpdir(), "stratum-error-lines-"));
const file = join(dir, "mistakes.ts");
writeFileSync(file, [...prelude, ...mistakes.map((m) => m.code), ...overloaded].join("\n") + "\n");
let failures = 0;
for (const [name, tsc] of Object.entries(compilers)) {
  const failuresBefore = failures;
  const lines = firstLines(tsc, file);
  for (const [row, text] of lines) {
    if (row <= prelude.length) {
      console.error(`${name}: unexpected error in the prelude: ${text}`);
      failures++;
    }
  }
  mistakes.forEach((m, i) => {
    const text = lines.get(prelude.length + i + 1);
    const bad =
      text === undefined
        ? "compiles"
        : !text.includes(m.names)
          ? "does not name the op and dims"
          : /No overload matches|exactOptionalPropertyTypes/.test(text)
            ? "is an overload list or an exactOptionalPropertyTypes remark"
            : undefined;
    if (bad !== undefined) {
      console.error(`${name}: \`${m.code}\` ${bad}; first line: ${text ?? "(none)"}`);
      failures++;
    }
  });
  overloaded.forEach((code, i) => console.log(`${name}: (not checked) \`${code}\`: ${lines.get(prelude.length + mistakes.length + i + 1) ?? "compiles"}`));
  console.log(`${name}: ${mistakes.length} mistakes, each first line names the op or layer and the dims: ${failures === failuresBefore}`);
}
rmSync(dir, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);
