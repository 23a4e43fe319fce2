/**
 * PostgreSQL (and Redshift, same wire protocol) errors → Tau codes, in one place. The server's SQLSTATE is
 * the classifier; socket errors (`ECONNREFUSED`, `ENOTFOUND`, …) mean the server was never reached. Messages
 * never carry the connection string or password (pg does not echo them; the bridge also scrubs secrets).
 */
import { TauError, type ErrorCode } from "../../server/contract";

const SQL_DETAIL_CHARS = 500;
const MESSAGE_CHARS = 2000;

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/** Tau code for a SQLSTATE (or a Node socket error code), or null when nothing specific applies. */
export function codeForSqlState(state: string): ErrorCode | null {
  switch (state) {
    case "28P01":
    case "28000":
      return "TAU_E_CONNECTOR_AUTH_FAILED";
    case "42P01": // undefined_table
    case "42703": // undefined_column
    case "42883": // undefined_function
    case "3F000": // invalid_schema_name
    case "42704": // undefined_object
    case "3D000": // invalid_catalog_name (database does not exist)
      return "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
    case "42601":
      return "TAU_E_CONNECTOR_SYNTAX";
    case "42501":
      return "TAU_E_CONNECTOR_PERMISSION_DENIED";
    case "22P02": // invalid_text_representation
    case "22003": // numeric_value_out_of_range
    case "42804": // datatype_mismatch
    case "22007": // invalid_datetime_format
    case "22008": // datetime_field_overflow
    case "22001": // string_data_right_truncation
    case "22023": // invalid_parameter_value
    case "22021": // character_not_in_repertoire
    case "22P04": // bad_copy_file_format
      return "TAU_E_CONNECTOR_TYPE_MISMATCH";
    case "23505":
    case "23502":
    case "23503":
    case "23514":
    case "23P01":
      return "TAU_E_CONNECTOR_CONSTRAINT";
    case "57014": // query_canceled (statement_timeout)
    case "55P03": // lock_not_available (lock_timeout)
      return "TAU_E_CONNECTOR_TIMEOUT";
    case "40001":
    case "40P01":
      return "TAU_E_CONNECTOR_CONFLICT";
    case "53300": // too_many_connections
    case "57P01": // admin_shutdown
    case "57P03": // cannot_connect_now
    case "08000":
    case "08001":
    case "08003":
    case "08006":
      return "TAU_E_CONNECTOR_UNREACHABLE";
    default:
      if (NETWORK_CODES.has(state)) return "TAU_E_CONNECTOR_UNREACHABLE";
      if (state.startsWith("22")) return "TAU_E_CONNECTOR_TYPE_MISMATCH";
      if (state.startsWith("23")) return "TAU_E_CONNECTOR_CONSTRAINT";
      if (state.startsWith("08")) return "TAU_E_CONNECTOR_UNREACHABLE";
      return null;
  }
}

export interface PgErrorContext {
  /** The statement that failed (truncated into details.sql). */
  sql?: string;
  /** The table a load or getSchema targeted. */
  table?: string;
  /** Where the connector tried to connect (for unreachable/auth errors). */
  host?: string;
  port?: number;
  details?: Record<string, unknown>;
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  column?: unknown;
  table?: unknown;
  constraint?: unknown;
  where?: unknown;
  detail?: unknown;
  hint?: unknown;
  position?: unknown;
}

/** Converts anything pg (or the socket under it) threw into a TauError. TauErrors pass through. */
export function convertPgError(err: unknown, ctx: PgErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as PgLikeError;
  const raw = err instanceof Error ? err.message : typeof e.message === "string" ? e.message : String(err);
  const state = typeof e.code === "string" ? e.code : "";
  let code = codeForSqlState(state);
  if (code === null) {
    if (/timeout expired|Connection terminated due to connection timeout|timed out/i.test(raw)) code = "TAU_E_CONNECTOR_TIMEOUT";
    else if (/Connection terminated|connection.*(closed|ended)|not queryable/i.test(raw)) code = "TAU_E_CONNECTOR_UNREACHABLE";
    else code = "TAU_E_CONNECTOR_QUERY_FAILED";
  }
  const details: Record<string, unknown> = { ...(ctx.details ?? {}) };
  if (state) details.sqlState = state;
  if (ctx.sql !== undefined) details.sql = truncate(ctx.sql, SQL_DETAIL_CHARS);
  if (ctx.table !== undefined) details.table = ctx.table;
  if (code === "TAU_E_CONNECTOR_UNREACHABLE" || code === "TAU_E_CONNECTOR_AUTH_FAILED" || (code === "TAU_E_CONNECTOR_TIMEOUT" && !state)) {
    if (ctx.host !== undefined) details.host = ctx.host;
    if (ctx.port !== undefined) details.port = ctx.port;
  }
  const column = columnOf(e, raw);
  if (column !== null) details.column = column;
  if (typeof e.constraint === "string") details.constraint = e.constraint;
  if (typeof e.position === "string" && code === "TAU_E_CONNECTOR_SYNTAX") details.position = Number(e.position);
  let message = raw;
  if (typeof e.detail === "string" && e.detail !== "" && code !== "TAU_E_CONNECTOR_AUTH_FAILED") message += ` (${e.detail})`;
  if (code === "TAU_E_CONNECTOR_TYPE_MISMATCH" && column !== null && !message.includes(column)) message += ` (column "${column}")`;
  const hint = hintFor(code, state, e);
  return new TauError(code, truncate(message, MESSAGE_CHARS), details, hint);
}

/** The column an error is about: pg's `column` field, COPY's context line, or the message. */
function columnOf(e: PgLikeError, raw: string): string | null {
  if (typeof e.column === "string" && e.column !== "") return e.column;
  if (typeof e.where === "string") {
    // COPY orders, line 2, column amount: "abc"
    const m = /COPY [^,]+, line \d+, column ([^:]+):/.exec(e.where);
    if (m) return m[1];
  }
  const m = /column "([^"]+)"/.exec(raw);
  return m ? m[1] : null;
}

function hintFor(code: ErrorCode, state: string, e: PgLikeError): string | undefined {
  if (state === "3D000") return "The database named in the connection options does not exist; check the database (or the DSN's path).";
  if (code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT" && typeof e.hint === "string") return e.hint;
  if (state === "57014") return "The statement ran past statement_timeout and was cancelled; retry, narrow the query, or raise the timeout.";
  return undefined;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}
