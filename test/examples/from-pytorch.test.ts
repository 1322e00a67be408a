import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";
import { argmax } from "../../src/ops/reduce.js";
import { slice } from "../../src/ops/shape.js";
import { evaluate, FOLDER, loadWeights, logits } from "../../examples/from-pytorch/main.js";
import { readMnist } from "../../examples/mnist.js";
import { maxDiff } from "../layers/helpers.js";

describe("the PyTorch-trained MNIST classifier, evaluated with Stratum", () => {
  const mnist = readMnist();
  const params = loadWeights();
  if (E.isLeft(mnist)) throw mnist.left;
  if (E.isLeft(params)) throw params.left;
  const reference = readSafetensors(readFileSync(join(FOLDER, "reference.safetensors")));
  if (E.isLeft(reference)) throw reference.left;
  const torchLogits = reference.right.tensors.get("logits");
  const { x, y } = mnist.right.test;
  const images = slice(x, [{ start: 0, stop: 100 }]);

  test("gives PyTorch's logits on the first 100 test digits to 1e-5 relative, and so its predictions", () => {
    const ours = logits(params.right, images);
    const want = torchLogits?.data ?? [];
    expect(ours.shape).toEqual([100, 10]);
    // logits reach about 20: float32 sums of 784 products in another order differ by a few ulps of that
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    expect(maxDiff(ours.data, want)).toBeLessThan(1e-5 * scale);
    expect(Array.from(argmax(ours, -1).data)).toEqual(Array.from(argmax(torchLogits as typeof ours, -1).data)); // the reference is [100, 10] float32
  });

  test("classifies the first 1,000 test digits as well as a trained network does", () => {
    const digits = { x: slice(x, [{ start: 0, stop: 1000 }]), y: slice(y, [{ start: 0, stop: 1000 }]) };
    const { correct, total } = evaluate(params.right, digits, 500);
    expect(total).toBe(1000);
    expect(correct).toBeGreaterThan(960);
  });
});
