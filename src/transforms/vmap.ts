/**
 * `vmap(f, { inAxes, outAxes })`: `f` written for one example, run on a
 * batch of them at once.
 *
 * A `BatchTrace` carries a (value, batch axis) pair on each tensor it
 * follows: the value holds every example, stacked on that axis, while the
 * tensor `f` sees has the shape of one example. Each primitive is applied by
 * its batching rule (the `batch` slot of its definition), which binds the
 * primitive on the whole batch and says where the batch lands; a value that
 * is the same for every example (an unmapped argument, a constant) stays
 * unbatched and costs nothing until it meets a batched one. The idea is
 * JAX's `BatchTrace` (`batching.py`, Autodidax's vmap); the code is ours.
 * Because rules bind, vmap composes with every transform in any order
 * (vmap of grad gives per-example gradients; jit of vmap compiles the
 * batched program). The types add each level's dim for up to three nested
 * `vmap`s (`Vmapped`, `Vmapped2`, `Vmapped3`). Left out: `outAxes` per
 * output (one axis for every leaf of the result), `axisName` collectives,
 * and the types of a fourth nested level (its inner dims are `Dim`).
 */

import { ShapeError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { formatShape, normalizeAxis, type Dim, type Shape, type ShowDim, type ShowShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { flattenTree, unflattenTree, type Tree, type TreeDef } from "../core/tree.js";
import { vmapShape, type VmapShape } from "../core/rules/vmap.js";
import { batchAt, moveAxis } from "../prims/batching.js";
import { bind, Trace, withTrace, type Tracer } from "../prims/bind.js";
import { zerosLike } from "../prims/lax.js";
import type { JitInfo } from "./jit.js";
import { primitives } from "../prims/registry.js";
import type { PrimName, PrimParams } from "../prims/params.js";
import type { AnyTensor, Aval, BatchDim, BatchRule } from "../prims/types.js";

interface BatchTracer extends Tracer {
  readonly value: AnyTensor;
  readonly dim: number;
}

/** The trace of `vmap`: every tensor it follows holds a batch of `size` examples. */
export class BatchTrace extends Trace {
  constructor(
    level: number,
    readonly size: number,
  ) {
    super(level);
  }

  /** A tensor that stands for one example of `value`, whose batch is on axis `dim` (`value` itself when unbatched). */
  pack(value: AnyTensor, dim: BatchDim): AnyTensor {
    if (dim === null) return value;
    const tracer: BatchTracer = { level: this.level, trace: this, value, dim };
    return new Tensor(
      value.shape.filter((_, i) => i !== dim),
      value.dtype,
      undefined,
      tracer,
    );
  }

  /** The batched value of `x` and its batch axis, as this trace sees it. */
  unpack(x: AnyTensor): [AnyTensor, BatchDim] {
    const t = this.own<BatchTracer>(x);
    return t === undefined ? [x, null] : [t.value, t.dim];
  }

  process<K extends PrimName>(prim: K, inputs: readonly AnyTensor[], params: PrimParams[K]): AnyTensor {
    const pairs = inputs.map((x) => this.unpack(x));
    const values = pairs.map(([v]) => v);
    const dims = pairs.map(([, d]) => d);
    if (dims.every((d) => d === null)) return bind(prim, values, params);
    const rule = primitives[prim] as { shape: (inputs: readonly Aval[], params: PrimParams[K]) => Aval; batch: BatchRule<PrimParams[K]> }; // primitives[K] takes PrimParams[K]
    // the example's shapes pass the primitive's own checks first, so its errors name them
    const example = rule.shape(inputs, params);
    if (this.size === 0) return this.pack(zerosLike({ shape: [0, ...example.shape], dtype: example.dtype }), 0);
    const [out, dim] = rule.batch(values, dims, params, this.size);
    if (dim !== null && (out.shape[dim] !== this.size || out.shape.filter((_, i) => i !== dim).join() !== example.shape.join())) {
      throw new Error(`vmap: the batching rule of ${prim} gave ${formatShape(out.shape)} with its batch on axis ${dim}, not ${formatShape(example.shape)} for each of ${this.size} examples`);
    }
    return this.pack(out, dim);
  }
}

/** The axis of each leaf of a tree of structure `def`, from its in-axes `spec` (one axis, or a prefix of the tree). */
function leafAxes(spec: AxisTree, def: TreeDef, at: string): BatchDim[] {
  if (spec === null || typeof spec === "number") return new Array<BatchDim>(leafCount(def)).fill(spec);
  const mismatch = (): never => {
    throw new ShapeError(`vmap: the inAxes of ${at} do not follow its structure`);
  };
  if (Array.isArray(spec)) {
    const parts: readonly AxisTree[] = spec;
    if (def.kind !== "array" || def.children.length !== parts.length) return mismatch();
    return def.children.flatMap((c, i) => leafAxes(parts[i] ?? null, c, `${at}[${i}]`));
  }
  const record = spec as { readonly [key: string]: AxisTree }; // neither null, a number nor an array: the record case of AxisTree
  const keys = Object.keys(record).sort();
  if (def.kind !== "record" || keys.join() !== def.keys.join()) return mismatch();
  return def.children.flatMap((c, i) => leafAxes(record[def.keys[i] ?? ""] ?? null, c, `${at}.${def.keys[i] ?? ""}`));
}

/** The number of leaves of a tree of structure `def`. */
const leafCount = (def: TreeDef): number => (def.kind === "leaf" ? 1 : def.children.reduce((n, c) => n + leafCount(c), 0));

/** Normalises an axis against `rank` (-1 is the last), or throws a `ShapeError` naming vmap and `what`. */
const axisIn = (axis: number, rank: number, what: string): number => normalizeAxis(`vmap ${what}`, axis, rank);

/**
 * Runs `f` on one example of each input (the batch of input `i` is on axis
 * `inDims[i]`, `null` for an input shared by every example) and returns the
 * outputs with their batch on axis `outDims[i]` (`null`: an output that must
 * not depend on the example). `what` names the inputs in messages.
 */
export function vmapFlat(
  f: (inputs: readonly AnyTensor[]) => readonly AnyTensor[],
  inputs: readonly AnyTensor[],
  inDims: readonly BatchDim[],
  outDims: (count: number) => readonly BatchDim[],
  what: (i: number) => string = (i) => `input ${i}`,
): AnyTensor[] {
  let size: number | undefined;
  let first = -1;
  const dims = inputs.map((x, i) => {
    const d = inDims[i] ?? null;
    if (d === null) return null;
    const axis = axisIn(d, x.shape.length, what(i));
    const n = x.shape[axis] ?? 0;
    if (size === undefined) [size, first] = [n, i];
    else if (n !== size) {
      throw new ShapeError(`vmap: ${what(i)} has ${n} examples on axis ${axis} but ${what(first)} has ${size} (mapped sizes must agree)`);
    }
    return axis;
  });
  if (size === undefined) throw new ShapeError("vmap: no argument is mapped (give inAxes a number for at least one)");
  const batch = size;
  return withTrace(
    (level) => new BatchTrace(level, batch),
    (trace) => {
      const outs = f(inputs.map((x, i) => trace.pack(x, dims[i] ?? null)));
      const targets = outDims(outs.length);
      return outs.map((y, i) => {
        const [value, d] = trace.unpack(y);
        const target = targets[i] ?? null;
        if (target === null) {
          if (d !== null) throw new ShapeError(`vmap: output ${i} depends on the example, but its outAxes is null`);
          return value;
        }
        const shape = vmapShape(y.shape, target, batch); // checks the axis, as the type's VmapShape does
        const to = target < 0 ? target + shape.length : target;
        return d === null ? batchAt(value, null, batch, to, inputs) : moveAxis(value, d, to);
      });
    },
  );
}

/** Where an argument's examples are: an axis, or `null` for an argument shared by every example. */
export type InAxis = number | null;

/**
 * The in-axes of one argument: one axis for all its leaves, or a prefix of
 * its tree (an array or record of the same structure) with an axis for each
 * part: `{ w: 0, b: null }` maps `w` and shares `b`.
 */
export type AxisTree = InAxis | readonly AxisTree[] | { readonly [key: string]: AxisTree };

/** The options of `vmap`. */
export interface VmapOptions<In extends InAxis | readonly AxisTree[], Out extends InAxis> {
  /** The axis of each argument's examples: one for all arguments, or one per argument (an `AxisTree`); default 0. */
  readonly inAxes?: In;
  /** Where the examples go in every leaf of the result; default 0. `null` for a result that is the same for every example. */
  readonly outAxes?: Out;
}

/**
 * The tree `T` of one example with the batch dim `B` added to every leaf at
 * `Axis` (`T` itself for `null`); a leaf whose axis is out of range is the
 * `ShapeError` saying so.
 *
 * @example
 * type P = Batched<{ w: Tensor<[3, 2]> }, 0, 32>; // { w: Tensor<[32, 3, 2]> }
 */
export type Batched<T, Axis, B extends Dim> = Axis extends number
  ? T extends Tensor<Shape, DType>
    ? BatchedLeaf<VmapShape<T["shapeType"], Axis, B>, T["dtype"]>
    : { [K in keyof T]: Batched<T[K], Axis, B> }
  : Axis extends null
    ? T
    : T extends Tensor<Shape, DType>
      ? ShapeError<"vmap: the inAxes of an argument do not follow its structure">
      : { [K in keyof T]: K extends keyof Axis ? Batched<T[K], Axis[K], B> : ShapeError<"vmap: the inAxes of an argument do not follow its structure"> }; // an axis tree: part by part

type BatchedLeaf<S, D extends DType> = S extends Shape ? Tensor<S, D> : S;

/** The axis of argument `K` in `In` (one for all, or one per argument). */
type AxisOf<In, K> = In extends readonly unknown[] ? In[K & keyof In] : In;

/** The index of the first mapped argument, as a key of the arguments' tuple. */
type FirstMapped<In, I extends unknown[] = []> = In extends readonly [infer H, ...infer T] ? (H extends number ? `${I["length"]}` : FirstMapped<T, [...I, H]>) : "0";

/**
 * One `vmap` of a nest: its `inAxes` and `outAxes`. A function mapped `n`
 * times carries `n` levels, innermost first, and its call signature one
 * batch dim per level, in the same order.
 */
export type VmapLevel = readonly [In: unknown, Out: unknown];

/**
 * The stand-in for the batch dim of level `N` while the levels' shapes are
 * computed: a literal, so that every shape rule resolves (a rule applied to a
 * shape that holds a caller's generic dim would stay unresolved, and nothing
 * could be inferred through it). `WithDims` then puts the caller's dims in.
 */
type LevelDim<N extends number> = `vmap level ${N}`;

/** Argument `K` of type `T` with a stand-in dim for each level added at that level's `inAxes` (innermost first). */
type NestArg<T, K, L extends readonly VmapLevel[], I extends readonly unknown[] = []> = L extends readonly [infer Lv extends VmapLevel, ...infer LRest extends readonly VmapLevel[]]
  ? NestArg<Batched<T, AxisOf<Lv[0], K>, LevelDim<I["length"]>>, K, LRest, [...I, Lv]>
  : T;

/** The result `R` with a stand-in dim for each level added at that level's `outAxes` (innermost first). */
type NestOut<R, L extends readonly VmapLevel[], I extends readonly unknown[] = []> = L extends readonly [infer Lv extends VmapLevel, ...infer LRest extends readonly VmapLevel[]]
  ? NestOut<Batched<R, Lv[1], LevelDim<I["length"]>>, LRest, [...I, Lv]>
  : R;

/** The tree `T` with each level's stand-in dim replaced by that level's dim in `Bs`. */
type WithDims<T, Bs extends readonly Dim[]> = T extends ShapeError
  ? T
  : T extends Tensor<infer S, infer D>
    ? Tensor<{ [I in keyof S]: S[I] extends LevelDim<infer N> ? Bs[N] : S[I] }, D>
    : { [K in keyof T]: WithDims<T[K], Bs> };

/**
 * The dims argument `K` carries: at a level where it is not the first
 * mapped argument its dim is not inferred from it (`NoInfer`), so a
 * different literal is a mismatch, not a second candidate.
 */
type ArgDims<K, L extends readonly VmapLevel[], Bs extends readonly Dim[]> = { [I in keyof Bs]: K extends FirstMapped<L[I & keyof L][0]> ? Bs[I] : NoInfer<Bs[I]> };

/**
 * The batched argument `T` with the messages a caller sees: at each level
 * where it is the first mapped argument, the error naming its leaves'
 * different dims (`OneBatch`); where it is a later mapped one, the error
 * naming the first's dims (`SameBatch`).
 */
type NestChecks<T, K, L extends readonly VmapLevel[], Bs extends readonly Dim[]> = SameBatch<FirstChecks<T, K, L, Bs>, LaterDims<K, L, Bs>>;

/** `T` wrapped in `OneBatch` for each level where argument `K` is the first mapped one. */
type FirstChecks<T, K, L extends readonly VmapLevel[], Bs extends readonly Dim[]> = L extends readonly [infer Lv extends VmapLevel, ...infer LRest extends readonly VmapLevel[]]
  ? Bs extends readonly [infer B extends Dim, ...infer BRest extends readonly Dim[]]
    ? FirstChecks<K extends FirstMapped<Lv[0]> ? OneBatch<T, B> : T, K, LRest, BRest>
    : never
  : T;

/** The dims of the levels where argument `K` is mapped but not first, outermost first. */
type LaterDims<K, L extends readonly VmapLevel[], Bs extends readonly Dim[], Acc extends readonly Dim[] = []> = L extends readonly [infer Lv extends VmapLevel, ...infer LRest extends readonly VmapLevel[]]
  ? Bs extends readonly [infer B extends Dim, ...infer BRest extends readonly Dim[]]
    ? LaterDims<K, LRest, BRest, K extends FirstMapped<Lv[0]> ? Acc : AxisOf<Lv[0], K> extends number ? [B, ...Acc] : Acc>
    : never
  : Acc;

/** The result `R` with the batch dim of each level (`Bs`, innermost first) added at that level's `outAxes`. */
export type NestResult<R, L extends readonly VmapLevel[], Bs extends readonly Dim[]> = WithDims<NestOut<R, L>, Bs>;

/**
 * The arguments of a function with arguments `Args` mapped by the levels
 * `L` (innermost first) with batch dims `Bs`: each batched at its `inAxes`
 * entry of every level. A level's dim is inferred from its first mapped
 * argument; the others must have the same (a literal that differs does not
 * compile, and the error names vmap and the first argument's dim).
 */
export type NestArgs<Args extends readonly unknown[], L extends readonly VmapLevel[], Bs extends readonly Dim[]> = {
  [K in keyof Args]: NestChecks<WithDims<NestArg<Args[K], K, L>, ArgDims<K, L, Bs>>, K, L, Bs>;
};

/** The arguments of `vmap(f)` for `f`'s arguments `Args`: each batched at its `inAxes` entry with the batch dim `B`. */
export type VmapArgs<Args extends readonly unknown[], In, B extends Dim> = NestArgs<Args, [[In, unknown]], [B]>;

/**
 * The first mapped argument's type, or, when its leaves gave different batch
 * dims (`B` inferred as a union of them), the error naming each of them.
 */
type OneBatch<T, B extends Dim> = number extends B // an unknown dim matches any other
  ? T
  : IsSingle<B> extends true
    ? T
    : ShapeError<`vmap: the leaves of the first mapped argument have different batch dims, one of them ${ShowDim<B>}`>;

/** True unless `D` is a union of several literals. */
type IsSingle<D, All = D> = D extends unknown ? ([All] extends [D] ? true : false) : never;

/**
 * A later mapped argument's type, with the message a caller sees when its
 * batch dims (`Ds`, outermost first) differ from the first mapped
 * argument's: no tensor is a `ShapeError`, so the union admits exactly the
 * batched type.
 */
type SameBatch<T, Ds extends readonly Dim[]> = Ds extends readonly []
  ? T
  : Ds extends readonly [infer B]
    ? T | ShapeError<`vmap: a mapped argument must be its example's type with the first mapped argument's batch dim ${ShowDim<B>} added`>
    : T | ShapeError<`vmap: a mapped argument must be its example's type with the first mapped arguments' batch dims ${ShowShape<Ds>} added (outermost first)`>;

/*
 * How nesting is typed: a vmapped function is generic in its batch dim, and
 * `vmap` of such a function (`VmapOf`) recognises it by its alias
 * (`Vmapped`, `Vmapped2`) and gives a function generic in one dim more, so
 * that every level's dim is the caller's. Every level's shapes are computed
 * with a literal stand-in for its dim (`LevelDim`) and the caller's dims put
 * in at the end (`WithDims`): a shape rule applied to a shape that already
 * holds a generic dim stays unresolved, and nothing is inferred through it.
 *
 * NOTE: the `in out` (invariant) annotations on `Vmapped` to `Vmapped4` are
 * load-bearing. Without them the first comparison of two
 * different instantiations makes TypeScript measure each parameter's
 * variance through the generic signature, which hits "type instantiation is
 * excessively deep" (TS2589) at whatever line happens to be checked first.
 */

/** `f` mapped by `vmap`: a batch of each mapped argument in, the batched result out. */
export type Vmapped<in out Args extends readonly unknown[], in out R, in out In, in out Out> = <B extends Dim>(...args: NestArgs<Args, [[In, Out]], [B]>) => NestResult<R, [[In, Out]], [B]>;

/** `f` mapped by two nested `vmap`s (levels `L`, innermost first): a dim for each, `C` the inner's and `B` the outer's. */
export type Vmapped2<in out Args extends readonly unknown[], in out R, in out L extends readonly [VmapLevel, VmapLevel]> = <B extends Dim, C extends Dim>(...args: NestArgs<Args, L, [C, B]>) => NestResult<R, L, [C, B]>;

/** `f` mapped by three nested `vmap`s (levels `L`, innermost first): `D` the innermost dim, `B` the outermost. */
export type Vmapped3<in out Args extends readonly unknown[], in out R, in out L extends readonly [VmapLevel, VmapLevel, VmapLevel]> = <B extends Dim, C extends Dim, D extends Dim>(
  ...args: NestArgs<Args, L, [D, C, B]>
) => NestResult<R, L, [D, C, B]>;

/** `f` mapped by four nested `vmap`s (levels `L`, innermost first): `E` the innermost dim, `B` the outermost. */
export type Vmapped4<in out Args extends readonly unknown[], in out R, in out L extends readonly [VmapLevel, VmapLevel, VmapLevel, VmapLevel]> = <B extends Dim, C extends Dim, D extends Dim, E extends Dim>(
  ...args: NestArgs<Args, L, [E, D, C, B]>
) => NestResult<R, L, [E, D, C, B]>;

/**
 * The type of `vmap(f, { inAxes: In, outAxes: Out })`: one level more on a
 * function `vmap` gave (up to four levels, each with its own batch dim),
 * else the first level on `f`'s arguments and result. A fifth level on a
 * four-level function maps its arguments at their constraint (`Dim` for the
 * inner dims).
 */
export type VmapOf<F, In, Out> = F extends JitInfo & infer G ? LevelUp<G, In, Out> : LevelUp<F, In, Out>;

/** `VmapOf` of a function without `JitInfo` (which `jit` adds to its function's type, a vmapped one included). */
type LevelUp<F, In, Out> =
  F extends Vmapped<infer Args, infer R, infer I, infer O>
    ? Vmapped2<Args, R, [[I, O], [In, Out]]>
    : F extends Vmapped2<infer Args, infer R, infer L>
      ? Vmapped3<Args, R, [...L, [In, Out]]>
      : F extends Vmapped3<infer Args, infer R, infer L>
        ? Vmapped4<Args, R, [...L, [In, Out]]>
        : F extends (...args: infer Args) => infer R
          ? Vmapped<Args, R, In, Out>
          : never;

/** `F` when its arguments are trees of tensors (a `ShapeError` in a parameter is a message for callers, as vmap's carry), else an error type naming the rule. */
export type VmapInput<F extends (...args: never[]) => Tree> = Parameters<F> extends readonly (Tree | ShapeError)[] ? F : ShapeError<"vmap: every argument must be a tree of tensors">;

/**
 * `f` mapped over a batch: the `B` examples of each mapped argument (on its
 * `inAxes` axis) are run through `f` together, and every leaf of the result
 * gets a dim of `B` (at `outAxes`). The type shows the added dim:
 * `(x: Tensor<[784]>) => Tensor<[10]>` becomes
 * `(x: Tensor<[B, 784]>) => Tensor<[B, 10]>` for the caller's `B` (a
 * literal, a symbolic dim or `number`); mapped arguments of different
 * literal sizes do not compile, and different sizes at run time throw a
 * `ShapeError` naming both. `vmap` of a vmapped function adds a second dim
 * of the caller's, and a third and a fourth (`vmap(vmap(f))` takes `Tensor<[B, C, 784]>`).
 *
 * @example
 * const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] });
 * perExample(params, images, labels); // one gradient per example: params' type with a leading B on each leaf
 */
export function vmap<F extends (...args: never[]) => Tree, const In extends InAxis | readonly AxisTree[] = 0, const Out extends InAxis = 0>(
  f: VmapInput<F>,
  options?: VmapOptions<In, Out>,
): VmapOf<F, In, Out>;
// The implementation takes and returns `unknown` so that it is compatible with the overload's checked signature. Its result's
// type (`VmapOf`) is sound because `mapped` maps every leaf of every argument over its axis, calls f once on the unbatched
// leaves and puts the mapped dim back at `outAxes` on every leaf of the result: exactly the dims `NestArgs`/`NestResult` add.
export function vmap(fn: unknown, options: VmapOptions<InAxis | readonly AxisTree[], InAxis> = {}): unknown {
  const f = fn as (...args: readonly Tree[]) => Tree; // VmapInput admits only functions of trees
  // NOTE: not `??`, which would read an explicit null (unmapped) as the default 0
  const inAxes: InAxis | readonly AxisTree[] = options.inAxes === undefined ? 0 : options.inAxes;
  const outAxis: InAxis = options.outAxes === undefined ? 0 : options.outAxes;
  const mapped = (...args: readonly Tree[]): Tree => {
    if (typeof inAxes === "object" && inAxes !== null && inAxes.length !== args.length) {
      throw new ShapeError(`vmap: inAxes has ${inAxes.length} entries for ${args.length} arguments`);
    }
    const parts = args.map((a, i) => flattenTree(a, `vmap argument ${i}`));
    const owner = parts.flatMap((p, i) => p.leaves.map(() => i));
    const dims = parts.flatMap((p, i) => leafAxes(typeof inAxes === "object" && inAxes !== null ? (inAxes[i] ?? null) : inAxes, p.def, `argument ${i}`));
    let outDef = flattenTree([]).def;
    const outs = vmapFlat(
      (leaves) => {
        let at = 0;
        const example = parts.map((p) => unflattenTree<Tree>(p.def, leaves.slice(at, (at += p.leaves.length))));
        const flat = flattenTree(f(...example), "vmap result");
        outDef = flat.def;
        return flat.leaves;
      },
      parts.flatMap((p) => p.leaves),
      dims,
      (count) => new Array<BatchDim>(count).fill(outAxis),
      (i) => `argument ${owner[i] ?? i}`,
    );
    return unflattenTree<Tree>(outDef, outs);
  };
  return mapped;
}
