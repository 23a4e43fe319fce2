/**
 * When a failed run is retried, and after how long (docs/runs.md).
 *
 * Retried: a `failed` attempt (never a cancelled one) with attempts left, whose error code is marked
 * retryable in the registry (server/contract/errors.ts: timeouts, lost connections, a crashed executor …)
 * or named in the pipeline's `retryOn`. Everything else — a syntax error, a constraint violation, a
 * pipeline that threw — fails for good: running it again without a change would fail the same way.
 *
 * Backoff: exponential with full jitter (the AWS Architecture Blog's "Exponential Backoff And Jitter"):
 * before retry n (n = 1 for the second attempt) the run waits a uniformly random time in
 * [0, min(cap, retryDelaySec × 2^(n-1))], the cap being one hour or retryDelaySec when that is longer.
 * Jitter keeps many runs that failed together (a database restart) from retrying in lockstep.
 */
import { ERRORS, type ErrorCode, type RunError } from "../contract";

const CAP_MS = 3_600_000;

export interface RetrySettings {
  retryDelaySec: number;
  retryOn: readonly ErrorCode[];
}

/** Whether a failed attempt's error gets a retry: marked retryable in the registry or named in `retryOn`, never a cancel. */
export function isRetryable(error: RunError, settings: Pick<RetrySettings, "retryOn">): boolean {
  if (error.code === "TAU_E_RUN_CANCELLED") return false;
  return ERRORS[error.code]?.retryable === true || settings.retryOn.includes(error.code);
}

/**
 * The delay before the attempt after `attempt` (1-based: attempt 1 failed → the first retry's delay), in
 * milliseconds. `random` returns a number in [0, 1) (Math.random; tests pass their own).
 */
export function backoffMs(attempt: number, retryDelaySec: number, random: () => number): number {
  const baseMs = Math.max(0, retryDelaySec) * 1000;
  if (baseMs === 0) return 0;
  const window = Math.min(Math.max(CAP_MS, baseMs), baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * window);
}
