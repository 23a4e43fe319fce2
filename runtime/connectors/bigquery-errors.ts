/**
 * BigQuery errors → Tau codes, in one place. The client raises `ApiError`s carrying the HTTP status
 * (`code`) and Google's error list (`errors: [{reason, message}]`, from `{error:{code,message,errors}}` or a
 * job's `status.errors`); insertAll row failures arrive as a `PartialFailureError` whose `errors` are
 * `[{row, errors:[{reason, message}]}]`; network failures as Node errors (ECONNREFUSED, …).
 */
import { TauError, type ErrorCode } from "../../server/contract";
import { truncateSql, truncateText } from "./warehouse-common";

const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN", "ECONNABORTED"]);

export interface BigQueryErrorContext {
  sql?: string;
  table?: string;
  host?: string;
  port?: number;
}

interface GoogleErrorItem {
  reason?: string;
  message?: string;
  errors?: GoogleErrorItem[];
}

function codeFor(reason: string, status: number | undefined, message: string): ErrorCode {
  switch (reason) {
    case "notFound":
      return "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
    case "duplicate":
      return "TAU_E_CONNECTOR_QUERY_FAILED";
    case "invalidQuery":
      if (/Syntax error/i.test(message)) return "TAU_E_CONNECTOR_SYNTAX";
      if (/Unrecognized name|not found|does not have a field/i.test(message)) return "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
      if (/cannot be assigned|No matching signature|Could not cast|Invalid (?:timestamp|date|datetime|integer)|type/i.test(message)) return "TAU_E_CONNECTOR_TYPE_MISMATCH";
      return "TAU_E_CONNECTOR_QUERY_FAILED";
    case "invalid":
      return /Cannot convert|Could not parse|Invalid|cannot be assigned|type/i.test(message) ? "TAU_E_CONNECTOR_TYPE_MISMATCH" : "TAU_E_CONNECTOR_QUERY_FAILED";
    case "accessDenied":
    case "forbidden":
    case "billingNotEnabled":
      return "TAU_E_CONNECTOR_PERMISSION_DENIED";
    case "authError":
    case "unauthorized":
      return "TAU_E_CONNECTOR_AUTH_FAILED";
    case "timeout":
    case "jobTimeout":
    case "deadlineExceeded":
      return "TAU_E_CONNECTOR_TIMEOUT";
    case "rateLimitExceeded":
    case "quotaExceeded":
    case "backendError":
    case "internalError":
      return "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE";
    default:
      if (status === 401) return "TAU_E_CONNECTOR_AUTH_FAILED";
      if (status === 403) return "TAU_E_CONNECTOR_PERMISSION_DENIED";
      if (status === 404) return "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
      if (status === 429 || (status !== undefined && status >= 500)) return "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE";
      if (/timed out|timeout/i.test(message)) return "TAU_E_CONNECTOR_TIMEOUT";
      return "TAU_E_CONNECTOR_QUERY_FAILED";
  }
}

/** Converts anything the BigQuery client threw into a TauError. TauErrors pass through. */
export function convertBigQueryError(err: unknown, ctx: BigQueryErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  const e = (err ?? {}) as { message?: unknown; code?: unknown; errors?: unknown; name?: unknown };
  let message = typeof e.message === "string" ? e.message : String(err);
  const details: Record<string, unknown> = {};
  if (ctx.sql !== undefined) details.sql = truncateSql(ctx.sql);
  if (ctx.table !== undefined) details.table = ctx.table;
  if (typeof e.code === "string" && NETWORK.has(e.code)) {
    return new TauError("TAU_E_CONNECTOR_UNREACHABLE", `Cannot reach BigQuery at ${ctx.host ?? "?"}:${ctx.port ?? "?"} (${e.code}).`, {
      ...details,
      errno: e.code,
      host: ctx.host,
      port: ctx.port,
    });
  }
  const status = typeof e.code === "number" ? e.code : undefined;
  if (status !== undefined) details.status = status;
  let items = Array.isArray(e.errors) ? (e.errors as GoogleErrorItem[]) : [];
  if (e.name === "PartialFailureError" && items.length > 0) {
    // insertAll: [{row, errors:[{reason, message}]}] — report the first failing row's reason.
    const first = items.find((i) => Array.isArray(i.errors) && i.errors.length > 0);
    details.failedRows = items.length;
    items = first?.errors ?? [];
    if (items[0]?.message) message = `insertAll rejected ${details.failedRows} row(s): ${items[0].message}`;
  }
  const reason = items.find((i) => i.reason && i.reason !== "stopped")?.reason ?? items[0]?.reason ?? "";
  if (reason) details.reason = reason;
  const code = codeFor(reason, status, message);
  if (code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT") {
    const name = /Unrecognized name: (\w+)/.exec(message);
    if (name) details.column = name[1];
  }
  return new TauError(code, truncateText(message.trim()), details);
}
