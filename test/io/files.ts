/**
 * Hand-built safetensors files for the tests: arbitrary header text and data,
 * any declared header length.
 */

/** A file whose header is `header` (UTF-8, or raw bytes) followed by `data`. */
export function fileOf(header: string | Uint8Array, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const json = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** A header entry's JSON. */
export function entry(dtype: string, shape: readonly number[], begin: number, end: number): string {
  return JSON.stringify({ dtype, shape, data_offsets: [begin, end] });
}
