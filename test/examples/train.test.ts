import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { batches } from "../../src/data/batches.js";
import type { Dataset } from "../../src/data/dataset.js";
import { take } from "../../src/data/select.js";
import { loadTree, saveTree } from "../../src/io/tree-io.js";
import { foldIn, key } from "../../src/random/key.js";
import { makeTrainer, model, type Params } from "../../examples/cnn.js";
import { readMnist, type Mnist } from "../../examples/mnist.js";

let mnist: Mnist;

beforeAll(() => {
  const loaded = readMnist();
  if (E.isLeft(loaded)) throw loaded.left;
  mnist = loaded.right;
});

describe("the demo's CNN", () => {
  test("30 steps of Adam on 512 digits lower the loss well below its initial value", () => {
    const train = take(mnist.train, Array.from({ length: 512 }, (_, i) => i));
    const trainer = makeTrainer(2e-3);
    let { params, state } = trainer.init(key(0));
    const initial = trainer.evaluate(params, train).loss;
    for (let step = 0; step < 30; step++) {
      const [batch] = batches(train, 64, { key: key(1), epoch: step });
      if (batch === undefined) throw new Error("no batch");
      ({ params, state } = trainer.step(params, state, batch));
    }
    const final = trainer.evaluate(params, train);
    expect(initial).toBeGreaterThan(1.5); // about ln 10 = 2.3 for a fresh network
    expect(final.loss).toBeLessThan(0.6 * initial);
    expect(final.accuracy).toBeGreaterThan(0.5);
  });

  test("refuses a batch of the wrong shape with a ShapeError before any work", () => {
    const trainer = makeTrainer(1e-3);
    const { params, state } = trainer.init(key(0));
    const wrong: Dataset<Shape, Shape> = { x: zeros([4, 28, 28, 3]), y: zeros([4], "int32") };
    expect(() => trainer.step(params, state, wrong)).toThrow(ShapeError);
    const unequal: Dataset<Shape, Shape> = { x: zeros([4, 28, 28, 1]), y: zeros([5], "int32") };
    expect(() => trainer.step(params, state, unequal)).toThrow("assertBatch: x has 4 examples but y has 5");
  });

  test("its parameters round-trip through a safetensors checkpoint exactly", () => {
    const params = model.init(foldIn(key(0), 9));
    const loaded = loadTree(saveTree(params, { model: "test" }), model.init(key(1)));
    expect(E.isRight(loaded)).toBe(true);
    if (E.isLeft(loaded)) return;
    const restored: Params = loaded.right;
    const pairs = params.flatMap((layer, i) => Object.entries(layer).map(([name, t]) => [t, Object.entries(restored[i] ?? {}).find(([n]) => n === name)?.[1]] as const));
    expect(pairs.length).toBe(8); // w and b of two convolutions and two dense layers
    for (const [original, back] of pairs) {
      expect(back?.shape).toEqual(original.shape);
      expect(back?.toArray()).toEqual(original.toArray());
    }
  });

  test("a checkpoint of another model is refused with every mismatch listed", () => {
    const params = model.init(key(0));
    const other = [{ w: zeros([3, 3, 1, 8]), b: zeros([8]) }];
    const loaded = loadTree(saveTree(other), params);
    expect(E.isLeft(loaded)).toBe(true);
    if (E.isRight(loaded)) return;
    expect(loaded.left.message).toMatch(/0\.w/);
  });
});
