/**
 * Runs: an in-process FIFO queue with a daemon-wide concurrency limit, feeding the executor pool.
 *
 * Life of a run: `run.queued` (stored before the request is answered) → `run.started` → the sandbox's step
 * and log events → `run.finished`. Every change goes through the run ledger, which stores it, then
 * publishes it; waiters are woken only after `run.finished` is stored, so whoever reads the run then sees
 * it finished.
 */
import { join } from "node:path";
import { TauError, TERMINAL_RUN_STATUSES, type RunTrigger, type RunView } from "../contract";
import type { Policy } from "../../policies";
import type { RunJob, RunOutcome, SandboxEvent } from "../../sandbox/types";
import type { IdGenerator } from "../ids";
import type { Logger } from "../log";
import type { ExecutorPoolPort } from "../sandbox-port";
import { daemonRunError, iso, type RunEnd, type RunnableVersion, type RunRef, type Store } from "../store";
import { runView } from "../views";

export interface RunServiceOptions {
  store: Store;
  pool: Pick<ExecutorPoolPort, "run" | "cancel">;
  log: Logger;
  ids: IdGenerator;
  policy: Policy;
  /** The daemon's home; a tenant's data folder is `<home>/data/<tenant>`. */
  home: string;
  /** Runs executing at once, daemon-wide. */
  concurrency: number;
  /** Runs waiting beyond that; more are refused with TAU_E_RUN_QUEUE_FULL. */
  maxQueued: number;
  /** Recorded on each run as who ran it. */
  executorName: string;
  /** Log lines included in a RunView (the newest ones). */
  runViewLogLines: number;
}

export interface EnqueueRequest {
  params: Record<string, unknown>;
  trigger: RunTrigger;
}

interface QueuedRun {
  ref: RunRef;
  pipelineId: number;
  version: number;
  params: Record<string, unknown>;
}

interface ActiveRun extends QueuedRun {
  nextPosition: number;
  /** Positions of started, unfinished steps by name (a stack: names may repeat or nest). */
  openSteps: Map<string, number[]>;
  /** Set when shutdown cancelled the run: a `cancelled` outcome is then recorded as interrupted. */
  interrupted: boolean;
  /** Set once `run.finished` was submitted; later sandbox events are dropped. */
  ended: boolean;
  done: Promise<void>;
}

const VERSION_CACHE_SIZE = 64;
/** After the grace period, how long cancelled runs get to report back before they are failed directly. */
const CANCEL_GRACE_MS = 5_000;

export class RunService {
  private readonly queue: QueuedRun[] = [];
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Versions are immutable, so their bundles can be cached without invalidation. */
  private readonly versions = new Map<string, RunnableVersion>();
  private accepting = true;

  constructor(private readonly options: RunServiceOptions) {}

  /** Fails the runs a previous daemon left queued or running (TAU_E_RUN_INTERRUPTED). */
  async recoverInterrupted(): Promise<number> {
    const { store } = this.options;
    const runs = await store.runs.unfinished();
    const now = Date.now();
    await Promise.all(
      runs.map((run) =>
        store.ledger.finished(
          { tenantId: run.tenantId, runId: run.id, pipeline: run.pipeline.name },
          interrupted(run.status === "queued" ? "before it started" : "while it was running"),
          now,
        ),
      ),
    );
    return runs.length;
  }

  /** Queues a run of the pipeline's current version; resolves once `run.queued` is stored. */
  async enqueue(tenantId: string, pipelineName: string, request: EnqueueRequest): Promise<RunView> {
    const { store, ids, maxQueued } = this.options;
    this.assertAccepting();
    const pipeline = store.pipelines.head(tenantId, pipelineName);
    if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${pipelineName}'.`, { name: pipelineName });
    if (this.queue.length >= maxQueued) {
      throw new TauError("TAU_E_RUN_QUEUE_FULL", undefined, { queued: this.queue.length, maxQueued });
    }
    const queuedAt = Date.now();
    const run: QueuedRun = {
      ref: { tenantId, runId: ids.runId(), pipeline: pipeline.name },
      pipelineId: pipeline.id,
      version: pipeline.currentVersion,
      params: request.params,
    };
    await store.ledger.queued({ ...run.ref, pipelineId: run.pipelineId, version: run.version, trigger: request.trigger, params: run.params, queuedAt });
    this.queue.push(run);
    this.pump();
    return {
      id: run.ref.runId,
      pipeline: pipeline.name,
      version: run.version,
      status: "queued",
      trigger: request.trigger,
      params: run.params,
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
  view(tenantId: string, runId: string): RunView | null {
    const { store, runViewLogLines } = this.options;
    const run = store.runs.record(tenantId, runId);
    return run && runView(run, store.runs.steps(runId), store.events.logs(tenantId, runId, runViewLogLines));
  }

  /**
   * Resolves when the run has finished (its `run.finished` is stored), after `timeoutMs`, or when `signal`
   * aborts — whichever comes first. Never rejects.
   */
  async waitFor(tenantId: string, runId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    // Register first, then look: a run finishing in between still wakes us.
    let set = this.waiters.get(runId);
    if (!set) this.waiters.set(runId, (set = new Set()));
    set.add(wake);
    const timer = setTimeout(wake, timeoutMs);
    const onAbort = (): void => wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const status = this.options.store.runs.status(tenantId, runId);
      if (status === null || TERMINAL_RUN_STATUSES.includes(status)) return;
      await woken;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(runId) === set) this.waiters.delete(runId);
    }
  }

