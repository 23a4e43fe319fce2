import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtOrThrow, cleanup, pipelineFile, startDaemon, tau, tempHome, type Daemon } from "./harness";

let daemon: Daemon;
let dir: string;
const SECRET = "s3cr3t-Value-9731";

beforeAll(async () => {
  builtOrThrow();
  dir = tempHome("tau-e2e-src-");
  daemon = await startDaemon({ env: { E2E_SECRET_DIR: `/nonexistent/${SECRET}` } });
});
afterAll(async () => {
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
  cleanup(dir);
});

const lineOf = (source: string, needle: string): number => source.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("failures an agent has to diagnose", () => {
  it("points a thrown error at its step, line and column in the file as written", async () => {
    const source = [
      'import { pipeline } from "tau";',
      "",
      "interface Row { id: number }",
      "",
      'export default pipeline({ name: "boom" }, async (ctx) => {',
      '  const rows: Row[] = await ctx.step("extract", async () => [{ id: 1 }]);',
      '  await ctx.step("transform", async () => {',
      "    if (rows.length > 0) {",
      '      throw new Error("bad row " + rows[0].id);',
      "    }",
      "  });",
      "});",
      "",
    ].join("\n");
    const file = pipelineFile(dir, "boom", source);
    expect((await tau(daemon, ["deploy", file])).code).toBe(0);
    const r = await tau(daemon, ["run", "boom"]);
    expect(r.code).toBe(1);
    expect(r.json.status).toBe("failed");
    expect(r.json.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", message: "bad row 1", step: "transform" });
    expect(r.json.error.line).toBe(lineOf(source, "throw new Error"));
    expect(r.json.error.column).toBe(source.split("\n")[r.json.error.line - 1].indexOf("new Error") + 1);
    expect(r.json.error.hint.length).toBeGreaterThan(0);
    expect(r.json.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ["extract", "succeeded"],
      ["transform", "failed"],
    ]);

    const errors = await tau(daemon, ["errors", "--limit", "5"]);
    expect(errors.code).toBe(0);
    const mine = errors.json.errors.find((e: { pipeline: string }) => e.pipeline === "boom");
    expect(mine.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", step: "transform", line: r.json.error.line });
  });

  it("refuses a file with type errors at its line, keeps the previous version, and deploys it with --no-typecheck", async () => {
    const good = 'import { pipeline } from "tau";\nexport default pipeline({ name: "typed" }, async () => ({ ok: true }));\n';
    const file = pipelineFile(dir, "typed", good);
    expect((await tau(daemon, ["deploy", file])).json.version).toBe(1);

    const bad = 'import { pipeline } from "tau";\nexport default pipeline({ name: "typed" }, async (ctx) => {\n  const n: number = ctx.runId;\n  return { n };\n});\n';
    pipelineFile(dir, "typed", bad);
    const refused = await tau(daemon, ["deploy", file]);
    expect(refused.code).toBe(3);
    expect(refused.json.error.code).toBe("TAU_E_DEPLOY_TYPECHECK");
    expect(refused.json.error.details.errors[0]).toMatchObject({ line: 3 });
    expect((await tau(daemon, ["code", "typed"])).json.source).toBe(good);

    const forced = await tau(daemon, ["deploy", file, "--no-typecheck"]);
    expect(forced.code).toBe(0);
    expect(forced.json.version).toBe(2);
  });

  it("refuses a pipeline that imports a Node module, naming the import's line", async () => {
    const file = pipelineFile(dir, "sneaky", 'import { pipeline } from "tau";\nimport { readFileSync } from "node:fs";\nexport default pipeline({ name: "sneaky" }, async () => readFileSync("/etc/passwd", "utf8"));\n');
    const r = await tau(daemon, ["deploy", file]);
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe("TAU_E_DEPLOY_IMPORT_FORBIDDEN");
    expect(r.json.error.details.errors[0].line).toBe(2);
    expect((await tau(daemon, ["inspect", "sneaky"])).json.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
  });

  it("never shows a secret's value, even when a driver error echoes it", async () => {
    const source = [
      'import { pipeline } from "tau";',
      'import { duckdb_local } from "tau/connectors";',
      'export default pipeline({ name: "leaky" }, async (ctx) => {',
      '  const dir = ctx.secret("E2E_SECRET_DIR");',
      '  ctx.log("opening " + dir);',
      '  await using db = duckdb_local(dir + "/warehouse.duckdb");',
      '  await db.extract("SELECT 1");',
      "});",
    ].join("\n");
    const file = pipelineFile(dir, "leaky", source);
    expect((await tau(daemon, ["deploy", file])).code).toBe(0);
    const r = await tau(daemon, ["run", "leaky"]);
    expect(r.json.status).toBe("failed");
    expect(r.json.error.code).toMatch(/^TAU_E_CONNECTOR_/);
    expect(r.json.error.line).toBe(7);
    const logs = await tau(daemon, ["logs", "leaky"]);
    for (const out of [r.stdout, logs.stdout, (await tau(daemon, ["errors"])).stdout]) {
      expect(out).not.toContain(SECRET);
    }
    expect(r.stdout).toContain("E2E_SECRET_DIR");
  });

  it("answers a missing pipeline, a bad --params and an unreachable daemon with codes and exit codes", async () => {
    const missing = await tau(daemon, ["run", "nope"]);
    expect(missing.code).toBe(3);
    expect(missing.json.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
    const params = await tau(daemon, ["run", "boom", "--params", "[1,2"]);
    expect(params.code).toBe(2);
    expect(params.json.error.code).toBe("TAU_E_PARAMS_INVALID");
    const down = await tau({ url: "http://127.0.0.1:9" }, ["list"]);
    expect(down.code).toBe(4);
    expect(down.json.error.code).toBe("TAU_E_DAEMON_UNREACHABLE");
  });
});
