/**
 * `taud worker`: claims runs from the pg-boss queue and runs them on its own ExecutorPool (the same class
 * the API uses locally), streaming the sandbox's events and each run's outcome back as signals.
 *
 * - Pull, never push: an idle worker fetches as many jobs as it has free slots, when the API NOTIFYs that it
 *   queued some, when one of its runs ends, and every `pollMs` as a fallback — so load goes to whoever has
 *   room.
 * - Lease: a heartbeat every lease/3. A worker that finds itself declared lost (a long pause, a cut-off
 *   connection) stops its runs without reporting them — the API has already failed them — and registers
 *   again under a new id.
 * - Epoch: a job queued by another API incarnation is dropped; runs of an older epoch are stopped.
 * - drain() (SIGTERM): stop fetching, let the runs finish, report them, deregister. abort() (a second
 *   signal): report every run in flight as TAU_E_WORKER_LOST (the API retries it) and stop.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { RunJob, RunOutcome } from "../../sandbox/types";
import { TauError } from "../contract";
import type { Logger } from "../log";
import type { ExecutorPoolPort } from "../sandbox-port";
import type { SecretCipher } from "../secrets";
import { openJob, type QueuedJob } from "./job";
import { Listener } from "./listener";
import { RunQueue } from "./queue";
import { heartbeat, registerWorker, setWorkerState } from "./registry";
import type { ControlMessage } from "./remote-pool";
import { workerRunError } from "./run-error";
import { CONTROL_CHANNEL, ensureSchema, inTransaction, SCHEMA, WAKE_CHANNEL } from "./schema";
import { insertSignals, SignalWriter, type Signal } from "./signals";

export interface WorkerOptions {
  databaseUrl: string;
  /** The worker's home: a tenant's data folder is `<home>/data/<tenant>` on this machine. */
  home: string;
  /** Executor processes of the local pool (reported in the registry). */
  executors: number;
  /** Runs at once. */
  capacity: number;
  /** Seconds without a heartbeat after which the API declares this worker lost. */
  leaseSec: number;
  /** Opens the secrets sealed into jobs (TAU_SECRET_KEY, the API's). */
  cipher: SecretCipher | null;
  /** The local executor pool; started and closed by the worker. */
  pool: Pick<ExecutorPoolPort, "start" | "run" | "cancel" | "close">;
  log: Logger;
  /** Fallback poll when no NOTIFY arrives (default 1000 ms). */
  pollMs?: number;
}

interface LocalRun {
  runId: string;
  jobId: string;
  epoch: string;
  /** The worker id the run was claimed under: signals carry it. */
  workerId: string;
  /** The API no longer expects this run (worker declared lost, another epoch, aborted): report nothing more. */
  abandoned: boolean;
}

export class Worker {
  private readonly db: pg.Pool;
  private readonly queue: RunQueue;
  private readonly writer: SignalWriter;
  private readonly listener: Listener;
  private readonly runs = new Map<string, LocalRun>();
  private workerId = "";
  private epoch: string | null = null;
  private draining = false;
  private closed = false;
  private filling = false;
  private beating = false;
  private fillAgain = false;
  private timers: NodeJS.Timeout[] = [];
  private idle: Array<() => void> = [];

  constructor(private readonly o: WorkerOptions) {
    const onError = (err: unknown): void => o.log.error({ err }, "worker: database error");
    this.db = new pg.Pool({ connectionString: o.databaseUrl, max: 4, application_name: "taud-worker" });
    this.db.on("error", onError);
    this.queue = new RunQueue(this.db, "worker", onError);
    this.writer = new SignalWriter(this.db, onError);
    this.listener = new Listener({
      connectionString: o.databaseUrl,
      channels: [WAKE_CHANNEL, CONTROL_CHANNEL],
      onNotify: (channel, payload) => (channel === WAKE_CHANNEL ? this.fill() : this.onControl(payload)),
      onReconnect: () => this.fill(),
      onError,
    });
  }

  /** This incarnation's id (a new one after being declared lost). */
  get id(): string {
    return this.workerId;
  }

  get running(): number {
    return this.runs.size;
  }

