import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent, RunView } from "../../server/contract";
import { busyWait, json, killGroup, pipelineSource, REPO, spawnDaemon, startDaemon, tempHome, type DaemonProcess } from "./helpers/daemon";

/** Spins for a minute: still running whenever the test stops the daemon. */
const FOREVER = pipelineSource("forever", `  await ctx.step("spin", async () => ${busyWait("60_000")});\n  return 1;`);

const homes: Array<{ remove: () => void }> = [];
const processes: DaemonProcess[] = [];
afterEach(() => {
  for (const p of processes.splice(0)) killGroup(p);
  for (const h of homes.splice(0)) h.remove();
});

async function deployAndStart(url: string): Promise<string> {
  const deployed = await json(`${url}/api/pipelines`, { method: "POST", body: { source: FOREVER, filename: "forever.ts" } });
  expect(deployed.status).toBe(201);
  const running = (await json<RunView>(`${url}/api/pipelines/forever/runs`, { method: "POST", body: {} })).body.id;
  // Wait until the first run is inside its step, so it is really running when the daemon goes away.
  for (let i = 0; i < 200; i++) {
    const { body } = await json<RunView>(`${url}/api/runs/${running}`);
    if (body.steps.length > 0) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return running;
}

async function events(url: string, runId: string): Promise<RunEvent[]> {
  return (await json<{ events: RunEvent[] }>(`${url}/api/runs/${runId}/events`)).body.events;
}

describe("taud across restarts", () => {
  it("fails runs left running by a killed daemon as TAU_E_RUN_INTERRUPTED when it starts again on the same home", async () => {
    const home = tempHome();
    homes.push(home);
    const first = await spawnDaemon(home.home);
    processes.push(first);
    const running = await deployAndStart(first.url);
    killGroup(first);
    await first.exited;

    const second = await startDaemon(home.home);
    try {
      const { body } = await json<RunView>(`${second.url}/api/runs/${running}`);
      expect(body.status).toBe("failed");
      expect(body.error).toMatchObject({ code: "TAU_E_RUN_INTERRUPTED", step: null });
      expect(body.steps).toEqual([expect.objectContaining({ name: "spin", status: "failed", error: { code: "TAU_E_RUN_INTERRUPTED", message: expect.any(String) } })]);
      const last = (await events(second.url, running)).at(-1)!;
      expect(last).toMatchObject({ kind: "run.finished", level: "error", data: { status: "failed" } });
      // The pipeline still works on the new daemon.
      const status = await json<{ runs: { running: number } }>(`${second.url}/api/status`);
      expect(status.body.runs.running).toBe(0);
    } finally {
      await second.close();
    }
  });

  it("on SIGTERM refuses new runs, interrupts running ones after the grace period, and exits 0", async () => {
    const home = tempHome();
    homes.push(home);
    const daemon = await spawnDaemon(home.home, ["--shutdown-grace-ms", "1500"]);
    processes.push(daemon);
    const running = await deployAndStart(daemon.url);
    const waiting = json<RunView>(`${daemon.url}/api/pipelines/forever/runs`, { method: "POST", body: { wait: true } });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(daemon.child.pid!, "SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const refused = await json<{ error: { code: string } }>(`${daemon.url}/api/pipelines/forever/runs`, { method: "POST", body: {} });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("TAU_E_DAEMON_SHUTTING_DOWN");
    // A queued run waited for is answered before the daemon goes away: still queued, for the next daemon.
    const waited = await waiting;
    expect(waited.body).toMatchObject({ status: "queued", error: null });
    expect(await daemon.exited).toEqual({ code: 0, signal: null });

    const again = await startDaemon(home.home, { shutdownGraceMs: 200 });
    try {
      const { body } = await json<RunView>(`${again.url}/api/runs/${running}`);
      expect(body).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_INTERRUPTED" } });
      expect((await events(again.url, running)).filter((e) => e.kind === "run.finished")).toHaveLength(1);
      // The queued run was taken over by the new daemon: it is running there now (the pipeline spins).
      for (let i = 0; i < 200 && (await json<RunView>(`${again.url}/api/runs/${waited.body.id}`)).body.status === "queued"; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await json<RunView>(`${again.url}/api/runs/${waited.body.id}`)).body.status).toBe("running");
    } finally {
      await again.close();
    }
  });

  it("refuses a second daemon on a home that a live daemon uses", async () => {
    const home = tempHome();
    homes.push(home);
    const daemon = await spawnDaemon(home.home);
    processes.push(daemon);
    await expect(startDaemon(home.home)).rejects.toMatchObject({ code: "TAU_E_DAEMON_HOME_LOCKED", details: { pid: daemon.pid } });
  });

  it("prints one error document on stdout and exits 2 for an invalid option", async () => {
    const child = spawn(process.execPath, [join(REPO, "dist/server/bin.js"), "--port", "99999"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: "TAU_E_DAEMON_OPTIONS_INVALID", details: { option: "--port" } } });
  });
});
