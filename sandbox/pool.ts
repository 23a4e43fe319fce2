/**
 * The executor pool the daemon runs pipelines through. Executors are child processes (`--no-node-snapshot`,
 * IPC) that each run many runs at once, one fresh isolate per run. A run goes to the least-loaded ready
 * executor. An executor that dies (exit, signal, V8's out-of-memory abort) fails only the runs it had in
 * flight, with TAU_E_SANDBOX_CRASHED, and is replaced — with backoff when it keeps crashing. The pool also
 * keeps a backstop per run: an executor wedged in an uninterruptible built-in past a run's deadline plus a
 * grace period is killed.
 *
 * @example
 * ```ts
 * const pool = new ExecutorPool({ size: 2 });
 * await pool.start();
 * const outcome = await pool.run(job, (event) => store.append(job.runId, event));
 * await pool.close();
 * ```
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { wallSecFor, type Policy } from "../policies";
import { TauError, type ExecutorStatus, type RunError } from "../server/contract";
import { BUNDLE_CACHE_LIMITS, DESCRIBE_LIMITS, type ExecutorToPool, type PoolToExecutor, type RawDescribeOutcome } from "./executor/protocol";
import { bundleKey } from "./executor/guest-runtime";
import { ExecutorSlot, type ExitInfo } from "./executor-slot";
import { runError } from "./executor/run-error";
import { validateMeta } from "./meta";
import { defaultExecutorPath } from "./executor-paths";
import type { DescribeOutcome, RunJob, RunOutcome, SandboxEvent } from "./types";

export interface ExecutorPoolOptions {
  /** Executor processes (default 2). */
  size?: number;
  /** The executor entry (default `<package root>/dist/sandbox/executor.js`). */
  executorPath?: string;
  /** Environment of the executors (default the daemon's). Local-mode secrets are read from it. */
  env?: NodeJS.ProcessEnv;
  /** How long past a run's wall deadline the pool waits before killing a wedged executor (default 5000 ms). */
  backstopGraceMs?: number;
  /** How long after a cancel the pool waits for the executor to end the run before killing it (default 5000 ms). */
  cancelGraceMs?: number;
  /** How long start() waits for every executor to report ready (default 20000 ms). */
  startTimeoutMs?: number;
  /** How long a run waits for an executor when none is ready (crash loop) before failing (default 60000 ms). */
  queueTimeoutMs?: number;
  /** Executor stderr, line by line (default: written to this process's stderr with a prefix). */
  onStderr?: (executorId: number, line: string) => void;
}

interface CompiledOptions {
  size: number;
  executorPath: string;
  env: NodeJS.ProcessEnv;
  backstopGraceMs: number;
  cancelGraceMs: number;
  startTimeoutMs: number;
  queueTimeoutMs: number;
  onStderr: (executorId: number, line: string) => void;
}

function compileOptions(o: ExecutorPoolOptions): CompiledOptions {
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0) throw new TypeError(`ExecutorPool: ${name} must be a positive number (got ${String(value)})`);
    return v;
  };
  const size = positive("size", o.size, 2);
  if (!Number.isInteger(size)) throw new TypeError(`ExecutorPool: size must be an integer (got ${size})`);
  return {
    size,
    executorPath: o.executorPath ?? defaultExecutorPath(),
    env: o.env ?? process.env,
    backstopGraceMs: positive("backstopGraceMs", o.backstopGraceMs, 5000),
    cancelGraceMs: positive("cancelGraceMs", o.cancelGraceMs, 5000),
    startTimeoutMs: positive("startTimeoutMs", o.startTimeoutMs, 20_000),
    queueTimeoutMs: positive("queueTimeoutMs", o.queueTimeoutMs, 60_000),
    onStderr: o.onStderr ?? ((id, line) => process.stderr.write(`[tau executor ${id}] ${line}\n`)),
  };
}

