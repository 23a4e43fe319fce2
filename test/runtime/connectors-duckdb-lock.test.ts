import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ConnectorHost } from "../../runtime/connectors";
import { findPackageRoot } from "../../sandbox/package-root";
import { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, requireBuild, runSource } from "../sandbox/helpers";

/** Another process that opens the DuckDB file (taking DuckDB's write lock) and closes it after `holdMs`. */
async function holdFile(file: string, holdMs: number): Promise<{ child: ChildProcess; released: Promise<void> }> {
  const script = `
    const { DuckDBInstance } = require("@duckdb/node-api");
    DuckDBInstance.create(${JSON.stringify(file)}).then((instance) => {
      process.stdout.write("holding\\n");
      setTimeout(() => { instance.closeSync(); process.stdout.write("released\\n"); setTimeout(() => process.exit(0), 50); }, ${holdMs});
    });`;
  const child = spawn(process.execPath, ["-e", script], { cwd: findPackageRoot(), stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const released = new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => (out += d.toString()) && out.includes("released") && resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => out.includes("holding") && resolve());
    child.once("exit", (code) => reject(new Error(`holder exited early (${code})`)));
  });
  return { child, released };
}

describe("duckdb_local between two processes (one writer process per file)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tau-duckdb-lock-"));
  const file = join(dataDir, "warehouse.duckdb");
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("opening a file another process holds retries with backoff, then fails with TAU_E_CONNECTOR_BUSY", async () => {
    const holder = await holdFile(file, 3000);
    const host = new ConnectorHost();
    try {
      const started = Date.now();
      const err = await host.open("duckdb_local", { busyTimeoutMs: 400 }, { dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits }).then(
        () => null,
        (e: unknown) => e as { code: string; details: Record<string, unknown> },
      );
      expect(err).toMatchObject({ code: "TAU_E_CONNECTOR_BUSY", details: { holder: `pid ${holder.child.pid}` } });
      expect(Number(err?.details.attempts)).toBeGreaterThan(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      holder.child.kill();
      host.close();
    }
  });

  it("a file released within the wait is opened: the lock conflict is retried, not reported", async () => {
    const holder = await holdFile(file, 700);
    const host = new ConnectorHost();
    try {
      const db = await host.open("duckdb_local", { busyTimeoutMs: 10_000 }, { dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
      await holder.released;
      try {
        await db.call("execute", ["CREATE OR REPLACE TABLE t (x INTEGER)"]);
        expect(await db.call("execute", ["INSERT INTO t VALUES (1)"])).toEqual({ rowsAffected: 1 });
      } finally {
        await db.close();
      }
    } finally {
      holder.child.kill();
      host.close();
    }
  });

  describe("through executor processes", () => {
    let pool: ExecutorPool;
    beforeAll(async () => {
      requireBuild();
      pool = new ExecutorPool({ size: 2, onStderr: () => undefined });
      await pool.start();
    });
    afterAll(async () => {
      await pool?.close();
    });

    it("a run whose warehouse file is briefly held by another process waits for it and succeeds", async () => {
      const holder = await holdFile(file, 800);
      try {
        const source = pipelineFile(`
  await using db = duckdb_local();
  await db.load([{ id: 1 }], { table: "waited", mode: "replace" });
  return (await db.extract("SELECT count(*) AS n FROM waited"))[0].n;`);
        const { outcome } = await runSource(pool, source, { dataDir });
        expect(outcome).toEqual({ status: "succeeded", result: 1 });
      } finally {
        holder.child.kill();
      }
    });

    it("concurrent runs in two executors writing the same file both succeed: each executor releases the file when its run ends", async () => {
      const source = pipelineFile(`
  await using db = duckdb_local();
  await db.load([{ run: ctx.runId }], { table: "shared_writes" });
  return "ok";`);
      const runs = await Promise.all(Array.from({ length: 6 }, () => runSource(pool, source, { dataDir })));
      expect(runs.map((r) => r.outcome)).toEqual(Array(6).fill({ status: "succeeded", result: "ok" }));
      const host = new ConnectorHost();
      const db = await host.open("duckdb_local", {}, { dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
      const rows = JSON.parse(((await db.call("extract", ["SELECT count(*) AS n FROM shared_writes", []])) as { text: string }).text);
      expect(rows).toEqual([{ n: 6 }]);
      await db.close();
      host.close();
    });
  });
});
