/**
 * bench/store-throughput — what the control plane (taud without its executors) sustains, and why the run
 * lifecycle is written with prepared statements instead of the ORM.
 *
 * 1. Store only: the 18 writes of a 3-step run (run row ×3, step rows ×6, events ×9), batched 100 runs per
 *    transaction, through mikro-orm (insertMany + nativeUpdate: the ORM's fastest path) and through the
 *    run ledger (what taud uses). Printed as runs/s and their ratio.
 * 2. Control plane: an in-process taud on a temp home whose executor pool is a stand-in that answers each
 *    run at once with the six step events of a 3-step pipeline — everything but the sandbox: HTTP, queue,
 *    ledger, event bus, RunView reads. Runs/s with N runs in flight, and trigger→finished latency of
 *    sequential `wait` runs. bench/run-overhead.ts measures the same with real executors.
 *
 * With `--pg [URL]` every part runs against PostgreSQL instead (TAU_DATABASE_URL mode): a scratch database
 * created on that server (default postgres://postgres@127.0.0.1:5432/postgres) for each part, dropped after.
 *
 *   npx tsx bench/store-throughput.ts [--runs 4000] [--pg [URL]]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createDaemon, type ExecutorPoolPort } from "../server";
import { Store } from "../server/store";
import { Database } from "../server/store/database";
import { EventEntity, RunEntity, StepEntity, type EventRow } from "../server/store/entities";
import type { RunEventKind } from "../server/contract";
import { PipelineRepository } from "../server/store/pipelines";
import { Client } from "pg";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 4000);
const BATCH = 100;
const pgAt = process.argv.indexOf("--pg");
const PG_ADMIN = pgAt < 0 ? null : process.argv[pgAt + 1]?.startsWith("postgres") ? process.argv[pgAt + 1]! : "postgres://postgres@127.0.0.1:5432/postgres";

/** Where a part keeps its state: SQLite in the temp home, or (--pg) a scratch PostgreSQL database. */
async function scratchDatabase(): Promise<{ url: string | null; drop: () => Promise<void> }> {
  if (PG_ADMIN === null) return { url: null, drop: async () => undefined };
  const name = `tau_bench_${process.pid}_${Date.now()}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: PG_ADMIN });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

function tempHome(): { home: string; remove: () => void } {
  const home = mkdtempSync(join(tmpdir(), "tau-bench-store-"));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

const META = { name: "noop", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: null, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 };

async function addPipeline(pipelines: PipelineRepository): Promise<number> {
  await pipelines.ensureTenant("local", "Local");
  const { pipeline } = await pipelines.addVersion({ tenantId: "local", meta: META, filename: "noop.ts", hash: "h", source: "s", bundle: "b", sourceMap: "{}" });
  return pipeline.id;
}

/** The ORM's best effort at the same writes: bulk inserts and native updates, one transaction per batch. */
async function ormRunsPerSec(): Promise<number> {
  const { home, remove } = tempHome();
  const scratch = await scratchDatabase();
  const db = await Database.open({ file: join(home, "tau.db"), home, url: scratch.url });
  try {
    const pipelineId = await addPipeline(new PipelineRepository(db));
    // seq is the autoincrement key: the database assigns it.
    const event = (runId: string, kind: RunEventKind, step: string | null): EventRow =>
      ({ tenantId: "local", runId, pipeline: "noop", ts: Date.now(), kind, level: "info", step, message: kind, data: {} }) as EventRow;
    const started = performance.now();
    for (let b = 0; b < RUNS / BATCH; b++) {
      const ids = Array.from({ length: BATCH }, (_, i) => `run_orm_${b}_${i}`);
      await db.transaction("bench", async (em) => {
        await em.insertMany(RunEntity, ids.map((id) => ({ id, tenantId: "local", pipeline: pipelineId, version: 1, status: "queued", trigger: "manual", params: {}, queuedAt: Date.now(), startedAt: null, finishedAt: null, result: null, error: null, executor: null, attempt: 1, maxAttempts: 1, retryOf: null, retriedBy: null, notBefore: null })));
        await em.insertMany(EventEntity, ids.map((id) => event(id, "run.queued", null)));
        for (const id of ids) await em.nativeUpdate(RunEntity, { id }, { status: "running", startedAt: Date.now() });
        await em.insertMany(EventEntity, ids.map((id) => event(id, "run.started", null)));
        for (let s = 0; s < 3; s++) {
          await em.insertMany(StepEntity, ids.map((id) => ({ tenantId: "local", run: id, position: s, name: `s${s}`, status: "running", startedAt: Date.now(), finishedAt: null, durationMs: null, rowsIn: null, rowsOut: null, meta: {}, error: null })));
          await em.insertMany(EventEntity, ids.map((id) => event(id, "step.started", `s${s}`)));
          for (const id of ids) await em.nativeUpdate(StepEntity, { run: id, position: s }, { status: "succeeded", finishedAt: Date.now(), durationMs: 0 });
          await em.insertMany(EventEntity, ids.map((id) => event(id, "step.finished", `s${s}`)));
        }
        for (const id of ids) await em.nativeUpdate(RunEntity, { id }, { status: "succeeded", finishedAt: Date.now(), result: { ok: true } });
        await em.insertMany(EventEntity, ids.map((id) => event(id, "run.finished", null)));
      });
    }
    return (RUNS / (performance.now() - started)) * 1000;
  } finally {
    await db.close();
    await scratch.drop();
    remove();
  }
}

/** The run ledger, as taud drives it: one batch per tick. */
async function ledgerRunsPerSec(): Promise<number> {
  const { home, remove } = tempHome();
  const scratch = await scratchDatabase();
  const store = await Store.open({ home, databaseUrl: scratch.url, onEvents: () => undefined });
  try {
    const pipelineId = await addPipeline(store.pipelines);
    const ts = (): string => new Date().toISOString();
    const started = performance.now();
    for (let b = 0; b < RUNS / BATCH; b++) {
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < BATCH; i++) {
        const ref = { tenantId: "local", runId: `run_${b}_${i}`, pipeline: "noop" };
        writes.push(store.ledger.queued({ ...ref, pipelineId, version: 1, trigger: "manual", params: {}, queuedAt: Date.now() }));
        writes.push(store.ledger.started(ref, Date.now(), "bench"));
        for (let s = 0; s < 3; s++) {
          writes.push(store.ledger.stepStarted(ref, s, { kind: "step.started", ts: ts(), step: `s${s}` }));
          writes.push(store.ledger.stepFinished(ref, s, { kind: "step.finished", ts: ts(), step: `s${s}`, status: "succeeded", durationMs: 0, rowsIn: null, rowsOut: null, meta: {}, error: null }));
        }
        writes.push(store.ledger.finished(ref, { status: "succeeded", result: { ok: true } }, Date.now()));
      }
      await Promise.all(writes);
    }
    return (RUNS / (performance.now() - started)) * 1000;
  } finally {
    await store.close();
    await scratch.drop();
    remove();
  }
}

/** Answers every run at once with a 3-step pipeline's events: the control plane without the sandbox. */
const instantPool: ExecutorPoolPort = {
  start: async () => undefined,
  close: async () => undefined,
  cancel: () => false,
  status: () => [],
  describe: async () => ({ ok: true, meta: META }),
  run: async (_job, onEvent) => {
    for (const step of ["extract", "transform", "load"]) {
      const ts = new Date().toISOString();
      onEvent({ kind: "step.started", ts, step });
      onEvent({ kind: "step.finished", ts, step, status: "succeeded", durationMs: 0, rowsIn: null, rowsOut: null, meta: {}, error: null });
    }
    return { status: "succeeded", result: { ok: true } };
  },
};

async function controlPlane(): Promise<{ runsPerSec: number; p50Ms: number; p99Ms: number }> {
  const { home, remove } = tempHome();
  const scratch = await scratchDatabase();
  const daemon = await createDaemon({ home, port: 0, logLevel: "warn", databaseUrl: scratch.url }, { pool: instantPool, compile: async () => ({ bundle: "", sourceMap: "{}", hash: "h" }) });
  const post = async (body: unknown): Promise<{ id: string; status: string }> => {
    const res = await fetch(`${daemon.url}/api/pipelines/noop/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await res.json()) as { id: string; status: string };
  };
  try {
    await fetch(`${daemon.url}/api/pipelines`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ source: "-", filename: "noop.ts" }) });
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      const run = await post({ wait: true });
      if (run.status !== "succeeded") throw new Error(`run ${run.id} ${run.status}`);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next++ < RUNS) await post({});
      }),
    );
    await post({ wait: true });
    const runsPerSec = (RUNS / (performance.now() - started)) * 1000;
    return { runsPerSec, p50Ms: latencies[150]!, p99Ms: latencies[296]! };
  } finally {
    await daemon.close();
    await scratch.drop();
    remove();
  }
}

async function main(): Promise<void> {
  const orm = await ormRunsPerSec();
  const ledger = await ledgerRunsPerSec();
  const plane = await controlPlane();
  process.stderr.write(
    `[${PG_ADMIN === null ? "sqlite" : "postgresql"}] store, ${RUNS} runs × 18 writes: ledger ${ledger.toFixed(0)} runs/s, ORM ${orm.toFixed(0)} runs/s → ${(ledger / orm).toFixed(1)}×\n` +
      `control plane (instant executor, HTTP): ${plane.runsPerSec.toFixed(0)} runs/s (64 in flight); sequential wait p50 ${plane.p50Ms.toFixed(2)} ms, p99 ${plane.p99Ms.toFixed(2)} ms\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: "store-throughput", dialect: PG_ADMIN === null ? "sqlite" : "postgresql", runs: RUNS, store: { ledgerRunsPerSec: Math.round(ledger), ormRunsPerSec: Math.round(orm), ratio: +(ledger / orm).toFixed(2) }, controlPlane: { runsPerSec: Math.round(plane.runsPerSec), p50Ms: +plane.p50Ms.toFixed(3), p99Ms: +plane.p99Ms.toFixed(3) } }, null, 2)}\n`,
  );
}

void main();
