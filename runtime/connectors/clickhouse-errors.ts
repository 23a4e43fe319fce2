/**
 * ClickHouse errors → Tau codes, in one place. The client turns a server exception
 * (`Code: 60. DB::Exception: … (UNKNOWN_TABLE)`) into a `ClickHouseError` with `code` and `type`; network
 * failures arrive as Node errors with `code` (ECONNREFUSED, …) and the client's own request timeout as
 * "Timeout error.".
 */
import { TauError, type ErrorCode } from "../../server/contract";
import { truncateSql, truncateText } from "./warehouse-common";

const BY_TYPE: Record<string, ErrorCode> = {
  SYNTAX_ERROR: "TAU_E_CONNECTOR_SYNTAX",
  UNKNOWN_TABLE: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  UNKNOWN_DATABASE: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  UNKNOWN_IDENTIFIER: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  NO_SUCH_COLUMN_IN_TABLE: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  UNKNOWN_FUNCTION: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  THERE_IS_NO_COLUMN: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  AUTHENTICATION_FAILED: "TAU_E_CONNECTOR_AUTH_FAILED",
  UNKNOWN_USER: "TAU_E_CONNECTOR_AUTH_FAILED",
  WRONG_PASSWORD: "TAU_E_CONNECTOR_AUTH_FAILED",
  REQUIRED_PASSWORD: "TAU_E_CONNECTOR_AUTH_FAILED",
  ACCESS_DENIED: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  READONLY: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  NOT_ENOUGH_PRIVILEGES: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  TIMEOUT_EXCEEDED: "TAU_E_CONNECTOR_TIMEOUT",
  SOCKET_TIMEOUT: "TAU_E_CONNECTOR_TIMEOUT",
  TYPE_MISMATCH: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_TEXT: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_INPUT_ASSERTION_FAILED: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_QUOTED_STRING: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_DATE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_DATETIME: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_NUMBER: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_PARSE_BOOL: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_CONVERT_TYPE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  INCORRECT_DATA: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  TOO_MANY_SIMULTANEOUS_QUERIES: "TAU_E_CONNECTOR_BUSY",
};

const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN", "ECONNABORTED"]);

export interface ClickHouseErrorContext {
  sql?: string;
  table?: string;
  host?: string;
  port?: number;
}

/** Converts anything the ClickHouse client threw into a TauError. TauErrors pass through. */
export function convertClickHouseError(err: unknown, ctx: ClickHouseErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  const e = (err ?? {}) as { message?: unknown; code?: unknown; type?: unknown; name?: unknown };
  const message = typeof e.message === "string" ? e.message : String(err);
  const details: Record<string, unknown> = {};
  if (ctx.sql !== undefined) details.sql = truncateSql(ctx.sql);
  if (ctx.table !== undefined) details.table = ctx.table;
  let code: ErrorCode = "TAU_E_CONNECTOR_QUERY_FAILED";
  if (typeof e.type === "string" && /^[A-Z0-9_]+$/.test(e.type)) {
    details.clickhouseCode = Number(e.code);
    details.clickhouseError = e.type;
    code = BY_TYPE[e.type] ?? "TAU_E_CONNECTOR_QUERY_FAILED";
    const column = /(?:column|identifier) [`']?([^\s`']+)[`']?/i.exec(message);
    if (column && (code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT" || code === "TAU_E_CONNECTOR_TYPE_MISMATCH")) details.column = column[1];
  } else if (typeof e.code === "string" && NETWORK.has(e.code)) {
    code = "TAU_E_CONNECTOR_UNREACHABLE";
    details.errno = e.code;
    if (ctx.host !== undefined) details.host = ctx.host;
    if (ctx.port !== undefined) details.port = ctx.port;
    return new TauError(code, `Cannot reach ClickHouse at ${ctx.host ?? "?"}:${ctx.port ?? "?"} (${e.code}).`, details);
  } else if (/^Timeout error/i.test(message) || e.code === "ETIMEDOUT" || e.name === "AbortError") {
    code = "TAU_E_CONNECTOR_TIMEOUT";
  } else if (/\b401\b|Unauthorized/i.test(message)) {
    code = "TAU_E_CONNECTOR_AUTH_FAILED";
  }
  return new TauError(code, truncateText(message.trim()), details);
}
