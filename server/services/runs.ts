/**
 * Runs: the in-process queue (run-queue.ts: per-pipeline FIFOs under a daemon-wide, a per-tenant and a
 * per-pipeline limit) feeding the executor pool; retries (retry-policy.ts); cancel.
 *
 * Life of a run: `run.queued` (stored before the request is answered) → `run.started` → the sandbox's step
 * and log events → `run.finished`. Every change goes through the run ledger, which stores it, then
 * publishes it; waiters are woken only after `run.finished` is stored, so whoever reads the run then sees
 * it finished. A failed attempt that is retried ends together with the queuing of its retry — a new run
 * with the next `attempt`, `retryOf` pointing back, `notBefore` its backoff — which waits outside the queue
 * (holding no slot) until then.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TauError, TERMINAL_RUN_STATUSES, type RunTrigger, type RunView } from "../contract";
import type { Policy } from "../../policies";
import { RUN_CONTROL_DEFAULTS, withRunControlDefaults } from "../../sandbox";
import type { PipelineMeta, RunJobSecrets, SandboxEvent } from "../../sandbox/types";
import type { IdGenerator } from "../ids";
import type { Logger } from "../log";
import type { ExecutorPoolPort } from "../sandbox-port";
import { daemonRunError, iso, type RunEnd, type RunRef, type Store } from "../store";
import { runView } from "../views";
import { backoffMs, isRetryable } from "./retry-policy";
import { PendingRetries } from "./pending-retries";
import { cancelled, errorText, interrupted, newRun, recoveredRun, retryCopy, runJobOf, toRunEnd, type QueuedRun } from "./run-records";
import { VersionCache } from "./version-cache";
import { RunQueue } from "./run-queue";
import { RunWaiters } from "./run-waiters";
import { StepRecorder } from "./step-recorder";

export interface RunServiceOptions {
  store: Store;
  pool: Pick<ExecutorPoolPort, "run" | "cancel" | "withdrawUnstarted">;
  log: Logger;
  ids: IdGenerator;
  /** The policy runs get: one for all, or each tenant's (services/policies.ts). */
  policy: Policy | ((tenantId: string) => Policy);
  /** The secrets a run may read beyond the executor's environment (services/secrets.ts); absent: environment only. */
  secrets?: (tenantId: string, policy: Policy) => Promise<RunJobSecrets>;
  /** The daemon's home; a tenant's data folder is `<home>/data/<tenant>`. */
  home: string;
  /** Runs executing at once, daemon-wide. */
  concurrency: number;
  /** Runs of one tenant executing at once (default: `concurrency`). */
  tenantConcurrency?: number;
  /** Source of the backoff's jitter, in [0, 1) (default Math.random). */
  random?: () => number;
  /** Runs waiting beyond that; more are refused with TAU_E_RUN_QUEUE_FULL. */
  maxQueued: number;
  /** Recorded on each run as who ran it. */
  executorName: string;
  /**
   * When `run.started` is recorded: "dispatch" (default) as the run is handed to the pool, under
   * `executorName`; "claim" when the pool reports which executor took it (pool.run's `onStart`: workers,
   * server/workers), under that executor's name — until then the run stays queued.
   */
  startOn?: "dispatch" | "claim";
  /** Log lines included in a RunView (the newest ones). */
  runViewLogLines: number;
}

/** What recoverInterrupted did with the runs a previous daemon left unfinished. */
export interface RecoveryCounts {
  /** Queued runs put back into the queue. */
  requeued: number;
  /** Pending retries re-armed for their notBefore. */
  rearmed: number;
  /** Runs left running, failed as interrupted and retried. */
  retried: number;
  /** Runs failed as interrupted without a retry (no attempts left, or part of a graph run). */
  failed: number;
}

export interface EnqueueRequest {
  params: Record<string, unknown>;
  trigger: RunTrigger;
  /** The graph run (`tau dag run`) this run belongs to; its retries belong to it too. */
  graphRunId?: string | null;
}


interface ActiveRun extends QueuedRun {
  steps: StepRecorder;
  /** Set when shutdown cancelled the run: a `cancelled` outcome is then recorded as interrupted. */
  interrupted: boolean;
  /** Set once `run.finished` was submitted; later sandbox events are dropped. */
  ended: boolean;
  /** `tau cancel` asked for this run: it is not started if it has not been yet, and never retried. */
  cancelRequested: boolean;
  /** With `startOn: "claim"`, false until an executor has taken the run: until then it counts as queued. */
  claimed: boolean;
  done: Promise<void>;
}

