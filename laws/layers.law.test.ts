/**
 * The laws of the layer library, over every layer factory of the `layers`
 * namespace (the cases of `support/layer-cases/`, one group per family):
 *
 * 1. Coverage: every layer factory the namespace exports has cases, and every
 *    case names an export. A new layer fails this law until it has cases.
 * 2. The forward pass equals an independent naive reference (plain loops over
 *    numbers, written in the case), in float64, within `1e-9 (1 + max|want|)`.
 * 3. The gradient laws of the autodiff issue, with respect to the input and
 *    every parameter leaf at once: the JVP against central differences and the
 *    adjoint identity (`support/gradient-laws.ts`, float64 tolerances).
 * 4. The gradient against the reference: `<J^T ct, t>` from the library's
 *    `vjp` equals the central difference of `<ct, naive(z + eps t)>`, so the
 *    backward pass is checked against code that shares nothing with it.
 * 5. `init` is deterministic in the key: the same key gives the same leaves,
 *    and the next key gives other parameters when any leaf varies.
 *
 * Failure messages name the layer, its configuration and its input's type;
 * fast-check adds the seed. `STRATUM_HEAVY=1` runs many more cases.
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Shape } from "../src/core/shape.js";
import type { Tensor } from "../src/core/tensor.js";
import { flattenTree, unflattenTree } from "../src/core/tree.js";
import * as layers from "../src/layers/index.js";
import type { AnyTensor } from "../src/prims/types.js";
import { key } from "../src/random/key.js";
import { isFloatDType } from "../src/core/dtype.js";
import { linearizeFlat, transposeProgram } from "../src/transforms/linearize.js";
import {
  adjointIdentity,
  combine,
  expectClose,
  jvpMatchesDifferences,
  maxAbs,
  randomLike,
  seeds,
  sumOf,
  tolerances,
  uniform,
  valuesOf,
  type Subject,
} from "./support/gradient-laws.js";
import { groups } from "./support/layer-cases/index.js";
import type { LayerCase } from "./support/layer-cases/types.js";

const heavy = process.env["STRATUM_HEAVY"] === "1";
/** Cases per law and layer: layers are whole programs, so fewer than per primitive. */
const numRuns = heavy ? 200 : 12;

/** The exports of the namespace that are not layer factories, and why. */
const notLayers: Readonly<Record<string, string>> = {
  makeLayer: "builds a layer from two functions",
  checkParams: "checks parameter shapes for layer implementations",
  activation: "builds a layer from an elementwise function",
  summary: "describes a model (its rows are tested in test/layers/summary.test.ts)",
  sequential: "composition; checked through the layers it composes",
  residual: "composition; checked through the layers it composes",
  frozen: "a stateful layer's inference mode, its state a parameter (which batch norm stops gradients to); tested in test/layers/frozen.test.ts",
  fans: "initialiser arithmetic",
  glorotUniform: "initialiser",
  heNormal: "initialiser",
  lecunNormal: "initialiser",
  zerosInit: "initialiser",
  initializers: "the initialisers by name",
  fromTorchStateDict: "loads PyTorch weights into a model (tested against PyTorch's outputs in test/layers/torch-state-dict.test.ts)",
  toTorchStateDict: "writes a model's parameters as a PyTorch state_dict (tested in test/layers/torch-state-dict.test.ts)",
  TorchImportError: "the error of fromTorchStateDict",
};

/** All cases by layer name; a name in two groups is an error. */
const cases = new Map<string, fc.Arbitrary<LayerCase>>();
for (const group of groups) {
  for (const [name, arbitrary] of Object.entries(group)) {
    if (cases.has(name)) throw new Error(`layer laws: two groups have cases for ${name}`);
    cases.set(name, arbitrary);
  }
}

const namespace: Readonly<Record<string, unknown>> = layers;

