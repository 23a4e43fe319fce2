import { ERRORS, type ErrorCode, type RunError } from "../contract";

/** A run error raised by the workers' plumbing (not by the pipeline): no step, no line. */
export function workerRunError(code: ErrorCode, message?: string, details: Record<string, unknown> = {}): RunError {
  return { code, message: message ?? ERRORS[code].message, hint: ERRORS[code].hint, step: null, line: null, column: null, details };
}
