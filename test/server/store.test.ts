import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, type TenantEvent } from "../../server/store";
import { tempHome } from "./helpers/daemon";

const home = tempHome();
const published: TenantEvent[] = [];
let store: Store;
let pipelineId: number;

beforeAll(async () => {
  store = await Store.open({ home: home.home, onEvents: (events) => published.push(...events) });
  await store.pipelines.ensureTenant("local", "Local");
  const meta = { name: "p", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: null, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 };
  pipelineId = (await store.pipelines.addVersion({ tenantId: "local", meta, filename: "p.ts", hash: "h", source: "s", bundle: "b", sourceMap: "{}" })).pipeline.id;
});
afterAll(async () => {
  await store?.close();
  home.remove();
});

const ref = (runId: string) => ({ tenantId: "local", runId, pipeline: "p" });
const queued = (runId: string) => ({ ...ref(runId), pipelineId, version: 1, trigger: "manual" as const, params: {}, queuedAt: Date.now() });

describe("run ledger", () => {
  it("stores a tick's writes in one batch and publishes their events in seq order after commit", async () => {
    const before = published.length;
    const events = await Promise.all([store.ledger.queued(queued("run_a")), store.ledger.queued(queued("run_b")), store.ledger.started(ref("run_a"), Date.now(), "t")]);
    expect(events.map((e) => e.event.kind)).toEqual(["run.queued", "run.queued", "run.started"]);
    expect(published.slice(before)).toEqual(events);
    expect(events[1]!.event.seq).toBe(events[0]!.event.seq + 1);
    expect(store.events.page({ tenantId: "local", runId: "run_a" }, 0, 10)).toEqual([events[0]!.event, events[2]!.event]);
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
    expect(store.events.page({ tenantId: "local", runId: "run_missing" }, 0, 10)).toEqual([]);
  });

  it("ends a run with its result, closes the steps it left running, and reports the duration", async () => {
    const ts = new Date().toISOString();
    await store.ledger.stepStarted(ref("run_a"), 0, { kind: "step.started", ts, step: "open" });
    const at = Date.now() + 50;
    const end = await store.ledger.finished(ref("run_a"), { status: "succeeded", result: { n: 1 } }, at);
    expect(end.event).toMatchObject({ kind: "run.finished", level: "info", data: { status: "succeeded", error: null } });
    const run = store.runs.record("local", "run_a");
    expect(run).toMatchObject({ status: "succeeded", result: { n: 1 }, finishedAt: at, pipeline: { name: "p" } });
    const [step] = store.runs.steps("run_a");
    expect(step).toMatchObject({ name: "open", status: "failed", error: { code: "TAU_E_STEP_INVALID" } });
    expect(store.runs.lastSucceededAt(pipelineId)).toBe(at);
  });
});
