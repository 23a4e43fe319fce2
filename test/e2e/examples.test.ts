import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtOrThrow, cleanup, ROOT, startDaemon, tau, type Daemon } from "./harness";

const EXAMPLES = ["seed_raw", "stage_orders", "daily_revenue", "customer_ltv"];
let daemon: Daemon;

beforeAll(async () => {
  builtOrThrow();
  daemon = await startDaemon();
});
afterAll(async () => {
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
});

describe("the example warehouse, through real taud and tau processes", () => {
  it("deploys every example pipeline as version 1", async () => {
    for (const name of EXAMPLES) {
      const r = await tau(daemon, ["deploy", join(ROOT, "examples", `${name}.ts`)]);
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.pipeline.name).toBe(name);
      expect(r.json.version).toBe(1);
      expect(r.json.changed).toBe(true);
      expect(r.json.hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("says nothing changed when the same file is deployed again", async () => {
    const r = await tau(daemon, ["deploy", join(ROOT, "examples/seed_raw.ts")]);
    expect(r.code).toBe(0);
    expect(r.json.changed).toBe(false);
    expect(r.json.version).toBe(1);
  });

  it("runs the examples in dependency order and builds the warehouse", async () => {
    const seed = await tau(daemon, ["run", "seed_raw", "--params", '{"customers": 120, "days": 10}']);
    expect(seed.code, seed.stdout).toBe(0);
    expect(seed.json.status).toBe("succeeded");
    expect(seed.json.params).toEqual({ customers: 120, days: 10 });
    expect(seed.json.result.customers).toBe(120);
    expect(seed.json.result.orders).toBeGreaterThanOrEqual(200);
    expect(seed.json.steps.map((s: { name: string }) => s.name)).toEqual(["generate_customers", "generate_orders", "load"]);
    const load = seed.json.steps.find((s: { name: string }) => s.name === "load");
    expect(load.rowsOut).toBe(120 + seed.json.result.orders);

    const stage = await tau(daemon, ["run", "stage_orders"]);
    expect(stage.json.status, JSON.stringify(stage.json.error)).toBe("succeeded");
    expect(stage.json.result.rows).toBe(seed.json.result.orders);

    const revenue = await tau(daemon, ["run", "daily_revenue"]);
    expect(revenue.json.status, JSON.stringify(revenue.json.error)).toBe("succeeded");
    expect(revenue.json.result.rows).toBeGreaterThan(10);
    expect(revenue.json.result.best.revenue).toBeGreaterThan(0);

    const ltv = await tau(daemon, ["run", "customer_ltv"]);
    expect(ltv.json.status, JSON.stringify(ltv.json.error)).toBe("succeeded");
    const tiers = ltv.json.result.tiers;
    expect(tiers.gold + tiers.silver + tiers.bronze).toBe(ltv.json.result.customers);
    expect(ltv.json.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ["extract", "succeeded"],
      ["tier", "succeeded"],
    ]);
  });

  it("inspects the last run with steps, timings, rows and logs", async () => {
    const r = await tau(daemon, ["inspect", "daily_revenue", "--last-run"]);
    expect(r.code).toBe(0);
    const run = r.json;
    expect(run.pipeline).toBe("daily_revenue");
    expect(run.version).toBe(1);
    expect(run.trigger).toBe("manual");
    expect(run.error).toBeNull();
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    const summarise = run.steps.find((s: { name: string }) => s.name === "summarise");
    expect(summarise.rowsOut).toBe(run.result.rows);
    expect(run.logs.some((l: { message: string; level: string }) => l.message === "daily revenue ready" && l.level === "info")).toBe(true);
  });

  it("lists the pipelines with their last run, and returns their code as written", async () => {
    const list = await tau(daemon, ["list"]);
    const names = list.json.pipelines.map((p: { name: string }) => p.name).sort();
    expect(names).toEqual([...EXAMPLES].sort());
    const revenue = list.json.pipelines.find((p: { name: string }) => p.name === "daily_revenue");
    expect(revenue.schedule).toBe("0 6 * * *");
    expect(revenue.dependsOn).toEqual(["stage_orders"]);
    expect(revenue.lastRun.status).toBe("succeeded");

    const code = await tau(daemon, ["code", "stage_orders"]);
    expect(code.json.source).toBe(readFileSync(join(ROOT, "examples/stage_orders.ts"), "utf8"));
  });

  it("lists runs newest first and reports daemon status", async () => {
    await tau(daemon, ["run", "seed_raw", "--params", '{"customers": 10, "days": 1}']);
    const runs = await tau(daemon, ["runs", "seed_raw", "--last", "5"]);
    expect(runs.json.runs.length).toBe(2);
    expect(runs.json.runs[0].params).toEqual({ customers: 10, days: 1 });
    const status = await tau(daemon, ["status"]);
    expect(status.json.status).toBe("ok");
    expect(status.json.pipelines).toBe(4);
    expect(status.json.executors.length).toBeGreaterThan(0);
  });
});
