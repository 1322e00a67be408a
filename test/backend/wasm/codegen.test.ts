import { describe, expect, test } from "vitest";
import { allocate, type DType, type Storage } from "../../../src/core/dtype.js";
import { shapeSize } from "../../../src/core/shape.js";
import { generateKernel } from "../../../src/backend/js-codegen.js";
import { compileKernel, loopKernelBackend, selectLoopKernel } from "../../../src/backend/compile.js";
import { interpretLoopNest } from "../../../src/backend/interpret.js";
import { outputDType, outputShape, type Kernel, type LoopNest } from "../../../src/backend/loop-ir.js";
import { generateWasmModule, wasmSupports } from "../../../src/backend/wasm/codegen.js";
import { encodeModule, FunctionBody, Op, signedLeb, unsignedLeb, ValType } from "../../../src/backend/wasm/encoder.js";
import { copyPacked, packReads } from "../../../src/backend/wasm/pack.js";
import { wasmAvailable, wasmKernel } from "../../../src/backend/wasm/runtime.js";
import { nest, op, randomValues, read } from "../support.js";

/** The part of the WebAssembly API these tests call (this project's lib does not declare it). */
interface WebAssemblyValidate {
  validate(bytes: Uint8Array): boolean;
}
// every engine these tests run on has WebAssembly.validate
const validate = (bytes: Uint8Array): boolean => (globalThis as unknown as { WebAssembly: WebAssemblyValidate }).WebAssembly.validate(bytes);

/** The JavaScript kernel of `n` alone: its source compiled directly, without `selectLoopKernel`. */
function javascriptKernel(n: LoopNest): Kernel {
  const { key, source } = generateKernel(n);
  return compileKernel<() => Kernel>(`test:js:${key}`, [], source)();
}

const fresh = (n: LoopNest): Storage<DType>[] => n.outputs.map((out) => allocate(outputDType(n, out), shapeSize(outputShape(n, out))));

/** Runs `n` in WebAssembly and in the interpreter (with the kernels' own math routines); expects equal outputs, bit for bit. */
function expectWasmAgrees(n: LoopNest, inputs: readonly Storage<DType>[], constants: readonly number[] = []): void {
  const kernel = wasmKernel(n);
  expect(kernel).toBeDefined();
  const got = fresh(n);
  const want = fresh(n);
  expect(kernel?.run([...inputs, ...got], constants)).toBe(true);
  interpretLoopNest(n, [...inputs, ...want], constants, "webassembly");
  got.forEach((g, j) => {
    const w = want[j] ?? [];
    for (let i = 0; i < g.length; i++) if (!Object.is(g[i], w[i])) expect(`output ${j}[${i}] = ${g[i]}`).toBe(`output ${j}[${i}] = ${w[i]}`);
  });
}

const EMPTY = new Float32Array(0);
const f32 = (n: number, seed: number): Float32Array => Float32Array.from(randomValues(n, seed));

/** Equal bit for bit (NaN equals NaN, -0 differs from 0). */
const sameBits = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** The nest of gelu(x * a + b) for x of [rows, cols] and rows a, b of [cols], as fusion makes it (constants 0.5, 1, 0.044715, sqrt(2 / pi)). */
function geluNest(rows: number, cols: number): LoopNest {
  return nest({
    shape: [rows, cols],
    inputs: [
      { dtype: "float32", size: rows * cols },
      { dtype: "float32", size: cols },
      { dtype: "float32", size: cols },
    ],
    constants: ["float32", "float32", "float32", "float32"],
    nodes: [
      read(0, "float32", 0, [cols, 1]),
      read(1, "float32", 0, [0, 1]),
      op("mul", {}, [0, 1], "float32"),
      read(2, "float32", 0, [0, 1]),
      op("add", {}, [2, 3], "float32"), // y = x a + b
      { kind: "const", dtype: "float32", index: 0 },
      { kind: "const", dtype: "float32", index: 1 },
      { kind: "const", dtype: "float32", index: 2 },
      { kind: "const", dtype: "float32", index: 3 },
      op("mul", {}, [4, 4], "float32"),
      op("mul", {}, [4, 9], "float32"), // y^3
      op("mul", {}, [7, 10], "float32"),
      op("add", {}, [4, 11], "float32"),
      op("mul", {}, [8, 12], "float32"), // inner
      op("tanh", {}, [13], "float32"),
      op("add", {}, [6, 14], "float32"),
      op("mul", {}, [5, 4], "float32"),
      op("mul", {}, [16, 15], "float32"),
    ],
    outputs: [{ node: 17 }],
  });
}
const GELU_CONSTANTS = [0.5, 1, 0.044715, Math.sqrt(2 / Math.PI)].map(Math.fround);

