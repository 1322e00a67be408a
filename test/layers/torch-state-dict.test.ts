import * as E from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { DType } from "../../src/core/dtype.js";
import { ShapeError } from "../../src/core/errors.js";
import type { Shape } from "../../src/core/shape.js";
import { zeros } from "../../src/core/create.js";
import { Tensor } from "../../src/core/tensor.js";
import { encodeSafetensors, readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { relu, tanh } from "../../src/layers/activations.js";
import { multiHeadAttention, transformerEncoderBlock } from "../../src/layers/attention.js";
import { conv1d, conv2d, convTranspose2d } from "../../src/layers/conv.js";
import { dense } from "../../src/layers/dense.js";
import { embedding } from "../../src/layers/embedding.js";
import { frozen } from "../../src/layers/frozen.js";
import { batchNorm, layerNorm, rmsNorm } from "../../src/layers/norm.js";
import { globalAvgPool, maxPool2d } from "../../src/layers/pool.js";
import { gru, lstm, rnn } from "../../src/layers/recurrent.js";
import { flatten } from "../../src/layers/reshape.js";
import { residual } from "../../src/layers/residual.js";
import { sequential } from "../../src/layers/sequential.js";
import { fromTorchStateDict, toTorchStateDict, TorchImportError, type TorchIssue, type TorchModel, type TorchParamsOf } from "../../src/layers/torch-state-dict.js";
import { concat, pad, transpose } from "../../src/ops/shape.js";
import { key, type Key } from "../../src/random/key.js";
import { maxDiff } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/torch");

/** The bytes of fixture `name` (a state_dict written by test/fixtures/torch/make.py). */
const stateDict = (name: string): Uint8Array => readFileSync(join(FIXTURES, `${name}.safetensors`));

/** The fixed input `x` and PyTorch's output `y` of fixture `name`. */
function io(name: string): { x: Tensor<Shape, DType>; y: Tensor<Shape, DType> } {
  const file = readSafetensors(readFileSync(join(FIXTURES, `${name}.io.safetensors`)));
  if (E.isLeft(file)) throw file.left;
  const [x, y] = [file.right.tensors.get("x"), file.right.tensors.get("y")];
  if (x === undefined || y === undefined) throw new Error(`${name}.io.safetensors lacks x or y`);
  return { x, y };
}

/** The Right of `r`, or the test fails with the Left's message. */
function right<A>(r: E.Either<Error, A>): A {
  if (E.isLeft(r)) throw new Error(`expected Right, got: ${r.left.message}`);
  return r.right;
}

/** The issues of a Left. */
function issuesOf(r: E.Either<TorchImportError, unknown>): readonly TorchIssue[] {
  if (E.isRight(r)) throw new Error("expected Left, got Right");
  return r.left.issues;
}

/** A value whose type the function refuses, for the tests of the run-time checks. */
const unchecked = (x: unknown): never => x as never; // the run-time check is what the test exercises

/** A layer applied without its types: the fixtures' shapes are checked by the layers at run time. */
const run = (layer: unknown, p: unknown, x: Tensor<Shape, DType>): Tensor<Shape> =>
  (layer as { apply(p: unknown, x: Tensor<Shape, DType>): Tensor<Shape> }).apply(p, x); // each fixture's model is built to take its input

const nhwc = (x: Tensor<Shape, DType>): Tensor<Shape, DType> => transpose(x as Tensor<[number, number, number, number]>, [0, 2, 3, 1]); // the CNN fixture's input is NCHW [N, C, H, W]

/**
 * Each fixture: its Stratum model (built with the PyTorch model's sizes and
 * configuration), the loading options, and how its input and output are
 * laid out on our side.
 */
const CASES: readonly {
  readonly name: string;
  readonly model: TorchModel;
  readonly options?: Parameters<typeof fromTorchStateDict>[2];
  readonly input?: (x: Tensor<Shape, DType>) => Tensor<Shape, DType>;
  readonly apply?: (p: unknown, x: Tensor<Shape, DType>) => Tensor<Shape>;
}[] = [
  { name: "mlp", model: sequential(dense(6, 8), relu(), sequential(dense(8, 8), tanh()), dense(8, 3)) },
  {
    name: "cnn",
    model: sequential(conv2d(2, 4, 3, { padding: 1 }), frozen(batchNorm(4, { eps: 1e-5 })), relu(), maxPool2d(2), flatten(), dense(36, 5)),
    options: { flatten: "channelsLast" },
    input: nhwc,
  },
  { name: "conv1d", model: conv1d(3, 4, 3, { padding: 2, dilation: 2, dataFormat: "NCW" }) },
  {
    name: "conv_transpose2d",
    model: convTranspose2d(3, 2, 3, { stride: 2, dataFormat: "NCHW" }),
  },
  {
    name: "batch_norm1d",
    model: batchNorm(4, { eps: 1e-5 }),
    apply: (p, x) => {
      const { params, state } = p as TorchParamsOf<ReturnType<typeof batchNorm<4>>>; // the fixture's model is batchNorm(4)
      return batchNorm(4, { eps: 1e-5 }).apply(params, state, x as Tensor<[5, 4]>)[0];
    },
  },
  { name: "lstm", model: lstm(3, 5) },
  { name: "gru", model: gru(3, 5) },
  { name: "rnn", model: rnn(3, 5) },
  { name: "embedding", model: embedding(10, 4) },
  { name: "layer_norm", model: layerNorm(6) },
  { name: "attention", model: multiHeadAttention(8, 2) },
  { name: "encoder_post_norm", model: transformerEncoderBlock(8, 2, 16, { activation: "relu", normFirst: false }) },
  { name: "encoder_pre_norm", model: transformerEncoderBlock(8, 2, 16, { activation: "relu" }) },
  { name: "encoder_gelu", model: transformerEncoderBlock(8, 2, 16, { normFirst: false }) }, // PyTorch's activation="gelu" is our default, the exact GELU
];

describe("fromTorchStateDict reproduces PyTorch's outputs", () => {
  test.each(CASES)("$name: the loaded model's outputs are PyTorch's to 1e-5", ({ name, model, options, input, apply }) => {
    const params = right(fromTorchStateDict(model, stateDict(name), options));
    const { x, y } = io(name);
    const ours = apply === undefined ? run(model, params, input === undefined ? x : input(x)) : apply(params, x);
    expect(ours.shape).toEqual(y.shape);
    expect(maxDiff(ours.data, y.data)).toBeLessThan(1e-5);
  });

  test("the fixtures tell a wrong layout: the CNN loaded as if its images were NCHW is far from PyTorch", () => {
    const { model, input } = CASES.find((c) => c.name === "cnn") ?? unchecked(undefined);
    const params = right(fromTorchStateDict(model, stateDict("cnn"), { flatten: "channelsFirst" }));
    const { x, y } = io("cnn");
    expect(maxDiff(run(model, params, input?.(x) ?? x).data, y.data)).toBeGreaterThan(0.1);
  });

  test("a stack holding a training batch norm loads its running statistics into the stack's state, and in inference gives PyTorch's outputs", () => {
    const model = sequential(conv2d(2, 4, 3, { padding: 1 }), batchNorm(4, { eps: 1e-5 }), relu(), maxPool2d(2), flatten(), dense(36, 5));
    const { params, state } = right(fromTorchStateDict(model, stateDict("cnn"), { flatten: "channelsLast" }));
    const { x, y } = io("cnn");
    const [ours, after] = model.apply(params, state, nhwc(x) as Tensor<[2, 6, 6, 2]>); // the fixture's input is [2, 2, 6, 6] NCHW
    expect(ours.shape).toEqual(y.shape);
    expect(maxDiff(ours.data, y.data)).toBeLessThan(1e-5);
    expect(after).toEqual(state);
    const back = toTorchStateDict(model, { params, state }, { flatten: "channelsLast" });
    const file = readSafetensors(stateDict("cnn"));
    if (E.isLeft(file)) throw file.left;
    expect(new Set(back.keys())).toEqual(new Set(file.right.tensors.keys()));
    expect([...(back.get("1.running_var")?.data ?? [])]).toEqual([...(file.right.tensors.get("1.running_var")?.data ?? [])]);
  });

  test("a model whose layers are wrapped (residual, frozen) names them as the layers they wrap", () => {
    const model = sequential(residual(sequential(dense(4, 4))), frozen(batchNorm(4)));
    const names = [...toTorchStateDict(model, model.init(key(1))).keys()].sort();
    expect(names).toEqual(["0.0.bias", "0.0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight"]);
  });
});

describe("attention whose keys and values have their own width (PyTorch's kdim, vdim)", () => {
  // a stand-in for an attention layer with keys and values 4 wide: the codec reads only the parameters' shapes
  const mha = multiHeadAttention(8, 2);
  const narrow = { ...mha, init: (k: Key) => ({ ...mha.init(k), wk: zeros([4, 8]), wv: zeros([4, 8]) }) };

  test("loads PyTorch's separate q/k/v_proj_weight, and the attention on keys padded with zero features is PyTorch's", () => {
    const p = right(fromTorchStateDict(narrow, stateDict("attention_kdim")));
    expect([p.wq.shape, p.wk.shape, p.wv.shape]).toEqual([[8, 8], [4, 8], [4, 8]]);
    const { x, y } = io("attention_kdim");
    const kv = right(readSafetensors(readFileSync(join(FIXTURES, "attention_kdim.io.safetensors")))).tensors.get("kv") as Tensor<[2, 3, 4]>; // the fixture's keys and values
    // four zero features more on the keys and four zero rows more in wk and wv change no product
    const widened = { ...p, wk: concat([p.wk, zeros([4, 8])], 0), wv: concat([p.wv, zeros([4, 8])], 0) };
    const ours = mha.attend(widened, x as Tensor<[2, 5, 8]>, pad(kv, [[0, 0], [0, 0], [0, 4]])); // the fixture's query is [2, 5, 8]
    expect(maxDiff(ours.data, y.data)).toBeLessThan(1e-5);
    expect([...toTorchStateDict(narrow, p).keys()].sort()).toEqual(["in_proj_bias", "k_proj_weight", "out_proj.bias", "out_proj.weight", "q_proj_weight", "v_proj_weight"]);
  });
});

describe("toTorchStateDict", () => {
  test.each(CASES)("$name: gives back the fixture's tensors, names, shapes and values", ({ name, model, options }) => {
    const original = right(readSafetensors(stateDict(name))).tensors;
    const exported = toTorchStateDict(model, right(fromTorchStateDict(model, stateDict(name), options)), options);
    expect([...exported.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, x] of exported) {
      const o = original.get(k);
      expect(x.shape, k).toEqual(o?.shape);
      if (k.endsWith("num_batches_tracked")) continue; // not kept: written as 0
      if (/bias_[ih]h_l0$/.test(k) && (name === "lstm" || name === "rnn")) continue; // one summed bias: checked below
      expect(maxDiff(x.data, o?.data ?? []), k).toBe(0);
    }
  });

  test("an LSTM's bias is written as bias_ih_l0 with bias_hh_l0 zero, their sum PyTorch's", () => {
    const model = lstm(3, 5);
    const exported = toTorchStateDict(model, right(fromTorchStateDict(model, stateDict("lstm"))));
    const original = right(readSafetensors(stateDict("lstm"))).tensors;
    const sum = (m: ReadonlyMap<string, Tensor<Shape, DType>>): number[] => {
      const [a, b] = [m.get("bias_ih_l0")?.data ?? [], m.get("bias_hh_l0")?.data ?? []];
      return Array.from(a, (v, i) => v + (b[i] ?? 0));
    };
    expect(Array.from(exported.get("bias_hh_l0")?.data ?? [1])).toEqual(new Array(20).fill(0));
    expect(maxDiff(sum(exported), sum(original))).toBeLessThan(1e-6);
  });

  test("the round trip through a safetensors file gives the same parameters, bit for bit", () => {
    for (const { name, model, options } of CASES) {
      const loaded = right(fromTorchStateDict(model, stateDict(name), options));
      const again = right(fromTorchStateDict(model, writeSafetensors(toTorchStateDict(model, loaded, options)), options));
      expect(JSON.stringify(treeData(again)), name).toEqual(JSON.stringify(treeData(loaded)));
    }
  });

  test("a layer PyTorch cannot express is a ShapeError naming it", () => {
    const model = sequential(dense(4, 4), rmsNorm(4));
    expect(() => toTorchStateDict(model, model.init(key(0)))).toThrow(ShapeError);
    expect(() => toTorchStateDict(model, model.init(key(0)))).toThrow('rmsNorm at 1: no PyTorch module is mapped to a layer named "rmsNorm"');
  });
});

/** The values of every leaf of a tree, in order, as plain arrays. */
function treeData(tree: unknown): unknown {
  if (tree instanceof Tensor) return [tree.shape, Array.from(tree.data)];
  if (Array.isArray(tree)) return tree.map(treeData);
  if (typeof tree === "object" && tree !== null) return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, treeData(v)]));
  return tree;
}

