/**
 * The host's globals beyond the language, typed without DOM or Node typings.
 *
 * Stratum compiles against plain ECMAScript 2022 so that a consumer without
 * `@types/node` and without the DOM library can type-check against it. The
 * few globals it uses from its host are `TextEncoder`, `TextDecoder` and
 * `WebAssembly`, each typed here with just the members it uses. Every engine
 * Stratum supports (Node 20, current browsers, Deno, Bun) has them; where a
 * codec is missing the call says so with an error rather than a `TypeError`
 * about `undefined`, and without WebAssembly the backend runs its JavaScript
 * kernels.
 *
 * Deliberately left out: encodings other than UTF-8, and the parts of the
 * WebAssembly API the backend does not call (streaming compilation, tables,
 * globals).
 */

interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}

/** The part of the WebAssembly JavaScript API the backend uses. */
export interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  /** A memory; a `shared` one (which needs a `maximum`) has a `SharedArrayBuffer` as its buffer. */
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => { readonly buffer: ArrayBufferLike; grow(pages: number): number };
}

/** The members of the global object read here (WHATWG Encoding, WebAssembly's JavaScript API). */
interface HostGlobals {
  readonly TextEncoder?: new () => Utf8Encoder;
  readonly TextDecoder?: new (label: "utf-8", options: { fatal: boolean; ignoreBOM: boolean }) => Utf8Decoder;
  readonly WebAssembly?: WebAssemblyApi;
}

// Sound: reading possibly-absent properties of the global object; each is checked before use.
const host = globalThis as HostGlobals;

/** The host's WebAssembly API, or undefined where the engine has none. */
export const hostWebAssembly: WebAssemblyApi | undefined = host.WebAssembly;

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
