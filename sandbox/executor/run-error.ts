/**
 * Building a run's `RunError`: from a guest error (mapped to the original file), from a limit the host
 * enforced, or from a host failure. One place, so every outcome has the same shape and the same caps.
 */
import { ERRORS, isErrorCode, type ErrorCode, type RunError } from "../../server/contract";
import { isJsonObject } from "../json-guard";
import type { SecretScrubber } from "../scrub";
import type { BundleLocator } from "./locate";

const MESSAGE_MAX = 8 * 1024;

export function capText(text: string, max = MESSAGE_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}

export function runError(
  code: ErrorCode,
  message: string | null,
  fields: { step?: string | null; line?: number | null; column?: number | null; details?: Record<string, unknown> } = {},
): RunError {
  return {
    code,
    message: capText(message ?? ERRORS[code].message),
    hint: ERRORS[code].hint,
    step: fields.step ?? null,
    line: fields.line ?? null,
    column: fields.column ?? null,
    details: fields.details ?? {},
  };
}

/**
 * The error object the guest runtime reports (`{name, message, stack, code?, hint?, details?, step?}`), as
 * untrusted JSON. `code` is honoured only when it is a registry code (the SDK sets it only for errors the host
 * answered); otherwise the error is the pipeline's own: TAU_E_PIPELINE_ERROR.
 */
export function runErrorFromGuest(
  raw: unknown,
  locator: BundleLocator,
  scrubber: SecretScrubber,
  fallbackStep: string | null,
  fallbackCode: ErrorCode = "TAU_E_PIPELINE_ERROR",
): RunError {
  const e = isJsonObject(raw) ? raw : {};
  const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
  const code = isErrorCode(e.code) ? e.code : fallbackCode;
  const name = str(e.name) ?? "Error";
  const rawMessage = str(e.message) ?? "The pipeline failed without an error message.";
  const stack = str(e.stack) ?? "";
  const located = locator.locate(scrubber.scrubText(capText(stack, 16 * 1024)));
  const details: Record<string, unknown> = isJsonObject(e.details) ? scrubber.scrubValue(e.details) : {};
  if (code === "TAU_E_PIPELINE_ERROR" || code === fallbackCode) details.name = capText(name, 200);
  if (located.stack) details.stack = located.stack;
  const step = str(e.step) ?? fallbackStep;
  return {
    code,
    message: capText(scrubber.scrubText(rawMessage)),
    hint: isErrorCode(e.code) && typeof e.hint === "string" && e.hint !== "" ? capText(scrubber.scrubText(e.hint), 2048) : ERRORS[code].hint,
    step: step === null ? null : capText(step, 200),
    line: located.line,
    column: located.column,
    details,
  };
}

/** An error thrown on the host while evaluating guest code (a top-level throw, a syntax error). */
export function runErrorFromThrown(err: unknown, locator: BundleLocator, scrubber: SecretScrubber, step: string | null): RunError {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown } | null;
  // isolated-vm appends the host's own frames after this marker: they never leave the executor.
  let stack = typeof e?.stack === "string" ? e.stack : "";
  const boundary = stack.indexOf("<isolated-vm boundary>");
  if (boundary >= 0) stack = stack.slice(0, stack.lastIndexOf("\n", boundary));
  return runErrorFromGuest(
    { name: e?.name, message: e?.message ?? String(err), stack },
    locator,
    scrubber,
    step,
  );
}
