/**
 * The run queue on pg-boss 10 (its own `pgboss` schema in the same PostgreSQL), sharing the caller's pg
 * pool. One job per run, `retryLimit: 0`: Tau decides retries itself (RunService, linked runs). Only the
 * API supervises (pg-boss maintenance); workers just fetch and complete.
 *
 * Claiming is `fetch()` inside a transaction that also writes the `claim` signals: a worker that dies
 * right after claiming has still told the API which runs it holds, so its lease expiry recovers them.
 */
import PgBoss from "pg-boss";
import type { Pool, PoolClient } from "pg";
import type { QueuedJob } from "./job";
import { RUN_QUEUE } from "./schema";

/** pg-boss's `db` option over a pg pool or one client (a transaction). */
const dbOf = (db: Pool | PoolClient): PgBoss.Db => ({ executeSql: (text, values) => db.query(text, values) });

/** pg-boss caps expiry below 24 h; runs have their own deadlines, the lease covers dead workers. */
const EXPIRE_SEC = 23 * 3600;

export class RunQueue {
  readonly boss: PgBoss;

  constructor(
    private readonly pool: Pool,
    role: "api" | "worker",
    onError: (err: unknown) => void,
  ) {
    this.boss = new PgBoss({
      db: dbOf(pool),
      supervise: role === "api",
      schedule: false,
      // Finished jobs hold bundles and sealed secrets: archive them soon, delete the archive after a day.
      archiveCompletedAfterSeconds: 600,
      archiveFailedAfterSeconds: 3600,
      deleteAfterDays: 1,
    });
    this.boss.on("error", onError);
  }

  async start(): Promise<void> {
    await this.boss.start();
    if (!(await this.boss.getQueue(RUN_QUEUE))) {
      await this.boss.createQueue(RUN_QUEUE, { name: RUN_QUEUE, policy: "standard", retryLimit: 0, expireInSeconds: EXPIRE_SEC }).catch(async (err: unknown) => {
        // Two processes creating it at once: fine if it exists now.
        if (!(await this.boss.getQueue(RUN_QUEUE))) throw err;
      });
    }
  }

  /** Queues the job under the caller's id (a uuid). */
  async send(data: QueuedJob, id: string): Promise<void> {
    const queued = await this.boss.send(RUN_QUEUE, data as unknown as object, { id, retryLimit: 0, expireInSeconds: EXPIRE_SEC });
    if (queued === null) throw new Error("pg-boss did not queue the job");
  }

  /** Up to `max` jobs, oldest first, claimed inside the caller's transaction. */
  async fetch(client: PoolClient, max: number): Promise<Array<{ id: string; data: QueuedJob }>> {
    const jobs = await this.boss.fetch<QueuedJob>(RUN_QUEUE, { batchSize: max, db: dbOf(client) });
    return jobs.map((j) => ({ id: j.id, data: j.data }));
  }

  /** Deletes a job no worker has claimed yet; true when it was still waiting (no worker will ever run it). */
  async withdraw(jobId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`delete from pgboss.job where name = $1 and id = $2 and state < 'active'`, [RUN_QUEUE, jobId]);
    return (rowCount ?? 0) > 0;
  }

  /** Deletes the jobs among `jobIds` that no worker has claimed yet; answers their ids. */
  async withdrawMany(jobIds: string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ id: string }>(`delete from pgboss.job where name = $1 and id = any($2::uuid[]) and state < 'active' returning id`, [RUN_QUEUE, jobIds]);
    return new Set(rows.map((r) => r.id));
  }

  async complete(client: PoolClient, jobId: string, status: string): Promise<void> {
    await this.boss.complete(RUN_QUEUE, jobId, { status }, { db: dbOf(client) });
  }

  async fail(jobIds: string[], reason: string): Promise<void> {
    // pg-boss types no data for a batch; its implementation takes it (manager.js fail(name, id, data)).
    const fail = this.boss.fail.bind(this.boss) as (name: string, ids: string[], data: object) => Promise<void>;
    if (jobIds.length > 0) await fail(RUN_QUEUE, jobIds, { reason });
  }

  /**
   * At API start: drop every job still waiting (the store re-queues those runs itself) and fail the ones a
   * worker holds (the store fails those runs as interrupted and retries them). Answers how many of each.
   */
  async reset(): Promise<{ dropped: number; failed: number }> {
    const dropped = await this.pool.query(`delete from pgboss.job where name = $1 and state < 'active'`, [RUN_QUEUE]);
    const active = await this.pool.query<{ id: string }>(`select id from pgboss.job where name = $1 and state = 'active'`, [RUN_QUEUE]);
    await this.fail(active.rows.map((r) => r.id), "the API daemon restarted");
    return { dropped: dropped.rowCount ?? 0, failed: active.rowCount ?? 0 };
  }

  async stop(): Promise<void> {
    // close: false — the pool is the caller's; graceful: false — fetches are ours, there is no work() to wait for.
    await this.boss.stop({ close: false, graceful: false, wait: true });
  }
}