describe("the WebAssembly encoder", () => {
  test("unsigned LEB128 writes 7 bits a byte, low first, the high bit marking more", () => {
    expect(unsignedLeb(0)).toEqual([0]);
    expect(unsignedLeb(127)).toEqual([0x7f]);
    expect(unsignedLeb(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  test("unsigned LEB128 refuses negative, fractional and too large values", () => {
    expect(() => unsignedLeb(-1)).toThrow();
    expect(() => unsignedLeb(0.5)).toThrow();
    expect(() => unsignedLeb(2 ** 32)).toThrow();
  });

  test("signed LEB128 sign-extends from the last byte's bit 6", () => {
    expect(signedLeb(0n)).toEqual([0]);
    expect(signedLeb(-1n)).toEqual([0x7f]);
    expect(signedLeb(63n)).toEqual([0x3f]);
    expect(signedLeb(64n)).toEqual([0xc0, 0x00]);
    expect(signedLeb(-64n)).toEqual([0x40]);
    expect(signedLeb(-65n)).toEqual([0xbf, 0x7f]);
    expect(signedLeb(-123456n)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb(-(2n ** 63n))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
    expect(signedLeb(2n ** 63n - 1n)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
    expect(() => signedLeb(2n ** 63n)).toThrow();
  });

  test("a minimal module validates, and so does one with locals, constants and a loop", () => {
    expect(validate(encodeModule({ imports: [], functions: [{ type: { params: [], results: [] }, body: new FunctionBody(0) }] }))).toBe(true);
    const body = new FunctionBody(1);
    const i = body.local(ValType.i32);
    body.i32(0).set(i).loop().get(i).i32(1).op(Op.i32_add).tee(i).get(0).op(Op.i32_ne).brIf(0).end().get(i);
    const bytes = encodeModule({ imports: [], functions: [{ type: { params: [ValType.i32], results: [ValType.i32] }, body, export: "count" }] });
    expect(validate(bytes)).toBe(true);
  });

  test("an invalid body does not validate", () => {
    const body = new FunctionBody(0).op(Op.i32_add); // nothing on the stack
    expect(validate(encodeModule({ imports: [], functions: [{ type: { params: [], results: [] }, body }] }))).toBe(false);
  });
});

describe("WebAssembly loop kernels", () => {
  test("WebAssembly with SIMD is available on this platform", () => {
    expect(wasmAvailable()).toBe(true);
  });

  test("the modules of supported nests validate, with and without SIMD", () => {
    for (const simd of [true, false]) expect(validate(generateWasmModule(geluNest(3, 1030), simd))).toBe(true);
  });

  test("gelu(x * a + b) equals the interpreter with the kernel's tanh bit for bit, and the JavaScript kernel within tanh's bound", () => {
    const [rows, cols] = [7, 1030];
    const n = geluNest(rows, cols);
    const inputs = [f32(rows * cols, 1).map((v) => v * 2), f32(cols, 2), f32(cols, 3)];
    expectWasmAgrees(n, inputs, GELU_CONSTANTS);
    const [js, wasm] = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
    javascriptKernel(n)([...inputs, js], GELU_CONSTANTS);
    wasmKernel(n)?.run([...inputs, wasm], GELU_CONSTANTS);
    const x = inputs[0] ?? [];
    const [a, b] = [inputs[1] ?? [], inputs[2] ?? []];
    for (let i = 0; i < js.length; i++) {
      // gelu y = y/2 (1 + tanh u): tanh's 3 ulp (at most 3 * 2^-24 absolute, |tanh| < 1) move the result by |y| 1.5 * 2^-24, and its other roundings by a few ulp of |y|
      const y = Math.abs((x[i] ?? 0) * (a[i % cols] ?? 0) + (b[i % cols] ?? 0));
      const [got, want] = [wasm[i] ?? NaN, js[i] ?? NaN];
      expect(Math.abs(got - want), `gelu[${i}] = ${got}, JavaScript ${want}`).toBeLessThanOrEqual(y * 2 ** -21 + 2 ** -126);
    }
  });

  test("the kernel cache picks WebAssembly for a float32 chain, JavaScript for others", () => {
    const floats = nest({ shape: [5], inputs: [{ dtype: "float64", size: 5 }], nodes: [read(0, "float64", 0, [1]), op("tanh", {}, [0], "float64")], outputs: [{ node: 1 }] });
    expect(loopKernelBackend(geluNest(2, 8))).toBe("webassembly");
    expect(loopKernelBackend(floats)).toBe("javascript");
    const reduced = nest({ shape: [4], reducedAxes: [0], inputs: [{ dtype: "float64", size: 4 }], nodes: [read(0, "float64", 0, [1])], outputs: [{ node: 0, reduce: "sum" }] });
    expect(loopKernelBackend(reduced)).toBe("javascript");
    const sin = nest({ shape: [4], inputs: [{ dtype: "float32", size: 4 }], nodes: [read(0, "float32", 0, [1]), op("sin", {}, [0], "float32")], outputs: [{ node: 1 }] });
    expect(loopKernelBackend(sin)).toBe("javascript");
    expect([floats, reduced, sin].map(wasmSupports)).toEqual([false, false, false]);
    const exp = nest({ shape: [4], inputs: [{ dtype: "float32", size: 4 }], nodes: [read(0, "float32", 0, [1]), op("exp", {}, [0], "float32")], outputs: [{ node: 1 }] });
    expect(loopKernelBackend(exp)).toBe("webassembly");
    expect(wasmSupports(geluNest(2, 8))).toBe(true);
  });

  test("odd lengths run the SIMD loop and a scalar tail; lengths below 4 only the tail", () => {
    for (const len of [1, 2, 3, 4, 5, 7, 8, 9, 1023, 1025]) {
      const n = nest({ shape: [len], inputs: [{ dtype: "float32", size: len }], nodes: [read(0, "float32", 0, [1]), op("tanh", {}, [0], "float32"), op("mul", {}, [0, 1], "float32")], outputs: [{ node: 2 }, { node: 1 }] });
      expectWasmAgrees(n, [f32(len, len).map((v) => v * 4)]);
    }
  });

  test("a large nest runs in blocks of rows, whole rows broadcast and streamed ones copied per block, and agrees", () => {
    const [rows, cols] = [37, 1030];
    const n = geluNest(rows, cols);
    const inputs = [f32(rows * cols, 11).map((v) => v * 2), f32(cols, 12), f32(cols, 13)];
    const [whole, blocked] = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
    wasmKernel(n)?.run([...inputs, whole], GELU_CONSTANTS);
    // blocks of 2 rows: 18 full blocks and a last one of 1
    expect(wasmKernel(n, 2 * 3 * cols * 4)?.run([...inputs, blocked], GELU_CONSTANTS)).toBe(true);
    expect(sameBits(blocked, whole)).toBe(true);
    // a transposed read moves backwards along no axis but strides rows by one: it runs whole, and agrees
    const t = nest({ shape: [40, 8], inputs: [{ dtype: "float32", size: 320 }], nodes: [read(0, "float32", 0, [1, 40]), op("exp", {}, [0], "float32")], outputs: [{ node: 1 }] });
    const x = f32(320, 14);
    const [a, b] = [new Float32Array(320), new Float32Array(320)];
    wasmKernel(t)?.run([x, a], []);
    wasmKernel(t, 64)?.run([x, b], []);
    expect(sameBits(a, b)).toBe(true);
  });

  test("a large reducing nest runs in blocks too: over the outer axes it carries its accumulators from block to block, over inner ones each block reduces its rows; the bits are those of one whole call and the interpreter's", () => {
    // relu's gradient as a CNN's backward makes it, with the bias gradient (a sum over every axis but the channels) as a second output
    const [n, h, c] = [13, 7, 12];
    const size = n * h * c;
    const outer = nest({
      shape: [n, h, c],
      reducedAxes: [0, 1],
      inputs: [
        { dtype: "float32", size },
        { dtype: "float32", size },
      ],
      nodes: [read(0, "float32", 0, [h * c, c, 1]), read(1, "float32", 0, [h * c, c, 1]), op("max", {}, [0, 1], "float32"), op("mul", {}, [2, 1], "float32")],
      outputs: [{ node: 3, reduce: "sum" }, { node: 2 }, { node: 3, reduce: "max" }],
    });
    const inner = nest({
      shape: [n, h, c],
      reducedAxes: [2],
      inputs: [{ dtype: "float32", size }],
      nodes: [read(0, "float32", 0, [h * c, c, 1]), op("exp", {}, [0], "float32")],
      outputs: [{ node: 1, reduce: "sum" }, { node: 1 }],
    });
    const inputs = [f32(size, 21).map((v) => v * 3), f32(size, 22)];
    for (const [m, ins] of [
      [outer, inputs],
      [inner, inputs.slice(0, 1)],
    ] as const) {
      const whole = fresh(m);
      const want = fresh(m);
      expect(wasmKernel(m)?.run([...ins, ...whole], [])).toBe(true);
      interpretLoopNest(m, [...ins, ...want], [], "webassembly");
      // a row takes (2 * 4 + 4) * h * c bytes (outer: two inputs, one output per element) or 8 * h * c + 12 * h (inner: and a sum and its float64 accumulator per h)
      const rowBytes = m === outer ? 12 * h * c : 8 * h * c + 12 * h;
      for (const blockRows of [1, 2, 5]) {
        const blocked = fresh(m);
        const kernel = wasmKernel(m, blockRows * rowBytes);
        expect(kernel?.blockRows).toBe(blockRows);
        expect(kernel?.run([...ins, ...blocked], [])).toBe(true);
        blocked.forEach((b, j) => {
          // every output of these nests is float32 (fresh allocates by the output's dtype)
          const [got, one, ref] = [b, whole[j], want[j]] as Float32Array[];
          expect(sameBits(got ?? EMPTY, one ?? EMPTY) && sameBits(got ?? EMPTY, ref ?? EMPTY)).toBe(true);
        });
      }
    }
  });

  describe("reductions accumulate in float64 in row-major order, as the interpreter does, bit for bit", () => {
    const cases = [
      { name: "over the inner axis (softmax's and layer norm's rows)", shape: [6, 37], axes: [1] },
      { name: "over the outer axis (a column sum), four accumulators a vector step", shape: [9, 22], axes: [0] },
      { name: "over the middle axis", shape: [3, 5, 8], axes: [1] },
      { name: "over everything", shape: [7, 13], axes: [0, 1] },
      { name: "over outer and inner but not the middle axis", shape: [3, 4, 9], axes: [0, 2] },
      { name: "over an empty axis (0 and -Infinity)", shape: [3, 0], axes: [1] },
      { name: "of one element", shape: [1, 1], axes: [1] },
    ];
    for (const { name, shape, axes } of cases) {
      test(name, () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
        const n = nest({
          shape,
          reducedAxes: axes,
          inputs: [{ dtype: "float32", size }],
          nodes: [read(0, "float32", 0, strides), op("exp", {}, [0], "float32")],
          outputs: [{ node: 1, reduce: "sum" }, { node: 0, reduce: "max" }, { node: 1 }],
        });
        expect(loopKernelBackend(n)).toBe("webassembly");
        const x = f32(size, size + 1).map((v) => v * 3);
        if (size > 8) x.set([NaN, -0, 0, Infinity, -Infinity, 1e30], 2);
        expectWasmAgrees(n, [x]);
        expectWasmAgrees(n, [new Float32Array(size).fill(-0)]);
      });
    }
  });

  test("length 0 writes nothing, and size-1 axes are dropped", () => {
    const empty = nest({ shape: [3, 0], inputs: [{ dtype: "float32", size: 0 }], nodes: [read(0, "float32", 0, [0, 1]), op("neg", {}, [0], "float32")], outputs: [{ node: 1 }] });
    expectWasmAgrees(empty, [new Float32Array(0)]);
    const one = nest({ shape: [1, 1], inputs: [{ dtype: "float32", size: 1 }], nodes: [read(0, "float32", 0, [0, 0]), op("tanh", {}, [0], "float32")], outputs: [{ node: 1 }] });
    expectWasmAgrees(one, [Float32Array.of(0.25)]);
  });

  test("strided, transposed and reversed reads run as scalar loops, and agree", () => {
    const n = nest({
      shape: [5, 6],
      inputs: [{ dtype: "float32", size: 60 }],
      nodes: [read(0, "float32", 59, [-1, -10]), read(0, "float32", 0, [12, 2]), op("sub", {}, [0, 1], "float32"), op("tanh", {}, [2], "float32")],
      outputs: [{ node: 3 }],
    });
    expectWasmAgrees(n, [f32(60, 9)]);
  });

  test("sigmoid's two branches (compare, select, exp, div) run in WebAssembly and agree, NaN and signed zeros included", () => {
    const len = 37;
    const n = nest({
      shape: [len],
      inputs: [{ dtype: "float32", size: len }],
      constants: ["float32", "float32"],
      nodes: [
        read(0, "float32", 0, [1]),
        { kind: "const", dtype: "float32", index: 0 }, // 0
        op("compare", { op: "ge" }, [0, 1], "bool"),
        op("neg", {}, [0], "float32"),
        op("exp", {}, [3], "float32"),
        { kind: "const", dtype: "float32", index: 1 }, // 1
        op("add", {}, [4, 5], "float32"),
        op("div", {}, [5, 6], "float32"), // 1 / (1 + e^-x)
        op("exp", {}, [0], "float32"),
        op("add", {}, [8, 5], "float32"),
        op("div", {}, [8, 9], "float32"), // e^x / (1 + e^x)
        op("select", {}, [2, 7, 10], "float32"),
      ],
      outputs: [{ node: 11 }],
    });
    expect(loopKernelBackend(n)).toBe("webassembly");
    const x = f32(len, 5).map((v) => v * 30);
    x.set([0, -0, NaN, Infinity, -Infinity, 100, -100, 2 ** -149]);
    expectWasmAgrees(n, [x], [0, 1]);
    for (const comparison of ["lt", "le", "gt", "eq", "ne"] as const) {
      const c = nest({
        shape: [len],
        inputs: [{ dtype: "float32", size: len }, { dtype: "float32", size: len }],
        nodes: [read(0, "float32", 0, [1]), read(1, "float32", 0, [1]), op("compare", { op: comparison }, [0, 1], "bool"), op("select", {}, [2, 0, 1], "float32")],
        outputs: [{ node: 3 }],
      });
      const y = x.map((v, i) => (i % 3 === 0 ? v : -v));
      expectWasmAgrees(c, [x, y]);
    }
  });

  test("tanh is what the kernel's routine gives on special values and their neighbours, in the loop and in the tail", () => {
    const specials = [0, -0, NaN, Infinity, -Infinity, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, 1 / 1024, 9.5, -9.5, 9.499999, 22, 3.4e38, -3.4e38, 0.34657359, 0.6931472];
    const values = specials.flatMap((v) => {
      const bits = new Uint32Array(Float32Array.of(v).buffer)[0] ?? 0;
      return [-2, -1, 0, 1, 2].map((d) => new Float32Array(Uint32Array.of((bits + d) >>> 0).buffer)[0] ?? 0);
    });
    const len = values.length;
    const n = nest({ shape: [len], inputs: [{ dtype: "float32", size: len }], nodes: [read(0, "float32", 0, [1]), op("tanh", {}, [0], "float32")], outputs: [{ node: 1 }] });
    expectWasmAgrees(n, [Float32Array.from(values)]);
  });

  describe("an input read at few of its elements is copied in as those elements (packed), and the kernel agrees", () => {
    test("one time step of a [batch, steps, features] buffer: runs of a row, merged across the rows that step as one", () => {
      const [batch, steps, features, t] = [5, 7, 36, 3];
      const n = nest({
        shape: [batch, features],
        inputs: [
          { dtype: "float32", size: batch * steps * features },
          { dtype: "float32", size: batch * features },
        ],
        nodes: [read(0, "float32", t * features, [steps * features, 1]), read(1, "float32", 0, [features, 1]), op("add", {}, [0, 1], "float32"), op("tanh", {}, [2], "float32")],
        outputs: [{ node: 3 }],
      });
      const { nest: packed, packs } = packReads(n);
      expect(packs).toEqual([{ offset: t * features, sizes: [batch, features], strides: [steps * features, 1] }, undefined]);
      expect(packed.inputs.map((i) => i.size)).toEqual([batch * features, batch * features]);
      expectWasmAgrees(n, [f32(batch * steps * features, 1), f32(batch * features, 2)]);
    });

    test("a column block under a broadcast axis, a strided read, and short runs copied element by element", () => {
      const block = nest({
        shape: [4, 3, 5],
        inputs: [{ dtype: "float32", size: 60 }],
        nodes: [read(0, "float32", 2, [0, 20, 1]), op("exp", {}, [0], "float32")],
        outputs: [{ node: 1 }],
      });
      expect(packReads(block).packs).toEqual([{ offset: 2, sizes: [3, 5], strides: [20, 1] }]);
      expect(packReads(block).nest.nodes[0]).toMatchObject({ map: { offset: 0, strides: [0, 5, 1] } });
      expectWasmAgrees(block, [f32(60, 3)]);
      const strided = nest({ shape: [10], inputs: [{ dtype: "float32", size: 40 }], nodes: [read(0, "float32", 1, [3]), op("neg", {}, [0], "float32")], outputs: [{ node: 1 }] });
      expect(packReads(strided).packs).toEqual([{ offset: 1, sizes: [10], strides: [3] }]);
      expectWasmAgrees(strided, [f32(40, 4)]);
    });

    test("an input read through two maps, or at more than half of its elements, is copied whole", () => {
      const two = nest({
        shape: [4],
        inputs: [{ dtype: "float32", size: 40 }],
        nodes: [read(0, "float32", 0, [1]), read(0, "float32", 20, [1]), op("sub", {}, [0, 1], "float32")],
        outputs: [{ node: 2 }],
      });
      expect(packReads(two).packs).toEqual([undefined]);
      expect(packReads(two).nest).toBe(two);
      const most = nest({ shape: [6, 4], inputs: [{ dtype: "float32", size: 40 }], nodes: [read(0, "float32", 0, [5, 1]), op("neg", {}, [0], "float32")], outputs: [{ node: 1 }] });
      expect(packReads(most).packs).toEqual([undefined]);
    });

    test("copyPacked visits the elements in the nest's row-major order, as a naive loop does", () => {
      const source = f32(1000, 5);
      const pack = { offset: 7, sizes: [3, 4, 40], strides: [300, 70, 1] };
      const target = new Float32Array(3 + 480).fill(NaN);
      copyPacked(target, 3, source, pack);
      const want: number[] = [];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 40; k++) want.push(source[7 + 300 * i + 70 * j + k] ?? NaN);
      expect(Array.from(target.subarray(3))).toEqual(want);
      expect(target[2]).toBeNaN();
    });
  });

  test("a constant that float32 does not hold runs on the JavaScript kernel", () => {
    const n = nest({ shape: [8], inputs: [{ dtype: "float32", size: 8 }], constants: ["float32"], nodes: [read(0, "float32", 0, [1]), { kind: "const", dtype: "float32", index: 0 }, op("mul", {}, [0, 1], "float32")], outputs: [{ node: 2 }] });
    expect(wasmKernel(n)?.run([f32(8, 4), new Float32Array(8)], [0.1])).toBe(false);
    const got = new Float32Array(8);
    const want = new Float32Array(8);
    selectLoopKernel(n, javascriptKernel(n))([f32(8, 4), got], [0.1]);
    interpretLoopNest(n, [f32(8, 4), want], [0.1]);
    expect(got).toEqual(want);
  });
});
