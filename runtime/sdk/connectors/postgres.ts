/**
 * `postgres`: a PostgreSQL database over the network. `redshift` (./redshift.ts) shares the option checks.
 */
import { createSdkError } from "../errors";
import { ObjectHasOwn, arrayIndexOf, arrayJoin } from "../primordials";
import { createSqlConnector, type SqlConnector } from "../sql-connector";

/**
 * TLS for the connection: `true` (or `"verify-full"`) verifies the server's certificate against the host
 * name; `"require"` encrypts without verifying; an object may pass a CA certificate (PEM). In a dsn:
 * `?sslmode=require` / `?sslmode=verify-full`.
 *
 * @example
 * ```ts
 * await using db = postgres({ host: "db.example.com", database: "app", user: "etl", password: ctx.secret("PG_PASSWORD"), ssl: true });
 * ```
 */
export type PostgresSsl = boolean | "require" | "verify-full" | { rejectUnauthorized?: boolean; ca?: string };

/**
 * Options of `postgres()`: either a `dsn` (`postgres://user:password@host:5432/database?sslmode=require`) or
 * the parts. Any string may be a `ctx.secret(...)` reference: the host substitutes the value, which never
 * enters the pipeline.
 *
 * @example
 * ```ts
 * const a: PostgresOptions = { dsn: ctx.secret("WAREHOUSE_DSN") };
 * const b: PostgresOptions = { host: "db.internal", database: "app", user: "etl", password: ctx.secret("PG_PASSWORD") };
 * ```
 */
export type PostgresOptions =
  | { dsn: string; ssl?: PostgresSsl; connectTimeoutMs?: number; statementTimeoutMs?: number }
  | {
      /** Host name or IP address. */
      host: string;
      /** Default 5432 (5439 for redshift). */
      port?: number;
      database?: string;
      user?: string;
      password?: string;
      ssl?: PostgresSsl;
      /** How long to wait for the connection (default 10000 ms). */
      connectTimeoutMs?: number;
      /** The server-side statement_timeout for this connection (default: the server's). */
      statementTimeoutMs?: number;
    };

/**
 * A PostgreSQL handle. `load` modes: `"append"` (default; `COPY … FROM STDIN`, streamed), `"replace"`
 * (`TRUNCATE` + `COPY` in one transaction: readers wait for the commit and then see the new rows, never an
 * empty table) and `"upsert"` (with `mergeKey`: the rows are staged with `COPY`, duplicates within the load
 * keep the last row, then one `INSERT … ON CONFLICT (key) DO UPDATE`; a table that load creates gets the key
 * as its PRIMARY KEY, an existing table needs a primary key or unique index on exactly those columns).
 * Every load is one transaction: a failed load leaves the table as it was. Parameters use `$1, $2, …`.
 * Timestamps come back as ISO strings in UTC, dates as "YYYY-MM-DD", BIGINT as a number when safe (else
 * text), NUMERIC as a number when it has at most 15 significant digits (else its exact text), JSON/JSONB
 * parsed.
 *
 * @example
 * ```ts
 * await using db = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
 * const rows = await db.extract<{ id: number; total: number }>("SELECT id, total FROM orders WHERE day = $1", ["2026-01-31"]);
 * await db.load(rows, { table: "reporting.orders", mode: "upsert", mergeKey: "id" });
 * ```
 */
export interface PostgresConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "postgres";
}

const FIELDS = ["dsn", "host", "port", "database", "user", "password", "ssl", "connectTimeoutMs", "statementTimeoutMs"] as const;

