/**
 * The registry: the closed set of primitives, one entry each.
 *
 * `ParamsOf` names every primitive and the parameters it takes; the registry's
 * type `{ [K in PrimName]: Primitive<ParamsOf[K]> }` makes a primitive that
 * lacks an entry (or an entry that lacks a rule) a compile error. Laws iterate
 * this object, so a new primitive is covered by them without anyone
 * remembering to add it.
 */

import { installPrimitives } from "./bind.js";
import { elementwisePrimitives, type ElementwiseParamsOf } from "./elementwise.js";
import {
  avgPool2d,
  avgPool2dGrad,
  conv2d,
  conv2dFilterGrad,
  conv2dInputGrad,
  maxPool2d,
  maxPool2dGrad,
  maxPool2dPick,
  type ConvParams,
  type PoolParams,
} from "./conv.js";
import { customLinear, type CustomLinearParams } from "./custom.js";
import { gather, scatterAdd } from "./indexing.js";
import { dotGeneral, type DotParams } from "./linalg.js";
import { randomBits, type RandomBitsParams } from "./random.js";
import { argmax, reduceMax, reduceSum } from "./reduce.js";
import type { SliceParams } from "../backend/strided-view.js";
import { broadcast, concatenate, pad, reshape, slice, transpose } from "./structural.js";
import type { Primitive } from "./types.js";

/** Every primitive's name and its parameters (the elementwise ones: their scalar op's). */
export interface ParamsOf extends ElementwiseParamsOf {
  reduce_sum: { readonly axes: readonly number[] };
  reduce_max: { readonly axes: readonly number[] };
  argmax: { readonly axis: number };
  reshape: { readonly shape: readonly number[] };
  broadcast: { readonly shape: readonly number[]; readonly dims: readonly number[] };
  transpose: { readonly perm: readonly number[] };
  slice: SliceParams;
  pad: { readonly lo: readonly number[]; readonly hi: readonly number[]; readonly value: number };
  concatenate: { readonly axis: number };
  dot_general: DotParams;
  gather: { readonly axis: number };
  scatter_add: { readonly axis: number; readonly size: number };
  conv2d: ConvParams;
  conv2d_input_grad: ConvParams & { readonly inShape: readonly number[] };
  conv2d_filter_grad: ConvParams & { readonly filterShape: readonly number[] };
  max_pool2d: PoolParams;
  avg_pool2d: PoolParams;
  max_pool2d_grad: PoolParams;
  max_pool2d_pick: PoolParams;
  avg_pool2d_grad: PoolParams & { readonly inShape: readonly number[] };
  custom_linear: CustomLinearParams;
  random_bits: RandomBitsParams;
}

/** The name of a primitive. */
export type PrimName = keyof ParamsOf;

/** Every primitive, by name. */
export const primitives: { readonly [K in PrimName]: Primitive<ParamsOf[K]> } = {
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
};

installPrimitives(primitives);

/** The names of all primitives, for laws that iterate them. */
export const primNames = Object.keys(primitives) as PrimName[]; // the keys of an object typed by PrimName
