/**
 * The workers' own PostgreSQL schema, `tau_workers` (pg-boss owns `pgboss`; Tau's store owns its tables):
 * created idempotently by whichever process starts first, under an advisory lock, and versioned so a later
 * Tau can migrate it.
 *
 * - `workers`: the registry — one row per worker incarnation, its heartbeat and state.
 * - `signals`: worker → API, in order: a run was claimed, a sandbox event, a run's outcome. The API
 *   consumes them (`delete … returning`) in `seq` order.
 * - `api`: one row, the API daemon's current epoch; a worker drops runs of an older epoch.
 */
import type { Pool, PoolClient } from "pg";

export const SCHEMA = "tau_workers";
export const SCHEMA_VERSION = 1;
/** The pg-boss queue every run goes through. */
export const RUN_QUEUE = "tau-runs";
/** NOTIFY channels: a job was queued (wake idle workers); signals were written (wake the API); control (cancel, epoch). */
export const WAKE_CHANNEL = "tau_workers_wake";
export const SIGNAL_CHANNEL = "tau_workers_signals";
export const CONTROL_CHANNEL = "tau_workers_control";

/** Any 64-bit key private to this schema's creation. */
const LOCK_KEY = 0x7a75_0001;

const V1 = `
create table if not exists ${SCHEMA}.workers (
  id text primary key,
  host text not null,
  pid integer not null,
  capacity integer not null,
  executors integer not null,
  running integer not null default 0,
  lease_sec integer not null,
  state text not null check (state in ('active', 'draining', 'lost', 'stopped')),
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  ended_at timestamptz
);
create index if not exists workers_live on ${SCHEMA}.workers (heartbeat_at) where state in ('active', 'draining');
create table if not exists ${SCHEMA}.signals (
  seq bigserial primary key,
  -- The API incarnation the run's job came from: an API reads only its own epoch's signals.
  epoch text not null,
  run_id text not null,
  job_id text not null,
  worker_id text not null,
  kind text not null check (kind in ('claim', 'event', 'outcome')),
  -- JSON text, not jsonb: jsonb refuses \\u0000, which a log line or a result may hold.
  body text not null
);
create index if not exists signals_epoch on ${SCHEMA}.signals (epoch, seq);
create table if not exists ${SCHEMA}.api (
  id integer primary key check (id = 1),
  epoch text not null,
  started_at timestamptz not null default now()
);
`;

/** Creates (or migrates) the schema; safe to call from every process at every start. */
export async function ensureSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock($1)", [LOCK_KEY]);
    await client.query(`create schema if not exists ${SCHEMA}`);
    await client.query(`create table if not exists ${SCHEMA}.version (version integer not null)`);
    const { rows } = await client.query<{ version: number }>(`select version from ${SCHEMA}.version`);
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`${SCHEMA} is at version ${current}, newer than this Tau's ${SCHEMA_VERSION}: upgrade Tau on this machine.`);
    }
    if (current < 1) await client.query(V1);
    if (rows.length === 0) await client.query(`insert into ${SCHEMA}.version (version) values ($1)`, [SCHEMA_VERSION]);
    else if (current !== SCHEMA_VERSION) await client.query(`update ${SCHEMA}.version set version = $1`, [SCHEMA_VERSION]);
    await client.query("commit");
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Runs `fn` in one transaction on one connection. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
