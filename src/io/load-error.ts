/**
 * The one error type of loading: what is wrong with a file, or with how it
 * fits the tree it is loaded into.
 *
 * Readers never throw past their API: every failure is a `Left(LoadError)`.
 * `message` is one readable line (or several, one per problem); `problems`
 * lists each problem on its own, so that `loadTree` can report every
 * mismatch at once instead of the first.
 */

/**
 * A file that cannot be loaded, with every problem found.
 *
 * @example
 * new LoadError(["missing tensor \"w\""]).message; // 'missing tensor "w"'
 */
export class LoadError extends Error {
  /** Each problem, one sentence each; never empty. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    this.name = "LoadError";
    this.problems = Object.freeze(problems.slice());
  }
}

/** A `LoadError` with the single problem `"safetensors: detail"`. */
export function loadError(detail: string): LoadError {
  return new LoadError([`safetensors: ${detail}`]);
}
