/**
 * The shape shared by SQL connectors (duckdb_local, motherduck, postgres, mysql, …): extract, stream, query,
 * load, execute, getSchema, close, and `await using` support. Each kind's factory lives in its own file under
 * ./connectors/ and is built with `createSqlConnector`.
 */
import { bridgeCallText, callSite } from "./bridge";
import { NOT_SENT, loadInParts, loadsInParts } from "./row-batch-parts";
import { fillSdkError, type TauSdkError } from "./errors";
import type { JsonValue } from "./json";
import { createConnectorCore, rejectWith } from "./connector-handle";
import { ArrayIsArray, NumberIsInteger, ObjectDefineProperty, ObjectFreeze, arrayIndexOf, arrayJoin, arrayPush, asyncDisposeSymbol, safeWeakMap } from "./primordials";
import { createQueryHandle, queryInternals, type QueryHandle } from "./query-handle";
import { encodeRowBatch } from "./row-batch";
import { MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE, createRowStream, type RowStream, type StreamOptions } from "./row-stream";

export type { QueryHandle } from "./query-handle";
export type { RowStream, StreamOptions } from "./row-stream";

/**
 * One row: column name → value (numbers, strings, booleans, null; dates and big integers as strings).
 *
 * @example
 * ```ts
 * const rows: Row[] = await db.extract("SELECT id, name FROM customers"); // [{ id: 1, name: "Ada" }]
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * A query parameter: a JSON value, a Date (sent as its ISO-8601 text) or a BigInt (sent as a decimal
 * string). Parameters fill the SQL's placeholders in order.
 *
 * @example
 * ```ts
 * await db.extract("SELECT * FROM orders WHERE updated_at > ? AND amount > ?", [new Date("2026-01-01"), 100]);
 * ```
 */
export type SqlParam = JsonValue | Date | bigint;

/**
 * A column as `getSchema` describes it; `type` is the database's own type name, e.g. `"BIGINT"`.
 *
 * @example
 * ```ts
 * const columns: Column[] = await db.getSchema("orders"); // [{ name: "id", type: "INTEGER", nullable: false }, …]
 * ```
 */
export interface Column {
  name: string;
  type: string;
  nullable: boolean;
}

/**
 * What `execute` resolves to; `rowsAffected` is null when the database does not say.
 *
 * @example
 * ```ts
 * const { rowsAffected }: ExecuteResult = await db.execute("DELETE FROM staging_orders");
 * ```
 */
export interface ExecuteResult {
  rowsAffected: number | null;
}

/**
 * How `load` writes: `"append"` (default) adds the rows through the database's bulk path; `"replace"`
 * swaps the table's contents atomically (readers see the old rows or the new ones, never an empty table);
 * `"upsert"` inserts new rows and updates existing ones, matched on `mergeKey` (running it twice gives the
 * same table).
 *
 * @example
 * ```ts
 * const mode: LoadMode = "upsert";
 * await db.load(rows, { table: "customers", mode, mergeKey: "id" });
 * ```
 */
export type LoadMode = "append" | "replace" | "upsert";

/**
 * Options of `load`: the target `table` (created from the rows' inferred types if it does not exist; fields
 * the table lacks add columns), the `mode`, and for `"upsert"` the `mergeKey`: the column, or list of
 * columns, that identifies a row (required, and must be among the rows' fields).
 *
 * @example
 * ```ts
 * const append: LoadOptions = { table: "staging.orders" };
 * const swap: LoadOptions = { table: "staging.orders", mode: "replace" };
 * const merge: LoadOptions = { table: "analytics.orders", mode: "upsert", mergeKey: ["tenant", "id"] };
 * ```
 */
export type LoadOptions<Mode extends string = LoadMode> =
  | { table: string; mode?: Exclude<Mode, "upsert">; mergeKey?: undefined }
  | ("upsert" extends Mode ? { table: string; mode: "upsert"; mergeKey: string | readonly string[] } : never);

/**
 * A handle on a SQL database opened on the host. Create one with a factory from `tau/connectors` and
 * bind it with `await using`, so it is closed when the block ends (the host also closes anything a run
 * leaves open). The connection is opened lazily, on the first call.
 *
 * @example
 * ```ts
 * await using db = duckdb_local();
 * await db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER, name VARCHAR)");
 * await db.load([{ id: 1, name: "a" }], { table: "t" });
 * const rows = await db.extract<{ id: number; name: string }>("SELECT * FROM t WHERE id = ?", [1]);
 * ```
 */
