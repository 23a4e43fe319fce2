/**
 * Exit codes of `tau` (documented in docs/cli.md) and the conversion of anything thrown into a Tau error.
 *
 *   0  success
 *   1  a run ended without succeeding (failed, cancelled, skipped, or still running at --timeout);
 *      stdout still holds the run
 *   2  the command line cannot be carried out as given: unknown command, bad flag or argument, bad
 *      --params, missing file, `init` target exists
 *   3  the daemon refused the request (HTTP 4xx)
 *   4  the daemon is unreachable, answered 5xx or something that is not Tau JSON, or tau itself failed
 */
import { TauError, type ErrorCode } from "../server/contract";

export const EXIT = {
  ok: 0,
  runNotSucceeded: 1,
  usage: 2,
  refused: 3,
  unavailable: 4,
} as const;

/** An error the daemon answered with; keeps the HTTP status, which decides the exit code. */
export class DaemonError extends TauError {
  readonly httpStatus: number;

  constructor(httpStatus: number, from: TauError) {
    super(from.code, from.message, from.details, from.hint);
    this.name = "DaemonError";
    this.httpStatus = httpStatus;
  }
}

/** Codes the CLI raises itself, before or instead of asking the daemon, because the command line is wrong. */
const LOCAL_USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "TAU_E_CLI_USAGE",
  "TAU_E_PARAMS_INVALID",
  "TAU_E_FILE_NOT_FOUND",
  "TAU_E_INIT_TARGET_EXISTS",
]);

export function exitCodeFor(err: TauError): number {
  if (err instanceof DaemonError) return err.httpStatus >= 500 ? EXIT.unavailable : EXIT.refused;
  if (LOCAL_USAGE_CODES.has(err.code)) return EXIT.usage;
  return EXIT.unavailable;
}

/** Anything thrown inside the CLI becomes a TauError; a non-Tau error is a bug in tau itself. */
export function toTauError(err: unknown): TauError {
  if (err instanceof TauError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TauError("TAU_E_INTERNAL", `tau failed: ${message}`, {
    where: "cli",
    ...(err instanceof Error && err.stack ? { stack: err.stack.split("\n").slice(0, 6).join("\n") } : {}),
  });
}

export function usageError(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CLI_USAGE", message, details);
}
