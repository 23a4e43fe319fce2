/**
 * `mysql`: a MySQL or MariaDB database over the network (tested on MariaDB).
 */
import { createSdkError } from "../errors";
import { ObjectHasOwn, arrayIndexOf, arrayJoin } from "../primordials";
import { createSqlConnector, type SqlConnector } from "../sql-connector";

/**
 * Options of `mysql()`: either a `dsn` (`mysql://user:password@host:3306/database`) or the parts. Any string
 * may be a `ctx.secret(...)` reference: the host substitutes the value, which never enters the pipeline.
 *
 * @example
 * ```ts
 * const a: MysqlOptions = { dsn: ctx.secret("SHOP_DB_DSN") };
 * const b: MysqlOptions = { host: "db.internal", database: "shop", user: "etl", password: ctx.secret("SHOP_DB_PASSWORD") };
 * ```
 */
export type MysqlOptions =
  | { dsn: string; ssl?: MysqlSsl; connectTimeoutMs?: number }
  | {
      /** Host name or IP address. */
      host: string;
      /** Default 3306. */
      port?: number;
      /** The default database for unqualified table names. */
      database?: string;
      /** Default "root". */
      user?: string;
      password?: string;
      ssl?: MysqlSsl;
      /** How long to wait for the connection (default 10000 ms). */
      connectTimeoutMs?: number;
    };

/**
 * TLS for the connection: `true` verifies the server's certificate against the host name; an object may
 * pass a CA certificate (PEM) or turn verification off. In a dsn: `?ssl=true`.
 *
 * @example
 * ```ts
 * await using db = mysql({ host: "db.example.com", user: "etl", password: ctx.secret("DB_PASSWORD"), ssl: true });
 * ```
 */
export type MysqlSsl = boolean | { rejectUnauthorized?: boolean; ca?: string };

/**
 * A MySQL / MariaDB handle. `load` modes: `"append"` (default; bulk `LOAD DATA LOCAL INFILE`, or batched
 * multi-row INSERTs when the server disallows it), `"replace"` (a new table swapped in with one atomic
 * `RENAME TABLE`) and `"upsert"` (with `mergeKey`; one `INSERT … ON DUPLICATE KEY UPDATE` from a staging
 * table — the table needs a PRIMARY KEY or UNIQUE index on the key, which load creates with a new table).
 * Parameters use `?` placeholders. Dates and timestamps come back as ISO strings (UTC), DECIMAL as a number
 * when it has at most 15 significant digits (else its exact text), BIGINT as a number when safe (else
 * text), TINYINT(1) as a boolean and JSON columns parsed.
 *
 * @example
 * ```ts
 * await using db = mysql({ dsn: ctx.secret("SHOP_DB_DSN") });
 * const rows = await db.extract<{ id: number; total: number }>("SELECT id, total FROM orders WHERE day = ?", ["2026-01-31"]);
 * await db.load(rows, { table: "reporting.orders", mode: "upsert", mergeKey: "id" });
 * ```
 */
export interface MysqlConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "mysql";
}

const FIELDS = ["dsn", "host", "port", "database", "user", "password", "ssl", "connectTimeoutMs"] as const;

/**
 * Opens (lazily, on first use) a connection to a MySQL or MariaDB server. The tenant's policy must allow the
 * `mysql` connector and egress to the host and port (else TAU_E_POLICY_DENIED, before any connection is
 * made). Errors come back as codes: TAU_E_CONNECTOR_AUTH_FAILED, TAU_E_CONNECTOR_UNREACHABLE,
 * TAU_E_CONNECTOR_UNKNOWN_OBJECT, TAU_E_CONNECTOR_SYNTAX, TAU_E_CONNECTOR_PERMISSION_DENIED,
 * TAU_E_CONNECTOR_TYPE_MISMATCH, TAU_E_CONNECTOR_CONSTRAINT, TAU_E_CONNECTOR_TIMEOUT, TAU_E_CONNECTOR_CONFLICT.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local, mysql } from "tau/connectors";
 *
 * export default pipeline({ name: "shop_orders" }, async (ctx) => {
 *   await using shop = mysql({ host: "db.internal", database: "shop", user: "etl", password: ctx.secret("SHOP_DB_PASSWORD") });
 *   await using wh = duckdb_local();
 *   // Host-side copy: the rows never enter the pipeline.
 *   const n = await wh.load(shop.query("SELECT * FROM orders WHERE day = ?", [ctx.params.day]), { table: "orders", mode: "append" });
 *   return { copied: n };
 * });
 * ```
 */
export function mysql(options: MysqlOptions): MysqlConnector {
  const o = options as Record<string, unknown> | null | undefined;
  const fail = (message: string): never => {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", `mysql: ${message}`, {
      hint: 'Pass e.g. mysql({ dsn: ctx.secret("DB_DSN") }) or mysql({ host: "db.internal", database: "shop", user: "etl", password: ctx.secret("DB_PASSWORD") }).',
      details: { kind: "mysql" },
    });
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
  if (hasDsn && picked.host !== undefined) fail("takes either a dsn or host/port/…, not both.");
  if (picked.database !== undefined && typeof picked.database !== "string") fail("database must be a string.");
  if (picked.user !== undefined && typeof picked.user !== "string") fail("user must be a string.");
  if (picked.password !== undefined && typeof picked.password !== "string") fail("password must be a string.");
  const port = picked.port;
  if (port !== undefined && (typeof port !== "number" || port % 1 !== 0 || port < 1 || port > 65535)) fail("port must be an integer from 1 to 65535.");
  const t = picked.connectTimeoutMs;
  if (t !== undefined && (typeof t !== "number" || !(t > 0))) fail("connectTimeoutMs must be a positive number.");
  const ssl = picked.ssl;
  if (ssl !== undefined && typeof ssl !== "boolean" && (typeof ssl !== "object" || ssl === null)) fail("ssl must be true, false or { rejectUnauthorized?, ca? }.");
  return createSqlConnector("mysql", picked, ["append", "replace", "upsert"] as const) as MysqlConnector;
}