  async start(): Promise<void> {
    try {
      await ensureSchema(this.db);
      await this.queue.start();
      await this.o.pool.start();
      await this.register();
      await this.listener.start();
    } catch (err) {
      await this.close();
      if (err instanceof TauError) throw err;
      throw new TauError("TAU_E_STORE_FAILED", `The worker cannot use PostgreSQL: ${(err as Error).message}`, { option: "TAU_DATABASE_URL" });
    }
    this.timers.push(setInterval(() => void this.beat(), Math.max(200, (this.o.leaseSec * 1000) / 3)));
    this.timers.push(setInterval(() => this.fill(), this.o.pollMs ?? 1_000));
    this.fill();
  }

  /** SIGTERM: claim nothing more, let the runs in flight finish and report, then deregister. */
  async drain(): Promise<void> {
    if (this.draining) return this.finished();
    this.draining = true;
    await setWorkerState(this.db, this.workerId, "draining", this.runs.size).catch((err: unknown) => this.o.log.error({ err }, "worker: could not mark draining"));
    return this.finished();
  }

  /** A second signal: every run in flight fails as TAU_E_WORKER_LOST (retried by the API), then stop. */
  async abort(): Promise<void> {
    this.draining = true;
    for (const run of this.runs.values()) {
      if (run.abandoned) continue;
      this.report(run, { status: "failed", error: workerRunError("TAU_E_WORKER_LOST", "The worker was stopped while the run was on it.", { worker: run.workerId }) });
      run.abandoned = true;
      this.o.pool.cancel(run.runId);
    }
    await this.writer.drained();
    await setWorkerState(this.db, this.workerId, "stopped", 0).catch(() => undefined);
    await this.close();
  }

