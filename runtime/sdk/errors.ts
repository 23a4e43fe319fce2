/**
 * Errors as the pipeline sees them. A failure answered by the host (a missing secret, a policy denial, a
 * SQL error) or detected by the SDK itself (a connector used after close) is thrown as a TauSdkError.
 */
import { capString, safeString } from "./json";
import { ErrorCtor, ObjectCreate, ObjectDefineProperty, safeWeakMap } from "./primordials";

/**
 * A Tau error code, e.g. `"TAU_E_SECRET_NOT_FOUND"`. The full list, with what to do for each, is in
 * docs/errors.md.
 *
 * @example
 * ```ts
 * const retryable: TauErrorCode[] = ["TAU_E_CONNECTOR_BUSY", "TAU_E_CONNECTOR_IO"];
 * ```
 */
export type TauErrorCode = `TAU_E_${string}`;

/**
 * The error the `tau` SDK throws when the host refuses or fails an operation. `code` is a stable Tau error
 * code an agent can branch on; `hint` says what to do next; `details` carries structured context (the
 * policy rule, the SQL that failed, …); `step` names the step that was innermost when the call was made.
 *
 * @example
 * ```ts
 * import { pipeline, TauSdkError } from "tau";
 * import { duckdb_local } from "tau/connectors";
 *
 * export default pipeline({ name: "safe_read" }, async (ctx) => {
 *   await using db = duckdb_local();
 *   try {
 *     return await db.extract("SELECT * FROM maybe_missing");
 *   } catch (err) {
 *     if (err instanceof TauSdkError && err.code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT") return [];
 *     throw err;
 *   }
 * });
 * ```
 */
export class TauSdkError extends Error {
  readonly code: TauErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown>;
  readonly step: string | null;

  constructor(
    code: TauErrorCode,
    message: string,
    options: { hint?: string; details?: Record<string, unknown>; step?: string | null } = {},
  ) {
    super(message);
    this.name = "TauSdkError";
    this.code = code;
    this.hint = options.hint ?? "";
    this.details = options.details ?? {};
    this.step = options.step ?? null;
  }
}

const MESSAGE_MAX = 8 * 1024;
const STACK_MAX = 16 * 1024;

/**
 * Errors the SDK itself created. Only these report their `code` to the host as a Tau code; a pipeline
 * that constructs its own TauSdkError (or throws `{code: …}`) is reported as a plain pipeline error.
 */
const genuine = safeWeakMap<object, true>();

/** Creates a branded SDK error. Create it where the pipeline called the SDK, so its stack points there. */
export function createSdkError(
  code: TauErrorCode,
  message: string,
  options: { hint?: string; details?: Record<string, unknown>; step?: string | null } = {},
): TauSdkError {
  const err = new TauSdkError(code, message, options);
  genuine.set(err, true);
  return err;
}

/**
 * Fills an error created earlier (at the call site, to keep that stack) with the host's answer. The stack
 * text is formatted lazily by V8 on first read, so its first line shows the final message.
 */
export function fillSdkError(
  err: TauSdkError,
  code: TauErrorCode,
  message: string,
  hint: string,
  details: Record<string, unknown>,
  step: string | null,
): TauSdkError {
  ObjectDefineProperty(err, "message", { value: message, writable: true, configurable: true, enumerable: false });
  ObjectDefineProperty(err, "code", { value: code, writable: false, configurable: true, enumerable: true });
  ObjectDefineProperty(err, "hint", { value: hint, writable: false, configurable: true, enumerable: true });
  ObjectDefineProperty(err, "details", { value: details, writable: false, configurable: true, enumerable: true });
  ObjectDefineProperty(err, "step", { value: step, writable: false, configurable: true, enumerable: true });
  return err;
}

export function isGenuineSdkError(value: unknown): value is TauSdkError {
  return typeof value === "object" && value !== null && genuine.has(value);
}

/** What crosses to the host for a failed run or step: plain data, capped, never throwing. */
export interface ErrorData {
  name: string;
  message: string;
  stack: string;
  code?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * Reads an error (or any thrown value) defensively: getters may throw, toString may be hostile. The
 * result has no prototype, so a pipeline that defines `Object.prototype.toJSON` cannot reshape it.
 */
export function errorData(value: unknown): ErrorData {
  const data = ObjectCreate(null) as ErrorData;
  if (typeof value !== "object" || value === null) {
    data.name = "Error";
    data.message = capString(`Pipeline threw a non-error value: ${safeString(value)}`, MESSAGE_MAX);
    data.stack = "";
    return data;
  }
  const name = read(value, "name");
  const message = read(value, "message");
  const stack = read(value, "stack");
  data.name = capString(typeof name === "string" && name !== "" ? name : value instanceof ErrorCtor ? "Error" : "Object", 200);
  data.message = capString(typeof message === "string" ? message : safeString(message === undefined ? value : message), MESSAGE_MAX);
  data.stack = typeof stack === "string" ? capString(stack, STACK_MAX) : "";
  if (isGenuineSdkError(value)) {
    data.code = value.code;
    data.hint = capString(value.hint, 2048);
    data.details = value.details;
  }
  return data;
}