describe("coverage", () => {
  test("every layer factory has cases", () => {
    const factories = Object.keys(namespace).filter((name) => typeof namespace[name] === "function" && !(name in notLayers));
    expect(factories.filter((name) => !cases.has(name)), "layer factories without cases").toEqual([]);
  });
  test("every case names a layer factory", () => {
    expect([...cases.keys()].filter((name) => typeof namespace[name] !== "function" || name in notLayers)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// A case as a function of tensors: the input and the parameter leaves
// ---------------------------------------------------------------------------

function describeCase(name: string, c: LayerCase): string {
  return `${name} ${c.detail} on ${c.x.dtype}[${c.x.shape.join(", ")}]`;
}

/** The case as a subject of the gradient laws: inputs `[x, ...leaves]`. */
function subjectOf(name: string, c: LayerCase): Subject {
  const { leaves, def } = flattenTree(c.params);
  return {
    name,
    detail: `${c.detail} (input ${c.differentiableInput === false ? "held" : "varied"}, ${leaves.length} parameter leaves)`,
    inputs: [c.x, ...leaves],
    f: (xs) => c.apply(unflattenTree(def, xs.slice(1) as Tensor<Shape>[]), xs[0] ?? c.x),
  };
}

/** The naive reference as a function of the same inputs. */
function naiveOf(c: LayerCase): (xs: readonly AnyTensor[]) => readonly number[] {
  const { def } = flattenTree(c.params);
  return (xs) => c.naive(unflattenTree(def, xs.slice(1) as Tensor<Shape>[]), xs[0] ?? c.x).data;
}

// ---------------------------------------------------------------------------
// The laws
// ---------------------------------------------------------------------------

function forwardMatchesReference(name: string, c: LayerCase): void {
  const at = describeCase(name, c);
  const y = c.apply(c.params, c.x);
  const want = c.naive(c.params, c.x);
  expect([...y.shape], `${at}: the output shape`).toEqual([...want.shape]);
  expectClose(valuesOf(y), [...want.data], 1e-9 * (1 + maxAbs([...want.data])), `${at}: the output against the naive reference`);
}

function gradientMatchesReference(name: string, c: LayerCase, seed: number): void {
  const at = describeCase(name, c);
  const s = subjectOf(name, c);
  const random = uniform(seed);
  const lin = linearizeFlat((xs) => [s.f(xs)], s.inputs);
  const y = lin.outputs[0];
  if (y === undefined || !isFloatDType(y.dtype)) throw new Error(`${at}: no float output`);
  const ct = randomLike(y, random);
  const cts = transposeProgram(lin.program, [ct]);
  const tangents = s.inputs.map((x) => (isFloatDType(x.dtype) ? randomLike(x, random) : null));
  const directional = sumOf(
    s.inputs.flatMap((_x, i) => {
      const [g, t] = [cts[i], tangents[i]];
      return g === null || g === undefined || t === null || t === undefined ? [] : valuesOf(g).map((v, j) => v * (valuesOf(t)[j] ?? NaN));
    }),
  );
  const naive = naiveOf(c);
  const eps = tolerances.float64.eps;
  const cotangent = valuesOf(ct);
  const along = (step: number): number =>
    sumOf(naive(s.inputs.map((x, i) => {
      const t = tangents[i];
      return t === null || t === undefined ? x : combine(1, x, step, t);
    })).map((v, j) => v * (cotangent[j] ?? NaN)));
  // the central difference at eps and at eps / 2, extrapolated (Richardson): its error falls as eps^4, not eps^2. A layer norm over
  // two features is a steep function (seed 1983450502, path 36:34:34 in the heavy run: the central difference at 1e-6 was off by
  // 1.8e-5 of the value, at 1e-7 by 1.8e-7, converging on the gradient)
  const central = (h: number): number => (along(h) - along(-h)) / (2 * h);
  const difference = (4 * central(eps / 2) - central(eps)) / 3;
  const bound = 1e-6 * (1 + Math.abs(difference));
  expect(Math.abs(directional - difference), `${at}: <J^T ct, t> = ${directional}, the reference's difference ${difference} (bound ${bound})`).toBeLessThanOrEqual(bound);
}

function initIsDeterministic(name: string, c: LayerCase, seed: number): void {
  const at = describeCase(name, c);
  const leavesOf = (s: number): number[][] => flattenTree(c.init(key(s))).leaves.map(valuesOf);
  const [once, again, next] = [leavesOf(seed), leavesOf(seed), leavesOf(seed + 1)];
  expect(again, `${at}: init with one key twice`).toEqual(once);
  // a leaf may be fixed but not constant (an LSTM's forget-gate bias); the random ones must move with the key
  const varied = once.some((leaf) => leaf.some((v) => v !== leaf[0]));
  if (varied) expect(next, `${at}: the next key gives the same parameters`).not.toEqual(once);
}

const initSeeds = fc.integer({ min: 0, max: 2 ** 30 });

describe.each([...cases.keys()])("%s", (name) => {
  const arbitrary = cases.get(name);
  if (arbitrary === undefined) return;
  test("equals its naive reference", () => {
    fc.assert(fc.property(arbitrary, (c) => forwardMatchesReference(name, c)), { numRuns });
  });
  test("its JVP equals central differences", () => {
    fc.assert(fc.property(arbitrary, seeds, (c, seed) => jvpMatchesDifferences(subjectOf(name, c), seed, tolerances.float64)), { numRuns });
  });
  test("its JVP and VJP satisfy the adjoint identity", () => {
    fc.assert(fc.property(arbitrary, seeds, (c, seed) => adjointIdentity(subjectOf(name, c), seed, tolerances.float64)), { numRuns });
  });
  test("its gradient equals the reference's differences", () => {
    fc.assert(fc.property(arbitrary, seeds, (c, seed) => gradientMatchesReference(name, c, seed)), { numRuns });
  });
  test("init is deterministic in the key", () => {
    fc.assert(fc.property(arbitrary, initSeeds, (c, seed) => initIsDeterministic(name, c, seed)), { numRuns: Math.min(numRuns, 5) });
  });
});
