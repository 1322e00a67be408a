import * as E from "fp-ts/lib/Either.js";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { LoadError, saveTree } from "../../src/io/index.js";
import { loadTreeFile, saveTreeFile, writeFileAtomic } from "../../src/node/index.js";

const folder = mkdtempSync(join(tmpdir(), "stratum-tree-file-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const params = { w: tensor([[1, 2], [3, 4]]), b: zeros([2]) };

describe("saveTreeFile and loadTreeFile", () => {
  test("a saved tree loads back from its file with its values and the same bytes as saveTree", () => {
    const path = join(folder, "params.safetensors");
    saveTreeFile(path, params, { step: "7" });
    expect(new Uint8Array(readFileSync(path))).toEqual(saveTree(params, { step: "7" }));
    const loaded = loadTreeFile(path, params);
    expect(E.isRight(loaded) && loaded.right.w.toNested()).toEqual([[1, 2], [3, 4]]);
  });

  test("a missing file is a LoadError naming the path, not a throw", () => {
    const path = join(folder, "nothing-here.safetensors");
    const loaded = loadTreeFile(path, params);
    expect(E.isLeft(loaded)).toBe(true);
    if (E.isLeft(loaded)) {
      expect(loaded.left).toBeInstanceOf(LoadError);
      expect(loaded.left.message).toContain("nothing-here.safetensors");
    }
  });

  test("a file of another tree is a LoadError listing the mismatch", () => {
    const path = join(folder, "other.safetensors");
    saveTreeFile(path, { w: zeros([3]) });
    const loaded = loadTreeFile(path, params);
    expect(E.isLeft(loaded) && loaded.left.problems.join("\n")).toMatch(/tensor "w": shape \[3\], expected \[2, 2\]/);
  });
});

describe("writeFileAtomic", () => {
  test("replaces a file's contents whole and leaves no temporary file behind", () => {
    const path = join(folder, "atomic.bin");
    writeFileSync(path, "old contents");
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    writeFileAtomic(path, "text as utf-8: é");
    expect(readFileSync(path, "utf8")).toBe("text as utf-8: é");
    expect(readdirSync(folder).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("a write into a folder that does not exist throws and creates nothing", () => {
    expect(() => writeFileAtomic(join(folder, "no-such-folder", "x.bin"), "x")).toThrow(/ENOENT/);
  });

  test("a failed save leaves the previous file untouched", () => {
    const path = join(folder, "kept.safetensors");
    saveTreeFile(path, params);
    const before = readFileSync(path);
    // A tree with two leaves of one name cannot be saved: the save throws before anything is written.
    expect(() => saveTreeFile(path, { "a.b": zeros([1]), a: { b: zeros([1]) } })).toThrow(LoadError);
    expect(readFileSync(path)).toEqual(before);
  });
});
