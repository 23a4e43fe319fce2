/**
 * MySQL / MariaDB errors → Tau codes, in one place: the mysql driver classifies no failure anywhere else.
 * mysql2 gives server errors a symbolic `code` ("ER_DUP_ENTRY") with `errno` and `sqlMessage`, and network
 * failures the socket's code ("ECONNREFUSED"); both are matched here.
 */
import { TauError, type ErrorCode } from "../../server/contract";

const SQL_DETAIL_CHARS = 500;
const MESSAGE_CHARS = 2000;

/** What a mysql2 error carries (server errors fill all of it; socket errors only `code`). */
interface MysqlLikeError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

const CODES: Record<string, ErrorCode> = {
  // authentication
  ER_ACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_AUTH_FAILED",
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: "TAU_E_CONNECTOR_AUTH_FAILED",
  ER_NOT_SUPPORTED_AUTH_MODE: "TAU_E_CONNECTOR_AUTH_FAILED",
  ER_ACCOUNT_HAS_BEEN_LOCKED: "TAU_E_CONNECTOR_AUTH_FAILED",
  ER_MUST_CHANGE_PASSWORD_LOGIN: "TAU_E_CONNECTOR_AUTH_FAILED",
  AUTH_SWITCH_PLUGIN_ERROR: "TAU_E_CONNECTOR_AUTH_FAILED",
  // network
  ECONNREFUSED: "TAU_E_CONNECTOR_UNREACHABLE",
  ENOTFOUND: "TAU_E_CONNECTOR_UNREACHABLE",
  EAI_AGAIN: "TAU_E_CONNECTOR_UNREACHABLE",
  EHOSTUNREACH: "TAU_E_CONNECTOR_UNREACHABLE",
  ENETUNREACH: "TAU_E_CONNECTOR_UNREACHABLE",
  ECONNRESET: "TAU_E_CONNECTOR_UNREACHABLE",
  EPIPE: "TAU_E_CONNECTOR_UNREACHABLE",
  PROTOCOL_CONNECTION_LOST: "TAU_E_CONNECTOR_UNREACHABLE",
  ER_CON_COUNT_ERROR: "TAU_E_CONNECTOR_UNREACHABLE",
  ER_SERVER_SHUTDOWN: "TAU_E_CONNECTOR_UNREACHABLE",
  HANDSHAKE_NO_SSL_SUPPORT: "TAU_E_CONNECTOR_UNREACHABLE",
  // timeouts
  ETIMEDOUT: "TAU_E_CONNECTOR_TIMEOUT",
  PROTOCOL_SEQUENCE_TIMEOUT: "TAU_E_CONNECTOR_TIMEOUT",
  ER_LOCK_WAIT_TIMEOUT: "TAU_E_CONNECTOR_TIMEOUT",
  ER_STATEMENT_TIMEOUT: "TAU_E_CONNECTOR_TIMEOUT",
  ER_QUERY_TIMEOUT: "TAU_E_CONNECTOR_TIMEOUT",
  // concurrency
  ER_LOCK_DEADLOCK: "TAU_E_CONNECTOR_CONFLICT",
  ER_CHECKREAD: "TAU_E_CONNECTOR_CONFLICT",
  // unknown objects
  ER_NO_SUCH_TABLE: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_BAD_FIELD_ERROR: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_BAD_DB_ERROR: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_NO_DB_ERROR: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_BAD_TABLE_ERROR: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_SP_DOES_NOT_EXIST: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  ER_UNKNOWN_TABLE: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  // syntax
  ER_PARSE_ERROR: "TAU_E_CONNECTOR_SYNTAX",
  ER_SYNTAX_ERROR: "TAU_E_CONNECTOR_SYNTAX",
  ER_EMPTY_QUERY: "TAU_E_CONNECTOR_SYNTAX",
  // privileges
  ER_TABLEACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  ER_COLUMNACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  ER_DBACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  ER_SPECIFIC_ACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  ER_PROCACCESS_DENIED_ERROR: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  ER_OPTION_PREVENTS_STATEMENT: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  // values
  ER_TRUNCATED_WRONG_VALUE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_WARN_DATA_OUT_OF_RANGE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_DATA_TOO_LONG: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  WARN_DATA_TRUNCATED: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_WARN_DATA_TRUNCATED: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_DATA_OUT_OF_RANGE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_INVALID_JSON_TEXT: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_INVALID_JSON_TEXT_IN_PARAM: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_WRONG_VALUE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_WRONG_VALUE_FOR_TYPE: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  ER_DIVISION_BY_ZERO: "TAU_E_CONNECTOR_TYPE_MISMATCH",
  // constraints
  ER_DUP_ENTRY: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_DUP_KEY: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_BAD_NULL_ERROR: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_NO_DEFAULT_FOR_FIELD: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_NO_REFERENCED_ROW: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_NO_REFERENCED_ROW_2: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_ROW_IS_REFERENCED: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_ROW_IS_REFERENCED_2: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_CONSTRAINT_FAILED: "TAU_E_CONNECTOR_CONSTRAINT",
  ER_CHECK_CONSTRAINT_VIOLATED: "TAU_E_CONNECTOR_CONSTRAINT",
  // size
  ER_NET_PACKET_TOO_LARGE: "TAU_E_CONNECTOR_QUERY_FAILED",
  // disk
  ER_RECORD_FILE_FULL: "TAU_E_CONNECTOR_IO",
  ER_DISK_FULL: "TAU_E_CONNECTOR_IO",
  ER_OUTOFMEMORY: "TAU_E_CONNECTOR_IO",
};

