/**
 * `postgres`: PostgreSQL through pg 8.20, host side. One pg `Client` per connector handle, connected to the
 * address that passed the tenant's egress check (postgres-connection.ts); calls on a handle run one at a
 * time (a load's transaction must not interleave with another call). `openCursor` uses a connection of its
 * own (postgres-cursor.ts). `redshift` (redshift.ts) is this connector with another dialect and writer.
 *
 * Methods: `extract` (paged, capped by rows and bytes), `execute`, `getSchema` (information_schema,
 * `schema.table` names), `load` / `loadFrom` (postgres-load.ts: COPY FROM STDIN, atomic replace, staged
 * upsert with ON CONFLICT). Every failure goes through `convertPgError` once.
 */
import type { Client } from "pg";
import { TauError } from "../../server/contract";
import { cancelPgQuery, checkPgTarget, connectPg, parsePgOptions, type CheckedPgTarget } from "./postgres-connection";
import { PgCursor, runCappedExtract } from "./postgres-cursor";
import { convertPgError } from "./postgres-errors";
import { copyWriter, describeTable, loadRows, type RowWriter } from "./postgres-load";
import { POSTGRES_DIALECT, parsePgTableName, type PgDialect } from "./postgres-sql";
import type {
  ConnectorContext,
  ConnectorDriver,
  HostConnector,
  LoadRequest,
  LoadingConnector,
  RawJson,
  RowCursor,
  RowSource,
  StreamingConnector,
} from "./types";
import { callSqlConnector } from "./sql-call";

export const POSTGRES_KIND = "postgres";
const LOAD_MODES = ["append", "replace", "upsert"] as const;
const DEFAULT_BATCH_SIZE = 10_000;

export class PostgresDriver implements ConnectorDriver {
  readonly kind = POSTGRES_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const target = await checkPgTarget(parsePgOptions(POSTGRES_KIND, options, 5432), ctx.policy);
    const client = await connectPg(target);
    return new PgConnector(POSTGRES_KIND, target, client, ctx, POSTGRES_DIALECT, copyWriter);
  }
}

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

function requireSql(value: unknown, method: string): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid(`${method}(sql, params) needs the SQL as a non-empty string.`, { method });
  return value;
}

/** Query parameters for `$1, $2, …`: JSON values (arrays become PostgreSQL arrays, objects JSON). */
function toParams(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw argsInvalid("Query parameters must be an array (for $1, $2, …).");
  return value;
}

/** A PostgreSQL-protocol connector handle (postgres, redshift). */
export class PgConnector implements StreamingConnector, LoadingConnector {
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cursors = new Set<RowCursor>();

  constructor(
    readonly kind: string,
    private readonly target: CheckedPgTarget,
    private readonly client: Client,
    private readonly ctx: ConnectorContext,
    private readonly dialect: PgDialect,
    private readonly writer: RowWriter,
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    return callSqlConnector(this, (fn) => this.serial(fn), LOAD_MODES, method, args);
  }

  /** Runs calls of this handle one at a time, in order. */
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.cursors].map((c) => c.close()));
    // Interrupt a statement in flight, then let the queue unwind before the connection goes away.
    await cancelPgQuery(this.client, this.target);
    await this.queue.catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }

  /** Runs a query and returns its rows as JSON text; stops with a clear error past the row or byte cap. */
  async extract(sqlArg: unknown, paramsArg: unknown): Promise<RawJson> {
    const sql = requireSql(sqlArg, "extract");
    const params = toParams(paramsArg);
    try {
      return await runCappedExtract(this.client, this.target, sql, params, this.ctx.limits.extractRows, this.ctx.limits.bridgeBytes);
    } catch (err) {
      const e = convertPgError(err, { sql });
      if (e.code === "TAU_E_CONNECTOR_RESULT_TOO_LARGE" || e.code === "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE") e.details.sql = sql.slice(0, 500);
      throw e;
    }
  }

  /** Runs a statement (several, without params); returns the rows the last one changed. */
  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number | null }> {
    const sql = requireSql(sqlArg, "execute");
    const params = toParams(paramsArg);
    try {
      const result = (await this.client.query({ text: sql, values: params })) as unknown as { rowCount: number | null } | { rowCount: number | null }[];
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return { rowsAffected: last?.rowCount ?? null };
    } catch (err) {
      throw convertPgError(err, { sql });
    }
  }

  /** Columns of a table: `[{name, type, nullable}]`. An unknown table is TAU_E_CONNECTOR_UNKNOWN_OBJECT. */
  async getSchema(tableArg: unknown): Promise<{ name: string; type: string; nullable: boolean }[]> {
    const table = parsePgTableName(tableArg);
    let columns;
    try {
      columns = await describeTable(this.client, table);
    } catch (err) {
      throw convertPgError(err, { table: table.text });
    }
    if (columns.length === 0) {
      throw new TauError("TAU_E_CONNECTOR_UNKNOWN_OBJECT", `No table ${table.text} (or it has no columns this user can see).`, { table: table.text });
    }
    return columns.map((c) => ({ name: c.name, type: c.sqlType, nullable: c.nullable }));
  }

  /** Streams a query's result in batches from a server-side cursor on a connection of its own. */
  async openCursor(sqlArg: string, paramsArg: unknown[], batchSize: number): Promise<RowCursor> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    const sql = requireSql(sqlArg, "stream");
    const params = toParams(paramsArg);
    const size = Number.isInteger(batchSize) && batchSize > 0 ? batchSize : DEFAULT_BATCH_SIZE;
    const cursor = await PgCursor.open(this.target, sql, params, size);
    const cursors = this.cursors;
    cursors.add(cursor);
    return {
      next: () => cursor.next(),
      close: async () => {
        cursors.delete(cursor);
        await cursor.close();
      },
    };
  }

  /** Loads a RowSource (the guest's rows, this handle's cursor or another connector's) in one transaction. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    return this.serial(async () => {
      const table = parsePgTableName(request.table);
      return loadRows({ client: this.client, dialect: this.dialect, writer: this.writer }, table, source, request);
    });
  }
}
