/**
 * The API's executor port when runs go to workers (`--runs-on workers`, docs/workers.md). RunService stays
 * the brain — admission, retries, cancel, the ledger — and hands each run to `run()`, which queues one
 * pg-boss job and resolves with the outcome the worker that claimed it reports.
 *
 * - Worker → API: signals (signals.ts) read in order; a signal counts only from the worker this pool maps
 *   the run to (the one whose `claim` arrived first), so a worker that was declared lost and still talks is
 *   ignored.
 * - API → worker: `cancel` over NOTIFY on the control channel; a job no worker has claimed yet is withdrawn
 *   from pg-boss instead.
 * - Leases: every `leaseCheckMs` the pool marks workers whose heartbeat is older than their lease `lost`
 *   and fails each of their runs with TAU_E_WORKER_LOST (retryable: RunService retries it elsewhere when
 *   attempts are left).
 * - Epoch: each start is a new epoch. Before RunService takes over the previous daemon's runs, start()
 *   drops the jobs still waiting in pg-boss (the store re-queues those runs), fails the claimed ones (the
 *   store fails and retries those runs) and tells workers to stop runs of any other epoch.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { RunJob, RunOutcome, SandboxEvent } from "../../sandbox/types";
import { TauError } from "../contract";
import type { Logger } from "../log";
import type { SecretCipher } from "../secrets";
import { sealJob } from "./job";
import { Listener } from "./listener";
import { RunQueue } from "./queue";
import { expireLeases, listWorkers, pruneWorkers, type WorkerRow } from "./registry";
import { workerRunError } from "./run-error";
import { CONTROL_CHANNEL, ensureSchema, SCHEMA, SIGNAL_CHANNEL, WAKE_CHANNEL } from "./schema";
import { SignalReader, type Signal } from "./signals";

export interface RemotePoolOptions {
  /** The PostgreSQL holding pg-boss and `tau_workers` (TAU_DATABASE_URL). */
  databaseUrl: string;
  /** Seals the secrets a job carries (TAU_SECRET_KEY); null: runs with stored secrets fail. */
  cipher: SecretCipher | null;
  log: Logger;
  /** How often worker leases are checked (default 1000 ms). */
  leaseCheckMs?: number;
  /** Connections of the pool's own pg pool (default 4). */
  maxConnections?: number;
}

/** A control message to workers (NOTIFY payload, JSON). */
export type ControlMessage = { k: "cancel"; runId: string; workerId: string | null } | { k: "epoch"; epoch: string };

interface Pending {
  runId: string;
  tenantId: string;
  onEvent: (event: SandboxEvent) => void;
  onStart: ((executor: string) => void) | undefined;
  resolve: (outcome: RunOutcome) => void;
  jobId: string;
  /** Set once the job is in pg-boss. */
  queued: boolean;
  workerId: string | null;
  cancelRequested: boolean;
}

export class RemotePool {
  private readonly db: pg.Pool;
  private readonly queue: RunQueue;
  private readonly reader: SignalReader;
  private readonly listener: Listener;
  private readonly pending = new Map<string, Pending>();
  /** Workers declared lost since this daemon started: their claims and signals no longer count. */
  private readonly lost = new Set<string>();
  private epochId = "";
  private leaseTimer: NodeJS.Timeout | null = null;
  private checking = false;
  private checks = 0;
  private wakeQueued = false;

  constructor(private readonly o: RemotePoolOptions) {
    const onError = (err: unknown): void => o.log.error({ err }, "workers: database error");
    this.db = new pg.Pool({ connectionString: o.databaseUrl, max: o.maxConnections ?? 4, application_name: "taud-api" });
    this.db.on("error", onError);
    this.queue = new RunQueue(this.db, "api", onError);
    this.reader = new SignalReader(this.db, () => this.epochId, (signal) => this.onSignal(signal), onError);
    this.listener = new Listener({
      connectionString: o.databaseUrl,
      channels: [SIGNAL_CHANNEL],
      onNotify: () => this.reader.wake(),
      onReconnect: () => this.reader.wake(),
      onError,
    });
  }

  /**
   * Runs that workers claimed under an earlier epoch without that API hearing of it (their claim signals were
   * still unread when it stopped): they may have executed, so restart recovery retries them as new attempts
   * instead of re-queueing them as they were (RunService.recoverInterrupted). Set by start().
   */
  readonly claimedBeforeStart = new Set<string>();

