/**
 * `duckdb_local`: the embedded warehouse, host side. The pattern every connector follows:
 *   - `open` checks the policy and resolves options (secret markers are already substituted by the bridge);
 *   - each method validates the guest's arguments (they are hostile JSON) and throws TauErrors only;
 *   - every DuckDB failure goes through `convertDuckDbError` once.
 *
 * Paths: no path → `<dataDir>/warehouse.duckdb`; relative paths resolve under dataDir; `:memory:` is a private
 * in-memory database; an absolute path outside dataDir needs `policy.duckdbAnyPath`. Without that permission
 * the database is also opened with `enable_external_access=false`, so SQL cannot read or write other files
 * (read_csv, COPY, ATTACH) either.
 */
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { checkDuckdbPath } from "../../policies";
import { TauError } from "../../server/contract";
import { openDuckDbCursor } from "./duckdb-cursor";
import { convertDuckDbError } from "./duckdb-errors";
import { DuckDbInstanceCache, MEMORY_DATABASE, type DuckDbLease } from "./duckdb-instances";
import { loadIntoDuckDb } from "./duckdb-load";
import { argsInvalid, parseTableName, requireSql, toParams, truncate } from "./duckdb-sql";
import { chunkToObjects } from "./duckdb-values";
import { oneBatch, parseLoadRequest, parseRows } from "./rows";
import {
  RawJson,
  type ConnectorContext,
  type ConnectorDriver,
  type HostConnector,
  type LoadRequest,
  type LoadingConnector,
  type RowCursor,
  type RowSource,
  type StreamingConnector,
} from "./types";

export { parseTableName, quoteIdent, type TableName } from "./duckdb-sql";

export const DUCKDB_LOCAL_KIND = "duckdb_local";
export const DEFAULT_WAREHOUSE_FILE = "warehouse.duckdb";
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const MAX_BUSY_TIMEOUT_MS = 60_000;
/** The load modes of the DuckDB connectors. */
export const DUCKDB_LOAD_MODES = ["append", "replace", "upsert"] as const;

/** Options the guest may pass to `connector.open` for duckdb_local. */
export interface DuckDbLocalOptions {
  /** Database file; default `<dataDir>/warehouse.duckdb`. `:memory:` for a private in-memory database. */
  path?: string;
  /** How long to wait while another process holds the file (default 5000, max 60000). */
  busyTimeoutMs?: number;
}

export type LoadMode = (typeof DUCKDB_LOAD_MODES)[number];

export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
}

export class DuckDbLocalDriver implements ConnectorDriver {
  readonly kind = DUCKDB_LOCAL_KIND;

  constructor(private readonly instances: DuckDbInstanceCache) {}

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const known = new Set(["path", "busyTimeoutMs"]);
    for (const key of Object.keys(options)) {
      if (!known.has(key)) throw argsInvalid(`duckdb_local has no option '${key}' (options: path, busyTimeoutMs).`, { option: key });
    }
    const { path: rawPath, busyTimeoutMs: rawBusy } = options as DuckDbLocalOptions;
    if (rawPath !== undefined && rawPath !== null && typeof rawPath !== "string") {
      throw argsInvalid("duckdb_local's path must be a string.", { option: "path" });
    }
    if (rawBusy !== undefined && (typeof rawBusy !== "number" || !Number.isFinite(rawBusy) || rawBusy < 0)) {
      throw argsInvalid("duckdb_local's busyTimeoutMs must be a non-negative number.", { option: "busyTimeoutMs" });
    }
    const busyTimeoutMs = Math.min(rawBusy ?? DEFAULT_BUSY_TIMEOUT_MS, MAX_BUSY_TIMEOUT_MS);
    const path = resolveDatabasePath(rawPath ?? "", ctx.dataDir);
    if (path !== MEMORY_DATABASE) {
      const denial = checkDuckdbPath(ctx.policy, isInside(path, ctx.dataDir));
      if (denial) throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, path: rawPath ?? "" });
      if (isInside(path, ctx.dataDir)) {
        try {
          mkdirSync(dirname(path), { recursive: true });
        } catch (err) {
          throw new TauError("TAU_E_CONNECTOR_IO", `Cannot create the folder for the database file (${(err as NodeJS.ErrnoException).code ?? "error"}).`, {});
        }
      }
    }
    const externalAccess = ctx.policy.duckdbAnyPath;
    const lease = await this.instances.acquire(path, busyTimeoutMs, { enable_external_access: String(externalAccess) });
    let connection: DuckDBConnection;
    try {
      connection = await lease.connect();
    } catch (err) {
      lease.release();
      throw convertDuckDbError(err);
    }
    return new DuckDbLocalConnector(lease, connection, ctx);
  }
}

