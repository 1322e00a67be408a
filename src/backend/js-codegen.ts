/**
 * The code generator: one JavaScript function per loop nest.
 *
 * The nest is first simplified: axes of size 1 are dropped, and neighbouring
 * axes merge wherever every read and write steps through them as one
 * (`coalesce`), so a nest whose accesses are all contiguous or scalar becomes
 * one flat loop. What remains is printed as nested loops in row-major order
 * (the output is contiguous along the innermost one) with incremental
 * pointers: each access keeps one running offset per loop that moves it.
 * Every node is a `const` local placed in the outermost loop whose index it
 * depends on (reads of a broadcast row are hoisted out of the inner loop), and
 * every scalar op's result is rounded to its dtype as eager evaluation rounds
 * it, so generated code agrees with eager bit for bit (the one exception to
 * "print the op's `expr`" is float32 `tanh`, whose checked fast path in
 * `fast-math.ts` gives the same bits). A reduction whose axes are innermost
 * keeps a scalar accumulator per output element; otherwise it accumulates
 * into a float64 scratch array in the same order. When the innermost loop
 * holds a fast-path node, it runs in blocks of three loops (what the node
 * needs, the node, the rest), which keeps each loop's chain of dependent
 * operations short enough for the processor to overlap elements.
 *
 * What reaches the source: names from fixed tables (the scalar ops' `expr`,
 * `roundExpr`, `localName`, the fast paths) and integers checked by
 * `safeInt`. Constant values are read from the constants array when the
 * kernel runs; op parameters only choose among fixed fragments.
 * Compiled kernels are cached by `nestKey`. Left out: WebAssembly, SIMD, and
 * loop reordering for transposed reads.
 */

import type { DType } from "../core/dtype.js";
import { shapeSize } from "../core/shape.js";
import {
  emptyReduction,
  nestKey,
  operandDType,
  outputDType,
  outputMap,
  outputShape,
  validateNest,
  type IndexMap,
  type Kernel,
  type LoopNest,
  type ReduceOp,
} from "./loop-ir.js";
import { compileKernel, selectLoopKernel } from "./compile.js";
import type { FastPath } from "./fast-math.js";
import { localName, safeInt } from "./generated-names.js";
import { roundExpr, scalarOpRow } from "./scalar-ops.js";

/** A generated kernel, with what it was made of (for inspection and tests). */
export interface GeneratedKernel {
  /** The cache key: the nest's structure, shapes and dtypes. */
  readonly key: string;
  /** The source compiled: table setup, then `return function kernel(b, k) {...}` of buffers and constants. */
  readonly source: string;
  /** How many loops deep the generated code nests (0 for a single element, 1 for a flat loop). */
  readonly depth: number;
  readonly run: Kernel;
}

/** One read or write, after coalescing: an offset and a stride per loop. */
interface Access {
  readonly offset: number;
  readonly strides: number[];
}

/** The loops after coalescing: their sizes, whether each reduces, and every access's strides. */
interface Loops {
  readonly sizes: number[];
  readonly reduced: boolean[];
  readonly accesses: Access[];
}

/**
 * Drops axes of size 1 and merges axis `d` into `d + 1` wherever every access
 * has `stride[d] = stride[d + 1] * size[d + 1]` and both reduce or neither.
 */
function coalesce(shape: readonly number[], reducedAxes: readonly number[], maps: readonly IndexMap[]): Loops {
  const keep = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  const accesses: Access[] = maps.map((m) => ({ offset: m.offset, strides: [] }));
  for (const d of [...keep].reverse()) {
    const size = shape[d] ?? 1;
    const reduces = reducedAxes.includes(d);
    const inner = sizes[0];
    const mergeable =
      inner !== undefined && reduced[0] === reduces && maps.every((m, a) => (m.strides[d] ?? 0) === (accesses[a]?.strides[0] ?? 0) * inner);
    if (mergeable) {
      sizes[0] = inner * size;
    } else {
      sizes.unshift(size);
      reduced.unshift(reduces);
      maps.forEach((m, a) => accesses[a]?.strides.unshift(m.strides[d] ?? 0));
    }
  }
  return { sizes, reduced, accesses };
}

