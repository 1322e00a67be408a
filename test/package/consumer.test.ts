/**
 * The published package as a consumer meets it: the tarball's contents, a
 * model program type-checked against the packed `.d.ts` by TypeScript 6 and
 * 7 under `nodenext` and `bundler` resolution (strict, no skipLibCheck, no
 * Node typings for the main entry), a mismatched stack refused with its
 * `ShapeError` text, the compiled program run in Node and compared bit for
 * bit with the same program built from the repo's sources, and the tarball
 * linted by publint and Are the Types Wrong.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { describe, expect, inject, test } from "vitest";
import { compilersIn } from "../../types/compilers.js";

const { dir, tarball, tarballBytes } = inject("consumer");
const root = resolve(import.meta.dirname, "..", "..");

const compilers = compilersIn(root);

const resolutions = {
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
} as const;

/** Writes a tsconfig for `files` into the consumer project and returns its name. */
function tsconfig(name: string, resolution: keyof typeof resolutions, files: readonly string[], types: readonly string[], emit?: string): string {
  const compilerOptions = {
    target: "es2022",
    lib: ["es2022"],
    ...resolutions[resolution],
    types,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    ...(emit === undefined ? { noEmit: true } : { outDir: emit }),
  };
  const file = `tsconfig.${name}.json`;
  writeFileSync(join(dir, file), `${JSON.stringify({ compilerOptions, files }, null, 2)}\n`);
  return file;
}

/** Runs a compiler on a tsconfig in the consumer project: its exit status and everything it printed. */
function compile(compiler: string, config: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [compiler, "-p", config, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Runs a JavaScript file with Node in the consumer project and parses the JSON line it prints. */
function runJson(file: string): unknown {
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }));
}

describe("the tarball", () => {
  const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");

  test("ships dist/ with declarations and maps, the README and the license", () => {
    console.log(`tarball ${tarball.split("/").pop()}: ${tarballBytes} bytes, ${listing.length} files`);
    for (const file of ["package/package.json", "package/README.md", "package/LICENSE", "package/dist/index.js", "package/dist/index.d.ts", "package/dist/index.d.ts.map", "package/dist/node/index.js", "package/dist/node/index.d.ts"]) {
      expect(listing).toContain(file);
    }
  });

  test("ships no tests, laws, benches, examples or build output of the repo", () => {
    expect(listing.filter((f) => /^package\/(test|laws|types|bench|examples|\.build|\.ci|out)\//.test(f))).toEqual([]);
  });

  test("the main entry imports nothing from node:*; only stratum/node does", () => {
    const installed = join(dir, "node_modules", "stratum", "dist");
    const offenders: string[] = [];
    const walk = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory() && entry.name !== "node") walk(path);
        else if (entry.isFile() && /\.(js|d\.ts)$/.test(entry.name) && /from "node:|import\("node:/.test(readFileSync(path, "utf8"))) offenders.push(path);
      }
    };
    walk(installed);
    expect(offenders).toEqual([]);
  });
});

describe.each(Object.entries(compilers))("a consumer compiled by %s", (compilerName, compiler) => {
  describe.each(Object.keys(resolutions) as (keyof typeof resolutions)[])("with moduleResolution %s", (resolution) => {
    const tag = `${compilerName.replace(" ", "")}-${resolution}`;

    test("type-checks the model program without Node or DOM typings", () => {
      const r = compile(compiler, tsconfig(`${tag}-main`, resolution, ["main.ts", "program.ts", "browser-page.ts"], []));
      expect(r.output).toBe("");
      expect(r.status).toBe(0);
    });

    test("type-checks a program that uses stratum/node with @types/node", () => {
      const r = compile(compiler, tsconfig(`${tag}-node`, resolution, ["node-main.ts"], ["node"]));
      expect(r.output).toBe("");
      expect(r.status).toBe(0);
    });

    test("refuses a mismatched layer stack, naming the layer and the dims", () => {
      const r = compile(compiler, tsconfig(`${tag}-bad`, resolution, ["bad-stack.ts"], []));
      expect(r.status).not.toBe(0);
      expect(r.output).toContain('ShapeError<"sequential: layer 2 expects [..., 256] but gets [..., 512]">');
    });

    test("keeps literal dims in the published types: a wrong output annotation is refused", () => {
      const r = compile(compiler, tsconfig(`${tag}-dims`, resolution, ["wrong-dims.ts"], []));
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/wrong-dims\.ts\(\d+,\d+\): error TS2322: Type 'Tensor<\[64, 10\].*' is not assignable to type 'Tensor<\[64, 11\].*'/);
    });
  });
});

describe("the compiled program in Node", () => {
  test("trains (the loss falls) through the WebAssembly kernels, as the repo's own sources do, bit for bit", () => {
    const r = compile(compilers["TypeScript 6"], tsconfig("emit", "nodenext", ["main.ts", "program.ts"], [], "out"));
    expect(r.output).toBe("");
    const fromPackage = runJson("out/main.js") as { wasm: boolean; losses: number[]; logitsShape: number[]; logits: number[] };
    expect(fromPackage.wasm).toBe(true);
    expect(fromPackage.losses).toHaveLength(12);
    expect(fromPackage.losses.every(Number.isFinite)).toBe(true);
    expect(fromPackage.losses[11]).toBeLessThan(0.8 * (fromPackage.losses[0] ?? 0));
    expect(fromPackage.logitsShape).toEqual([64, 10]);

    buildSync({ entryPoints: [join(dir, "main.ts")], bundle: true, platform: "node", format: "esm", outfile: join(dir, "from-sources.mjs"), alias: { stratum: join(root, "src", "index.ts") }, logLevel: "error" });
    expect(runJson("from-sources.mjs")).toEqual(fromPackage);
  });

  test("stratum/node saves and loads a typed tree", () => {
    const r = compile(compilers["TypeScript 6"], tsconfig("emit-node", "nodenext", ["node-main.ts"], ["node"], "out"));
    expect(r.output).toBe("");
    expect(runJson("out/node-main.js")).toEqual({ loaded: true, shape: [4, 3], same: true });
  });
});

describe("package linters", () => {
  test("publint finds nothing to report in the tarball", () => {
    const out = execFileSync(process.execPath, [join(root, "node_modules", "publint", "src", "cli.js"), "run", tarball, "--level", "suggestion"], { cwd: dir, encoding: "utf8" });
    expect(out).toMatch(/All good!/);
  });

  test("Are the Types Wrong finds no problem for ESM consumers (node16 ESM and bundler)", () => {
    const r = spawnSync(process.execPath, [join(root, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js"), tarball, "--profile", "esm-only", "--no-definitely-typed", "--format", "json"], { cwd: dir, encoding: "utf8" });
    // The JSON lists the problems of every resolution mode; an ESM-only package is judged on node16 ESM and bundler.
    const report = JSON.parse(r.stdout) as { analysis?: { problems?: { resolutionKind?: string }[] } };
    const esm = (report.analysis?.problems ?? []).filter((p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs");
    expect(esm).toEqual([]);
    expect(r.status).toBe(0);
  });
});