export interface SqlConnector<Mode extends string = LoadMode> extends AsyncDisposable {
  /** The connector kind, e.g. `"duckdb_local"`. */
  readonly kind: string;
  /**
   * Runs a query and resolves to its rows as plain objects. `params` fill the `?` (or `$1`, `$2`, …)
   * placeholders. The number of rows one extract may return is capped by the tenant's policy.
   *
   * @example
   * ```ts
   * const orders = await db.extract<{ id: number; amount: number }>(
   *   "SELECT id, amount FROM orders WHERE updated_at > ?", [ctx.lastSuccessfulRun ?? "1970-01-01"]);
   * ```
   */
  extract<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Runs a query and yields its rows in batches of `batchSize` (default 10,000): for results larger than
   * one extract may return, with the pipeline's memory held flat. The host keeps the cursor; breaking out
   * of the loop closes it.
   *
   * @example
   * ```ts
   * for await (const batch of db.stream<{ id: number; amount: number }>("SELECT id, amount FROM orders", [], { batchSize: 5_000 })) {
   *   await warehouse.load(batch.filter((r) => r.amount > 0), { table: "positive_orders" });
   * }
   * ```
   */
  stream<T = Row>(sql: string, params?: readonly SqlParam[], options?: StreamOptions): RowStream<T>;
  /**
   * A handle on a query of this connector, for another connector's `load`: the host copies the rows from
   * this database to the other one without them entering the pipeline. Nothing runs until `load` is called.
   * This is the way to sync tables between databases.
   *
   * @example
   * ```ts
   * await using source = duckdb_local("raw.duckdb");
   * await using target = duckdb_local("warehouse.duckdb");
   * const n = await target.load(source.query("SELECT * FROM orders WHERE day = ?", [day]), { table: "orders", mode: "upsert", mergeKey: "id" });
   * ```
   */
  query(sql: string, params?: readonly SqlParam[]): QueryHandle;
  /**
   * Writes rows (plain objects) — or the result of a `query()` on any connector, copied on the host — into
   * `options.table` and resolves to the number of rows loaded. A missing table is created from the rows'
   * types, new fields add columns, and a value that does not fit an existing column fails with
   * TAU_E_CONNECTOR_TYPE_MISMATCH; a failed load leaves the table as it was.
   *
   * @example
   * ```ts
   * await db.load(rows, { table: "staging_orders" });                                   // append
   * await db.load(rows, { table: "staging_orders", mode: "replace" });                  // atomic swap
   * await db.load(rows, { table: "orders", mode: "upsert", mergeKey: "id" });           // idempotent merge
   * await db.load(other.query("SELECT * FROM orders"), { table: "orders_copy" });       // host-side copy
   * ```
   */
  load(rows: readonly object[] | QueryHandle, options: LoadOptions<Mode>): Promise<number>;
  /**
   * Runs a statement that returns no rows (DDL, INSERT … SELECT, UPDATE, DELETE).
   *
   * @example
   * ```ts
   * const { rowsAffected } = await db.execute("DELETE FROM staging_orders WHERE day < ?", ["2026-01-01"]);
   * ```
   */
  execute(sql: string, params?: readonly SqlParam[]): Promise<ExecuteResult>;
  /**
   * Lists a table's columns.
   *
   * @example
   * ```ts
   * const columns = await db.getSchema("staging_orders"); // [{ name: "id", type: "INTEGER", nullable: true }, …]
   * ```
   */
  getSchema(table: string): Promise<Column[]>;
  /**
   * Closes the connection; later calls fail with TAU_E_CONNECTOR_CLOSED. Safe to call twice. Not needed
   * with `await using`.
   *
   * @example
   * ```ts
   * const db = duckdb_local();
   * try { await db.execute("CHECKPOINT"); } finally { await db.close(); }
   * ```
   */
  close(): Promise<void>;
}

function argsError(site: TauSdkError, kind: string, message: string): TauSdkError {
  return fillSdkError(
    site,
    "TAU_E_CONNECTOR_ARGS_INVALID",
    `${kind}: ${message}`,
    "Check the call against the connector's documentation in docs/sdk.md.",
    { kind },
    null,
  );
}

