/**
 * `npm run demo`: the main job. Trains a small CNN (`cnn.ts`) on the official
 * MNIST training digits (`mnist.ts`: 60,000, of which 6,000 are held out for
 * validation, chosen with a fixed key) with Adam on a warm-up and cosine
 * learning-rate schedule, each step one `jit(valueAndGrad(loss))` program,
 * each training digit shifted by up to two pixels at random (`augment.ts`).
 * Prints the model's summary, a progress bar per epoch with the loss,
 * accuracy and digits per second, the validation accuracy after every
 * epoch, and at the end the accuracy on the 10,000 official test digits;
 * writes the trained parameters (safetensors, atomically) and the loss and
 * accuracy curves (SVG) into the output folder.
 *
 * Options: `npm run demo -- --help`; `--quick` trains on a small subset for
 * a smoke test. A bad option prints a message and the help and exits with
 * code 2.
 */

import * as E from "fp-ts/lib/Either.js";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { data, foldIn, key, layers, split, warmupCosineDecay } from "../src/index.js";
import { saveTreeFile, writeFileAtomic } from "../src/node/index.js";
import { shiftImages } from "./augment.js";
import { optionsOrExit, type Spec } from "./cli.js";
import { makeTrainer, model, type Params } from "./cnn.js";
import { readMnist, TRAIN } from "./mnist.js";
import { progressBar } from "./progress.js";
import { lineChart } from "./svg-plot.js";

/** The demo's options; the defaults reach 99% test accuracy (see the README for the time). */
export const DEMO_OPTIONS = {
  epochs: { kind: "int", default: 4, min: 1, max: 1000, help: "passes over the 54,000 training digits" },
  "batch-size": { kind: "int", default: 128, min: 1, max: 54_000, help: "digits per step" },
  lr: { kind: "float", default: 8e-3, min: 1e-9, max: 10, help: "Adam's peak learning rate (5% warm-up, then a cosine decay to 0)" },
  seed: { kind: "int", default: 0, min: 0, max: 2 ** 32 - 1, help: "seed of the initial parameters, the validation split and the batch order" },
  out: { kind: "string", default: "out", help: "folder for the checkpoint and the plot (created if missing)" },
  quick: { kind: "flag", default: false, help: "a smoke test: 2,000 training, 500 validation and 1,000 test digits, one epoch" },
} as const satisfies Record<string, Spec>;

/** The demo's command, for the help. */
export const DEMO_COMMAND = "npm run demo --";
/** What the demo does, for the help. */
export const DEMO_SUMMARY =
  "Trains a small CNN on the 60,000 official MNIST training digits (6,000 held out for validation) and tests it on the 10,000 official test digits; writes a safetensors checkpoint and an SVG plot.";

/** The digits held out of the training set for the per-epoch validation. */
export const VALIDATION = 6_000;

/** The largest shift of a training digit, in pixels, in each direction. */
const MAX_SHIFT = 2;

/** The size of an evaluation batch. */
const EVAL_BATCH = 1000;

/** How many digits each part has under `--quick`. */
const QUICK = { train: 2_000, validation: 500, test: 1_000 } as const;

type Digits = data.Dataset<[number, 28, 28, 1], [number]>;

/** The first `n` digits of `ds`. */
function first(ds: Digits, n: number): Digits {
  return data.take(ds, Int32Array.from({ length: Math.min(n, ds.x.shape[0]) }, (_, i) => i));
}

