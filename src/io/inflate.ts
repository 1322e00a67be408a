/**
 * DEFLATE decoding (RFC 1951) and gzip members (RFC 1952), in plain
 * TypeScript over `Uint8Array`s, so that the main entry reads `.gz` and zip
 * files in browsers as well as in Node.
 *
 * Why our own: the alternatives are a dependency (fflate, pako) for some four
 * hundred lines we can test against zlib, or the host's `DecompressionStream`,
 * which is asynchronous (every reader would become a Promise) and absent from
 * the plain ES2022 surface the main entry is typed against. The decoder
 * follows Mark Adler's `puff.c` (the reference inflater in zlib's `contrib/`)
 * in structure and zlib's `inflate_table` in what it refuses: over-subscribed
 * or incomplete codes (but a single one-bit code), a missing end-of-block
 * code, the length and distance symbols the format reserves, a distance past
 * the start of the output, a stored block whose length fails its complement.
 *
 * Bounds: the output never grows past the caller's `maxOutput` (a forged
 * stream of a few bytes can otherwise describe gigabytes), and every loop
 * consumes input, so a malformed stream ends in a `Left` after at most a
 * pass over its bytes. Deliberately left out: compression, preset
 * dictionaries (zlib streams), streaming output.
 */

import * as E from "fp-ts/lib/Either.js";
import type { LoadError } from "./load-error.js";
import { fail, guard } from "./reader-kit.js";

/** A decoding failure inside the decoder; turned into a `Left` at its API. */
class InflateFailure {
  constructor(readonly detail: string) {}
}

function stop(detail: string): never {
  throw new InflateFailure(detail);
}

// ---------------------------------------------------------------------------
// CRC-32 (ISO 3309, the polynomial 0xEDB88320 reflected), as gzip and zip use it
// ---------------------------------------------------------------------------

let crcTable: Uint32Array | undefined;

function crcTableOf(): Uint32Array {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  return crcTable;
}

