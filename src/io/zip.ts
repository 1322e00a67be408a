/**
 * A small zip reader: the entries of an archive as bytes, by name, for
 * `.npz` files (which are zip archives of `.npy` files).
 *
 * The layout, from PKWARE's APPNOTE.TXT: the end-of-central-directory record
 * (found by scanning back over the archive comment), the central directory
 * it points to (one header per entry: method, CRC-32, sizes, the offset of
 * the entry's local header), and each local header followed by the entry's
 * data. Sizes come from the central directory and are checked against the
 * archive's length (and, for deflated entries, against DEFLATE's largest
 * expansion, 1032 to 1) before anything is allocated; each entry's CRC-32 is
 * checked. NumPy's `savez` marks its local headers as ZIP64 (Python's
 * `force_zip64`) while its central directory holds the real sizes, so only
 * an archive that needs ZIP64 (a field at its 0xFFFF or 0xFFFFFFFF mark, a
 * ZIP64 end record) is refused. Deliberately left out: ZIP64, encryption,
 * methods other than stored (0) and deflated (8), multi-disk archives, and
 * file names in code page 437 (names must be UTF-8, which ASCII is).
 */

import * as E from "fp-ts/lib/Either.js";
import { utf8DecodeStrict, utf8Encode } from "../core/host.js";
import { crc32, inflateRange } from "./inflate.js";
import type { LoadError } from "./load-error.js";
import { DEFAULT_MAX_BYTES, fail, guard } from "./reader-kit.js";

/** Options of the zip readers. */
export interface ZipOptions {
  /** The most bytes all entries together may hold once decompressed (default `DEFAULT_MAX_BYTES`, 1 GiB). */
  readonly maxBytes?: number;
}

const READER = "zip";

const END_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const END_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

/** DEFLATE's largest expansion: a 258-byte match costs at least 2 bits (zlib's technical notes give 1032:1). */
const MAX_DEFLATE_RATIO = 1032;

/** One entry as the central directory describes it. */
interface Entry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/** The offset of the end-of-central-directory record: the last signature whose comment ends the archive exactly. */
function findEnd(view: DataView): number | undefined {
  const last = view.byteLength - END_SIZE;
  for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
    if (view.getUint32(at, true) === END_SIGNATURE && at + END_SIZE + view.getUint16(at + 20, true) === view.byteLength) return at;
  }
  return undefined;
}

/**
 * The central directory's entries, checked against the archive before
 * anything else is read, and where the directory starts (the entries' data
 * lies before it).
 */
function centralDirectory(bytes: Uint8Array, view: DataView): E.Either<LoadError, { entries: Entry[]; cdOffset: number }> {
  const end = findEnd(view);
  if (end === undefined) return fail(READER, "no end-of-central-directory record (not a zip archive, or a truncated one)");
  if (end >= 20 && view.getUint32(end - 20, true) === ZIP64_LOCATOR_SIGNATURE) return fail(READER, "ZIP64 archives are not supported");
  const disk = view.getUint16(end + 4, true);
  const cdDisk = view.getUint16(end + 6, true);
  const countOnDisk = view.getUint16(end + 8, true);
  const count = view.getUint16(end + 10, true);
  const cdSize = view.getUint32(end + 12, true);
  const cdOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) return fail(READER, "ZIP64 archives are not supported");
  if (disk !== 0 || cdDisk !== 0 || countOnDisk !== count) return fail(READER, "multi-disk archives are not supported");
  if (cdOffset + cdSize > end) return fail(READER, `the central directory (${cdSize} bytes at ${cdOffset}) runs past the end record at ${end}`);
  if (count * CENTRAL_SIZE > cdSize) return fail(READER, `${count} entries cannot fit in a central directory of ${cdSize} bytes`);
  const entries: Entry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > cdOffset + cdSize) return fail(READER, `entry ${i}'s central header runs past the central directory`);
    if (view.getUint32(at, true) !== CENTRAL_SIGNATURE) return fail(READER, `entry ${i}: no central header signature at byte ${at}`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true);
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > cdOffset + cdSize) return fail(READER, `entry ${i}'s name and extra fields run past the central directory`);
    let name: string;
    try {
      name = utf8DecodeStrict(bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength));
    } catch {
      return fail(READER, `entry ${i}'s name is not UTF-8`);
    }
    const what = `entry ${JSON.stringify(name)}`;
    if (flags & 0x41) return fail(READER, `${what} is encrypted, which is not supported`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) return fail(READER, `${what} needs ZIP64, which is not supported`);
    if (method !== 0 && method !== 8) return fail(READER, `${what} uses compression method ${method}; only stored (0) and deflated (8) are supported`);
    if (method === 0 && compressedSize !== size) return fail(READER, `${what} is stored but its sizes differ (${compressedSize} and ${size})`);
    if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 258) {
      return fail(READER, `${what} declares ${size} bytes from ${compressedSize} deflated bytes, more than DEFLATE can expand to`);
    }
    entries.push({ name, method, crc, compressedSize, size, localOffset });
    at = next;
  }
  return E.right({ entries, cdOffset });
}

