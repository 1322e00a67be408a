/**
 * The parameters of every primitive, by name: the type that `bind`, the
 * registry, traces and programs all index.
 *
 * It lives in a module of its own, below every primitive's definition, so
 * that `bind` (which each derivative rule calls) and the registry (which
 * holds every primitive) can both name it without an import circle. The
 * elementwise primitives are exactly the backend's scalar ops, each taking
 * its op's parameters, so a new row of the scalar-op table is a new entry
 * here, and the registry's type then asks for its definition. Left out: the
 * rules themselves (in the primitives' modules).
 */

import type { ScalarOpParams } from "../backend/scalar-ops.js";
import type { SliceParams } from "../backend/strided-view.js";
import type { AnyTensor, Aval } from "./types.js";

/** Explicit padding of the two spatial axes. */
export type Pads2d = readonly [readonly [number, number], readonly [number, number]];

/** The window options of a convolution. */
export interface ConvParams {
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: Pads2d;
  readonly groups: number;
}

/** The window options of a pooling. */
export interface PoolParams {
  readonly window: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: Pads2d;
}

/** The parameters of `dot_general`. */
export interface DotParams {
  readonly transA: boolean;
  readonly transB: boolean;
}

/** The parameters of `random_bits`: the shape of the bits. */
export interface RandomBitsParams {
  readonly shape: readonly number[];
}

/** The parameters of `custom_linear`. */
export interface CustomLinearParams {
  /** A name for messages and printed programs. */
  readonly name: string;
  /** The output's aval. */
  readonly out: Aval;
  /** The linear map, when it is known. */
  readonly forward: ((tangents: readonly AnyTensor[]) => AnyTensor) | undefined;
  /** The transpose: the output's cotangent to one cotangent per input (`null` for none). */
  readonly transpose: (ct: AnyTensor) => readonly (AnyTensor | null)[];
}

/** Every primitive's name and its parameters (an elementwise primitive's are its scalar op's). */
export interface PrimParams extends ScalarOpParams {
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
export type PrimName = keyof PrimParams;
