/**
 * The one place where database errors become Tau errors. ORM queries arrive already converted by
 * mikro-orm's exception converter (`DriverException` subclasses); raw better-sqlite3 errors from the hot
 * path are converted with the same converter first (`Database.convert`), so both paths share this table.
 */
import { ConstraintViolationException, DriverException, LockWaitTimeoutException } from "@mikro-orm/core";
import { TauError } from "../contract";

export function storeErrorToTau(err: unknown, context: { home: string; operation: string }): TauError {
  if (err instanceof TauError) return err;
  const details = { operation: context.operation, home: context.home };
  // Not from the database: a bug on our side, not a storage problem; keep it visible as such.
  if (!(err instanceof DriverException)) {
    return new TauError("TAU_E_INTERNAL", undefined, { ...details, cause: errorMessage(err) });
  }
  const cause = { ...details, cause: err.message, driverCode: err.code ?? null };
  if (err instanceof LockWaitTimeoutException || err.code === "SQLITE_BUSY" || err.code === "SQLITE_LOCKED") {
    return new TauError("TAU_E_STORE_BUSY", undefined, cause);
  }
  if (err instanceof ConstraintViolationException) {
    return new TauError("TAU_E_STORE_CONFLICT", undefined, cause);
  }
  // Disk full, I/O error, read-only or corrupt file, cannot open: the operator must act.
  return new TauError("TAU_E_STORE_FAILED", undefined, cause);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
