/**
 * Run control through the real binaries: `tau cancel`, retries, timeouts, per-pipeline concurrency,
 * rollback, errors and logs, and slots surviving a killed executor or daemon (Prefect #17415).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, pipelineFile, ROOT, startDaemon, tau, tempHome, type Daemon } from "./harness";

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  builtOrThrow();
  dir = tempHome("tau-e2e-rc-src-");
  daemon = await startDaemon();
});
afterAll(async () => {
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
  cleanup(dir);
});

/**
 * A pipeline whose one step spins for `ms` milliseconds, or for params.ms (there are no timers in the
 * sandbox).
 */
const spinning = (name: string, ms: number, meta = ""): string => `import { pipeline } from "tau";
export default pipeline<{ ms?: number }>({ name: "${name}"${meta ? `, ${meta}` : ""} }, async (ctx) => {
  await ctx.step("spin", async () => {
    ctx.log("spinning");
    const end = Date.now() + (ctx.params.ms ?? ${ms});
    while (Date.now() < end) { /* hold the isolate */ }
  });
  return { done: true };
});
`;

async function deploy(d: Pick<Daemon, "url">, name: string, source: string): Promise<void> {
  const r = await tau(d, ["deploy", pipelineFile(dir, name, source), "--replace"]);
  expect(r.code, r.stdout).toBe(0);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `tau` whose stdout is NDJSON (logs --follow), not one document. */
function tauLines(d: Pick<Daemon, "url">, args: string[]): Promise<{ code: number; stdout: string }> {
  const proc = spawn(process.execPath, [join(ROOT, "dist/cli/bin.js"), ...args], { env: { ...process.env, TAU_HOST: d.url }, stdio: ["ignore", "pipe", "ignore"] });
  let stdout = "";
  proc.stdout.on("data", (chunk) => (stdout += chunk));
  return new Promise((resolve) => proc.on("close", (code) => resolve({ code: code ?? -1, stdout })));
}

const inspect = async (d: Pick<Daemon, "url">, name: string, id: string) => (await tau(d, ["inspect", name, "--run", id])).json;
const inStep = (d: Pick<Daemon, "url">, name: string, id: string) =>
  waitFor(async () => ((await inspect(d, name, id)).steps.length > 0 ? true : undefined), `${id} to be inside its step`);

describe("tau cancel", () => {
  it("stops a running busy loop within a second and records it cancelled", async () => {
    await deploy(daemon, "loop", spinning("loop", 60_000, "retries: 3"));
    // Timed over HTTP: starting a tau process can itself take a second on a loaded machine.
    const timed = (await tau(daemon, ["run", "loop", "--detach"])).json.id as string;
    await inStep(daemon, "loop", timed);
    const asked = Date.now();
    const answer = (await (await fetch(`${daemon.url}/api/runs/${timed}/cancel`, { method: "POST" })).json()) as { status: string; finishedAt: string };
    expect(answer.status).toBe("cancelled");
    expect(Date.parse(answer.finishedAt) - asked).toBeLessThan(1_000);

    const runId = (await tau(daemon, ["run", "loop", "--detach"])).json.id as string;
    await inStep(daemon, "loop", runId);
    const r = await tau(daemon, ["cancel", runId]);
    expect(r.code).toBe(0);
    expect(schemas.validate("cancel.schema.json", r.json)).toEqual([]);
    expect(r.json).toMatchObject({ id: runId, status: "cancelled", error: { code: "TAU_E_RUN_CANCELLED" }, retriedBy: null });
    expect(r.json.steps).toEqual([expect.objectContaining({ name: "spin", status: "failed" })]);

    // Cancelled runs are not retried, and a second cancel is a clear error.
    const again = await tau(daemon, ["cancel", runId]);
    expect(again.code).toBe(3);
    expect(again.json.error).toMatchObject({ code: "TAU_E_RUN_ALREADY_FINISHED", details: { id: runId, status: "cancelled" } });
    const runs = (await tau(daemon, ["runs", "loop"])).json.runs;
    expect(runs.map((x: { id: string }) => x.id)).toEqual([runId, timed]);
  });

  it("cancels a queued run at once, the queue goes on, and an unknown run is refused", async () => {
    await deploy(daemon, "hold", spinning("hold", 60_000));
    const first = (await tau(daemon, ["run", "hold", "--detach"])).json.id as string;
    const second = (await tau(daemon, ["run", "hold", "--detach"])).json.id as string;
    const third = (await tau(daemon, ["run", "hold", "--detach", "--params", '{"ms": 1}'])).json.id as string;
    const r = await tau(daemon, ["cancel", second]);
    expect(r.json).toMatchObject({ id: second, status: "cancelled", startedAt: null, steps: [] });
    expect((await inspect(daemon, "hold", third)).status).toBe("queued");
    expect((await tau(daemon, ["cancel", first])).json.status).toBe("cancelled");
    await waitFor(async () => ((await inspect(daemon, "hold", third)).status === "succeeded" ? true : undefined), "the third run");
    const unknown = await tau(daemon, ["cancel", "run_NOPE"]);
    expect(unknown.code).toBe(3);
    expect(unknown.json.error.code).toBe("TAU_E_RUN_NOT_FOUND");
  });
});

describe("retries and timeouts", () => {
  it("retries a failure named in retryOn until it succeeds, and tau run prints the final attempt", async () => {
    const source = `import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";
export default pipeline({ name: "flaky", retries: 3, retryDelaySec: 0.05, retryOn: ["TAU_E_PIPELINE_ERROR"] }, async (ctx) => {
  await using db = duckdb_local("flaky.duckdb");
  await db.execute("CREATE TABLE IF NOT EXISTS attempts (n INTEGER)");
  await db.execute("INSERT INTO attempts VALUES (1)");
  const rows = await db.extract<{ c: number }>("SELECT count(*)::INTEGER AS c FROM attempts");
  const c = rows[0]?.c ?? 0;
  if (c < 3) throw new Error("source not ready, attempt " + c);
  return { attempts: c };
});
`;
    await deploy(daemon, "flaky", source);
    const r = await tau(daemon, ["run", "flaky"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ status: "succeeded", attempt: 3, maxAttempts: 4, result: { attempts: 3 } });

    const runs = (await tau(daemon, ["runs", "flaky", "--last", "5"])).json.runs;
    expect(runs.map((x: { attempt: number; status: string }) => [x.attempt, x.status])).toEqual([
      [3, "succeeded"],
      [2, "failed"],
      [1, "failed"],
    ]);
    expect(runs[0].retryOf).toBe(runs[1].id);
    expect(runs[1]).toMatchObject({ retryOf: runs[2].id, retriedBy: runs[0].id, error: { code: "TAU_E_PIPELINE_ERROR" } });

    // The failed attempts are listed by tau errors, each pointing at its retry.
    const errors = (await tau(daemon, ["errors", "--pipeline", "flaky"])).json.errors;
    expect(errors.map((e: { id: string; retriedBy: string }) => [e.id, e.retriedBy])).toEqual([
      [runs[1].id, runs[0].id],
      [runs[2].id, runs[1].id],
    ]);
    expect(errors[0].error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", step: null, line: 9 });
  });

  it("enforces timeoutSec as TAU_E_RUN_TIMEOUT and retries it as retryable, then gives up", async () => {
    await deploy(daemon, "too_slow", spinning("too_slow", 30_000, "timeoutSec: 1, retries: 1, retryDelaySec: 0"));
    const started = Date.now();
    const r = await tau(daemon, ["run", "too_slow"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ status: "failed", attempt: 2, maxAttempts: 2, error: { code: "TAU_E_RUN_TIMEOUT", step: "spin" } });
    expect(Date.now() - started).toBeLessThan(10_000);
    const first = await inspect(daemon, "too_slow", r.json.retryOf);
    expect(first).toMatchObject({ attempt: 1, status: "failed", error: { code: "TAU_E_RUN_TIMEOUT" }, retriedBy: r.json.id });
    expect(first.durationMs).toBeGreaterThanOrEqual(900);
    expect(first.durationMs).toBeLessThan(3_000);
  });

  it("does not retry an error that is not retryable", async () => {
    const source = `import { pipeline } from "tau";
export default pipeline({ name: "bug", retries: 3, retryDelaySec: 0 }, async () => {
  throw new Error("a bug, not bad luck");
});
`;
    await deploy(daemon, "bug", source);
    const r = await tau(daemon, ["run", "bug"]);
    expect(r.json).toMatchObject({ status: "failed", attempt: 1, maxAttempts: 4, retriedBy: null, error: { code: "TAU_E_PIPELINE_ERROR" } });
  });

  it("follows a retried attempt with logs --follow to its run.finished, which names the retry", async () => {
    // A one-hour backoff window: the retry is still pending when the test cancels it.
    await deploy(daemon, "timeout_once", spinning("timeout_once", 5_000, "timeoutSec: 1, retries: 1, retryDelaySec: 3600"));
    const runId = (await tau(daemon, ["run", "timeout_once", "--detach"])).json.id as string;
    const out = await tauLines(daemon, ["logs", "timeout_once", "--run", runId, "--follow"]);
    const events = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(out.code).toBe(1);
    expect(events.map((e: { kind: string }) => e.kind)).toEqual(["run.queued", "run.started", "step.started", "log", "step.finished", "run.finished"]);
    const last = events.at(-1);
    expect(last.data).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_TIMEOUT" }, retry: { attempt: 2 } });
    // The pending retry (60 s backoff, full jitter) is a queued run that tau cancel drops, given the first attempt.
    const cancelled = await tau(daemon, ["cancel", runId]);
    expect(cancelled.json).toMatchObject({ id: last.data.retry.runId, status: "cancelled", attempt: 2, retryOf: runId });
  });
});

describe("per-pipeline concurrency", () => {
  it("queues a second run of a pipeline behind the first without blocking other pipelines", async () => {
    await deploy(daemon, "single", spinning("single", 60_000));
    await deploy(daemon, "quick", spinning("quick", 1));
    const first = (await tau(daemon, ["run", "single", "--detach"])).json.id as string;
    const second = (await tau(daemon, ["run", "single", "--detach", "--params", '{"ms": 1}'])).json.id as string;
    await inStep(daemon, "single", first);
    const quick = await tau(daemon, ["run", "quick"]);
    expect(quick.json.status).toBe("succeeded");
    expect((await inspect(daemon, "single", second)).status).toBe("queued");
    // Cancelling the first frees the pipeline's one slot for the second.
    expect((await tau(daemon, ["cancel", first])).json.status).toBe("cancelled");

    const done = await waitFor(async () => {
      const run = await inspect(daemon, "single", second);
      return run.status === "succeeded" ? run : undefined;
    }, "the second run");
    const firstRun = await inspect(daemon, "single", first);
    expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(firstRun.finishedAt));
    expect(Date.parse(quick.json.finishedAt)).toBeLessThan(Date.parse(firstRun.finishedAt));
  });

  it("runs maxConcurrentRuns runs of a pipeline side by side", async () => {
    await deploy(daemon, "pair", spinning("pair", 60_000, "maxConcurrentRuns: 2"));
    const ids = [(await tau(daemon, ["run", "pair", "--detach"])).json.id, (await tau(daemon, ["run", "pair", "--detach"])).json.id] as string[];
    await inStep(daemon, "pair", ids[0]!);
    await inStep(daemon, "pair", ids[1]!);
    expect((await inspect(daemon, "pair", ids[0]!)).status).toBe("running");
    for (const id of ids) expect((await tau(daemon, ["cancel", id])).json.status).toBe("cancelled");
  });
});

describe("versions", () => {
  it("rolls back to the previous version with its meta, and runs record the version they ran", async () => {
    const version = (v: number, meta: string): string => `import { pipeline } from "tau";
export default pipeline({ name: "versioned"${meta} }, async () => ({ v: ${v} }));
`;
    await deploy(daemon, "versioned", version(1, ""));
    await deploy(daemon, "versioned", version(2, ", retries: 2, maxConcurrentRuns: 3"));
    expect((await tau(daemon, ["run", "versioned"])).json).toMatchObject({ version: 2, result: { v: 2 }, maxAttempts: 3 });

    const back = await tau(daemon, ["rollback", "versioned"]);
    expect(back.code).toBe(0);
    expect(schemas.validate("rollback.schema.json", back.json)).toEqual([]);
    expect(back.json).toMatchObject({ from: 2, to: 1, changed: true, pipeline: { currentVersion: 1, retries: 0, maxConcurrentRuns: 1 } });
    expect((await tau(daemon, ["run", "versioned"])).json).toMatchObject({ version: 1, result: { v: 1 }, maxAttempts: 1 });
    expect((await tau(daemon, ["code", "versioned"])).json).toMatchObject({ version: 1, source: version(1, "") });
    expect((await tau(daemon, ["code", "versioned", "--version", "2"])).json).toMatchObject({ version: 2, source: version(2, ", retries: 2, maxConcurrentRuns: 3") });

    // Nothing older than version 1; version 9 does not exist; --to the current version changes nothing.
    const none = await tau(daemon, ["rollback", "versioned"]);
    expect(none.code).toBe(3);
    expect(none.json.error).toMatchObject({ code: "TAU_E_VERSION_NOT_FOUND", details: { currentVersion: 1, versions: [2, 1] } });
    expect((await tau(daemon, ["rollback", "versioned", "--to", "9"])).json.error.code).toBe("TAU_E_VERSION_NOT_FOUND");
    expect((await tau(daemon, ["rollback", "versioned", "--to", "1"])).json).toMatchObject({ from: 1, to: 1, changed: false });
    expect((await tau(daemon, ["rollback", "versioned", "--to", "0"])).code).toBe(2);

    // Forward again, and a redeploy of version 2's file is unchanged only when it is current.
    expect((await tau(daemon, ["rollback", "versioned", "--to", "2"])).json).toMatchObject({ from: 1, to: 2, pipeline: { retries: 2 } });
    const again = await tau(daemon, ["deploy", pipelineFile(dir, "versioned", version(2, ", retries: 2, maxConcurrentRuns: 3"))]);
    expect(again.json).toMatchObject({ changed: false, version: 2 });
  });
});

describe("slots survive crashes (Prefect #17415)", () => {
  it("frees the slot of a run whose executor was killed, so the pipeline runs again", async () => {
    await deploy(daemon, "victim", spinning("victim", 30_000));
    const runId = (await tau(daemon, ["run", "victim", "--detach"])).json.id as string;
    await inStep(daemon, "victim", runId);
    const busy = await waitFor(async () => {
      const s = (await tau(daemon, ["status"])).json;
      return s.executors.find((e: { running: number }) => e.running > 0) as { pid: number } | undefined;
    }, "a busy executor");
    process.kill(busy.pid, "SIGKILL");
    const failed = await waitFor(async () => {
      const run = await inspect(daemon, "victim", runId);
      return run.status === "running" ? undefined : run;
    }, "the run to fail");
    expect(failed.error.code).toBe("TAU_E_SANDBOX_CRASHED");

    await deploy(daemon, "victim", spinning("victim", 1));
    expect((await tau(daemon, ["run", "victim"])).json.status).toBe("succeeded");
  });

  it("holds no slot after the daemon is killed mid-run and started again", async () => {
    const home = tempHome();
    const first = await startDaemon({ home });
    try {
      await deploy(first, "survivor", spinning("survivor", 30_000));
      const runId = (await tau(first, ["run", "survivor", "--detach"])).json.id as string;
      await inStep(first, "survivor", runId);
      await first.kill();

      const second = await startDaemon({ home });
      try {
        expect((await inspect(second, "survivor", runId)).error.code).toBe("TAU_E_RUN_INTERRUPTED");
        await deploy(second, "survivor", spinning("survivor", 1));
        const run = await tau(second, ["run", "survivor", "--timeout", "20"]);
        expect(run.json.status).toBe("succeeded");
        expect((await tau(second, ["status"])).json.runs).toEqual({ queued: 0, running: 0 });
      } finally {
        await second.stop();
      }
    } finally {
      await first.kill();
      cleanup(home);
    }
  }, 120_000);
});
