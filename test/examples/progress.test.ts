import { describe, expect, test } from "vitest";
import { progressBar, progressLine } from "../../examples/progress.js";

const stats = { loss: 0.5, accuracy: 0.9, examplesPerSecond: 512.4 };

/** A stream that records what is written to it. */
function recorder(isTTY: boolean): { isTTY: boolean; columns: number; written: string[]; write(text: string): void } {
  const written: string[] = [];
  return { isTTY, columns: 200, written, write: (text) => void written.push(text) };
}

describe("the progress bar", () => {
  test("shows the bar, the count, the loss, the accuracy and the examples per second", () => {
    expect(progressLine("epoch 1/3", 50, 100, stats, 20)).toBe("epoch 1/3 [##########..........]  50/100  loss 0.5000  acc 90.00%  512 ex/s");
  });

  test("on a terminal, redraws one line in place and ends it with a newline", () => {
    const out = recorder(true);
    const bar = progressBar(out, "epoch 1/1", 4, 0);
    for (let i = 1; i <= 4; i++) bar.update(i, stats);
    bar.finish(stats, "  test acc 97.00%");
    expect(out.written.length).toBe(5);
    expect(out.written.every((w) => w.startsWith("\r"))).toBe(true);
    expect(out.written.join("").split("\n").length).toBe(2); // one newline, at the end
    expect(out.written.at(-1)).toContain("test acc 97.00%");
  });

  test("when not a terminal, prints one line per epoch and nothing else", () => {
    const out = recorder(false);
    const bar = progressBar(out, "epoch 1/1", 4, 0);
    for (let i = 1; i <= 4; i++) bar.update(i, stats);
    bar.finish(stats);
    expect(out.written).toEqual([`${progressLine("epoch 1/1", 4, 4, stats)}\n`]);
  });
});