/**
 * The CRC-32 of `bytes` (the checksum of gzip, zip and PNG), as an unsigned
 * 32-bit number.
 *
 * @example
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 */
export function crc32(bytes: Uint8Array): number {
  const table = crcTableOf();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (table[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------
// Bits in, bytes out
// ---------------------------------------------------------------------------

/**
 * The input, read least-significant bit first. Past the end it reads zeros,
 * so a table lookup may peek beyond the last code; `checkEnd` says whether
 * what was actually consumed lies within the input.
 */
class BitReader {
  pos: number;
  bits = 0;
  count = 0;

  constructor(
    readonly input: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Makes at least `n` (at most 24) bits available. */
  fill(n: number): void {
    while (this.count < n) {
      const byte = this.pos < this.end ? (this.input[this.pos] ?? 0) : 0;
      this.pos++;
      this.bits = (this.bits | (byte << this.count)) >>> 0;
      this.count += 8;
    }
  }

  /** Takes `n` (at most 24) bits as an unsigned number. */
  take(n: number): number {
    if (n === 0) return 0;
    this.fill(n);
    const x = this.bits & ((1 << n) - 1);
    this.drop(n);
    return x;
  }

  drop(n: number): void {
    this.bits >>>= n;
    this.count -= n;
  }

  /** The number of bits consumed so far, past the start. */
  consumed(start: number): number {
    return (this.pos - start) * 8 - this.count;
  }

  /** Stops when more bits were consumed than the input holds. */
  checkEnd(): void {
    if (this.pos * 8 - this.count > this.end * 8) stop("the stream is truncated");
  }

  /** Drops the rest of the current byte and gives back whole buffered bytes. */
  align(): void {
    this.drop(this.count & 7);
    this.pos -= this.count >>> 3;
    this.bits = 0;
    this.count = 0;
  }
}

/** The output, grown by doubling up to `max` bytes. */
class Output {
  bytes: Uint8Array;
  length = 0;

  constructor(
    readonly max: number,
    hint: number,
  ) {
    this.bytes = new Uint8Array(Math.min(max, Math.max(hint, 1024)));
  }

  /** Makes room for `n` more bytes, or stops when that would pass `max`. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    if (need > this.max) stop(`the output is larger than the limit of ${this.max} bytes`);
    const grown = new Uint8Array(Math.min(this.max, Math.max(need, this.bytes.length * 2)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** The bytes written, in a buffer of their exact size. */
  result(): Uint8Array {
    return this.bytes.length === this.length ? this.bytes : this.bytes.slice(0, this.length);
  }
}

// ---------------------------------------------------------------------------
// Canonical Huffman codes
// ---------------------------------------------------------------------------

/**
 * A decoding table indexed by the next `bits` input bits (least significant
 * first): each entry is `symbol << 4 | length`, or 0 where no code starts.
 */
interface Huffman {
  readonly table: Int32Array;
  readonly bits: number;
}

/**
 * The canonical code of `lengths` (RFC 1951 section 3.2.2). Refuses an
 * over-subscribed set and an incomplete one, except a lone code of length 1
 * (which a distance code with a single distance needs), as zlib does.
 */
function huffman(lengths: ArrayLike<number>, what: string): Huffman {
  const counts = new Array<number>(16).fill(0);
  let bits = 0;
  for (let s = 0; s < lengths.length; s++) {
    const n = lengths[s] ?? 0;
    counts[n] = (counts[n] ?? 0) + 1;
    if (n > bits) bits = n;
  }
  let left = 1;
  for (let n = 1; n <= 15; n++) {
    left = left * 2 - (counts[n] ?? 0);
    if (left < 0) stop(`the ${what} code is over-subscribed`);
  }
  const used = lengths.length - (counts[0] ?? 0);
  if (left > 0 && !(used === 1 && bits === 1) && used > 0) stop(`the ${what} code is incomplete`);
  // next[n] = the first code of length n: (next[n - 1] + counts[n - 1]) << 1, with no codes of length 0
  const next = new Array<number>(16).fill(0);
  for (let n = 2; n <= 15; n++) next[n] = ((next[n - 1] ?? 0) + (counts[n - 1] ?? 0)) << 1;
  const table = new Int32Array(1 << bits);
  for (let s = 0; s < lengths.length; s++) {
    const n = lengths[s] ?? 0;
    if (n === 0) continue;
    const code = next[n] ?? 0;
    next[n] = code + 1;
    let reversed = 0;
    for (let i = 0; i < n; i++) reversed |= ((code >>> i) & 1) << (n - 1 - i);
    for (let i = reversed; i < table.length; i += 1 << n) table[i] = (s << 4) | n;
  }
  return { table, bits };
}

/** The next symbol of `code`; stops on bits that start no code. */
function decodeSymbol(input: BitReader, code: Huffman, what: string): number {
  if (code.bits === 0) stop(`the ${what} code is empty but a symbol was needed`);
  input.fill(code.bits);
  const entry = code.table[input.bits & ((1 << code.bits) - 1)] ?? 0;
  if (entry === 0) stop(`invalid ${what} code`);
  input.drop(entry & 15);
  return entry >>> 4;
}

// The base lengths and extra bits of length symbols 257..285, and of distance symbols 0..29.
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** The order in which a dynamic block lists the code-length code's lengths. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

let fixedCodes: { litlen: Huffman; dist: Huffman } | undefined;

/** The fixed codes of block type 1 (RFC 1951 section 3.2.6). */
function fixed(): { litlen: Huffman; dist: Huffman } {
  if (fixedCodes === undefined) {
    const litlen = new Array<number>(288);
    for (let s = 0; s < 288; s++) litlen[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    // 30 distance codes of 5 bits leave the code incomplete; zlib builds all 32 (two never valid).
    fixedCodes = { litlen: huffman(litlen, "literal/length"), dist: huffman(new Array<number>(32).fill(5), "distance") };
  }
  return fixedCodes;
}

/** Reads the code lengths of a dynamic block and builds its two codes. */
function dynamic(input: BitReader): { litlen: Huffman; dist: Huffman } {
  const nlen = input.take(5) + 257;
  const ndist = input.take(5) + 1;
  const ncode = input.take(4) + 4;
  if (nlen > 286) stop(`a dynamic block declares ${nlen} literal/length codes (at most 286)`);
  if (ndist > 30) stop(`a dynamic block declares ${ndist} distance codes (at most 30)`);
  const codeLengths = new Array<number>(19).fill(0);
  for (let i = 0; i < ncode; i++) codeLengths[CODE_LENGTH_ORDER[i] ?? 0] = input.take(3);
  const lengthCode = huffman(codeLengths, "code-length");
  const lengths = new Array<number>(nlen + ndist).fill(0);
  for (let i = 0; i < nlen + ndist; ) {
    const symbol = decodeSymbol(input, lengthCode, "code-length");
    input.checkEnd();
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    let value = 0;
    let repeat: number;
    if (symbol === 16) {
      if (i === 0) stop("a dynamic block repeats a code length before the first one");
      value = lengths[i - 1] ?? 0;
      repeat = 3 + input.take(2);
    } else if (symbol === 17) repeat = 3 + input.take(3);
    else repeat = 11 + input.take(7);
    if (i + repeat > nlen + ndist) stop("a dynamic block repeats code lengths past the last code");
    while (repeat-- > 0) lengths[i++] = value;
  }
  if (lengths[256] === 0) stop("a dynamic block has no end-of-block code");
  return { litlen: huffman(lengths.slice(0, nlen), "literal/length"), dist: huffman(lengths.slice(nlen), "distance") };
}

/** Decodes one Huffman-coded block's symbols into `out` up to its end-of-block code. */
function codes(input: BitReader, out: Output, litlen: Huffman, dist: Huffman): void {
  for (;;) {
    const symbol = decodeSymbol(input, litlen, "literal/length");
    input.checkEnd();
    if (symbol < 256) {
      out.reserve(1);
      out.bytes[out.length++] = symbol;
    } else if (symbol === 256) {
      return;
    } else {
      const index = symbol - 257;
      if (index >= 29) stop(`invalid literal/length symbol ${symbol}`);
      const length = (LENGTH_BASE[index] ?? 0) + input.take(LENGTH_EXTRA[index] ?? 0);
      const d = decodeSymbol(input, dist, "distance");
      if (d >= 30) stop(`invalid distance symbol ${d}`);
      const distance = (DIST_BASE[d] ?? 0) + input.take(DIST_EXTRA[d] ?? 0);
      input.checkEnd();
      if (distance > out.length) stop(`a distance of ${distance} reaches before the start of the output (${out.length} bytes)`);
      out.reserve(length);
      const bytes = out.bytes;
      // NOTE: byte by byte on purpose: a copy may overlap its own output (distance < length).
      for (let from = out.length - distance, k = 0; k < length; k++) bytes[out.length++] = bytes[from + k] ?? 0;
    }
  }
}

/** Inflates the stream starting at `start`; returns the output and the offset just past the stream. */
function inflateFrom(bytes: Uint8Array, start: number, end: number, maxOutput: number, hint: number): { output: Uint8Array; end: number } {
  const input = new BitReader(bytes, start, end);
  const out = new Output(maxOutput, hint);
  let last = 0;
  while (last === 0) {
    last = input.take(1);
    const type = input.take(2);
    input.checkEnd();
    if (type === 0) {
      input.align();
      if (input.pos + 4 > end) stop("a stored block's length is truncated");
      const length = (bytes[input.pos] ?? 0) | ((bytes[input.pos + 1] ?? 0) << 8);
      const complement = (bytes[input.pos + 2] ?? 0) | ((bytes[input.pos + 3] ?? 0) << 8);
      if ((length ^ 0xffff) !== complement) stop(`a stored block's length ${length} does not match its complement ${complement}`);
      input.pos += 4;
      if (input.pos + length > end) stop(`a stored block of ${length} bytes is truncated`);
      out.reserve(length);
      out.bytes.set(bytes.subarray(input.pos, input.pos + length), out.length);
      out.length += length;
      input.pos += length;
    } else if (type === 1) {
      const { litlen, dist } = fixed();
      codes(input, out, litlen, dist);
    } else if (type === 2) {
      const { litlen, dist } = dynamic(input);
      codes(input, out, litlen, dist);
    } else {
      stop("a block has the reserved type 3");
    }
  }
  return { output: out.result(), end: start + Math.ceil(input.consumed(start) / 8) };
}

/** Runs a decoder, turning its failure into a `Left` named after `reader`. */
function decoding<A>(reader: string, run: () => A): E.Either<LoadError, A> {
  return guard(reader, () => {
    try {
      return E.right(run());
    } catch (e) {
      if (e instanceof InflateFailure) return fail(reader, e.detail);
      throw e;
    }
  });
}

function checkLimit(reader: string, maxOutput: number): E.Either<LoadError, number> {
  return Number.isSafeInteger(maxOutput) && maxOutput >= 0 ? E.right(maxOutput) : fail(reader, `maxOutput must be a non-negative integer, got ${maxOutput}`);
}

/**
 * Decodes a raw DEFLATE stream (RFC 1951, no zlib or gzip wrapper) that
 * fills `bytes` exactly. A `Left` names what is wrong: a malformed code or
 * block, a truncated stream, bytes after its end, or an output that would
 * exceed `maxOutput` bytes. Never throws.
 *
 * @example
 * inflateRaw(new Uint8Array([0x03, 0x00]), 1024); // Right(Uint8Array []) (one empty fixed block)
 */
export function inflateRaw(bytes: Uint8Array, maxOutput: number): E.Either<LoadError, Uint8Array> {
  const limit = checkLimit("inflate", maxOutput);
  if (E.isLeft(limit)) return limit;
  return E.flatMap(
    decoding("inflate", () => inflateFrom(bytes, 0, bytes.length, limit.right, bytes.length * 4)),
    (r) => (r.end === bytes.length ? E.right(r.output) : fail("inflate", `${bytes.length - r.end} bytes follow the end of the stream`)),
  );
}

/**
 * True when `bytes` start with the gzip magic number (1f 8b), as the readers
 * tell a compressed file from a plain one.
 *
 * @example
 * isGzip(new Uint8Array([0x1f, 0x8b, 8, 0])); // true
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const FTEXT = 1;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** The offset just past a zero-terminated field starting at `at`. */
function skipZeroTerminated(bytes: Uint8Array, at: number, what: string): number {
  const zero = bytes.indexOf(0, at);
  if (zero < 0) stop(`the header's ${what} has no terminating zero`);
  return zero + 1;
}

/** Decodes one gzip member starting at `start`; returns its data and where it ends. */
function member(bytes: Uint8Array, start: number, room: number): { output: Uint8Array; end: number } {
  const u16 = (at: number): number => (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
  const u32 = (at: number): number => (u16(at) | (u16(at + 2) << 16)) >>> 0;
  if (bytes.length - start < 18) stop(`a member at byte ${start} is ${bytes.length - start} bytes long, shorter than a header and trailer (18)`);
  if (bytes[start] !== 0x1f || bytes[start + 1] !== 0x8b) stop(`no gzip magic number at byte ${start}`);
  if (bytes[start + 2] !== 8) stop(`compression method ${bytes[start + 2] ?? 0} is not deflate (8)`);
  const flags = bytes[start + 3] ?? 0;
  if ((flags & ~(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT)) !== 0) stop(`reserved header flags are set (0x${flags.toString(16)})`);
  let at = start + 10;
  if (flags & FEXTRA) {
    if (at + 2 > bytes.length) stop("the header's extra field is truncated");
    at += 2 + u16(at);
    if (at > bytes.length) stop("the header's extra field is truncated");
  }
  if (flags & FNAME) at = skipZeroTerminated(bytes, at, "file name");
  if (flags & FCOMMENT) at = skipZeroTerminated(bytes, at, "comment");
  if (flags & FHCRC) {
    if (at + 2 > bytes.length) stop("the header's CRC-16 is truncated");
    const expected = crc32(bytes.subarray(start, at)) & 0xffff;
    if (u16(at) !== expected) stop(`the header's CRC-16 is 0x${u16(at).toString(16)}, its bytes give 0x${expected.toString(16)}`);
    at += 2;
  }
  if (at + 8 > bytes.length) stop("the stream is truncated");
  const { output, end } = inflateFrom(bytes, at, bytes.length - 8, room, (bytes.length - at) * 4);
  if (end + 8 > bytes.length) stop("the trailer is truncated");
  const crc = crc32(output);
  if (u32(end) !== crc) stop(`the CRC-32 is 0x${u32(end).toString(16)}, the data gives 0x${crc.toString(16)}`);
  if (u32(end + 4) !== output.length % 2 ** 32) stop(`the size is ${u32(end + 4)} (mod 2^32), the data has ${output.length} bytes`);
  return { output, end: end + 8 };
}

/**
 * Decodes a gzip file (RFC 1952): each member's header (with its optional
 * extra field, name, comment and header CRC), its DEFLATE data, and its
 * CRC-32 and size, all checked; members one after another are joined, as
 * `gunzip` does. A `Left` names what is wrong, including an output that
 * would exceed `maxOutput` bytes. Never throws.
 *
 * @example
 * gunzip(fileBytes, 64 * 2 ** 20); // Right(the decompressed bytes), at most 64 MiB
 */
export function gunzip(bytes: Uint8Array, maxOutput: number): E.Either<LoadError, Uint8Array> {
  const limit = checkLimit("gunzip", maxOutput);
  if (E.isLeft(limit)) return limit;
  return decoding("gunzip", () => {
    if (!isGzip(bytes)) stop("the data does not start with the gzip magic number 1f 8b");
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let at = 0; at < bytes.length; ) {
      const m = member(bytes, at, limit.right - total);
      parts.push(m.output);
      total += m.output.length;
      at = m.end;
    }
    if (parts.length === 1 && parts[0] !== undefined) return parts[0];
    const out = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  });
}

/**
 * Inflates the raw DEFLATE data of `bytes[start, end)`, which must end
 * exactly at `end`, into at most `maxOutput` bytes (zip entries use this).
 */
export function inflateRange(reader: string, bytes: Uint8Array, start: number, end: number, maxOutput: number): E.Either<LoadError, Uint8Array> {
  return E.flatMap(
    decoding(reader, () => inflateFrom(bytes, start, end, maxOutput, (end - start) * 4)),
    (r) => (r.end === end ? E.right(r.output) : fail(reader, `${end - r.end} bytes follow the end of the deflated data`)),
  );
}