describe("fromTorchStateDict reports what does not fit", () => {
  const model = sequential(dense(6, 8), relu(), dense(8, 3));
  const good = (): Map<string, Tensor<Shape, DType>> => toTorchStateDict(model, model.init(key(3)));

  test("a missing tensor, named with its shape and the layer that wants it", () => {
    const tensors = good();
    tensors.delete("2.bias");
    expect(issuesOf(fromTorchStateDict(model, tensors))).toEqual([{ kind: "missing", key: "2.bias", shape: [3], layer: "dense at 2" }]);
  });

  test("an unexpected tensor, with a hint when PyTorch's feature has no counterpart", () => {
    const tensors = good();
    tensors.set("extra", zeros([2]));
    tensors.set("4.weight_ih_l0_reverse", zeros([1]));
    const issues = issuesOf(fromTorchStateDict(model, tensors));
    expect(issues[0]).toEqual({ kind: "unexpected", key: "extra", shape: [2] });
    expect(issues[1]).toMatchObject({ kind: "unexpected", key: "4.weight_ih_l0_reverse", hint: expect.stringContaining("bidirectional") });
  });

  test("a mis-shaped tensor, with both shapes (a kernel in our layout is not silently taken)", () => {
    const tensors = good();
    tensors.set("0.weight", zeros([6, 8]));
    expect(issuesOf(fromTorchStateDict(model, tensors))).toEqual([{ kind: "shape", key: "0.weight", expected: [8, 6], actual: [6, 8], layer: "dense at 0" }]);
  });

  test("every problem at once, in the error's message too", () => {
    const tensors = good();
    tensors.delete("0.bias");
    tensors.set("2.weight", zeros([3, 9]));
    tensors.set("3.weight", zeros([1]));
    const r = fromTorchStateDict(model, tensors);
    expect(issuesOf(r).map((i) => i.kind)).toEqual(["missing", "shape", "unexpected"]);
    expect(E.isLeft(r) && r.left).toBeInstanceOf(TorchImportError);
    expect(E.isLeft(r) && r.left.message).toBe(
      [
        "3 problems:",
        '- missing tensor "0.bias" [8] (dense at 0)',
        '- tensor "2.weight" is [3, 9], expected [3, 8] (dense at 2)',
        '- unexpected tensor "3.weight" [1]',
      ].join("\n"),
    );
  });

  test("float64 tensors load only with convert, and integers never", () => {
    const tensors = good();
    const w = tensors.get("0.weight") ?? zeros([8, 6]);
    tensors.set("0.weight", new Tensor(w.shape, "float64", Float64Array.from(w.data)));
    tensors.set("0.bias", zeros([8], "int32"));
    expect(issuesOf(fromTorchStateDict(model, tensors))).toEqual([
      { kind: "dtype", key: "0.weight", dtype: "float64", convertible: true, layer: "dense at 0" },
      { kind: "dtype", key: "0.bias", dtype: "int32", convertible: false, layer: "dense at 0" },
    ]);
    tensors.set("0.bias", zeros([8]));
    const loaded = right(fromTorchStateDict(model, tensors, { convert: true }));
    expect(loaded[0].w.dtype).toBe("float32");
    expect(maxDiff(loaded[0].w.data, transpose(w as Tensor<[8, 6]>).data)).toBeLessThan(1e-7);
  });

  test("F16 and BF16 tensors in a file load only with convert", () => {
    const tensors = good();
    const half = (name: string, dtype: "F16" | "BF16", shape: readonly number[]) => ({ name, dtype, shape, bytes: new Uint8Array(2 * shape.reduce((a, b) => a * b, 1)) });
    const raw = [...tensors].filter(([k]) => k !== "0.bias" && k !== "2.bias").map(([name, x]) => ({ name, dtype: "F32" as const, shape: x.shape, bytes: new Uint8Array(x.data.buffer) }));
    const file = encodeSafetensors([...raw, half("0.bias", "F16", [8]), half("2.bias", "BF16", [3])]);
    expect(issuesOf(fromTorchStateDict(model, file)).map((i) => i.kind === "dtype" && i.dtype)).toEqual(["F16", "BF16"]);
    expect(Array.from(right(fromTorchStateDict(model, file, { convert: true }))[2].b.data)).toEqual([0, 0, 0]);
  });

  test("a file that is not safetensors is a Left naming the problem", () => {
    expect(issuesOf(fromTorchStateDict(model, new Uint8Array([1, 2, 3])))[0]?.kind).toBe("file");
  });

  test("num_batches_tracked is accepted and ignored; a stateful model loads as { params, state }", () => {
    const bn = batchNorm(4, { eps: 1e-5 });
    const loaded = right(fromTorchStateDict(bn, stateDict("batch_norm1d")));
    expect(Object.keys(loaded)).toEqual(["params", "state"]);
    const tensors = right(readSafetensors(stateDict("batch_norm1d"))).tensors;
    tensors.delete("num_batches_tracked");
    expect(E.isRight(fromTorchStateDict(bn, tensors))).toBe(true);
  });

  test("a dense layer after a flattened channels-last image asks for the layout, and each answer loads", () => {
    const cnn = sequential(conv2d(2, 4, 3, { padding: 1 }), frozen(batchNorm(4, { eps: 1e-5 })), relu(), maxPool2d(2), flatten(), dense(36, 5));
    expect(issuesOf(fromTorchStateDict(cnn, stateDict("cnn")))).toEqual([
      { kind: "unsupported", layer: "dense at 5", reason: expect.stringContaining('pass flatten: "channelsLast"') },
    ]);
    const last = right(fromTorchStateDict(cnn, stateDict("cnn"), { flatten: "channelsLast" }))[5].w;
    const first = right(fromTorchStateDict(cnn, stateDict("cnn"), { flatten: "channelsFirst" }))[5].w;
    // row s·C + c of the channels-last kernel is row c·S + s of the channels-first one (S = 9 pixels, C = 4 channels)
    const row = (w: Tensor<Shape>, r: number): number[] => Array.from(w.data.slice(r * 5, r * 5 + 5));
    expect(row(last, 2 * 4 + 3)).toEqual(row(first, 3 * 9 + 2));
  });

  test("the image flows through norms, dropout and activations to the flatten; a global pool or a reshape ends it", () => {
    const through = sequential(conv2d(2, 4, 3), layerNorm(4), relu(), maxPool2d(2), flatten(), dense(36, 2));
    const tensors = toTorchStateDict(through, through.init(key(0)), { flatten: "channelsFirst" });
    expect(issuesOf(fromTorchStateDict(through, tensors)).map((i) => i.kind === "unsupported" && i.layer)).toEqual(["dense at 5"]);
    const pooled = sequential(conv2d(2, 4, 3), globalAvgPool(), dense(4, 2));
    expect(E.isRight(fromTorchStateDict(pooled, toTorchStateDict(pooled, pooled.init(key(0)))))).toBe(true);
  });

  test("attention whose heads are not embed_dim wide has no PyTorch counterpart", () => {
    const mha = multiHeadAttention(8, 2, { keyDim: 3 });
    expect(issuesOf(fromTorchStateDict(mha, stateDict("attention")))).toEqual([
      { kind: "unsupported", layer: "multiHeadAttention at the top", reason: expect.stringContaining("numHeads·keyDim 6") },
    ]);
  });
});

