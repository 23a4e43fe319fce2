/**
 * Query handles: `db.query(sql, params)` returns an opaque token that another connector's `load` accepts as
 * its source, so the host copies the rows from one database to the other without them entering the
 * isolate. Genuine handles are recognised by a module-private brand (a WeakMap), so a look-alike object
 * built by the pipeline is refused. Internal to the SDK; the public type is re-exported by `tau/connectors`.
 */
import type { ConnectorCore } from "./connector-handle";
import { ObjectFreeze, arrayPush, safeWeakMap } from "./primordials";

/**
 * A query to run on the host, made by `query()` on a connector: pass it to another connector's `load` to
 * copy its rows on the host (cross-warehouse sync) — the rows never enter the pipeline, so any number of
 * rows can be moved. `kind`, `sql` and `params` are read-only and shown for debugging.
 *
 * @example
 * ```ts
 * await using source = duckdb_local("events.duckdb");
 * await using target = duckdb_local("warehouse.duckdb");
 * const recent: QueryHandle = source.query("SELECT * FROM events WHERE day >= ?", ["2026-01-01"]);
 * const copied = await target.load(recent, { table: "staging.events", mode: "replace" });
 * ```
 */
export interface QueryHandle {
  /** The kind of the connector the query runs on, e.g. `"duckdb_local"`. */
  readonly kind: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

interface QueryInternals {
  core: ConnectorCore;
  sql: string;
  params: readonly unknown[];
}

const genuine = safeWeakMap<object, QueryInternals>();

/** Makes a frozen, branded handle for `sql` on `core`'s connector. */
export function createQueryHandle(core: ConnectorCore, sql: string, params: readonly unknown[]): QueryHandle {
  const copy: unknown[] = [];
  for (let i = 0; i < params.length; i++) arrayPush(copy, params[i]);
  const frozenParams = ObjectFreeze(copy);
  const handle = ObjectFreeze({ kind: core.kind, sql, params: frozenParams });
  genuine.set(handle, { core, sql, params: frozenParams });
  return handle;
}

/** The connector and query behind a genuine handle; undefined for anything else. */
export function queryInternals(value: unknown): QueryInternals | undefined {
  return typeof value === "object" && value !== null ? genuine.get(value) : undefined;
}