  private async finished(): Promise<void> {
    if (this.runs.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.writer.drained();
    await setWorkerState(this.db, this.workerId, "stopped", 0).catch((err: unknown) => this.o.log.error({ err }, "worker: could not deregister"));
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.listener.close();
    await this.o.pool.close().catch(() => undefined);
    await this.queue.stop().catch(() => undefined);
    await this.db.end().catch(() => undefined);
  }

  private async register(): Promise<void> {
    this.workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    await registerWorker(this.db, {
      id: this.workerId,
      host: hostname(),
      pid: process.pid,
      capacity: this.o.capacity,
      executors: this.o.executors,
      leaseSec: this.o.leaseSec,
    });
    const { rows } = await this.db.query<{ epoch: string }>(`select epoch from ${SCHEMA}.api where id = 1`);
    this.epoch = rows[0]?.epoch ?? null;
    this.o.log.info({ worker: this.workerId, capacity: this.o.capacity, epoch: this.epoch }, "worker registered");
  }

  private async beat(): Promise<void> {
    // One at a time: a slow database must not make two heartbeats both find the worker lost.
    if (this.closed || this.beating) return;
    this.beating = true;
    try {
      const answer = await heartbeat(this.db, this.workerId, this.runs.size);
      if (answer === null) {
        if (this.draining) return;
        // Declared lost (a pause longer than the lease): the API failed our runs already.
        this.o.log.warn({ worker: this.workerId, runs: this.runs.size }, "worker: declared lost by the API; stopping its runs and registering again");
        for (const run of this.runs.values()) this.abandon(run);
        await this.register();
        this.fill();
      } else if (answer.epoch !== null && answer.epoch !== this.epoch) {
        this.newEpoch(answer.epoch);
      }
    } catch (err) {
      this.o.log.error({ err }, "worker: heartbeat failed");
    } finally {
      this.beating = false;
    }
  }

  private onControl(payload: string): void {
    let message: ControlMessage;
    try {
      message = JSON.parse(payload) as ControlMessage;
    } catch {
      return;
    }
    if (message.k === "epoch") this.newEpoch(message.epoch);
    else if (message.k === "cancel") {
      const run = this.runs.get(message.runId);
      if (run && !run.abandoned && (message.workerId === null || message.workerId === run.workerId)) this.o.pool.cancel(run.runId);
    }
  }

  /** Another API incarnation: its predecessor's runs are no longer anyone's. */
  private newEpoch(epoch: string): void {
    this.epoch = epoch;
    for (const run of this.runs.values()) if (run.epoch !== epoch) this.abandon(run);
  }

  private async refreshEpoch(): Promise<void> {
    const { rows } = await this.db.query<{ epoch: string }>(`select epoch from ${SCHEMA}.api where id = 1`);
    const epoch = rows[0]?.epoch ?? null;
    if (epoch !== null && epoch !== this.epoch) this.newEpoch(epoch);
  }

  private abandon(run: LocalRun): void {
    if (run.abandoned) return;
    run.abandoned = true;
    this.o.pool.cancel(run.runId);
  }

  /** Claims as many jobs as there are free slots, until the queue is empty or the slots are full. */
  fill(): void {
    if (this.closed || this.draining || this.workerId === "") return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = true;
    void this.claimLoop().finally(() => {
      this.filling = false;
      if (this.fillAgain) {
        this.fillAgain = false;
        this.fill();
      }
    });
  }

  private async claimLoop(): Promise<void> {
    try {
      while (!this.closed && !this.draining) {
        const free = this.o.capacity - this.runs.size;
        if (free <= 0) return;
        const workerId = this.workerId;
        const jobs = await inTransaction(this.db, async (client) => {
          const fetched = await this.queue.fetch(client, free);
          const claims: Signal[] = fetched.map((j) => ({ kind: "claim", epoch: j.data.epoch, runId: j.data.job.runId, jobId: j.id, workerId, body: {} }));
          await insertSignals(client, claims);
          return fetched;
        });
        if (jobs.length === 0) return;
        // Another epoch than the one this worker knows: look again (the API may just have restarted).
        if (jobs.some((j) => j.data.epoch !== this.epoch)) await this.refreshEpoch();
        for (const j of jobs) {
          // A job of another API incarnation: nobody waits for it (the current API re-queued its run itself,
          // and reads only its own epoch's signals). Declared lost while claiming: the API fails such claims.
          if (j.data.epoch !== this.epoch || workerId !== this.workerId) {
            void inTransaction(this.db, (client) => this.queue.complete(client, j.id, "dropped")).catch(() => undefined);
          } else if (this.runs.has(j.data.job.runId)) {
            // The same run from an earlier epoch is still being stopped here: fail this attempt (retryable)
            // rather than run two isolates under one run id.
            const run: LocalRun = { runId: j.data.job.runId, jobId: j.id, epoch: j.data.epoch, workerId, abandoned: false };
            this.report(run, { status: "failed", error: workerRunError("TAU_E_WORKER_LOST", "The worker was still stopping an earlier attempt of this run.", { worker: workerId }) });
          } else {
            this.execute(j.id, j.data, workerId);
          }
        }
      }
    } catch (err) {
      this.o.log.error({ err }, "worker: could not claim jobs");
    }
  }

  private execute(jobId: string, queued: QueuedJob, workerId: string): void {
    const run: LocalRun = { runId: queued.job.runId, jobId, epoch: queued.epoch, workerId, abandoned: false };
    this.runs.set(run.runId, run);
    void this.runOnPool(run, queued).then((outcome) => {
      this.runs.delete(run.runId);
      if (!run.abandoned) this.report(run, outcome);
      if (this.runs.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      this.fill();
    });
  }

  private async runOnPool(run: LocalRun, queued: QueuedJob): Promise<RunOutcome> {
    let job: RunJob;
    try {
      const dataDir = join(this.o.home, "data", queued.job.tenantId);
      mkdirSync(dataDir, { recursive: true });
      job = openJob(queued, this.o.cipher, dataDir);
    } catch (err) {
      const error =
        err instanceof TauError ? workerRunError(err.code, err.message, err.details) : workerRunError("TAU_E_INTERNAL", "The worker could not prepare the run.", { reason: String(err) });
      return { status: "failed", error };
    }
    return this.o.pool.run(job, (event) => {
      if (!run.abandoned) this.writer.push({ kind: "event", epoch: run.epoch, runId: run.runId, jobId: run.jobId, workerId: run.workerId, body: event });
    });
  }

  private report(run: LocalRun, outcome: RunOutcome): void {
    this.writer.push({ kind: "outcome", epoch: run.epoch, runId: run.runId, jobId: run.jobId, workerId: run.workerId, body: outcome }, (client) =>
      this.queue.complete(client, run.jobId, outcome.status),
    );
  }
}
