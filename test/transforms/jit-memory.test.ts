/**
 * A jitted training loop allocates what it returns and nothing else.
 *
 * The typed arrays created while steps run are counted (every constructor
 * given a length or values, not a view of existing memory): the typed-array
 * constructors are wrapped before the library is imported, for this file's
 * own module instances, and restored after. A step without donation may
 * allocate its results (the new parameters, the optimizer state, the loss);
 * a step that donates its parameters and state allocates the loss alone.
 * The tolerance, `KERNEL_TABLES` bytes per step, is for the small tables of
 * window offsets that the convolution kernels build on each call
 * (`backend/kernels/conv/`: 144 bytes per step of the CNN below).
 * Then, after full garbage collections, the heap and the array buffers must
 * not grow over a few hundred steps. Allocation is measured, never timed.
 */

import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { Concrete } from "../../src/core/shape.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { Tree } from "../../src/core/tree.js";
import { collectGarbage } from "../support/gc.js";

type Library = typeof import("../../src/index.js");

const names = ["Float32Array", "Float64Array", "Int32Array", "Uint8Array", "Uint32Array", "Int8Array", "Int16Array", "Uint16Array"] as const;
type TypedName = (typeof names)[number];
const originals = new Map<TypedName, unknown>(names.map((n) => [n, globalThis[n]]));
let counted = 0;
let counting = false;

/** Replaces each typed-array constructor by a subclass that counts the bytes of arrays it creates (views excluded). */
function wrapConstructors(): void {
  for (const name of names) {
    const Base = globalThis[name] as unknown as new (...args: unknown[]) => { byteLength: number }; // every typed-array constructor has this shape
    const Counting = class extends Base {
      constructor(...args: unknown[]) {
        super(...args);
        const [first] = args;
        if (counting && !(first instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== "undefined" && first instanceof SharedArrayBuffer)) counted += this.byteLength;
      }
    };
    Object.defineProperty(Counting, "name", { value: name });
    Object.defineProperty(globalThis, name, { value: Counting, writable: true, configurable: true });
  }
}

function restoreConstructors(): void {
  for (const name of names) Object.defineProperty(globalThis, name, { value: originals.get(name), writable: true, configurable: true });
}

/** The bytes of typed arrays `run` creates. */
function bytesAllocatedBy(run: () => void): number {
  counted = 0;
  counting = true;
  try {
    run();
  } finally {
    counting = false;
  }
  return counted;
}

/** The bytes per step that kernels may allocate for their own tables (see the file's header). */
const KERNEL_TABLES = 1024;

/** Expects `bytes` to be `results`, up to the kernels' tables. */
function expectOnly(bytes: number, results: number): void {
  expect(bytes).toBeGreaterThanOrEqual(results);
  expect(bytes).toBeLessThanOrEqual(results + KERNEL_TABLES);
}

let lib: Library;

beforeAll(async () => {
  wrapConstructors();
  vi.resetModules();
  lib = await import("../../src/index.js");
});

afterAll(() => {
  restoreConstructors();
  vi.resetModules();
});

/** Deterministic values in [-0.5, 0.5). */
const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (((i * 7919 + seed * 104729) % 1000) / 1000) - 0.5);

/** A model to train: its parameters, its loss, and the bytes of its parameters. */
interface Model<P extends Tree> {
  readonly params: P;
  // a method, so that a Model of any parameters is a Model<Tree> for `trainer`
  loss(p: P): Tensor<[], "float32">;
  readonly bytes: number;
}

/** A float32 tensor of `shape` with deterministic values. */
function filled<S extends readonly number[]>(shape: Concrete<S>, seed: number): Tensor<S> {
  return new lib.Tensor<S>(shape, "float32", values(shape.reduce((a, b) => a * b, 1), seed));
}

type MlpParams = { readonly w1: Tensor<[16, 32]>; readonly b1: Tensor<[32]>; readonly w2: Tensor<[32, 4]>; readonly b2: Tensor<[4]> };

