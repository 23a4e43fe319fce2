/**
 * Schedules in a real in-process daemon (real store, RunService and executors) driven by an injected
 * manual clock: `tau schedule`'s API, fires that queue runs with trigger "schedule", the overlap rule,
 * one catch-up run after downtime, and a scheduled success triggering its dependents.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineView, RunSummary, ScheduleView } from "../../server/contract";
import { createDaemon, type Daemon } from "../../server";
import { ManualClock } from "../../server/scheduler";
import { busyWait, pipelineSource, tempHome } from "./helpers/daemon";

const home = tempHome();
const START = Date.parse("2026-06-01T10:00:00.000Z");
let clock: ManualClock;
let daemon: Daemon;

async function api<T = any>(method: "GET" | "POST", url: string, payload?: unknown): Promise<{ status: number; body: T }> {
  const res = await daemon.app.inject({ method, url, payload: payload as Record<string, unknown> | undefined });
  return { status: res.statusCode, body: res.json() as T };
}

async function deploy(name: string, body: string, meta = ""): Promise<void> {
  const res = await api("POST", "/api/pipelines", { source: pipelineSource(name, body, meta), filename: `${name}.ts` });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

async function runsOf(name: string): Promise<RunSummary[]> {
  return (await api<RunSummary[]>("GET", `/api/pipelines/${name}/runs?last=50`)).body;
}

/** The pipeline's runs matching `pred`, or undefined when there is none yet (for `until`). */
async function matching(name: string, pred: (r: RunSummary) => boolean): Promise<RunSummary[] | undefined> {
  const runs = (await runsOf(name)).filter(pred);
  return runs.length > 0 ? runs : undefined;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const OK = "  return { ok: true };";

/** A daemon on the test's home whose scheduler runs on `clock`. */
const start = (): Promise<Daemon> => createDaemon({ home: home.home, port: 0, executors: 1, logLevel: "silent" }, { clock });

beforeAll(async () => {
  clock = new ManualClock(START);
  daemon = await start();
});
afterAll(async () => {
  await daemon?.close();
  home.remove();
});

describe("schedules through the API", () => {
  it("plans the file's cron schedule at deploy, in UTC, and shows it in the pipeline list", async () => {
    await deploy("sched_meta", OK, 'schedule: "0 6 * * *"');
    const view = (await api<ScheduleView>("GET", "/api/pipelines/sched_meta/schedule")).body;
    expect(view).toMatchObject({ cron: "0 6 * * *", everySec: null, timezone: "UTC", source: "meta", enabled: true, nextRunAt: "2026-06-02T06:00:00.000Z", lastFire: null });
    const listed = (await api<PipelineView[]>("GET", "/api/pipelines")).body.find((p) => p.name === "sched_meta")!;
    expect(listed).toMatchObject({ schedule: "0 6 * * *", everySec: null, timezone: "UTC", nextRunAt: "2026-06-02T06:00:00.000Z", enabled: true });
  });

  it("reads the file's cron expression in the file's time zone, and refuses an unknown zone at deploy", async () => {
    await deploy("sched_berlin", OK, 'schedule: "30 7 * * *", timezone: "Europe/Berlin"');
    const view = (await api<ScheduleView>("GET", "/api/pipelines/sched_berlin/schedule")).body;
    // 07:30 CEST = 05:30 UTC.
    expect(view).toMatchObject({ cron: "30 7 * * *", timezone: "Europe/Berlin", source: "meta", nextRunAt: "2026-06-02T05:30:00.000Z" });
    const bad = await api("POST", "/api/pipelines", { source: pipelineSource("sched_mars", OK, 'schedule: "0 6 * * *", timezone: "Mars/Olympus"'), filename: "sched_mars.ts" });
    expect([bad.status, bad.body.error.code, bad.body.error.details.field]).toEqual([422, "TAU_E_DEPLOY_META_INVALID", "timezone"]);
  });

  it("sets a cron expression in a time zone, and returns to the file's schedule with reset", async () => {
    const set = await api<ScheduleView>("POST", "/api/pipelines/sched_meta/schedule", { cron: "30 7 * * *", timezone: "Europe/Berlin" });
    expect(set.status).toBe(200);
    // 07:30 CEST = 05:30 UTC.
    expect(set.body).toMatchObject({ cron: "30 7 * * *", timezone: "Europe/Berlin", source: "cli", metaSchedule: "0 6 * * *", nextRunAt: "2026-06-02T05:30:00.000Z" });
    const reset = await api<ScheduleView>("POST", "/api/pipelines/sched_meta/schedule", { reset: true });
    expect(reset.body).toMatchObject({ cron: "0 6 * * *", timezone: "UTC", source: "meta", nextRunAt: "2026-06-02T06:00:00.000Z" });
  });

  it("drops the CLI's schedule when a deploy changes the file's schedule, keeps it otherwise", async () => {
    await api("POST", "/api/pipelines/sched_meta/schedule", { everySec: 3600 });
    await deploy("sched_meta", "  return { ok: 2 };", 'schedule: "0 6 * * *"');
    expect((await api<ScheduleView>("GET", "/api/pipelines/sched_meta/schedule")).body).toMatchObject({ everySec: 3600, source: "cli" });
    await deploy("sched_meta", OK, 'schedule: "0 8 * * *"');
    expect((await api<ScheduleView>("GET", "/api/pipelines/sched_meta/schedule")).body).toMatchObject({ cron: "0 8 * * *", everySec: null, source: "meta" });
  });

  it("refuses an invalid schedule with TAU_E_SCHEDULE_INVALID naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ cron: "61 * * * *" }, "cron"],
      [{ cron: "0 6 * * *", timezone: "Mars/Olympus" }, "timezone"],
      [{ cron: "0 6 * * *", everySec: 60 }, "schedule"],
      [{ everySec: 60, timezone: "Europe/Berlin" }, "timezone"],
      [{ reset: true, everySec: 60 }, "reset"],
      [{}, "request"],
    ];
    for (const [body, field] of cases) {
      const res = await api("POST", "/api/pipelines/sched_meta/schedule", body);
      expect([res.status, res.body.error.code, res.body.error.details.field], JSON.stringify(body)).toEqual([422, "TAU_E_SCHEDULE_INVALID", field]);
    }
    expect((await api("POST", "/api/pipelines/sched_meta/schedule", { everySec: 0 })).body.error.code).toBe("TAU_E_REQUEST_INVALID");
    expect((await api("GET", "/api/pipelines/nope/schedule")).body.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
  });

  it("fires an --every schedule: runs with trigger schedule, the fire recorded on the pipeline", async () => {
    await deploy("sched_every", OK);
    const set = await api<ScheduleView>("POST", "/api/pipelines/sched_every/schedule", { everySec: 60 });
    expect(set.body.nextRunAt).toBe(new Date(clock.now() + 60_000).toISOString());
    clock.advance(60_000);
    const [run] = await until("a scheduled run", () => matching("sched_every", (r) => r.status === "succeeded"));
    expect(run).toMatchObject({ trigger: "schedule", status: "succeeded" });
    const view = (await api<ScheduleView>("GET", "/api/pipelines/sched_every/schedule")).body;
    expect(view.lastFire).toMatchObject({ runId: run!.id, skipped: null, catchUp: false });
    expect(view.nextRunAt).toBe(new Date(clock.now() + 60_000).toISOString());
  });

  it("does not fire while disabled, and plans afresh from now when enabled again", async () => {
    await api("POST", "/api/pipelines/sched_every/schedule", { enabled: false });
    const before = (await runsOf("sched_every")).length;
    expect((await api<ScheduleView>("GET", "/api/pipelines/sched_every/schedule")).body).toMatchObject({ enabled: false, nextRunAt: null });
    clock.advance(10 * 60_000);
    await sleep(200);
    expect((await runsOf("sched_every")).length).toBe(before);
    const enabled = await api<ScheduleView>("POST", "/api/pipelines/sched_every/schedule", { enabled: true });
    expect(enabled.body.nextRunAt).toBe(new Date(clock.now() + 60_000).toISOString());
    await api("POST", "/api/pipelines/sched_every/schedule", { enabled: false });
  });

  it("skips a fire while a run of the pipeline is still running, and records why", async () => {
    await deploy("sched_slow", `  ${busyWait("1500")}\n  return 1;`);
    const manual = await api("POST", "/api/pipelines/sched_slow/runs", {});
    expect(manual.status).toBe(201);
    await api("POST", "/api/pipelines/sched_slow/schedule", { everySec: 30 });
    clock.advance(30_000);
    const view = await until("the skipped fire", async () => {
      const v = (await api<ScheduleView>("GET", "/api/pipelines/sched_slow/schedule")).body;
      return v.lastFire ? v : undefined;
    });
    expect(view.lastFire).toMatchObject({ runId: null, skipped: "overlap" });
    expect((await runsOf("sched_slow")).map((r) => r.trigger)).toEqual(["manual"]);
    // With allowOverlap, the next fire queues a run although the first is still running.
    await api("POST", "/api/pipelines/sched_slow/schedule", { allowOverlap: true });
    clock.advance(30_000);
    await until("an overlapping scheduled run", async () => (await runsOf("sched_slow")).find((r) => r.trigger === "schedule"));
    await api("POST", "/api/pipelines/sched_slow/schedule", { enabled: false });
  });

  it("triggers a scheduled pipeline's dependents once their other dependencies have succeeded", async () => {
    await deploy("sched_up", OK);
    await deploy("sched_other", OK);
    await deploy("sched_down", OK, 'dependsOn: ["sched_up"]');
    await deploy("sched_down_waiting", OK, 'dependsOn: ["sched_up", "sched_other"]');
    await api("POST", "/api/pipelines/sched_up/schedule", { everySec: 45 });
    clock.advance(45_000);
    const [down] = await until("the dependent's run", () => matching("sched_down", (r) => r.status === "succeeded"));
    expect(down).toMatchObject({ trigger: "dag", graphRunId: null });
    // sched_other never ran: its dependent waits.
    await sleep(200);
    expect(await runsOf("sched_down_waiting")).toEqual([]);
    await api("POST", "/api/pipelines/sched_other/runs", { wait: true });
    clock.advance(45_000);
    await until("the second dependent's run", async () => (await runsOf("sched_down_waiting")).find((r) => r.status === "succeeded"));
    await api("POST", "/api/pipelines/sched_up/schedule", { enabled: false });
  });

  it("after downtime fires exactly one catch-up run, not one per missed fire", async () => {
    await deploy("sched_catchup", OK);
    await api("POST", "/api/pipelines/sched_catchup/schedule", { everySec: 60 });
    await daemon.close();
    // Three hours later: 180 fires were missed.
    clock = new ManualClock(clock.now() + 3 * 3600_000);
    daemon = await start();
    const runs = await until("the catch-up run", () => matching("sched_catchup", (r) => r.status === "succeeded"));
    await sleep(300);
    expect((await runsOf("sched_catchup")).length).toBe(1);
    expect(runs[0]).toMatchObject({ trigger: "schedule" });
    const view = (await api<ScheduleView>("GET", "/api/pipelines/sched_catchup/schedule")).body;
    expect(view.lastFire).toMatchObject({ catchUp: true, runId: runs[0]!.id });
    expect(Date.parse(view.nextRunAt!)).toBeGreaterThan(clock.now());
  });
});
