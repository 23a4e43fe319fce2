/**
 * Distributed workers through the real binaries: a `taud --runs-on workers` API and three `taud worker`
 * processes sharing a fresh PostgreSQL database (pg-boss queue, `tau_workers` registry and signals). 500
 * runs queued at once; one worker is SIGKILLed mid-way. Every run must end in exactly one terminal state,
 * none lost, and none executed twice unless it was retried and says so (retryOf/retriedBy, attempt). Each
 * run writes its id into a sink table in the same database, which is how "executed" is counted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { eventually, workersDatabase, type WorkersDatabase } from "../server/helpers/workers";
import { builtOrThrow, cleanup, pipelineFile, ROOT, startDaemon, tau, tempHome, type Daemon } from "./harness";

const TAUD = join(ROOT, "dist/server/bin.js");
const LEASE_SEC = 5;
const RUNS = 500;

interface WorkerProc {
  id: string;
  pid: number;
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

let db: WorkersDatabase;
let api: Daemon;
let src: string;
const homes: string[] = [];
const workers: WorkerProc[] = [];
const env: NodeJS.ProcessEnv = { TAU_SECRET_KEY: randomBytes(32).toString("hex"), TAU_LOG_LEVEL: "warn" };

async function startWorker(): Promise<WorkerProc> {
  const home = tempHome("tau-e2e-worker-");
  homes.push(home);
  const proc = spawn(process.execPath, [TAUD, "worker", "--home", home, "--executors", "1", "--capacity", "4"], {
    env: { ...process.env, ...env, TAU_DATABASE_URL: db.url, TAU_WORKER_LEASE_SEC: String(LEASE_SEC), SINK_DSN: db.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const ready = await new Promise<{ worker: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${err}`)), 30_000);
    proc.once("exit", (code) => reject(new Error(`worker exited (${code}):\n${err}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as { event?: string; worker?: string; error?: unknown };
      clearTimeout(timer);
      if (msg.event === "ready") resolve(msg as { worker: string });
      else reject(new Error(`worker failed: ${line}`));
    });
  });
  const w = { id: ready.worker, pid: proc.pid!, proc, exited, stderr: () => err };
  workers.push(w);
  return w;
}

async function http<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Run {
  id: string;
  status: string;
  attempt: number;
  retryOf: string | null;
  retriedBy: string | null;
  finishedAt: string | null;
  params: { i?: number };
  error: { code: string; details: Record<string, unknown> } | null;
}

const TERMINAL = ["succeeded", "failed", "skipped", "cancelled"];

beforeAll(async () => {
  builtOrThrow();
  db = await workersDatabase();
  await db.query("create table sink (run_id text not null, i integer not null)");
  src = tempHome("tau-e2e-workers-src-");
  api = await startDaemon({ env: { ...env, TAU_DATABASE_URL: db.url }, args: ["--runs-on", "workers"] });
  for (let i = 0; i < 3; i++) await startWorker();
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.proc.kill("SIGKILL");
  await api?.stop();
  if (api) cleanup(api.home);
  for (const home of homes) cleanup(home);
  if (src) cleanup(src);
  await db?.drop();
});

describe("taud worker", () => {
  it("tau workers lists the three workers with their capacity, heartbeat and state", async () => {
    const r = await tau(api, ["workers"]);
    expect(r.code, r.stderr).toBe(0);
    expect(schemas.validate("workers.schema.json", r.json)).toEqual([]);
    expect(r.json.runsOn).toBe("workers");
    expect(r.json.workers.map((w: { id: string }) => w.id).sort()).toEqual(workers.map((w) => w.id).sort());
    for (const w of r.json.workers) {
      expect(w).toMatchObject({ capacity: 4, executors: 1, running: 0, leaseSec: LEASE_SEC, state: "active", endedAt: null });
      expect(workers.find((x) => x.id === w.id)!.pid).toBe(w.pid);
    }
  });

  it(`${RUNS} runs over three workers, one SIGKILLed mid-way: each ends once, none lost, none run twice unless retried and marked so`, async () => {
    const name = "spread";
    const source = `import { pipeline } from "tau";
import { postgres } from "tau/connectors";
export default pipeline<{ i: number }>({ name: "${name}", retries: 3, retryDelaySec: 0, maxConcurrentRuns: 1000 }, async (ctx) => {
  const end = Date.now() + 20;
  while (Date.now() < end) { /* work */ }
  await using db = postgres({ dsn: ctx.secret("SINK_DSN") });
  await db.execute("INSERT INTO sink (run_id, i) VALUES ($1, $2)", [ctx.runId, ctx.params.i]);
  return { i: ctx.params.i };
});
`;
    const deployed = await tau(api, ["deploy", pipelineFile(src, name, source)]);
    expect(deployed.code, deployed.stdout).toBe(0);

    // Queued at once (50 requests in flight), in order of i.
    const ids: string[] = new Array(RUNS);
    for (let from = 0; from < RUNS; from += 50) {
      const batch = Array.from({ length: Math.min(50, RUNS - from) }, (_, k) => from + k);
      await Promise.all(batch.map(async (i) => (ids[i] = (await http<Run>("POST", `/api/pipelines/${name}/runs`, { params: { i } })).id)));
    }

    // Once a quarter of the runs are done, kill the worker holding the most runs.
    await eventually(async () => Number((await db.query<{ n: string }>("select count(*) as n from sink"))[0]!.n) >= RUNS / 4, 120_000, "a quarter of the runs");
    const holding = await eventually(
      async () => {
        const listed = (await http<{ workers: Array<{ id: string; running: number }> }>("GET", "/api/workers")).workers.sort((a, b) => b.running - a.running);
        return listed[0]!.running > 0 ? listed[0]! : undefined;
      },
      30_000,
      "a worker holding runs",
    );
    const victim = workers.find((w) => w.id === holding.id)!;
    const killedAt = Date.now();
    victim.proc.kill("SIGKILL");
    await victim.exited;

    // Follow every run through its retries to the last attempt.
    const chains = new Map<string, Run[]>();
    await eventually(
      async () => {
        for (const id of ids) {
          const chain = chains.get(id) ?? [await http<Run>("GET", `/api/runs/${id}`)];
          let last = chain.at(-1)!;
          while (TERMINAL.includes(last.status) && last.retriedBy !== null) {
            last = await http<Run>("GET", `/api/runs/${last.retriedBy}`);
            chain.push(last);
          }
          if (!TERMINAL.includes(last.status)) chain[chain.length - 1] = await http<Run>("GET", `/api/runs/${last.id}`);
          chains.set(id, chain);
        }
        return [...chains.values()].every((c) => TERMINAL.includes(c.at(-1)!.status) && c.at(-1)!.retriedBy === null);
      },
      240_000,
      "every run to end",
    );

    const lost: Run[] = [];
    for (const [i, id] of ids.entries()) {
      const chain = chains.get(id)!;
      // One terminal state at the end, and every earlier attempt failed retryably and names its retry.
      expect(chain.at(-1)!.status, JSON.stringify(chain)).toBe("succeeded");
      chain.forEach((run, n) => {
        expect(run.attempt).toBe(n + 1);
        expect(run.params.i).toBe(i);
        if (n > 0) expect(run.retryOf).toBe(chain[n - 1]!.id);
        if (n < chain.length - 1) {
          expect(run.status).toBe("failed");
          expect(run.retriedBy).toBe(chain[n + 1]!.id);
          lost.push(run);
        }
      });
    }
    // The victim's runs were recovered, by lease expiry, within lease + 10 s of the kill.
    expect(lost.length).toBeGreaterThan(0);
    const slowest = Math.max(...lost.map((r) => Date.parse(r.finishedAt!) - killedAt));
    process.stderr.write(`workers e2e: ${lost.length} attempts lost with the killed worker (failed ≤ ${slowest} ms after the kill, lease ${LEASE_SEC} s), all retried; ${ids.length} runs succeeded\n`);
    for (const run of lost) {
      expect(run.error!.code).toBe("TAU_E_WORKER_LOST");
      expect(run.error!.details).toEqual({ worker: victim.id });
      expect(Date.parse(run.finishedAt!) - killedAt).toBeLessThanOrEqual((LEASE_SEC + 10) * 1000);
    }

    // Executed at most once per attempt: each succeeded attempt wrote exactly one row; any other row
    // comes from an attempt that was declared lost (it may have written before the kill).
    const rows = await db.query<{ run_id: string; i: number }>("select run_id, i from sink");
    const byRun = new Map<string, number>();
    for (const row of rows) byRun.set(row.run_id, (byRun.get(row.run_id) ?? 0) + 1);
    for (const [runId, n] of byRun) expect(n, runId).toBe(1);
    const lostIds = new Set(lost.map((r) => r.id));
    for (const [i, id] of ids.entries()) {
      const chain = chains.get(id)!;
      const mine = rows.filter((r) => r.i === i).map((r) => r.run_id);
      expect(mine).toContain(chain.at(-1)!.id);
      for (const runId of mine) if (runId !== chain.at(-1)!.id) expect(lostIds.has(runId), runId).toBe(true);
    }

    const listed = await tau(api, ["workers"]);
    const states = Object.fromEntries(listed.json.workers.map((w: { id: string; state: string }) => [w.id, w.state]));
    expect(states[victim.id]).toBe("lost");
    for (const w of workers) if (w !== victim) expect(states[w.id]).toBe("active");
  }, 600_000);

  it("SIGTERM drains a worker: it claims nothing more, its runs finish and report, it deregisters and exits 0", async () => {
    const name = "slow";
    const source = `import { pipeline } from "tau";
