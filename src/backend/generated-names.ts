/**
 * The only names and numbers that code generators print: local names of a
 * letter and digits, and integers checked to be safe.
 *
 * Every generator (the JavaScript loop kernels, the fast paths, the eager
 * elementwise loops) goes through these two functions, so no value that comes
 * from data, a file or a caller's string can reach an identifier or a number
 * in generated source. Left out: everything else a generator prints, which is
 * fixed text from the scalar-op table and the generators themselves.
 */

/**
 * A local name for generated code: a letter and digits, checked here so that
 * no generator can put anything else in an identifier position.
 */
export function localName(prefix: "a" | "b" | "c" | "i" | "j" | "k" | "m" | "n" | "o" | "s" | "t" | "v" | "x", index: number): string {
  return `${prefix}${safeInt(index)}`;
}

/** `n` printed for generated code, after checking that it is a safe integer. */
export function safeInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`codegen: ${String(n)} is not a safe integer`);
  return String(n);
}
