/**
 * The API's RemotePool and `taud worker`'s Worker against the real local PostgreSQL (pg-boss 10 in its
 * `pgboss` schema, Tau's `tau_workers`) and real executor processes. No Tau store is involved: RunService's
 * side is played by calling the port directly. Needs `npm run build` (the executor).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ExecutorPool } from "../../sandbox/pool";
import type { RunJob, RunOutcome, SandboxEvent } from "../../sandbox/types";
import { SecretCipher } from "../../server/secrets";
import { RemotePool, Worker } from "../../server/workers";
import { compile, makeJob, pipelineFile, requireBuild } from "../sandbox/helpers";
import { eventually, memoryLogger, workersDatabase, type WorkersDatabase } from "./helpers/workers";

const cipher = SecretCipher.fromKey(randomBytes(32).toString("hex"));

describe("runs on workers over pg-boss", () => {
  let db: WorkersDatabase;
  let home: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    requireBuild();
    db = await workersDatabase();
    home = mkdtempSync(join(tmpdir(), "tau-workers-"));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await db.query("truncate tau_workers.workers, tau_workers.signals").catch(() => undefined);
    await db.query("delete from pgboss.job").catch(() => undefined);
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  async function api(): Promise<RemotePool> {
    const pool = new RemotePool({ databaseUrl: db.url, cipher, log: memoryLogger(), leaseCheckMs: 200 });
    await pool.start();
    closers.push(() => pool.close());
    return pool;
  }

  async function worker(options: { capacity?: number; leaseSec?: number } = {}): Promise<Worker> {
    const w = new Worker({
      databaseUrl: db.url,
      home,
      executors: 1,
      capacity: options.capacity ?? 2,
      leaseSec: options.leaseSec ?? 15,
      cipher,
      pool: new ExecutorPool({ size: 1, onStderr: () => undefined }),
      log: memoryLogger(),
      pollMs: 200,
    });
    await w.start();
    closers.push(() => w.abort());
    return w;
  }

  async function job(body: string, overrides: Partial<RunJob> = {}): Promise<RunJob> {
    return makeJob(await compile(pipelineFile(body)), { dataDir: "/nonexistent/api-home/data/local", ...overrides });
  }

  function start(pool: RemotePool, j: RunJob): { outcome: Promise<RunOutcome>; events: SandboxEvent[]; startedOn: string[] } {
    const events: SandboxEvent[] = [];
    const startedOn: string[] = [];
    const outcome = pool.run(j, (e) => events.push(e), (executor) => startedOn.push(executor));
    return { outcome, events, startedOn };
  }

  it("a queued run is claimed by a worker, streams its events in order and resolves with its outcome", async () => {
    const pool = await api();
    const w = await worker();
    const lines = Array.from({ length: 300 }, (_, i) => i);
    const run = start(pool, await job(`for (let i = 0; i < 300; i++) ctx.log.info("line " + i); return { params: ctx.params };`, { params: { day: "2026-01-31" } }));
    expect(await run.outcome).toEqual({ status: "succeeded", result: { params: { day: "2026-01-31" } } });
    expect(run.startedOn).toEqual([`worker:${w.id}`]);
    const logged = run.events.filter((e) => e.kind === "log").map((e) => (e as { message: string }).message);
    expect(logged).toEqual(lines.map((i) => `line ${i}`));
    // The job is completed in pg-boss in the same transaction as the outcome.
    const jobs = await db.query<{ state: string }>("select state from pgboss.job where name = 'tau-runs'");
    expect(jobs.map((j) => j.state)).toEqual(["completed"]);
  });

  it("secrets travel sealed under TAU_SECRET_KEY: the job in PostgreSQL never holds the value, the worker opens it", async () => {
    const pool = await api();
    await worker();
    const value = `Sup3r-${randomBytes(8).toString("hex")}`;
    // The value names a DuckDB file in the worker's data folder: proof that the worker's host side got it.
    const j = await job(
      `await using db = duckdb_local(ctx.secret("DB_FILE")); await db.execute("CREATE TABLE t AS SELECT 1 AS n"); return { n: (await db.extract("SELECT n FROM t"))[0].n };`,
      { secrets: { values: { DB_FILE: `${value}.duckdb` }, environment: false }, tenantId: "acme" },
    );
    const run = start(pool, j);
    await eventually(async () => (await db.query("select 1 from pgboss.job where name = 'tau-runs'")).length > 0, 10_000, "the job");
    const stored = await db.query<{ data: string }>("select data::text as data from pgboss.job where name = 'tau-runs'");
    expect(stored[0]!.data).not.toContain(value);
    expect(stored[0]!.data).toContain('"sealed"');
    expect(await run.outcome).toEqual({ status: "succeeded", result: { n: 1 } });
    expect(existsSync(join(home, "data", "acme", `${value}.duckdb`))).toBe(true);
  });

  it("a worker claims only as many runs as it has free slots; the rest wait in pg-boss", async () => {
    const pool = await api();
    const w = await worker({ capacity: 2 });
    const runs = await Promise.all(Array.from({ length: 5 }, async () => start(pool, await job(`const end = Date.now() + 1500; while (Date.now() < end) {} return 1;`))));
    await eventually(() => runs.filter((r) => r.startedOn.length > 0).length === 2, 10_000, "two claims");
    const states = await db.query<{ state: string; n: string }>("select state, count(*) as n from pgboss.job where name = 'tau-runs' group by state order by state");
    expect(states).toEqual([
      { state: "created", n: "3" },
      { state: "active", n: "2" },
    ]);
    expect(w.running).toBe(2);
    for (const r of runs) expect(await r.outcome).toEqual({ status: "succeeded", result: 1 });
  });

  it("cancel withdraws a run no worker has claimed, and stops a running one on its worker", async () => {
    const pool = await api();
    const waiting = await job(`return 1;`);
    const unclaimed = start(pool, waiting);
    await eventually(async () => (await db.query("select 1 from pgboss.job where name = 'tau-runs'")).length === 1, 10_000, "the job");
    expect(pool.cancel(waiting.runId)).toBe(true);
    const withdrawn = await unclaimed.outcome;
    expect(withdrawn.status === "cancelled" && withdrawn.error.code).toBe("TAU_E_RUN_CANCELLED");
    expect(await db.query("select 1 from pgboss.job where name = 'tau-runs'")).toEqual([]);
    expect(unclaimed.startedOn).toEqual([]);

    await worker();
    const spinning = await job(`ctx.log.info("spinning"); while (true) {}`);
    const running = start(pool, spinning);
    await eventually(() => running.events.length > 0, 10_000, "the run to start");
    expect(pool.cancel(spinning.runId)).toBe(true);
    const stopped = await running.outcome;
    expect(stopped.status === "cancelled" && stopped.error.code).toBe("TAU_E_RUN_CANCELLED");
    expect(pool.cancel(spinning.runId)).toBe(false);
  });

  it("a worker whose lease runs out is declared lost: its runs fail as TAU_E_WORKER_LOST, its late signals are ignored, and it comes back under a new id", async () => {
    const pool = await api();
    const w = await worker({ leaseSec: 3 });
    const firstId = w.id;
    const run = start(pool, await job(`const end = Date.now() + 2500; while (Date.now() < end) {} return "late";`));
    await eventually(() => run.startedOn.length === 1, 10_000, "the claim");
    // A pause longer than the lease, as a long GC stop or a cut-off network would make it.
    await db.query("update tau_workers.workers set heartbeat_at = now() - interval '1 hour' where id = $1", [firstId]);
    const outcome = await run.outcome;
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.error.code).toBe("TAU_E_WORKER_LOST");
    expect(outcome.status === "failed" && outcome.error.details).toEqual({ worker: firstId });
    const rows = await db.query<{ id: string; state: string }>("select id, state from tau_workers.workers where id = $1", [firstId]);
    expect(rows).toEqual([{ id: firstId, state: "lost" }]);
    await eventually(() => w.id !== firstId, 10_000, "re-registration");
    // The abandoned run was stopped on the worker; its outcome was never reported.
    await eventually(() => w.running === 0, 10_000, "the abandoned run to stop");
    // The new incarnation takes work again.
    const next = start(pool, await job(`return 2;`));
    expect(await next.outcome).toEqual({ status: "succeeded", result: 2 });
    expect(next.startedOn).toEqual([`worker:${w.id}`]);
  });

  it("a restarted API (new epoch) drops the jobs still waiting, fails the claimed ones, and workers stop the previous epoch's runs", async () => {
    const first = await api();
    const w = await worker({ capacity: 1 });
    const spinning = start(first, await job(`ctx.log.info("spinning"); while (true) {}`));
    const waiting = start(first, await job(`return "never";`));
    await eventually(() => spinning.events.length > 0, 10_000, "the first run to start");
    const second = await api();
    expect(second.epoch).not.toBe(first.epoch);
    const jobs = await db.query<{ state: string; n: string }>("select state, count(*) as n from pgboss.job where name = 'tau-runs' group by state");
    expect(jobs).toEqual([{ state: "failed", n: "1" }]);
    await eventually(() => w.running === 0, 10_000, "the worker to stop the previous epoch's run");
    const fresh = start(second, await job(`return "new epoch";`));
    expect(await fresh.outcome).toEqual({ status: "succeeded", result: "new epoch" });
    // The previous incarnation's runs never hear back; closing it ends them as interrupted.
    await first.close();
    expect((await spinning.outcome).status === "failed" && ((await spinning.outcome) as { error: { code: string } }).error.code).toBe("TAU_E_RUN_INTERRUPTED");
    expect(((await waiting.outcome) as { error: { code: string } }).error.code).toBe("TAU_E_RUN_INTERRUPTED");
  });

  it("at shutdown, withdrawUnstarted gives back every run no worker has claimed and leaves claimed ones alone", async () => {
    const pool = await api();
    const w = await worker({ capacity: 1 });
    const running = start(pool, await job(`const end = Date.now() + 1000; while (Date.now() < end) {} return "finished";`));
    await eventually(() => running.startedOn.length === 1, 10_000, "the claim");
    const waiting = await Promise.all([1, 2].map(async () => {
      const j = await job(`return "never";`);
      return { j, run: start(pool, j) };
    }));
    await eventually(async () => (await db.query("select 1 from pgboss.job where name = 'tau-runs' and state = 'created'")).length === 2, 10_000, "the waiting jobs");
    const withdrawn: string[] = [];
    await pool.withdrawUnstarted((runId) => withdrawn.push(runId));
    expect(withdrawn.sort()).toEqual(waiting.map((x) => x.j.runId).sort());
    for (const x of waiting) expect((await x.run.outcome).status).toBe("cancelled");
    expect(await running.outcome).toEqual({ status: "succeeded", result: "finished" });
    expect(w.running).toBe(0);
  });

  it("when PostgreSQL drops every connection of the API and the worker, both reconnect and runs go on", async () => {
    const pool = await api();
    const w = await worker();
    expect(await start(pool, await job(`return "before";`)).outcome).toEqual({ status: "succeeded", result: "before" });
    const killed = await db.query<{ n: string }>(
      `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
       where datname = current_database() and application_name in ('taud-api', 'taud-worker', 'tau-workers-listen') and pid <> pg_backend_pid()`,
    );
    expect(Number(killed[0]!.n)).toBeGreaterThanOrEqual(2);
    const after = start(pool, await job(`return "after";`));
    expect(await after.outcome).toEqual({ status: "succeeded", result: "after" });
    expect(after.startedOn).toEqual([`worker:${w.id}`]);
    // The listening connections are back: a cancel (NOTIFY) reaches the worker again.
    const spinning = await job(`ctx.log.info("spinning"); while (true) {}`);
    const running = start(pool, spinning);
    await eventually(() => running.events.length > 0, 10_000, "the run to start");
    await eventually(async () => (await db.query("select 1 from pg_stat_activity where application_name = 'tau-workers-listen'")).length >= 2, 10_000, "the listeners");
    pool.cancel(spinning.runId);
    expect((await running.outcome).status).toBe("cancelled");
  });
});
