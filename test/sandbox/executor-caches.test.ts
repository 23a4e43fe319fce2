/**
 * What the executor keeps between runs to make them fast (docs/bridge-protocol.md, "Per-process caches"),
 * and that none of it leaks from one run into another: bundles and their code caches are keyed by the
 * bundle's own text, the pool resends what an executor no longer holds, and the spare isolate prepared
 * while idle is fresh and gets the run's memory limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_CACHE_LIMITS } from "../../sandbox/executor/protocol";
import { ExecutorPool } from "../../sandbox/pool";
import { compile, makeJob, pipelineFile, policyWith, requireBuild, runSource, tempDir, waitFor } from "./helpers";

const idle = (ms = 150): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("executor caches", () => {
  const dir = tempDir();
  let pool: ExecutorPool;

  beforeAll(async () => {
    requireBuild();
    // One executor: every run below lands on the same process, so its caches are in play.
    pool = new ExecutorPool({ size: 1, onStderr: () => undefined });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });

  it("two versions whose bundles have the same length each run their own code, however often they alternate", async () => {
    const a = await compile(pipelineFile(`return "version-a";`));
    const b = await compile(pipelineFile(`return "version-b";`));
    expect(a.bundle.length).toBe(b.bundle.length);
    expect(a.bundle).not.toBe(b.bundle);
    for (let i = 0; i < 4; i++) {
      for (const [compiled, expected] of [
        [a, "version-a"],
        [b, "version-b"],
      ] as const) {
        const outcome = await pool.run(makeJob(compiled, { dataDir: dir.path, version: 7 }), () => undefined);
        expect(outcome).toEqual({ status: "succeeded", result: expected });
      }
    }
  });

  it("a bundle the executor was told to forget is sent again when it runs next", async () => {
    const first = await compile(pipelineFile(`return "first";`));
    expect(await pool.run(makeJob(first, { dataDir: dir.path }), () => undefined)).toEqual({ status: "succeeded", result: "first" });
    // More distinct bundles than an executor may keep: the first one is forgotten on the way.
    for (let i = 0; i < BUNDLE_CACHE_LIMITS.entries + 2; i++) {
      const other = await compile(pipelineFile(`return ${i};`));
      expect(await pool.run(makeJob(other, { dataDir: dir.path }), () => undefined)).toEqual({ status: "succeeded", result: i });
    }
    expect(await pool.run(makeJob(first, { dataDir: dir.path }), () => undefined)).toEqual({ status: "succeeded", result: "first" });
  });

  it("a restarted executor holds no bundles: the pool sends the bundle again", async () => {
    const compiled = await compile(pipelineFile(`return "again";`));
    expect(await pool.run(makeJob(compiled, { dataDir: dir.path }), () => undefined)).toEqual({ status: "succeeded", result: "again" });
    const pid = pool.status()[0]!.pid!;
    process.kill(pid, "SIGKILL");
    await waitFor(() => pool.status()[0]!.state === "ready" && pool.status()[0]!.pid !== pid, 20_000, "the executor to be replaced");
    expect(await pool.run(makeJob(compiled, { dataDir: dir.path }), () => undefined)).toEqual({ status: "succeeded", result: "again" });
  });

  it("the isolate prepared while idle is fresh: nothing a run leaves on its globals reaches the next run", async () => {
    const polluted = await runSource(
      pool,
      pipelineFile(`(globalThis as any).leftBehind = "secret"; (Object.prototype as any).polluted = true; (Array.prototype as any).push = null; return "polluted";`),
      { dataDir: dir.path },
    );
    expect(polluted.outcome).toEqual({ status: "succeeded", result: "polluted" });
    await idle(); // the executor prepares its spare isolate now
    const { outcome } = await runSource(
      pool,
      pipelineFile(`const rows: number[] = []; rows.push(1); return { left: typeof (globalThis as any).leftBehind, polluted: "polluted" in {}, rows };`),
      { dataDir: dir.path },
    );
    expect(outcome).toEqual({ status: "succeeded", result: { left: "undefined", polluted: false, rows: [1] } });
  });

  it("a run gets its own memory limit whatever limit the spare isolate was prepared with", async () => {
    // About 160 MB of live arrays: far past a 32 MB limit (soft, ×2–3), well within 512 MB.
    const source = pipelineFile(`
  const keep: number[][] = [];
  await ctx.step("allocate", async () => { for (let i = 0; i < 160; i++) keep.push(new Array(131072).fill(i + 0.5)); });
  return keep.length;`);
    const big = policyWith({ memoryMb: 512, cpuSec: 60 });
    const small = policyWith({ memoryMb: 32, cpuSec: 60 });

    expect((await runSource(pool, source, { dataDir: dir.path, policy: big })).outcome).toEqual({ status: "succeeded", result: 160 });
    await idle(); // spare prepared with 512 MB
    const limited = await runSource(pool, source, { dataDir: dir.path, policy: small });
    expect(limited.outcome).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_MEMORY_LIMIT", details: { memoryMb: 32 } } });
    await idle(); // spare prepared with 32 MB
    expect((await runSource(pool, source, { dataDir: dir.path, policy: big })).outcome).toEqual({ status: "succeeded", result: 160 });
  });

  it("many runs in a row on one executor all succeed with their own steps", async () => {
    const compiled = await compile(
      pipelineFile(`
  await ctx.step("extract", async (s: any) => { s.rowsOut = ctx.params.n; });
  await ctx.step("load", async (s: any) => { s.rowsIn = ctx.params.n; });
  return ctx.params.n;`),
    );
    const runs = Array.from({ length: 40 }, (_, n) => {
      const events: { kind: string }[] = [];
      return pool.run(makeJob(compiled, { dataDir: dir.path, params: { n } }), (e) => events.push(e)).then((outcome) => ({ n, outcome, events }));
    });
    for (const { n, outcome, events } of await Promise.all(runs)) {
      expect(outcome).toEqual({ status: "succeeded", result: n });
      expect(events.map((e) => e.kind)).toEqual(["step.started", "step.finished", "step.started", "step.finished"]);
    }
  });
});
