/**
 * A progress bar for a training epoch. On a terminal it redraws one line in
 * place (carriage return, then erase to the end of the line) at most every
 * `intervalMs`; when the output is a file or a pipe it prints nothing until
 * the epoch ends and then one line, so a log holds one line per epoch.
 */

/** Where the bar is written: `process.stdout`, or anything with its shape. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** The figures shown beside the bar. */
export interface ProgressStats {
  /** The mean loss so far. */
  readonly loss: number;
  /** The mean accuracy so far, in [0, 1]. */
  readonly accuracy: number;
  /** Examples processed per second so far. */
  readonly examplesPerSecond: number;
}

/** A running progress bar. */
export interface ProgressBar {
  /** `done` of the total steps are finished, with these figures. */
  update(done: number, stats: ProgressStats): void;
  /** The epoch is over: the final line, ended by a newline. */
  finish(stats: ProgressStats, suffix?: string): void;
}

/**
 * The line of a bar `width` cells wide: label, bar, count and figures.
 *
 * @example
 * progressLine("epoch 1/3", 50, 100, { loss: 0.5, accuracy: 0.9, examplesPerSecond: 512 }, 20);
 * // "epoch 1/3 [##########..........]  50/100  loss 0.5000  acc 90.00%  512 ex/s"
 */
export function progressLine(label: string, done: number, total: number, stats: ProgressStats, width = 24): string {
  const filled = total === 0 ? width : Math.round((width * Math.min(done, total)) / total);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  const figures = `loss ${stats.loss.toFixed(4)}  acc ${(100 * stats.accuracy).toFixed(2)}%  ${Math.round(stats.examplesPerSecond)} ex/s`;
  return `${label} ${bar} ${count}  ${figures}`;
}

/**
 * A progress bar of `total` steps labelled `label`, written to `stream`.
 *
 * @example
 * const bar = progressBar(process.stdout, "epoch 1/3", 125);
 * bar.update(10, { loss: 1.2, accuracy: 0.6, examplesPerSecond: 500 });
 * bar.finish({ loss: 0.3, accuracy: 0.91, examplesPerSecond: 510 });
 */
export function progressBar(stream: ProgressStream, label: string, total: number, intervalMs = 100): ProgressBar {
  const tty = stream.isTTY === true;
  let last = -Infinity;
  const fit = (line: string): string => (tty && stream.columns !== undefined && stream.columns > 0 ? line.slice(0, stream.columns - 1) : line);
  return {
    update(done, stats) {
      if (!tty) return;
      const now = performance.now();
      if (now - last < intervalMs && done < total) return;
      last = now;
      stream.write(`\r${fit(progressLine(label, done, total, stats))}\x1b[K`);
    },
    finish(stats, suffix = "") {
      const line = `${progressLine(label, total, total, stats)}${suffix}`;
      stream.write(tty ? `\r${fit(line)}\x1b[K\n` : `${line}\n`);
    },
  };
}
