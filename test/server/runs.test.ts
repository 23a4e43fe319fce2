import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent, RunSummary, RunView, PipelineView } from "../../server/contract";
import type { Daemon } from "../../server";
import { pipelineSource, startDaemon, tempHome, THREE_STEPS } from "./helpers/daemon";

let daemon: Daemon;
const home = tempHome();

const FAILING = pipelineSource(
  "breaks",
  `  await ctx.step("extract", async () => 1);
  await ctx.step("transform", async () => {
    ctx.log.warn("about to fail");
    throw new Error("no such column: amount");
  });
  return 1;`,
);

beforeAll(async () => {
  daemon = await startDaemon(home.home);
  for (const [source, filename] of [
    [pipelineSource("three", THREE_STEPS), "three.ts"],
    [FAILING, "breaks.ts"],
  ]) {
    const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source, filename } });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(async () => {
  await daemon?.close();
  home.remove();
});

async function run(name: string, body: Record<string, unknown>): Promise<{ status: number; body: RunView }> {
  const res = await daemon.app.inject({ method: "POST", url: `/api/pipelines/${name}/runs`, payload: body });
  return { status: res.statusCode, body: res.json() };
}

describe("runs", () => {
  let succeeded: RunView;

  it("answers a waited run once it has succeeded, with steps, result and logs", async () => {
    const res = await run("three", { wait: true, params: { day: "2026-01-31" } });
    expect(res.status).toBe(201);
    succeeded = res.body;
    expect(succeeded).toMatchObject({
      pipeline: "three",
      version: 1,
      status: "succeeded",
      trigger: "manual",
      params: { day: "2026-01-31" },
      result: { ok: true, params: { day: "2026-01-31" } },
      error: null,
    });
    expect(succeeded.id).toMatch(/^run_[0-9A-Z]{26}$/);
    expect(succeeded.steps.map((s) => [s.name, s.status, s.rowsIn, s.rowsOut])).toEqual([
      ["extract", "succeeded", null, 3],
      ["transform", "succeeded", null, null],
      ["load", "succeeded", 3, null],
    ]);
    expect(succeeded.logs.map((l) => [l.level, l.message, l.fields])).toEqual([["info", "extracted", { rows: 3 }]]);
    expect(Date.parse(succeeded.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(succeeded.startedAt!));
    expect(succeeded.durationMs).toBe(Date.parse(succeeded.finishedAt!) - Date.parse(succeeded.startedAt!));
    // Same state, same bytes: the stored run reads back exactly as the wait answered it.
    const again = await daemon.app.inject({ method: "GET", url: `/api/runs/${succeeded.id}` });
    expect(again.body).toBe(JSON.stringify(succeeded));
  });

  it("records a failing run with the error's code, step and line in the pipeline file", async () => {
    const { body } = await run("breaks", { wait: true });
    expect(body.status).toBe("failed");
    expect(body.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", step: "transform", line: 7 });
    expect(body.error!.message).toContain("no such column: amount");
    expect(body.steps.map((s) => [s.name, s.status])).toEqual([
      ["extract", "succeeded"],
      ["transform", "failed"],
    ]);
    expect(body.logs.map((l) => [l.level, l.message])).toEqual([["warn", "about to fail"]]);
  });

  it("answers a detached run at once as queued, and it then runs", async () => {
    const { status, body } = await run("three", {});
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "queued", startedAt: null, finishedAt: null, steps: [], logs: [], result: null });
    // The events of a run arrive in order: queued, started, three steps, finished.
    let events: RunEvent[] = [];
    for (let i = 0; i < 100; i++) {
      events = (await daemon.app.inject({ method: "GET", url: `/api/runs/${body.id}/events` })).json().events;
      if (events.at(-1)?.kind === "run.finished") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(events.map((e) => e.kind)).toEqual([
      "run.queued",
      "run.started",
      "step.started",
      "log",
      "step.finished",
      "step.started",
      "step.finished",
      "step.started",
      "step.finished",
      "run.finished",
    ]);
    expect(events.at(-1)!.data).toMatchObject({ status: "succeeded" });
  });

  it("hands the pipeline the finish time of its last successful run", async () => {
    const source = pipelineSource("since", "  return { since: ctx.lastSuccessfulRun ? ctx.lastSuccessfulRun.toISOString() : null };");
    await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source, filename: "since.ts" } });
    const first = (await run("since", { wait: true })).body;
    expect(first.result).toEqual({ since: null });
    const second = (await run("since", { wait: true })).body;
    expect(second.result).toEqual({ since: first.finishedAt });
  });

  it("pages through a run's events with afterSeq and limit", async () => {
    const all: RunEvent[] = (await daemon.app.inject({ method: "GET", url: `/api/runs/${succeeded.id}/events` })).json().events;
    const first = (await daemon.app.inject({ method: "GET", url: `/api/runs/${succeeded.id}/events?limit=4` })).json();
    expect(first.events).toEqual(all.slice(0, 4));
    expect(first).toMatchObject({ lastSeq: all[3]!.seq, hasMore: true });
    const rest = (await daemon.app.inject({ method: "GET", url: `/api/runs/${succeeded.id}/events?afterSeq=${first.lastSeq}` })).json();
    expect(rest.events).toEqual(all.slice(4));
    expect(rest.hasMore).toBe(false);
  });

  it("lists a pipeline's runs newest first, and its last run in full", async () => {
    const runs: RunSummary[] = (await daemon.app.inject({ method: "GET", url: "/api/pipelines/three/runs?last=2" })).json();
    expect(runs).toHaveLength(2);
    expect(runs[0]!.id > runs[1]!.id).toBe(true);
    expect(runs[1]!.id).toBe(succeeded.id);
    expect(Object.keys(runs[0]!)).not.toContain("steps");
    const last: RunView = (await daemon.app.inject({ method: "GET", url: "/api/pipelines/three/last-run" })).json();
    expect(last.id).toBe(runs[0]!.id);
    expect(last.steps).toHaveLength(3);
  });

  it("lists recent failures across pipelines, and last runs in the pipeline list", async () => {
    const errors: RunSummary[] = (await daemon.app.inject({ method: "GET", url: "/api/errors?limit=5" })).json();
    expect(errors.map((r) => [r.pipeline, r.status, r.error?.code])).toEqual([["breaks", "failed", "TAU_E_PIPELINE_ERROR"]]);
    const list: PipelineView[] = (await daemon.app.inject({ method: "GET", url: "/api/pipelines" })).json();
    expect(list.map((p) => [p.name, p.lastRun?.status])).toEqual([
      ["breaks", "failed"],
      ["since", "succeeded"],
      ["three", "succeeded"],
    ]);
  });

  it("refuses params that are not a JSON object, and runs of unknown pipelines", async () => {
    const bad = await run("three", { params: [1, 2] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: "TAU_E_PARAMS_INVALID" } });
    const missing = await run("nope", {});
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: "TAU_E_PIPELINE_NOT_FOUND", details: { name: "nope" } } });
    const noRuns = await daemon.app.inject({ method: "GET", url: "/api/pipelines/nope/last-run" });
    expect(noRuns.json().error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
  });

  it("answers TAU_E_NO_RUNS for the last run of a pipeline that never ran", async () => {
    await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: pipelineSource("idle", "  return 1;"), filename: "idle.ts" } });
    const res = await daemon.app.inject({ method: "GET", url: "/api/pipelines/idle/last-run" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("TAU_E_NO_RUNS");
  });

  it("answers with the run still running when waitMs passes first", async () => {
    const slow = pipelineSource("slow", `  { const until = Date.now() + 1500; while (Date.now() < until) {} }\n  return 1;`);
    await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: slow, filename: "slow.ts" } });
    const { body } = await run("slow", { wait: true, waitMs: 200 });
    expect(["queued", "running"]).toContain(body.status);
    const done = await run("slow", { wait: true });
    expect(done.body.status).toBe("succeeded");
  });
});
