import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compilePipeline as compileWith, MAX_SOURCE_BYTES } from "../../sandbox/compile";
import { findPackageRoot, sdkTypesDir } from "../../sandbox/package-root";
import type { CompileInput, CompiledPipeline } from "../../sandbox/types";
import { TauError } from "../../server/contract";
import { builtSdkTypes } from "../runtime/sdk-types-fixture";

/** Compiles against declarations built from the tree (dist/ may be rebuilt by others meanwhile). */
function compilePipeline(input: CompileInput): Promise<CompiledPipeline> {
  return compileWith(input, { sdkTypesDir: builtSdkTypes() });
}

const VALID = `import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";

export default pipeline({ name: "orders_sync", schedule: "0 6 * * *", tags: ["warehouse"] }, async (ctx) => {
  await using db = duckdb_local();
  const rows = await ctx.step("extract", async (step) => {
    const data = await db.extract<{ id: number }>("SELECT * FROM orders WHERE updated_at > ?", [ctx.lastSuccessfulRun]);
    step.rowsOut = data.length;
    return data;
  });
  {
    await using load = ctx.step("load");
    load.rowsIn = rows.length;
    await db.load(rows, { table: "staging_orders", mode: "replace" });
  }
  console.log("done");
  return { loaded: rows.length };
});
`;

async function compileError(source: string, options: { filename?: string; typecheck?: boolean } = {}): Promise<TauError> {
  try {
    await compilePipeline({ source, filename: options.filename ?? "pipelines/orders.ts", typecheck: options.typecheck });
  } catch (err) {
    expect(err).toBeInstanceOf(TauError);
    return err as TauError;
  }
  throw new Error("expected compilePipeline to fail");
}

type Problem = { file: string; line: number; column: number; message: string };

function problems(err: TauError): Problem[] {
  return err.details.errors as Problem[];
}