/** Validates postgres/redshift options in the guest; returns the fields to send to the host. Internal. */
export function pickPgOptions(kind: string, options: unknown, example: string): Record<string, unknown> {
  const o = options as Record<string, unknown> | null | undefined;
  const fail = (message: string): never => {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", `${kind}: ${message}`, { hint: `Pass e.g. ${example}.`, details: { kind } });
  };
  if (typeof o !== "object" || o === null) return fail("options must be an object with a dsn or a host.");
  const picked: Record<string, unknown> = {};
  for (const key in o) {
    if (!ObjectHasOwn(o, key)) continue;
    if (arrayIndexOf(FIELDS, key) < 0) fail(`unknown option '${key}' (options: ${arrayJoin(FIELDS, ", ")}).`);
    if (o[key] !== undefined) picked[key] = o[key];
  }
  const hasDsn = picked.dsn !== undefined;
  if (hasDsn && (typeof picked.dsn !== "string" || picked.dsn === "")) fail("dsn must be a non-empty string.");
  if (!hasDsn && (typeof picked.host !== "string" || picked.host === "")) fail("needs a dsn or a host.");
  if (hasDsn && (picked.host !== undefined || picked.port !== undefined || picked.user !== undefined || picked.password !== undefined || picked.database !== undefined)) {
    fail("takes either a dsn or host/port/database/user/password, not both.");
  }
  for (const key of ["database", "user", "password"]) {
    if (picked[key] !== undefined && typeof picked[key] !== "string") fail(`${key} must be a string.`);
  }
  const port = picked.port;
  if (port !== undefined && (typeof port !== "number" || port % 1 !== 0 || port < 1 || port > 65535)) fail("port must be an integer from 1 to 65535.");
  for (const key of ["connectTimeoutMs", "statementTimeoutMs"]) {
    const t = picked[key];
    if (t !== undefined && (typeof t !== "number" || t % 1 !== 0 || t < 0)) fail(`${key} must be a non-negative integer (milliseconds).`);
  }
  const ssl = picked.ssl;
  if (ssl !== undefined && typeof ssl !== "boolean" && ssl !== "require" && ssl !== "verify-full" && (typeof ssl !== "object" || ssl === null)) {
    fail('ssl must be true, false, "require", "verify-full" or { rejectUnauthorized?, ca? }.');
  }
  return picked;
}

/**
 * Opens (lazily, on first use) a connection to a PostgreSQL server. The tenant's policy must allow the
 * `postgres` connector and egress to the host and port (else TAU_E_POLICY_DENIED, before any connection is
 * made). Errors come back as codes: TAU_E_CONNECTOR_AUTH_FAILED, TAU_E_CONNECTOR_UNREACHABLE,
 * TAU_E_CONNECTOR_UNKNOWN_OBJECT, TAU_E_CONNECTOR_SYNTAX, TAU_E_CONNECTOR_PERMISSION_DENIED,
 * TAU_E_CONNECTOR_TYPE_MISMATCH (naming the column), TAU_E_CONNECTOR_CONSTRAINT, TAU_E_CONNECTOR_TIMEOUT
 * (statement timeout), TAU_E_CONNECTOR_CONFLICT (deadlock, serialization failure: retry).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { postgres } from "tau/connectors";
 *
 * export default pipeline({ name: "orders_sync" }, async (ctx) => {
 *   await using src = postgres({ dsn: ctx.secret("APP_DSN") });
 *   await using wh = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
 *   // Host-side copy: the rows stream from one database into the other and never enter the pipeline.
 *   const n = await wh.load(src.query("SELECT * FROM orders WHERE updated_at > $1", [ctx.lastSuccessfulRun ?? "1970-01-01"]),
 *     { table: "staging.orders", mode: "upsert", mergeKey: "id" });
 *   return { copied: n };
 * });
 * ```
 */
export function postgres(options: PostgresOptions): PostgresConnector {
  const picked = pickPgOptions("postgres", options, 'postgres({ dsn: ctx.secret("PG_DSN") }) or postgres({ host: "db.internal", database: "app", user: "etl", password: ctx.secret("PG_PASSWORD") })');
  return createSqlConnector("postgres", picked, ["append", "replace", "upsert"] as const) as PostgresConnector;
}