interface RunTicket {
  kind: "run";
  job: RunJob;
  onEvent: (event: SandboxEvent) => void;
  resolve: (outcome: RunOutcome) => void;
  slot: Slot | null;
  timers: NodeJS.Timeout[];
  /** Set when the pool killed the executor because of this run; decides the run's outcome. */
  killedFor: "deadline" | "cancel" | null;
  cancelled: boolean;
}

interface DescribeTicket {
  kind: "describe";
  id: string;
  message: Extract<PoolToExecutor, { t: "describe" }>;
  resolve: (outcome: DescribeOutcome) => void;
  slot: Slot | null;
  timers: NodeJS.Timeout[];
  killedFor: "deadline" | null;
}

type Ticket = RunTicket | DescribeTicket;

type Slot = ExecutorSlot<Ticket>;

/** How long a wedged executor's other runs get before it is killed anyway. */
const DRAIN_MAX_MS = 30_000;

export class ExecutorPool {
  private readonly o: CompiledOptions;
  private readonly slots: Slot[] = [];
  /** Runs and describes waiting for a ready executor, oldest first. */
  private readonly waiting: Ticket[] = [];
  private readonly runs = new Map<string, RunTicket>();
  /** Bundle text → its key (a Map lookup hashes the string once; bundles are small). */
  private readonly keys = new Map<string, { sourceMap: string; key: string }>();
  private started = false;
  private closing = false;

  constructor(options: ExecutorPoolOptions = {}) {
    this.o = compileOptions(options);
  }