/** An MLP 16-32-4 on a batch of 8 (matmuls, reductions, a gather of the labels). */
function mlp(): Model<MlpParams> {
  const { Tensor, add, matmul, mean, relu, softmaxCrossEntropy } = lib;
  const x = filled([8, 16] as const, 1);
  const y = new Tensor([8] as const, "int32", Int32Array.from({ length: 8 }, (_, i) => i % 4));
  const params: MlpParams = { w1: filled([16, 32], 2), b1: filled([32], 3), w2: filled([32, 4], 4), b2: filled([4], 5) };
  const loss = (p: MlpParams): Tensor<[], "float32"> => mean(softmaxCrossEntropy(add(matmul(relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y));
  return { params, loss, bytes: (16 * 32 + 32 + 32 * 4 + 4) * 4 };
}

type CnnParams = { readonly w: Tensor<[3, 3, 1, 4]>; readonly b: Tensor<[4]>; readonly d: Tensor<[36, 3]> };

/** A CNN: conv 3x3 to 4 channels, max pool, dense to 3, on 2 images of 6x6x1 (convolutions, pools and their gradients). */
function cnn(): Model<CnnParams> {
  const { Tensor, add, conv2d, matmul, maxPool2d, mean, relu, reshape, softmaxCrossEntropy } = lib;
  const x = filled([2, 6, 6, 1] as const, 6);
  const y = new Tensor([2] as const, "int32", Int32Array.of(0, 2));
  const params: CnnParams = { w: filled([3, 3, 1, 4], 7), b: filled([4], 8), d: filled([36, 3], 9) };
  const loss = (p: CnnParams): Tensor<[], "float32"> => {
    const h = maxPool2d(relu(add(conv2d(x, p.w, { padding: "same" }), p.b)), 2);
    return mean(softmaxCrossEntropy(matmul(reshape(h, [2, 36]), p.d), y));
  };
  return { params, loss, bytes: (9 * 4 + 4 + 36 * 3) * 4 };
}

/** A jitted Adam training loop of `model`, with or without donation: each call runs one step. */
function trainer(model: Model<Tree>, donate: boolean): () => void {
  const { adam, applyUpdates, jit, valueAndGrad } = lib;
  const optimizer = adam({ learningRate: 1e-2 });
  const step = jit(
    (p: Tree, s: ReturnType<typeof optimizer.init<Tree>>) => {
      const [l, g] = valueAndGrad(model.loss)(p);
      const [updates, next] = optimizer.update(g, s, p);
      return { loss: l, params: applyUpdates(p, updates), state: next };
    },
    donate ? { donate: [0, 1] } : {},
  );
  let p = model.params;
  let s = optimizer.init(p);
  const run = (): void => {
    const out = step(p, s);
    p = out.params;
    s = out.state;
    out.loss.item();
  };
  return run;
}

/** Allocated bytes per step of `run` over `steps` steps, after three of warm-up. */
function bytesPerStep(run: () => void, steps = 20): number {
  for (let i = 0; i < 3; i++) run();
  return (
    bytesAllocatedBy(() => {
      for (let i = 0; i < steps; i++) run();
    }) / steps
  );
}

describe("a jitted training loop", () => {
  for (const [name, make] of [["MLP", mlp], ["CNN", cnn]] as const) {
    test(`${name}: a step allocates its results only (the new parameters, Adam's two moments, its count and the loss)`, () => {
      const model = make();
      // params + mu + nu, the int32 count and the float32 loss
      expectOnly(bytesPerStep(trainer(model, false)), 3 * model.bytes + 4 + 4);
    });

    test(`${name}: a step that donates its parameters and state allocates the loss alone`, () => {
      // the count too is updated in place
      expectOnly(bytesPerStep(trainer(make(), true)), 4);
    });
  }

  test("the heap and the array buffers do not grow over 300 steps", async () => {
    const run = trainer(mlp(), false);
    for (let i = 0; i < 20; i++) run();
    await collectGarbage();
    const before = process.memoryUsage();
    for (let i = 0; i < 300; i++) run();
    await collectGarbage();
    const after = process.memoryUsage();
    // a step allocates about 3 KiB of results: 300 steps kept would be 1 MiB; what stays is the kernel caches' noise
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * 2 ** 20);
  });
});
