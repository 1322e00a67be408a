/**
 * Input and output: safetensors files, for single tensors and for parameter
 * trees. See `safetensors.ts` for the format and `tree-io.ts` for trees.
 */

export { LoadError } from "./load-error.js";
export {
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type Metadata,
  type NamedTensors,
  type RawTensor,
  type Safetensors,
} from "./safetensors.js";
export { MAX_HEADER_SIZE } from "./safetensors-header.js";
export type { FormatDType } from "./safetensors-format.js";
export { loadTree, saveTree } from "./tree-io.js";
