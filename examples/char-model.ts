/**
 * `npm run example:chars`: a character-level LSTM language model, trained
 * for a short while on a text shipped in the repo, then sampled.
 *
 * The text, `data/coriolanus.txt` (16 KB), is the opening of Shakespeare's
 * "Coriolanus" (public domain), as it begins the "tiny Shakespeare" corpus of
 * Andrej Karpathy's char-rnn (`data/tinyshakespeare/input.txt`). The model is
 * embedding (32) - lstm (128) - dense (vocabulary), trained with Adam on
 * windows of the text batched by `data.batches` (a new order each epoch),
 * each step one `jit(valueAndGrad(loss))` program; sampling feeds a prompt,
 * then draws one character at a time with `random.categorical` from logits
 * divided by a temperature, carrying the LSTM's state.
 *
 * Options: `npm run example:chars -- --help`.
 */

import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  adam,
  applyUpdates,
  categorical,
  data,
  div,
  foldIn,
  full,
  jit,
  key,
  layers,
  mean,
  softmaxCrossEntropy,
  split,
  tensor,
  valueAndGrad,
  zeros,
  type AdamState,
  type Key,
  type Shape,
  type Tensor,
} from "../src/index.js";
import { optionsOrExit, type Spec } from "./cli.js";

/** The options of the example. */
export const CHAR_OPTIONS = {
  steps: { kind: "int", default: 300, min: 1, max: 100_000, help: "training steps" },
  "batch-size": { kind: "int", default: 16, min: 1, max: 1024, help: "windows of text per step" },
  lr: { kind: "float", default: 1e-2, min: 1e-9, max: 10, help: "Adam's learning rate" },
  seed: { kind: "int", default: 0, min: 0, max: 2 ** 32 - 1, help: "seed of the parameters, the batch order and the samples" },
  length: { kind: "int", default: 300, min: 1, max: 100_000, help: "characters per sample" },
  temperature: { kind: "float", default: 0.7, min: 0.01, max: 10, help: "divides the logits when sampling" },
} as const satisfies Record<string, Spec>;

/** The number of characters the model reads per training window. */
export const WINDOW = 32;
/** The sizes of the embedding and of the LSTM's state. */
const EMBED = 32;
const HIDDEN = 128;

