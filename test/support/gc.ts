/**
 * Full garbage collections for memory tests.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Full garbage collections (V8's `gc`, exposed for the calling test by its
 * flag), with a turn of the event loop after each: an array buffer's memory
 * can be freed after `gc` returns, and `process.memoryUsage()` counts it
 * until then.
 */
export async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc: unknown = runInNewContext("gc");
  for (let round = 0; round < 3; round++) {
    if (typeof gc === "function") gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
