/**
 * An executor process's sessions: many runs and describes at once, each in its own isolate. Transport-free
 * (main.ts wires it to IPC), so it reads as the executor's behaviour: a message in, events and exactly one
 * outcome out per run, exactly one answer per describe.
 */
import { ConnectorHost } from "../../runtime/connectors";
import { runError } from "./run-error";
import { DescribeSession, RunSession, type SessionDeps } from "./isolate-session";
import type { ExecutorToPool, PoolToExecutor } from "./protocol";
import { EnvSecretSource, type SecretSource } from "./secrets";
import { GuestRuntime } from "./guest-runtime";
import type { RunJob } from "../types";

export interface ExecutorOptions {
  guestRuntimePath: string;
  send: (message: ExecutorToPool) => void;
  secrets?: SecretSource;
  connectors?: ConnectorHost;
  /** Honour `test.fault` messages (TAU_EXECUTOR_TEST_HOOKS=1). */
  testHooks?: boolean;
}

export class Executor {
  private readonly deps: SessionDeps;
  private readonly runs = new Map<string, RunSession>();
  private readonly describes = new Set<DescribeSession>();
  private shuttingDown = false;

  constructor(private readonly o: ExecutorOptions) {
    this.deps = {
      guest: new GuestRuntime(o.guestRuntimePath),
      connectors: o.connectors ?? new ConnectorHost(),
      secrets: o.secrets ?? new EnvSecretSource(),
    };
  }

  get inFlight(): number {
    return this.runs.size + this.describes.size;
  }

  handle(message: PoolToExecutor): void {
    switch (message.t) {
      case "run":
        void this.startRun(message.job);
        return;
      case "describe":
        void this.startDescribe(message);
        return;
      case "cancel":
        this.runs.get(message.runId)?.cancel();
        return;
      case "shutdown":
        void this.shutdown();
        return;
      case "test.fault":
        if (!this.o.testHooks) return;
        if (message.kind === "exception") setImmediate(() => {
          throw new Error("tau executor test fault: uncaught exception");
        });
        else void Promise.reject(new Error("tau executor test fault: unhandled rejection"));
        return;
    }
  }

  private async startRun(job: RunJob): Promise<void> {
    const runId = job.runId;
    if (this.shuttingDown || this.runs.has(runId)) {
      const reason = this.shuttingDown ? "The executor is shutting down." : "A run with this id is already running in this executor.";
      this.o.send({
        t: "outcome",
        runId,
        outcome: { status: "failed", error: runError(this.shuttingDown ? "TAU_E_RUN_INTERRUPTED" : "TAU_E_INTERNAL", reason) },
        stats: { setupMs: 0, wallMs: 0, cpuMs: 0 },
      });
      return;
    }
    const session = new RunSession(this.deps, job, (event) => this.o.send({ t: "event", runId, event }));
    this.runs.set(runId, session);
    try {
      const { outcome, stats } = await session.run();
      this.o.send({ t: "outcome", runId, outcome, stats });
      if (session.wedged) this.o.send({ t: "wedged", reason: `run ${runId}'s isolate did not stop after it was ended (${outcome.status === "succeeded" ? "" : outcome.error.code})` });
    } catch (err) {
      // RunSession.run does not throw by design; if it does, the run still gets its one outcome.
      process.stderr.write(`tau executor: run ${runId} failed unexpectedly: ${(err as Error)?.stack ?? String(err)}\n`);
      this.o.send({ t: "outcome", runId, outcome: { status: "failed", error: runError("TAU_E_INTERNAL", null) }, stats: { setupMs: 0, wallMs: 0, cpuMs: 0 } });
    } finally {
      this.runs.delete(runId);
    }
  }

  private async startDescribe(m: Extract<PoolToExecutor, { t: "describe" }>): Promise<void> {
    const session = new DescribeSession(this.deps, { bundle: m.bundle, sourceMap: m.sourceMap, filename: m.filename, policy: m.policy });
    this.describes.add(session);
    try {
      this.o.send({ t: "described", id: m.id, outcome: await session.describe() });
      if (session.wedged) this.o.send({ t: "wedged", reason: "a describe's isolate did not stop after it was ended" });
    } catch (err) {
      process.stderr.write(`tau executor: describe failed unexpectedly: ${(err as Error)?.stack ?? String(err)}\n`);
      this.o.send({ t: "described", id: m.id, outcome: { ok: false, error: runError("TAU_E_INTERNAL", null) } });
    } finally {
      this.describes.delete(session);
    }
  }

  /** Cancels what is in flight (the pool has waited for it already), closes the drivers, says `closed`. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const s of this.runs.values()) s.cancel();
    const deadline = Date.now() + 10_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.deps.connectors.close();
    this.o.send({ t: "closed" });
  }
}