const VERSION_CACHE_SIZE = 64;
/** After the grace period, how long cancelled runs get to report back before they are failed directly. */
const CANCEL_GRACE_MS = 5_000;
/** How long a cancel request waits for a running run to report that it stopped before answering. */
const CANCEL_WAIT_MS = 10_000;

export class RunService {
  private readonly queue: RunQueue<QueuedRun>;
  private readonly retries = new PendingRetries<QueuedRun>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new RunWaiters();
  private readonly versions: VersionCache;
  private accepting = true;

  constructor(private readonly options: RunServiceOptions) {
    this.versions = new VersionCache(options.store, VERSION_CACHE_SIZE);
    const { policy } = options;
    this.queue = new RunQueue({
      concurrency: options.concurrency,
      tenantConcurrency: options.tenantConcurrency ?? options.concurrency,
      tenantLimit: (tenantId) => (typeof policy === "function" ? policy(tenantId) : policy).limits.concurrentRuns,
    });
  }

  /**
   * Takes over the runs a previous daemon left unfinished, oldest first. Runs of a graph run are failed as
   * TAU_E_RUN_INTERRUPTED (the graph run was failed at start: nothing is left to run their dependents). A
   * run left running is failed as interrupted (its isolate is gone) and retried like any retryable failure
   * when it has attempts left. A queued run goes back into the queue as it was (same id, version, params,
   * attempt), in its original order and under every limit; a pending retry is re-armed for its notBefore.
   *
   * `startedElsewhere`: runs still queued in the store that an executor outside this process had already
   * taken (a worker claimed them while no daemon was listening: server/workers); they are treated like runs
   * left running, so that a run that may have executed is retried as a new attempt, never run again as if new.
   */
  async recoverInterrupted(startedElsewhere: ReadonlySet<string> = new Set()): Promise<RecoveryCounts> {
    const counts: RecoveryCounts = { requeued: 0, rearmed: 0, retried: 0, failed: 0 };
    const rows = (await this.options.store.runs.unfinished()).sort((a, b) => a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const now = Date.now();
    const ready: QueuedRun[] = [];
    for (const row of rows) {
      const run = recoveredRun(row);
      if (run.graphRunId !== null) {
        await this.end(run.ref, interrupted(row.status === "queued" ? "before it started; its graph run was failed" : "while it was running"), now);
        counts.failed++;
      } else if (row.status === "running" || startedElsewhere.has(run.runId)) {
        const end = interrupted("while it was running");
        const version = await this.versions.get(run.pipelineId, run.version);
        const retry = this.nextAttempt(run, end, version?.meta ?? null);
        if (retry) {
          await this.endAndRetry(run, end, retry.run, retry.notBefore);
          counts.retried++;
        } else {
          await this.end(run.ref, end, now);
          counts.failed++;
        }
      } else if (row.notBefore !== null) {
        this.retries.hold(run);
        this.armRetry(run.runId, row.notBefore);
        counts.rearmed++;
      } else {
        ready.push(run);
        counts.requeued++;
      }
    }
    for (const run of ready) this.queue.push(run);
    this.pump();
    return counts;
  }

  /** Queues a run of the pipeline's current version; resolves once `run.queued` is stored. */
  async enqueue(tenantId: string, pipelineName: string, request: EnqueueRequest): Promise<RunView> {
    const { store, ids, maxQueued } = this.options;
    this.assertAccepting();
    const pipeline = await store.pipelines.head(tenantId, pipelineName);
    if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${pipelineName}'.`, { name: pipelineName });
    const queued = this.counts().queued;
    if (queued >= maxQueued) throw new TauError("TAU_E_RUN_QUEUE_FULL", undefined, { queued, maxQueued });
    const queuedAt = Date.now();
    const runId = ids.runId();
    const run: QueuedRun = {
      ref: { tenantId, runId, pipeline: pipeline.name },
      runId,
      tenantId,
      pipelineId: pipeline.id,
      maxConcurrentRuns: pipeline.maxConcurrentRuns ?? RUN_CONTROL_DEFAULTS.maxConcurrentRuns,
      version: pipeline.currentVersion,
      params: request.params,
      trigger: request.trigger,
      attempt: 1,
      maxAttempts: 1 + (pipeline.retries ?? RUN_CONTROL_DEFAULTS.retries),
      graphRunId: request.graphRunId ?? null,
    };
    await store.ledger.queued(newRun(run, queuedAt, null));
    this.queue.push(run);
    this.pump();
    return {
      id: run.ref.runId,
      pipeline: pipeline.name,
      version: run.version,
      status: "queued",
      trigger: request.trigger,
      params: run.params,
      attempt: run.attempt,
      maxAttempts: run.maxAttempts,
      retryOf: null,
      retriedBy: null,
      notBefore: null,
      graphRunId: run.graphRunId,
      queuedAt: iso(queuedAt),
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      steps: [],
      result: null,
      error: null,
      logs: [],
    };
  }

  /** The run as stored, with its steps and newest log lines; null when there is no such run. */
  async view(tenantId: string, runId: string): Promise<RunView | null> {
    const { store, runViewLogLines } = this.options;
    const run = await store.runs.record(tenantId, runId);
    if (!run) return null;
    const [steps, logs] = await Promise.all([store.runs.steps(runId), store.events.logs(tenantId, runId, runViewLogLines)]);
    return runView(run, steps, logs);
  }

  /**
   * Waits through a run's retries: resolves with the id of the newest attempt once that attempt has
   * finished and no retry follows it, after `timeoutMs` (with the attempt current then), or when `signal`
   * aborts — whichever comes first. Never rejects. Read the answer with `view(tenantId, id)`.
   */
  async waitFor(tenantId: string, runId: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let id = runId;
    for (;;) {
      await this.waitForAttempt(tenantId, id, Math.max(0, deadline - Date.now()), signal);
      const next = await this.options.store.runs.retriedBy(tenantId, id);
      if (next === null) return id;
      id = next;
      if (Date.now() >= deadline || signal?.aborted) return id;
    }
  }

  /**
   * Cancels a run: a queued run (or a pending retry) is recorded `cancelled` at once; a running one is
   * stopped (the executor disposes its isolate) and the answer waits for it to be recorded. Given an
   * attempt that already failed and is being retried, the pending retry is cancelled instead. Answers
   * with the run as it stands then; TAU_E_RUN_ALREADY_FINISHED when there is nothing left to cancel.
   */
  async cancel(tenantId: string, runId: string): Promise<RunView> {
    const { store, pool } = this.options;
    if ((await store.runs.status(tenantId, runId)) === null) throw new TauError("TAU_E_RUN_NOT_FOUND", `No run with id '${runId}'.`, { id: runId });
    // A run being queued right now is stored a moment before it enters the queue: look again briefly.
    for (let i = 0; i < 50; i++) {
      const id = await store.runs.newestAttempt(tenantId, runId);
      const pending = this.retries.take(id);
      if (pending) {
        await this.end(pending.ref, cancelled("The pending retry was cancelled before it started."), Date.now());
        return (await this.view(tenantId, id))!;
      }
      const queued = this.queue.remove(id);
      if (queued) {
        await this.end(queued.ref, cancelled("The run was cancelled before it started."), Date.now());
        return (await this.view(tenantId, id))!;
      }
      const active = this.active.get(id);
      if (active && !active.ended) {
        active.cancelRequested = true;
        pool.cancel(id);
        await this.waitForAttempt(tenantId, id, CANCEL_WAIT_MS);
        return (await this.view(tenantId, id))!;
      }
      if (active) {
        // Its end (and perhaps a retry) is being stored: look again once it is.
        await active.done;
        continue;
      }
      const status = (await store.runs.status(tenantId, id))!;
      if (TERMINAL_RUN_STATUSES.includes(status)) {
        throw new TauError("TAU_E_RUN_ALREADY_FINISHED", `Run ${id} has already finished (${status}); there is nothing to cancel.`, { id, status });
      }
      await sleep(10);
    }
    throw new TauError("TAU_E_STORE_CONFLICT", `Run ${runId} is unfinished in the store but this daemon does not hold it; it may be changing state.`, { id: runId });
  }

  /** Resolves when this one attempt has finished, after `timeoutMs`, or when `signal` aborts. */
  private waitForAttempt(tenantId: string, runId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const isDone = async (): Promise<boolean> => {
      const status = await this.options.store.runs.status(tenantId, runId);
      return status === null || TERMINAL_RUN_STATUSES.includes(status);
    };
    return this.waiters.wait(runId, isDone, timeoutMs, signal);
  }

  /**
   * Queued (retries waiting out their backoff, and runs handed to workers that none has claimed yet,
   * included) and running runs: daemon-wide, or one tenant's.
   */
  counts(tenantId?: string): { queued: number; running: number } {
    let running = 0;
    let handedOver = 0;
    for (const run of this.active.values()) {
      if (tenantId !== undefined && run.ref.tenantId !== tenantId) continue;
      if (run.claimed) running++;
      else handedOver++;
    }
    if (tenantId === undefined) return { queued: this.queue.queued + this.retries.size + handedOver, running };
    return { queued: this.queue.countsFor(tenantId).queued + this.retries.count((r) => r.tenantId === tenantId) + handedOver, running };
  }

  /**
   * Graceful stop: refuse new runs, leave the queued ones (and pending retries) queued for the next daemon
   * (those of a graph run are failed as interrupted), give running ones `graceMs` to finish, then cancel
   * them and record them as interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    const { store, pool } = this.options;
    this.accepting = false;
    const now = Date.now();
    const queued = [...this.queue.drain(), ...this.retries.drain()];
    // Queued runs and pending retries stay queued in the store: the next daemon takes them over
    // (recoverInterrupted). A graph run's runs cannot outlive their coordinator: they are failed.
    await Promise.all(queued.filter((run) => run.graphRunId !== null).map((run) => this.end(run.ref, interrupted("before it started"), now)));
    for (const run of queued) if (run.graphRunId === null) this.waiters.wake(run.runId);
    // Runs handed to the pool that no executor has started (workers: still waiting in the queue) are
    // queued runs too: left queued in the store (a graph run's are interrupted, as above).
    await pool.withdrawUnstarted?.((runId) => {
      const run = this.active.get(runId);
      if (!run || run.ended) return;
      if (run.graphRunId !== null) {
        run.interrupted = true;
        return;
      }
      run.ended = true;
      this.waiters.wake(runId);
    });
    if (!(await this.allDone(graceMs))) {
      for (const run of this.active.values()) {
        run.interrupted = true;
        pool.cancel(run.ref.runId);
      }
      if (!(await this.allDone(CANCEL_GRACE_MS))) {
        // The pool did not answer: record the runs as interrupted ourselves.
        await Promise.all(
          [...this.active.values()].map((run) => {
            run.ended = true;
            return this.end(run.ref, interrupted("while it was running"), Date.now());
          }),
        );
      }
    }
    await store.ledger.flush();
  }

  private assertAccepting(): void {
    if (!this.accepting) throw new TauError("TAU_E_DAEMON_SHUTTING_DOWN");
  }

  /** Starts queued runs while slots are free; the slot is released when the run's end is stored. */
  private pump(): void {
    while (this.accepting) {
      const next = this.queue.next();
      if (next === null) return;
      let resolveDone!: () => void;
      const run: ActiveRun = {
        ...next,
        steps: new StepRecorder(next.ref, this.options.store.ledger, (write) => this.submit(write)),
        interrupted: false,
        ended: false,
        cancelRequested: false,
        claimed: this.options.startOn !== "claim",
        done: new Promise<void>((resolve) => (resolveDone = resolve)),
      };
      this.active.set(run.ref.runId, run);
      void this.execute(run).finally(() => {
        this.active.delete(run.ref.runId);
        this.queue.release(run.ref.runId);
        resolveDone();
        this.pump();
      });
    }
  }

  private async execute(run: ActiveRun): Promise<void> {
    const { store, pool, home, executorName, log } = this.options;
    const policy = typeof this.options.policy === "function" ? this.options.policy(run.ref.tenantId) : this.options.policy;
    let end: RunEnd;
    let meta: PipelineMeta | null = null;
    try {
      if (this.options.startOn !== "claim") this.submit(store.ledger.started(run.ref, Date.now(), executorName));
      const lastSuccess = await store.runs.lastSucceededAt(run.pipelineId);
      const version = await this.versions.get(run.pipelineId, run.version);
      // Resolved before the cancel check below, so a cancel that arrives meanwhile is not missed.
      const secrets = version && this.options.secrets ? await this.options.secrets(run.ref.tenantId, policy) : undefined;
      if (!version) {
        end = { status: "failed", error: daemonRunError("TAU_E_VERSION_NOT_FOUND", undefined, { version: run.version }) };
      } else if (run.cancelRequested) {
        end = cancelled("The run was cancelled as it started.");
      } else {
        meta = version.meta;
        const job = runJobOf(run, version, { policy, lastSuccess, dataDir: join(home, "data", run.ref.tenantId), secrets });
        // pool.run registers the run synchronously: a cancel from here on reaches it through pool.cancel.
        const onStart =
          this.options.startOn === "claim"
            ? (executor: string): void => {
                run.claimed = true;
                if (!run.ended) this.submit(store.ledger.started(run.ref, Date.now(), executor));
              }
            : undefined;
        end = toRunEnd(await pool.run(job, (event) => this.onSandboxEvent(run, event), onStart), run.interrupted);
      }
    } catch (err) {
      log.error({ err, runId: run.ref.runId }, "run failed inside the daemon");
      end = { status: "failed", error: daemonRunError("TAU_E_INTERNAL", undefined, { reason: errorText(err) }) };
    }
    if (run.ended) return;
    run.ended = true;
    const retry = this.retryOf(run, end, meta);
    if (retry) await this.endAndRetry(run, end, retry.run, retry.notBefore);
    else await this.end(run.ref, end, Date.now());
  }

  /** The next attempt of a failed run, when it gets one (retry-policy.ts), with the time it may start. */
  private retryOf(run: ActiveRun, end: RunEnd, meta: PipelineMeta | null): { run: QueuedRun; notBefore: number } | null {
    if (run.interrupted || run.cancelRequested) return null;
    return this.nextAttempt(run, end, meta);
  }

  /** The next attempt of a failed run if its error is retryable and it has attempts left (retry-policy.ts). */
  private nextAttempt(run: QueuedRun, end: RunEnd, meta: PipelineMeta | null): { run: QueuedRun; notBefore: number } | null {
    if (end.status !== "failed" || !this.accepting) return null;
    if (run.attempt >= run.maxAttempts) return null;
    const settings = meta ? withRunControlDefaults(meta) : RUN_CONTROL_DEFAULTS;
    if (!isRetryable(end.error, settings)) return null;
    const runId = this.options.ids.runId();
    const delay = backoffMs(run.attempt, settings.retryDelaySec, this.options.random ?? Math.random);
    return {
      run: { ...retryCopy(run), ref: { ...run.ref, runId }, runId, attempt: run.attempt + 1 },
      notBefore: Date.now() + delay,
    };
  }

  /**
   * Records the failed attempt and its retry together, wakes the attempt's waiters (they follow
   * `retriedBy`), then holds the retry outside the queue until its `notBefore`. The retry is known to
   * cancel() before its row is written, so there is no moment in which it could not be cancelled.
   */
  private async endAndRetry(run: QueuedRun, end: RunEnd, retry: QueuedRun, notBefore: number): Promise<void> {
    this.retries.hold(retry);
    const at = Date.now();
    try {
      await this.options.store.ledger.finishedAndRetried(run.ref, end, at, { ...newRun(retry, at, notBefore), retryOf: run.ref.runId });
    } catch (err) {
      this.options.log.error({ err, runId: run.ref.runId }, "could not store the end of a run and its retry");
      this.retries.take(retry.runId);
    }
    this.waiters.wake(run.ref.runId);
    // False when it was cancelled (or shut down) while its row was written.
    this.armRetry(retry.runId, notBefore);
  }

  /** At `notBefore`, moves a held retry into the queue (unless it was taken out meanwhile). */
  private armRetry(runId: string, notBefore: number): boolean {
    return this.retries.arm(runId, notBefore, (due) => {
      this.queue.push(due);
      this.pump();
    });
  }

  private onSandboxEvent(run: ActiveRun, event: SandboxEvent): void {
    if (!run.ended) run.steps.record(event);
  }

  /** Stores the run's end, then wakes whoever waits for it. */
  private async end(ref: RunRef, end: RunEnd, at: number): Promise<void> {
    try {
      await this.options.store.ledger.finished(ref, end, at);
    } catch (err) {
      this.options.log.error({ err, runId: ref.runId }, "could not store the end of a run");
    }
    this.waiters.wake(ref.runId);
  }

  /** Intermediate writes are not awaited (the ledger keeps their order); a failure is logged. */
  private submit(write: Promise<unknown>): void {
    write.catch((err: unknown) => this.options.log.error({ err }, "could not store a run event"));
  }

  private async allDone(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = Promise.all([...this.active.values()].map((run) => run.done)).then(() => true as const);
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