describe("compilePipeline", () => {
  test("by default it type-checks against dist/sdk-types in Tau's package folder", () => {
    const root = findPackageRoot();
    expect(root).toBe(join(__dirname, "..", ".."));
    expect(sdkTypesDir(root)).toBe(join(root, "dist", "sdk-types"));
  });

  test("missing SDK declarations are a TAU_E_INTERNAL that says to build Tau", async () => {
    const err = await compileWith({ source: "export default 1;\n", filename: "p.ts" }, { sdkTypesDir: join(__dirname, "no-such-dir") }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TAU_E_INTERNAL", message: expect.stringContaining("npm run build") });
  });

  test("a valid pipeline compiles to an IIFE bundle, a source map naming the file, and the source's sha256", async () => {
    const compiled = await compilePipeline({ source: VALID, filename: "pipelines/orders.ts" });
    expect(compiled.bundle).toMatch(/^"use strict";\nvar __tau_pipeline_module = \(\(\) => \{/);
    expect(compiled.bundle).toContain("globalThis.__tau_sdk.core");
    expect(compiled.bundle).toContain("globalThis.__tau_sdk.connectors");
    const map = JSON.parse(compiled.sourceMap) as { version: number; sources: string[]; sourcesContent: string[] };
    expect(map.version).toBe(3);
    expect(map.sources).toContain("pipelines/orders.ts");
    expect(map.sourcesContent[map.sources.indexOf("pipelines/orders.ts")]).toBe(VALID);
    expect(compiled.hash).toBe(createHash("sha256").update(VALID).digest("hex"));
  });

  test("identical sources get identical hashes and bundles; a changed source gets a new hash", async () => {
    const a = await compilePipeline({ source: VALID, filename: "a.ts" });
    const b = await compilePipeline({ source: VALID, filename: "a.ts" });
    const c = await compilePipeline({ source: `${VALID}// changed\n`, filename: "a.ts" });
    expect(b.hash).toBe(a.hash);
    expect(b.bundle).toBe(a.bundle);
    expect(c.hash).not.toBe(a.hash);
  });

  test("await using is lowered for V8 without explicit resource management", async () => {
    const compiled = await compilePipeline({ source: VALID, filename: "p.ts" });
    expect(compiled.bundle).not.toMatch(/await using|\busing\s+\w+\s*=/);
    expect(compiled.bundle).toContain("__callDispose");
  });

  test("a syntax error is TAU_E_DEPLOY_SYNTAX with the file, line and column", async () => {
    const source = `import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async (ctx) => {\n  const a = ;\n});\n`;
    const err = await compileError(source);
    expect(err.code).toBe("TAU_E_DEPLOY_SYNTAX");
    expect(problems(err)[0]).toMatchObject({ file: "pipelines/orders.ts", line: 3, column: 13 });
    expect(err.message).toContain("pipelines/orders.ts:3:13");
  });

  test.each([
    ["node:fs", "Node.js"],
    ["fs", "Node.js"],
    ["./other", "one file"],
    ["lodash", "npm packages"],
  ])("importing %s is TAU_E_DEPLOY_IMPORT_FORBIDDEN pointing at the import line", async (spec, why) => {
    const source = `import { pipeline } from "tau";\n// a comment\nimport thing from "${spec}";\nexport default pipeline({ name: "x" }, async () => thing);\n`;
    const err = await compileError(source);
    expect(err.code).toBe("TAU_E_DEPLOY_IMPORT_FORBIDDEN");
    const [problem] = problems(err);
    expect(problem).toMatchObject({ file: "pipelines/orders.ts", line: 3, column: 19 });
    expect(problem!.message).toContain(`"${spec}"`);
    expect(problem!.message).toContain(why);
  });

  test("an unused or side-effect-only forbidden import is refused too, as is require()", async () => {
    const source = `import { pipeline } from "tau";\nimport os from "os";\nimport "./setup";\nconst cp = require("child_process");\nexport default pipeline({ name: "x" }, async () => cp);\n`;
    const err = await compileError(source, { typecheck: false });
    expect(err.code).toBe("TAU_E_DEPLOY_IMPORT_FORBIDDEN");
    expect(problems(err).map((p) => p.line)).toEqual([2, 3, 4]);
    expect(err.details.errorCount).toBe(3);
  });

  test("an import's column counts characters, not UTF-8 bytes", async () => {
    const source = `const é = "héllo"; import y from "lodash";\nexport default y;\n`;
    const err = await compileError(source, { typecheck: false });
    expect(problems(err)[0]).toMatchObject({ line: 1, column: 34 });
  });

  test("tau/materializations resolves to the guest runtime's module, like tau/connectors", async () => {
    const source = `import { pipeline } from "tau";\nimport { IncrementalConfig } from "tau/materializations";\nexport default pipeline({ name: "x" }, async () => String(IncrementalConfig));\n`;
    const compiled = await compilePipeline({ source, filename: "pipelines/orders.ts", typecheck: false });
    expect(compiled.bundle).toContain("globalThis.__tau_sdk.materializations");
  });

  test("a type error is TAU_E_DEPLOY_TYPECHECK at its line and column, and typecheck:false skips the check", async () => {
    const source = `import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async (ctx) => {\n  await ctx.step("s", async (step) => {\n    step.rowsOut = "many";\n  });\n});\n`;
    const err = await compileError(source);
    expect(err.code).toBe("TAU_E_DEPLOY_TYPECHECK");
    expect(problems(err)[0]).toMatchObject({ file: "pipelines/orders.ts", line: 4, column: 5 });
    expect(problems(err)[0]!.message).toContain("not assignable to type 'number'");
    const compiled = await compilePipeline({ source, filename: "pipelines/orders.ts", typecheck: false });
    expect(compiled.bundle).toContain("many");
  });

  test("the type check knows the SDK: a misspelt context member and wrong meta are reported", async () => {
    const source = `import { pipeline } from "tau";\nexport default pipeline({ name: "x", shedule: "0 * * * *" }, async (ctx) => {\n  ctx.lgo("hi");\n});\n`;
    const err = await compileError(source);
    expect(problems(err).map((p) => p.line)).toEqual([2, 3]);
  });

  test("Node globals are not assumed by the type check", async () => {
    const source = `import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => process.env.HOME);\n`;
    const err = await compileError(source);
    expect(err.code).toBe("TAU_E_DEPLOY_TYPECHECK");
    expect(problems(err)[0]!.message).toContain("process");
  });

  test("a JavaScript pipeline is bundled but not type-checked", async () => {
    const source = `import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async (ctx) => ctx.nope);\n`;
    const compiled = await compilePipeline({ source, filename: "p.mjs" });
    expect(compiled.bundle).toContain("ctx.nope");
  });

  test("a source over the size limit is TAU_E_DEPLOY_TOO_LARGE with the limit in details", async () => {
    const source = `// ${"x".repeat(MAX_SOURCE_BYTES)}\n`;
    const err = await compileError(source);
    expect(err.code).toBe("TAU_E_DEPLOY_TOO_LARGE");
    expect(err.details).toMatchObject({ limitBytes: MAX_SOURCE_BYTES, sizeBytes: MAX_SOURCE_BYTES + 4 });
  });

  test("malformed input is TAU_E_REQUEST_INVALID naming the field", async () => {
    const bad = async (input: unknown): Promise<TauError> => {
      try {
        await compilePipeline(input as never);
      } catch (err) {
        return err as TauError;
      }
      throw new Error("expected a failure");
    };
    expect((await bad({ source: 1, filename: "a.ts" })).details).toEqual({ field: "source" });
    expect((await bad({ source: "", filename: "" })).details).toEqual({ field: "filename" });
    expect((await bad({ source: "", filename: "a\n.ts" })).details).toEqual({ field: "filename" });
    expect((await bad({ source: "", filename: "a.ts", typecheck: "no" })).code).toBe("TAU_E_REQUEST_INVALID");
  });
});
