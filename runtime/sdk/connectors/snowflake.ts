/**
 * `snowflake`: a Snowflake account, over Snowflake's REST protocol (the official snowflake-sdk).
 */
import { createSqlConnector, type SqlConnector } from "../sql-connector";
import { pickOptions } from "./warehouse-options";

/**
 * Options of `snowflake()`: the account identifier (`xy12345.eu-west-1`, or `orgname-account`), the user, and
 * exactly one credential — `password`, `privateKey` (PEM, key-pair authentication) or `token` (OAuth).
 * Credentials should be `ctx.secret(...)` references: the host substitutes the value.
 *
 * @example
 * ```ts
 * const o: SnowflakeOptions = { account: "acme-prod", username: "ETL", privateKey: ctx.secret("SF_KEY"), warehouse: "LOAD_WH", database: "RAW", schema: "SHOP" };
 * ```
 */
export interface SnowflakeOptions {
  account: string;
  username: string;
  password?: string;
  /** A PEM private key for key-pair (JWT) authentication. */
  privateKey?: string;
  /** An OAuth access token. */
  token?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  role?: string;
  /** Another URL for the account (a private link), e.g. "https://acme.privatelink.snowflakecomputing.com". */
  accessUrl?: string;
  /** How long login may take, retries included (default 60 s). */
  loginTimeoutSec?: number;
}

/**
 * A Snowflake handle. Parameters are positional `?`. Column names come back as Snowflake stores them (upper
 * case for unquoted names); NUMBER(…,0) as a number when safe (else its decimal text), DATE as
 * "YYYY-MM-DD", TIMESTAMP_* as ISO-8601 UTC, VARIANT parsed. Row fields map onto columns as unquoted SQL
 * names do (`id` → `ID`). `stream()` reads the statement's row stream. `load` stages rows in a temporary
 * table with array-bound INSERTs, then: `"append"` (default) → `INSERT … SELECT`; `"replace"` → a new table
 * swapped in with `ALTER TABLE … SWAP WITH` (atomic); `"upsert"` (with `mergeKey`) → one `MERGE`. A missing
 * table is created from the rows (NUMBER, FLOAT, VARCHAR, BOOLEAN, DATE, TIMESTAMP_TZ, VARIANT).
 *
 * @example
 * ```ts
 * await using sf = snowflake({ account: "acme-prod", username: "ETL", password: ctx.secret("SF_PASSWORD"), warehouse: "LOAD_WH", database: "RAW" });
 * await sf.load(rows, { table: "SHOP.ORDERS", mode: "upsert", mergeKey: "id" });
 * ```
 */
export interface SnowflakeConnector extends SqlConnector<"append" | "replace" | "upsert"> {
  readonly kind: "snowflake";
}

/**
 * Opens (lazily, on first use) a Snowflake session. The tenant's policy must allow the `snowflake` connector
 * and egress to `<account>.snowflakecomputing.com:443` (or `accessUrl`), else TAU_E_POLICY_DENIED. Errors
 * come back as codes: TAU_E_CONNECTOR_AUTH_FAILED, TAU_E_CONNECTOR_UNREACHABLE,
 * TAU_E_CONNECTOR_UNKNOWN_OBJECT, TAU_E_CONNECTOR_SYNTAX, TAU_E_CONNECTOR_PERMISSION_DENIED,
 * TAU_E_CONNECTOR_TYPE_MISMATCH, TAU_E_CONNECTOR_TIMEOUT (Snowflake's code in `details.snowflakeCode`).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { snowflake } from "tau/connectors";
 *
 * export default pipeline({ name: "sf_rollup" }, async (ctx) => {
 *   await using sf = snowflake({ account: "acme-prod", username: "ETL", password: ctx.secret("SF_PASSWORD"), warehouse: "LOAD_WH", database: "RAW" });
 *   const { rowsAffected } = await sf.execute("DELETE FROM SHOP.ORDERS WHERE day < ?", ["2020-01-01"]);
 *   return { deleted: rowsAffected };
 * });
 * ```
 */
export function snowflake(options: SnowflakeOptions): SnowflakeConnector {
  const picked = pickOptions(
    "snowflake",
    options,
    {
      account: "string",
      username: "string",
      password: "string",
      privateKey: "string",
      token: "string",
      warehouse: "string",
      database: "string",
      schema: "string",
      role: "string",
      accessUrl: "string",
      loginTimeoutSec: "number",
    },
    ["account", "username"],
    'snowflake({ account: "acme-prod", username: "ETL", password: ctx.secret("SF_PASSWORD"), warehouse: "LOAD_WH" })',
  );
  return createSqlConnector("snowflake", picked, ["append", "replace", "upsert"] as const) as SnowflakeConnector;
}
