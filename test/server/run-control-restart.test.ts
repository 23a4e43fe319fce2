/**
 * Queued work across a daemon restart: a real in-process daemon (HTTP, store, run service, DAG service) on a
 * temporary home, stopped and started again on the same home, with a pool that runs nothing — each run
 * waits until the test ends it. Runs a killed daemon left `running` are written into the store as such a
 * daemon leaves them (queued, then started, never finished), then a daemon starts on that home.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunSummary, RunView } from "../../server/contract";
import type { PipelineMeta } from "../../sandbox/types";
import { Store } from "../../server/store";
import { createDaemon, type Daemon } from "../../server";
import { json, tempHome } from "./helpers/daemon";
import { HeldPool, runError } from "./helpers/held-pool";
import { backendDatabase, STORE_BACKENDS } from "./helpers/postgres";

let home: ReturnType<typeof tempHome>;
let daemon: Daemon | null = null;
/** The store both daemons of a test share: null for SQLite in the home, else a fresh PostgreSQL database. */
let databaseUrl: string | null = null;
let dropDatabase: () => Promise<void> = async () => undefined;

/** Writes into the home's store while no daemon runs; the store is closed again afterwards. */
async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open({ home: home.home, databaseUrl, onEvents: () => undefined });
  try {
    await store.pipelines.ensureTenant("local", "Local");
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function deploy(store: Store, name: string, meta: Partial<PipelineMeta> = {}): Promise<number> {
  const full: PipelineMeta = {
    name,
    description: "",
    schedule: null,
    tags: [],
    dependsOn: [],
    timeoutSec: null,
    retries: 0,
    retryDelaySec: 0,
    retryOn: [],
    maxConcurrentRuns: 1,
    ...meta,
  };
  await store.pipelines.addVersion({ tenantId: "local", meta: full, filename: `${name}.ts`, hash: `h-${name}`, source: "s", bundle: "b", sourceMap: "{}" });
  return (await store.pipelines.head("local", name))!.id;
}

/** The store as a killed daemon leaves a run it was executing: queued, started, never finished. */
async function strandRunning(store: Store, pipelineId: number, pipeline: string, runId: string, extra: { maxAttempts?: number; graphRunId?: string } = {}): Promise<void> {
  const ref = { tenantId: "local", runId, pipeline };
  await store.ledger.queued({ ...ref, pipelineId, version: 1, trigger: "manual", params: { n: 1 }, queuedAt: Date.now() - 1_000, attempt: 1, maxAttempts: extra.maxAttempts ?? 1, graphRunId: extra.graphRunId ?? null });
  await store.ledger.started(ref, Date.now() - 500, "taud:gone");
}

async function start(pool: HeldPool, concurrency?: number): Promise<Daemon> {
  // Jitter pinned near the top: a retry's backoff is then ~retryDelaySec, never the few ms that a full
  // jitter can draw, which would let a "pending" retry start before the test restarts the daemon.
  daemon = await createDaemon({ home: home.home, databaseUrl, port: 0, logLevel: "silent", shutdownGraceMs: 0, ...(concurrency ? { concurrency } : {}) }, { pool, random: () => 0.99 });
  return daemon;
}

async function stop(): Promise<void> {
  await daemon!.close();
  daemon = null;
}

const enqueue = async (name: string, params: Record<string, unknown> = {}): Promise<RunView> =>
  (await json<RunView>(`${daemon!.url}/api/pipelines/${name}/runs`, { method: "POST", body: { params } })).body;
const view = async (id: string): Promise<RunView> => (await json<RunView>(`${daemon!.url}/api/runs/${id}`)).body;
/** What `tau runs NAME` lists. */
const runsOf = async (name: string): Promise<RunSummary[]> => {
  const { status, body } = await json<RunSummary[] | { runs: RunSummary[] }>(`${daemon!.url}/api/pipelines/${name}/runs?last=50`);
  expect(status).toBe(200);
  return Array.isArray(body) ? body : body.runs;
};

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const executing = (pool: HeldPool, id: string): Promise<true> => until(() => pool.held.has(id) || undefined, `${id} to execute`);
const finished = (id: string): Promise<RunView> =>
  until(async () => {
    const run = await view(id);
    return ["succeeded", "failed", "cancelled"].includes(run.status) && run;
  }, `${id} to finish`);

// The same restarts on both stores: SQLite in the home, and a fresh PostgreSQL database per test.
describe.each(STORE_BACKENDS)("on %s", (backend) => {
  beforeEach(async () => {
    home = tempHome();
    const database = await backendDatabase(backend);
    databaseUrl = database.databaseUrl;
    dropDatabase = database.drop;
  });

  afterEach(async () => {
    await daemon?.close();
    daemon = null;
    await dropDatabase();
    home.remove();
  });

  describe("queued runs across a restart", () => {
    it("keeps queued runs through a restart and runs them afterwards, in order, with the same ids and one record each", async () => {
      await withStore((store) => deploy(store, "orders_rc"));
      const first = new HeldPool();
      await start(first);
      const running = await enqueue("orders_rc", { n: 0 });
      await executing(first, running.id);
      const queued = [await enqueue("orders_rc", { n: 1 }), await enqueue("orders_rc", { n: 2 }), await enqueue("orders_rc", { n: 3 })];
      await stop();

      const second = new HeldPool();
      await start(second);
      expect(await view(running.id)).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_INTERRUPTED" } });
      // maxConcurrentRuns 1 holds after the restart: one at a time, in the original order.
      for (const [i, run] of queued.entries()) {
        await executing(second, run.id);
        expect(second.held.size).toBe(1);
        expect(second.held.get(run.id)!.job).toMatchObject({ params: { n: i + 1 }, version: 1 });
        second.succeed(run.id);
        expect(await finished(run.id)).toMatchObject({ id: run.id, status: "succeeded", attempt: 1, trigger: "manual", params: { n: i + 1 } });
      }
      expect(second.started).toEqual(queued.map((r) => r.id));
      const ids = (await runsOf("orders_rc")).map((r) => r.id);
      expect([...ids].sort()).toEqual([running.id, ...queued.map((r) => r.id)].sort());
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("requeues across pipelines in queuedAt order under the daemon-wide limit", async () => {
      await withStore(async (store) => {
        const a = await deploy(store, "alpha_rc", { maxConcurrentRuns: 5 });
        const b = await deploy(store, "beta_rc", { maxConcurrentRuns: 5 });
        const t = Date.now() - 10_000;
        // Written out of order: recovery follows queuedAt, not the order of the rows.
        for (const [runId, pipeline, pipelineId, at] of [["r-rc-q3", "alpha_rc", a, t + 3], ["r-rc-q1", "alpha_rc", a, t + 1], ["r-rc-q2", "beta_rc", b, t + 2]] as const) {
          await store.ledger.queued({ tenantId: "local", runId, pipeline, pipelineId, version: 1, trigger: "schedule", params: {}, queuedAt: at });
        }
      });
      const pool = new HeldPool();
      await start(pool, 1);
      for (const id of ["r-rc-q1", "r-rc-q2", "r-rc-q3"]) {
        await executing(pool, id);
        expect(pool.held.size).toBe(1);
        pool.succeed(id);
        expect(await finished(id)).toMatchObject({ status: "succeeded", trigger: "schedule" });
      }
      expect(pool.started).toEqual(["r-rc-q1", "r-rc-q2", "r-rc-q3"]);
    });

    it("re-arms a pending retry for its notBefore and runs it then", async () => {
      await withStore(async (store) => {
        const id = await deploy(store, "flaky_rc", { retries: 2 });
        const ref = { tenantId: "local", runId: "r-rc-failed", pipeline: "flaky_rc" };
        const queuedAt = Date.now() - 2_000;
        await store.ledger.queued({ ...ref, pipelineId: id, version: 1, trigger: "manual", params: {}, queuedAt, attempt: 1, maxAttempts: 3 });
        await store.ledger.finishedAndRetried(ref, { status: "failed", error: runError("TAU_E_CONNECTOR_UNREACHABLE") }, queuedAt + 100, {
          tenantId: "local",
          runId: "r-rc-retry",
          pipeline: "flaky_rc",
          pipelineId: id,
          version: 1,
          trigger: "manual",
          params: {},
          queuedAt: queuedAt + 100,
          attempt: 2,
          maxAttempts: 3,
          retryOf: "r-rc-failed",
          notBefore: Date.now() + 2_500,
        });
      });
      const pool = new HeldPool();
      await start(pool);
      const status = (await json<{ runs: { queued: number; running: number } }>(`${daemon!.url}/api/status`)).body.runs;
      expect(status).toEqual({ queued: 1, running: 0 });
      await new Promise((r) => setTimeout(r, 200));
      expect(pool.started).toEqual([]);
      const notBefore = Date.parse((await view("r-rc-retry")).notBefore!);
      await executing(pool, "r-rc-retry");
      expect(Date.now()).toBeGreaterThanOrEqual(notBefore);
      pool.succeed("r-rc-retry");
      expect(await finished("r-rc-retry")).toMatchObject({ status: "succeeded", attempt: 2, retryOf: "r-rc-failed" });
    });

    it("keeps a pending retry through a graceful restart", async () => {
      await withStore((store) => deploy(store, "later_rc", { retries: 1, retryDelaySec: 1 }));
      const first = new HeldPool();
      await start(first);
      const run = await enqueue("later_rc");
      await executing(first, run.id);
      first.held.get(run.id)!.finish({ status: "failed", error: runError("TAU_E_CONNECTOR_TIMEOUT") });
      const retryId = await until(async () => (await view(run.id)).retriedBy ?? undefined, "the retry");
      await stop();
      // In the store between the two daemons: still queued, with its backoff.
      const stored = await withStore(async (store) => store.runs.record("local", retryId));
      expect(stored).toMatchObject({ status: "queued", attempt: 2, retryOf: run.id });
      expect(stored!.notBefore).not.toBeNull();

      const second = new HeldPool();
      await start(second);
      await executing(second, retryId);
      second.succeed(retryId);
      expect(await finished(retryId)).toMatchObject({ status: "succeeded", retryOf: run.id });
    });
  });

  describe("runs a killed daemon left running", () => {
    it("fails a running run as interrupted and retries it when it has attempts left", async () => {
      await withStore(async (store) => {
        const id = await deploy(store, "retry_rc", { retries: 1 });
        await strandRunning(store, id, "retry_rc", "r-rc-running", { maxAttempts: 2 });
      });
      const pool = new HeldPool();
      await start(pool);
      const stranded = await view("r-rc-running");
      expect(stranded).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_INTERRUPTED", message: "The daemon stopped while it was running." } });
      const retryId = stranded.retriedBy!;
      expect(retryId).not.toBeNull();
      await executing(pool, retryId);
      expect(pool.held.get(retryId)!.job.params).toEqual({ n: 1 });
      pool.succeed(retryId);
      expect(await finished(retryId)).toMatchObject({ status: "succeeded", attempt: 2, maxAttempts: 2, retryOf: "r-rc-running" });
    });

    it("fails a running run as interrupted without a retry when it has no attempts left", async () => {
      await withStore(async (store) => {
        const id = await deploy(store, "once_rc");
        await strandRunning(store, id, "once_rc", "r-rc-once");
      });
      const pool = new HeldPool();
      await start(pool);
      expect(await view("r-rc-once")).toMatchObject({ status: "failed", retriedBy: null, error: { code: "TAU_E_RUN_INTERRUPTED" } });
      await new Promise((r) => setTimeout(r, 200));
      expect(pool.started).toEqual([]);
      expect((await runsOf("once_rc")).map((r) => r.id)).toEqual(["r-rc-once"]);
    });
  });

  describe("graph runs", () => {
    it("fails a graph run's queued run as interrupted, and the graph run with it", async () => {
      await withStore(async (store) => {
        const id = await deploy(store, "node_rc", { retries: 3 });
        const graphRunId = "g-rc-1";
        await store.graph.create({ id: graphRunId, tenantId: "local", root: null, groups: [["node_rc"]], startedAt: Date.now() - 1_000 });
        await store.ledger.queued({ tenantId: "local", runId: "r-rc-node", pipeline: "node_rc", pipelineId: id, version: 1, trigger: "dag", params: {}, queuedAt: Date.now() - 900, graphRunId });
        await strandRunning(store, id, "node_rc", "r-rc-node-running", { maxAttempts: 4, graphRunId });
      });
      const pool = new HeldPool();
      await start(pool);
      expect(await view("r-rc-node")).toMatchObject({ status: "failed", startedAt: null, retriedBy: null, error: { code: "TAU_E_RUN_INTERRUPTED" } });
      expect(await view("r-rc-node-running")).toMatchObject({ status: "failed", retriedBy: null, error: { code: "TAU_E_RUN_INTERRUPTED" } });
      await new Promise((r) => setTimeout(r, 200));
      expect(pool.started).toEqual([]);
      await stop();
      expect(await withStore(async (store) => (await store.graph.get("local", "g-rc-1"))?.status)).toBe("failed");
    });
  });
});
