/**
 * A PyTorch-trained MNIST classifier evaluated with Stratum: the weights
 * that `train.py` (beside this file) saved from PyTorch are loaded with
 * `loadTorchStateDictFile` into the same network built from Stratum's
 * layers, and its accuracy on the 10,000 official test digits is printed,
 * to compare with the one `train.py` printed.
 *
 * The network is `train.py`'s, layer for layer, with PyTorch's
 * configuration where it differs from Stratum's defaults (batch norm's eps
 * 1e-5). Stratum's images are channels last (`[B, 28, 28, 1]`), PyTorch's
 * channels first, so the dense layer that reads the flattened image has its
 * kernel's rows permuted on loading (`flatten: "channelsLast"`).
 */

import * as E from "fp-ts/lib/Either.js";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { accuracy, data, jit, layers, type LoadError, type Tensor } from "../../src/index.js";
import { loadTorchStateDictFile } from "../../src/node/index.js";
import { readMnist, type Mnist } from "../mnist.js";

/** `train.py`'s network: `[B, 28, 28, 1]` images to `[B, 10]` logits. */
export const model = layers.sequential(
  layers.conv2d(1, 8, 3, { padding: 1 }), // [B, 28, 28, 8]
  layers.frozen(layers.batchNorm(8, { eps: 1e-5 })),
  layers.relu(),
  layers.maxPool2d(2), // [B, 14, 14, 8]
  layers.conv2d(8, 16, 3, { padding: 1 }), // [B, 14, 14, 16]
  layers.relu(),
  layers.maxPool2d(2), // [B, 7, 7, 16]
  layers.flatten(), // [B, 784]
  layers.dense(784, 10),
);

/** The parameters of the network, loaded from PyTorch. */
export type Params = layers.ParamsOf<typeof model>;

const here = dirname(fileURLToPath(import.meta.url));
/** The folder of `train.py`'s files (the compiled program runs from `.build/examples/from-pytorch`). */
export const FOLDER = existsSync(join(here, "mnist-cnn.safetensors")) ? here : join(here, "..", "..", "..", "examples", "from-pytorch");

/**
 * The network's parameters from the state_dict `train.py` saved.
 *
 * @example
 * const params = loadWeights(); // Right([{ w, b }, { params, state }, {}, ...])
 */
export function loadWeights(path = join(FOLDER, "mnist-cnn.safetensors")): E.Either<LoadError, Params> {
  return loadTorchStateDictFile(path, model, { flatten: "channelsLast" });
}

/** The logits of a batch of digits, one compiled program per batch size. */
export const logits = jit((p: Params, x: Tensor<[number, 28, 28, 1]>) => model.apply(p, x));

/**
 * How many digits of `digits` the network classifies right, `batchSize` at a time.
 *
 * @example
 * evaluate(params, mnist.test); // { correct: 9791, total: 10000 }
 */
export function evaluate(params: Params, digits: data.Dataset<[number, 28, 28, 1], [number]>, batchSize = 1000): { correct: number; total: number } {
  let [correct, total] = [0, 0];
  for (const batch of data.batches(digits, batchSize)) {
    const n = batch.y.shape[0];
    // the mean of n hits is their count over n, rounded to float32: n times it, rounded, is the count
    correct += Math.round(accuracy(logits(params, batch.x), batch.y).item() * n);
    total += n;
  }
  return { correct, total };
}

function main(): void {
  const loaded = E.flatMap(loadWeights(), (params): E.Either<Error, { params: Params; mnist: Mnist }> => E.map((mnist: Mnist) => ({ params, mnist }))(readMnist()));
  if (E.isLeft(loaded)) {
    console.error(loaded.left.message);
    process.exit(1);
  }
  const { params, mnist } = loaded.right;
  const { correct, total } = evaluate(params, mnist.test);
  console.log(`Stratum test accuracy of the PyTorch-trained CNN: ${correct} / ${total} = ${((100 * correct) / total).toFixed(2)}%`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
