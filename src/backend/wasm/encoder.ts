/**
 * A small encoder of WebAssembly modules in the binary format: LEB128
 * integers, the opcodes the loop-kernel generator and the WebAssembly matmul
 * kernel use, function bodies and the sections of a module.
 *
 * The format is the one of the WebAssembly core specification (chapter 5,
 * "Binary Format") with the fixed-width SIMD proposal (128-bit vectors). Every
 * byte this module writes comes from an opcode of the tables below, a LEB128
 * encoding of an integer checked here, or the IEEE bits of a number that the
 * caller passes (only fixed constants of the math routines, never data). Left
 * out: everything a loop kernel does not need (tables, globals, data and
 * element segments, start functions, names, multiple memories).
 */

/** Value types. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** The block type of a block without parameters or results. */
const EMPTY_BLOCK = 0x40;

/** Single-byte opcodes (core instructions). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br_if: 0x0d,
  call: 0x10,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  f32_load: 0x2a,
  f64_load: 0x2b,
  f32_store: 0x38,
  f64_store: 0x39,
  i32_const: 0x41,
  i64_const: 0x42,
  f64_const: 0x44,
  i32_ne: 0x47,
  i32_sub: 0x6b,
  f32_ne: 0x5c,
  f64_ne: 0x62,
  f64_gt: 0x64,
  i32_add: 0x6a,
  i32_or: 0x72,
  i64_add: 0x7c,
  i64_shl: 0x86,
  f32_neg: 0x8c,
  f32_sqrt: 0x91,
  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f32_div: 0x95,
  f32_min: 0x96,
  f32_max: 0x97,
  f64_neg: 0x9a,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  f32_demote_f64: 0xb6,
  f64_promote_f32: 0xbb,
  i64_reinterpret_f64: 0xbd,
  f64_reinterpret_i64: 0xbf,
  i32_load: 0x28,
  i32_store: 0x36,
  i32_shl: 0x74,
  i32_and: 0x71,
  i32_shr_u: 0x76,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** SIMD opcodes: each follows the prefix byte 0xfd as an unsigned LEB128. */
export const SimdOp = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  i32x4_splat: 0x11,
  f32x4_splat: 0x13,
  i32x4_extract_lane: 0x1b,
  f32x4_extract_lane: 0x1f,
  f32x4_replace_lane: 0x20,
  f32x4_eq: 0x41,
  f32x4_ne: 0x42,
  f32x4_lt: 0x43,
  f32x4_gt: 0x44,
  f32x4_le: 0x45,
  f32x4_ge: 0x46,
  f64x2_eq: 0x47,
  f64x2_ne: 0x48,
  f64x2_gt: 0x4a,
  v128_not: 0x4d,
  v128_and: 0x4e,
  v128_andnot: 0x4f,
  v128_or: 0x50,
  v128_xor: 0x51,
  v128_bitselect: 0x52,
  v128_any_true: 0x53,
  f32x4_demote_f64x2_zero: 0x5e,
  f64x2_promote_low_f32x4: 0x5f,
  f32x4_nearest: 0x6a,
  f64x2_nearest: 0x94,
  i32x4_shl: 0xab,
  i32x4_shr_s: 0xac,
  i32x4_add: 0xae,
  i32x4_sub: 0xb1,
  i64x2_shl: 0xcb,
  i64x2_shr_u: 0xcd,
  i64x2_add: 0xce,
  f32x4_abs: 0xe0,
  f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  /** Relaxed SIMD's `a * b + c`, fused or not as the CPU does it (an opt-in: see `relaxed-simd.ts`). */
  f32x4_relaxed_madd: 0x105,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  f32x4_pmin: 0xea,
  f32x4_pmax: 0xeb,
  f64x2_neg: 0xed,
  f64x2_add: 0xf0,
  f64x2_sub: 0xf1,
  f64x2_mul: 0xf2,
  f64x2_div: 0xf3,
  f64x2_min: 0xf4,
  f64x2_max: 0xf5,
  f64x2_pmin: 0xf6,
  f64x2_pmax: 0xf7,
  i32x4_trunc_sat_f32x4_s: 0xf8,
  f32x4_convert_i32x4_s: 0xfa,
} as const;
export type SimdOp = (typeof SimdOp)[keyof typeof SimdOp];

const SIMD_PREFIX = 0xfd;

/** `n` checked to be an integer in [lo, hi]. */
function checkedInt(n: number, lo: number, hi: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new Error(`wasm encoder: ${what} ${String(n)} is out of range`);
  return n;
}

/**
 * The unsigned LEB128 encoding of `n`, an integer in [0, 2^32).
 *
 * @example
 * unsignedLeb(624485); // [0xe5, 0x8e, 0x26]
 */
