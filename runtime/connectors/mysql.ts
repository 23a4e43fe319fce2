/**
 * `mysql`: MySQL and MariaDB through mysql2 (promise API), host side. Follows duckdb_local's pattern:
 *   - `open` validates the options (hostile JSON; secret markers already substituted by the bridge),
 *     resolves the host name, checks the tenant's egress policy against the resolved addresses and connects
 *     to the checked address (never resolving again; TLS still verifies the name);
 *   - one connection per handle, calls serialised on it; a cursor reads on a connection of its own, so the
 *     handle stays usable while a stream is open (and a table can be copied into the same database);
 *   - every mysql2 failure goes through `convertMysqlError` once.
 *
 * Each session runs with a strict sql_mode (bad values are errors, not silent truncations), `time_zone`
 * +00:00 (DATETIME/TIMESTAMP values are read and written as UTC) and utf8mb4.
 */
import type { Connection, ResultSetHeader } from "mysql2/promise";
import { checkEgress } from "../../policies";
import { TauError } from "../../server/contract";
import { connectMysql, coreOf, killThread, parseMysqlOptions, resolveHost, type MysqlTarget } from "./mysql-connection";
import { MysqlCursor } from "./mysql-cursor";
import { convertMysqlError, isFatalMysqlError } from "./mysql-errors";
import { loadIntoMysql, type BulkPath, type MysqlSession } from "./mysql-load";
import { describeColumns, parseMysqlTable } from "./mysql-tables";
import { formatSql } from "./mysql-values";
import { RawJson, type ConnectorContext, type ConnectorDriver, type LoadRequest, type RowCursor, type RowSource } from "./types";
import type { LoadingConnector, StreamingConnector } from "./types";
import { callSqlConnector } from "./sql-call";

export const MYSQL_KIND = "mysql";
export const MYSQL_LOAD_MODES = ["append", "replace", "upsert"] as const;
const EXTRACT_BATCH = 5000;
const MAX_BATCH = 100_000;

export class MysqlDriver implements ConnectorDriver {
  readonly kind = MYSQL_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<MysqlConnector> {
    const settings = parseMysqlOptions(options);
    const addresses = await resolveHost(settings.host, settings.port);
    const denial = checkEgress(ctx.policy, { host: settings.host, port: settings.port, addresses });
    if (denial) throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, host: settings.host, port: settings.port });
    const target: MysqlTarget = { ...settings, address: addresses[0] };
    const connection = await connectMysql(target);
    return new MysqlConnector(target, connection, ctx);
  }
}

let cursorIds = 0;

export class MysqlConnector implements StreamingConnector, LoadingConnector, MysqlSession {
  readonly kind = MYSQL_KIND;
  private closed = false;
  private connection: Connection | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cursors = new Map<number, MysqlCursor>();
  private active: MysqlCursor | null = null;
  /** Which bulk path load uses: "auto" (LOAD DATA LOCAL when the server allows it), or forced. */
  bulkPath: BulkPath = "auto";

  constructor(
    readonly target: MysqlTarget,
    connection: Connection,
    private readonly ctx: ConnectorContext,
  ) {
    this.connection = connection;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    return callSqlConnector(this, (fn) => this.serial(fn), MYSQL_LOAD_MODES, method, args);
  }

