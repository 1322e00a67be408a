/**
 * Input and output: safetensors files, for single tensors and for parameter
 * trees (see `safetensors.ts` for the format and `tree-io.ts` for trees), and
 * the data formats users hand each other: IDX, `.npy`, `.npz`, gzip.
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
export { crc32, gunzip, inflateRaw, isGzip } from "./inflate.js";
export { readIdx, readIdxAs, readIdxHeader, type IdxDType, type IdxHeader, type IdxOptions, type IdxType } from "./idx.js";
export { encodeNpy, readNpy, readNpyAs } from "./npy.js";
export { readNpz } from "./npz.js";
export { DEFAULT_MAX_BYTES } from "./reader-kit.js";
export { readZip, type ZipOptions } from "./zip.js";
