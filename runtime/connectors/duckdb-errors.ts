/**
 * DuckDB errors → Tau codes, in one place (the driver calls nothing else to classify a failure). DuckDB's
 * C API gives no error class, only a message whose prefix names the exception type ("Parser Error: …").
 */
import { TauError, type ErrorCode } from "../../server/contract";

const SQL_DETAIL_CHARS = 500;
const MESSAGE_CHARS = 2000;

/** The exception type DuckDB put in front of its message ("Parser Error", "Catalog Error", …), or null. */
export function duckdbErrorType(message: string): string | null {
  const m = /(?:^|: )([A-Z][A-Za-z]*(?: [A-Za-z]+){0,2} Error): /.exec(message);
  return m ? m[1] : null;
}

/** Whether the message is a conflict between concurrent transactions (retrying the transaction may work). */
export function isDuckDbTransactionConflict(message: string): boolean {
  return /TransactionContext Error/.test(message) && /conflict/i.test(message);
}

/** Whether the message is a lock conflict on the database file (another process holds it). */
export function isDuckDbLockConflict(message: string): boolean {
  return /Could not set lock on file|Conflicting lock is held/i.test(message);
}

function codeFor(type: string | null, message: string): ErrorCode {
  switch (type) {
    case "Parser Error":
      return "TAU_E_CONNECTOR_SYNTAX";
    case "Catalog Error":
      return "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
    case "Binder Error":
      return /not found|does not exist|does not have a column|not in (?:the )?(?:FROM|table)|could not find|unknown/i.test(message)
        ? "TAU_E_CONNECTOR_UNKNOWN_OBJECT"
        : "TAU_E_CONNECTOR_QUERY_FAILED";
    case "Conversion Error":
    case "Mismatch Type Error":
    case "Out of Range Error":
    case "Type Error":
      return "TAU_E_CONNECTOR_TYPE_MISMATCH";
    case "Constraint Error":
      return "TAU_E_CONNECTOR_CONSTRAINT";
    case "Permission Error":
      return /disabled by configuration/i.test(message) ? "TAU_E_POLICY_DENIED" : "TAU_E_CONNECTOR_IO";
    case "IO Error":
    case "Serialization Error":
      return isDuckDbLockConflict(message) ? "TAU_E_CONNECTOR_BUSY" : "TAU_E_CONNECTOR_IO";
    default:
      // The appender reports constraint violations without DuckDB's "Constraint Error" prefix.
      if (/violates (?:primary key|unique|foreign key|not null|check) constraint|constraint failed/i.test(message)) return "TAU_E_CONNECTOR_CONSTRAINT";
      return isDuckDbLockConflict(message) || isDuckDbTransactionConflict(message) ? "TAU_E_CONNECTOR_BUSY" : "TAU_E_CONNECTOR_QUERY_FAILED";
  }
}

export interface DuckDbErrorContext {
  /** The statement that failed, when there was one (truncated into details.sql). */
  sql?: string;
  /** Table the operation targeted (load, getSchema). */
  table?: string;
  /** Extra details to merge. */
  details?: Record<string, unknown>;
}

/** Converts anything a DuckDB call threw into a TauError with a connector code. TauErrors pass through. */
export function convertDuckDbError(err: unknown, ctx: DuckDbErrorContext = {}): TauError {
  if (err instanceof TauError) return err;
  // node-api prefixes some messages with what it was doing ("Failed to extract statements: Parser Error: …").
  const raw = (err instanceof Error ? err.message : String(err)).replace(/^Failed to [a-z ]+: (?=[A-Z][A-Za-z ]* Error: )/, "");
  const type = duckdbErrorType(raw);
  const code = codeFor(type, raw);
  const details: Record<string, unknown> = { ...(ctx.details ?? {}) };
  if (type) details.duckdbError = type;
  if (code === "TAU_E_POLICY_DENIED") details.rule = "duckdbAnyPath";
  if (ctx.sql !== undefined) details.sql = truncate(ctx.sql, SQL_DETAIL_CHARS);
  if (ctx.table !== undefined) details.table = ctx.table;
  const column = /column "([^"]+)"/i.exec(raw) ?? /column ([A-Za-z_][\w.]*)/.exec(raw);
  if (column && (code === "TAU_E_CONNECTOR_TYPE_MISMATCH" || code === "TAU_E_CONNECTOR_CONSTRAINT" || code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT")) {
    details.column = column[1];
  }
  return new TauError(code, truncate(raw, MESSAGE_CHARS), details);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}