describe("naming", () => {
  const model = sequential(dense(6, 8), relu(), dense(8, 3));
  const p = model.init(key(5));

  test("rename maps module paths, the longest first, and prefix goes before every key", () => {
    const names = [...toTorchStateDict(model, p, { rename: { "0": "fc1", "2": "head.fc" }, prefix: "model." }).keys()];
    expect(names).toEqual(["model.fc1.weight", "model.fc1.bias", "model.head.fc.weight", "model.head.fc.bias"]);
    const tensors = toTorchStateDict(model, p, { rename: (k) => k.replace(/^(\d)\./, "layer$1.") });
    expect([...tensors.keys()]).toEqual(["layer0.weight", "layer0.bias", "layer2.weight", "layer2.bias"]);
    expect(E.isRight(fromTorchStateDict(model, tensors, { rename: (k) => k.replace(/^(\d)\./, "layer$1.") }))).toBe(true);
  });

  test("two parameters renamed to one key is an error, not a silent overwrite", () => {
    expect(() => toTorchStateDict(model, p, { rename: () => "same" })).toThrow("is written twice");
    const issues = issuesOf(fromTorchStateDict(model, { same: zeros([8, 6]) }, { rename: () => "same" }));
    expect(issues.some((i) => i.kind === "unsupported" && i.reason.includes("rename one"))).toBe(true);
  });

  test("a model's parameters of the wrong structure are a ShapeError", () => {
    expect(() => toTorchStateDict(model, unchecked({}))).toThrow("the parameters of sequential at the top must be an array");
  });
});