function badAnswer(site: TauSdkError, kind: string, method: string): TauSdkError {
  return fillSdkError(site, "TAU_E_INTERNAL", `The host answered ${kind}.${method} with a value of the wrong shape.`, "", {}, null);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** Checks an upsert's mergeKey (a column name or a non-empty list of them) and returns it as a list. */
function mergeKeyList(site: TauSdkError, kind: string, mergeKey: unknown): string[] {
  const list: string[] = [];
  if (isNonEmptyString(mergeKey)) arrayPush(list, mergeKey);
  else if (ArrayIsArray(mergeKey)) {
    for (let i = 0; i < mergeKey.length; i++) {
      const key: unknown = mergeKey[i];
      if (!isNonEmptyString(key)) {
        throw argsError(site, kind, "mergeKey must be a column name or a list of column names (non-empty strings).");
      }
      arrayPush(list, key);
    }
  }
  if (list.length === 0) {
    throw argsError(site, kind, 'load mode "upsert" needs mergeKey: the column (or columns) that identify a row, e.g. { mode: "upsert", mergeKey: "id" }.');
  }
  return list;
}

/**
 * Builds a SQL connector handle of `kind`, opened on the host with `options` on first use.
 * `loadModes` lists the modes this kind's `load` accepts; the first is the default. Internal: what each
 * factory in connectors.ts is made of.
 *
 * @example
 * ```ts
 * export function postgres(options: { dsn: string }): PostgresConnector {
 *   return createSqlConnector("postgres", { dsn: options.dsn }, ["append", "replace", "upsert"] as const) as PostgresConnector;
 * }
 * ```
 */
export function createSqlConnector<Mode extends string>(
  kind: string,
  options: Record<string, unknown>,
  loadModes: readonly Mode[],
): SqlConnector<Mode> {
  const core = createConnectorCore(kind, options);

  function query(method: "extract" | "execute", sql: unknown, params: unknown, site: TauSdkError): Promise<unknown> {
    if (!isNonEmptyString(sql)) return rejectWith(argsError(site, kind, `${method}(sql, params?) needs the SQL text as a non-empty string.`));
    if (params !== undefined && !ArrayIsArray(params)) {
      return rejectWith(argsError(site, kind, `${method}(sql, params?) takes params as an array, e.g. [42, "x"].`));
    }
    return core.call(method, [sql, params ?? []], site);
  }

  const handle = {
    kind,
    async extract<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
      const site = callSite();
      const value = await query("extract", sql, params, site);
      if (!ArrayIsArray(value)) throw badAnswer(site, kind, "extract");
      return value as T[];
    },
    stream<T = Row>(sql: string, params?: readonly SqlParam[], options?: StreamOptions): RowStream<T> {
      const site = callSite();
      if (!isNonEmptyString(sql)) throw argsError(site, kind, "stream(sql, params?, options?) needs the SQL text as a non-empty string.");
      if (params !== undefined && !ArrayIsArray(params)) throw argsError(site, kind, 'stream(sql, params?) takes params as an array, e.g. [42, "x"].');
      if (options !== undefined && (typeof options !== "object" || options === null)) {
        throw argsError(site, kind, "stream(sql, params, options) takes options as an object, e.g. { batchSize: 5000 }.");
      }
      const batchSize = options?.batchSize ?? DEFAULT_BATCH_SIZE;
      if (typeof batchSize !== "number" || !NumberIsInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw argsError(site, kind, `stream's batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}.`);
      }
      return createRowStream<T>(core, sql, params ?? [], batchSize);
    },
    query(sql: string, params?: readonly SqlParam[]): QueryHandle {
      const site = callSite();
      if (!isNonEmptyString(sql)) throw argsError(site, kind, "query(sql, params?) needs the SQL text as a non-empty string.");
      if (params !== undefined && !ArrayIsArray(params)) throw argsError(site, kind, 'query(sql, params?) takes params as an array, e.g. [42, "x"].');
      return createQueryHandle(core, sql, params ?? []);
    },
    async load(rows: readonly object[] | QueryHandle, options: LoadOptions<Mode>): Promise<number> {
      const site = callSite();
      // Made here too, so a failure of the columnar attempt also points at the pipeline's line.
      const columnsSite = callSite();
      const query = queryInternals(rows);
      if (query === undefined && !ArrayIsArray(rows)) {
        throw argsError(site, kind, "load(rows, { table }) takes rows as an array of objects, or a QueryHandle from another connector's query().");
      }
      if (typeof options !== "object" || options === null || !isNonEmptyString(options.table)) {
        throw argsError(site, kind, 'load(rows, { table }) needs the target table, e.g. { table: "staging_orders" }.');
      }
      const mode = (options.mode ?? loadModes[0]) as Mode;
      if (arrayIndexOf(loadModes, mode) < 0) {
        throw argsError(site, kind, `load mode must be one of ${arrayJoin(loadModes, ", ")}.`);
      }
      const opts: Record<string, unknown> = { table: options.table, mode };
      const mergeKey = (options as { mergeKey?: unknown }).mergeKey;
      if (mode === "upsert") opts.mergeKey = mergeKeyList(site, kind, mergeKey);
      else if (mergeKey !== undefined) throw argsError(site, kind, `mergeKey only applies to mode "upsert" (this load's mode is "${mode}").`);
      let value: unknown;
      if (query !== undefined) {
        const source = { query: { handle: await query.core.handle(site), sql: query.sql, params: query.params } };
        value = await core.call("load", [source, opts], site);
      } else {
        // Rows go as columns (row-batch.ts) when they fit that shape; otherwise, or when encoding them
        // fails, as row objects: the row transport then reports the problem exactly as before.
        const handle = await core.handle(site);
        let text: string | null = null;
        // A large DuckDB append goes in parts, encoded while the host appends the previous one (row-batch-parts.ts).
        let parted: unknown = NOT_SENT;
        if (loadsInParts(kind, mode, (rows as readonly unknown[]).length)) {
          try {
            parted = await loadInParts(handle, opts, rows as readonly unknown[], columnsSite);
          } catch (err) {
            // Parts add up to what one payload may hold, like the rows sent at once: then the row transport.
            if (err !== columnsSite || columnsSite.code !== "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE") throw err;
            parted = null;
          }
        }
        if (parted !== NOT_SENT) {
          text = null;
        } else {
          try {
            text = encodeRowBatch(handle, opts, rows as readonly unknown[]);
          } catch {
            text = null;
          }
        }
        if (parted !== NOT_SENT && parted !== null) value = parted;
        else if (text === null) value = await core.call("load", [rows, opts], site);
        else {
          try {
            value = await bridgeCallText("connector.load", text, columnsSite);
          } catch (err) {
            // Columns are nearly always smaller than the same rows as objects, but not always (a lone column
            // of short numbers): what the row transport would fit is never refused for its size.
            if (err !== columnsSite || columnsSite.code !== "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE") throw err;
            value = await core.call("load", [rows, opts], site);
          }
        }
      }
      if (typeof value !== "number") throw badAnswer(site, kind, "load");
      return value;
    },
    async execute(sql: string, params?: readonly SqlParam[]): Promise<ExecuteResult> {
      const site = callSite();
      const value = (await query("execute", sql, params, site)) as { rowsAffected?: unknown } | null;
      if (value === null || typeof value !== "object") throw badAnswer(site, kind, "execute");
      const rowsAffected = typeof value.rowsAffected === "number" ? value.rowsAffected : null;
      return { rowsAffected };
    },
    async getSchema(table: string): Promise<Column[]> {
      const site = callSite();
      if (!isNonEmptyString(table)) throw argsError(site, kind, "getSchema(table) needs the table name as a non-empty string.");
      const value = await core.call("getSchema", [table], site);
      if (!ArrayIsArray(value)) throw badAnswer(site, kind, "getSchema");
      return value as Column[];
    },
    close(): Promise<void> {
      return core.close();
    },
  };
  ObjectDefineProperty(handle, asyncDisposeSymbol, { value: (): Promise<void> => core.close() });
  ObjectFreeze(handle);
  cores.set(handle, core);
  return handle as unknown as SqlConnector<Mode>;
}

/** Genuine SQL connector handles → their core (ctx.materialize names the connector's host handle). */
const cores = safeWeakMap<object, ReturnType<typeof createConnectorCore>>();

/** The core behind a handle made by createSqlConnector; undefined for anything else (a look-alike object). */
export function sqlConnectorCore(value: unknown): ReturnType<typeof createConnectorCore> | undefined {
  return typeof value === "object" && value !== null ? cores.get(value) : undefined;
}
