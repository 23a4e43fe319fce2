/**
 * Run control on the RunService itself, with a real store and a pool that runs nothing: each run waits until
 * the test ends it with the outcome it wants (success, a retryable failure, a crash, a cancel). That is
 * where queueing, slots, retries and cancel are decided; the e2e test (test/e2e/run-control.test.ts) runs
 * the same paths through real isolates.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunView } from "../../server/contract";
import { LOCAL_POLICY } from "../../policies";
import type { PipelineMeta } from "../../sandbox/types";
import { IdGenerator } from "../../server/ids";
import { RunService } from "../../server/services/runs";
import { backoffMs } from "../../server/services/retry-policy";
import { Store } from "../../server/store";
import { tempHome } from "./helpers/daemon";
import { HeldPool, runError } from "./helpers/held-pool";
import { backendDatabase, STORE_BACKENDS } from "./helpers/postgres";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

let home: ReturnType<typeof tempHome>;
let store: Store;
let pool: HeldPool;
let service: RunService;
let dropDatabase: () => Promise<void> = async () => undefined;

function startService(options: { concurrency?: number; tenantConcurrency?: number; random?: () => number } = {}): RunService {
  return new RunService({
    store,
    pool,
    log: silent,
    ids: new IdGenerator(),
    policy: LOCAL_POLICY,
    home: home.home,
    concurrency: options.concurrency ?? 8,
    tenantConcurrency: options.tenantConcurrency,
    maxQueued: 100,
    executorName: "test",
    runViewLogLines: 100,
    random: options.random ?? (() => 0.5),
  });
}

async function deploy(name: string, meta: Partial<PipelineMeta> = {}, tenantId = "local"): Promise<void> {
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
  await store.pipelines.addVersion({ tenantId, meta: full, filename: `${name}.ts`, hash: `h-${name}-${JSON.stringify(meta)}`, source: "s", bundle: "b", sourceMap: "{}" });
}

const run = (name: string, tenantId = "local"): Promise<RunView> => service.enqueue(tenantId, name, { params: {}, trigger: "manual" });
const view = async (id: string, tenantId = "local"): Promise<RunView> => (await service.view(tenantId, id))!;

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const executing = (id: string): Promise<true> => until(() => pool.held.has(id) || undefined, `${id} to execute`);
const finished = (id: string, tenantId = "local"): Promise<RunView> =>
  until(async () => {
    const v = await view(id, tenantId);
    return ["succeeded", "failed", "cancelled"].includes(v.status) && v;
  }, `${id} to finish`);

// The same run control on both stores: SQLite in the home, and a fresh PostgreSQL database per test.
describe.each(STORE_BACKENDS)("run control on %s", (backend) => {
  beforeEach(async () => {
    home = tempHome();
    const database = await backendDatabase(backend);
    dropDatabase = database.drop;
    store = await Store.open({ home: home.home, databaseUrl: database.databaseUrl, onEvents: () => undefined });
    await store.pipelines.ensureTenant("local", "Local");
    pool = new HeldPool();
    service = startService();
  });

  afterEach(async () => {
    await service.shutdown(0);
    await store.close();
    await dropDatabase();
    home.remove();
  });

  describe("concurrency", () => {
    it("runs a second run of a pipeline only after the first, while another pipeline's run starts at once", async () => {
      await deploy("orders");
      await deploy("customers");
      const first = await run("orders");
      const second = await run("orders");
      const other = await run("customers");
      await executing(first.id);
      await executing(other.id);
      expect(pool.held.has(second.id)).toBe(false);
      expect((await view(second.id)).status).toBe("queued");

      pool.succeed(first.id);
      await executing(second.id);
      expect((await finished(first.id)).status).toBe("succeeded");
    });

    it("lets maxConcurrentRuns runs of one pipeline execute together, and no more", async () => {
      await deploy("wide", { maxConcurrentRuns: 2 });
      const runs = [await run("wide"), await run("wide"), await run("wide")];
      await executing(runs[0]!.id);
      await executing(runs[1]!.id);
      expect(pool.of("wide")).toHaveLength(2);
      expect((await view(runs[2]!.id)).status).toBe("queued");
      pool.succeed(runs[1]!.id);
      await executing(runs[2]!.id);
    });

    it("holds a tenant at its limit without holding back another tenant", async () => {
      await service.shutdown(0);
      service = startService({ tenantConcurrency: 1 });
      await store.pipelines.ensureTenant("acme", "Acme");
      await deploy("a1");
      await deploy("a2");
      await deploy("b1", {}, "acme");
      const a1 = await run("a1");
      const a2 = await run("a2");
      const b1 = await run("b1", "acme");
      await executing(a1.id);
      await executing(b1.id);
      expect((await view(a2.id)).status).toBe("queued");
      pool.succeed(a1.id);
      await executing(a2.id);
    });

    it("keeps the daemon-wide limit across pipelines, starting the oldest waiting run first", async () => {
      await service.shutdown(0);
      service = startService({ concurrency: 1 });
      for (const name of ["p1", "p2", "p3"]) await deploy(name);
      const [r1, r2, r3] = [await run("p1"), await run("p2"), await run("p3")];
      await executing(r1.id);
      expect(pool.held.size).toBe(1);
      pool.succeed(r1.id);
      await executing(r2.id);
      expect(pool.held.has(r3.id)).toBe(false);
      pool.succeed(r2.id);
      await executing(r3.id);
    });
  });

  describe("slots follow the run record (the Prefect #17415 failure mode)", () => {
    it("frees a crashed run's slot: the pipeline's next run starts", async () => {
      await deploy("fragile");
      const first = await run("fragile");
      const second = await run("fragile");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_SANDBOX_CRASHED");
      expect((await finished(first.id)).error?.code).toBe("TAU_E_SANDBOX_CRASHED");
      await executing(second.id);
      expect(service.counts()).toEqual({ queued: 0, running: 1 });
    });

    it("after a restart holds no slot: runs left running are interrupted and the pipeline runs again", async () => {
      await deploy("long");
      const stranded = await run("long");
      await executing(stranded.id);
      // What a restarted daemon finds is what was stored: wait for `run.started` to be committed (on
      // PostgreSQL that can land after the pool already holds the run).
      await until(async () => (await view(stranded.id)).status === "running" || undefined, `${stranded.id} stored as running`);
      // A new service on the same store is a restarted daemon: the old one's memory is gone.
      const restarted = startService();
      expect(await restarted.recoverInterrupted()).toEqual({ requeued: 0, rearmed: 0, retried: 0, failed: 1 });
      expect((await finished(stranded.id)).error?.code).toBe("TAU_E_RUN_INTERRUPTED");
      const next = await restarted.enqueue("local", "long", { params: {}, trigger: "manual" });
      await executing(next.id);
      pool.succeed(next.id);
      expect((await finished(next.id)).status).toBe("succeeded");
      await restarted.shutdown(0);
    });
  });

  describe("retries", () => {
    it("retries a retryable failure as a new run with the next attempt, and waitFor ends at the final attempt", async () => {
      await deploy("flaky", { retries: 2 });
      const first = await run("flaky");
      expect(first).toMatchObject({ attempt: 1, maxAttempts: 3, retryOf: null, retriedBy: null });
      const waited = service.waitFor("local", first.id, 5_000);
      await executing(first.id);
      pool.fail(first.id, "TAU_E_CONNECTOR_UNREACHABLE");
      const second = await until(async () => (await view(first.id)).retriedBy ?? undefined, "a retry");
      expect(await view(first.id)).toMatchObject({ status: "failed", error: { code: "TAU_E_CONNECTOR_UNREACHABLE" }, retriedBy: second });
      await executing(second);
      pool.fail(second, "TAU_E_RUN_TIMEOUT");
      const third = await until(async () => (await view(second)).retriedBy ?? undefined, "a second retry");
      await executing(third);
      pool.succeed(third);
      expect(await waited).toBe(third);
      expect(await view(third)).toMatchObject({ status: "succeeded", attempt: 3, maxAttempts: 3, retryOf: second, retriedBy: null });
      expect(await view(second)).toMatchObject({ attempt: 2, retryOf: first.id, retriedBy: third });
    });

    it("does not retry an error that is not retryable, nor beyond maxAttempts", async () => {
      await deploy("broken", { retries: 3 });
      const syntax = await run("broken");
      await executing(syntax.id);
      pool.fail(syntax.id, "TAU_E_CONNECTOR_SYNTAX");
      expect(await finished(syntax.id)).toMatchObject({ status: "failed", retriedBy: null });

      await deploy("once", { retries: 1 });
      const first = await run("once");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_CONNECTOR_TIMEOUT");
      const retry = await until(async () => (await view(first.id)).retriedBy ?? undefined, "the retry");
      await executing(retry);
      pool.fail(retry, "TAU_E_CONNECTOR_TIMEOUT");
      expect(await finished(retry)).toMatchObject({ status: "failed", attempt: 2, maxAttempts: 2, retriedBy: null });
    });

    it("retries the codes named in retryOn besides the retryable ones", async () => {
      await deploy("throws", { retries: 1, retryOn: ["TAU_E_PIPELINE_ERROR"] });
      const first = await run("throws");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_PIPELINE_ERROR");
      const retry = await until(async () => (await view(first.id)).retriedBy ?? undefined, "the retry");
      await executing(retry);
      pool.succeed(retry);
      expect((await finished(retry)).status).toBe("succeeded");
    });

    it("lets a retry wait out its backoff outside the queue, holding no slot", async () => {
      await service.shutdown(0);
      service = startService({ concurrency: 1, random: () => 0.5 });
      await deploy("slow_retry", { retries: 1, retryDelaySec: 60 });
      await deploy("bystander");
      const first = await run("slow_retry");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_CONNECTOR_UNREACHABLE");
      const retryId = await until(async () => (await view(first.id)).retriedBy ?? undefined, "the retry");
      const retry = await view(retryId);
      // Full jitter: half of the 60 s window with random() = 0.5.
      expect(Date.parse(retry.notBefore!) - Date.parse(retry.queuedAt)).toBe(30_000);
      expect(retry).toMatchObject({ status: "queued", attempt: 2, retryOf: first.id });
      // The only slot is free for another pipeline's run meanwhile.
      const other = await run("bystander");
      await executing(other.id);
      expect(service.counts()).toEqual({ queued: 1, running: 1 });
    });

    it("leaves a pending retry queued in the store when the daemon shuts down, for the next daemon to re-arm", async () => {
      await deploy("stopping", { retries: 2, retryDelaySec: 60 });
      const first = await run("stopping");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_CONNECTOR_UNREACHABLE");
      const retryId = await until(async () => (await view(first.id)).retriedBy ?? undefined, "the retry");
      await service.shutdown(0);
      expect(await view(retryId)).toMatchObject({ status: "queued", startedAt: null, retriedBy: null, error: null, attempt: 2 });
      expect((await view(retryId)).notBefore).not.toBeNull();
      expect(service.counts()).toEqual({ queued: 0, running: 0 });
      expect(pool.started).not.toContain(retryId);
    });

    it("computes exponential backoff with full jitter, capped at an hour", () => {
      expect(backoffMs(1, 10, () => 0.999)).toBe(9_990);
      expect(backoffMs(3, 10, () => 0.5)).toBe(20_000);
      expect(backoffMs(3, 10, () => 0)).toBe(0);
      expect(backoffMs(20, 10, () => 0.5)).toBe(1_800_000);
      expect(backoffMs(1, 0, () => 0.9)).toBe(0);
    });
  });

  describe("cancel", () => {
    it("cancels a queued run at once and the queue goes on", async () => {
      await deploy("queue");
      const first = await run("queue");
      const second = await run("queue");
      const third = await run("queue");
      await executing(first.id);
      const cancelled = await service.cancel("local", second.id);
      expect(cancelled).toMatchObject({ id: second.id, status: "cancelled", startedAt: null, error: { code: "TAU_E_RUN_CANCELLED" } });
      pool.succeed(first.id);
      await executing(third.id);
      expect(pool.started).not.toContain(second.id);
    });

    it("stops a running run, records it cancelled, never retries it, and frees its slot", async () => {
      await deploy("spin", { retries: 3 });
      const first = await run("spin");
      const second = await run("spin");
      await executing(first.id);
      const cancelled = await service.cancel("local", first.id);
      expect(cancelled).toMatchObject({ status: "cancelled", error: { code: "TAU_E_RUN_CANCELLED" }, retriedBy: null });
      await executing(second.id);
    });

    it("cancels the pending retry when given the attempt that failed", async () => {
      await deploy("retrying", { retries: 2, retryDelaySec: 60 });
      const first = await run("retrying");
      await executing(first.id);
      pool.fail(first.id, "TAU_E_CONNECTOR_UNREACHABLE");
      const retryId = await until(async () => (await view(first.id)).retriedBy ?? undefined, "the retry");
      const cancelled = await service.cancel("local", first.id);
      expect(cancelled).toMatchObject({ id: retryId, status: "cancelled", attempt: 2, retryOf: first.id });
      expect(service.counts()).toEqual({ queued: 0, running: 0 });
      expect(await service.waitFor("local", first.id, 1_000)).toBe(retryId);
    });

    it("refuses to cancel a finished run, and an unknown one", async () => {
      await deploy("done");
      const first = await run("done");
      await executing(first.id);
      pool.succeed(first.id);
      await finished(first.id);
      await expect(service.cancel("local", first.id)).rejects.toMatchObject({ code: "TAU_E_RUN_ALREADY_FINISHED", details: { id: first.id, status: "succeeded" } });
      await expect(service.cancel("local", "run_nope")).rejects.toMatchObject({ code: "TAU_E_RUN_NOT_FOUND" });
    });
  });
});