export default pipeline({ name: "${name}", maxConcurrentRuns: 100 }, async () => {
  const end = Date.now() + 1500;
  while (Date.now() < end) { /* work */ }
  return { ok: true };
});
`;
    expect((await tau(api, ["deploy", pipelineFile(src, name, source)])).code).toBe(0);
    const live = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
    const target = live[0]!;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await http<Run>("POST", `/api/pipelines/${name}/runs`, {})).id);
    await eventually(
      async () => (await http<{ workers: Array<{ id: string; running: number }> }>("GET", "/api/workers")).workers.find((w) => w.id === target.id)!.running > 0,
      30_000,
      "the target to hold runs",
    );
    target.proc.kill("SIGTERM");
    expect(await target.exited).toBe(0);
    const runs = await eventually(
      async () => {
        const all = await Promise.all(ids.map((id) => http<Run>("GET", `/api/runs/${id}`)));
        return all.every((r) => TERMINAL.includes(r.status)) ? all : undefined;
      },
      60_000,
      "the runs to end",
    );
    for (const run of runs) expect({ status: run.status, attempt: run.attempt }).toEqual({ status: "succeeded", attempt: 1 });
    const listed = await tau(api, ["workers"]);
    const entry = listed.json.workers.find((w: { id: string }) => w.id === target.id);
    expect(entry.state).toBe("stopped");
    expect(entry.endedAt).not.toBeNull();
  }, 120_000);

  it("an API SIGKILLed with runs waiting and running on workers: the restarted API re-queues the waiting ones, retries the ones that ran, none runs twice unmarked", async () => {
    while (workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null).length < 2) await startWorker();
    await db.query("create table sink2 (run_id text not null, i integer not null)");
    const name = "through_restart";
    const source = `import { pipeline } from "tau";
