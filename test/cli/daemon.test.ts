/**
 * tau against the real daemon, in this process: `createDaemon({home, port: 0})` from server/index.ts.
 * Skipped until the daemon and the built executor exist; every output is validated against its schema,
 * so a shape that drifts between server and CLI fails here.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, errorDocument, oneDocument, removeTempDirs, ROOT, schemas, tau, tempDir } from "./helpers/tau-cli";

const DAEMON_ENTRY = join(ROOT, "server", "index.ts");
const AVAILABLE = existsSync(DAEMON_ENTRY) && existsSync(join(ROOT, "dist", "server", "bin.js"));

const OK = `import { pipeline } from "tau";

export default pipeline({ name: "cli_ok", description: "counts" }, async (ctx) => {
  const n = await ctx.step("count", async (step) => {
    step.rowsOut = 3;
    return 3;
  });
  ctx.log("counted", { n });
  return { n, day: ctx.params.day ?? null };
});
`;

const FAILING = `import { pipeline } from "tau";

export default pipeline({ name: "cli_fail" }, async (ctx) => {
  await ctx.step("transform", async () => {
    if (ctx.params.good !== true) {
      throw new Error("bad row 1");
    }
  });
});
`;

const SLOW = `import { pipeline } from "tau";

export default pipeline({ name: "cli_slow" }, async (ctx) => {
  for (const name of ["a", "b", "c"]) {
    await ctx.step(name, async () => {
      ctx.log("spinning " + name);
      const end = Date.now() + 300;
      while (Date.now() < end) { /* hold the isolate */ }
    });
  }
  return { done: true };
});
`;

describe.skipIf(!AVAILABLE)("tau against the real taud", () => {
  let daemon: { url: string; close(): Promise<void> };
  let dir: string;
  const env = (): Record<string, string> => ({ TAU_HOST: daemon.url });

  beforeAll(async () => {
    assertBuilt();
    const { createDaemon } = (await import(DAEMON_ENTRY)) as {
      createDaemon(options: { home: string; port: number }): Promise<{ url: string; close(): Promise<void> }>;
    };
    daemon = await createDaemon({ home: tempDir("tau-cli-home-"), port: 0 });
    dir = tempDir("tau-cli-src-");
    writeFileSync(join(dir, "cli_ok.ts"), OK);
    writeFileSync(join(dir, "cli_fail.ts"), FAILING);
    writeFileSync(join(dir, "cli_slow.ts"), SLOW);
  });

  afterAll(async () => {
    await daemon?.close();
    removeTempDirs();
  });

  it("deploys files and reports an unchanged redeploy", async () => {
    for (const file of ["cli_ok.ts", "cli_fail.ts", "cli_slow.ts"]) {
      const result = await tau(["deploy", file], { env: env(), cwd: dir });
      expect(result.code, result.stdout).toBe(0);
      expect(oneDocument(result, "deploy.schema.json")).toMatchObject({ version: 1, changed: true });
    }
    const again = await tau(["deploy", "cli_ok.ts"], { env: env(), cwd: dir });
    expect(oneDocument(again, "deploy.schema.json")).toMatchObject({ version: 1, changed: false });
  });

  it("runs a pipeline to success with its params, exit 0", async () => {
    const result = await tau(["run", "cli_ok", "--params", '{"day": "2026-01-31"}'], { env: env() });
    expect(result.code, result.stdout).toBe(0);
    const run = oneDocument(result, "run.schema.json");
    expect(run).toMatchObject({ status: "succeeded", params: { day: "2026-01-31" }, result: { n: 3, day: "2026-01-31" } });
    expect(run.steps.map((s: { name: string; rowsOut: number }) => [s.name, s.rowsOut])).toEqual([["count", 3]]);
  });

  it("runs a failing pipeline, exit 1, with the error's line in the file as written", async () => {
    const result = await tau(["run", "cli_fail"], { env: env() });
    expect(result.code).toBe(1);
    const run = oneDocument(result, "run.schema.json");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", step: "transform", line: 6 });
  });

  it("prints every reading command's answer in its schema", async () => {
    const cases: Array<[string[], string]> = [
      [["list"], "list.schema.json"],
      [["inspect", "cli_ok"], "inspect.schema.json"],
      [["inspect", "cli_ok", "--last-run"], "inspect.schema.json"],
      [["code", "cli_ok", "--version", "1"], "code.schema.json"],
      [["runs", "cli_ok", "--last", "5"], "runs.schema.json"],
      [["errors", "--limit", "5"], "errors.schema.json"],
      [["logs", "cli_ok"], "logs.schema.json"],
      [["status"], "status.schema.json"],
      [["version"], "version.schema.json"],
    ];
    for (const [args, schema] of cases) {
      const result = await tau(args, { env: env() });
      expect(result.code, `tau ${args.join(" ")}: ${result.stdout}`).toBe(0);
      oneDocument(result, schema);
    }
    const errors = oneDocument(await tau(["errors"], { env: env() }), "errors.schema.json").errors;
    expect(errors.some((r: { pipeline: string }) => r.pipeline === "cli_fail")).toBe(true);
    const logs = oneDocument(await tau(["logs", "cli_ok"], { env: env() }), "logs.schema.json");
    expect(logs.logs.some((l: { message: string }) => l.message === "counted")).toBe(true);
    const version = oneDocument(await tau(["version"], { env: env() }), "version.schema.json");
    expect(version.compatible).toBe(true);
  });

  it("inspects a run by id and refuses a run of another pipeline", async () => {
    const last = oneDocument(await tau(["inspect", "cli_ok", "--last-run"], { env: env() }), "inspect.schema.json");
    const byId = await tau(["inspect", "cli_ok", "--run", last.id], { env: env() });
    expect(oneDocument(byId, "inspect.schema.json").id).toBe(last.id);
    const other = await tau(["inspect", "cli_fail", "--run", last.id], { env: env() });
    expect(other.code).toBe(3);
    errorDocument(other, "TAU_E_RUN_NOT_FOUND");
  });

  it("answers an unknown pipeline with exit 3", async () => {
    const result = await tau(["run", "nope"], { env: env() });
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_PIPELINE_NOT_FOUND");
  });

  it("follows a running run's events as NDJSON in seq order until it finishes", async () => {
    const started = oneDocument(await tau(["run", "cli_slow", "--detach"], { env: env() }), "run.schema.json");
    const result = await tau(["logs", "cli_slow", "--run", started.id, "--follow"], { env: env(), timeoutMs: 30_000 });
    expect(result.code, result.stdout).toBe(0);
    const events = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    for (const event of events) expect(schemas.validate("logs-follow.schema.json", event)).toEqual([]);
    const seqs = events.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.at(-1).kind).toBe("run.finished");
    const logs = events.filter((e: { kind: string }) => e.kind === "log").map((e: { message: string }) => e.message);
    expect(logs).toEqual(["spinning a", "spinning b", "spinning c"]);
  });
});
