import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, type TenantEvent } from "../../server/store";
import { tempHome } from "./helpers/daemon";
import { backendDatabase, STORE_BACKENDS } from "./helpers/postgres";

describe.each(STORE_BACKENDS)("run ledger on %s", (backend) => {
  const home = tempHome();
  const published: TenantEvent[] = [];
  let store: Store;
  let pipelineId: number;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const database = await backendDatabase(backend);
    drop = database.drop;
    store = await Store.open({ home: home.home, databaseUrl: database.databaseUrl, onEvents: (events) => published.push(...events) });
    expect(store.dialect).toBe(backend);
    await store.pipelines.ensureTenant("local", "Local");
    const meta = { name: "p", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: null, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 };
    pipelineId = (await store.pipelines.addVersion({ tenantId: "local", meta, filename: "p.ts", hash: "h", source: "s", bundle: "b", sourceMap: "{}" })).pipeline.id;
  });
  afterAll(async () => {
    await store?.close();
    await drop();
    home.remove();
  });

  const ref = (runId: string) => ({ tenantId: "local", runId, pipeline: "p" });
  const queued = (runId: string) => ({ ...ref(runId), pipelineId, version: 1, trigger: "manual" as const, params: {}, queuedAt: Date.now() });

  it("stores a tick's writes in one batch and publishes their events in seq order after commit", async () => {
    const before = published.length;
    const events = await Promise.all([store.ledger.queued(queued("run_a")), store.ledger.queued(queued("run_b")), store.ledger.started(ref("run_a"), Date.now(), "t")]);
    expect(events.map((e) => e.event.kind)).toEqual(["run.queued", "run.queued", "run.started"]);
    expect(published.slice(before)).toEqual(events);
    expect(events[1]!.event.seq).toBe(events[0]!.event.seq + 1);
    expect(await store.events.page({ tenantId: "local", runId: "run_a" }, 0, 10)).toEqual([events[0]!.event, events[2]!.event]);
  });

  it("fails only the bad write of a batch: its neighbours are stored and published", async () => {
    const before = published.length;
    const ts = new Date().toISOString();
    const [bad, good] = await Promise.allSettled([
      // No such run: the step's foreign key refuses it.
      store.ledger.stepStarted(ref("run_missing"), 0, { kind: "step.started", ts, step: "x" }),
      store.ledger.log(ref("run_b"), { kind: "log", ts, level: "info", step: null, message: "still here", fields: null }),
    ]);
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "TAU_E_STORE_CONFLICT" } });
    expect(good).toMatchObject({ status: "fulfilled" });
    expect(published.slice(before).map((e) => e.event.message)).toEqual(["still here"]);
    expect(await store.events.page({ tenantId: "local", runId: "run_missing" }, 0, 10)).toEqual([]);
  });

  it("ends a run with its result, closes the steps it left running, and reports the duration", async () => {
    const ts = new Date().toISOString();
    await store.ledger.stepStarted(ref("run_a"), 0, { kind: "step.started", ts, step: "open" });
    const at = Date.now() + 50;
    const end = await store.ledger.finished(ref("run_a"), { status: "succeeded", result: { n: 1 } }, at);
    expect(end.event).toMatchObject({ kind: "run.finished", level: "info", data: { status: "succeeded", error: null } });
    const run = await store.runs.record("local", "run_a");
    expect(run).toMatchObject({ status: "succeeded", result: { n: 1 }, finishedAt: at, pipeline: { name: "p" } });
    const [step] = await store.runs.steps("run_a");
    expect(step).toMatchObject({ name: "open", status: "failed", error: { code: "TAU_E_STEP_INVALID" } });
    expect(step!.durationMs).toBe(Math.max(0, at - Date.parse(ts)));
    expect(await store.runs.lastSucceededAt(pipelineId)).toBe(at);
  });

  it("keeps a run's params and result as written: key order, nesting and millisecond times", async () => {
    const params = { zeta: 1, alpha: { b: [1, "two", null], a: true } };
    await store.ledger.queued({ ...queued("run_c"), params });
    await store.ledger.finished(ref("run_c"), { status: "succeeded", result: { z: 1, a: 2 } }, 1_764_000_000_123);
    const run = await store.runs.record("local", "run_c");
    expect(JSON.stringify(run!.params)).toBe(JSON.stringify(params));
    expect(JSON.stringify(run!.result)).toBe('{"z":1,"a":2}');
    expect(run!.finishedAt).toBe(1_764_000_000_123);
    // The ORM's side reads the same row the same way.
    const [listed] = await store.runs.listForPipeline("local", pipelineId, 1);
    expect(listed).toMatchObject({ id: "run_c", finishedAt: 1_764_000_000_123, params });
  });

  it("stores text exactly as given: quotes, backslashes, placeholders and statement separators included", async () => {
    const message = `it's a \\ "quote"; drop table run; -- ? $1 :name ü 🚀\nnext line`;
    const fields = { "we'ird": "a?b", nested: { s: "x';--" } };
    const [a, b] = await Promise.all([
      store.ledger.log(ref("run_b"), { kind: "log", ts: new Date().toISOString(), level: "warn", step: "st'ep", message, fields }),
      store.ledger.started(ref("run_b"), Date.now(), "ex'ecutor ?"),
    ]);
    const page = await store.events.page({ tenantId: "local", runId: "run_b" }, a!.event.seq - 1, 10);
    expect(page.map((e) => e.seq)).toEqual([a!.event.seq, b!.event.seq]);
    expect(page[0]).toMatchObject({ message, step: "st'ep", level: "warn", data: fields });
    expect(page[1]).toMatchObject({ message: "Run started on ex'ecutor ?." });
    expect(await store.runs.status("local", "run_b")).toBe("running");
  });

  it("answers reads of the graph, schedules and history with plain numbers and booleans", async () => {
    const nodes = await store.graph.nodes("local");
    expect(nodes).toEqual([expect.objectContaining({ name: "p", pipelineId, enabled: true, lastStatus: "succeeded" })]);
    expect(await store.pipelines.head("local", "p")).toEqual({ id: pipelineId, name: "p", currentVersion: 1, retries: 0, maxConcurrentRuns: 1 });
    const history = await store.history.of("local", "p", 10);
    expect(history!.map((h) => h.id)).toEqual(["run_c", "run_b", "run_a"]);
    expect(typeof history![0]!.queuedAt).toBe("number");
    expect(await store.events.head()).toBeGreaterThan(0);
    await store.schedules.change("local", "p", { override: { cron: null, everySec: 60, timezone: null }, allowOverlap: true });
    expect(await store.schedules.load("local", "p")).toMatchObject({ pipelineId, enabled: true, allowOverlap: true, schedule: { everySec: 60 } });
    await store.schedules.save([{ pipelineId, nextRunAt: 1_764_000_060_000, lastFire: { plannedAt: 1, firedAt: 2, runId: null, skipped: "overlap", catchUp: false } }]);
    expect((await store.schedules.loadAll()).map((s) => s.nextRunAt)).toEqual([1_764_000_060_000]);
  });
});
