/**
 * taud keeping all its state in PostgreSQL (TAU_DATABASE_URL), end to end with the real binaries: deploy,
 * run, inspect, logs, runs, schedule, dag run — then a restart of the daemon on a fresh home finds it all
 * still there, because none of it was in the home. A URL that leads nowhere is one JSON error, no stack.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { freshDatabase, type TestDatabase } from "../server/helpers/postgres";
import { builtOrThrow, cleanup, pipelineFile, ROOT, startDaemon, tau, tempHome, type Daemon } from "./harness";

let database: TestDatabase;
let daemon: Daemon | undefined;
const dir = tempHome("tau-e2e-pg-");
const homes: string[] = [];

const source = (name: string, body: string): string =>
  `import { pipeline } from "tau";\nexport default pipeline({ name: "${name}" }, async (ctx) => {\n${body}\n});\n`;

async function start(): Promise<Daemon> {
  const home = tempHome("tau-e2e-pg-home-");
  homes.push(home);
  return startDaemon({ home, env: { TAU_DATABASE_URL: database.url } });
}

beforeAll(async () => {
  builtOrThrow();
  database = await freshDatabase();
  daemon = await start();
});
afterAll(async () => {
  await daemon?.stop();
  await database?.drop();
  for (const home of homes) cleanup(home);
  cleanup(dir);
});

describe("taud with TAU_DATABASE_URL", () => {
  let runId = "";

  it("deploys, runs, inspects and shows logs and runs, all stored in PostgreSQL", async () => {
    const file = pipelineFile(dir, "pg_orders", source("pg_orders", '  await ctx.step("extract", async () => 3);\n  ctx.log.info("orders loaded", { n: 3 });\n  return { loaded: 3, at: "z" };'));
    const deployed = await tau(daemon!, ["deploy", file]);
    expect(deployed.code, deployed.stdout).toBe(0);

    const run = await tau(daemon!, ["run", "pg_orders"]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.json).toMatchObject({ pipeline: "pg_orders", status: "succeeded", result: { loaded: 3, at: "z" }, steps: [{ name: "extract", status: "succeeded" }] });
    // The result's key order survives the json column.
    expect(JSON.stringify(run.json.result)).toBe('{"loaded":3,"at":"z"}');
    runId = run.json.id;

    const inspected = await tau(daemon!, ["inspect", "pg_orders", "--last-run"]);
    expect(inspected.json).toMatchObject({ id: runId, status: "succeeded" });
    const logs = await tau(daemon!, ["logs", "pg_orders"]);
    expect(logs.json.logs.map((l: { message: string }) => l.message)).toContain("orders loaded");
    const runs = await tau(daemon!, ["runs", "pg_orders"]);
    expect(runs.json.runs.map((r: { id: string }) => r.id)).toEqual([runId]);

    // The rows are in PostgreSQL, not in the home.
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const stored = await client.query("select status, queued_at from run where id = $1", [runId]);
      expect(stored.rows[0]).toMatchObject({ status: "succeeded" });
      expect(Number(stored.rows[0].queued_at)).toBeGreaterThan(1.7e12);
    } finally {
      await client.end();
    }
    expect(spawnSync("test", ["-e", join(daemon!.home, "tau.db")]).status).not.toBe(0);
  });

  it("schedules and runs a graph", async () => {
    for (const name of ["pg_up", "pg_down"]) {
      expect((await tau(daemon!, ["deploy", pipelineFile(dir, name, source(name, "  return 1;"))])).code).toBe(0);
    }
    expect((await tau(daemon!, ["depends", "pg_down", "--on", "pg_up"])).code).toBe(0);
    const dag = await tau(daemon!, ["dag", "run"]);
    expect(dag.code, dag.stdout).toBe(0);
    expect(dag.json).toMatchObject({ status: "succeeded" });
    expect(dag.json.runs.map((r: { pipeline: string; status: string }) => [r.pipeline, r.status])).toEqual(
      expect.arrayContaining([["pg_up", "succeeded"], ["pg_down", "succeeded"], ["pg_orders", "succeeded"]]),
    );

    const set = await tau(daemon!, ["schedule", "pg_up", "--every", "1"]);
    expect(set.json).toMatchObject({ everySec: 1, enabled: true });
    const deadline = Date.now() + 20_000;
    let scheduled = 0;
    while (Date.now() < deadline && scheduled < 1) {
      const runs = await tau(daemon!, ["runs", "pg_up", "--last", "20"]);
      scheduled = runs.json.runs.filter((r: { trigger: string; status: string }) => r.trigger === "schedule" && r.status === "succeeded").length;
      await sleep(250);
    }
    expect(scheduled).toBeGreaterThanOrEqual(1);
    expect((await tau(daemon!, ["schedule", "pg_up", "--disable"])).json).toMatchObject({ enabled: false });
  });

  it("keeps everything through a restart on a fresh home", async () => {
    const before = (await tau(daemon!, ["runs", "pg_orders", "--last", "50"])).json.runs;
    expect(before.map((r: { id: string }) => r.id)).toContain(runId);
    await daemon!.stop();
    daemon = await start();
    const runs = await tau(daemon, ["runs", "pg_orders", "--last", "50"]);
    expect(runs.json.runs).toEqual(before);
    const list = await tau(daemon, ["list"]);
    expect(list.json.pipelines.map((p: { name: string }) => p.name).sort()).toEqual(["pg_down", "pg_orders", "pg_up"]);
    expect((await tau(daemon, ["schedule", "pg_up"])).json).toMatchObject({ everySec: 1, enabled: false });
    expect((await tau(daemon, ["depends", "pg_down"])).json).toMatchObject({ dependsOn: ["pg_up"] });
    const again = await tau(daemon, ["run", "pg_orders"]);
    expect(again.json.status).toBe("succeeded");
    const logs = await tau(daemon, ["logs", "pg_orders", "--run", runId]);
    expect(logs.json.logs.map((l: { message: string }) => l.message)).toContain("orders loaded");
  });
});

describe("taud with a TAU_DATABASE_URL that leads nowhere", () => {
  it("prints TAU_E_STORE_FAILED with a hint on stdout, exits 1, and shows no stack or password", () => {
    const home = tempHome("tau-e2e-pg-bad-");
    homes.push(home);
    const r = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "--home", home, "--port", "0"], {
      env: { ...process.env, TAU_DATABASE_URL: "postgres://tau:hunter2@127.0.0.1:1/tau" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout.trim()) as { error: { code: string; hint: string; message: string; details: Record<string, unknown> } };
    expect(doc.error).toMatchObject({ code: "TAU_E_STORE_FAILED", details: { url: "postgres://tau:***@127.0.0.1:1/tau" } });
    expect(doc.error.hint).toMatch(/TAU_DATABASE_URL/);
    expect(r.stdout + r.stderr).not.toContain("hunter2");
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });
});
