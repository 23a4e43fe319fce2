import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, errorDocument, oneDocument, removeTempDirs, ROOT, tau, TAU_BIN, tempDir } from "./helpers/tau-cli";

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const REAL_SDK_TYPES = join(ROOT, "dist", "sdk-types", "index.d.ts");

/** tsc on a folder's tsconfig.json: exit code and diagnostics. */
async function typecheck(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [TSC, "-p", join(dir, "tsconfig.json")], { cwd: dir });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/**
 * A Tau installation whose SDK declarations are a small stand-in, so that `init` is tested on its own:
 * the built bin.js copied into `<pkg>/dist/cli/`, a package.json named "tau", declarations under
 * `<pkg>/dist/sdk-types/`, and the checkout's node_modules linked in for clipanion and ws.
 */
function fakeInstallation(): string {
  const pkg = tempDir("tau-pkg-");
  mkdirSync(join(pkg, "dist", "cli"), { recursive: true });
  mkdirSync(join(pkg, "dist", "sdk-types", "internal"), { recursive: true });
  copyFileSync(TAU_BIN, join(pkg, "dist", "cli", "bin.js"));
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "tau", version: "9.9.9" }));
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
  const types = join(pkg, "dist", "sdk-types");
  writeFileSync(
    join(types, "internal", "step.d.ts"),
    `export interface Step { rowsIn: number | null; rowsOut: number | null }\n`,
  );
  writeFileSync(
    join(types, "index.d.ts"),
    `import type { Step } from "./internal/step";
export interface Context { params: Record<string, unknown>; step<T>(name: string, fn: (step: Step) => Promise<T>): Promise<T> }
export interface PipelineMeta { name: string; description?: string; schedule?: string }
export interface Pipeline { readonly meta: PipelineMeta }
export declare function pipeline(meta: PipelineMeta, fn: (ctx: Context) => Promise<unknown>): Pipeline;
`,
  );
  writeFileSync(
    join(types, "connectors.d.ts"),
    `export interface DuckDb { query(sql: string): Promise<Record<string, unknown>[]>; [Symbol.asyncDispose](): Promise<void> }
export declare function duckdb(options: { path: string }): DuckDb;
`,
  );
  writeFileSync(join(types, "README.md"), "not a declaration\n");
  return pkg;
}

let bin: string;

afterAll(removeTempDirs);

beforeAll(() => {
  assertBuilt();
  bin = join(fakeInstallation(), "dist", "cli", "bin.js");
});

describe("tau init", () => {
  it("writes tsconfig.json, the SDK declarations and an example pipeline, and prints what it wrote", async () => {
    const dir = join(tempDir("tau-init-"), "pipelines");
    const result = await tau(["init", dir], { bin });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "init.schema.json");
    expect(doc).toMatchObject({ dir, example: "hello.ts", overwritten: [] });
    expect(doc.files).toEqual([
      ".tau/types/connectors.d.ts",
      ".tau/types/index.d.ts",
      ".tau/types/internal/step.d.ts",
      "hello.ts",
      "tsconfig.json",
    ]);
    expect(doc.modules).toEqual({ tau: "./.tau/types/index.d.ts", "tau/connectors": "./.tau/types/connectors.d.ts" });
    const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8"));
    expect(tsconfig.compilerOptions.paths).toEqual({ tau: ["./.tau/types/index.d.ts"], "tau/connectors": ["./.tau/types/connectors.d.ts"] });
    expect(existsSync(join(dir, ".tau", "types", "README.md"))).toBe(false);
  });

  it("produces a folder where tsc type-checks the example and a pipeline using `await using`", async () => {
    const dir = tempDir("tau-init-");
    expect((await tau(["init", dir], { bin })).code).toBe(0);
    writeFileSync(
      join(dir, "counts.ts"),
      `import { pipeline } from "tau";
import { duckdb } from "tau/connectors";

export default pipeline({ name: "counts", schedule: "0 6 * * *" }, async (ctx) => {
  await using db = duckdb({ path: "warehouse.duckdb" });
  const rows = await ctx.step("count", async (step) => {
    const result = await db.query("SELECT count(*) AS n FROM orders");
    step.rowsOut = result.length;
    return result;
  });
  return { rows: rows.length, day: ctx.params.day ?? null };
});
`,
    );
    const checked = await typecheck(dir);
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("produces a folder where tsc reports a pipeline's type errors", async () => {
    const dir = tempDir("tau-init-");
    expect((await tau(["init", dir], { bin })).code).toBe(0);
    writeFileSync(join(dir, "bad.ts"), `import { pipeline } from "tau";\nexport default pipeline({ nme: "x" }, async () => process.exit(1));\n`);
    const checked = await typecheck(dir);
    expect(checked.code).not.toBe(0);
    expect(checked.output).toContain("bad.ts(2,");
    // No Node types in a pipeline folder: the sandbox has no `process`.
    expect(checked.output).toContain("'process'");
  });

  it("refuses to overwrite an existing tsconfig.json without --force, leaving it untouched", async () => {
    const dir = tempDir("tau-init-");
    writeFileSync(join(dir, "tsconfig.json"), "{}\n");
    const result = await tau(["init", dir], { bin });
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_INIT_TARGET_EXISTS").details).toEqual({ dir, files: ["tsconfig.json"] });
    expect(readFileSync(join(dir, "tsconfig.json"), "utf8")).toBe("{}\n");
    expect(existsSync(join(dir, "hello.ts"))).toBe(false);
    expect(existsSync(join(dir, ".tau"))).toBe(false);
  });

  it("overwrites with --force and says which files it replaced", async () => {
    const dir = tempDir("tau-init-");
    writeFileSync(join(dir, "tsconfig.json"), "{}\n");
    const result = await tau(["init", dir, "--force"], { bin });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "init.schema.json").overwritten).toEqual(["tsconfig.json"]);
    expect(JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")).compilerOptions.paths.tau).toBeDefined();
  });

  it("defaults DIR to the current directory", async () => {
    const dir = tempDir("tau-init-");
    const result = await tau(["init"], { bin, cwd: dir });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "init.schema.json").dir).toBe(dir);
    expect(existsSync(join(dir, "hello.ts"))).toBe(true);
  });

  it.skipIf(!existsSync(REAL_SDK_TYPES))("with the real SDK declarations, type-checks its example and the repository's examples", async () => {
    const dir = tempDir("tau-init-real-");
    const result = await tau(["init", dir]);
    expect(result.code).toBe(0);
    expect(oneDocument(result, "init.schema.json").modules).toMatchObject({ tau: "./.tau/types/index.d.ts", "tau/connectors": "./.tau/types/connectors.d.ts" });
    for (const file of readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".ts"))) {
      copyFileSync(join(ROOT, "examples", file), join(dir, file));
    }
    const checked = await typecheck(dir);
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });
});
