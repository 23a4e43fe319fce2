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
import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect } from "node:net";
import type { Connection, FieldPacket, ResultSetHeader } from "mysql2/promise";
import { createConnection } from "mysql2/promise";
import { checkEgress } from "../../policies";
import { TauError } from "../../server/contract";
import { convertMysqlError, isFatalMysqlError } from "./mysql-errors";
import { loadIntoMysql, type BulkPath, type MysqlSession } from "./mysql-load";
import { describeColumns, parseMysqlTable } from "./mysql-tables";
import { formatSql, rowConverter } from "./mysql-values";
import { oneBatch, parseLoadRequest, parseRows } from "./rows";
import { RawJson, type ConnectorContext, type ConnectorDriver, type LoadRequest, type RowCursor, type RowSource } from "./types";
import type { LoadingConnector, StreamingConnector } from "./types";

export const MYSQL_KIND = "mysql";
export const MYSQL_LOAD_MODES = ["append", "replace", "upsert"] as const;
const DEFAULT_PORT = 3306;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const EXTRACT_BATCH = 5000;
const MAX_BATCH = 100_000;

/** The session's sql_mode: strict, and without NO_BACKSLASH_ESCAPES / ANSI_QUOTES, which the driver's SQL relies on. */
export const MYSQL_SESSION_SQL_MODE = "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

/** Options of `connector.open` for mysql (after secret substitution). */
export interface MysqlOptions {
  /** `mysql://user:password@host:port/database?ssl=true` (or `mariadb://…`); alternative to the fields. */
  dsn?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** TLS: `true` (verify the server's certificate), or `{ rejectUnauthorized?, ca? }`. Default off. */
  ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
  /** Connect timeout (default 10000 ms, max 120000). */
  connectTimeoutMs?: number;
}

/** Connection settings after validation: what every connection of a handle (main, cursors, kills) uses. */
export interface MysqlTarget {
  host: string;
  /** The address checked against the egress policy: connections go here. */
  address: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
  ssl: { rejectUnauthorized: boolean; ca?: string } | undefined;
  connectTimeoutMs: number;
}

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

/** Validates the guest's options; never echoes a DSN or password in an error (they may be secrets). */
export function parseMysqlOptions(options: Record<string, unknown>): Omit<MysqlTarget, "address"> {
  const known = new Set(["dsn", "host", "port", "database", "user", "password", "ssl", "connectTimeoutMs"]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw argsInvalid(`mysql has no option '${key}' (options: ${[...known].join(", ")}).`, { option: key });
  }
  const str = (key: string): string | undefined => {
    const v = options[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw argsInvalid(`mysql's ${key} must be a string.`, { option: key });
    return v;
  };
  let host = str("host");
  let user = str("user");
  let password = str("password");
  let database = str("database");
  let port: number | undefined;
  let ssl: MysqlTarget["ssl"];
  const dsn = str("dsn");
  if (dsn !== undefined) {
    if (host !== undefined) throw argsInvalid("mysql takes either dsn or host/port/…, not both.", { option: "dsn" });
    let url: URL;
    try {
      url = new URL(dsn);
    } catch {
      throw argsInvalid("mysql's dsn is not a valid URL (expected mysql://user:password@host:port/database).", { option: "dsn" });
    }
    if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
      throw argsInvalid("mysql's dsn must start with mysql:// (or mariadb://).", { option: "dsn" });
    }
    host = url.hostname.replace(/^\[|\]$/g, "");
    if (url.port) port = Number(url.port);
    if (url.username) user = decodeURIComponent(url.username);
    if (url.password) password = decodeURIComponent(url.password);
    const path = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (path) database = path;
    const sslParam = url.searchParams.get("ssl") ?? url.searchParams.get("sslmode");
    if (sslParam !== null && !["false", "0", "disable", "disabled"].includes(sslParam.toLowerCase())) {
      ssl = { rejectUnauthorized: !["no-verify", "required", "require", "preferred", "prefer"].includes(sslParam.toLowerCase()) };
    }
  }
  if (options.port !== undefined && options.port !== null) {
    const p = options.port;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 65535) throw argsInvalid("mysql's port must be an integer from 1 to 65535.", { option: "port" });
    port = p;
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw argsInvalid("The dsn's port must be from 1 to 65535.", { option: "dsn" });
  if (!host) throw argsInvalid("mysql needs a host (or a dsn like mysql://user:password@host:3306/database).", { option: "host" });
  if (options.ssl !== undefined && options.ssl !== null) {
    const s = options.ssl;
    if (s === true) ssl = { rejectUnauthorized: true };
    else if (s === false) ssl = undefined;
    else if (typeof s === "object" && !Array.isArray(s)) {
      const o = s as Record<string, unknown>;
      if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== "boolean") throw argsInvalid("ssl.rejectUnauthorized must be a boolean.", { option: "ssl" });
      if (o.ca !== undefined && typeof o.ca !== "string") throw argsInvalid("ssl.ca must be a PEM string.", { option: "ssl" });
      ssl = { rejectUnauthorized: o.rejectUnauthorized !== false, ...(typeof o.ca === "string" ? { ca: o.ca } : {}) };
    } else throw argsInvalid("mysql's ssl must be true, false or { rejectUnauthorized?, ca? }.", { option: "ssl" });
  }
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const t = options.connectTimeoutMs;
  if (t !== undefined && t !== null) {
    if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) throw argsInvalid("mysql's connectTimeoutMs must be a positive number.", { option: "connectTimeoutMs" });
    connectTimeoutMs = Math.min(t, 120_000);
  }
  return { host, port: port ?? DEFAULT_PORT, user: user ?? "root", password: password ?? "", database, ssl, connectTimeoutMs };
}

