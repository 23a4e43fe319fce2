import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { builtOrThrow, cleanup, pipelineFile, startDaemon, tau, tempHome, type Daemon } from "./harness";

const SLOW = (name: string, ms: number): string => `import { pipeline } from "tau";
export default pipeline({ name: "${name}" }, async (ctx) => {
  await ctx.step("spin", async () => {
    ctx.log("spinning");
    const end = Date.now() + ${ms};
    while (Date.now() < end) { /* hold the isolate */ }
  });
  return { done: true };
});
`;

const started: Daemon[] = [];
const dirs: string[] = [];
beforeAll(() => builtOrThrow());
afterEach(async () => {
  for (const d of started.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a crash fails only what it touched", () => {
  it("fails a run whose executor is killed, replaces the executor, and keeps serving", async () => {
    const daemon = await startDaemon();
    started.push(daemon);
    dirs.push(daemon.home);
    const src = tempHome("tau-e2e-src-");
    dirs.push(src);
    await tau(daemon, ["deploy", pipelineFile(src, "slow", SLOW("slow", 30_000))]);
    await tau(daemon, ["deploy", pipelineFile(src, "quick", SLOW("quick", 1))]);

    const queued = await tau(daemon, ["run", "slow", "--detach"]);
    const runId = queued.json.id as string;
    await waitFor(async () => ((await tau(daemon, ["inspect", "slow", "--run", runId])).json.status === "running" ? true : undefined));
    const busy = await waitFor(async () => {
      const s = (await tau(daemon, ["status"])).json;
      return s.executors.find((e: { running: number; pid: number }) => e.running > 0) as { pid: number } | undefined;
    });
    process.kill(busy.pid, "SIGKILL");

    const failed = await waitFor(async () => {
      const r = (await tau(daemon, ["inspect", "slow", "--run", runId])).json;
      return r.status === "running" ? undefined : r;
    });
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe("TAU_E_SANDBOX_CRASHED");

    const next = await tau(daemon, ["run", "quick"]);
    expect(next.json.status).toBe("succeeded");
    const status = await waitFor(async () => {
      const s = (await tau(daemon, ["status"])).json;
      return s.executors.every((e: { state: string }) => e.state === "ready") ? s : undefined;
    });
    expect(status.executors.some((e: { restarts: number }) => e.restarts >= 1)).toBe(true);
    expect(status.executors.map((e: { pid: number }) => e.pid)).not.toContain(busy.pid);
  });

  it("fails runs left running by a daemon that was killed, when it starts again", async () => {
    const home = tempHome();
    dirs.push(home);
    const src = tempHome("tau-e2e-src-");
    dirs.push(src);
    const first = await startDaemon({ home });
    await tau(first, ["deploy", pipelineFile(src, "slow", SLOW("slow", 30_000))]);
    const runId = (await tau(first, ["run", "slow", "--detach"])).json.id as string;
    await waitFor(async () => ((await tau(first, ["inspect", "slow", "--run", runId])).json.status === "running" ? true : undefined));
    await first.kill();

    const second = await startDaemon({ home });
    started.push(second);
    const run = (await tau(second, ["inspect", "slow", "--run", runId])).json;
    expect(run.status).toBe("failed");
    expect(run.error.code).toBe("TAU_E_RUN_INTERRUPTED");
    expect((await tau(second, ["list"])).json.pipelines.map((p: { name: string }) => p.name)).toEqual(["slow"]);
  });
});
