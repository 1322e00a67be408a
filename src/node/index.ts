/**
 * Stratum's Node entry point, `stratum/node`: what needs Node's own modules
 * (files today; the worker-thread pool later). The main entry, `stratum`,
 * imports nothing from `node:*`, so it runs in browsers and other engines;
 * this one adds to it and is imported beside it.
 *
 * @example
 * import { saveTreeFile, loadTreeFile } from "stratum/node";
 */

export { writeFileAtomic } from "./atomic-write.js";
export { loadTreeFile, saveTreeFile } from "./tree-file.js";
export { readIdxFile, readIdxFileAs, readNpyFile, readNpzFile } from "./data-files.js";
export { loadTorchStateDictFile, saveTorchStateDictFile } from "./torch-file.js";
