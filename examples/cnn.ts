/**
 * The demo's model and its training step: a small convolutional network for
 * 28x28 digits in the shape of LeNet-5 (LeCun et al. 1998), trained with
 * Adam under `jit(valueAndGrad(loss))`.
 *
 * conv 5x5 (8) - relu - maxpool 2 - conv 5x5 (16) - relu - maxpool 2 -
 * flatten (256) - dense (128) - relu - dense (10): 37,610 parameters and
 * about 0.36 million multiply-adds per digit forward. The stack is checked
 * at compile time (a wrong `dense(...)` input size is an error naming the
 * layer), and a batch of the wrong shape is refused by `assertBatch` before a
 * step does any work.
 */

import {
  accuracy,
  applyUpdates,
  data,
  jit,
  layers,
  mean,
  softmaxCrossEntropy,
  valueAndGrad,
  adam,
  type AdamState,
  type Key,
  type LearningRate,
  type Tensor,
} from "../src/index.js";

/** The CNN: `[B, 28, 28, 1]` images to `[B, 10]` logits. */
export const model = layers.sequential(
  layers.conv2d(1, 8, 5, { init: "heNormal" }), // [B, 24, 24, 8]
  layers.relu(),
  layers.maxPool2d(2), // [B, 12, 12, 8]
  layers.conv2d(8, 16, 5, { init: "heNormal" }), // [B, 8, 8, 16]
  layers.relu(),
  layers.maxPool2d(2), // [B, 4, 4, 16]
  layers.flatten(), // [B, 256]
  layers.dense(256, 128, { init: "heNormal" }),
  layers.relu(),
  layers.dense(128, 10),
);

/** The parameters of the CNN, a tuple with one entry per layer. */
export type Params = layers.ParamsOf<typeof model>;

/** Adam's state over the CNN's parameters. */
export type State = AdamState<Params>;

/** A batch of digits `[B, 28, 28, 1]` and their labels `[B]`, the batch size known at run time. */
export type DigitBatch = data.Dataset<["batch", 28, 28, 1], ["batch"]>;

/**
 * The mean cross-entropy of the model on a batch, and its accuracy as
 * auxiliary output (for `valueAndGrad(loss, { hasAux: true })`).
 *
 * @example
 * const [value, acc] = loss(model.init(key(0)), batch); // Tensor<[]>, Tensor<[]>
 */
export function loss(p: Params, batch: DigitBatch): [Tensor<[], "float32">, Tensor<[], "float32">] {
  const logits = model.apply(p, batch.x);
  return [mean(softmaxCrossEntropy(logits, batch.y)), accuracy(logits, batch.y)];
}

/** What one training step gives: the batch's loss and accuracy (before the update), the new parameters and state. */
export interface StepResult {
  readonly loss: Tensor<[], "float32">;
  readonly accuracy: Tensor<[], "float32">;
  readonly params: Params;
  readonly state: State;
}

/** A trainer: the initial parameters and optimizer state, a jitted step, and a jitted evaluation. */
export interface Trainer {
  /** The parameters for a key, and Adam's state for them. */
  readonly init: (k: Key) => { params: Params; state: State };
  /** One step of Adam on `batch`; a `ShapeError` before any work for a batch that is not `[B, 28, 28, 1]` images and `[B]` labels. */
  readonly step: (params: Params, state: State, batch: data.Dataset) => StepResult;
  /** The mean loss and accuracy of `params` on `batch`, without a step. */
  readonly evaluate: (params: Params, batch: data.Dataset) => { loss: number; accuracy: number };
}

/**
 * The CNN's trainer with Adam at `learningRate` (a number or a schedule of
 * the step count).
 *
 * @example
 * const trainer = makeTrainer(cosineDecay(2e-3, 1000));
 * let { params, state } = trainer.init(key(0));
 * ({ params, state } = trainer.step(params, state, batch));
 */
export function makeTrainer(learningRate: LearningRate): Trainer {
  const opt = adam({ learningRate });
  const step = jit((p: Params, s: State, batch: DigitBatch) => {
    const [[value, acc], g] = valueAndGrad(loss, { hasAux: true })(p, batch);
    const [updates, next] = opt.update(g, s, p);
    return { loss: value, accuracy: acc, params: applyUpdates(p, updates), state: next };
  });
  const evaluate = jit((p: Params, batch: DigitBatch) => {
    const [value, acc] = loss(p, batch);
    return { loss: value, accuracy: acc };
  });
  const check = (batch: data.Dataset): DigitBatch => data.assertBatch(batch, ["batch", 28, 28, 1], ["batch"], { x: "float32", y: "int32" });
  return {
    init: (k) => {
      const params = model.init(k);
      return { params, state: opt.init(params) };
    },
    step: (p, s, batch) => step(p, s, check(batch)),
    evaluate: (p, batch) => {
      const r = evaluate(p, check(batch));
      return { loss: r.loss.item(), accuracy: r.accuracy.item() };
    },
  };
}