/** Resolves a duckdb_local path against the tenant's data folder. */
export function resolveDatabasePath(path: string, dataDir: string): string {
  if (path === MEMORY_DATABASE) return MEMORY_DATABASE;
  if (path === "") return join(resolve(dataDir), DEFAULT_WAREHOUSE_FILE);
  return isAbsolute(path) ? resolve(path) : resolve(dataDir, path);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/**
 * One open DuckDB handle (duckdb_local, and motherduck, which is the same engine): a connection of its own
 * on the shared instance; cursors get connections of their own too (see duckdb-cursor.ts).
 */
export class DuckDbLocalConnector implements HostConnector, StreamingConnector, LoadingConnector {
  private closed = false;
  // One DuckDB connection per handle; calls are serialised on it (a load's transaction must not interleave
  // with another call of the same handle).
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly lease: DuckDbLease,
    private readonly connection: DuckDBConnection,
    private readonly ctx: ConnectorContext,
    readonly kind: string = DUCKDB_LOCAL_KIND,
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    const run = async (): Promise<unknown> => {
      if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
      switch (method) {
        case "extract":
          return this.extract(args[0], args[1]);
        case "load":
          return loadIntoDuckDb(this.connection, oneBatch(parseRows(args[0])), parseLoadRequest(args[1], DUCKDB_LOAD_MODES, this.kind));
        case "execute":
          return this.execute(args[0], args[1]);
        case "getSchema":
          return this.getSchema(args[0]);
        default:
          throw argsInvalid(`${this.kind} has no method '${method}' (methods: extract, load, execute, getSchema, and stream through cursors).`, { method });
      }
    };
    return this.serialised(run);
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Loads a RowSource (the guest's rows, or a cursor of any connector) — see duckdb-load.ts. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return this.serialised(async () => {
      if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
      // The bridge validated the request against the common modes; re-check against this kind's.
      parseLoadRequest({ table: request.table, mode: request.mode, mergeKey: request.mergeKey ?? undefined }, DUCKDB_LOAD_MODES, this.kind);
      return loadIntoDuckDb(this.connection, source, request);
    });
  }

  /** A cursor on a connection of its own, so it survives other calls on this handle. */
  async openCursor(sqlArg: string, paramsArg: unknown[], batchSize: number): Promise<RowCursor> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    const sql = requireSql(sqlArg, "stream");
    const params = toParams(paramsArg);
    let connection: DuckDBConnection;
    try {
      connection = await this.lease.connect();
    } catch (err) {
      throw convertDuckDbError(err);
    }
    return openDuckDbCursor(connection, sql, params, batchSize);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.connection.interrupt();
    } catch {
      // nothing in flight
    }
    // Let a statement in flight unwind before the connection goes away (release closes it).
    await this.queue.catch(() => undefined);
    this.lease.release();
  }

  /** Runs a query and returns its rows as objects; stops with a clear error past the row or byte cap. */
  async extract(sqlArg: unknown, paramsArg: unknown): Promise<RawJson> {
    const sql = requireSql(sqlArg, "extract");
    const params = toParams(paramsArg);
    const maxRows = this.ctx.limits.extractRows;
    const maxBytes = this.ctx.limits.bridgeBytes;
    try {
      const result = await this.connection.stream(sql, params);
      const names = result.deduplicatedColumnNames();
      // The result's types keep aliases (JSON); a chunk's vector types do not.
      const types = result.columnTypes();
      const parts: string[] = [];
      let rows = 0;
      let bytes = 2;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        rows += chunk.rowCount;
        if (rows > maxRows) {
          throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `The query returns more than ${maxRows} rows, the most one extract may return.`, {
            limitRows: maxRows,
            sql: truncate(sql),
          });
        }
        const objects = chunkToObjects(chunk, names, types);
        const text = JSON.stringify(objects);
        bytes += text.length - 1;
        if (bytes > maxBytes) {
          throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The extract's rows are larger than ${maxBytes} bytes.`, {
            limitBytes: maxBytes,
            rowsRead: rows,
            sql: truncate(sql),
          });
        }
        parts.push(text.slice(1, -1));
      }
      return new RawJson(`[${parts.join(",")}]`);
    } catch (err) {
      throw convertDuckDbError(err, { sql });
    }
  }

  /** Runs a statement; returns how many rows it changed. */
  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number }> {
    const sql = requireSql(sqlArg, "execute");
    const params = toParams(paramsArg);
    try {
      const result = await this.connection.run(sql, params);
      return { rowsAffected: result.rowsChanged };
    } catch (err) {
      throw convertDuckDbError(err, { sql });
    }
  }

  /** Columns of a table: `[{name, type, nullable}]`. */
  async getSchema(tableArg: unknown): Promise<ColumnInfo[]> {
    const table = parseTableName(tableArg);
    const sql = `DESCRIBE ${table.sql}`;
    try {
      const reader = await this.connection.runAndReadAll(sql);
      return reader.getRowObjectsJson().map((r) => ({
        name: String(r.column_name),
        type: String(r.column_type),
        nullable: r.null !== "NO",
      }));
    } catch (err) {
      throw convertDuckDbError(err, { sql, table: table.text });
    }
  }
}

