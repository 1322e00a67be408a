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
 * `tsc -p tsconfig.run.json` (part of `npm run test:types`); with `--dist`,
 * after `npm run build`, the mistakes import the built declarations instead
 * of the sources, as a consumer's code does.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compilersIn } from "./compilers.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const compilers = compilersIn(root);

/**
 * Where the mistakes import the library from: its sources, or with `--dist`
 * the built declarations (`npm run build` first), as a consumer compiles.
 */
const lib = process.argv.includes("--dist") ? "dist" : "src";

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
  { code: `sequential(dense(128, 32), batchNorm(64));`, names: `sequential: layer 1 expects [..., 64] but gets [..., 32]` },
  { code: `bnStack.apply(bnStack.init(k), bnStack.initState(), zeros([8, 100]), { training: true });`, names: `sequential: layer 0 expects [..., 128] but gets [8, 100]` },
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
  { code: `vmap(vmap(perPair))(zeros([5, 32, 784]), zeros([5, 64, 784]));`, names: `vmap: a mapped argument must be its example's type with the first mapped arguments' batch dims [5, 32] added (outermost first)` },
  { code: `vmap(vmap(perPair))(zeros([5, 32, 784]), zeros([6, 32, 784]));`, names: `vmap: a mapped argument must be its example's type with the first mapped arguments' batch dims [5, 32] added (outermost first)` },
  { code: `matmul(features, zeros([512, 10]));`, names: `matmul: inner dims 784 and 512 differ in [batch, 784] and [512, 10]` },
  { code: `matmul(zeros([2, 2, 3]), zeros([3, 3, 4]));`, names: `matmul batch: shapes [2] and [3] do not broadcast (dims 2 and 3 differ)` },
  { code: `add(features, zeros([3, 5]));`, names: `add: shapes [batch, 784] and [3, 5] do not broadcast (dims 784 and 5 differ)` },
  { code: `mul(zeros([32, 10]), zeros([16, 10]));`, names: `mul: shapes [32, 10] and [16, 10] do not broadcast (dims 32 and 16 differ)` },
  { code: `sub(features, zeros([784], "float64"));`, names: `sub: operand dtypes float32 and float64 differ (cast one first)` },
  { code: `maximum(zeros([4, 3]), features);`, names: `maximum: shapes [4, 3] and [batch, 784] do not broadcast (dims 3 and 784 differ)` },
  { code: `greater(features, zeros([10]));`, names: `greater: shapes [batch, 784] and [10] do not broadcast (dims 784 and 10 differ)` },
  { code: `add(features, zeros([4, 784]));`, names: `add: shapes [batch, 784] and [4, 784] do not broadcast (dims batch and 4 differ)` },
  { code: `sequential(lstm(64, 128), gru(64, 32));`, names: `sequential: layer 1 expects [..., T, 64] but gets [..., ?, 128]` },
  { code: `add(1, 2);`, names: `add: needs a tensor operand, got two numbers` },
  { code: `where(greater(features, 0), features, zeros([3, 5]));`, names: `where: shapes [batch, 784] and [3, 5] do not broadcast (dims 784 and 5 differ)` },
  { code: `where(greater(zeros([4, 3]), 0), 0, zeros([5, 3]));`, names: `where: shapes [4, 3] and [5, 3] do not broadcast (dims 4 and 5 differ)` },
  { code: `where(greater(features, 0), features, zeros([784], "float64"));`, names: `where: value dtypes float32 and float64 differ (cast one first)` },
  { code: `function g<B extends number>(x: Tensor<[B, 784]>) { return matmul(x, zeros([512, 10])); }`, names: `matmul: inner dims 784 and 512 differ` },
  { code: `function h<B extends number>(x: Tensor<[B, 3]>) { return add(x, zeros([4, 3])); }`, names: `OperandsFit<"add", Tensor<[B, 3], "float32">, Tensor<[4, 3], "float32">>` },
  { code: `function c<B extends number>(x: Tensor<[B, 3]>) { return greater(x, zeros([4, 3])); }`, names: `OperandsFit<"greater", Tensor<[B, 3], "float32">, Tensor<[4, 3], "float32">>` },
  { code: `function w<B extends number>(x: Tensor<[B, 3]>) { return where(greater(x, 0), x, zeros([4, 3])); }`, names: `WhereFit<Tensor<[B, 3], "bool">, Tensor<[B, 3], "float32">, Tensor<[4, 3], "float32">>` },
];

const prelude = [
  `import { zeros, ones } from "${root}/${lib}/core/create.js";`,
  `import type { Tensor } from "${root}/${lib}/core/tensor.js";`,
  `import { add, greater, maximum, mul, sub, where } from "${root}/${lib}/ops/elementwise.js";`,
  `import { matmul } from "${root}/${lib}/ops/linalg.js";`,
  `import { reshape } from "${root}/${lib}/ops/shape.js";`,
  `import { adaptiveAvgPool2d } from "${root}/${lib}/ops/adaptive-pool.js";`,
  `import { key } from "${root}/${lib}/random/key.js";`,
  `import { avgPool2d, batchNorm, conv2d, dense, embedding, flatten, gru, lstm, multiHeadAttention, relu, residual, sequential, summary, tanh, transformerEncoderBlock } from "${root}/${lib}/layers/index.js";`,
  `import { vmap } from "${root}/${lib}/transforms/vmap.js";`,
  `const k = key(0);`,
  `const perPair = (a: Tensor<[784]>, b: Tensor<[784]>) => add(a, b);`,
  `declare const features: Tensor<["batch", 784]>;`,
  `declare const pair: { a: Tensor<[32, 784]>; b: Tensor<[64, 784]> };`,
  `const bnStack = sequential(dense(128, 64), batchNorm(64), relu());`,
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
writeFileSync(file, [...prelude, ...mistakes.map((m) => m.code)].join("\n") + "\n");
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
  console.log(`${name} (against ${lib}/): ${mistakes.length} mistakes, each first line names the op or layer and the dims: ${failures === failuresBefore}`);
}
rmSync(dir, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);
