/**
 * `motherduck`: DuckDB's cloud service — the same engine and SQL as duckdb_local, on a MotherDuck database.
 */
import { createSdkError } from "../errors";
import { createSqlConnector, type SqlConnector } from "../sql-connector";

/**
 * Options of `motherduck()`: the MotherDuck `database` and the access `token` — pass the token as
 * `ctx.secret("MOTHERDUCK_TOKEN")` so its value never enters the pipeline.
 *
 * @example
 * ```ts
 * const options: MotherDuckOptions = { database: "analytics", token: ctx.secret("MOTHERDUCK_TOKEN") };
 * await using md = motherduck(options);
 * ```
 */
export interface MotherDuckOptions {
  /** The MotherDuck database name, e.g. `"analytics"` (letters, digits, `_`, `-`). */
  database: string;
  /** The access token: `ctx.secret("MOTHERDUCK_TOKEN")`. */
  token: string;
}

/**
 * A MotherDuck database handle. `load` modes are `"append"` (default), `"replace"` and `"upsert"` (with
 * `mergeKey`). Parameters use `?` placeholders.
 *
 * @example
 * ```ts
 * await using md = motherduck({ database: "analytics", token: ctx.secret("MOTHERDUCK_TOKEN") });
 * const [{ n }] = await md.extract<{ n: number }>("SELECT count(*) AS n FROM orders");
 * ```
 */
export interface MotherDuckConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "motherduck";
}

/**
 * Opens (lazily, on first use) a MotherDuck database: the host connects to `md:<database>` with the token.
 * It is a network connector: the tenant's policy must allow the `motherduck` connector and egress to
 * `api.motherduck.com:443` (else TAU_E_POLICY_DENIED).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local, motherduck } from "tau/connectors";
 *
 * export default pipeline({ name: "publish_totals" }, async (ctx) => {
 *   await using local = duckdb_local();
 *   await using md = motherduck({ database: "analytics", token: ctx.secret("MOTHERDUCK_TOKEN") });
 *   const n = await md.load(local.query("SELECT * FROM totals"), { table: "totals", mode: "replace" });
 *   return { published: n };
 * });
 * ```
 */
export function motherduck(options: MotherDuckOptions): MotherDuckConnector {
  const o = options as Partial<MotherDuckOptions> | null | undefined;
  if (typeof o !== "object" || o === null || typeof o.database !== "string" || o.database === "" || typeof o.token !== "string" || o.token === "") {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", "motherduck(options) needs { database, token } as non-empty strings.", {
      hint: 'Pass e.g. motherduck({ database: "analytics", token: ctx.secret("MOTHERDUCK_TOKEN") }).',
      details: { kind: "motherduck" },
    });
  }
  return createSqlConnector("motherduck", { database: o.database, token: o.token }, ["append", "replace", "upsert"] as const) as MotherDuckConnector;
}