  /** Loads a row source (plain rows, a cursor of this or another connector) — see mysql-load.ts. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    return this.serial(() => loadIntoMysql(this, source, request));
  }

  /** Streams a query's result in batches on a connection of its own; the host holds one batch at a time. */
  async openCursor(sqlArg: string, paramsArg: unknown[], batchSize: number): Promise<RowCursor> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    const sql = requireSql(sqlArg, "stream");
    const text = formatParams(sql, paramsArg);
    const size = Math.max(1, Math.min(Math.floor(Number.isFinite(batchSize) ? batchSize : 1000), MAX_BATCH));
    const connection = await connectMysql(this.target);
    if (this.closed) {
      connection.destroy();
      throw new TauError("TAU_E_CONNECTOR_CLOSED");
    }
    const id = ++cursorIds;
    const cursor: MysqlCursor = new MysqlCursor(coreOf(connection), text, size, sql, async () => {
      this.cursors.delete(id);
      // Dropping the socket alone can leave the server producing rows until a write times out: kill it.
      if (!cursor.finished) await killThread(this.target, coreOf(connection).threadId, "CONNECTION");
      connection.destroy();
    });
    this.cursors.set(id, cursor);
    return cursor;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const inflight = this.active;
    await Promise.all([...this.cursors.values()].map((c) => c.close()));
    // A statement in flight on the main connection is killed from the side, then the connection goes.
    if (inflight || (await Promise.race([this.queue.then(() => false), delay(50).then(() => true)]))) {
      await this.killRunningQuery();
    }
    await Promise.race([this.queue.catch(() => undefined), delay(2000)]);
    this.connection?.destroy();
    this.connection = null;
  }

  // ── MysqlSession (what mysql-load.ts uses) ──────────────────────────────────────────────────────────

  /**
   * The main connection; reconnects when a fatal error dropped it. While the handle closes, a load in flight
   * still gets the connection for its cleanup (ROLLBACK, dropping its side table).
   */
  async conn(): Promise<Connection> {
    const current = this.connection;
    if (current && !this.closed && (coreOf(current).state === "error" || coreOf(current).state === "disconnected")) {
      // Dropped while idle (server restart, KILL, network). Fail this call rather than reconnect silently: the
      // session's state (an open transaction, temporary tables) is gone. The next call reconnects.
      current.destroy();
      this.connection = null;
      throw new TauError(
        "TAU_E_CONNECTOR_UNREACHABLE",
        `The connection to the MySQL server at ${this.target.host}:${this.target.port} was lost; the next call reconnects (an open transaction and temporary tables are gone).`,
        { host: this.target.host, port: this.target.port },
      );
    }
    if (current) return current;
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    this.connection = await connectMysql(this.target);
    return this.connection;
  }

  /** Runs one statement on the main connection; errors converted (and a dead connection dropped). */
  async run(sql: string, table?: string): Promise<ResultSetHeader> {
    const c = await this.conn();
    try {
      const [result] = await c.query(sql);
      return result as ResultSetHeader;
    } catch (err) {
      this.noteFailure(err);
      throw convertMysqlError(err, { sql, table });
    }
  }

  /** Runs a query returning rows on the main connection. */
  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const c = await this.conn();
    try {
      const [rows] = await c.query(sql);
      return rows as T[];
    } catch (err) {
      this.noteFailure(err);
      throw convertMysqlError(err, { sql });
    }
  }

  noteFailure(err: unknown): void {
    if (isFatalMysqlError(err) && this.connection) {
      this.connection.destroy();
      this.connection = null;
    }
  }

  // ── methods ─────────────────────────────────────────────────────────────────────────────────────────

  /** Runs a query and returns its rows; stops with a clear error past the row or byte cap. */
  async extract(sqlArg: unknown, paramsArg: unknown): Promise<RawJson> {
    const sql = requireSql(sqlArg, "extract");
    const text = formatParams(sql, paramsArg);
    const maxRows = this.ctx.limits.extractRows;
    const maxBytes = this.ctx.limits.bridgeBytes;
    const c = await this.conn();
    const cursor = new MysqlCursor(coreOf(c), text, EXTRACT_BATCH, sql, null);
    this.active = cursor;
    const parts: string[] = [];
    let rows = 0;
    let bytes = 2;
    try {
      for (;;) {
        const batch = await cursor.next();
        if (!batch) break;
        rows += batch.length;
        if (rows > maxRows) {
          throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `The query returns more than ${maxRows} rows, the most one extract may return.`, {
            limitRows: maxRows,
            sql: truncate(sql),
          });
        }
        const json = JSON.stringify(batch);
        bytes += json.length - 1;
        if (bytes > maxBytes) {
          throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The extract's rows are larger than ${maxBytes} bytes.`, {
            limitBytes: maxBytes,
            rowsRead: rows,
            sql: truncate(sql),
          });
        }
        if (json.length > 2) parts.push(json.slice(1, -1));
      }
      return new RawJson(`[${parts.join(",")}]`);
    } catch (err) {
      if (!cursor.finished) {
        // Stop the server sending the rest: kill the statement, then let the connection drain its end.
        await this.killRunningQuery();
        await cursor.drain();
      }
      if (cursor.fatal) this.noteFailure({ fatal: true });
      throw err;
    } finally {
      this.active = null;
    }
  }

  /** Runs a statement; `rowsAffected` is the server's affected-row count (null for a statement returning rows). */
  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number | null }> {
    const sql = requireSql(sqlArg, "execute");
    const text = formatParams(sql, paramsArg);
    const c = await this.conn();
    try {
      // Through the core query so that rows of a SELECT run by execute are dropped as they arrive, not held.
      const header = await new Promise<ResultSetHeader | null>((resolve, reject) => {
        let rows = false;
        let result: ResultSetHeader | null = null;
        coreOf(c)
          .query({ sql: text })
          .on("fields", (fields) => {
            // mysql2 also emits "fields" (undefined) before the header of a statement without rows.
            if (fields) rows = true;
          })
          .on("result", (r) => {
            if (!rows) result = r as unknown as ResultSetHeader;
          })
          .on("error", reject)
          .on("end", () => resolve(result));
      });
      return { rowsAffected: header ? (header.affectedRows ?? null) : null };
    } catch (err) {
      this.noteFailure(err);
      throw convertMysqlError(err, { sql });
    }
  }

  /** Columns of `table` or `database.table`: `[{name, type, nullable}]` (MariaDB's JSON columns say "json"). */
  async getSchema(tableArg: unknown): Promise<Array<{ name: string; type: string; nullable: boolean }>> {
    const table = parseMysqlTable(tableArg);
    const columns = await describeColumns(this, table);
    if (columns.length === 0) {
      throw new TauError("TAU_E_CONNECTOR_UNKNOWN_OBJECT", `Table '${table.text}' does not exist (or the user cannot see it).`, { table: table.text });
    }
    return columns.map((c) => ({ name: c.name, type: c.isJson ? "json" : c.columnType, nullable: c.nullable }));
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────────────

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    const run = async (): Promise<T> => {
      if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
      return fn();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** KILL QUERY for the main connection's statement, from a short-lived side connection. Never rejects. */
  private async killRunningQuery(): Promise<void> {
    const threadId = this.connection ? coreOf(this.connection).threadId : null;
    if (threadId === null) return;
    if (!(await killThread(this.target, threadId, "QUERY"))) {
      // Could not kill it: drop the connection instead (the server notices at its next write).
      this.connection?.destroy();
      this.connection = null;
    }
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

function argsInvalid(message: string, details: Record<string, unknown> = {}, hint?: string): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details, hint);
}

function requireSql(value: unknown, method: string): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid(`${method}(sql, params) needs the SQL as a non-empty string.`, { method });
  return value;
}

function formatParams(sql: string, params: unknown): string {
  if (params === undefined || params === null) return sql;
  if (!Array.isArray(params)) throw argsInvalid("Query parameters must be an array (for the ? placeholders).");
  params.forEach((v, i) => {
    if (v !== null && typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) {
      throw argsInvalid(`Query parameter ${i + 1} must be a string, number, boolean or null.`, { parameter: i + 1 });
    }
  });
  try {
    return formatSql(sql, params);
  } catch (err) {
    throw argsInvalid((err as Error).message, { sql: truncate(sql) });
  }
}

function truncate(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export { MYSQL_SESSION_SQL_MODE, parseMysqlOptions, type MysqlOptions, type MysqlTarget } from "./mysql-connection";
export type { MysqlSession };