  counts(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.active.size };
  }

  /**
   * Graceful stop: refuse new runs, fail the queued ones as interrupted, give running ones `graceMs` to
   * finish, then cancel them and record them as interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    const { store, pool } = this.options;
    this.accepting = false;
    const now = Date.now();
    const queued = this.queue.splice(0);
    await Promise.all(queued.map((run) => this.end(run.ref, interrupted("before it started"), now)));
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

  private pump(): void {
    while (this.accepting && this.active.size < this.options.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      let resolveDone!: () => void;
      const run: ActiveRun = {
        ...next,
        nextPosition: 0,
        openSteps: new Map(),
        interrupted: false,
        ended: false,
        done: new Promise<void>((resolve) => (resolveDone = resolve)),
      };
      this.active.set(run.ref.runId, run);
      void this.execute(run).finally(() => {
        this.active.delete(run.ref.runId);
        resolveDone();
        this.pump();
      });
    }
  }

  private async execute(run: ActiveRun): Promise<void> {
    const { store, pool, policy, home, executorName, log } = this.options;
    let end: RunEnd;
    try {
      this.submit(store.ledger.started(run.ref, Date.now(), executorName));
      const lastSuccess = store.runs.lastSucceededAt(run.pipelineId);
      const version = await this.runnable(run);
      if (!version) {
        end = { status: "failed", error: daemonRunError("TAU_E_VERSION_NOT_FOUND", undefined, { version: run.version }) };
      } else {
        const job: RunJob = {
          runId: run.ref.runId,
          tenantId: run.ref.tenantId,
          pipeline: run.ref.pipeline,
          version: run.version,
          filename: version.filename,
          bundle: version.bundle,
          sourceMap: version.sourceMap,
          params: run.params,
          lastSuccessfulRun: lastSuccess === null ? null : iso(lastSuccess),
          timeoutSec: version.meta.timeoutSec,
          policy,
          dataDir: join(home, "data", run.ref.tenantId),
        };
        end = toRunEnd(await pool.run(job, (event) => this.onSandboxEvent(run, event)), run.interrupted);
      }
    } catch (err) {
      log.error({ err, runId: run.ref.runId }, "run failed inside the daemon");
      end = { status: "failed", error: daemonRunError("TAU_E_INTERNAL", undefined, { reason: errorText(err) }) };
    }
    if (run.ended) return;
    run.ended = true;
    await this.end(run.ref, end, Date.now());
  }

  private onSandboxEvent(run: ActiveRun, event: SandboxEvent): void {
    if (run.ended) return;
    const { ledger } = this.options.store;
    switch (event.kind) {
      case "step.started": {
        const position = run.nextPosition++;
        const stack = run.openSteps.get(event.step) ?? [];
        stack.push(position);
        run.openSteps.set(event.step, stack);
        this.submit(ledger.stepStarted(run.ref, position, event));
        return;
      }
      case "step.finished": {
        let position = run.openSteps.get(event.step)?.pop();
        if (position === undefined) {
          // A finish without a start: record the step anyway, started `durationMs` earlier.
          position = run.nextPosition++;
          const startedAt = new Date(Date.parse(event.ts) - event.durationMs).toISOString();
          this.submit(ledger.stepStarted(run.ref, position, { kind: "step.started", ts: startedAt, step: event.step }));
        }
        this.submit(ledger.stepFinished(run.ref, position, event));
        return;
      }
      case "log":
        this.submit(ledger.log(run.ref, event));
        return;
    }
  }

  /** Stores the run's end, then wakes whoever waits for it. */
  private async end(ref: RunRef, end: RunEnd, at: number): Promise<void> {
    try {
      await this.options.store.ledger.finished(ref, end, at);
    } catch (err) {
      this.options.log.error({ err, runId: ref.runId }, "could not store the end of a run");
    }
    for (const wake of this.waiters.get(ref.runId) ?? []) wake();
  }

  private async runnable(run: QueuedRun): Promise<RunnableVersion | null> {
    const key = `${run.pipelineId}:${run.version}`;
    const cached = this.versions.get(key);
    if (cached) {
      // Map order is insertion order: re-inserting keeps the most recently used last.
      this.versions.delete(key);
      this.versions.set(key, cached);
      return cached;
    }
    const version = await this.options.store.pipelines.runnable(run.pipelineId, run.version);
    if (version) {
      this.versions.set(key, version);
      if (this.versions.size > VERSION_CACHE_SIZE) this.versions.delete(this.versions.keys().next().value!);
    }
    return version;
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

function toRunEnd(outcome: RunOutcome, interruptedByShutdown: boolean): RunEnd {
  if (outcome.status === "cancelled" && interruptedByShutdown) return interrupted("while it was running");
  return outcome;
}

function interrupted(when: string): RunEnd {
  return { status: "failed", error: daemonRunError("TAU_E_RUN_INTERRUPTED", `The daemon stopped ${when}.`) };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
