/**
 * The one place where database errors become Tau errors. ORM queries arrive already converted by
 * mikro-orm's exception converter (`DriverException` subclasses); raw better-sqlite3 errors from the hot
 * path are converted with the same converter first (`Database.convert`), so both paths share this table.
 */
import { ConstraintViolationException, DeadlockException, DriverException, LockWaitTimeoutException } from "@mikro-orm/core";
import { TauError } from "../contract";

/** Where the error happened: the daemon's home, and with PostgreSQL the database's URL (password hidden). */
export interface StoreErrorContext {
  home: string;
  operation: string;
  url?: string;
}

const PG_FAILED_HINT =
  "Check that the PostgreSQL server of TAU_DATABASE_URL (details.url) is up and reachable, and that its disk is not full; the daemon's stderr log has the database's message.";

export function storeErrorToTau(err: unknown, context: StoreErrorContext): TauError {
  if (err instanceof TauError) return err;
  const details = context.url === undefined ? { operation: context.operation, home: context.home } : { operation: context.operation, url: context.url };
  const failedHint = context.url === undefined ? undefined : PG_FAILED_HINT;
  // The server went away (PostgreSQL restarted, network down): the operator must act, not a bug of ours.
  if (isConnectionError(err)) {
    return new TauError("TAU_E_STORE_FAILED", undefined, { ...details, cause: errorMessage(err) }, failedHint);
  }
  // Not from the database: a bug on our side, not a storage problem; keep it visible as such.
  if (!(err instanceof DriverException)) {
    return new TauError("TAU_E_INTERNAL", undefined, { ...details, cause: errorMessage(err) });
  }
  const cause = { ...details, cause: err.message, driverCode: err.code ?? null };
  if (err instanceof LockWaitTimeoutException || err instanceof DeadlockException || err.code === "SQLITE_BUSY" || err.code === "SQLITE_LOCKED") {
    return new TauError("TAU_E_STORE_BUSY", undefined, cause);
  }
  if (err instanceof ConstraintViolationException) {
    return new TauError("TAU_E_STORE_CONFLICT", undefined, cause);
  }
  // Disk full, I/O error, read-only or corrupt file, cannot open: the operator must act.
  return new TauError("TAU_E_STORE_FAILED", undefined, cause, failedHint);
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "57P01", "57P03"]);

/** A lost or refused connection to the database server (pg raises these as plain errors or SQLSTATE 57P0x). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message);
}

/** A database URL as it may be shown: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