/** The start of an entry's data, after its local header, checked against the archive. */
function dataStart(bytes: Uint8Array, view: DataView, e: Entry, limit: number): E.Either<LoadError, number> {
  const at = `entry ${JSON.stringify(e.name)}`;
  if (e.localOffset + LOCAL_SIZE > limit) return fail(READER, `${at}: its local header at ${e.localOffset} runs past the entries' area`);
  if (view.getUint32(e.localOffset, true) !== LOCAL_SIGNATURE) return fail(READER, `${at}: no local header signature at byte ${e.localOffset}`);
  const nameLength = view.getUint16(e.localOffset + 26, true);
  const extraLength = view.getUint16(e.localOffset + 28, true);
  const start = e.localOffset + LOCAL_SIZE + nameLength + extraLength;
  if (start + e.compressedSize > limit) return fail(READER, `${at}: its ${e.compressedSize} bytes of data run past the entries' area`);
  const localName = bytes.subarray(e.localOffset + LOCAL_SIZE, e.localOffset + LOCAL_SIZE + nameLength);
  const centralName = utf8Encode(e.name);
  if (localName.length !== centralName.length || localName.some((b, i) => b !== centralName[i])) return fail(READER, `${at}: its local header names another file`);
  return E.right(start);
}

/**
 * The entries of a zip archive, by name, as their (decompressed) bytes:
 * stored and deflated entries, each CRC-32 checked. A `Left` names what is
 * wrong: no end record, ZIP64, encryption, another method, a size that does
 * not fit the archive, a bad CRC, a name given twice, or more than
 * `maxBytes` in all. Never throws.
 *
 * @example
 * readZip(bytes); // Right(Map { "x.npy" => Uint8Array [...] })
 */
export function readZip(bytes: Uint8Array, options: ZipOptions = {}): E.Either<LoadError, Map<string, Uint8Array>> {
  return guard(READER, () => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const directory = centralDirectory(bytes, view);
    if (E.isLeft(directory)) return directory;
    const { entries, cdOffset } = directory.right;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const total = entries.reduce((n, e) => n + e.size, 0);
    if (total > maxBytes) return fail(READER, `the entries hold ${total} bytes in all, more than the limit of ${maxBytes}`);
    const out = new Map<string, Uint8Array>();
    for (const e of entries) {
      const at = `entry ${JSON.stringify(e.name)}`;
      if (out.has(e.name)) return fail(READER, `${at} appears twice`);
      const start = dataStart(bytes, view, e, cdOffset);
      if (E.isLeft(start)) return start;
      const end = start.right + e.compressedSize;
      const data = e.method === 0 ? E.right(bytes.slice(start.right, end)) : inflateRange(`${READER}: ${at}`, bytes, start.right, end, e.size);
      if (E.isLeft(data)) return data;
      if (data.right.length !== e.size) return fail(READER, `${at} inflates to ${data.right.length} bytes, its header says ${e.size}`);
      const crc = crc32(data.right);
      if (crc !== e.crc) return fail(READER, `${at}: the CRC-32 is 0x${e.crc.toString(16)}, the data gives 0x${crc.toString(16)}`);
      out.set(e.name, data.right);
    }
    return E.right(out);
  });
}