  /** This API incarnation's epoch (set by start()). */
  get epoch(): string {
    return this.epochId;
  }

  async start(): Promise<void> {
    try {
      await ensureSchema(this.db);
      await this.queue.start();
      this.epochId = randomUUID();
      await this.db.query(
        `insert into ${SCHEMA}.api (id, epoch, started_at) values (1, $1, now()) on conflict (id) do update set epoch = excluded.epoch, started_at = excluded.started_at`,
        [this.epochId],
      );
      const reset = await this.queue.reset();
      // Signals of earlier epochs have no reader any more; their claims say which runs may have executed.
      const old = await this.db.query<{ run_id: string; kind: string }>(`delete from ${SCHEMA}.signals where epoch <> $1 returning run_id, kind`, [this.epochId]);
      for (const row of old.rows) if (row.kind === "claim") this.claimedBeforeStart.add(row.run_id);
      await this.control({ k: "epoch", epoch: this.epochId });
      if (reset.dropped + reset.failed > 0) this.o.log.warn(reset, "workers: dropped the previous daemon's waiting jobs and failed its claimed ones");
      await this.listener.start();
    } catch (err) {
      await this.close().catch(() => undefined);
      if (err instanceof TauError) throw err;
      throw new TauError("TAU_E_STORE_FAILED", `Cannot set up the worker queue in PostgreSQL: ${(err as Error).message}`, { option: "TAU_DATABASE_URL" });
    }
    this.reader.start();
    this.leaseTimer = setInterval(() => void this.checkLeases(), this.o.leaseCheckMs ?? 1_000);
  }

