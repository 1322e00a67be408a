import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { helpText, parseOptions, USAGE_EXIT_CODE } from "../../examples/cli.js";
import { DEMO_COMMAND, DEMO_OPTIONS, DEMO_SUMMARY } from "../../examples/demo.js";

const parse = (argv: readonly string[]) => parseOptions(argv, DEMO_OPTIONS);
const error = (argv: readonly string[]): string => {
  const r = parse(argv);
  return E.isLeft(r) ? r.left : "no error";
};

describe("the demo's command line", () => {
  test("gives the defaults when no option is given", () => {
    expect(parse([])).toEqual(E.right({ kind: "run", values: { epochs: DEMO_OPTIONS.epochs.default, "batch-size": 32, lr: 2e-3, seed: 0, out: "out" } }));
  });

  test("reads every option, with = or a separate value", () => {
    const r = parse(["--epochs", "2", "--batch-size=64", "--lr", "1e-3", "--seed", "7", "--out", "/tmp/run"]);
    expect(r).toEqual(E.right({ kind: "run", values: { epochs: 2, "batch-size": 64, lr: 0.001, seed: 7, out: "/tmp/run" } }));
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
    expect(error(["--batch-size", "8001"])).toBe("--batch-size: expected a value from 1 to 8000, got 8001");
    expect(error(["--lr=-1"])).toBe("--lr: expected a value from 1e-9 to 10, got -1");
    expect(error(["--lr", "-1"])).toMatch(/ambiguous/); // parseArgs reads "-1" as a possible option
    expect(error(["--lr", "NaN"])).toBe('--lr: expected a number, got "NaN"');
    expect(error(["--lr", ""])).toBe('--lr: expected a number, got ""');
    expect(error(["--seed", "0x10"])).toBe('--seed: expected an integer, got "0x10"');
    expect(error(["--out", ""])).toBe("--out: expected a non-empty value");
  });

  test("exits with code 2 on a usage error", () => {
    expect(USAGE_EXIT_CODE).toBe(2);
  });

  test("has a help that lists every option with its default", () => {
    const help = helpText(DEMO_COMMAND, DEMO_SUMMARY, DEMO_OPTIONS);
    for (const name of [...Object.keys(DEMO_OPTIONS), "help"]) expect(help).toContain(`--${name}`);
    expect(help).toContain("(default 0.002)");
    expect(help.startsWith("Usage: npm run demo -- [options]")).toBe(true);
  });
});
