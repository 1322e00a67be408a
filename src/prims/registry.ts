/**
 * The registry: the closed set of primitives, one entry each.
 *
 * `PrimParams` (`params.ts`) names every primitive and the parameters it
 * takes; the registry's type `{ [K in PrimName]: Primitive<PrimParams[K]> }`
 * makes a primitive that
 * lacks an entry (or an entry that lacks a rule) a compile error. Laws iterate
 * this object, so a new primitive is covered by them without anyone
 * remembering to add it.
 */

import { installPrimitives } from "./bind.js";
import { avgPool2d, avgPool2dGrad, conv2d, conv2dFilterGrad, conv2dInputGrad, maxPool2d, maxPool2dGrad, maxPool2dPick } from "./conv.js";
import { customLinear } from "./custom.js";
import { elementwisePrimitives } from "./elementwise.js";
import { gather, scatterAdd } from "./indexing.js";
import { dotGeneral } from "./linalg.js";
import type { PrimName, PrimParams } from "./params.js";
import { randomBits } from "./random.js";
import { scan } from "./scan.js";
import { whileLoop } from "./while.js";
import { argmax, reduceMax, reduceSum } from "./reduce.js";
import { broadcast, concatenate, pad, reshape, slice, transpose } from "./structural.js";
import type { Primitive } from "./types.js";

/** Every primitive, by name. */
export const primitives: { readonly [K in PrimName]: Primitive<PrimParams[K]> } = {
  ...elementwisePrimitives,
  reduce_sum: reduceSum,
  reduce_max: reduceMax,
  argmax,
  reshape,
  broadcast,
  transpose,
  slice,
  pad,
  concatenate,
  dot_general: dotGeneral,
  gather,
  scatter_add: scatterAdd,
  conv2d,
  conv2d_input_grad: conv2dInputGrad,
  conv2d_filter_grad: conv2dFilterGrad,
  max_pool2d: maxPool2d,
  avg_pool2d: avgPool2d,
  max_pool2d_grad: maxPool2dGrad,
  max_pool2d_pick: maxPool2dPick,
  avg_pool2d_grad: avgPool2dGrad,
  custom_linear: customLinear,
  random_bits: randomBits,
  scan,
  while: whileLoop,
};

installPrimitives(primitives);

/** The names of all primitives, for laws that iterate them. */
export const primNames = Object.keys(primitives) as PrimName[]; // the keys of an object typed by PrimName