  /** Never rejects: every failure is a `failed` outcome with a Tau code. */
  run(job: RunJob, onEvent: (event: SandboxEvent) => void, onStart?: (executor: string) => void): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve) => {
      // The job id is chosen here so that signals can be matched to this attempt before send() returns.
      const p: Pending = { runId: job.runId, tenantId: job.tenantId, onEvent, onStart, resolve, jobId: randomUUID(), queued: false, workerId: null, cancelRequested: false };
      this.pending.set(job.runId, p);
      void this.dispatch(p, job);
    });
  }

  private async dispatch(p: Pending, job: RunJob): Promise<void> {
    try {
      await this.queue.send(sealJob(job, this.epochId, this.o.cipher), p.jobId);
      p.queued = true;
      this.wakeWorkers();
      if (p.cancelRequested) this.cancel(p.runId);
    } catch (err) {
      const error =
        err instanceof TauError
          ? workerRunError(err.code, err.message, err.details)
          : workerRunError("TAU_E_INTERNAL", "Could not queue the run for the workers.", { reason: (err as Error).message });
      this.settle(p, { status: "failed", error });
    }
  }

  /** Stops a run: withdrawn when no worker has claimed it yet, else its worker is told. */
  cancel(runId: string): boolean {
    const p = this.pending.get(runId);
    if (!p) return false;
    p.cancelRequested = true;
    if (p.workerId !== null) {
      void this.control({ k: "cancel", runId, workerId: p.workerId });
    } else if (p.queued) {
      const jobId = p.jobId;
      this.queue.withdraw(jobId).then(
        (withdrawn) => {
          // Not withdrawn: a worker claimed it meanwhile; its claim signal is on the way and onSignal cancels then.
          if (withdrawn) this.settle(p, { status: "cancelled", error: workerRunError("TAU_E_RUN_CANCELLED", "The run was cancelled before a worker claimed it.") });
        },
        (err: unknown) => this.o.log.error({ err, runId }, "workers: could not withdraw a job"),
      );
    }
    return true;
  }

  /** Shutdown: withdraws every job no worker has claimed yet (see ExecutorPoolPort.withdrawUnstarted). */
  async withdrawUnstarted(onWithdrawn: (runId: string) => void): Promise<void> {
    const waiting = [...this.pending.values()].filter((p) => p.queued && p.workerId === null);
    let withdrawn: Set<string>;
    try {
      withdrawn = await this.queue.withdrawMany(waiting.map((p) => p.jobId));
    } catch (err) {
      this.o.log.error({ err }, "workers: could not withdraw the waiting jobs at shutdown");
      return;
    }
    for (const p of waiting) {
      if (!withdrawn.has(p.jobId)) continue;
      onWithdrawn(p.runId);
      this.settle(p, { status: "cancelled", error: workerRunError("TAU_E_RUN_CANCELLED", "Withdrawn from the queue at shutdown; still queued.") });
    }
  }

  /**
   * The registry as stored, and how many runs each worker holds as this daemon maps them (fresher than the
   * count in the last heartbeat): every tenant's runs (`tenantId` null) or one tenant's.
   */
  async workers(tenantId: string | null): Promise<{ rows: WorkerRow[]; running: Map<string, number> }> {
    const rows = await listWorkers(this.db);
    const running = new Map<string, number>();
    for (const p of this.pending.values()) {
      if (p.workerId !== null && (tenantId === null || p.tenantId === tenantId)) running.set(p.workerId, (running.get(p.workerId) ?? 0) + 1);
    }
    return { rows, running };
  }

  async close(): Promise<void> {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = null;
    await this.reader.close();
    await this.listener.close();
    for (const p of [...this.pending.values()]) {
      this.settle(p, { status: "failed", error: workerRunError("TAU_E_RUN_INTERRUPTED", "The API daemon stopped while the run was on a worker.") });
    }
    await this.queue.stop().catch(() => undefined);
    await this.db.end().catch(() => undefined);
  }

  private onSignal(signal: Signal): void {
    const p = this.pending.get(signal.runId);
    if (!p || p.jobId !== signal.jobId) return;
    if (signal.kind === "claim") {
      if (p.workerId !== null) return;
      if (this.lost.has(signal.workerId)) {
        this.settle(p, { status: "failed", error: lostError(signal.workerId) });
        void this.queue.fail([p.jobId], "worker lost").catch(() => undefined);
        return;
      }
      p.workerId = signal.workerId;
      p.onStart?.(`worker:${signal.workerId}`);
      if (p.cancelRequested) void this.control({ k: "cancel", runId: p.runId, workerId: p.workerId });
      return;
    }
    if (p.workerId !== signal.workerId) return;
    if (signal.kind === "event") p.onEvent(signal.body);
    else this.settle(p, signal.body);
  }

  private settle(p: Pending, outcome: RunOutcome): void {
    if (this.pending.get(p.runId) !== p) return;
    this.pending.delete(p.runId);
    p.resolve(outcome);
  }

  private async checkLeases(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const ids = await expireLeases(this.db);
      if (++this.checks % 60 === 0) {
        // Signals a worker wrote for an earlier epoch after this API started have no reader.
        await this.db.query(`delete from ${SCHEMA}.signals where epoch <> $1`, [this.epochId]);
        await pruneWorkers(this.db);
      }
      for (const id of ids) {
        this.lost.add(id);
        const jobIds: string[] = [];
        let runs = 0;
        for (const p of [...this.pending.values()]) {
          if (p.workerId !== id) continue;
          runs++;
          jobIds.push(p.jobId);
          this.settle(p, { status: "failed", error: lostError(id) });
        }
        this.o.log.warn({ worker: id, runs }, "workers: a worker missed its lease and was declared lost; its runs failed as TAU_E_WORKER_LOST");
        await this.queue.fail(jobIds, "worker lost");
      }
    } catch (err) {
      this.o.log.error({ err }, "workers: lease check failed");
    } finally {
      this.checking = false;
    }
  }

  /** One NOTIFY per tick however many runs were queued in it: idle workers then fetch. */
  private wakeWorkers(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.db.query("select pg_notify($1, '')", [WAKE_CHANNEL]).catch((err: unknown) => this.o.log.error({ err }, "workers: could not wake workers"));
    });
  }

  private async control(message: ControlMessage): Promise<void> {
    try {
      await this.db.query("select pg_notify($1, $2)", [CONTROL_CHANNEL, JSON.stringify(message)]);
    } catch (err) {
      this.o.log.error({ err }, "workers: could not notify workers");
    }
  }
}

function lostError(workerId: string): ReturnType<typeof workerRunError> {
  return workerRunError("TAU_E_WORKER_LOST", undefined, { worker: workerId });
}
