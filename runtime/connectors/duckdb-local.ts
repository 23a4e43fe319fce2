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
import {
  DuckDBDataChunkWriter,
  JSToDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBValue,
} from "@duckdb/node-api";
import { checkDuckdbPath } from "../../policies";
import { TauError } from "../../server/contract";
import { convertDuckDbError, isDuckDbTransactionConflict } from "./duckdb-errors";
import { DuckDbInstanceCache, MEMORY_DATABASE, type DuckDbLease } from "./duckdb-instances";
import { inferColumns, stageValue, tauJsonConverter, type InferredColumn, type JsonValue } from "./duckdb-values";
import { RawJson, type ConnectorContext, type ConnectorDriver, type HostConnector } from "./types";

export const DUCKDB_LOCAL_KIND = "duckdb_local";
export const DEFAULT_WAREHOUSE_FILE = "warehouse.duckdb";
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const MAX_BUSY_TIMEOUT_MS = 60_000;
const LOAD_CONFLICT_RETRIES = 8;

/** Options the guest may pass to `connector.open` for duckdb_local. */
export interface DuckDbLocalOptions {
  /** Database file; default `<dataDir>/warehouse.duckdb`. `:memory:` for a private in-memory database. */
  path?: string;
  /** How long to wait while another process holds the file (default 5000, max 60000). */
  busyTimeoutMs?: number;
}

export type LoadMode = "append" | "replace";

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

let stageCounter = 0;