/** A text and its alphabet: each character's index, and back. */
export interface Vocabulary {
  readonly chars: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

/**
 * The alphabet of `text`, sorted.
 *
 * @example
 * vocabulary("abca").chars; // ["a", "b", "c"]
 */
export function vocabulary(text: string): Vocabulary {
  const chars = [...new Set(text)].sort();
  return { chars, index: new Map(chars.map((c, i) => [c, i])) };
}

/**
 * Every window of `WINDOW` characters that starts at a multiple of `stride`,
 * as int32 codes `x`, with the next character at each position as its target
 * `y` (`x` shifted by one): a dataset for `data.batches`. A `Left` when the
 * text is shorter than one window or has a character outside `vocab`.
 *
 * @example
 * windows(text, vocabulary(text), 8); // Right(Dataset<["n", 32], ["n", 32], "int32", "int32">)
 */
export function windows(text: string, vocab: Vocabulary, stride: number): E.Either<Error, data.Dataset<["n", typeof WINDOW], ["n", typeof WINDOW], "int32", "int32">> {
  const codes: number[] = [];
  for (const c of text) {
    const i = vocab.index.get(c);
    if (i === undefined) return E.left(new Error(`windows: the character ${JSON.stringify(c)} is not in the vocabulary`));
    codes.push(i);
  }
  const starts: number[] = [];
  for (let s = 0; s + WINDOW + 1 <= codes.length; s += stride) starts.push(s);
  if (starts.length === 0) return E.left(new Error(`windows: a text of ${codes.length} characters has no window of ${WINDOW + 1}`));
  const x = starts.flatMap((s) => codes.slice(s, s + WINDOW));
  const y = starts.flatMap((s) => codes.slice(s + 1, s + WINDOW + 1));
  return data.fromArrays(x, ["n", WINDOW], y, ["n", WINDOW], { xDType: "int32", yDType: "int32" });
}

/** The character model's three layers, for a vocabulary of `size` characters. */
export function charModel(size: number) {
  return { embed: layers.embedding(size, EMBED), lstm: layers.lstm(EMBED, HIDDEN), head: layers.dense(HIDDEN, size) };
}

/** The parameters of the character model (records, so that they are a `Tree`); the vocabulary size is known at run time. */
export type CharParams = {
  embed: { table: Tensor<[number, typeof EMBED]> };
  lstm: layers.LstmParams<typeof EMBED, typeof HIDDEN>;
  head: layers.DenseParams<typeof HIDDEN, number>;
};

/** A batch of windows and their next characters. */
type TextBatch = data.Dataset<["batch", typeof WINDOW], ["batch", typeof WINDOW], "int32", "int32">;

/** A trainer and sampler for the character model. */
export interface CharTrainer {
  readonly init: (k: Key) => { params: CharParams; state: AdamState<CharParams> };
  /** One step of Adam; a `ShapeError` before any work for a batch that is not `[B, 32]` windows and targets. */
  readonly step: (params: CharParams, state: AdamState<CharParams>, batch: data.Dataset<Shape, Shape, "int32", "int32">) => { loss: number; params: CharParams; state: AdamState<CharParams> };
  /** `length` characters drawn after `prompt` (which must be in the vocabulary), from `k`. */
  readonly sample: (params: CharParams, prompt: string, length: number, temperature: number, k: Key) => string;
}

/**
 * The character model's trainer for `vocab`, with Adam at `learningRate`.
 *
 * @example
 * const trainer = charTrainer(vocabulary(text), 1e-2);
 */
export function charTrainer(vocab: Vocabulary, learningRate: number): CharTrainer {
  const model = charModel(vocab.chars.length);
  const opt = adam({ learningRate });
  const logitsOf = (p: CharParams, x: Tensor<["batch", typeof WINDOW], "int32">) => model.head.apply(p.head, model.lstm.apply(p.lstm, model.embed.apply(p.embed, x)));
  const loss = (p: CharParams, batch: TextBatch): Tensor<[], "float32"> => mean(softmaxCrossEntropy(logitsOf(p, batch.x), batch.y));
  const step = jit((p: CharParams, s: AdamState<CharParams>, batch: TextBatch) => {
    const [value, g] = valueAndGrad(loss)(p, batch);
    const [updates, next] = opt.update(g, s, p);
    return { loss: value, params: applyUpdates(p, updates), state: next };
  });
  // One character in, the logits of the next one out, the LSTM's state carried.
  const next = jit((p: CharParams, x: Tensor<[1, 1], "int32">, h: Tensor<[1, typeof HIDDEN]>, c: Tensor<[1, typeof HIDDEN]>, t: Tensor<[]>) => {
    const r = model.lstm.applyWithState(p.lstm, model.embed.apply(p.embed, x), { h, c });
    return { logits: div(model.head.apply(p.head, r.y), t), h: r.h, c: r.c };
  });
  const code = (ch: string): number => {
    const i = vocab.index.get(ch);
    if (i === undefined) throw new RangeError(`char-model: the prompt's character ${JSON.stringify(ch)} is not in the text's vocabulary`);
    return i;
  };
  return {
    init: (k) => {
      const [ke = k, kl = k, kh = k] = split(k, 3);
      const params: CharParams = { embed: { table: model.embed.init(ke).table }, lstm: model.lstm.init(kl), head: model.head.init(kh) };
      return { params, state: opt.init(params) };
    },
    step: (p, s, batch) => {
      const r = step(p, s, data.assertBatch(batch, ["batch", WINDOW], ["batch", WINDOW], { x: "int32", y: "int32" }));
      return { loss: r.loss.item(), params: r.params, state: r.state };
    },
    sample: (p, prompt, length, temperature, k) => {
      let h: Tensor<[1, typeof HIDDEN]> = zeros([1, HIDDEN]);
      let c: Tensor<[1, typeof HIDDEN]> = zeros([1, HIDDEN]);
      const t = tensor(temperature);
      let out = "";
      let logits: Tensor<Shape3> | undefined;
      for (const ch of prompt) ({ logits, h, c } = next(p, full([1, 1], code(ch), "int32"), h, c, t));
      for (let i = 0; i < length; i++) {
        if (logits === undefined) break;
        const drawn = categorical(foldIn(k, i), logits).toArray()[0] ?? 0;
        out += vocab.chars[drawn] ?? "";
        ({ logits, h, c } = next(p, full([1, 1], drawn, "int32"), h, c, t));
      }
      return out;
    },
  };
}

type Shape3 = [1, 1, number];

function main(): void {
  const started = performance.now();
  const options = optionsOrExit(process.argv.slice(2), "npm run example:chars --", "Trains a character-level LSTM on the opening of Coriolanus and prints samples.", CHAR_OPTIONS);
  const { steps, lr, seed, length, temperature } = options;
  const batchSize = options["batch-size"];
  const path = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "data", "coriolanus.txt");
  const text = readFileSync(path, "utf8");
  const vocab = vocabulary(text);
  const ds = windows(text, vocab, 8);
  if (E.isLeft(ds)) {
    console.error(`error: ${ds.left.message}`);
    process.exit(1);
  }
  const trainer = charTrainer(vocab, lr);
  const [initKey = key(seed), orderKey = key(seed), sampleKey = key(seed)] = split(key(seed), 3);
  let { params, state } = trainer.init(initKey);
  const windowCount = ds.right.x.shape[0];
  // dropLast leaves no batch when one is larger than all the text's windows: the loop below would never end
  if (batchSize > windowCount) {
    console.error(`error: --batch-size ${batchSize} is more than the ${windowCount} windows of the text`);
    process.exit(2);
  }
  console.log(`Stratum example: a character-level LSTM on ${text.length} characters of Coriolanus (${vocab.chars.length} distinct)`);
  console.log(`  embedding ${EMBED} - lstm ${HIDDEN} - dense ${vocab.chars.length}; ${windowCount} windows of ${WINDOW}; batch ${batchSize}; ${steps} steps of Adam at ${lr}\n`);
  const say = (label: string, prompt: string, k: Key): void => {
    console.log(`${label} (temperature ${temperature}):\n${prompt}${trainer.sample(params, prompt, length, temperature, k)}\n`);
  };
  say("A sample before training", "First Citizen:\n", foldIn(sampleKey, 0));
  let step = 0;
  let lossSum = 0;
  const t0 = performance.now();
  for (let epoch = 0; step < steps; epoch++) {
    for (const batch of data.batches(ds.right, batchSize, { key: orderKey, epoch, dropLast: true })) {
      const r = trainer.step(params, state, batch);
      ({ params, state } = r);
      lossSum += r.loss;
      step++;
      if (step % 25 === 0 || step === steps) {
        const seconds = (performance.now() - t0) / 1000;
        console.log(`step ${String(step).padStart(String(steps).length)}/${steps}  loss ${(lossSum / (step % 25 === 0 ? 25 : step % 25)).toFixed(4)}  ${((step * batchSize * WINDOW) / seconds).toFixed(0)} chars/s`);
        lossSum = 0;
      }
      if (step === steps) break;
    }
  }
  console.log();
  say("A sample after training", "First Citizen:\n", foldIn(sampleKey, 1));
  say("Another", "MENENIUS:\n", foldIn(sampleKey, 2));
  console.log(`Total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// Run when executed, not when a test imports the functions.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
