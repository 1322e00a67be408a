/**
 * The layer cases of `embedding` and `dropout` (see `types.ts`). The
 * embedding's reference copies rows by index; dropout's computes its mask
 * from the key's Threefry words (`randomBits`, checked against the published
 * vectors by the random laws) compared with `(1 - rate) · 2^32`, and applies
 * it and the scale by hand, in training and not.
 */

import fc from "fast-check";
import { Tensor } from "../../../src/core/tensor.js";
import * as layers from "../../../src/layers/index.js";
import { key, randomBits } from "../../../src/random/key.js";
import { leaf, numbers, seeded, seeds, uniformValues, untyped } from "./basic.js";
import type { LayerCase, LayerCases } from "./types.js";

const small = fc.integer({ min: 1, max: 4 });

const embedding = fc
  .record({ rows: fc.integer({ min: 1, max: 6 }), features: small, prefix: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), seed: seeds })
  .map(({ rows, features, prefix, seed }): LayerCase => {
    const layer = untyped(layers.embedding(rows, features));
    const count = prefix.reduce((n, d) => n * d, 1);
    const ids = uniformValues(seed, count).map((v) => Math.min(rows - 1, Math.floor(((v + 1) / 2) * rows)));
    return {
      detail: `embedding(${rows}, ${features})`,
      params: { table: seeded([rows, features], seed + 1) },
      x: new Tensor([...prefix], "int32", Int32Array.from(ids)),
      apply: (p, x) => layer.apply(p, x),
      naive: (p, x) => {
        const table = leaf(p, "table");
        return { shape: [...x.shape, features], data: numbers(x).flatMap((i) => table.slice(i * features, i * features + features)) };
      },
      init: (k) => layer.init(k),
      differentiableInput: false,
    };
  });

const dropout = fc
  .record({ rate: fc.constantFrom(0, 0.25, 0.5, 0.9), training: fc.boolean(), shape: fc.array(small, { minLength: 1, maxLength: 3 }), seed: seeds })
  .map(({ rate, training, shape, seed }): LayerCase => {
    const layer = untyped(layers.dropout(rate));
    const k = key(seed);
    const opts = { training, key: k };
    return {
      detail: `dropout(${rate}), training ${String(training)}`,
      params: {},
      x: seeded(shape, seed),
      apply: (p, x) => layer.apply(p, x, opts),
      naive: (_p, x) => {
        const words = randomBits(k, x.size);
        const keep = numbers(x).map((_v, i) => !training || rate === 0 || (words[i] ?? 0) < (1 - rate) * 2 ** 32);
        const scale = training ? 1 / (1 - rate) : 1;
        return { shape: [...x.shape], data: numbers(x).map((v, i) => (keep[i] === true ? v * scale : 0)) };
      },
      init: (k2) => layer.init(k2),
    };
  });

export const cases: LayerCases = { embedding, dropout };
