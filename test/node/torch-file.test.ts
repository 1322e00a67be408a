import * as E from "fp-ts/lib/Either.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";
import { relu } from "../../src/layers/activations.js";
import { dense } from "../../src/layers/dense.js";
import { sequential } from "../../src/layers/sequential.js";
import { TorchImportError } from "../../src/layers/torch-state-dict.js";
import { loadTorchStateDictFile, saveTorchStateDictFile } from "../../src/node/index.js";
import { key } from "../../src/random/key.js";

const folder = mkdtempSync(join(tmpdir(), "stratum-torch-file-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const model = sequential(dense(4, 3), relu(), dense(3, 2));
const params = model.init(key(0));

describe("saveTorchStateDictFile and loadTorchStateDictFile", () => {
  test("a saved state_dict has PyTorch's names and layouts and format pt, and loads back with the same values", () => {
    const path = join(folder, "mlp.safetensors");
    saveTorchStateDictFile(path, model, params);
    const file = readSafetensors(readFileSync(path));
    expect(E.isRight(file) && [...file.right.tensors].map(([k, x]) => [k, x.shape])).toEqual([
      ["0.bias", [3]],
      ["0.weight", [3, 4]],
      ["2.bias", [2]],
      ["2.weight", [2, 3]],
    ]);
    expect(E.isRight(file) && file.right.metadata.get("format")).toBe("pt");
    const loaded = loadTorchStateDictFile(path, model);
    expect(E.isRight(loaded) && Array.from(loaded.right[2].w.data)).toEqual(Array.from(params[2].w.data));
  });

  test("a missing file is a LoadError naming the path; a file for another model is a TorchImportError", () => {
    const missing = loadTorchStateDictFile(join(folder, "nothing.safetensors"), model);
    expect(E.isLeft(missing) && missing.left.message).toContain("nothing.safetensors");
    const path = join(folder, "other.safetensors");
    saveTorchStateDictFile(path, dense(4, 3), dense(4, 3).init(key(1)));
    const other = loadTorchStateDictFile(path, model);
    expect(E.isLeft(other) && other.left).toBeInstanceOf(TorchImportError);
    expect(E.isLeft(other) && other.left.problems).toEqual([
      'missing tensor "0.weight" [3, 4] (dense at 0)',
      'missing tensor "0.bias" [3] (dense at 0)',
      'missing tensor "2.weight" [2, 3] (dense at 2)',
      'missing tensor "2.bias" [2] (dense at 2)',
      'unexpected tensor "bias" [3]',
      'unexpected tensor "weight" [3, 4]',
    ]);
  });
});