function main(): void {
  const started = performance.now();
  const options = optionsOrExit(process.argv.slice(2), DEMO_COMMAND, DEMO_SUMMARY, DEMO_OPTIONS);
  const { lr, seed, out, quick } = options;
  const epochs = quick ? 1 : options.epochs;
  const batchSize = options["batch-size"];

  // The output folder is made first, so that a bad --out fails before the training, not after it.
  const folder = resolve(out);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    console.error(`error: cannot create the output folder ${folder}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }

  const mnist = readMnist();
  if (E.isLeft(mnist)) {
    console.error(`error: ${mnist.left.message}`);
    process.exit(1);
  }
  const [initKey = key(seed), holdKey = key(seed), orderKey = key(seed), shiftKey = key(seed)] = split(key(seed), 4);
  const [kept, held] = data.splitAt(data.shuffle(mnist.right.train, holdKey), TRAIN - VALIDATION);
  const train: Digits = quick ? first(kept, QUICK.train) : kept;
  const validation: Digits = quick ? first(held, QUICK.validation) : held;
  const test: Digits = quick ? first(mnist.right.test, QUICK.test) : mnist.right.test;
  const [nTrain, nValidation, nTest] = [train.x.shape[0], validation.x.shape[0], test.x.shape[0]];

  const stepsPerEpoch = Math.ceil(nTrain / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const trainer = makeTrainer(warmupCosineDecay(0, lr, Math.floor(0.05 * totalSteps), totalSteps));
  let { params, state } = trainer.init(initKey);
  console.log(`Stratum demo: a CNN on the official MNIST split${quick ? " (--quick: a small subset)" : ""}`);
  console.log(`  ${nTrain.toLocaleString("en")} digits to train on, ${nValidation.toLocaleString("en")} held out for validation, ${nTest.toLocaleString("en")} test digits\n`);
  // NOTE: the summary traces one digit, not a batch: tracing at [128, 28, 28, 1] first made every later training step
  // about 15% slower (89-91 against 76-80 ms, two runs each, 1 epoch); not yet understood (bench/results/profile-demo-cnn.md).
  console.log(layers.summary(model, [1, 28, 28, 1]).text);
  console.log(`\n  Adam, peak learning rate ${lr} (5% warm-up, cosine decay); batch ${batchSize}; ${epochs} epoch(s);`);
  console.log(`  each training digit shifted by up to ${MAX_SHIFT} pixels at random; seed ${seed}\n`);

  const lossCurve: [number, number][] = [];
  const accuracyCurve: [number, number][] = [];
  const validationCurve: [number, number][] = [];
  const accuracyOn = (p: Params, ds: Digits): number => {
    let correct = 0;
    for (const batch of data.batches(ds, EVAL_BATCH)) correct += trainer.evaluate(p, batch).accuracy * batch.x.shape[0];
    return correct / ds.x.shape[0];
  };
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
      if (window[2] === 25 || done === order.length) {
        lossCurve.push([epoch + done / order.length, window[0] / window[2]]);
        accuracyCurve.push([epoch + done / order.length, window[1] / window[2]]);
        window = [0, 0, 0];
      }
      bar.update(done, stats());
    }
    const trainStats = stats();
    const validationAccuracy = accuracyOn(params, validation);
    validationCurve.push([epoch + 1, validationAccuracy]);
    bar.finish(trainStats, `  validation ${(100 * validationAccuracy).toFixed(2)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const testAccuracy = accuracyOn(params, test);

  const checkpoint = join(folder, "mnist-cnn.safetensors");
  const plot = join(folder, "training.svg");
  try {
    saveTreeFile(checkpoint, params, { model: "stratum mnist cnn", epochs: String(epochs), test_accuracy: testAccuracy.toFixed(4) });
    writeFileAtomic(
      plot,
      lineChart({
        title: `MNIST CNN: ${nTrain.toLocaleString("en")} training digits, test accuracy ${(100 * testAccuracy).toFixed(2)}%`,
        xLabel: "epoch",
        leftLabel: "loss (cross-entropy)",
        rightLabel: "accuracy",
        series: [
          { name: "training loss", points: lossCurve, color: "#d62728" },
          { name: "training accuracy", points: accuracyCurve, color: "#1f77b4", axis: "right" },
          { name: "validation accuracy", points: validationCurve, color: "#2ca02c", axis: "right", markers: true },
        ],
      }),
    );
  } catch (e) {
    console.error(`error: cannot write into ${folder}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  console.log(`\nTest accuracy: ${(100 * testAccuracy).toFixed(2)}% on ${nTest.toLocaleString("en")} test images`);
  console.log(`Checkpoint:    ${checkpoint}`);
  console.log(`Plot:          ${plot}`);
  console.log(`Total time:    ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// Run when executed (`node .build/examples/demo.js`), not when a test imports the options.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
