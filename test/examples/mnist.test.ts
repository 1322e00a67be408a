import * as E from "fp-ts/lib/Either.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { digitsFolder, loadMnist, parseDigits, PIXELS, readDigits, TEST, TOTAL, TRAIN } from "../../examples/mnist.js";

/** Ten well-formed files, 1,000 blank digits each. */
const blank = (): { data: number[] }[] => Array.from({ length: 10 }, () => ({ data: new Array<number>(1000 * PIXELS).fill(0) }));
const message = (r: E.Either<Error, unknown>): string => (E.isLeft(r) ? r.left.message : "Right");

describe("the MNIST loader", () => {
  test("splits the package's 10,000 digits into 8,000 and 2,000, images in [0, 1] and every label present", () => {
    const loaded = loadMnist();
    if (E.isLeft(loaded)) throw loaded.left;
    const { train, test: held } = loaded.right;
    expect(train.x.shape).toEqual([TRAIN, 28, 28, 1]);
    expect(held.x.shape).toEqual([TEST, 28, 28, 1]);
    expect([train.x.dtype, train.y.dtype]).toEqual(["float32", "int32"]);
    const pixels = train.x.data;
    expect(pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...pixels.subarray(0, 10 * PIXELS))).toBeGreaterThan(0.9);
    expect(new Set(held.y.toArray())).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  test("shuffles with a fixed key: the same split every time, another with another seed", () => {
    const a = loadMnist();
    const b = loadMnist();
    const c = loadMnist(1);
    if (E.isLeft(a) || E.isLeft(b) || E.isLeft(c)) throw new Error("the digits did not load");
    expect(a.right.test.y.toArray()).toEqual(b.right.test.y.toArray());
    expect(a.right.test.y.toArray()).not.toEqual(c.right.test.y.toArray());
    expect(a.right.train.y.toArray().slice(0, 20)).not.toEqual([...new Array<number>(20).fill(0)]); // shuffled, not sorted by label
  });

  test("reads well-formed files into 10,000 labelled digits", () => {
    const digits = parseDigits(blank());
    expect(E.isRight(digits) && digits.right.y.toArray().filter((label) => label === 9).length).toBe(1000);
    expect(E.isRight(digits) && digits.right.x.shape).toEqual([TOTAL, 28, 28, 1]);
  });

  test("gives a Left naming the file and the fault for malformed data", () => {
    expect(message(parseDigits(blank().slice(0, 9)))).toBe("mnist: expected 10 digit files (labels 0 to 9), got 9");
    const notObject: unknown[] = blank();
    notObject[3] = [1, 2, 3];
    expect(message(parseDigits(notObject))).toBe('mnist: digits/3.json: expected an object { "data": [...] }');
    const ragged = blank();
    ragged[4]?.data.push(0);
    expect(message(parseDigits(ragged))).toBe("mnist: digits/4.json: 784001 values are not a whole number of 28x28 images");
    const outOfRange = blank();
    outOfRange[5]?.data.splice(7, 1, 255);
    expect(message(parseDigits(outOfRange))).toBe("mnist: digits/5.json: value 7 is 255, not a grey level in [0, 1]");
    const notNumber: { data: unknown[] }[] = blank();
    notNumber[6]?.data.splice(0, 1, "0.5");
    expect(message(parseDigits(notNumber))).toBe('mnist: digits/6.json: value 0 is "0.5", not a grey level in [0, 1]');
    const tooFew = blank();
    tooFew[0]?.data.splice(0, PIXELS);
    expect(message(parseDigits(tooFew))).toBe("mnist: expected 10000 digits, found 9999");
  });

  test("gives a Left for a missing or corrupt file", () => {
    const folder = mkdtempSync(join(tmpdir(), "mnist-"));
    try {
      expect(message(readDigits(folder))).toMatch(/^mnist: cannot read .*0\.json/);
      for (let label = 0; label < 10; label++) writeFileSync(join(folder, `${label}.json`), label === 2 ? "{ not json" : '{"data": []}');
      expect(message(readDigits(folder))).toMatch(/^mnist: cannot read .*2\.json/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("finds the package's digits folder", () => {
    const folder = digitsFolder();
    expect(E.isRight(folder) && /mnist[/\\]src[/\\]digits$/.test(folder.right)).toBe(true);
  });
});
