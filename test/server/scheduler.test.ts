/**
 * The scheduler against an injected clock: DST changes, month ends, misfires and restarts without sleeping.
 * The store and the fire target are in-memory here (they are plain interfaces); the daemon's real ones
 * are covered in scheduler-daemon.test.ts and the e2e test.
 */
import { describe, expect, it } from "vitest";
import {
  ManualClock,
  Scheduler,
  firesBetween,
  nextFire,
  specProblem,
  TimeHeap,
  type FireOutcome,
  type ScheduleEntry,
  type ScheduleUpdate,
  type ScheduleSpec,
} from "../../server/scheduler";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const t = (s: string): number => Date.parse(s);
const isoOf = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A scheduler over an in-memory store; `fires` lists each fire as [pipeline, planned ISO, fired ISO]. */
function harness(entries: Array<Partial<ScheduleEntry> & { pipeline: string; spec: ScheduleSpec }>, start: string, busy: Set<string> = new Set()) {
  const clock = new ManualClock(t(start));
  const rows = new Map<string, ScheduleEntry>();
  entries.forEach((e, i) =>
    rows.set(e.pipeline, { tenantId: "local", pipelineId: i + 1, enabled: true, allowOverlap: false, catchUp: 1, nextRunAt: null, ...e }),
  );
  const fires: Array<[string, string, string]> = [];
  const saved: ScheduleUpdate[] = [];
  let runs = 0;
  const scheduler = new Scheduler({
    clock,
    log: silent,
    store: {
      loadAll: async () => [...rows.values()].map((r) => ({ ...r })),
      load: async (_tenant, name) => (rows.has(name) ? { ...rows.get(name)! } : null),
      save: async (updates) => {
        saved.push(...updates);
        for (const u of updates) for (const r of rows.values()) if (r.pipelineId === u.pipelineId) r.nextRunAt = u.nextRunAt;
      },
    },
    target: {
      fire: async (entry, plannedAt): Promise<FireOutcome> => {
        fires.push([entry.pipeline, isoOf(plannedAt)!, isoOf(clock.now())!]);
        if (!entry.allowOverlap && busy.has(entry.pipeline)) return { skipped: "overlap", details: {} };
        return { runId: `run_${++runs}` };
      },
    },
  });
  /** Moves the clock and lets the fires' promises settle. */
  const to = async (at: string): Promise<void> => {
    clock.set(t(at));
    await new Promise((r) => setImmediate(r));
  };
  return { clock, rows, fires, saved, scheduler, to };
}

const cron = (expr: string, timezone = "UTC"): ScheduleSpec => ({ cron: expr, everySec: null, timezone });
const every = (sec: number): ScheduleSpec => ({ cron: null, everySec: sec, timezone: "UTC" });

describe("schedule specs", () => {
  it("fire a Berlin 02:30 job once on the spring-forward day, at 03:00 local, and daily otherwise", () => {
    const spec = cron("30 2 * * *", "Europe/Berlin");
    // 2026-03-29: clocks jump from 02:00 to 03:00 CEST; 02:30 does not exist.
    expect(isoOf(nextFire(spec, t("2026-03-28T12:00:00Z")))).toBe("2026-03-29T01:00:00.000Z");
    expect(isoOf(nextFire(spec, t("2026-03-29T01:00:00Z")))).toBe("2026-03-30T00:30:00.000Z");
    expect(isoOf(nextFire(spec, t("2026-03-27T12:00:00Z")))).toBe("2026-03-28T01:30:00.000Z");
  });

  it("fire a Berlin 02:30 job once, not twice, on the fall-back day when 02:30 happens twice", () => {
    const spec = cron("30 2 * * *", "Europe/Berlin");
    const first = nextFire(spec, t("2026-10-24T12:00:00Z"))!;
    expect(isoOf(first)).toBe("2026-10-25T00:30:00.000Z");
    // The second 02:30 (01:30Z, CET) must not fire again.
    expect(isoOf(nextFire(spec, first))).toBe("2026-10-26T01:30:00.000Z");
  });

  it("keep hourly jobs hourly in UTC across the DST change while local wall-clock hours repeat", () => {
    const spec = cron("0 * * * *", "Europe/Berlin");
    let at = t("2026-10-24T23:30:00Z");
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(isoOf((at = nextFire(spec, at)!))!);
    expect(seen).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T02:00:00.000Z", "2026-10-25T03:00:00.000Z"]);
  });

  it("skip months without a 31st, and 'L' means the last day of each month", () => {
    expect(isoOf(nextFire(cron("0 0 31 * *"), t("2026-02-01T00:00:00Z")))).toBe("2026-03-31T00:00:00.000Z");
    expect(isoOf(nextFire(cron("0 0 31 * *"), t("2026-04-01T00:00:00Z")))).toBe("2026-05-31T00:00:00.000Z");
    expect(isoOf(nextFire(cron("0 0 L * *"), t("2026-02-01T00:00:00Z")))).toBe("2026-02-28T00:00:00.000Z");
    expect(isoOf(nextFire(cron("0 0 L * *"), t("2028-02-01T00:00:00Z")))).toBe("2028-02-29T00:00:00.000Z");
  });

  it("keep an interval's cadence from the planned fire, skipping the periods slept through", () => {
    const spec = every(3600);
    expect(isoOf(nextFire(spec, t("2026-01-01T00:00:00Z")))).toBe("2026-01-01T01:00:00.000Z");
    // Planned at 01:00, woke at 03:20: next is 04:00, not 04:20.
    expect(isoOf(nextFire(spec, t("2026-01-01T03:20:00Z"), t("2026-01-01T01:00:00Z")))).toBe("2026-01-01T04:00:00.000Z");
  });

  it("count missed fires only up to the limit asked for", () => {
    expect(firesBetween(cron("* * * * *"), t("2026-01-01T00:00:00Z"), t("2027-01-01T00:00:00Z"), 5)).toBe(5);
    expect(firesBetween(cron("0 6 * * *"), t("2026-01-01T00:00:00Z"), t("2026-01-03T12:00:00Z"), 10)).toBe(3);
  });

  it("name the wrong field of an invalid spec", () => {
    expect(specProblem(cron("61 * * * *"))?.field).toBe("cron");
    expect(specProblem(cron("0 6 * * *", "Mars/Olympus"))?.field).toBe("timezone");
    expect(specProblem(every(0))?.field).toBe("everySec");
    expect(specProblem({ cron: "0 6 * * *", everySec: 60, timezone: "UTC" })?.field).toBe("schedule");
    expect(specProblem(cron("0 6 * * *", "Europe/Berlin"))).toBeNull();
  });
});

