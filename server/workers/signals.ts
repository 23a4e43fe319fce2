/**
 * Worker → API: the signals of a run, in order — `claim` (a worker took the run's job), the sandbox's
 * `event`s, then one `outcome`. Rows of `tau_workers.signals`, JSON text bodies (results and logs can be
 * large: no NOTIFY payload limit applies), followed by a `pg_notify` that wakes the API.
 *
 * Order: a worker writes through one SignalWriter, which flushes one batch at a time (a multi-row insert,
 * committed before the next batch begins), so `seq` grows in the order signals were pushed. The API reads
 * with one SignalReader, one batch at a time in `seq` order; a run's signals are therefore seen in the order
 * its worker pushed them.
 */
import type { Pool, PoolClient } from "pg";
import type { RunOutcome, SandboxEvent } from "../../sandbox/types";
import { inTransaction, SCHEMA, SIGNAL_CHANNEL } from "./schema";

/** `jobId` tells attempts apart: a run re-queued by a restarted API keeps its id but gets a new job. */
interface SignalKey {
  /** The epoch of the API that queued the run's job. */
  epoch: string;
  runId: string;
  jobId: string;
  workerId: string;
}

export type Signal =
  | (SignalKey & { kind: "claim"; body: Record<string, never> })
  | (SignalKey & { kind: "event"; body: SandboxEvent })
  | (SignalKey & { kind: "outcome"; body: RunOutcome });

/** Rows written per statement: keeps one statement's text bounded. */
const BATCH_ROWS = 500;

/**
 * Inserts signals and wakes the API, one statement (one round trip) per BATCH_ROWS. More than one batch
 * must be given a transaction's client, or a failure could leave part of them written.
 */
export async function insertSignals(db: Pool | PoolClient, signals: readonly Signal[]): Promise<void> {
  for (let i = 0; i < signals.length; i += BATCH_ROWS) {
    const batch = signals.slice(i, i + BATCH_ROWS);
    await db.query(
      `with written as (
         insert into ${SCHEMA}.signals (epoch, run_id, job_id, worker_id, kind, body)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         returning 1)
       select pg_notify($7, '') from (select count(*) from written) as n`,
      [
        batch.map((s) => s.epoch),
        batch.map((s) => s.runId),
        batch.map((s) => s.jobId),
        batch.map((s) => s.workerId),
        batch.map((s) => s.kind),
        batch.map((s) => JSON.stringify(s.body)),
        SIGNAL_CHANNEL,
      ],
    );
  }
}

/**
 * The worker's side: push() never blocks; batches go out one after another. `extra` runs in the same
 * transaction as the batch (the worker completes finished runs' pg-boss jobs there).
 */
export class SignalWriter {
  private pending: Array<{ signal: Signal; after?: (client: PoolClient) => Promise<void> }> = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(signal: Signal, after?: (client: PoolClient) => Promise<void>): void {
    this.pending.push({ signal, after });
    this.flushing ??= this.loop();
  }

  /** Resolves once everything pushed so far is written (or given up on). */
  async drained(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async loop(): Promise<void> {
    // One tick so signals pushed together go out together.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.write(batch);
    }
    this.flushing = null;
  }

  private async write(batch: Array<{ signal: Signal; after?: (client: PoolClient) => Promise<void> }>): Promise<void> {
    // A lost connection is retried: the API only learns a run's end from here. Each try is a whole
    // transaction, so a batch is written exactly once.
    for (let attempt = 0; ; attempt++) {
      try {
        const signals = batch.map((b) => b.signal);
        // One statement is atomic by itself: a transaction only when there is more to do with it.
        if (signals.length <= BATCH_ROWS && batch.every((b) => !b.after)) await insertSignals(this.pool, signals);
        else {
          await inTransaction(this.pool, async (client) => {
            await insertSignals(client, signals);
            for (const b of batch) if (b.after) await b.after(client);
          });
        }
        return;
      } catch (err) {
        this.onError(err);
        if (attempt >= 30) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
      }
    }
  }
}

/**
 * The API's side: takes signals out of the table in `seq` order, one batch at a time, whenever woken (a
 * NOTIFY) and every `pollMs` as a fallback.
 */
export class SignalReader {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    /** Only this API incarnation's signals are read (an older one may still be shutting down). */
    private readonly epoch: () => string,
    private readonly onSignal: (signal: Signal) => void,
    private readonly onError: (err: unknown) => void,
    private readonly pollMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  /** Reads until the table is empty; calls made meanwhile make it look once more. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const { rows } = await this.pool.query<{ seq: string; run_id: string; job_id: string; worker_id: string; kind: Signal["kind"]; body: string }>(
          `delete from ${SCHEMA}.signals where seq in (select seq from ${SCHEMA}.signals where epoch = $1 order by seq limit 1000 for update skip locked)
           returning seq, run_id, job_id, worker_id, kind, body`,
          [this.epoch()],
        );
        rows.sort((a, b) => Number(a.seq) - Number(b.seq));
        for (const row of rows) {
          let body: unknown;
          try {
            body = JSON.parse(row.body);
          } catch (err) {
            this.onError(err);
            continue;
          }
          this.onSignal({ kind: row.kind, epoch: this.epoch(), runId: row.run_id, jobId: row.job_id, workerId: row.worker_id, body } as Signal);
        }
        if (rows.length < 1000) return;
      }
    } catch (err) {
      this.onError(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
