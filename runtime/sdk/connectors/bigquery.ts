/**
 * `bigquery`: Google BigQuery, over its REST API (the official client).
 */
import { createSqlConnector, type SqlConnector } from "../sql-connector";
import { pickOptions } from "./warehouse-options";

/**
 * Options of `bigquery()`. Credentials are a service-account key (the JSON file's text) or an OAuth2 access
 * token — from a secret, so the value never enters the pipeline; without either, the host's Application
 * Default Credentials are used.
 *
 * @example
 * ```ts
 * const o: BigQueryOptions = { projectId: "acme-prod", credentials: ctx.secret("GCP_SA_KEY"), dataset: "analytics", location: "EU" };
 * ```
 */
export interface BigQueryOptions {
  /** The project that runs (and pays for) the query jobs; also the default project of table names. */
  projectId: string;
  /** A service-account key: the JSON text of the key file. */
  credentials?: string;
  /** An OAuth2 access token (instead of credentials). */
  accessToken?: string;
  /** The dataset of unqualified table names (and the query's default dataset). */
  dataset?: string;
  /** Where jobs run, e.g. "EU", "US", "europe-west3". */
  location?: string;
  /** Another API root (a private endpoint or an emulator), e.g. "https://bigquery.example.internal". */
  apiEndpoint?: string;
  /** How long one query job may run (default 600000 ms). */
  timeoutMs?: number;
}

/**
 * A BigQuery handle. SQL is GoogleSQL with positional `?` parameters. Tables are `table` (in `dataset`),
 * `dataset.table` or `project.dataset.table`. INT64 comes back as a number when safe (else its decimal
 * text), TIMESTAMP as ISO-8601 UTC, JSON parsed, RECORD as objects. `stream()` reads the result page by
 * page (one `getQueryResults` page per batch). `load` stages rows with streaming inserts (`insertAll`), then:
 * `"append"` (default) → `INSERT … SELECT`; `"replace"` → `CREATE OR REPLACE TABLE … AS SELECT` (atomic; the
 * table's partitioning/clustering are not kept); `"upsert"` (with `mergeKey`) → one `MERGE`. A missing table
 * is created from the rows (INT64, FLOAT64, STRING, BOOL, DATE, TIMESTAMP, JSON).
 *
 * @example
 * ```ts
 * await using bq = bigquery({ projectId: "acme-prod", credentials: ctx.secret("GCP_SA_KEY"), dataset: "analytics" });
 * const top = await bq.extract<{ sku: string; n: number }>("SELECT sku, COUNT(*) AS n FROM orders WHERE day = ? GROUP BY sku", [ctx.params.day]);
 * ```
 */
export interface BigQueryConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "bigquery";
}

/**
 * Opens (lazily, on first use) a BigQuery client. The tenant's policy must allow the `bigquery` connector
 * and egress to `bigquery.googleapis.com:443` (and `oauth2.googleapis.com:443` with a service-account key),
 * else TAU_E_POLICY_DENIED. Errors come back as codes: TAU_E_CONNECTOR_AUTH_FAILED,
 * TAU_E_CONNECTOR_UNREACHABLE, TAU_E_CONNECTOR_UNKNOWN_OBJECT, TAU_E_CONNECTOR_SYNTAX,
 * TAU_E_CONNECTOR_PERMISSION_DENIED, TAU_E_CONNECTOR_TYPE_MISMATCH, TAU_E_CONNECTOR_TIMEOUT,
 * TAU_E_CONNECTOR_SERVICE_UNAVAILABLE (Google's reason in `details.reason`).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { bigquery, postgres } from "tau/connectors";
 *
 * export default pipeline({ name: "bq_to_pg" }, async (ctx) => {
 *   await using bq = bigquery({ projectId: "acme-prod", credentials: ctx.secret("GCP_SA_KEY") });
 *   await using pg = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
 *   // Host-side copy (the documented cross-warehouse pattern): rows never enter the pipeline.
 *   const n = await pg.load(bq.query("SELECT * FROM analytics.orders WHERE day = ?", [ctx.params.day]), { table: "staging.orders", mode: "replace" });
 *   return { copied: n };
 * });
 * ```
 */
export function bigquery(options: BigQueryOptions): BigQueryConnector {
  const picked = pickOptions(
    "bigquery",
    options,
    { projectId: "string", credentials: "string", accessToken: "string", dataset: "string", location: "string", apiEndpoint: "string", timeoutMs: "number" },
    ["projectId"],
    'bigquery({ projectId: "acme-prod", credentials: ctx.secret("GCP_SA_KEY"), dataset: "analytics" })',
  );
  return createSqlConnector("bigquery", picked, ["append", "replace", "upsert"] as const) as BigQueryConnector;
}