import { postgres } from "tau/connectors";
export default pipeline<{ i: number }>({ name: "${name}", retries: 2, retryDelaySec: 0, maxConcurrentRuns: 100 }, async (ctx) => {
  const end = Date.now() + 1000;
  while (Date.now() < end) { /* work */ }
  await using db = postgres({ dsn: ctx.secret("SINK_DSN") });
  await db.execute("INSERT INTO sink2 (run_id, i) VALUES ($1, $2)", [ctx.runId, ctx.params.i]);
  return { i: ctx.params.i };
});
`;
    expect((await tau(api, ["deploy", pipelineFile(src, name, source)])).code).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push((await http<Run>("POST", `/api/pipelines/${name}/runs`, { params: { i } })).id);
    await eventually(
      async () => (await http<{ workers: Array<{ running: number }> }>("GET", "/api/workers")).workers.some((w) => w.running > 0),
      30_000,
      "runs on workers",
    );
    await api.kill();
    // Workers go on meanwhile: they finish what they hold and claim more, with nobody listening.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    api = await startDaemon({ home: api.home, env: { ...env, TAU_DATABASE_URL: db.url }, args: ["--runs-on", "workers"] });

    const chains = new Map<string, Run[]>();
    await eventually(
      async () => {
        for (const id of ids) {
          const chain = [await http<Run>("GET", `/api/runs/${id}`)];
          while (TERMINAL.includes(chain.at(-1)!.status) && chain.at(-1)!.retriedBy !== null) chain.push(await http<Run>("GET", `/api/runs/${chain.at(-1)!.retriedBy}`));
          chains.set(id, chain);
        }
        return [...chains.values()].every((c) => TERMINAL.includes(c.at(-1)!.status));
      },
      120_000,
      "every run to end after the restart",
    );
    const rows = await db.query<{ run_id: string; i: number }>("select run_id, i from sink2");
    const written = new Map<string, number>();
    for (const row of rows) written.set(row.run_id, (written.get(row.run_id) ?? 0) + 1);
    let retried = 0;
    for (const [i, id] of ids.entries()) {
      const chain = chains.get(id)!;
      expect(chain.at(-1)!.status, JSON.stringify(chain)).toBe("succeeded");
      expect(written.get(chain.at(-1)!.id)).toBe(1);
      for (const run of chain.slice(0, -1)) {
        retried++;
        expect(run.status).toBe("failed");
        expect(run.error!.code).toBe("TAU_E_RUN_INTERRUPTED");
        // An interrupted attempt may have written before the restart; at most once.
        expect(written.get(run.id) ?? 0).toBeLessThanOrEqual(1);
      }
      const chainIds = new Set(chain.map((r) => r.id));
      for (const row of rows.filter((r) => r.i === i)) expect(chainIds.has(row.run_id), row.run_id).toBe(true);
    }
    expect(retried).toBeGreaterThan(0);
  }, 240_000);

  it("a gracefully stopped API lets the runs on workers finish and leaves the ones still waiting queued; the next API runs them under the same ids", async () => {
    await db.query("create table sink3 (run_id text not null, i integer not null)");
    const name = "graceful";
    const source = `import { pipeline } from "tau";
