import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { zeros } from "../../src/core/create.js";
import { ShapeError } from "../../src/core/errors.js";
import { batches } from "../../src/data/batches.js";
import { key } from "../../src/random/key.js";
import { charTrainer, vocabulary, windows, WINDOW } from "../../examples/char-model.js";

const text = "to be or not to be, that is the question. ".repeat(8);

describe("the character model's data", () => {
  test("the vocabulary is the sorted alphabet of the text", () => {
    expect(vocabulary("hello").chars).toEqual(["e", "h", "l", "o"]);
  });

  test("windows are the codes of the text, each target the next character", () => {
    const vocab = vocabulary(text);
    const ds = windows(text, vocab, 5);
    if (E.isLeft(ds)) throw ds.left;
    const { x, y } = ds.right;
    expect(x.shape).toEqual([Math.floor((text.length - WINDOW - 1) / 5) + 1, WINDOW]);
    const decode = (codes: number[]): string => codes.map((c) => vocab.chars[c]).join("");
    expect(decode(x.toArray().slice(WINDOW, 2 * WINDOW))).toBe(text.slice(5, 5 + WINDOW));
    expect(decode(y.toArray().slice(WINDOW, 2 * WINDOW))).toBe(text.slice(6, 6 + WINDOW));
  });

  test("a text shorter than a window or with an unknown character gives a Left", () => {
    expect(E.isLeft(windows("short", vocabulary("short"), 1))).toBe(true);
    const ds = windows(text, vocabulary("abc"), 1);
    expect(E.isLeft(ds) && ds.left.message).toBe('windows: the character "t" is not in the vocabulary');
  });
});

describe("the character model", () => {
  test("a few steps of Adam lower the loss, and samples are drawn from the vocabulary", () => {
    const vocab = vocabulary(text);
    const ds = windows(text, vocab, 3);
    if (E.isLeft(ds)) throw ds.left;
    const trainer = charTrainer(vocab, 1e-2);
    let { params, state } = trainer.init(key(0));
    const losses: number[] = [];
    for (let epoch = 0; losses.length < 12; epoch++) {
      for (const batch of batches(ds.right, 8, { key: key(1), epoch, dropLast: true })) {
        const r = trainer.step(params, state, batch);
        ({ params, state } = r);
        losses.push(r.loss);
        if (losses.length === 12) break;
      }
    }
    expect(losses[0]).toBeGreaterThan(Math.log(vocab.chars.length) - 0.5); // about ln V before training
    expect(losses[11]).toBeLessThan(0.8 * (losses[0] ?? 0));
    const sample = trainer.sample(params, "to be", 40, 0.5, key(2));
    expect(sample.length).toBe(40);
    expect([...sample].every((c) => vocab.chars.includes(c))).toBe(true);
    expect(trainer.sample(params, "to be", 40, 0.5, key(2))).toBe(sample); // the same key, the same sample
  });

  test("refuses a batch of the wrong shape with a ShapeError", () => {
    const trainer = charTrainer(vocabulary(text), 1e-2);
    const { params, state } = trainer.init(key(0));
    expect(() => trainer.step(params, state, { x: zeros([4, 16], "int32"), y: zeros([4, 16], "int32") })).toThrow(ShapeError);
  });
});
