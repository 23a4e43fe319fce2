/**
 * The worker registry, `tau_workers.workers`: one row per worker incarnation (a worker that was declared
 * lost and comes back registers again under a new id). Workers write their own row (register, heartbeat,
 * drain, stop); the API marks rows `lost` once their heartbeat is older than their lease.
 */
import type { Pool } from "pg";
import { SCHEMA } from "./schema";

export type WorkerState = "active" | "draining" | "lost" | "stopped";

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  capacity: number;
  executors: number;
  running: number;
  leaseSec: number;
  state: WorkerState;
  startedAt: Date;
  heartbeatAt: Date;
  endedAt: Date | null;
}

/** Workers that ended longer ago than this are no longer listed, and are deleted. */
const ENDED_LISTED_MS = 3_600_000;
const ENDED_KEPT_MS = 24 * 3_600_000;

export async function registerWorker(
  pool: Pool,
  w: Pick<WorkerRow, "id" | "host" | "pid" | "capacity" | "executors" | "leaseSec">,
): Promise<void> {
  await pool.query(
    `insert into ${SCHEMA}.workers (id, host, pid, capacity, executors, lease_sec, state) values ($1, $2, $3, $4, $5, $6, 'active')`,
    [w.id, w.host, w.pid, w.capacity, w.executors, w.leaseSec],
  );
}

/**
 * Renews the lease and reports the runs in flight. Answers the API's current epoch, or null when the row
 * is no longer live (the API declared the worker lost).
 */
export async function heartbeat(pool: Pool, id: string, running: number): Promise<{ epoch: string | null } | null> {
  const { rows } = await pool.query<{ epoch: string | null }>(
    `update ${SCHEMA}.workers set heartbeat_at = now(), running = $2 where id = $1 and state in ('active', 'draining')
     returning (select epoch from ${SCHEMA}.api where id = 1) as epoch`,
    [id, running],
  );
  return rows[0] ?? null;
}

export async function setWorkerState(pool: Pool, id: string, state: "draining" | "stopped", running: number): Promise<void> {
  await pool.query(
    `update ${SCHEMA}.workers set state = $2, running = $3, heartbeat_at = now(), ended_at = case when $2 = 'stopped' then now() else null end
     where id = $1 and state in ('active', 'draining')`,
    [id, state, running],
  );
}

/** API: marks every live worker whose heartbeat is older than its lease as lost; answers their ids. */
export async function expireLeases(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `update ${SCHEMA}.workers set state = 'lost', ended_at = now()
     where state in ('active', 'draining') and heartbeat_at < now() - make_interval(secs => lease_sec)
     returning id`,
  );
  return rows.map((r) => r.id);
}

/** API, now and then: forgets workers that ended more than a day ago. */
export async function pruneWorkers(pool: Pool): Promise<void> {
  await pool.query(`delete from ${SCHEMA}.workers where ended_at < now() - make_interval(secs => $1)`, [ENDED_KEPT_MS / 1000]);
}

/** Live workers, and those that ended within the last hour; oldest first. */
export async function listWorkers(pool: Pool): Promise<WorkerRow[]> {
  const { rows } = await pool.query<{
    id: string;
    host: string;
    pid: number;
    capacity: number;
    executors: number;
    running: number;
    lease_sec: number;
    state: WorkerState;
    started_at: Date;
    heartbeat_at: Date;
    ended_at: Date | null;
  }>(
    `select * from ${SCHEMA}.workers where state in ('active', 'draining') or ended_at > now() - make_interval(secs => $1)
     order by started_at, id`,
    [ENDED_LISTED_MS / 1000],
  );
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: r.pid,
    capacity: r.capacity,
    executors: r.executors,
    running: r.running,
    leaseSec: r.lease_sec,
    state: r.state,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    endedAt: r.ended_at,
  }));
}
