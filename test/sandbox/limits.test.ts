import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, policyWith, requireBuild, runSource, tempDir } from "./helpers";

describe("the executor enforces a run's limits", () => {
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

  it("a busy loop that starts after an awaited host call is stopped by the CPU budget, naming its step", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(":memory:");
  await ctx.step("spin", async () => {
    await db.extract("SELECT 1 AS one");
    while (true) {}
  });`);
    const { outcome, events } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ cpuSec: 1, wallSec: 60 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ code: "TAU_E_RUN_CPU_LIMIT", step: "spin", details: { cpuSec: 1 } });
    expect(events.find((e) => e.kind === "step.finished")).toMatchObject({ step: "spin", status: "failed", error: { code: "TAU_E_RUN_CPU_LIMIT" } });
  });

  it("a run past its wall-clock deadline is stopped with TAU_E_RUN_TIMEOUT even while it waits on the host", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(":memory:");
  await ctx.step("slow_query", () => db.extract("SELECT count(*) AS n FROM range(100000000000) a"));`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, timeoutSec: 1, policy: policyWith({ cpuSec: 60 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ code: "TAU_E_RUN_TIMEOUT", step: "slow_query", details: { wallSec: 1 } });
    // The interrupted query did not wedge the executor.
    const next = await runSource(pool, pipelineFile(`return "still serving";`), { dataDir: dir.path });
    expect(next.outcome).toEqual({ status: "succeeded", result: "still serving" });
  });

  it("the policy caps a pipeline's own timeoutSec at maxWallSec", async () => {
    const source = pipelineFile(`while (true) {}`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, timeoutSec: 3600, policy: policyWith({ maxWallSec: 1, cpuSec: 60 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") expect(outcome.error).toMatchObject({ code: "TAU_E_RUN_TIMEOUT", details: { wallSec: 1 } });
  });

  it("a run that outgrows its isolate memory limit fails with TAU_E_RUN_MEMORY_LIMIT and the executor survives", async () => {
    const source = pipelineFile(`
  const rows: unknown[] = [];
  await ctx.step("hoard", async () => {
    while (true) rows.push({ id: rows.length, text: "row " + rows.length + " ".repeat(64) });
  });`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ memoryMb: 32, cpuSec: 60 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ code: "TAU_E_RUN_MEMORY_LIMIT", step: "hoard", details: { memoryMb: 32 } });
    expect(pool.status().map((s) => s.restarts)).toEqual([0, 0]);
  });
});
