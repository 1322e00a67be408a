/**
 * Reading `.npz` files, NumPy's archives of named arrays (`numpy.savez` and
 * `numpy.savez_compressed`): a zip archive (see `zip.ts`) of `.npy` files
 * (see `npy.ts`), one per array, named after it with a `.npy` suffix.
 *
 * Deliberately left out: writing `.npz` (`encodeNpy` gives each array's
 * file; a zip writer is more than the format needs from us today) and
 * loading entries lazily.
 */

import * as E from "fp-ts/lib/Either.js";
import type { DType } from "../core/dtype.js";
import type { Tensor } from "../core/tensor.js";
import type { LoadError } from "./load-error.js";
import { readNpy } from "./npy.js";
import { fail, guard, within } from "./reader-kit.js";
import { readZip, type ZipOptions } from "./zip.js";

const READER = "npz";

/**
 * Reads a `.npz` archive into its arrays by name (each entry's name without
 * its `.npy` suffix), every entry read as `readNpy` reads it. A `Left` names
 * the entry and what is wrong with it (an entry that is not a `.npy` file
 * included), or the archive's problem. Never throws. `maxBytes` bounds what
 * the entries hold once decompressed (default 1 GiB).
 *
 * @example
 * const arrays = readNpz(bytes); // Right(Map { "w" => Tensor<[784, 10]>, "b" => Tensor<[10]> })
 */
export function readNpz(bytes: Uint8Array, options: ZipOptions = {}): E.Either<LoadError, Map<string, Tensor<number[], DType>>> {
  return guard(READER, () => {
    const files = readZip(bytes, options);
    if (E.isLeft(files)) return E.left(within(READER, files.left));
    const out = new Map<string, Tensor<number[], DType>>();
    for (const [file, contents] of files.right) {
      if (!file.endsWith(".npy")) return fail(READER, `entry ${JSON.stringify(file)} is not a .npy file`);
      const name = file.slice(0, -".npy".length);
      const x = readNpy(contents);
      if (E.isLeft(x)) return E.left(within(`${READER}: entry ${JSON.stringify(file)}`, x.left));
      out.set(name, x.right);
    }
    return E.right(out);
  });
}
