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
import type { AnyTensor, Aval, BatchDim, LinearInput } from "./types.js";

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

/**
 * The parameters of `scan`: a loop whose body was traced once into a program.
 * The operands are the body's captured values, then the initial carry, then
 * the stacked inputs; the result packs the final carry and the stacked
 * outputs into one vector of `out` (see `transforms/scan.ts`, which builds
 * these and holds the body program in the closures).
 */
export interface ScanParams {
  /** How many steps. */
  readonly length: number;
  /** Whether the steps run from the last index to the first. */
  readonly reverse: boolean;
  /** How many equations the body has (the size of the loop in a printed program). */
  readonly bodyEqns: number;
  /** The operands' avals (captured values, carry, stacked inputs), in a record so that a printed program shows `{...}`, not every aval. */
  readonly signature: { readonly operands: readonly Aval[] };
  /** The packed result: final carry and stacked outputs, flattened and joined. */
  readonly out: Aval;
  /** Runs the loop on concrete operands. */
  readonly run: (inputs: readonly AnyTensor[]) => AnyTensor;
  /** The packed result and its tangent (`null` when no tangent flows), computed by scans that run the loop once. */
  readonly jvp: (primals: readonly AnyTensor[], tangents: readonly (AnyTensor | null)[]) => readonly [AnyTensor, AnyTensor | null];
  /** The transpose in the linear operands (a reverse scan). */
  readonly transpose: (ct: AnyTensor, inputs: readonly LinearInput[]) => readonly (AnyTensor | null)[];
  /** The loop on a batch of examples (a scan of the batched body). */
  readonly batch: (inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number) => readonly [AnyTensor, BatchDim];
}

/**
 * The parameters of `while`: a loop whose condition and body were traced once
 * into programs (by `transforms/while-loop.ts`, which holds them in these
 * closures). The operands are the condition's captured values, the body's,
 * then the initial carry; the result is the final carry packed into one
 * vector of `out`. Forward only: it has no JVP and no transpose.
 */
export interface WhileParams {
  /** How many equations the condition and the body have (the size of the loop in a printed program). */
  readonly condEqns: number;
  readonly bodyEqns: number;
  /** The operands' avals, in a record so that a printed program shows `{...}`. */
  readonly signature: { readonly operands: readonly Aval[] };
  /** The packed final carry. */
  readonly out: Aval;
  /** Runs the loop on concrete operands. */
  readonly run: (inputs: readonly AnyTensor[]) => AnyTensor;
  /** The loop on a batch of examples: it runs while any example's condition holds, each example's carry kept once its condition fails. */
  readonly batch: (inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number) => readonly [AnyTensor, BatchDim];
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
  scan: ScanParams;
  while: WhileParams;
}

/** The name of a primitive. */
export type PrimName = keyof PrimParams;
