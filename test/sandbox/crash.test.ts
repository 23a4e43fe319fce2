import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, policyWith, requireBuild, runSource, startSource, tempDir, waitFor } from "./helpers";

const FAKE_EXECUTOR = join(__dirname, "fixtures", "fake-executor.js");

describe("a crashed executor fails only its own runs and is replaced", () => {
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

  it("an uninterruptible Array(1e9).fill(0) aborts its executor: that run fails with TAU_E_SANDBOX_CRASHED, a concurrent run on the other executor succeeds, and the pool serves the next run", async () => {
    const crashing = await startSource(pool, pipelineFile(`ctx.log.info("filling"); (Array(1e9) as any).fill(0); return "unreachable";`), {
      dataDir: dir.path,
      policy: policyWith({ memoryMb: 64, cpuSec: 120 }),
    });
    const steady = await startSource(
      pool,
      pipelineFile(`
  await using db = duckdb_local(":memory:");
  const rows = await ctx.step("sum", () => db.extract("SELECT sum(range) AS total FROM range(3000000)"));
  return rows[0].total;`),
      { dataDir: dir.path },
    );
    const crashedOn = pool.placement(crashing.job.runId);
    const steadyOn = pool.placement(steady.job.runId);
    expect(crashedOn?.executorId).not.toBe(steadyOn?.executorId);

    const [crashed, ok] = await Promise.all([crashing.done, steady.done]);
    expect(crashed.status).toBe("failed");
    if (crashed.status === "failed") {
      expect(crashed.error.code).toBe("TAU_E_SANDBOX_CRASHED");
      expect(crashed.error.details).toMatchObject({ executorId: crashedOn?.executorId, pid: crashedOn?.pid });
      expect(crashed.error.details.signal ?? crashed.error.details.exitCode).not.toBeNull();
    }
    expect(ok).toEqual({ status: "succeeded", result: 4499998500000 });

    await waitFor(() => pool.status().every((s) => s.state === "ready"), 15_000, "the executor to be replaced");
    const replaced = pool.status().find((s) => s.id === crashedOn?.executorId);
    expect(replaced).toMatchObject({ restarts: 1, state: "ready" });
    expect(replaced?.pid).not.toBe(crashedOn?.pid);

    const next = await runSource(pool, pipelineFile(`return "next";`), { dataDir: dir.path });
    expect(next.outcome).toEqual({ status: "succeeded", result: "next" });
  });

  it("an executor killed with SIGKILL mid-run fails that run with TAU_E_SANDBOX_CRASHED naming the signal", async () => {
    const running = await startSource(pool, pipelineFile(`ctx.log.info("spinning"); while (true) {}`), {
      dataDir: dir.path,
      policy: policyWith({ cpuSec: 120 }),
    });
    await waitFor(() => running.events.length > 0, 10_000, "the run to start");
    const placement = pool.placement(running.job.runId);
    expect(placement?.pid).toEqual(expect.any(Number));
    process.kill(placement!.pid!, "SIGKILL");
    const outcome = await running.done;
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") {
      expect(outcome.error).toMatchObject({ code: "TAU_E_SANDBOX_CRASHED", details: { signal: "SIGKILL", pid: placement!.pid } });
      expect(outcome.error.message).toContain("SIGKILL");
    }
    await waitFor(() => pool.status().every((s) => s.state === "ready"), 15_000, "the executor to be replaced");
    const next = await runSource(pool, pipelineFile(`return 42;`), { dataDir: dir.path });
    expect(next.outcome).toEqual({ status: "succeeded", result: 42 });
  });
});

describe("the pool's backstops", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it("an executor that does not end a run past its deadline plus grace is killed; the run fails with TAU_E_RUN_TIMEOUT", async () => {
    requireBuild();
    const pool = new ExecutorPool({
      size: 1,
      executorPath: FAKE_EXECUTOR,
      env: { ...process.env, FAKE_EXECUTOR_MODE: "silent" },
      backstopGraceMs: 300,
      onStderr: () => undefined,
    });
    await pool.start();
    try {
      const before = pool.status()[0];
      const { outcome } = await runSource(pool, pipelineFile(`return 1;`), { dataDir: dir.path, timeoutSec: 1 });
      expect(outcome.status).toBe("failed");
      if (outcome.status === "failed") {
        expect(outcome.error.code).toBe("TAU_E_RUN_TIMEOUT");
        expect(outcome.error.details).toMatchObject({ signal: "SIGKILL", pid: before.pid, wallSec: 1 });
        expect(String(outcome.error.details.reason)).toContain("overran its deadline");
      }
      await waitFor(() => pool.status()[0].state === "ready", 10_000, "the executor to be replaced");
      expect(pool.status()[0].restarts).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("a crash-looping executor is restarted with growing delays while each of its runs fails with TAU_E_SANDBOX_CRASHED", async () => {
    const pool = new ExecutorPool({
      size: 1,
      executorPath: FAKE_EXECUTOR,
      env: { ...process.env, FAKE_EXECUTOR_MODE: "exit-on-run" },
      onStderr: () => undefined,
    });
    await pool.start();
    try {
      const restartDelays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { outcome } = await runSource(pool, pipelineFile(`return 1;`), { dataDir: dir.path });
        const crashedAt = Date.now();
        expect(outcome.status).toBe("failed");
        if (outcome.status === "failed") expect(outcome.error).toMatchObject({ code: "TAU_E_SANDBOX_CRASHED", details: { exitCode: 3, signal: null } });
        await waitFor(() => pool.status()[0].state === "ready", 10_000, "the executor to be restarted");
        restartDelays.push(Date.now() - crashedAt);
      }
      expect(pool.status()[0].restarts).toBe(3);
      // First restart at once, then 250 ms, 500 ms, … (the timers set a lower bound).
      expect(restartDelays[2]).toBeGreaterThanOrEqual(450);
    } finally {
      await pool.close();
    }
  });

  it("start() fails with TAU_E_SANDBOX_UNAVAILABLE when the executor entry does not exist", async () => {
    const pool = new ExecutorPool({ size: 1, executorPath: join(dir.path, "missing.js"), onStderr: () => undefined });
    await expect(pool.start()).rejects.toMatchObject({ code: "TAU_E_SANDBOX_UNAVAILABLE" });
  });
});
