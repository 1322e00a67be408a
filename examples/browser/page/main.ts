/**
 * The browser example's page: fetches a few hundred MNIST digits from the
 * example server (`../serve.ts`), trains the demo's CNN (`../../cnn.ts`) on
 * them with Adam, one `jit(valueAndGrad)` step at a time, draws the loss
 * curve as it goes, then tests on digits it never saw and draws a grid of
 * them with their predicted labels. It reports its figures on `window` and
 * sets `data-state="done"` on the body for the browser test.
 */

import * as E from "fp-ts/lib/Either.js";
import { argmax, cosineDecay, data, jit, key, split, wasmAvailable, type Tensor } from "../../../src/index.js";
import { makeTrainer, model, type Params } from "../../cnn.js";

const PIXELS = 784;
const BATCH = 32;
const EPOCHS = 4;

/** What the page reports when it is done. */
interface ExampleReport {
  readonly wasm: boolean;
  readonly losses: readonly number[];
  readonly testAccuracy: number;
  readonly seconds: number;
}

declare global {
  interface Window {
    stratumExample?: ExampleReport;
  }
}

function element<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return found;
}

const status = element("status", HTMLDivElement);

/** The digits file: a little-endian u32 count n, the training count, then n*784 grey levels (bytes) and n labels. */
async function fetchDigits(): Promise<{ train: data.Dataset<["n", 28, 28, 1], ["n"]>; test: data.Dataset<["n", 28, 28, 1], ["n"]>; trainCount: number }> {
  const bytes = new Uint8Array(await (await fetch("./digits.bin")).arrayBuffer());
  if (bytes.length < 8) throw new Error("digits.bin is too short");
  const view = new DataView(bytes.buffer);
  const n = view.getUint32(0, true);
  const trainCount = view.getUint32(4, true);
  if (bytes.length !== 8 + n * (PIXELS + 1) || trainCount >= n) throw new Error(`digits.bin has ${bytes.length} bytes, not ${n} digits`);
  const pixels = Float32Array.from(bytes.subarray(8, 8 + n * PIXELS), (v) => v / 255);
  const labels = Int32Array.from(bytes.subarray(8 + n * PIXELS));
  const split = (from: number, to: number) => {
    const ds = data.fromArrays(pixels.subarray(from * PIXELS, to * PIXELS), ["n", 28, 28, 1], labels.subarray(from, to), ["n"]);
    if (E.isLeft(ds)) throw ds.left;
    return ds.right;
  };
  return { train: split(0, trainCount), test: split(trainCount, n), trainCount };
}

function drawLoss(losses: readonly number[], totalSteps: number): void {
  const canvas = element("loss", HTMLCanvasElement);
  const g = canvas.getContext("2d");
  if (g === null) return;
  const [w, h, pad] = [canvas.width, canvas.height, 36];
  const top = Math.max(2.5, ...losses);
  g.clearRect(0, 0, w, h);
  g.strokeStyle = "#999";
  g.fillStyle = "#555";
  g.font = "11px system-ui";
  g.beginPath();
  g.moveTo(pad, 8);
  g.lineTo(pad, h - pad);
  g.lineTo(w - 8, h - pad);
  g.stroke();
  for (let t = 0; t <= 4; t++) {
    const v = (top * t) / 4;
    g.fillText(v.toFixed(1), 4, h - pad - ((h - pad - 8) * t) / 4 + 4);
  }
  g.fillText(`step (${totalSteps} in all)`, w / 2 - 40, h - 10);
  g.strokeStyle = "#d62728";
  g.lineWidth = 1.5;
  g.beginPath();
  losses.forEach((l, i) => {
    const x = pad + ((w - pad - 8) * i) / Math.max(1, totalSteps - 1);
    const y = h - pad - ((h - pad - 8) * l) / top;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

function drawDigits(images: Float32Array, labels: Int32Array, predicted: Int32Array): void {
  const canvas = element("digits", HTMLCanvasElement);
  const g = canvas.getContext("2d");
  if (g === null) return;
  const [cols, scale, cell] = [8, 2, 70];
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.font = "bold 14px system-ui";
  for (let d = 0; d < predicted.length; d++) {
    const [cx, cy] = [(d % cols) * 50 + 4, Math.floor(d / cols) * cell + 4];
    const picture = g.createImageData(28 * scale, 28 * scale);
    for (let i = 0; i < 28 * scale; i++) {
      for (let j = 0; j < 28 * scale; j++) {
        const v = 255 - Math.round(255 * (images[d * PIXELS + Math.floor(i / scale) * 28 + Math.floor(j / scale)] ?? 0));
        picture.data.set([v, v, v, 255], 4 * (i * 28 * scale + j));
      }
    }
    g.putImageData(picture, cx, cy);
    g.fillStyle = predicted[d] === labels[d] ? "#2ca02c" : "#d62728";
    g.fillText(String(predicted[d]), cx + 22, cy + 28 * scale + 12);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const { train, test, trainCount } = await fetchDigits();
  const stepsPerEpoch = Math.ceil(trainCount / BATCH);
  const [initKey = key(0), orderKey = key(0)] = split(key(0), 2);
  const trainer = makeTrainer(cosineDecay(3e-3, EPOCHS * stepsPerEpoch));
  let { params, state } = trainer.init(initKey);
  const losses: number[] = [];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (const batch of data.batches(train, BATCH, { key: orderKey, epoch })) {
      const r = trainer.step(params, state, batch);
      ({ params, state } = r);
      losses.push(r.loss.item());
      status.textContent = `epoch ${epoch + 1}/${EPOCHS}, step ${losses.length}/${EPOCHS * stepsPerEpoch}: loss ${r.loss.item().toFixed(3)}`;
      drawLoss(losses, EPOCHS * stepsPerEpoch);
      await new Promise((painted) => setTimeout(painted, 0)); // let the page paint between steps
    }
  }
  const evaluation = trainer.evaluate(params, test);
  const shown = data.take(test, Array.from({ length: 24 }, (_, i) => i));
  const predict = jit((p: Params, x: Tensor<[number, 28, 28, 1]>) => argmax(model.apply(p, x), -1));
  const predicted = predict(params, shown.x).data;
  drawDigits(shown.x.data, shown.y.data, Int32Array.from(predicted));
  const seconds = (performance.now() - started) / 1000;
  status.textContent = `trained on ${trainCount} digits in ${seconds.toFixed(1)} s (${wasmAvailable() ? "WebAssembly SIMD" : "JavaScript"} kernels): test accuracy ${(100 * evaluation.accuracy).toFixed(1)}% on ${test.x.shape[0]} digits it never saw`;
  window.stratumExample = { wasm: wasmAvailable(), losses, testAccuracy: evaluation.accuracy, seconds };
  document.body.dataset["state"] = "done";
}

main().catch((e: unknown) => {
  status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset["state"] = "error";
  console.error(e);
});
