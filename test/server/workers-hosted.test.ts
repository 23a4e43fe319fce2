/**
 * GET /api/workers on a hosted daemon whose runs execute on a worker (in-process API and Worker, real
 * executor processes, a fresh PostgreSQL database): a platform admin sees where workers live; a tenant sees
 * neither host nor pid, and counts only its own runs. Needs `npm run build` (the executor).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../server";
import type { RunView, WorkersView } from "../../server/contract";
import { ExecutorPool } from "../../sandbox/pool";
import { SecretCipher } from "../../server/secrets";
import { Worker } from "../../server/workers";
import { pipelineSource, tempHome } from "./helpers/daemon";
import { eventually, memoryLogger, workersDatabase, type WorkersDatabase } from "./helpers/workers";
import { call, SECRET_KEY, startHosted, token } from "./hosted-helpers";

const home = tempHome();
const workerHome = tempHome();
let db: WorkersDatabase;
let daemon: Daemon;
let worker: Worker;
const PLATFORM = token("admin", "admin");

beforeAll(async () => {
  db = await workersDatabase();
  daemon = await startHosted(home.home, { runsOn: "workers", databaseUrl: db.url });
  worker = new Worker({
    databaseUrl: db.url,
    home: workerHome.home,
    executors: 1,
    capacity: 2,
    leaseSec: 15,
    cipher: SecretCipher.fromKey(SECRET_KEY),
    pool: new ExecutorPool({ size: 1, onStderr: () => undefined }),
    log: memoryLogger(),
    pollMs: 200,
  });
  await worker.start();
  for (const id of ["ta", "tb"]) expect((await call(`${daemon.url}/api/tenants`, PLATFORM, { method: "POST", body: { id } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await daemon?.close();
  await worker?.abort();
  await db?.drop();
  home.remove();
  workerHome.remove();
});

describe("GET /api/workers in hosted mode", () => {
  it("shows host and pid to a platform admin only, and each tenant only its own running runs", async () => {
    const operator = token("ta", "operator");
    const source = pipelineSource("spin", `  ctx.log("spinning");\n  while (true) {}`);
    expect((await call(`${daemon.url}/api/pipelines`, operator, { method: "POST", body: { source, filename: "spin.ts" } })).status).toBe(201);
    const run = await call<RunView>(`${daemon.url}/api/pipelines/spin/runs`, operator, { method: "POST", body: {} });
    await eventually(async () => (await call<RunView>(`${daemon.url}/api/runs/${run.body.id}`, operator)).body.status === "running", 20_000, "the run to start");

    const admin = (await call<WorkersView>(`${daemon.url}/api/workers`, PLATFORM)).body;
    expect(admin.runsOn).toBe("workers");
    expect(admin.workers).toEqual([expect.objectContaining({ id: worker.id, pid: process.pid, capacity: 2, executors: 1, running: 1, state: "active" })]);
    expect(admin.workers[0]!.host).toEqual(expect.any(String));

    const own = (await call<WorkersView>(`${daemon.url}/api/workers`, token("ta", "viewer"))).body;
    expect(own.workers).toEqual([expect.objectContaining({ id: worker.id, host: null, pid: null, running: 1 })]);
    const other = (await call<WorkersView>(`${daemon.url}/api/workers`, token("tb", "viewer"))).body;
    expect(other.workers).toEqual([expect.objectContaining({ id: worker.id, host: null, pid: null, running: 0 })]);

    // Claimed runs count as running; none is left waiting.
    const status = await call<{ runs: { queued: number; running: number }; runsOn: string; workers: unknown }>(`${daemon.url}/api/status`, operator);
    expect(status.body.runs).toEqual({ queued: 0, running: 1 });
    expect(status.body.runsOn).toBe("workers");
    expect(status.body.workers).toEqual({ active: 1, draining: 0, capacity: 2 });

    // The run's executor names the worker that claimed it.
    const events = await call<{ events: Array<{ kind: string; data: Record<string, unknown> | null }> }>(`${daemon.url}/api/runs/${run.body.id}/events`, operator);
    expect(events.body.events.find((e) => e.kind === "run.started")?.data).toEqual({ executor: `worker:${worker.id}` });

    const cancelled = await call<RunView>(`${daemon.url}/api/runs/${run.body.id}/cancel`, operator, { method: "POST" });
    expect(cancelled.body.status).toBe("cancelled");
  }, 60_000);
});
