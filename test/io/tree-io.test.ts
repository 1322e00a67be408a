import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { tensor, zeros } from "../../src/core/create.js";
import { LoadError, loadTree, readSafetensors, saveTree, writeSafetensors } from "../../src/io/index.js";

const params = {
  layers: [{ w: tensor([[1, 2], [3, 4]]), b: tensor([5, 6]) }, { w: tensor([[7], [8]]), b: tensor([9]) }],
  scale: tensor(2),
  mask: zeros([3], "bool"),
};

describe("saveTree and loadTree", () => {
  test("a saved tree loads back into a tree like it", () => {
    const loaded = loadTree(saveTree(params), params);
    expect(E.isRight(loaded)).toBe(true);
    if (E.isRight(loaded)) {
      expect(loaded.right.layers[0]?.w.toNested()).toEqual([[1, 2], [3, 4]]);
      expect(loaded.right.layers[1]?.b.toArray()).toEqual([9]);
      expect(loaded.right.scale.item()).toBe(2);
      expect(loaded.right.mask.dtype).toBe("bool");
    }
  });

  test("leaves are named by their paths joined with dots", () => {
    const file = readSafetensors(saveTree(params, { step: "3" }));
    expect(E.isRight(file) && [...file.right.tensors.keys()].sort()).toEqual(["layers.0.b", "layers.0.w", "layers.1.b", "layers.1.w", "mask", "scale"]);
    expect(E.isRight(file) && file.right.metadata.get("step")).toBe("3");
  });

  test("loadTree lists every mismatch: missing, extra, wrong dtype, wrong shape", () => {
    const file = writeSafetensors({
      "layers.0.w": zeros([2, 2]),
      "layers.0.b": zeros([3]),
      "layers.1.w": zeros([2, 1], "int32"),
      scale: tensor(1),
      mask: zeros([3], "bool"),
      extra: zeros([1]),
    });
    const loaded = loadTree(file, params);
    expect(E.isLeft(loaded)).toBe(true);
    if (E.isLeft(loaded)) {
      expect(loaded.left).toBeInstanceOf(LoadError);
      expect(loaded.left.problems).toEqual([
        'tensor "layers.0.b": shape [3], expected [2]',
        'missing tensor "layers.1.b" (float32[1])',
        'tensor "layers.1.w": dtype int32, expected float32',
        'extra tensor "extra" (float32[1]) is not in the tree',
      ]);
      expect(loaded.left.message).toMatch(/^4 problems:\n- tensor "layers.0.b"/);
    }
  });

  test("a malformed file is the reader's Left", () => {
    const loaded = loadTree(new Uint8Array(3), params);
    expect(E.isLeft(loaded) && loaded.left.message).toMatch(/fewer than the 8 of the header length/);
  });

  test("a tree with two leaves of the same name is refused", () => {
    const clash = { "a.b": zeros([1]), a: { b: zeros([1]) } };
    expect(() => saveTree(clash)).toThrow(/two leaves of the tree are both named "a.b"/);
    const loaded = loadTree(writeSafetensors({ "a.b": zeros([1]) }), clash);
    expect(E.isLeft(loaded) && loaded.left.problems).toEqual(['two leaves of the tree are both named "a.b"']);
  });
});
