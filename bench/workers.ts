/**
 * bench/workers — runs/s through `taud worker` processes (docs/workers.md) with 1, 2 and 3 workers, against
 * the same machine's local mode as a reference, all measured in this one run.
 *
 * Each configuration gets a fresh `taud` (real binaries from dist/, a temp home) on its own PostgreSQL
 * database (dropped after), and N `taud worker --executors 1 --capacity C` processes. With workers the API's
 * store lives in that database too (TAU_DATABASE_URL), so local mode is measured both ways: SQLite in the
 * home, and the store on PostgreSQL — the fair reference for the workers' path. Two
 * pipelines: `noop` (returns at once: the cost of the path — queue, claim, signals, ledger) and `cpu`
 * (spins for 25 ms of CPU: work that a second worker can take on). For each, R runs are queued at once over
 * HTTP and the clock stops when the daemon reports none queued or running. Then the median latency of a
 * `noop` run triggered alone (POST with wait) — the claim path's NOTIFY, not a poll, decides it.
 *
 *   npm run build && npx tsx bench/workers.ts [--runs 400] [--capacity 8]
 *
 * Read the ratios, not the absolute figures: on a 2-core box the API, the workers, their executors and
 * PostgreSQL share the same two cores, so CPU-bound runs cannot scale past ~2× however many workers run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 400);
const CAPACITY = arg("capacity", 8);
const ROOT = join(__dirname, "..");
const TAUD = join(ROOT, "dist/server/bin.js");
const TAU = join(ROOT, "dist/cli/bin.js");
const ADMIN_URL = process.env.TAU_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const PIPELINES: Record<string, string> = {
  noop: `import { pipeline } from "tau";
export default pipeline({ name: "noop", maxConcurrentRuns: 1000 }, async () => ({ ok: true }));
`,
  cpu: `import { pipeline } from "tau";
export default pipeline({ name: "cpu", maxConcurrentRuns: 1000 }, async () => {
  const end = Date.now() + 25;
  while (Date.now() < end) { /* work */ }
  return { ok: true };
});
`,
};

interface Proc {
  proc: ChildProcess;
  exited: Promise<void>;
  line: Promise<Record<string, unknown>>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Proc {
  const proc = spawn(process.execPath, [TAUD, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`taud ${args[0] ?? ""} exited (${code}):\n${err}`)));
    createInterface({ input: proc.stdout! }).once("line", (l) => {
      const msg = JSON.parse(l) as Record<string, unknown>;
      if (msg.error) reject(new Error(l));
      else resolve(msg);
    });
  });
  return { proc, exited, line };
}

async function stop(p: Proc): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill("SIGTERM");
  await p.exited;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${url}: ${JSON.stringify(body)}`);
  return body;
}

async function deploy(url: string, dir: string, name: string): Promise<void> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, PIPELINES[name]!);
  const proc = spawn(process.execPath, [TAU, "deploy", file], { env: { ...process.env, TAU_HOST: url }, stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
  if (code !== 0) throw new Error(`deploy ${name} failed: ${out}`);
}

/** Queues `runs` runs (64 requests in flight) and waits until the daemon is idle; answers runs/s. */
async function measure(url: string, name: string, runs: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < runs) {
        next++;
        await json(`${url}/api/pipelines/${name}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      }
    }),
  );
  for (;;) {
    const status = await json(`${url}/api/status`);
    if (status.runs.queued + status.runs.running === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return runs / ((performance.now() - t0) / 1000);
}

/** One configuration on its own database (the API's store may live there too: TAU_DATABASE_URL). */
/** Median trigger → finished of `runs` runs one after another (POST with wait), in ms. */
async function latency(url: string, name: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const run = await json(`${url}/api/pipelines/${name}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"wait":true}' });
    if (run.status !== "succeeded") throw new Error(`run ${run.id} ${run.status}`);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function configuration(label: string, workers: number, key: string, pgStore = true): Promise<Record<string, number>> {
  const dbName = `tau_w_bench_${randomBytes(4).toString("hex")}`;
  await admin(`create database ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const home = mkdtempSync(join(tmpdir(), "tau-bench-workers-"));
  const env = { TAU_DATABASE_URL: databaseUrl, TAU_SECRET_KEY: key, TAU_LOG_LEVEL: "warn" };
  const apiArgs = ["--home", home, "--port", "0", ...(workers === 0 ? ["--executors", "1", "--concurrency", String(CAPACITY)] : ["--runs-on", "workers"])];
  const api = start(apiArgs, workers === 0 && !pgStore ? { TAU_LOG_LEVEL: "warn" } : env);
  const procs: Proc[] = [];
  try {
    const url = (await api.line).url as string;
    for (let i = 0; i < workers; i++) {
      const w = start(["worker", "--home", join(home, `w${i}`), "--executors", "1", "--capacity", String(CAPACITY)], env);
      procs.push(w);
      await w.line;
    }
    const out: Record<string, number> = {};
    for (const name of Object.keys(PIPELINES)) {
      await deploy(url, home, name);
      await measure(url, name, 40); // warm-up: executors, caches, connections
      out[name] = await measure(url, name, RUNS);
    }
    out.p50 = await latency(url, "noop", 50);
    process.stderr.write(`${label}: ${JSON.stringify(out)}\n`);
    return out;
  } finally {
    await Promise.all(procs.map(stop));
    await stop(api);
    rmSync(home, { recursive: true, force: true });
    await admin(`drop database if exists ${dbName} with (force)`);
  }
}

async function main(): Promise<void> {
  const key = randomBytes(32).toString("hex");
  const localSqlite = await configuration("local, SQLite store", 0, key, false);
  const local = await configuration("local, PostgreSQL store", 0, key);
  const results: Array<[string, Record<string, number>]> = [];
  for (const n of [1, 2, 3]) results.push([`${n} worker${n > 1 ? "s" : ""}`, await configuration(`${n} workers`, n, key)]);
  const base = results[0]![1];
  const rows = [
    ["configuration", ...Object.keys(PIPELINES).flatMap((p) => [`${p} runs/s`, `${p} ×1 worker`]), "noop p50 latency"],
    ...([["local, 1 executor, SQLite store", localSqlite], ["local, 1 executor, PG store", local], ...results] as Array<[string, Record<string, number>]>).map(([label, r]) => [
      label,
      ...Object.keys(PIPELINES).flatMap((p) => [r[p]!.toFixed(1), (r[p]! / base[p]!).toFixed(2)]),
      `${r.p50!.toFixed(1)} ms`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  process.stdout.write(`bench/workers: ${RUNS} runs per measurement, capacity ${CAPACITY} per worker, executors 1 per worker\n`);
  for (const r of rows) process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exitCode = 1;
});
