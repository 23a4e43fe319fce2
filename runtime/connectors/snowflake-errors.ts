/**
 * Snowflake errors → Tau codes, in one place. Server errors carry Snowflake's error code (`002003` object
 * does not exist, `001003` syntax error, `390100` wrong credentials, …) and an SQLSTATE; the client's own
 * failures carry its 40xxxx codes (401001: could not reach Snowflake).
 */
import { TauError, type ErrorCode } from "../../server/contract";
import { truncateSql, truncateText } from "./warehouse-common";

const BY_CODE: Record<string, ErrorCode> = {
  "001003": "TAU_E_CONNECTOR_SYNTAX",
  "001007": "TAU_E_CONNECTOR_SYNTAX",
  "002003": "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  "000904": "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  "002043": "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  "002140": "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  "100038": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "100035": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "100040": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "100069": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "100071": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "002023": "TAU_E_CONNECTOR_TYPE_MISMATCH",
  "100072": "TAU_E_CONNECTOR_CONSTRAINT",
  "003001": "TAU_E_CONNECTOR_PERMISSION_DENIED",
  "003011": "TAU_E_CONNECTOR_PERMISSION_DENIED",
  "390100": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390101": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390102": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390144": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390318": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390112": "TAU_E_CONNECTOR_AUTH_FAILED",
  "390114": "TAU_E_CONNECTOR_AUTH_FAILED",
  "000630": "TAU_E_CONNECTOR_TIMEOUT",
  "000625": "TAU_E_CONNECTOR_TIMEOUT",
  "604": "TAU_E_CONNECTOR_TIMEOUT",
  "000604": "TAU_E_CONNECTOR_TIMEOUT",
  "401001": "TAU_E_CONNECTOR_UNREACHABLE",
  "402001": "TAU_E_CONNECTOR_UNREACHABLE",
  "401002": "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE",
};

export interface SnowflakeErrorContext {
  sql?: string;
  table?: string;
  host?: string;
  port?: number;
}

/** Converts anything the Snowflake client threw (or handed to a callback) into a TauError. TauErrors pass through. */
export function convertSnowflakeError(err: unknown, ctx: SnowflakeErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  const e = (err ?? {}) as { message?: unknown; code?: unknown; sqlState?: unknown; data?: { errorCode?: unknown } };
  const message = typeof e.message === "string" ? e.message : String(err);
  const raw = e.code ?? e.data?.errorCode;
  const sfCode = raw === undefined || raw === null ? "" : String(raw);
  const details: Record<string, unknown> = {};
  if (ctx.sql !== undefined) details.sql = truncateSql(ctx.sql);
  if (ctx.table !== undefined) details.table = ctx.table;
  if (sfCode) details.snowflakeCode = sfCode;
  if (typeof e.sqlState === "string") details.sqlState = e.sqlState;
  let code: ErrorCode = BY_CODE[sfCode] ?? BY_CODE[sfCode.padStart(6, "0")] ?? "TAU_E_CONNECTOR_QUERY_FAILED";
  if (code === "TAU_E_CONNECTOR_QUERY_FAILED") {
    if (/does not exist or not authorized|invalid identifier/i.test(message)) code = "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
    else if (/syntax error/i.test(message)) code = "TAU_E_CONNECTOR_SYNTAX";
    else if (/Insufficient privileges/i.test(message)) code = "TAU_E_CONNECTOR_PERMISSION_DENIED";
    else if (/is not recognized|can not be converted|Numeric value .* is not recognized|cannot be cast/i.test(message)) code = "TAU_E_CONNECTOR_TYPE_MISMATCH";
    else if (/timeout|timed out/i.test(message)) code = "TAU_E_CONNECTOR_TIMEOUT";
  }
  if (code === "TAU_E_CONNECTOR_UNREACHABLE") {
    details.host = ctx.host;
    details.port = ctx.port;
  }
  if (code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT") {
    const column = /invalid identifier '([^']+)'/i.exec(message);
    if (column) details.column = column[1];
  }
  return new TauError(code, truncateText(message.trim()), details);
}