  /** Forks the executors and waits until each reports ready. Rejects (and stops the pool) if one cannot start. */
  async start(): Promise<void> {
    if (this.started) return;
    if (!existsSync(this.o.executorPath)) {
      throw new TauError("TAU_E_SANDBOX_UNAVAILABLE", `The executor entry ${this.o.executorPath} does not exist; run \`npm run build\`.`, {
        executorPath: this.o.executorPath,
      });
    }
    this.started = true;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.o.size; i++) {
      let settle!: (err?: Error) => void;
      ready.push(new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve()))));
      let first = true;
      const slot: Slot = new ExecutorSlot<Ticket>(i, this.o, {
        onReady: () => {
          if (first) settle();
          first = false;
          this.drainWaiting();
        },
        onMessage: (message) => this.onMessage(slot, message),
        onExit: (info) => {
          if (first && info.beforeReady) settle(new Error(`executor ${i} exited before it was ready (${info.signal ?? `code ${info.exitCode}`})`));
          first = false;
          this.onExit(slot, info);
        },
      });
      this.slots.push(slot);
      slot.spawn();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`executors did not report ready within ${this.o.startTimeoutMs} ms`)), this.o.startTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } catch (err) {
      const tail = this.slots.flatMap((s) => s.stderrTail).slice(-20);
      await this.close({ graceMs: 1 });
      throw new TauError("TAU_E_SANDBOX_UNAVAILABLE", `The executor pool could not start: ${(err as Error).message}`, { stderr: tail });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs a job in an executor. `onEvent` receives the run's events in order. Never rejects: every failure —
   * the pipeline's, a limit, a crashed executor, a closed pool — is a `failed` outcome with a RunError.
   */
  run(job: RunJob, onEvent: (event: SandboxEvent) => void): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve) => {
      if (this.closing || !this.started) {
        resolve({
          status: "failed",
          error: this.closing ? runError("TAU_E_RUN_INTERRUPTED", "The executor pool is shutting down.") : runError("TAU_E_SANDBOX_UNAVAILABLE", "The executor pool has not been started."),
        });
        return;
      }
      if (this.runs.has(job.runId)) {
        resolve({ status: "failed", error: runError("TAU_E_INTERNAL", `Run ${job.runId} is already running in the pool.`) });
        return;
      }
      const ticket: RunTicket = { kind: "run", job, onEvent, resolve, slot: null, timers: [], killedFor: null, cancelled: false };
      this.runs.set(job.runId, ticket);
      this.dispatch(ticket);
    });
  }

  /**
   * Evaluates a bundle at deploy time (wall 5 s, CPU 2 s) and returns its meta validated on the host:
   * TAU_E_DEPLOY_META_INVALID (details.field), TAU_E_DEPLOY_NAME_INVALID, TAU_E_DEPLOY_CRON_INVALID,
   * TAU_E_DEPLOY_NO_PIPELINE, or the error a top-level throw raised (with its line). Never rejects.
   */
  describe(input: { bundle: string; sourceMap: string; filename: string }, policy: Policy): Promise<DescribeOutcome> {
    return new Promise<DescribeOutcome>((resolve) => {
      if (this.closing || !this.started) {
        resolve({ ok: false, error: runError("TAU_E_SANDBOX_UNAVAILABLE", this.closing ? "The executor pool is shutting down." : "The executor pool has not been started.") });
        return;
      }
      const id = randomUUID();
      const message: Extract<PoolToExecutor, { t: "describe" }> = { t: "describe", id, ...pick(input), policy };
      this.dispatch({ kind: "describe", id, message, resolve, slot: null, timers: [], killedFor: null });
    });
  }

  /** Cancels a run; its outcome becomes `cancelled`. Returns false when the pool has no such run. */
  cancel(runId: string): boolean {
    const t = this.runs.get(runId);
    if (!t) return false;
    if (t.cancelled) return true;
    t.cancelled = true;
    if (!t.slot) {
      this.removeWaiting(t);
      this.settle(t, { status: "cancelled", error: runError("TAU_E_RUN_CANCELLED", null) });
      return true;
    }
    const slot = t.slot;
    slot.send({ t: "cancel", runId });
    t.timers.push(
      setTimeout(() => {
        if (this.runs.get(runId) !== t) return;
        t.killedFor = "cancel";
        slot.kill(`run ${runId} did not stop within ${this.o.cancelGraceMs} ms of being cancelled`);
      }, this.o.cancelGraceMs),
    );
    return true;
  }

  /** The executors, for `tau status` / `tau workers`. */
  status(): ExecutorStatus[] {
    return this.slots.map((s) => ({ id: s.id, pid: s.pid, state: s.state, running: s.tickets.size, restarts: s.restarts }));
  }

  /** Which executor a run is on (null while queued or unknown). */
  placement(runId: string): { executorId: number; pid: number | null } | null {
    const slot = this.runs.get(runId)?.slot;
    return slot ? { executorId: slot.id, pid: slot.pid } : null;
  }

  /**
   * Stops the pool: no new runs; in-flight runs get `graceMs` (default 10 s) to finish, then fail with
   * TAU_E_RUN_INTERRUPTED; executors are asked to shut down and killed if they do not exit in 5 s.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const interrupted = (): RunError => runError("TAU_E_RUN_INTERRUPTED", "The run was still running when the executor pool shut down.");
    for (const t of this.waiting.splice(0)) this.settleAny(t, interrupted());
    const deadline = Date.now() + (options.graceMs ?? 10_000);
    while (this.slots.some((s) => s.tickets.size > 0) && Date.now() < deadline) await sleep(20);
    for (const slot of this.slots) for (const t of [...slot.tickets.values()]) this.settleAny(t, interrupted());
    await Promise.all(this.slots.map((slot) => slot.stop()));
  }

  // ── dispatch ─────────────────────────────────────────────────────────────────────────────────────

  private dispatch(ticket: Ticket): void {
    const slot = this.pickSlot();
    if (!slot) {
      this.waiting.push(ticket);
      ticket.timers.push(
        setTimeout(() => {
          if (!this.removeWaiting(ticket)) return;
          this.settleAny(ticket, runError("TAU_E_SANDBOX_UNAVAILABLE", `No executor became available within ${this.o.queueTimeoutMs} ms.`));
        }, this.o.queueTimeoutMs),
      );
      return;
    }
    this.assign(slot, ticket);
  }

  private pickSlot(): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (s.state !== "ready" || s.draining) continue;
      if (!best || s.tickets.size < best.tickets.size) best = s;
    }
    return best;
  }

  private assign(slot: Slot, ticket: Ticket): void {
    for (const t of ticket.timers.splice(0)) clearTimeout(t);
    ticket.slot = slot;
    const key = ticket.kind === "run" ? ticket.job.runId : ticket.id;
    slot.tickets.set(key, ticket);
    let deadlineMs: number;
    if (ticket.kind === "run") {
      deadlineMs = wallSecFor(ticket.job.policy.limits, ticket.job.timeoutSec) * 1000;
      this.sendRun(slot, ticket.job);
      if (ticket.cancelled) slot.send({ t: "cancel", runId: ticket.job.runId });
    } else {
      deadlineMs = DESCRIBE_LIMITS.wallMs;
      slot.send(ticket.message);
    }
    // setTimeout caps at 2^31-1 ms; a longer deadline just gets no backstop past ~24.8 days.
    ticket.timers.push(
      setTimeout(() => {
        if (slot.tickets.get(key) !== ticket) return;
        ticket.killedFor = "deadline";
        slot.kill(`${ticket.kind === "run" ? `run ${key}` : "a describe"} overran its deadline by more than ${this.o.backstopGraceMs} ms`);
      }, Math.min(deadlineMs + this.o.backstopGraceMs, 2 ** 31 - 1)),
    );
  }

  /**
   * Sends a run, with its bundle only when the executor does not hold it yet (protocol.ts, "Bundles"). The
   * pool's record of what each executor holds is exact: messages arrive in order, and a restarted executor
   * starts with an empty record.
   */
  private sendRun(slot: Slot, job: RunJob): void {
    const key = this.keyOf(job);
    if (slot.bundles.has(key)) {
      slot.bundles.delete(key);
      slot.bundles.set(key, job.bundle.length + job.sourceMap.length);
      const { bundle: _bundle, sourceMap: _sourceMap, ...rest } = job;
      slot.send({ t: "run", job: rest, bundleKey: key });
      return;
    }
    slot.bundles.set(key, job.bundle.length + job.sourceMap.length);
    const forget: string[] = [];
    let chars = 0;
    for (const size of slot.bundles.values()) chars += size;
    for (const [k, size] of slot.bundles) {
      if (k === key || (slot.bundles.size <= BUNDLE_CACHE_LIMITS.entries && 2 * chars <= BUNDLE_CACHE_LIMITS.bytes)) break;
      slot.bundles.delete(k);
      chars -= size;
      forget.push(k);
    }
    if (forget.length > 0) slot.send({ t: "forget", keys: forget });
    slot.send({ t: "run", job, bundleKey: key });
  }

  /** The bundle key of a job, remembered per bundle text (versions are immutable; the daemon reuses the strings). */
  private keyOf(job: RunJob): string {
    const known = this.keys.get(job.bundle);
    if (known && known.sourceMap === job.sourceMap) return known.key;
    const key = bundleKey(job.bundle, job.sourceMap);
    this.keys.set(job.bundle, { sourceMap: job.sourceMap, key });
    if (this.keys.size > BUNDLE_CACHE_LIMITS.entries) this.keys.delete(this.keys.keys().next().value!);
    return key;
  }

  private drainWaiting(): void {
    while (this.waiting.length > 0) {
      const slot = this.pickSlot();
      if (!slot) return;
      this.assign(slot, this.waiting.shift()!);
    }
  }

  private removeWaiting(ticket: Ticket): boolean {
    const i = this.waiting.indexOf(ticket);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  // ── outcomes ─────────────────────────────────────────────────────────────────────────────────────

  private settle(t: RunTicket, outcome: RunOutcome): void {
    for (const timer of t.timers.splice(0)) clearTimeout(timer);
    if (this.runs.get(t.job.runId) === t) this.runs.delete(t.job.runId);
    t.slot?.tickets.delete(t.job.runId);
    t.resolve(outcome);
    if (t.slot) this.retireIfDrained(t.slot);
  }

  private settleDescribe(t: DescribeTicket, outcome: DescribeOutcome): void {
    for (const timer of t.timers.splice(0)) clearTimeout(timer);
    t.slot?.tickets.delete(t.id);
    t.resolve(outcome);
    if (t.slot) this.retireIfDrained(t.slot);
  }

  private settleAny(t: Ticket, error: RunError): void {
    if (t.kind === "run") this.settle(t, t.cancelled ? { status: "cancelled", error: runError("TAU_E_RUN_CANCELLED", null) } : { status: "failed", error });
    else this.settleDescribe(t, { ok: false, error });
  }

  private onMessage(slot: Slot, message: ExecutorToPool): void {
    switch (message.t) {
      case "batch":
        return; // unpacked by the slot
      case "ready":
        return; // handled by the slot
      case "event": {
        const t = slot.tickets.get(message.runId);
        if (t?.kind !== "run") return;
        try {
          t.onEvent(message.event);
        } catch (err) {
          process.stderr.write(`tau pool: onEvent for run ${message.runId} threw: ${(err as Error)?.stack ?? String(err)}\n`);
        }
        return;
      }
      case "outcome": {
        const t = slot.tickets.get(message.runId);
        if (t?.kind === "run") this.settle(t, message.outcome);
        return;
      }
      case "described": {
        const t = slot.tickets.get(message.id);
        if (t?.kind === "describe") this.settleDescribe(t, toDescribeOutcome(message.outcome));
        return;
      }
      case "wedged":
        if (this.closing) return;
        slot.drain(message.reason, DRAIN_MAX_MS);
        this.retireIfDrained(slot);
        return;
      case "closed":
        return;
    }
  }

  private retireIfDrained(slot: Slot): void {
    if (slot.draining && slot.tickets.size === 0 && slot.alive && !this.closing) slot.kill("replacing a wedged executor");
  }

  // ── executor processes ───────────────────────────────────────────────────────────────────────────

  /** An executor is gone: its work fails (or ends as its kill reason says), and it is restarted. */
  private onExit(slot: Slot, info: ExitInfo): void {
    const details = { executorId: slot.id, pid: info.pid, exitCode: info.exitCode, signal: info.signal, ...(info.reason ? { reason: info.reason } : {}) };
    const message =
      info.signal !== null
        ? `The executor process running this run died (signal ${info.signal}).`
        : `The executor process running this run exited unexpectedly (exit code ${info.exitCode ?? "unknown"}).`;
    for (const t of [...slot.tickets.values()]) {
      if (t.killedFor === "deadline") {
        const err =
          t.kind === "run"
            ? runError("TAU_E_RUN_TIMEOUT", "The run passed its wall-clock deadline and its executor did not stop it; the executor was killed.", {
                details: { ...details, wallSec: wallSecFor(t.job.policy.limits, t.job.timeoutSec) },
              })
            : runError("TAU_E_RUN_TIMEOUT", "Describing the pipeline took longer than the deploy-time limit.", { details });
        this.settleAny(t, err);
      } else if (t.kind === "run" && (t.killedFor === "cancel" || t.cancelled)) {
        this.settle(t, { status: "cancelled", error: runError("TAU_E_RUN_CANCELLED", null, { details }) });
      } else {
        this.settleAny(t, runError("TAU_E_SANDBOX_CRASHED", message, { details }));
      }
    }
    if (!this.closing) slot.scheduleRestart();
  }
}

function pick(input: { bundle: string; sourceMap: string; filename: string }): { bundle: string; sourceMap: string; filename: string } {
  return { bundle: input.bundle, sourceMap: input.sourceMap, filename: input.filename };
}

function toDescribeOutcome(raw: RawDescribeOutcome): DescribeOutcome {
  if (!raw.ok) return raw;
  if (raw.meta === undefined || raw.meta === null) {
    return { ok: false, error: runError("TAU_E_DEPLOY_NO_PIPELINE", null) };
  }
  return validateMeta(raw.meta);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
