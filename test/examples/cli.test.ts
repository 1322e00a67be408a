import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test, vi } from "vitest";
import { helpText, optionsOrExit, parseOptions, USAGE_EXIT_CODE } from "../../examples/cli.js";
import { DEMO_COMMAND, DEMO_OPTIONS, DEMO_SUMMARY } from "../../examples/demo.js";

const parse = (argv: readonly string[]) => parseOptions(argv, DEMO_OPTIONS);
const error = (argv: readonly string[]): string => {
  const r = parse(argv);
  return E.isLeft(r) ? r.left : "no error";
};

describe("the demo's command line", () => {
  test("gives the defaults when no option is given", () => {
    expect(parse([])).toEqual(E.right({ kind: "run", values: { epochs: DEMO_OPTIONS.epochs.default, "batch-size": 128, lr: 8e-3, seed: 0, out: "out", quick: false } }));
  });

  test("reads every option, with = or a separate value", () => {
    const r = parse(["--epochs", "2", "--batch-size=32", "--lr", "1e-3", "--seed", "7", "--out", "/tmp/run", "--quick"]);
    expect(r).toEqual(E.right({ kind: "run", values: { epochs: 2, "batch-size": 32, lr: 0.001, seed: 7, out: "/tmp/run", quick: true } }));
  });

  test("a flag takes no value", () => {
    expect(error(["--quick=yes"])).toMatch(/--quick/);
  });

  test("asks for the help with --help, whatever else is given", () => {
    expect(parse(["--help"])).toEqual(E.right({ kind: "help" }));
    expect(parse(["--epochs", "3", "--help"])).toEqual(E.right({ kind: "help" }));
  });

  test("rejects an unknown option", () => {
    expect(error(["--epoch", "3"])).toMatch(/Unknown option '--epoch'/);
  });

  test("rejects a stray positional argument", () => {
    expect(error(["3"])).toMatch(/positional argument/);
  });

  test("rejects an option without its value", () => {
    expect(error(["--epochs"])).toMatch(/--epochs/);
  });

  test("rejects values that are not numbers, fractions for integers and values out of range", () => {
    expect(error(["--epochs", "two"])).toBe('--epochs: expected an integer, got "two"');
    expect(error(["--epochs", "1.5"])).toBe('--epochs: expected an integer, got "1.5"');
    expect(error(["--epochs", "0"])).toBe("--epochs: expected a value from 1 to 1000, got 0");
    expect(error(["--batch-size", "54001"])).toBe("--batch-size: expected a value from 1 to 54000, got 54001");
    expect(error(["--lr=-1"])).toBe("--lr: expected a value from 1e-9 to 10, got -1");
    expect(error(["--lr", "-1"])).toMatch(/ambiguous/); // parseArgs reads "-1" as a possible option
    expect(error(["--lr", "NaN"])).toBe('--lr: expected a number, got "NaN"');
    expect(error(["--lr", ""])).toBe('--lr: expected a number, got ""');
    expect(error(["--seed", "0x10"])).toBe('--seed: expected an integer, got "0x10"');
    expect(error(["--out", ""])).toBe("--out: expected a non-empty value");
  });

  /** What `optionsOrExit` wrote and the code it exited with; `process.exit` is replaced by a throw for the call. */
  function run(argv: readonly string[]): { code: number | undefined; stdout: string; stderr: string } {
    const written = { stdout: "", stderr: "" };
    class Exit extends Error {
      constructor(readonly code: number | undefined) {
        super(`exit ${String(code)}`);
      }
    }
    const exit = vi.spyOn(process, "exit").mockImplementation((code) => {
      throw new Exit(typeof code === "number" ? code : undefined);
    });
    const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((written.stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((written.stderr += String(chunk)), true));
    try {
      optionsOrExit(argv, DEMO_COMMAND, DEMO_SUMMARY, DEMO_OPTIONS);
      return { code: undefined, ...written };
    } catch (e) {
      if (e instanceof Exit) return { code: e.code, ...written };
      throw e;
    } finally {
      exit.mockRestore();
      out.mockRestore();
      err.mockRestore();
    }
  }

  test("a usage error prints the message and the help to stderr and exits with code 2", () => {
    expect(USAGE_EXIT_CODE).toBe(2);
    const bad = run(["--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*bogus/);
    expect(bad.stderr).toContain("Usage: npm run demo -- [options]");
    expect(bad.stdout).toBe("");
  });

  test("--help prints the help to stdout and exits with 0; good options return their values", () => {
    const help = run(["--help"]);
    expect([help.code, help.stderr]).toEqual([0, ""]);
    expect(help.stdout).toContain("Usage: npm run demo -- [options]");
    expect(run(["--epochs", "3"])).toEqual({ code: undefined, stdout: "", stderr: "" });
  });

  test("has a help that lists every option with its default", () => {
    const help = helpText(DEMO_COMMAND, DEMO_SUMMARY, DEMO_OPTIONS);
    for (const name of [...Object.keys(DEMO_OPTIONS), "help"]) expect(help).toContain(`--${name}`);
    expect(help).toContain("(default 0.008)");
    expect(help).toMatch(/--quick +a smoke test/);
    expect(help.startsWith("Usage: npm run demo -- [options]")).toBe(true);
  });
});
