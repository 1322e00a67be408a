import { describe, expect, test } from "vitest";
import { fromArray, zeros } from "../../src/core/create.js";
import * as E from "fp-ts/lib/Either.js";
import { key } from "../../src/random/key.js";
import { randint } from "../../src/random/distributions.js";
import { shiftImages } from "../../examples/augment.js";

/** A batch of `n` images, each with one bright pixel at (row 14, column 14). */
function dots(n: number) {
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) pixels[i * 784 + 14 * 28 + 14] = 1;
  const x = fromArray(pixels, [n, 28, 28, 1]);
  if (E.isLeft(x)) throw x.left;
  return { x: x.right, y: zeros([n], "int32") };
}

describe("shiftImages", () => {
  test("moves each image by its own offsets from the key, within the bound", () => {
    const batch = dots(16);
    const moved = shiftImages(batch, key(3), 2);
    const offsets = randint(key(3), [16, 2], -2, 3).toArray();
    for (let i = 0; i < 16; i++) {
      const image = moved.x.data.subarray(i * 784, (i + 1) * 784);
      const at = image.indexOf(1);
      expect([Math.floor(at / 28) - 14, (at % 28) - 14]).toEqual([offsets[2 * i], offsets[2 * i + 1]]);
      expect(image.reduce((a, b) => a + b, 0)).toBe(1);
    }
    expect(moved.y).toBe(batch.y);
  });

  test("fills the uncovered border with zeros and drops what moves out", () => {
    const pixels = new Float32Array(784).fill(1);
    const x = fromArray(pixels, [1, 28, 28, 1]);
    if (E.isLeft(x)) throw x.left;
    const moved = shiftImages({ x: x.right, y: zeros([1], "int32") }, key(0), 3);
    const total = moved.x.data.reduce((a, b) => a + b, 0);
    const [dy = 0, dx = 0] = randint(key(0), [1, 2], -3, 4).toArray();
    expect(total).toBe((28 - Math.abs(dy)) * (28 - Math.abs(dx)));
  });
});
