/**
 * The shape shared by SQL connectors (duckdb_local today; postgres, mysql, … use the same): extract, load,
 * execute, getSchema, close, and `await using` support.
 */
import { callSite } from "./bridge";
import { fillSdkError, type TauSdkError } from "./errors";
import type { JsonValue } from "./json";
import { createConnectorCore, rejectWith } from "./connector-handle";
import { ArrayIsArray, ObjectDefineProperty, ObjectFreeze, arrayIndexOf, arrayJoin, asyncDisposeSymbol } from "./primordials";

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
 * Options of `load`: the target `table` (created from the rows' keys if it does not exist) and the `mode`:
 * `"append"` (default) adds the rows, `"replace"` empties the table first.
 *
 * @example
 * ```ts
 * const options: LoadOptions = { table: "staging.orders", mode: "replace" };
 * await db.load(rows, options);
 * ```
 */
export interface LoadOptions<Mode extends string = "append" | "replace"> {
  table: string;
  mode?: Mode;
}

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
export interface SqlConnector<Mode extends string = "append" | "replace"> extends AsyncDisposable {
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
   * Writes rows (plain objects with the same keys) into `options.table` and resolves to the number of
   * rows loaded. Load big data sets in batches of a few thousand rows.
   *
   * @example
   * ```ts
   * const n = await db.load(rows, { table: "staging_orders", mode: "replace" });
   * ```
   */
  load(rows: readonly object[], options: LoadOptions<Mode>): Promise<number>;
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
    async load(rows: readonly object[], options: LoadOptions<Mode>): Promise<number> {
      const site = callSite();
      if (!ArrayIsArray(rows)) throw argsError(site, kind, "load(rows, { table }) takes rows as an array of objects.");
      if (typeof options !== "object" || options === null || !isNonEmptyString(options.table)) {
        throw argsError(site, kind, 'load(rows, { table }) needs the target table, e.g. { table: "staging_orders" }.');
      }
      const mode = options.mode ?? loadModes[0];
      if (arrayIndexOf(loadModes, mode) < 0) {
        throw argsError(site, kind, `load mode must be one of ${arrayJoin(loadModes, ", ")}.`);
      }
      const value = await core.call("load", [rows, { table: options.table, mode }], site);
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
  return ObjectFreeze(handle) as unknown as SqlConnector<Mode>;
}
