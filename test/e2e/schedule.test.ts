/**
 * Schedules end to end: the real `taud` and `tau` binaries, a real clock. `tau schedule NAME --every 1`
 * makes runs with trigger "schedule" appear; `--disable` stops them; outputs match their JSON Schemas.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, pipelineFile, startDaemon, tau, tempHome, type Daemon } from "./harness";

let daemon: Daemon;
const dir = tempHome("tau-e2e-schedule-");

beforeAll(async () => {
  builtOrThrow();
  daemon = await startDaemon();
  const file = pipelineFile(dir, "e2e_tick", `import { pipeline } from "tau";\nexport default pipeline({ name: "e2e_tick" }, async (ctx) => ({ tick: true }));\n`);
  expect((await tau(daemon, ["deploy", file])).code).toBe(0);
});
afterAll(async () => {
  await daemon?.stop();
  cleanup(daemon?.home ?? "");
  cleanup(dir);
});

function valid(file: string, doc: unknown): void {
  expect(schemas.validate(file, doc), JSON.stringify(doc)).toEqual([]);
}

describe("tau schedule with a real daemon", () => {
  it("shows an unscheduled pipeline, then fires every second with trigger schedule", async () => {
    const shown = await tau(daemon, ["schedule", "e2e_tick"]);
    expect(shown.code).toBe(0);
    valid("schedule.schema.json", shown.json);
    expect(shown.json).toMatchObject({ source: "none", cron: null, everySec: null, nextRunAt: null });

    const set = await tau(daemon, ["schedule", "e2e_tick", "--every", "1"]);
    expect(set.code).toBe(0);
    valid("schedule.schema.json", set.json);
    expect(set.json).toMatchObject({ everySec: 1, source: "cli", enabled: true });
    expect(Date.parse(set.json.nextRunAt)).toBeGreaterThan(Date.now() - 1000);

    const deadline = Date.now() + 20_000;
    let scheduled: any[] = [];
    while (Date.now() < deadline) {
      const runs = await tau(daemon, ["runs", "e2e_tick", "--last", "20"]);
      scheduled = runs.json.runs.filter((r: any) => r.trigger === "schedule" && r.status === "succeeded");
      if (scheduled.length >= 2) break;
      await sleep(250);
    }
    expect(scheduled.length).toBeGreaterThanOrEqual(2);

    const listed = await tau(daemon, ["list"]);
    valid("list.schema.json", listed.json);
    expect(listed.json.pipelines[0]).toMatchObject({ name: "e2e_tick", schedule: null, everySec: 1, enabled: true });
    expect(listed.json.pipelines[0].nextRunAt).not.toBeNull();
  });

  it("stops firing with --disable", async () => {
    const off = await tau(daemon, ["schedule", "e2e_tick", "--disable"]);
    expect(off.json).toMatchObject({ enabled: false, nextRunAt: null });
    await sleep(300); // a fire already queued may still finish
    const before = (await tau(daemon, ["runs", "e2e_tick", "--last", "100"])).json.runs.length;
    await sleep(2_000);
    expect((await tau(daemon, ["runs", "e2e_tick", "--last", "100"])).json.runs.length).toBe(before);
  });

  it("sets a cron schedule in a time zone and refuses an unknown zone, exit 3", async () => {
    const set = await tau(daemon, ["schedule", "e2e_tick", "0 6 * * *", "--tz", "Europe/Berlin", "--enable"]);
    expect(set.code).toBe(0);
    expect(set.json).toMatchObject({ cron: "0 6 * * *", timezone: "Europe/Berlin", enabled: true });
    // 06:00 in Berlin is 04:00 or 05:00 UTC, depending on the season.
    expect(new Date(set.json.nextRunAt).getUTCHours()).toBeGreaterThanOrEqual(4);
    const bad = await tau(daemon, ["schedule", "e2e_tick", "0 6 * * *", "--tz", "Mars/Olympus"]);
    expect(bad.code).toBe(3);
    expect(bad.json.error).toMatchObject({ code: "TAU_E_SCHEDULE_INVALID", details: { field: "timezone" } });
    const usage = await tau(daemon, ["schedule", "e2e_tick", "--every", "soon"]);
    expect(usage.code).toBe(2);
    expect(usage.json.error.code).toBe("TAU_E_CLI_USAGE");
  });
});