export function unsignedLeb(n: number): number[] {
  let rest = checkedInt(n, 0, 2 ** 32 - 1, "unsigned LEB128 value");
  const bytes: number[] = [];
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return bytes;
}

/**
 * The signed LEB128 encoding of `n`, a 64-bit two's-complement integer.
 *
 * @example
 * signedLeb(-123456n); // [0xc0, 0xbb, 0x78]
 */
export function signedLeb(n: bigint): number[] {
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new Error(`wasm encoder: ${n} does not fit 64 bits`);
  let rest = n;
  const bytes: number[] = [];
  for (;;) {
    const low = Number(rest & 0x7fn);
    rest >>= 7n; // arithmetic shift: the sign stays
    const done = (rest === 0n && (low & 0x40) === 0) || (rest === -1n && (low & 0x40) !== 0);
    bytes.push(done ? low : low | 0x80);
    if (done) return bytes;
  }
}

/** The bytes of a name (ASCII letters, digits and `_` only, as every name here is). */
function encodeName(name: string): number[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`wasm encoder: bad name ${JSON.stringify(name)}`);
  const bytes = [...name].map((ch) => ch.charCodeAt(0));
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** A vector: its length, then its items. */
function vector(items: readonly (readonly number[])[]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

/** The little-endian IEEE 754 bytes of `v` as a float64. */
function float64Bytes(v: number): number[] {
  return [...new Uint8Array(Float64Array.of(v).buffer)];
}

/** Alignment hints, as log2 of the byte count, for the memory accesses here. */
export const ALIGN_4 = 2;
/** The alignment hint of an 8-byte access. */
export const ALIGN_8 = 3;
/** The alignment hint of a 16-byte access. */
export const ALIGN_16 = 4;

/**
 * The instructions of one function body, appended by the methods below;
 * locals are declared with `local` (after the parameters) and numbered in
 * that order.
 */
export class FunctionBody {
  readonly #code: number[] = [];
  readonly #locals: ValType[] = [];
  readonly #params: number;

  /** A body of a function with `params` parameters. */
  constructor(params: number) {
    this.#params = checkedInt(params, 0, 1000, "parameter count");
  }

  /** Declares a local of type `type`; returns its index. */
  local(type: ValType): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  /** A core instruction with its immediate bytes (already encoded). */
  op(op: Op, ...immediates: readonly number[][]): this {
    this.#code.push(op, ...immediates.flat());
    return this;
  }

  /** A SIMD instruction with its immediate bytes (already encoded). */
  simd(op: SimdOp, ...immediates: readonly number[][]): this {
    this.#code.push(SIMD_PREFIX, ...unsignedLeb(op), ...immediates.flat());
    return this;
  }

  get(local: number): this {
    return this.op(Op.local_get, unsignedLeb(local));
  }

  set(local: number): this {
    return this.op(Op.local_set, unsignedLeb(local));
  }

  tee(local: number): this {
    return this.op(Op.local_tee, unsignedLeb(local));
  }

  i32(n: number): this {
    return this.op(Op.i32_const, signedLeb(BigInt(checkedInt(n, -(2 ** 31), 2 ** 31 - 1, "i32 constant"))));
  }

  i64(n: bigint): this {
    return this.op(Op.i64_const, signedLeb(n));
  }

  /** `v128.const` of four zero lanes. */
  zeros(): this {
    return this.simd(SimdOp.v128_const, new Array<number>(16).fill(0));
  }

  f64(v: number): this {
    return this.op(Op.f64_const, float64Bytes(v));
  }

  /** `v128.const` of two float64 lanes, both `v`. */
  f64x2(v: number): this {
    return this.simd(SimdOp.v128_const, float64Bytes(v), float64Bytes(v));
  }

  /** `v128.const` of four int32 lanes, all `n` (bits of a fixed constant of a math routine). */
  i32x4(n: number): this {
    const lane = [...new Uint8Array(Int32Array.of(checkedInt(n, -(2 ** 31), 2 ** 32 - 1, "i32x4 lane")).buffer)];
    return this.simd(SimdOp.v128_const, lane, lane, lane, lane);
  }

  /** `v128.const` of two int64 lanes, both `n`. */
  i64x2(n: bigint): this {
    const lane = [...new Uint8Array(BigInt64Array.of(n).buffer)];
    return this.simd(SimdOp.v128_const, lane, lane);
  }

  /** A memory access's immediate: alignment hint and constant byte offset. */
  static memarg(align: number, offset = 0): number[] {
    return [...unsignedLeb(align), ...unsignedLeb(offset)];
  }

  /** A lane index immediate. */
  static lane(i: number): number[] {
    return [checkedInt(i, 0, 15, "lane")];
  }

  /** `block` without parameters or results. */
  block(): this {
    return this.op(Op.block, [EMPTY_BLOCK]);
  }

  /** `loop` without parameters or results. */
  loop(): this {
    return this.op(Op.loop, [EMPTY_BLOCK]);
  }

  /** `if` without results. */
  if(): this {
    return this.op(Op.if, [EMPTY_BLOCK]);
  }

  end(): this {
    return this.op(Op.end);
  }

  /** `br_if` to the enclosing label `depth` levels out. */
  brIf(depth: number): this {
    return this.op(Op.br_if, unsignedLeb(depth));
  }

  /** The body's bytes: local declarations (runs of one type), instructions, `end`. */
  encode(): number[] {
    const runs: number[][] = [];
    let at = 0;
    while (at < this.#locals.length) {
      const type = this.#locals[at] ?? ValType.i32;
      let count = 0;
      while (this.#locals[at] === type) {
        at++;
        count++;
      }
      runs.push([...unsignedLeb(count), type]);
    }
    const body = [...vector(runs), ...this.#code, Op.end];
    return [...unsignedLeb(body.length), ...body];
  }
}

/** A function type: parameter and result types. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** An imported function: module and field names, and its type. */
export interface FuncImport {
  readonly module: string;
  readonly name: string;
  readonly type: FuncType;
}

/** What a module holds: imported functions (numbered first), one imported memory, defined functions, exports. */
export interface ModuleSpec {
  readonly imports: readonly FuncImport[];
  /**
   * The memory `module.name`, at least `minPages` pages of 64 KiB (and at
   * most `maxPages`, which a `shared` memory must state); absent when the
   * module has no memory.
   */
  readonly memory?: { readonly module: string; readonly name: string; readonly minPages: number; readonly maxPages?: number; readonly shared?: boolean };
  readonly functions: readonly { readonly type: FuncType; readonly body: FunctionBody; readonly export?: string }[];
}

const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
const EXTERNAL = { func: 0x00, memory: 0x02 } as const;

function section(id: number, contents: readonly number[]): number[] {
  return [id, ...unsignedLeb(contents.length), ...contents];
}

/**
 * The binary module of `spec`.
 *
 * @example
 * const body = new FunctionBody(0);
 * WebAssembly.validate(encodeModule({ imports: [], functions: [{ type: { params: [], results: [] }, body }] })); // true
 */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const types: FuncType[] = [];
  const typeKeys: string[] = [];
  const typeIndex = (t: FuncType): number => {
    const key = `${t.params.join(",")}:${t.results.join(",")}`;
    let at = typeKeys.indexOf(key);
    if (at < 0) {
      at = types.push(t) - 1;
      typeKeys.push(key);
    }
    return at;
  };
  const importEntries = spec.imports.map((f) => [...encodeName(f.module), ...encodeName(f.name), EXTERNAL.func, ...unsignedLeb(typeIndex(f.type))]);
  if (spec.memory !== undefined) {
    const { module, name, minPages, maxPages, shared = false } = spec.memory;
    if (shared && maxPages === undefined) throw new Error("wasm encoder: a shared memory needs a maximum");
    // limits: flags 0x00 (minimum), 0x01 (minimum, maximum), 0x03 (shared, minimum, maximum)
    const limits = maxPages === undefined ? [0x00, ...unsignedLeb(checkedInt(minPages, 0, 65536, "page count"))] : [shared ? 0x03 : 0x01, ...unsignedLeb(checkedInt(minPages, 0, 65536, "page count")), ...unsignedLeb(checkedInt(maxPages, minPages, 65536, "page count"))];
    importEntries.push([...encodeName(module), ...encodeName(name), EXTERNAL.memory, ...limits]);
  }
  const functionTypes = spec.functions.map((f) => unsignedLeb(typeIndex(f.type)));
  const exports = spec.functions.flatMap((f, i) => (f.export === undefined ? [] : [[...encodeName(f.export), EXTERNAL.func, ...unsignedLeb(spec.imports.length + i)]]));
  const typeEntries = types.map((t) => [0x60, ...vector(t.params.map((p) => [p])), ...vector(t.results.map((r) => [r]))]);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(SECTION.type, vector(typeEntries)),
    ...section(SECTION.import, vector(importEntries)),
    ...section(SECTION.function, vector(functionTypes)),
    ...section(SECTION.export, vector(exports)),
    ...section(SECTION.code, vector(spec.functions.map((f) => f.body.encode()))),
  ]);
}
