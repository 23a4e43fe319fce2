/**
 * `duckdb_local`: the embedded warehouse, a DuckDB file on the machine running the pipeline.
 */
import { createSdkError } from "../errors";
import { createSqlConnector, type SqlConnector } from "../sql-connector";

/**
 * A DuckDB database file on the machine running the pipeline: the embedded warehouse. `load` modes are
 * `"append"` (default), `"replace"` and `"upsert"` (with `mergeKey`). Parameters use `?` placeholders.
 *
 * @example
 * ```ts
 * await using db = duckdb_local();
 * const rows = await db.extract("SELECT 42 AS answer"); // [{ answer: 42 }]
 * await db.load([{ id: 1, name: "Ada" }], { table: "people", mode: "upsert", mergeKey: "id" });
 * ```
 */
export interface DuckDBConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "duckdb_local";
}

/**
 * Opens (lazily, on first use) a local DuckDB database. Without `path` it is the tenant's default
 * warehouse file; a relative path is resolved in the tenant's data folder; `":memory:"` is a private
 * in-memory database. The tenant's policy may forbid paths outside that folder (TAU_E_POLICY_DENIED). A
 * `ctx.secret(…)` marker in the path is replaced on the host.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local } from "tau/connectors";
 *
 * export default pipeline({ name: "daily_totals" }, async (ctx) => {
 *   await using db = duckdb_local("analytics.duckdb");
 *   await db.execute("CREATE TABLE IF NOT EXISTS totals (day DATE, amount DOUBLE)");
 *   const rows = await db.extract<{ day: string; amount: number }>("SELECT * FROM totals ORDER BY day");
 *   return { days: rows.length };
 * });
 * ```
 */
export function duckdb_local(path?: string): DuckDBConnector {
  if (path !== undefined && (typeof path !== "string" || path === "")) {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", "duckdb_local(path?) takes the database file's path as a non-empty string.", {
      hint: 'Omit the path for the default warehouse file, or pass one, e.g. duckdb_local("analytics.duckdb").',
      details: { kind: "duckdb_local" },
    });
  }
  return createSqlConnector("duckdb_local", path === undefined ? {} : { path }, ["append", "replace", "upsert"] as const) as DuckDBConnector;
}