/** How many elements a fissioned innermost loop handles per block. */
const FISSION_BLOCK = 512;

/** Collects the lines of a function body with indentation. */
class Lines {
  readonly #lines: string[] = [];
  #indent = 1;
  push(line: string): void {
    this.#lines.push(`${"  ".repeat(this.#indent)}${line}`);
  }
  open(line: string): void {
    this.push(line);
    this.#indent++;
  }
  close(): void {
    this.#indent--;
    this.push("}");
  }
  text(): string {
    return this.#lines.join("\n");
  }
}

// The printed twins of `accumulate` and `REDUCE_START` (loop-ir.ts).
const ACCUMULATE: Readonly<Record<ReduceOp, (acc: string, v: string) => string>> = {
  sum: (acc, v) => `${acc} += ${v};`,
  max: (acc, v) => `if (${v} > ${acc} || ${v} !== ${v}) ${acc} = ${v};`,
};
const START: Readonly<Record<ReduceOp, string>> = { sum: "-0", max: "-Infinity" };

/** `emptyReduction` printed: the value of a reduction over no element. */
function emptyValue(op: ReduceOp, dtype: DType): string {
  const v = emptyReduction(op, dtype);
  return Number.isFinite(v) ? safeInt(v) : "-Infinity";
}

/** The source of a function that makes the kernel of `nest` (which must be valid), and its loop depth. */
function generateSource(nest: LoopNest): { source: string; depth: number } {
  const lines = new Lines();
  const prologue: string[] = [];
  const source = (): string => [...prologue, "return function kernel(b, k) {", lines.text(), "};"].join("\n");
  const nInputs = nest.inputs.length;
  nest.inputs.forEach((_, i) => lines.push(`const ${localName("x", i)} = b[${safeInt(i)}];`));
  nest.outputs.forEach((_, j) => lines.push(`const ${localName("o", j)} = b[${safeInt(nInputs + j)}];`));
  nest.constants.forEach((_, c) => lines.push(`const ${localName("c", c)} = k[${safeInt(c)}];`));

  if (shapeSize(nest.shape) === 0) {
    // No index to visit: only reductions over an empty axis have elements, each its start value.
    nest.outputs.forEach((out, j) => {
      if (out.reduce !== undefined && shapeSize(outputShape(nest, out)) > 0) lines.push(`${localName("o", j)}.fill(${emptyValue(out.reduce, outputDType(nest, out))});`);
    });
    return { source: source(), depth: 0 };
  }

  // Accesses: every read node (by node), then every output (by output).
  const readNodes = nest.nodes.flatMap((node, n) => (node.kind === "read" ? [{ n, map: node.map }] : []));
  const readAccess = new Map(readNodes.map((r, access) => [r.n, access]));
  const outMaps = nest.outputs.map((out) => outputMap(nest, out));
  const loops = coalesce(nest.shape, nest.reducedAxes, [...readNodes.map((r) => r.map), ...outMaps]);
  const depth = loops.sizes.length;
  const reducing = nest.outputs.some((out) => out.reduce !== undefined);
  // Reduced loops innermost: a scalar accumulator per output element, opened at loop `firstReduced`.
  const firstReduced = loops.reduced.indexOf(true);
  const innerReduce = !reducing || loops.reduced.every((r, d) => r === d >= firstReduced) || firstReduced < 0;
  const accLevel = firstReduced < 0 ? depth : firstReduced;

  // Pointers: accesses with equal offset and strides share them. `deep` is one past the last loop that moves it.
  const pointerIds = new Map<string, number>();
  const accessPointer = loops.accesses.map((a) => {
    const key = `${a.offset}:${a.strides.join(",")}`;
    let id = pointerIds.get(key);
    if (id === undefined) {
      id = pointerIds.size;
      pointerIds.set(key, id);
    }
    return id;
  });
  const pointers = [...pointerIds.keys()].map((_, id) => {
    const a = loops.accesses[accessPointer.indexOf(id)] ?? { offset: 0, strides: [] };
    let deep = 0;
    a.strides.forEach((s, d) => {
      if (s !== 0) deep = d + 1;
    });
    return { access: a, deep, name: safeInt(a.offset) };
  });
  const addressOf = (access: number): string => pointers[accessPointer[access] ?? -1]?.name ?? "0";

  // The level of a node: how many loops must be open before it can be computed.
  const level: number[] = [];
  nest.nodes.forEach((node, n) => {
    if (node.kind === "read") level[n] = pointers[accessPointer[readAccess.get(n) ?? -1] ?? -1]?.deep ?? 0;
    else if (node.kind === "const") level[n] = 0;
    else level[n] = Math.max(0, ...node.args.map((a) => level[a] ?? 0));
  });
  const valueName = (n: number): string => {
    const node = nest.nodes[n];
    return node?.kind === "const" ? localName("c", node.index) : localName("v", n);
  };
  let nextPointer = 0;
  let nextTemp = 0;
  // Tables of fast paths, built once when the kernel is made (see fast-math.ts).
  const tables = new Map<FastPath, string>();
  const tableFor = (fast: FastPath): string => {
    let name = tables.get(fast);
    if (name === undefined) {
      name = localName("m", tables.size);
      tables.set(fast, name);
      fast.prologue(name).forEach((l) => prologue.push(l));
    }
    return name;
  };

  // Nodes whose only use is an output stored element by element.
  const usedByNodes = new Set(nest.nodes.flatMap((node) => (node.kind === "op" ? node.args : [])));
  const reduced = new Set(nest.outputs.flatMap((out) => (out.reduce === undefined ? [] : [out.node])));
  const storedOnly = new Set(nest.outputs.map((out) => out.node).filter((n) => !usedByNodes.has(n) && !reduced.has(n)));

  const emitNodes = (at: number, only?: ReadonlySet<number>): void => {
    nest.nodes.forEach((node, n) => {
      if (level[n] !== at || node.kind === "const" || (only !== undefined && !only.has(n))) return;
      if (node.kind === "read") {
        lines.push(`const ${valueName(n)} = ${localName("x", node.input)}[${addressOf(readAccess.get(n) ?? -1)}];`);
        return;
      }
      const rule = scalarOpRow(node.op);
      const fast = node.dtype === "float32" ? rule.jsFloat32 : undefined;
      const x = node.args[0];
      if (fast !== undefined && x !== undefined) {
        fast.statements(valueName(x), valueName(n), tableFor(fast), () => localName("t", nextTemp++)).forEach((l) => lines.push(l));
        return;
      }
      const expr = rule.expr(node.args.map(valueName), operandDType(nest, node), node.params);
      // NOTE: a value only stored into a Float32Array or Int32Array is rounded by the store itself, exactly as `round` does.
      const storeRounds = storedOnly.has(n) && (node.dtype === "float32" || node.dtype === "int32");
      lines.push(`const ${valueName(n)} = ${storeRounds ? expr : roundExpr(node.dtype, expr)};`);
    });
  };
  const outputAccess = (j: number): number => readNodes.length + j;

  const emitInnermost = (): void => {
    nest.outputs.forEach((out, j) => {
      const v = valueName(out.node);
      if (out.reduce === undefined) lines.push(`${localName("o", j)}[${addressOf(outputAccess(j))}] = ${v};`);
      else if (innerReduce) lines.push(ACCUMULATE[out.reduce](localName("a", j), v));
      else {
        const s = localName("s", j);
        const at = addressOf(outputAccess(j));
        lines.push(out.reduce === "sum" ? `${s}[${at}] += ${v};` : `if (${v} > ${s}[${at}] || ${v} !== ${v}) ${s}[${at}] = ${v};`);
      }
    });
  };

  // Loop fission: when the innermost loop computes a fast-path node (a long chain of dependent
  // operations), it runs in blocks of three loops: what that node needs, the node, the rest.
  // Each loop is then short enough for the processor to overlap many elements.
  const inner = new Set(nest.nodes.flatMap((node, n) => (level[n] === depth && node.kind !== "const" ? [n] : [])));
  const isHeavy = (n: number): boolean => {
    const node = nest.nodes[n];
    return node?.kind === "op" && node.dtype === "float32" && scalarOpRow(node.op).jsFloat32 !== undefined;
  };
  const argsOf = (n: number): readonly number[] => {
    const node = nest.nodes[n];
    return node?.kind === "op" ? node.args : [];
  };
  const heavyBelow = new Set<number>(); // inner nodes with a heavy node among them or their inner arguments
  for (const n of inner) if (isHeavy(n) || argsOf(n).some((a) => heavyBelow.has(a))) heavyBelow.add(n);
  const stage2 = new Set([...inner].filter((n) => isHeavy(n) && argsOf(n).every((a) => !heavyBelow.has(a))));
  const stage1 = new Set<number>();
  const need = (n: number): void => {
    for (const a of argsOf(n)) {
      if (inner.has(a) && !stage1.has(a)) {
        stage1.add(a);
        need(a);
      }
    }
  };
  stage2.forEach(need);
  const stage3 = new Set([...inner].filter((n) => !stage1.has(n) && !stage2.has(n)));
  const usedIn = (n: number, stage: ReadonlySet<number>): boolean => [...stage].some((m) => argsOf(m).includes(n));
  const stored = new Set(nest.outputs.map((out) => out.node));
  // What a later loop of a block needs from an earlier one goes through a scratch array,
  // except reads for the last loop, which reads them again.
  const isRead = (n: number): boolean => nest.nodes[n]?.kind === "read";
  const crossing = [...stage1, ...stage2].filter((n) => usedIn(n, stage2) || (!isRead(n) && (usedIn(n, stage3) || stored.has(n))));
  const reread = [...stage1].filter((n) => isRead(n) && (usedIn(n, stage3) || stored.has(n)));
  const fission = !reducing && depth > 0 && stage2.size > 0;
  const blockSize = Math.min(FISSION_BLOCK, loops.sizes[depth - 1] ?? 0);
  if (fission) crossing.forEach((n) => lines.push(`const ${localName("n", n)} = new Float64Array(${safeInt(blockSize)});`));

  const emitFissioned = (d: number): void => {
    const i = localName("i", d);
    const block = localName("i", depth);
    const t = localName("i", depth + 1);
    const count = localName("t", nextTemp++);
    const size = safeInt(loops.sizes[d] ?? 0);
    const stageLoop = (stage: ReadonlySet<number>, walks: boolean, body: () => void): void => {
      const outer = pointers.map((p) => p.name);
      const steps: string[] = [];
      if (walks) {
        for (const p of pointers) {
          const stride = p.access.strides[d] ?? 0;
          if (d >= p.deep || stride === 0) continue;
          if (stride === 1) {
            p.name = p.name === "0" ? i : `${p.name} + ${i}`;
            continue;
          }
          const name = localName("j", nextPointer++);
          lines.push(`let ${name} = ${p.name} + ${block} * ${safeInt(stride)};`);
          p.name = name;
          steps.push(`${name} += ${safeInt(stride)}`);
        }
      }
      const counters = walks ? `let ${t} = 0, ${i} = ${block}` : `let ${t} = 0`;
      lines.open(`for (${counters}; ${t} < ${count}; ${[`${t}++`, ...(walks ? [`${i}++`] : []), ...steps].join(", ")}) {`);
      // values from earlier stages of this block
      const from = new Set([...stage].flatMap((n) => argsOf(n).filter((a) => crossing.includes(a) && !stage.has(a))));
      if (stage === stage3) {
        nest.outputs.forEach((out) => stored.has(out.node) && crossing.includes(out.node) && from.add(out.node));
        reread.forEach((n) => from.delete(n)); // read again below instead
      }
      from.forEach((a) => lines.push(`const ${valueName(a)} = ${localName("n", a)}[${t}];`));
      emitNodes(depth, stage === stage3 ? new Set([...stage, ...reread]) : stage);
      body();
      if (stage !== stage3) stage.forEach((n) => crossing.includes(n) && lines.push(`${localName("n", n)}[${t}] = ${valueName(n)};`));
      lines.close();
      pointers.forEach((p, id) => (p.name = outer[id] ?? p.name));
    };
    const b = safeInt(blockSize);
    lines.open(`for (let ${block} = 0; ${block} < ${size}; ${block} += ${b}) {`);
    lines.push(`const ${count} = ${size} - ${block} < ${b} ? ${size} - ${block} : ${b};`);
    stageLoop(stage1, true, () => undefined);
    stageLoop(stage2, false, () => undefined);
    stageLoop(stage3, true, emitInnermost);
    lines.close();
  };

  const emitLevel = (d: number): void => {
    emitNodes(d);
    if (reducing && innerReduce && d === accLevel) {
      nest.outputs.forEach((out, j) => {
        if (out.reduce !== undefined) lines.push(`let ${localName("a", j)} = ${START[out.reduce]};`);
      });
    }
    if (d === depth) {
      emitInnermost();
    } else if (fission && d === depth - 1) {
      emitFissioned(d);
    } else {
      // Inside loop d, each pointer it moves gets a name of its own; the old names come back after it.
      const outer = pointers.map((p) => p.name);
      const i = localName("i", d);
      const steps: string[] = [];
      for (const p of pointers) {
        const stride = p.access.strides[d] ?? 0;
        if (d >= p.deep || stride === 0) continue;
        if (d === p.deep - 1 && stride === 1) {
          // The last loop that moves it, by 1: the index itself, or an offset plus it.
          p.name = p.name === "0" ? i : `${p.name} + ${i}`;
          continue;
        }
        const name = localName("j", nextPointer++);
        lines.push(`let ${name} = ${p.name};`);
        p.name = name;
        steps.push(`${name} += ${safeInt(stride)}`);
      }
      lines.open(`for (let ${i} = 0; ${i} < ${safeInt(loops.sizes[d] ?? 0)}; ${[`${i}++`, ...steps].join(", ")}) {`);
      emitLevel(d + 1);
      lines.close();
      pointers.forEach((p, id) => (p.name = outer[id] ?? p.name));
    }
    if (reducing && innerReduce && d === accLevel) {
      nest.outputs.forEach((out, j) => {
        if (out.reduce === undefined) return;
        lines.push(`${localName("o", j)}[${addressOf(outputAccess(j))}] = ${roundExpr(outputDType(nest, out), localName("a", j))};`);
      });
    }
  };

  if (!innerReduce) {
    nest.outputs.forEach((out, j) => {
      if (out.reduce === undefined) return;
      const size = safeInt(shapeSize(outputShape(nest, out)));
      lines.push(`const ${localName("s", j)} = new Float64Array(${size}).fill(${START[out.reduce]});`);
    });
  }
  emitLevel(0);
  if (!innerReduce) {
    nest.outputs.forEach((out, j) => {
      if (out.reduce === undefined) return;
      const size = safeInt(shapeSize(outputShape(nest, out)));
      const [o, s] = [localName("o", j), localName("s", j)];
      lines.push(`for (let i = 0; i < ${size}; i++) ${o}[i] = ${roundExpr(outputDType(nest, out), `${s}[i]`)};`);
    });
  }
  return { source: source(), depth };
}

/**
 * Generates, compiles (once per `nestKey`) and returns the kernel of `nest`.
 *
 * @example
 * const kernel = generateKernel(nest);
 * kernel.run([x, y, out], constants); // fills out
 */
export function generateKernel(nest: LoopNest): GeneratedKernel {
  validateNest(nest);
  const key = `loop:${nestKey(nest)}`;
  const { source, depth } = generateSource(nest);
  const make = compileKernel<() => Kernel>(key, [], source);
  let run = made.get(make);
  if (run === undefined) {
    run = selectLoopKernel(nest, make());
    made.set(make, run);
  }
  return { key, source, depth, run };
}

/** The kernel each compiled maker made (it builds its tables once). */
const made = new WeakMap<() => Kernel, Kernel>();
