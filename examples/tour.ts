/**
 * `npm run tour`: a shape-checked computation and its printout.
 *
 * Walks the shapes of an MNIST CNN (conv3x3(32)-relu-maxpool2-conv3x3(64)-
 * relu-maxpool2-flatten-dense(10)), computed by the same rules the compiler
 * runs at the type level, shows data entering from outside through a
 * validating constructor that returns an `Either` instead of throwing, and
 * fits a line by gradient descent with `jit(valueAndGrad(loss))`. The
 * training job itself is `npm run demo` (`demo.ts`).
 */

import * as E from "fp-ts/lib/Either.js";
import {
  ShapeError,
  add,
  arange,
  convOutSize,
  flattenShape,
  fromArray,
  jit,
  matmul,
  matmulShape,
  mean,
  mul,
  reshape,
  square,
  sub,
  valueAndGrad,
  zeros,
  poolOutSize,
  reduceShape,
  tensor,
  type ConvOutSize,
  type FlattenShape,
  type MatmulShape,
  type Tensor,
} from "../src/index.js";

const line = (label: string, value: unknown): void => console.log(`  ${label.padEnd(40)} ${String(value)}`);
const show = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

console.log("Stratum: shapes in the types, checked again at run time.\n");

const x = tensor([[1, 2, 3], [4, 5, 6]]); // Tensor<[2, 3]>
console.log("A tensor from a nested literal, typed Tensor<[2, 3]>:");
console.log(x.toString(), "\n");

// The CNN's shapes, batch 64. Each constant's type is the literal shape the
// compiler computed (hover over it): `h1` is 28, `flat` is [64, 3136].
const batch = 64;
const h1 = convOutSize(28, 3, { padding: "same" });
const p1 = poolOutSize(h1, 2);
const h2 = convOutSize(p1, 3, { padding: "same" });
const p2 = poolOutSize(h2, 2);
const flat = flattenShape([batch, p2, p2, 64]);
const logits = matmulShape(flat, [3136, 10]);
const perExample = reduceShape(logits, -1);

// The same sizes, named only in types: the compiler checks these lines.
const typedConv: ConvOutSize<224, 7, 2, 1, 3> = 112;
const typedFlat: FlattenShape<["batch", 7, 7, 64]>[1] = 3136;
const typedVocab: MatmulShape<["batch", 768], [768, 50257]>[1] = 50257;

console.log("The MNIST CNN's shapes, computed by the type-level rules and their run-time twins:");
line("input", show([batch, 28, 28, 1]));
line("conv3x3(32), padding same", show([batch, h1, h1, 32]));
line("maxpool 2x2", show([batch, p1, p1, 32]));
line("conv3x3(64), padding same", show([batch, h2, h2, 64]));
line("maxpool 2x2", show([batch, p2, p2, 64]));
line("flatten", show(flat));
line("dense(10)", show(logits));
line("loss per example", show(perExample));
line("ConvOutSize<224, 7, 2, 1, 3>", typedConv);
line("FlattenShape<[batch, 7, 7, 64]>", `[batch, ${typedFlat}]`);
line("GPT-2 vocabulary projection", `[batch, ${typedVocab}]`);
console.log();

console.log("Data from outside enters through fromArray, which returns an Either:");
const pixels = fromArray(new Float32Array(3 * 784).fill(0.5), ["batch", 784]);
line('fromArray(2352 floats, ["batch", 784])', E.isRight(pixels) ? `Right: shape ${show(pixels.right.shape)}` : pixels.left.message);
const bad = fromArray(new Float32Array(1000), ["batch", 784]);
line('fromArray(1000 floats, ["batch", 784])', E.isLeft(bad) ? `Left: ${bad.left.message}` : "Right?");
console.log();

// A mismatched product does not compile: `matmulShape(flat, [512, 10])` is an
// error whose text names the op and both dims. Shapes known only at run time
// get the same message from the run-time rule:
const fromFile = JSON.parse("[512, 10]") as number[]; // say, a config file's weight shape
try {
  matmulShape(flat as readonly number[], fromFile); // widened to number dims, as a shape read at run time would be
} catch (e) {
  if (!(e instanceof ShapeError)) throw e;
  console.log("A mismatched layer, caught by the same rule at run time:");
  line("matmulShape([64, 3136], [512, 10])", `${e.name}: ${e.message}`);
}

// Gradients are transforms: fit y = 3x - 1 by gradient descent, the whole
// step (forward, backward, update) one jitted program of fused loops.
console.log("\nGradient descent on a line, with jit(valueAndGrad(loss)):");
const xs = reshape(arange(-1, 1, 0.125), [16, 1]); // Tensor<[16, 1]>
const ys = sub(mul(xs, 3), 1);
type Params = { w: Tensor<[1, 1]>; b: Tensor<[1]> };
const loss = (p: Params): Tensor<[]> => mean(square(sub(add(matmul(xs, p.w), p.b), ys)));
const step = jit((p: Params) => {
  const [value, g] = valueAndGrad(loss)(p);
  return { value, p: { w: sub(p.w, mul(g.w, 0.5)), b: sub(p.b, mul(g.b, 0.5)) } };
});
let params: Params = { w: zeros([1, 1]), b: zeros([1]) };
for (let i = 0; i <= 60; i++) {
  const { value, p } = step(params);
  if (i % 15 === 0) line(`step ${i}`, `loss ${value.item().toFixed(6)}  w ${params.w.item().toFixed(4)}  b ${params.b.item().toFixed(4)}`);
  params = p;
}
line("traced", `${step.traces} time(s) for 61 calls`);