import { postgres } from "tau/connectors";
export default pipeline<{ i: number }>({ name: "${name}", maxConcurrentRuns: 100 }, async (ctx) => {
  const end = Date.now() + 800;
  while (Date.now() < end) { /* work */ }
  await using db = postgres({ dsn: ctx.secret("SINK_DSN") });
  await db.execute("INSERT INTO sink3 (run_id, i) VALUES ($1, $2)", [ctx.runId, ctx.params.i]);
  return { i: ctx.params.i };
});
`;
    expect((await tau(api, ["deploy", pipelineFile(src, name, source)])).code).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await http<Run>("POST", `/api/pipelines/${name}/runs`, { params: { i } })).id);
    await eventually(
      async () => (await http<{ workers: Array<{ running: number }> }>("GET", "/api/workers")).workers.some((w) => w.running > 0),
      30_000,
      "runs on workers",
    );
    await api.stop();
    const queuedAtStop = (await db.query<{ n: string }>("select count(*) as n from sink3"))[0]!.n;
    api = await startDaemon({ home: api.home, env: { ...env, TAU_DATABASE_URL: db.url }, args: ["--runs-on", "workers"] });
    const runs = await eventually(
      async () => {
        const all = await Promise.all(ids.map((id) => http<Run>("GET", `/api/runs/${id}`)));
        return all.every((r) => TERMINAL.includes(r.status)) ? all : undefined;
      },
      120_000,
      "every run to end",
    );
    for (const run of runs) expect({ status: run.status, attempt: run.attempt, retriedBy: run.retriedBy }).toEqual({ status: "succeeded", attempt: 1, retriedBy: null });
    const rows = await db.query<{ run_id: string }>("select run_id from sink3");
    expect(rows.map((r) => r.run_id).sort()).toEqual([...ids].sort());
    // Some ran before the stop, some after the restart.
    expect(Number(queuedAtStop)).toBeGreaterThan(0);
    expect(Number(queuedAtStop)).toBeLessThan(ids.length);
  }, 240_000);
});
