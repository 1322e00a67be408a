/**
 * Whether max pooling gains from a second thread: the forward and the
 * gradient of a 2 x 2, stride-2 max pooling over inputs from 2^15 to
 * 2^20.6 elements, at 1 and 2 threads, interleaved, medians. Run against a
 * version of `src/backend/kernels/conv/wasm-pool.ts` that split its kernels
 * into tasks of the worker pool, it found no gain at any size
 * (`bench/results/cnn.md`), so the kernels stay on the calling thread; with
 * them there, both columns measure the same code (a check that the thread
 * count costs nothing). Run: `npm run compile && node .build/bench/pool-split.js`.
 */

import { loadavg } from "node:os";
import { maxPool2d, maxPool2dBackward } from "../src/backend/kernels/conv/pool.js";
import { setThreads, threadsReady } from "../src/backend/threads/pool.js";

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function main(): Promise<void> {
  console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
  setThreads(2);
  await threadsReady();
  // batch 64, channels 32 or 64, sides from 4 to 28: 2^15 to 2^21 elements (the CNN bench's two pools are the last two)
  const shapes: (readonly [number, number, number])[] = [[64, 4, 32], [64, 8, 32], [64, 8, 64], [64, 14, 32], [64, 16, 64], [64, 14, 64], [64, 28, 32]];
  for (const [batch, side, channels] of shapes) {
    const size = batch * side * side * channels;
    const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 2);
    const dy = Float32Array.from({ length: size / 4 }, (_, i) => Math.cos(i * 78.233));
    const params = { batch, inHeight: side, inWidth: side, channels, windowHeight: 2, windowWidth: 2 };
    const [y, dx] = [new Float32Array(size / 4), new Float32Array(size)];
    const times: Record<string, number[]> = { f1: [], f2: [], b1: [], b2: [] };
    for (let r = 0; r < 40; r++) {
      for (const t of [1, 2]) {
        setThreads(t);
        let t0 = performance.now();
        maxPool2d(y, x, params);
        times[`f${t}`]?.push(performance.now() - t0);
        t0 = performance.now();
        maxPool2dBackward(dx, x, dy, params);
        times[`b${t}`]?.push(performance.now() - t0);
      }
    }
    const m = (k: string): number => median(times[k] ?? []);
    console.log(
      `${batch} x ${side} x ${side} x ${channels} (2^${Math.log2(size).toFixed(1)}): forward 1T ${m("f1").toFixed(3)} ms, 2T ${m("f2").toFixed(3)} ms (${(m("f2") / m("f1")).toFixed(2)}); gradient 1T ${m("b1").toFixed(3)} ms, 2T ${m("b2").toFixed(3)} ms (${(m("b2") / m("b1")).toFixed(2)})`,
    );
  }
  setThreads(1);
  console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
}

await main();
