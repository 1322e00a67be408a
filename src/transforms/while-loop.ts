/**
 * `whileLoop`: a loop that runs while a condition on its carry holds, its
 * condition and body traced once and compiled once, eagerly and under `jit`.
 *
 * `whileLoop(cond, body, init)` is one `while` equation (`prims/while.ts`)
 * whatever the number of steps, which only the values decide: the executor
 * runs the compiled condition, then the compiled body, until the condition
 * is false. Captured values of enclosing traces become operands, as in
 * `scan` (whose tracing of a body it shares). Forward only, like JAX: a
 * derivative through it is an error that says so. Under `vmap` it runs while
 * any example's condition holds, and an example whose condition has failed
 * keeps its carry (`select`), so each example ends where its own loop would
 * (JAX's batching of `while_loop`).
 *
 * The final carry is packed into one vector (a primitive has one result):
 * in the carry's dtype when its leaves share one, else in float64, which
 * holds every float32, int32 and bool value exactly.
 */

import { allocate, type DType } from "../core/dtype.js";
import { shapeError } from "../core/errors.js";
import { formatShape, shapeSize } from "../core/shape.js";
import { flattenTree, unflattenTree, type Tree } from "../core/tree.js";
import { Tensor } from "../core/tensor.js";
import { compileProgram, type Executable } from "../ir/fusion/execute.js";
import { batchAt, moveAxis } from "../prims/batching.js";
import { bind } from "../prims/bind.js";
import { broadcastInDim, cast, compare, reshape, scalar, select } from "../prims/lax.js";
import type { WhileParams } from "../prims/params.js";
import type { AnyTensor, Aval, BatchDim } from "../prims/types.js";
import { apply, aval, join, traceBody, unpack, type Body } from "./scan.js";
import { vmapFlat } from "./vmap.js";

/** The dtype the final carry is packed in: the leaves' one dtype, else float64 (exact for every other dtype). */
function packDType(carry: readonly Aval[]): DType {
  const first = carry[0]?.dtype ?? "float32";
  return carry.every((a) => a.dtype === first) ? first : "float64";
}

/** The condition traced as a body with the carry unchanged and the flag as its one output. */
function traceCond(cond: (carry: readonly AnyTensor[]) => AnyTensor, carry: readonly Aval[]): { body: Body; captured: AnyTensor[] } {
  const traced = traceBody((c) => [c, [cond(c)]], carry, [], "whileLoop");
  const flag = traced.body.yAvals[0];
  if (flag === undefined || flag.dtype !== "bool" || flag.shape.length !== 0) {
    shapeError("whileLoop", `the condition must be a bool scalar, got ${flag === undefined ? "nothing" : `${flag.dtype}${formatShape(flag.shape)}`}`);
  }
  return traced;
}

/**
 * Runs `body` on the carry while `cond` holds, as one `while` equation: the
 * final carry, leaf for leaf.
 */
export function whileFlat(cond: (carry: readonly AnyTensor[]) => AnyTensor, body: (carry: readonly AnyTensor[]) => readonly AnyTensor[], init: readonly AnyTensor[]): AnyTensor[] {
  const { inputs, params } = whileEquation(cond, body, init);
  return unpack(bind("while", inputs, params), init.map((x) => x.shape)).map((x, i) => cast(x, init[i]?.dtype ?? x.dtype));
}

/** The `while` equation of a loop, unbound: its operands (captured values, `init`) and its parameters. */
export function whileEquation(
  cond: (carry: readonly AnyTensor[]) => AnyTensor,
  body: (carry: readonly AnyTensor[]) => readonly AnyTensor[],
  init: readonly AnyTensor[],
): { inputs: AnyTensor[]; params: WhileParams } {
  const carry = init.map(aval);
  const c = traceCond(cond, carry);
  const b = traceBody((x) => [body(x), []], carry, [], "whileLoop");
  const inputs = [...c.captured, ...b.captured, ...init];
  return { inputs, params: whileParams(c.body, b.body, inputs.map(aval)) };
}