export interface MysqlErrorContext {
  /** The statement that failed (truncated into details.sql). */
  sql?: string;
  /** The table a load or getSchema targeted. */
  table?: string;
  /** Where the driver tried to connect (for unreachable / auth errors). */
  host?: string;
  port?: number;
  details?: Record<string, unknown>;
}

/** The Tau code for a mysql2 error code, or QUERY_FAILED. Exposed for tests. */
export function mysqlCodeFor(code: string | undefined): ErrorCode {
  return (code !== undefined && CODES[code]) || "TAU_E_CONNECTOR_QUERY_FAILED";
}

/** Converts anything mysql2 (or the socket under it) threw into a TauError. TauErrors pass through. */
export function convertMysqlError(err: unknown, ctx: MysqlErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as MysqlLikeError;
  const raw = e.sqlMessage ?? e.message ?? String(err);
  let code = mysqlCodeFor(e.code);
  // Permission errors mentioning the access rules are sometimes raised as generic errno by proxies.
  if (code === "TAU_E_CONNECTOR_QUERY_FAILED" && /command denied to user/i.test(raw)) code = "TAU_E_CONNECTOR_PERMISSION_DENIED";
  const details: Record<string, unknown> = { ...(ctx.details ?? {}) };
  if (e.code) details.mysqlCode = e.code;
  if (typeof e.errno === "number" && e.errno > 0) details.errno = e.errno;
  if (e.sqlState) details.sqlState = e.sqlState;
  if (ctx.sql !== undefined) details.sql = truncate(ctx.sql, SQL_DETAIL_CHARS);
  if (ctx.table !== undefined) details.table = ctx.table;
  if (code === "TAU_E_CONNECTOR_UNREACHABLE" || code === "TAU_E_CONNECTOR_AUTH_FAILED" || (code === "TAU_E_CONNECTOR_TIMEOUT" && e.fatal)) {
    if (ctx.host !== undefined) details.host = ctx.host;
    if (ctx.port !== undefined) details.port = ctx.port;
  }
  const column = /column '([^']+)'/i.exec(raw) ?? /for key '([^']+)'/i.exec(raw);
  if (column && (code === "TAU_E_CONNECTOR_TYPE_MISMATCH" || code === "TAU_E_CONNECTOR_CONSTRAINT" || code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT")) {
    if (/for key/i.test(column[0])) details.key = column[1];
    else details.column = column[1];
  }
  let message = raw;
  if (code === "TAU_E_CONNECTOR_UNREACHABLE" && ctx.host !== undefined) {
    message = `Cannot reach the MySQL server at ${ctx.host}:${ctx.port ?? 3306} (${e.code ?? "error"}): ${raw}`;
  } else if (code === "TAU_E_CONNECTOR_TIMEOUT" && e.fatal && ctx.host !== undefined) {
    message = `The MySQL server at ${ctx.host}:${ctx.port ?? 3306} did not answer in time (${e.code ?? "timeout"}).`;
  }
  return new TauError(code, truncate(message, MESSAGE_CHARS), details);
}

/** Whether a mysql2 error left the connection unusable (the handle must reconnect). */
export function isFatalMysqlError(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as MysqlLikeError).fatal === true;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}
