/**
 * Hand-built zip archives for the tests: stored or deflated (by Node's
 * zlib) entries, with any flag, CRC or size forged.
 */

import { deflateRawSync } from "node:zlib";
import { crc32 } from "../../src/io/inflate.js";

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
  readonly method?: 0 | 8;
  readonly flags?: number;
  readonly crc?: number;
  readonly size?: number;
}

/** A zip archive of `entries`, with fields forged where an entry says so. */
export function zipOf(entries: readonly ZipEntry[], comment = ""): Uint8Array {
  const enc = new TextEncoder();
  const locals: number[] = [];
  const central: number[] = [];
  const u16 = (x: number): number[] => [x & 0xff, (x >>> 8) & 0xff];
  const u32 = (x: number): number[] => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
  for (const e of entries) {
    const method = e.method ?? 0;
    const body = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const name = enc.encode(e.name);
    const crc = e.crc ?? crc32(e.data);
    const size = e.size ?? e.data.length;
    const common = [...u16(20), ...u16(e.flags ?? 0), ...u16(method), ...u16(0), ...u16(0), ...u32(crc), ...u32(body.length), ...u32(size), ...u16(name.length), ...u16(0)];
    central.push(...u32(0x02014b50), ...u16(20), ...common, ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(locals.length), ...name);
    locals.push(...u32(0x04034b50), ...common, ...name, ...body);
  }
  const end = [...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(entries.length), ...u16(entries.length), ...u32(central.length), ...u32(locals.length), ...u16(comment.length), ...enc.encode(comment)];
  return new Uint8Array([...locals, ...central, ...end]);
}
