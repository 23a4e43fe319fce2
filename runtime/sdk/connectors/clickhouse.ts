/**
 * `clickhouse`: a ClickHouse server or ClickHouse Cloud, over its HTTP interface (the official client).
 */
import { createSqlConnector, type SqlConnector } from "../sql-connector";
import { pickOptions } from "./warehouse-options";

/**
 * Options of `clickhouse()`. `url` is the HTTP(S) endpoint (`https://host:8443` for ClickHouse Cloud,
 * `http://host:8123` for a plain server). Any string may be a `ctx.secret(...)` reference: the host
 * substitutes the value, which never enters the pipeline.
 *
 * @example
 * ```ts
 * const o: ClickHouseOptions = { url: "https://abc.eu-west-1.aws.clickhouse.cloud:8443", username: "etl", password: ctx.secret("CH_PASSWORD"), database: "analytics" };
 * ```
 */
export interface ClickHouseOptions {
  /** The server's HTTP(S) URL. */
  url: string;
  /** Default "default". */
  username?: string;
  password?: string;
  /** The database for unqualified table names (default: the user's default database). */
  database?: string;
  /** How long one request may take (default 300000 ms). */
  requestTimeoutMs?: number;
  /** ClickHouse settings sent with every query, e.g. `{ max_threads: 4 }`. */
  settings?: Record<string, string | number | boolean>;
}

/**
 * A ClickHouse handle. Parameters are ClickHouse's typed placeholders `{p1:Type}`, `{p2:Type}`, … filled
 * from `params[0]`, `params[1]`, …. 64-bit integers come back as numbers when safe (else their decimal
 * text), DateTime as ISO-8601 UTC. `load` modes: `"append"` (default; rows are staged with streamed
 * `INSERT … FORMAT JSONEachRow`, then moved with one `INSERT … SELECT`), `"replace"` (a new table swapped
 * in with `EXCHANGE TABLES`, atomic) and `"upsert"` (with `mergeKey`: `ALTER TABLE … DELETE` of the staged
 * keys with `mutations_sync = 2`, then `INSERT … SELECT` — idempotent, but not atomic for readers: between
 * the two statements the updated keys are briefly missing). A missing table is created as
 * `MergeTree ORDER BY tuple()` with Nullable columns.
 *
 * @example
 * ```ts
 * await using ch = clickhouse({ url: "https://ch.example.com:8443", password: ctx.secret("CH_PASSWORD") });
 * const rows = await ch.extract<{ day: string; n: number }>("SELECT toDate(ts) AS day, count() AS n FROM events WHERE ts > {p1:DateTime64(3)} GROUP BY day", [ctx.lastSuccessfulRun ?? "1970-01-01"]);
 * await ch.load(rows, { table: "analytics.daily_events", mode: "upsert", mergeKey: "day" });
 * ```
 */
export interface ClickHouseConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "clickhouse";
}

/**
 * Opens (lazily, on first use) a ClickHouse connection. The tenant's policy must allow the `clickhouse`
 * connector and egress to the URL's host and port (else TAU_E_POLICY_DENIED, before any request). Errors come
 * back as codes: TAU_E_CONNECTOR_AUTH_FAILED, TAU_E_CONNECTOR_UNREACHABLE, TAU_E_CONNECTOR_UNKNOWN_OBJECT,
 * TAU_E_CONNECTOR_SYNTAX, TAU_E_CONNECTOR_PERMISSION_DENIED, TAU_E_CONNECTOR_TYPE_MISMATCH,
 * TAU_E_CONNECTOR_TIMEOUT (ClickHouse's own code and name in `details.clickhouseCode` / `clickhouseError`).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { clickhouse, duckdb_local } from "tau/connectors";
 *
 * export default pipeline({ name: "events_to_warehouse" }, async (ctx) => {
 *   await using ch = clickhouse({ url: "https://ch.example.com:8443", username: "etl", password: ctx.secret("CH_PASSWORD") });
 *   await using wh = duckdb_local();
 *   // Host-side copy: the rows never enter the pipeline.
 *   const n = await wh.load(ch.query("SELECT * FROM events WHERE toDate(ts) = {p1:Date}", [ctx.params.day]), { table: "events", mode: "append" });
 *   return { copied: n };
 * });
 * ```
 */
export function clickhouse(options: ClickHouseOptions): ClickHouseConnector {
  const picked = pickOptions(
    "clickhouse",
    options,
    { url: "string", username: "string", password: "string", database: "string", requestTimeoutMs: "number", settings: "object" },
    ["url"],
    'clickhouse({ url: "https://ch.example.com:8443", username: "etl", password: ctx.secret("CH_PASSWORD") })',
  );
  return createSqlConnector("clickhouse", picked, ["append", "replace", "upsert"] as const) as ClickHouseConnector;
}