async function resolveHost(host: string, port: number): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    const found = await lookup(host, { all: true });
    if (found.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" });
    return found.map((a) => a.address);
  } catch (err) {
    throw convertMysqlError(err, { host, port });
  }
}

/** Opens one connection to the checked address and sets up the session. */
export async function connectMysql(target: MysqlTarget): Promise<Connection> {
  let connection: Connection | undefined;
  try {
    connection = await createConnection({
      // The name stays for TLS (SNI, identity); the socket goes to the address the policy checked.
      host: target.host,
      port: target.port,
      stream: () => netConnect(target.port, target.address),
      user: target.user,
      password: target.password,
      database: target.database,
      ssl: target.ssl,
      connectTimeout: target.connectTimeoutMs,
      charset: "UTF8MB4_UNICODE_CI",
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      dateStrings: true,
      multipleStatements: false,
    });
    connection.on("error", () => undefined); // a dropped idle connection is noticed at its next use
    await connection.query(`SET SESSION sql_mode = '${MYSQL_SESSION_SQL_MODE}', time_zone = '+00:00'`);
    return connection;
  } catch (err) {
    if (connection) connection.destroy();
    throw convertMysqlError(err, { host: target.host, port: target.port });
  }
}

/** The core (callback) connection under a promise connection: what streaming and pause/resume need. */
interface CoreConnection {
  threadId: number | null;
  query(options: { sql: string; infileStreamFactory?: () => NodeJS.ReadableStream }): CoreQuery;
  pause(): void;
  resume(): void;
  destroy(): void;
}
interface CoreQuery {
  on(event: "fields", fn: (fields: FieldPacket[]) => void): CoreQuery;
  on(event: "result", fn: (row: Record<string, unknown>) => void): CoreQuery;
  on(event: "error", fn: (err: unknown) => void): CoreQuery;
  on(event: "end", fn: () => void): CoreQuery;
}

export function coreOf(connection: Connection): CoreConnection {
  return (connection as unknown as { connection: CoreConnection }).connection;
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
    switch (method) {
      case "extract":
        return this.serial(() => this.extract(args[0], args[1]));
      case "execute":
        return this.serial(() => this.execute(args[0], args[1]));
      case "getSchema":
        return this.serial(() => this.getSchema(args[0]));
      case "load": {
        let rows: Record<string, unknown>[];
        let request: LoadRequest;
        try {
          rows = parseRows(args[0]);
          request = parseLoadRequest(args[1], MYSQL_LOAD_MODES, "mysql");
        } catch (err) {
          return Promise.reject(err);
        }
        return this.loadFrom(oneBatch(rows), request);
      }
      default:
        return Promise.reject(argsInvalid(`mysql has no method '${method}' (methods: extract, load, execute, getSchema).`, { method }));
    }
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
    if (this.connection) return this.connection;
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

/** `KILL QUERY|CONNECTION id` from a short-lived side connection; false when it could not be done. */
async function killThread(target: MysqlTarget, threadId: number | null, what: "QUERY" | "CONNECTION"): Promise<boolean> {
  if (threadId === null) return false;
  try {
    const side = await connectMysql({ ...target, connectTimeoutMs: Math.min(target.connectTimeoutMs, 3000) });
    try {
      await side.query(`KILL ${what} ${Number(threadId)}`);
      return true;
    } finally {
      side.destroy();
    }
  } catch {
    return false;
  }
}

/**
 * Rows of one query, batch by batch: mysql2's row events fill a buffer; the connection is paused when a
 * batch is full and resumed when the next one is asked for, so the host holds about one batch.
 */
export class MysqlCursor implements RowCursor {
  private readonly buffer: Record<string, unknown>[] = [];
  private error: unknown = null;
  private done = false;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly core: CoreConnection,
    sqlText: string,
    private readonly batchSize: number,
    private readonly sqlForErrors: string,
    private readonly onClose: (() => Promise<void>) | null,
  ) {
    let convert = rowConverter(undefined);
    core
      .query({ sql: sqlText })
      .on("fields", (fields) => {
        convert = rowConverter(fields);
      })
      .on("result", (row) => {
        this.buffer.push(convert(row));
        if (this.buffer.length >= this.batchSize) {
          core.pause();
          this.signal();
        }
      })
      .on("error", (err) => {
        this.error = err;
        this.done = true;
        this.signal();
      })
      .on("end", () => {
        this.done = true;
        this.signal();
      });
  }

  get finished(): boolean {
    return this.done;
  }

  get fatal(): boolean {
    return isFatalMysqlError(this.error);
  }

  async next(): Promise<Record<string, unknown>[] | null> {
    for (;;) {
      if (this.error !== null) {
        const err = this.error;
        this.error = null;
        await this.close();
        throw convertMysqlError(err, { sql: this.sqlForErrors });
      }
      if (this.buffer.length >= this.batchSize || (this.done && this.buffer.length > 0)) {
        return this.buffer.splice(0, this.batchSize);
      }
      if (this.done || this.closed) {
        await this.close();
        return null;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.core.resume();
      });
    }
  }

  /** Reads and drops the rest of the result (after KILL QUERY, whose error ends it). Never rejects. */
  async drain(): Promise<void> {
    while (!this.done) {
      this.buffer.length = 0;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.core.resume();
      });
    }
    this.buffer.length = 0;
    this.core.resume();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    this.signal();
    if (this.onClose) await this.onClose().catch(() => undefined);
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
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

export type { MysqlSession };