/** The parameters of a `while` equation of `cond` and `body`: its rules, closed over the two programs. */
function whileParams(cond: Body, body: Body, operands: readonly Aval[]): WhileParams {
  const [nCond, nBody, nc] = [cond.nConsts, body.nConsts, body.nCarry];
  const carryAvals = operands.slice(nCond + nBody);
  const dtype = packDType(carryAvals);
  const size = carryAvals.reduce((n, a) => n + shapeSize(a.shape), 0);
  let condExe: Executable | undefined;
  let bodyExe: Executable | undefined;
  return {
    condEqns: cond.program.eqns.length,
    bodyEqns: body.program.eqns.length,
    signature: { operands },
    out: { shape: [size], dtype },
    run: (inputs) => {
      condExe ??= compileProgram(cond.program);
      bodyExe ??= compileProgram(body.program);
      const condConsts = inputs.slice(0, nCond);
      const bodyConsts = inputs.slice(nCond, nCond + nBody);
      let carry = inputs.slice(nCond + nBody);
      while (condExe([...condConsts, ...carry])[nc]?.data[0] === 1) carry = bodyExe([...bodyConsts, ...carry]).slice(0, nc);
      const packed = allocate(dtype, size);
      let at = 0;
      for (const x of carry) {
        packed.set(x.data, at);
        at += x.data.length;
      }
      return new Tensor([size], dtype, packed);
    },
    batch: (inputs, dims, n) => whileBatch(cond, body, inputs, dims, n, dtype),
  };
}

/**
 * A while loop on a batch: every carry is batched (a shared one is
 * broadcast), the loop runs while any example's condition holds, and the
 * body's result replaces an example's carry only where its condition holds.
 */
function whileBatch(cond: Body, body: Body, inputs: readonly AnyTensor[], dims: readonly BatchDim[], size: number, dtype: DType): readonly [AnyTensor, BatchDim] {
  const [nCond, nBody] = [cond.nConsts, body.nConsts];
  const batched = inputs.filter((_, i) => (dims[i] ?? null) !== null);
  const consts = inputs.slice(0, nCond + nBody).map((x, i) => {
    const at = dims[i] ?? null;
    return at === null ? x : moveAxis(x, at, 0);
  });
  const constDims = dims.slice(0, nCond + nBody).map((at) => (at === null || at === undefined ? null : 0));
  const init = inputs.slice(nCond + nBody).map((x, i) => batchAt(x, dims[nCond + nBody + i] ?? null, size, 0, batched));
  const atZero = (k: number): BatchDim[] => new Array<BatchDim>(k).fill(0);
  // each example's condition, a bool [size]
  const holds = (c: readonly AnyTensor[]): AnyTensor => {
    const [flag] = vmapFlat((all) => apply(cond, all).slice(cond.nCarry), [...consts.slice(0, nCond), ...c], [...constDims.slice(0, nCond), ...atZero(c.length)], atZero, (i) => `whileLoop operand ${i}`);
    if (flag === undefined) throw new Error("whileLoop: the condition gave no flag");
    return flag;
  };
  const leaves = whileFlat(
    // any example's condition: max over the batch of the flags as 0 or 1
    (c) => compare("gt", bind("reduce_max", [cast(holds(c), "int32")], { axes: [0] }), scalar(0, "int32")),
    (c) => {
      const go = holds(c);
      const next = vmapFlat((all) => apply(body, all).slice(0, body.nCarry), [...consts.slice(nCond), ...c], [...constDims.slice(nCond), ...atZero(c.length)], atZero, (i) => `whileLoop operand ${i}`);
      return next.map((x, i) => {
        const old = c[i] ?? x;
        return select(broadcastInDim(go, x.shape, [0]), x, old);
      });
    },
    init,
  );
  const rows = leaves.map((x) => reshape(cast(x, dtype), [size, shapeSize(x.shape.slice(1))]));
  return [rows.length === 0 ? new Tensor([size, 0], dtype, allocate(dtype, 0)) : join(rows, dtype, 1), 0];
}

/**
 * Runs `body` while `cond(carry)` holds and returns the last carry. The
 * condition and the body are traced once and compiled once, eagerly and
 * under `jit` (one equation in a jitted program, whatever the number of
 * steps); under `vmap` it runs while any example's condition holds, each
 * example keeping its carry once its own condition fails. Forward only,
 * like JAX: `grad` or `jvp` through it is an error that says so; use
 * `foriLoop` or `scan` for a fixed number of steps.
 *
 * @example
 * // the first power of two above 100: 128
 * const y = whileLoop((c: Tensor<[]>) => less(c, scalar(100)), (c) => mul(c, scalar(2)), scalar(1));
 */
export function whileLoop<C extends Tree>(cond: (carry: C) => Tensor<[], "bool">, body: (carry: C) => NoInfer<C>, init: C): C {
  const c = flattenTree(init, "whileLoop carry");
  const leaves = whileFlat(
    (carry) => cond(unflattenTree(c.def, carry)),
    (carry) => {
      const out = flattenTree(body(unflattenTree(c.def, carry)), "whileLoop body carry");
      if (JSON.stringify(out.def) !== JSON.stringify(c.def)) shapeError("whileLoop", "the body returned a carry of another structure than init");
      return out.leaves;
    },
    c.leaves,
  );
  return unflattenTree(c.def, leaves);
}