describe("the scheduler", () => {
  it("fires each pipeline at its planned time and persists the next fire", async () => {
    const h = harness([{ pipeline: "hourly", spec: cron("0 * * * *") }, { pipeline: "daily", spec: cron("0 6 * * *") }], "2026-01-31T04:30:00Z");
    await h.scheduler.start();
    expect(h.clock.pending).toBe(1); // one timer, whatever the number of pipelines
    expect(isoOf(h.rows.get("hourly")!.nextRunAt)).toBe("2026-01-31T05:00:00.000Z");
    await h.to("2026-01-31T05:00:00Z");
    await h.to("2026-01-31T06:00:00Z");
    expect(h.fires).toEqual([
      ["hourly", "2026-01-31T05:00:00.000Z", "2026-01-31T05:00:00.000Z"],
      ["daily", "2026-01-31T06:00:00.000Z", "2026-01-31T06:00:00.000Z"],
      ["hourly", "2026-01-31T06:00:00.000Z", "2026-01-31T06:00:00.000Z"],
    ]);
    expect(isoOf(h.rows.get("daily")!.nextRunAt)).toBe("2026-02-01T06:00:00.000Z");
    expect(h.saved.at(-1)?.lastFire).toMatchObject({ runId: expect.stringMatching(/^run_/), skipped: null, catchUp: false });
    await h.scheduler.stop();
  });

  it("fires once for a tick that came late by several periods (a misfire), not once per missed period", async () => {
    const h = harness([{ pipeline: "minutely", spec: cron("* * * * *") }], "2026-01-31T10:00:30Z");
    await h.scheduler.start();
    await h.to("2026-01-31T10:07:45Z"); // the event loop was blocked, or the machine slept
    expect(h.fires).toEqual([["minutely", "2026-01-31T10:01:00.000Z", "2026-01-31T10:07:45.000Z"]]);
    expect(isoOf(h.rows.get("minutely")!.nextRunAt)).toBe("2026-01-31T10:08:00.000Z");
    expect(h.scheduler.stats().maxLatencyMs).toBe(405_000);
    await h.scheduler.stop();
  });

  it("fires the monthly last-day job on 28 February, then on 31 March", async () => {
    const h = harness([{ pipeline: "month_end", spec: cron("0 23 L * *") }], "2026-02-20T00:00:00Z");
    await h.scheduler.start();
    expect(isoOf(h.rows.get("month_end")!.nextRunAt)).toBe("2026-02-28T23:00:00.000Z");
    await h.to("2026-02-28T23:00:00Z");
    expect(isoOf(h.rows.get("month_end")!.nextRunAt)).toBe("2026-03-31T23:00:00.000Z");
    await h.to("2026-03-31T23:00:00Z");
    expect(h.fires.map((f) => f[1])).toEqual(["2026-02-28T23:00:00.000Z", "2026-03-31T23:00:00.000Z"]);
    await h.scheduler.stop();
  });

  it("fires a Berlin job across both DST changes exactly once a day", async () => {
    const h = harness([{ pipeline: "berlin", spec: cron("30 2 * * *", "Europe/Berlin") }], "2026-03-28T00:00:00Z");
    await h.scheduler.start();
    // Step day by day so each fire happens on time.
    for (let day = t("2026-03-28T12:00:00Z"); day <= t("2026-03-31T12:00:00Z"); day += 86_400_000) await h.to(new Date(day).toISOString());
    expect(h.fires.map((f) => f[1])).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z", "2026-03-31T00:30:00.000Z"]);
    await h.scheduler.stop();
  });

  it("after downtime fires one catch-up run per pipeline by default, however many fires were missed", async () => {
    const h = harness(
      [
        { pipeline: "minutely", spec: cron("* * * * *"), nextRunAt: t("2026-01-31T08:00:00Z") },
        { pipeline: "daily", spec: cron("0 6 * * *"), nextRunAt: t("2026-01-29T06:00:00Z") },
        { pipeline: "future", spec: cron("0 6 * * *"), nextRunAt: t("2026-02-01T06:00:00Z") },
      ],
      "2026-01-31T12:00:00Z",
    );
    await h.scheduler.start();
    expect(h.fires.map((f) => [f[0], f[1]]).sort()).toEqual([
      ["daily", "2026-01-29T06:00:00.000Z"],
      ["minutely", "2026-01-31T08:00:00.000Z"],
    ]);
    expect(isoOf(h.rows.get("minutely")!.nextRunAt)).toBe("2026-01-31T12:01:00.000Z");
    expect(isoOf(h.rows.get("daily")!.nextRunAt)).toBe("2026-02-01T06:00:00.000Z");
    expect(h.saved.filter((u) => u.lastFire?.catchUp).length).toBe(2);
    await h.scheduler.stop();
  });

  it("honours catchUp 0 (no catch-up) and catchUp 3 (up to three, when at least three were missed)", async () => {
    const h = harness(
      [
        { pipeline: "none", spec: every(60), nextRunAt: t("2026-01-31T11:00:00Z"), catchUp: 0 },
        { pipeline: "three", spec: every(60), nextRunAt: t("2026-01-31T11:00:00Z"), catchUp: 3 },
        { pipeline: "two_missed", spec: every(60), nextRunAt: t("2026-01-31T11:58:30Z"), catchUp: 3 },
      ],
      "2026-01-31T12:00:00Z",
    );
    await h.scheduler.start();
    const count = (name: string): number => h.fires.filter((f) => f[0] === name).length;
    expect([count("none"), count("three"), count("two_missed")]).toEqual([0, 3, 2]);
    expect(isoOf(h.rows.get("none")!.nextRunAt)).toBe("2026-01-31T12:01:00.000Z");
    await h.scheduler.stop();
  });

  it("skips a fire while another run of the pipeline is queued or running, and records why", async () => {
    const busy = new Set(["slow"]);
    const h = harness([{ pipeline: "slow", spec: every(60) }, { pipeline: "overlapping", spec: every(60), allowOverlap: true }], "2026-01-31T12:00:00Z", new Set([...busy, "overlapping"]));
    await h.scheduler.start();
    await h.to("2026-01-31T12:01:00Z");
    const slow = h.saved.find((u) => u.pipelineId === 1 && u.lastFire)!.lastFire!;
    const overlapping = h.saved.find((u) => u.pipelineId === 2 && u.lastFire)!.lastFire!;
    expect(slow).toMatchObject({ runId: null, skipped: "overlap" });
    expect(overlapping).toMatchObject({ runId: expect.stringMatching(/^run_/), skipped: null });
    expect(h.scheduler.stats()).toMatchObject({ fires: 1, skipped: 1 });
    await h.scheduler.stop();
  });

  it("re-plans a pipeline whose schedule changed and forgets one that lost its schedule", async () => {
    const h = harness([{ pipeline: "p", spec: cron("0 6 * * *") }], "2026-01-31T00:00:00Z");
    await h.scheduler.start();
    expect(isoOf(h.scheduler.nextRunAt("local", "p"))).toBe("2026-01-31T06:00:00.000Z");
    h.rows.get("p")!.spec = every(600);
    h.rows.get("p")!.nextRunAt = null;
    await h.scheduler.refresh("local", "p");
    expect(isoOf(h.scheduler.nextRunAt("local", "p"))).toBe("2026-01-31T00:10:00.000Z");
    h.rows.get("p")!.enabled = false;
    await h.scheduler.refresh("local", "p");
    expect(h.scheduler.nextRunAt("local", "p")).toBeNull();
    expect(h.clock.pending).toBe(0);
    await h.to("2026-02-01T00:00:00Z");
    expect(h.fires).toEqual([]);
    await h.scheduler.stop();
  });
});

describe("the time heap", () => {
  it("pops in time order after arbitrary moves and deletes", () => {
    const heap = new TimeHeap<number>();
    const expected = new Map<string, number>();
    let seed = 7;
    const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const key = `k${rand() % 500}`;
      if (rand() % 5 === 0) {
        heap.delete(key);
        expected.delete(key);
      } else {
        const at = rand() % 100_000;
        heap.set(key, at, at);
        expected.set(key, at);
      }
    }
    const popped: number[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) popped.push(top.at);
    expect(popped).toEqual([...expected.values()].sort((a, b) => a - b));
  });
});