describe("the doc examples", () => {
  test("TorchImportError: a dense kernel given in our layout is a shape issue with both shapes", () => {
    const r = fromTorchStateDict(dense(4, 2), { weight: zeros([4, 2]), bias: zeros([2]) });
    expect(issuesOf(r)).toEqual([{ kind: "shape", key: "weight", expected: [2, 4], actual: [4, 2], layer: "dense at the top" }]);
  });

  test("fromTorchStateDict and toTorchStateDict: an MLP's keys and PyTorch's [out, in] shapes, there and back", () => {
    const model = sequential(dense(784, 64), relu(), dense(64, 10));
    const tensors = toTorchStateDict(model, model.init(key(0)));
    expect([...tensors].map(([k, x]) => [k, x.shape])).toEqual([["0.weight", [64, 784]], ["0.bias", [64]], ["2.weight", [10, 64]], ["2.bias", [10]]]);
    const params = right(fromTorchStateDict(model, writeSafetensors(tensors)));
    expect([params[0].w.shape, params[1], params[2].w.shape]).toEqual([[784, 64], {}, [64, 10]]);
  });

  test("TorchParamsOf: a stateful layer loads as { params, state }", () => {
    const loaded = right(fromTorchStateDict(batchNorm(4), stateDict("batch_norm1d")));
    expect([loaded.params.scale.shape, loaded.state.var.shape]).toEqual([[4], [4]]);
  });
});
