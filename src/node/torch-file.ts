/**
 * PyTorch state_dicts as safetensors files on disk (Node only): the file
 * reading and writing around `fromTorchStateDict` and `toTorchStateDict`
 * (`src/layers/torch-state-dict.ts`), as `tree-file.ts` is around
 * `loadTree` and `saveTree`.
 *
 * Deliberately left out: PyTorch's pickle files (`torch.save`'s `.pt`),
 * which run code to load; save the state_dict with
 * `safetensors.torch.save_file` instead.
 */

import * as E from "fp-ts/lib/Either.js";
import type { LoadError } from "../io/load-error.js";
import { writeSafetensors, type Metadata } from "../io/safetensors.js";
import { fromTorchStateDict, toTorchStateDict, type FromTorchOptions, type TorchModel, type TorchNameOptions, type TorchParamsOf } from "../layers/torch-state-dict.js";
import { writeFileAtomic } from "./atomic-write.js";
import { readFileBytes } from "./data-files.js";

/**
 * The parameters of `model` from the PyTorch state_dict saved as
 * safetensors at `path` (see `fromTorchStateDict`); a file that cannot be
 * read is a `Left` too, naming the path.
 *
 * @example
 * const model = sequential(dense(784, 64), relu(), dense(64, 10));
 * const params = loadTorchStateDictFile("mlp.safetensors", model); // Either<LoadError, [{ w, b }, {}, { w, b }]>
 */
export function loadTorchStateDictFile<L extends TorchModel>(path: string, model: L, options: FromTorchOptions = {}): E.Either<LoadError, TorchParamsOf<L>> {
  return E.flatMap(readFileBytes(path), (bytes): E.Either<LoadError, TorchParamsOf<L>> => fromTorchStateDict(model, bytes, options));
}

/**
 * Saves `params`, the parameters of `model`, as a PyTorch state_dict in a
 * safetensors file at `path` (atomically, as `saveTreeFile`), with the
 * metadata `{ format: "pt" }` that `safetensors.torch` writes; PyTorch loads
 * it with `model.load_state_dict(safetensors.torch.load_file(path))`.
 *
 * @example
 * saveTorchStateDictFile("mlp.safetensors", model, params);
 */
export function saveTorchStateDictFile<L extends TorchModel>(path: string, model: L, params: TorchParamsOf<L>, options: TorchNameOptions = {}, metadata: Metadata = { format: "pt" }): void {
  writeFileAtomic(path, writeSafetensors(toTorchStateDict(model, params, options), metadata));
}
