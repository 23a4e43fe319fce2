/**
 * An executor process's sessions: many runs and describes at once, each in its own isolate. Transport-free
 * (main.ts wires it to IPC), so it reads as the executor's behaviour: a message in, events and exactly one
 * outcome out per run, exactly one answer per describe.
 */
import { ConnectorHost } from "../../runtime/connectors";
import { runError } from "./run-error";
import { DescribeSession, RunSession, type RunJobWithoutCode, type SessionDeps } from "./isolate-session";
import { BUNDLE_CACHE_LIMITS, type ExecutorToPool, type PoolToExecutor } from "./protocol";
import { EnvSecretSource, type SecretSource } from "./secrets";
import { BundleEntry, GuestRuntime } from "./guest-runtime";
import type { RunJob } from "../types";

export interface ExecutorOptions {
  guestRuntimePath: string;
  send: (message: ExecutorToPool) => void;
  secrets?: SecretSource;
  connectors?: ConnectorHost;
  /** Honour `test.fault` messages (TAU_EXECUTOR_TEST_HOOKS=1). */
  testHooks?: boolean;
  /** Prepare a spare isolate while idle (default true). */
  spareIsolate?: boolean;
}

export class Executor {
  private readonly deps: SessionDeps;
  private readonly runs = new Map<string, RunSession>();
  private readonly describes = new Set<DescribeSession>();
  /**
   * Bundles by key (see BundleEntry), least recently used first. The pool decides what is kept: it sends a
   * bundle with the first run that needs it here and `forget`s keys past BUNDLE_CACHE_LIMITS; the bound
   * here only backs that up.
   */
  private readonly bundles = new Map<string, BundleEntry>();
  private shuttingDown = false;
  private spareTimer: NodeJS.Immediate | null = null;
  private lastMemoryMb: number | null = null;

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
        void this.startRun(message.job, message.bundleKey);
        return;
      case "forget":
        for (const key of message.keys) this.bundles.delete(key);
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

  /** Runs are warm: the runtime's code cache is made before the executor says it is ready. */
  warmUp(): Promise<boolean> {
    return this.deps.guest.warmUp();
  }

  private async startRun(job: RunJob | RunJobWithoutCode, bundleKey: string | undefined): Promise<void> {
    const runId = job.runId;
    const code = this.shuttingDown || this.runs.has(runId) ? null : this.bundleFor(job, bundleKey);
    if (!code) {
      const reason = this.shuttingDown
        ? "The executor is shutting down."
        : this.runs.has(runId)
          ? "A run with this id is already running in this executor."
          : "The executor does not hold the run's bundle.";
      this.o.send({
        t: "outcome",
        runId,
        outcome: { status: "failed", error: runError(this.shuttingDown ? "TAU_E_RUN_INTERRUPTED" : "TAU_E_INTERNAL", reason) },
        stats: { setupMs: 0, wallMs: 0, cpuMs: 0 },
      });
      return;
    }
    this.lastMemoryMb = job.policy.limits.memoryMb;
    this.cancelSpare();
    const session = new RunSession(this.deps, job, code, (event) => this.o.send({ t: "event", runId, event }));
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
      this.scheduleSpare();
    }
  }

  /**
   * The run's bundle: carried by the job (then kept under the key computed from its text), or one this
   * executor keeps under `bundleKey`. Null when neither.
   */
  private bundleFor(job: RunJob | RunJobWithoutCode, bundleKey: string | undefined): BundleEntry | null {
    const full = job as Partial<RunJob>;
    if (typeof full.bundle === "string") {
      const entry = new BundleEntry(full.bundle, typeof full.sourceMap === "string" ? full.sourceMap : "");
      const kept = this.bundles.get(entry.key);
      this.bundles.delete(entry.key);
      this.bundles.set(entry.key, kept ?? entry);
      this.boundBundles();
      return kept ?? entry;
    }
    const kept = bundleKey === undefined ? undefined : this.bundles.get(bundleKey);
    if (!kept) return null;
    this.bundles.delete(kept.key);
    this.bundles.set(kept.key, kept);
    return kept;
  }

  private boundBundles(): void {
    let bytes = 0;
    for (const e of this.bundles.values()) bytes += e.bytes;
    for (const [key, e] of this.bundles) {
      // Twice the pool's bound (which it enforces with `forget`), so only a pool that does not is stopped here.
      if (this.bundles.size <= 2 * BUNDLE_CACHE_LIMITS.entries && bytes <= 2 * BUNDLE_CACHE_LIMITS.bytes) break;
      // Past the pool's own bound (it forgets first): keep the newest even if it alone is too large.
      if (this.bundles.size === 1) break;
      this.bundles.delete(key);
      bytes -= e.bytes;
    }
  }

  /** Once idle, prepare the spare isolate for the next run (same memory limit as the last one). */
  private scheduleSpare(): void {
    if (this.o.spareIsolate === false || this.shuttingDown || this.inFlight > 0 || this.lastMemoryMb === null || this.spareTimer) return;
    const memoryMb = this.lastMemoryMb;
    this.spareTimer = setImmediate(() => {
      this.spareTimer = null;
      if (this.shuttingDown || this.inFlight > 0) return;
      this.deps.guest.keepSpare(memoryMb);
    });
  }

  private cancelSpare(): void {
    if (this.spareTimer) clearImmediate(this.spareTimer);
    this.spareTimer = null;
  }

  private async startDescribe(m: Extract<PoolToExecutor, { t: "describe" }>): Promise<void> {
    this.cancelSpare();
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
      this.scheduleSpare();
    }
  }

  /** Cancels what is in flight (the pool has waited for it already), closes the drivers, says `closed`. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.cancelSpare();
    this.deps.guest.dropSpare();
    for (const s of this.runs.values()) s.cancel();
    const deadline = Date.now() + 10_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.deps.connectors.close();
    this.o.send({ t: "closed" });
  }
}
