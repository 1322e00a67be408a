/**
 * The host's text codecs, typed without DOM or Node typings.
 *
 * Stratum compiles against plain ECMAScript 2022 so that a consumer without
 * `@types/node` and without the DOM library can type-check against it. The
 * few globals it uses from its host beyond the language are `TextEncoder`
 * and `TextDecoder` (here) and `WebAssembly` (typed where it is used, in the
 * loop backend's runtime). Every engine Stratum supports (Node 20, current
 * browsers, Deno, Bun) has them; where one is missing the call says so with
 * an error rather than a `TypeError` about `undefined`.
 *
 * Deliberately left out: any encoding but UTF-8.
 */

interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}

/** The members of the global object read here (WHATWG Encoding). */
interface TextCodecs {
  readonly TextEncoder?: new () => Utf8Encoder;
  readonly TextDecoder?: new (label: "utf-8", options: { fatal: boolean; ignoreBOM: boolean }) => Utf8Decoder;
}

// Sound: reading possibly-absent properties of the global object; each is checked before use.
const host = globalThis as TextCodecs;

let encoder: Utf8Encoder | undefined;
let strictDecoder: Utf8Decoder | undefined;

/**
 * The UTF-8 bytes of `text`.
 *
 * @example
 * utf8Encode("{}"); // Uint8Array [123, 125]
 */
export function utf8Encode(text: string): Uint8Array {
  if (encoder === undefined) {
    if (host.TextEncoder === undefined) throw new Error("stratum: this JavaScript engine has no TextEncoder");
    encoder = new host.TextEncoder();
  }
  return encoder.encode(text);
}

/**
 * The text of UTF-8 `bytes`, decoded strictly: a malformed sequence throws
 * (a `TypeError` from the engine) instead of becoming U+FFFD, and a leading
 * byte-order mark is kept as a character rather than dropped.
 *
 * @example
 * utf8DecodeStrict(new Uint8Array([123, 125])); // "{}"
 */
export function utf8DecodeStrict(bytes: Uint8Array): string {
  if (strictDecoder === undefined) {
    if (host.TextDecoder === undefined) throw new Error("stratum: this JavaScript engine has no TextDecoder");
    strictDecoder = new host.TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  }
  return strictDecoder.decode(bytes);
}
