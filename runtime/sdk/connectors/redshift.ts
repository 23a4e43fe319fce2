/**
 * `redshift`: an Amazon Redshift cluster or serverless workgroup (PostgreSQL wire protocol).
 */
import { createSqlConnector, type SqlConnector } from "../sql-connector";
import { pickPgOptions, type PostgresOptions } from "./postgres";

/**
 * Options of `redshift()`: the same as `postgres()` — a `dsn` (`postgres://user:password@cluster.abc.eu-west-1.redshift.amazonaws.com:5439/dev?sslmode=require`)
 * or the parts (port defaults to 5439). Any string may be a `ctx.secret(...)` reference.
 *
 * @example
 * ```ts
 * const o: RedshiftOptions = { host: "wh.abc.eu-west-1.redshift.amazonaws.com", database: "dev", user: "etl", password: ctx.secret("RS_PASSWORD"), ssl: true };
 * ```
 */
export type RedshiftOptions = PostgresOptions;

/**
 * A Redshift handle. `load` modes: `"append"` (default; multi-row INSERT batches with bind parameters —
 * Redshift has no COPY from the client; for very large loads write files to S3 with the s3 connector and
 * `execute` Redshift's `COPY … FROM 's3://…'`), `"replace"` (DELETE + INSERT in one transaction: Redshift's
 * TRUNCATE would commit early) and `"upsert"` (with `mergeKey`: rows are staged, deduplicated — the last row
 * per key wins — and merged with one `MERGE`). New tables use VARCHAR(65535) for text and SUPER for JSON.
 * Parameters use `$1, $2, …`.
 *
 * @example
 * ```ts
 * await using rs = redshift({ dsn: ctx.secret("REDSHIFT_DSN") });
 * await rs.load(rows, { table: "analytics.events", mode: "upsert", mergeKey: ["tenant", "id"] });
 * ```
 */
export interface RedshiftConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "redshift";
}

/**
 * Opens (lazily, on first use) a connection to Redshift. The tenant's policy must allow the `redshift`
 * connector and egress to the host and port (else TAU_E_POLICY_DENIED, before any connection is made).
 * Errors come back with the same codes as `postgres`.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { postgres, redshift } from "tau/connectors";
 *
 * export default pipeline({ name: "orders_to_redshift", schedule: "0 * * * *" }, async (ctx) => {
 *   await using app = postgres({ dsn: ctx.secret("APP_DSN") });
 *   await using rs = redshift({ host: "wh.abc.eu-west-1.redshift.amazonaws.com", database: "dev", user: "etl",
 *     password: ctx.secret("RS_PASSWORD"), ssl: true });
 *   const n = await rs.load(app.query("SELECT * FROM orders WHERE updated_at > now() - interval '1 hour'"),
 *     { table: "staging.orders", mode: "upsert", mergeKey: "id" });
 *   return { merged: n };
 * });
 * ```
 */
export function redshift(options: RedshiftOptions): RedshiftConnector {
  const picked = pickPgOptions("redshift", options, 'redshift({ dsn: ctx.secret("REDSHIFT_DSN") }) or redshift({ host: "wh.abc.eu-west-1.redshift.amazonaws.com", database: "dev", user: "etl", password: ctx.secret("RS_PASSWORD") })');
  return createSqlConnector("redshift", picked, ["append", "replace", "upsert"] as const) as RedshiftConnector;
}
