import { fork, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultExecutorPath } from "../../sandbox/executor-paths";
import type { ExecutorToPool } from "../../sandbox/executor/protocol";
import { compile, makeJob, pipelineFile, requireBuild, tempDir, waitFor } from "./helpers";

describe("an executor process speaking the IPC protocol directly", () => {
  const dir = tempDir();
  let child: ChildProcess;
  const messages: ExecutorToPool[] = [];
  let stderr = "";

  beforeAll(async () => {
    requireBuild();
    child = fork(defaultExecutorPath(), [], {
      execArgv: ["--no-node-snapshot"],
      env: { ...process.env, TAU_EXECUTOR_TEST_HOOKS: "1" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    // The executor batches what one event-loop turn produces (protocol.ts); unpack to single messages.
    child.on("message", (m) => {
      const message = m as ExecutorToPool;
      if (message.t === "batch") messages.push(...message.messages);
      else messages.push(message);
    });
    await waitFor(() => messages.some((m) => m.t === "ready"), 15_000, "ready");
  });
  afterAll(() => {
    child?.kill("SIGKILL");
    dir.remove();
  });

  it("says ready with its pid", () => {
    expect(messages[0]).toEqual({ t: "ready", pid: child.pid });
  });

  it("an uncaught exception and an unhandled rejection in the executor are logged and the executor keeps running runs", async () => {
    child.send({ t: "test.fault", kind: "exception" });
    child.send({ t: "test.fault", kind: "rejection" });
    await waitFor(() => /uncaught exception/.test(stderr) && /unhandled rejection/.test(stderr), 10_000, "the faults to be logged");
    expect(child.exitCode).toBeNull();

    const compiled = await compile(pipelineFile(`ctx.log.info("hi"); return 5;`));
    const job = makeJob(compiled, { dataDir: dir.path });
    child.send({ t: "run", job });
    await waitFor(() => messages.some((m) => m.t === "outcome" && m.runId === job.runId), 15_000, "the outcome");
    const outcome = messages.find((m) => m.t === "outcome" && m.runId === job.runId);
    expect(outcome).toMatchObject({ t: "outcome", outcome: { status: "succeeded", result: 5 } });
    const events = messages.filter((m) => m.t === "event" && m.runId === job.runId);
    expect(events).toHaveLength(1);
    if (outcome?.t === "outcome") {
      expect(outcome.stats.setupMs).toBeGreaterThan(0);
      expect(outcome.stats.wallMs).toBeGreaterThanOrEqual(outcome.stats.setupMs);
    }
  });

  it("every run is answered with exactly one outcome, also a duplicate run id", async () => {
    const compiled = await compile(pipelineFile(`let x = 0; for (let i = 0; i < 1e6; i++) x += i; return x;`));
    const job = makeJob(compiled, { dataDir: dir.path });
    child.send({ t: "run", job });
    child.send({ t: "run", job });
    await waitFor(() => messages.filter((m) => m.t === "outcome" && m.runId === job.runId).length === 2, 15_000, "two outcomes");
    const outcomes = messages.filter((m) => m.t === "outcome" && m.runId === job.runId);
    expect(outcomes.map((m) => m.t === "outcome" && m.outcome.status).sort()).toEqual(["failed", "succeeded"]);
  });

  it("shuts down on request: says closed and exits 0", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.send({ t: "shutdown" });
    expect(await exited).toBe(0);
    expect(messages[messages.length - 1]).toEqual({ t: "closed" });
  });
});
