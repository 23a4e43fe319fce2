import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ExecutorPool } from "../../sandbox/pool";
import { compile, makeJob, pipelineFile, requireBuild, runSource, startSource, tempDir, waitFor } from "./helpers";

describe("ExecutorPool runs pipelines", () => {
  const dir = tempDir();
  let pool: ExecutorPool;

  beforeAll(async () => {
    requireBuild();
    pool = new ExecutorPool({ size: 2, onStderr: () => undefined });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });

  it("a pipeline with steps and logs succeeds and reports its result, steps and logs in order", async () => {
    const source = pipelineFile(`
  ctx.log.info("starting", { runId: ctx.runId });
  await using db = duckdb_local();
  const loaded = await ctx.step("load", async (step) => {
    step.rowsIn = 3;
    const n = await db.load([{ id: 1 }, { id: 2 }, { id: 3 }], { table: "numbers", mode: "replace" });
    step.rowsOut = n;
    step.meta.table = "numbers";
    return n;
  });
  const rows = await ctx.step("read", () => db.extract("SELECT sum(id) AS total FROM numbers"));
  ctx.log.warn("done");
  return { loaded, total: rows[0].total, params: ctx.params };`);
    const { outcome, events, job } = await runSource(pool, source, { dataDir: dir.path, params: { day: "2026-01-31" } });
    expect(outcome).toEqual({ status: "succeeded", result: { loaded: 3, total: 6, params: { day: "2026-01-31" } } });
    expect(events.map((e) => `${e.kind}:${"step" in e ? e.step : ""}`)).toEqual([
      "log:null",
      "step.started:load",
      "step.finished:load",
      "step.started:read",
      "step.finished:read",
      "log:null",
    ]);
    const load = events.find((e) => e.kind === "step.finished" && e.step === "load");
    expect(load).toMatchObject({ status: "succeeded", rowsIn: 3, rowsOut: 3, meta: { table: "numbers" }, error: null });
    expect(events[0]).toMatchObject({ kind: "log", level: "info", message: "starting", fields: { runId: job.runId } });
    for (const e of events) expect(Number.isNaN(Date.parse(e.ts))).toBe(false);
  });

  it("a pipeline that throws fails with TAU_E_PIPELINE_ERROR pointing at the line and column of the file as written", async () => {
    const source = pipelineFile(`
  await ctx.step("transform", async () => {
    const value = 1;
    throw new Error("bad value " + value);
  });`);
    const { outcome, events } = await runSource(pool, source, { dataDir: dir.path, filename: "orders.ts" });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", message: "bad value 1", step: "transform", line: 8, column: 11 });
    expect(outcome.error.hint).toContain("error.line");
    expect(String(outcome.error.details.stack)).toContain("orders.ts:8:11");
    expect(events.find((e) => e.kind === "step.finished")).toMatchObject({ status: "failed", error: { code: "TAU_E_PIPELINE_ERROR" } });
  });

  it("a failed connector call keeps the connector's code, hint and details in the run error", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(":memory:");
  await ctx.step("query", () => db.extract("SELECT * FROM no_such_table"));`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", step: "query", line: 7 });
    expect(outcome.error.details).toMatchObject({ sql: "SELECT * FROM no_such_table", duckdbError: "Catalog Error" });
  });

  it("cancelling a running run ends it with status cancelled and TAU_E_RUN_CANCELLED", async () => {
    const started = await startSource(pool, pipelineFile(`ctx.log.info("spinning"); while (true) {}`), { dataDir: dir.path });
    await waitFor(() => started.events.length > 0, 10_000, "the run to log");
    expect(pool.cancel(started.job.runId)).toBe(true);
    const outcome = await started.done;
    expect(outcome.status).toBe("cancelled");
    if (outcome.status === "cancelled") expect(outcome.error.code).toBe("TAU_E_RUN_CANCELLED");
    expect(pool.cancel(started.job.runId)).toBe(false);
  });

  it("runs are spread over the executors and many run concurrently in one executor", async () => {
    const compiled = await compile(pipelineFile(`return await ctx.step("s", async () => ctx.runId);`));
    const jobs = Array.from({ length: 12 }, () => makeJob(compiled, { dataDir: dir.path }));
    const placements: Array<number | undefined> = [];
    const done = jobs.map((job) => {
      const outcome = pool.run(job, () => undefined);
      placements.push(pool.placement(job.runId)?.executorId);
      return outcome;
    });
    expect(placements.filter((p) => p === 0)).toHaveLength(6);
    expect(placements.filter((p) => p === 1)).toHaveLength(6);
    expect(pool.status().map((s) => s.running)).toEqual([6, 6]);
    const outcomes = await Promise.all(done);
    outcomes.forEach((o, i) => expect(o).toEqual({ status: "succeeded", result: jobs[i].runId }));
    expect(pool.status().every((s) => s.state === "ready" && s.running === 0)).toBe(true);
  });

  it("an isolate is never reused: globals one run sets are not there in the next run", async () => {
    const source = pipelineFile(`const seen = (globalThis as any).__marker ?? null; (globalThis as any).__marker = ctx.runId; return seen;`);
    const first = await runSource(pool, source, { dataDir: dir.path });
    const second = await runSource(pool, source, { dataDir: dir.path });
    expect(first.outcome).toEqual({ status: "succeeded", result: null });
    expect(second.outcome).toEqual({ status: "succeeded", result: null });
  });

  it("the run's steps left open when the run fails are finished as failed with the run's error", async () => {
    const source = pipelineFile(`
  const s = ctx.step("never_ended");
  throw new Error("stop");`);
    const { outcome, events } = await runSource(pool, source, { dataDir: dir.path });
    expect(outcome.status).toBe("failed");
    const finished = events.filter((e) => e.kind === "step.finished");
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ step: "never_ended", status: "failed" });
  });

  it("status() lists each executor with its pid, state and restarts", () => {
    const status = pool.status();
    expect(status).toHaveLength(2);
    for (const s of status) {
      expect(s).toMatchObject({ state: "ready", restarts: 0 });
      expect(typeof s.pid).toBe("number");
    }
  });

  it("a closed pool answers runs with TAU_E_RUN_INTERRUPTED instead of rejecting", async () => {
    const other = new ExecutorPool({ size: 1, onStderr: () => undefined });
    await other.start();
    await other.close();
    const compiled = await compile(pipelineFile(`return 1;`));
    const outcome = await other.run(
      { runId: "x", tenantId: "local", pipeline: "p", version: 1, filename: "p.ts", bundle: compiled.bundle, sourceMap: compiled.sourceMap, params: {}, lastSuccessfulRun: null, timeoutSec: null, policy: LOCAL_POLICY, dataDir: dir.path },
      () => undefined,
    );
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") expect(outcome.error.code).toBe("TAU_E_RUN_INTERRUPTED");
    expect(other.status().every((s) => s.state === "dead")).toBe(true);
  });
});