export class DuckDbLocalConnector implements HostConnector {
  readonly kind = DUCKDB_LOCAL_KIND;
  private closed = false;
  // One DuckDB connection per handle; calls are serialised on it (a load's transaction must not interleave
  // with another call of the same handle).
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly lease: DuckDbLease,
    private readonly connection: DuckDBConnection,
    private readonly ctx: ConnectorContext,
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    const run = async (): Promise<unknown> => {
      if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
      switch (method) {
        case "extract":
          return this.extract(args[0], args[1]);
        case "load":
          return this.load(args[0], args[1]);
        case "execute":
          return this.execute(args[0], args[1]);
        case "getSchema":
          return this.getSchema(args[0]);
        default:
          throw argsInvalid(`duckdb_local has no method '${method}' (methods: extract, load, execute, getSchema).`, { method });
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
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
        const objects = chunk.getRows().map((values) => {
          const o: Record<string, JsonValue | null> = {};
          for (let i = 0; i < names.length; i++) {
            const v = values[i];
            o[names[i]] = v === null ? null : tauJsonConverter(v, types[i], tauJsonConverter);
          }
          return o;
        });
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

  /**
   * Loads rows into a table through DuckDB's appender: rows are appended in bulk to a temporary staging table,
   * then moved with one `INSERT … BY NAME` inside a transaction (create schema/table if missing; `replace`
   * deletes the old rows in the same transaction, so readers see the old rows or the new ones, never a mix).
   * A failed load rolls back and leaves the table as it was. Returns the number of rows loaded.
   */
  async load(rowsArg: unknown, optionsArg: unknown): Promise<number> {
    const { table, mode } = parseLoadOptions(optionsArg);
    const rows = parseRows(rowsArg);
    const columns = inferColumns(rows);
    const c = this.connection;
    const stage = `__tau_stage_${process.pid}_${++stageCounter}`;
    let sql = "";
    const step = async (statement: string): Promise<void> => {
      sql = statement;
      await c.run(statement);
    };
    try {
      if (columns.length > 0) {
        await step(`CREATE TEMP TABLE ${quoteIdent(stage)} (${columns.map((col) => `${quoteIdent(col.name)} ${col.stageType}`).join(", ")})`);
        sql = `append ${rows.length} rows to the staging table`;
        await appendRows(c, stage, columns, rows);
      }
      // Concurrent loads in this process (other runs' connections to the shared instance) can conflict, e.g.
      // both creating the table: the transaction is rolled back whole, so it is retried a few times.
      for (let attempt = 1; ; attempt++) {
        await step("BEGIN TRANSACTION");
        try {
          if (table.schemaSql) await step(`CREATE SCHEMA IF NOT EXISTS ${table.schemaSql}`);
          if (columns.length > 0) {
            await step(`CREATE TABLE IF NOT EXISTS ${table.sql} (${columns.map((col) => `${quoteIdent(col.name)} ${col.sqlType}`).join(", ")})`);
          }
          if (mode === "replace") await step(`DELETE FROM ${table.sql}`);
          if (columns.length > 0) await step(`INSERT INTO ${table.sql} BY NAME SELECT * FROM temp.main.${quoteIdent(stage)}`);
          await step("COMMIT");
          return rows.length;
        } catch (err) {
          await c.run("ROLLBACK").catch(() => undefined);
          const message = err instanceof Error ? err.message : String(err);
          if (!isDuckDbTransactionConflict(message) || attempt >= LOAD_CONFLICT_RETRIES) throw err;
          await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
        }
      }
    } catch (err) {
      throw convertDuckDbError(err, { sql, table: table.text, details: { mode } });
    } finally {
      if (columns.length > 0) await c.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(stage)}`).catch(() => undefined);
    }
  }
}

async function appendRows(c: DuckDBConnection, stage: string, columns: InferredColumn[], rows: Record<string, unknown>[]): Promise<void> {
  const appender = await c.createAppender(stage, "main", "temp");
  try {
    const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
    for (const row of rows) writer.appendRow(columns.map((col) => stageValue(row[col.name], col.stageType)));
    writer.flush();
  } finally {
    appender.closeSync();
  }
}

// ── argument validation (guest input is hostile) ──────────────────────────────────────────────────────

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

function requireSql(value: unknown, method: string): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid(`${method}(sql, params) needs the SQL as a non-empty string.`, { method });
  return value;
}

function toParams(value: unknown): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (value === undefined || value === null) return undefined;
  const check = (v: unknown, where: string): DuckDBValue => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number" && Number.isFinite(v)) return v;
    throw argsInvalid(`Query parameter ${where} must be a string, number, boolean or null.`, { parameter: where });
  };
  if (Array.isArray(value)) return value.map((v, i) => check(v, `$${i + 1}`));
  if (typeof value === "object") {
    const out: Record<string, DuckDBValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = check(v, `$${k}`);
    return out;
  }
  throw argsInvalid("Query parameters must be an array (for $1, $2, …) or an object (for $name).");
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export interface TableName {
  /** As the guest wrote it. */
  text: string;
  /** Quoted, qualified, for SQL. */
  sql: string;
  /** Quoted schema (with catalog) when the name has one. */
  schemaSql: string | null;
}

/** Parses `table`, `schema.table` or `catalog.schema.table`; parts are bare identifiers or "quoted". */
export function parseTableName(value: unknown): TableName {
  if (typeof value !== "string" || value.length === 0 || value.length > 512) {
    throw argsInvalid("The table name must be a non-empty string like \"orders\" or \"analytics.orders\".");
  }
  const parts: string[] = [];
  let i = 0;
  while (i <= value.length) {
    if (value[i] === '"') {
      let j = i + 1;
      let part = "";
      for (;;) {
        if (j >= value.length) throw argsInvalid(`Unterminated quote in table name ${JSON.stringify(value)}.`);
        if (value[j] === '"') {
          if (value[j + 1] === '"') {
            part += '"';
            j += 2;
            continue;
          }
          break;
        }
        part += value[j++];
      }
      if (part === "") throw argsInvalid(`Empty part in table name ${JSON.stringify(value)}.`);
      parts.push(part);
      i = j + 1;
    } else {
      const end = value.indexOf(".", i);
      const part = value.slice(i, end === -1 ? value.length : end);
      if (!IDENT.test(part)) {
        throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: use letters, digits and '_' (quote other names with "…").`);
      }
      parts.push(part);
      i = end === -1 ? value.length : end;
    }
    if (i >= value.length) break;
    if (value[i] !== ".") throw argsInvalid(`Invalid table name ${JSON.stringify(value)}.`);
    i++;
  }
  if (parts.length === 0 || parts.length > 3) throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: at most catalog.schema.table.`);
  const quoted = parts.map(quoteIdent);
  return { text: value, sql: quoted.join("."), schemaSql: parts.length > 1 ? quoted.slice(0, -1).join(".") : null };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function parseLoadOptions(value: unknown): { table: TableName; mode: LoadMode } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw argsInvalid("load(rows, options) needs options like { table: \"analytics.orders\", mode: \"append\" }.");
  }
  const o = value as Record<string, unknown>;
  const mode = o.mode ?? "append";
  if (mode !== "append" && mode !== "replace") {
    throw argsInvalid(`duckdb_local load mode must be "append" or "replace", got ${JSON.stringify(mode)}.`, { option: "mode" });
  }
  return { table: parseTableName(o.table), mode };
}

function parseRows(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw argsInvalid("load(rows, options) needs rows as an array of objects.");
  for (let i = 0; i < value.length; i++) {
    const row = value[i];
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw argsInvalid(`Row ${i} is not an object; load takes an array of objects (one per row).`, { row: i });
    }
  }
  return value as Record<string, unknown>[];
}

function truncate(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}
