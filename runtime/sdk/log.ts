/**
 * Log functions (`ctx.log`, `step.log`, the guest `console`). Lines leave through the bridge's `log`
 * operation with id 0 (no answer); logging never throws into the pipeline. Internal to the SDK.
 */
import { bridgeNotifyText } from "./bridge";
import { capString, errorMessage, safeString, toJson, toJsonLenient } from "./json";
import { ErrorCtor, ObjectDefineProperty, ObjectFreeze } from "./primordials";
import type { LogFields, LogFn } from "./types";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Lines longer than this are cut in the guest already; the host applies the tenant's (smaller) limit. */
const MESSAGE_MAX = 256 * 1024;

/** Turns whatever was passed as a message into text (an Error prints as `Name: message`). */
export function messageText(message: unknown): string {
  if (typeof message === "string") return capString(message, MESSAGE_MAX);
  if (message instanceof ErrorCtor) {
    return capString(`${safeString((message as Error).name)}: ${safeString((message as Error).message)}`, MESSAGE_MAX);
  }
  return capString(safeString(message), MESSAGE_MAX);
}

/** Sends one log line; `fields` that are not JSON become a note instead of failing the call. */
export function emitLog(level: LogLevel, message: unknown, fields: unknown, step: string | null): void {
  const text = messageText(message);
  const payload: Record<string, unknown> = { level, message: text, step };
  let json: string | undefined;
  if (fields !== undefined && fields !== null) {
    payload.fields = typeof fields === "object" ? fields : { value: fields };
    try {
      json = toJsonLenient(payload);
    } catch (err) {
      payload.fields = { tauFieldsError: `log fields are not JSON-serialisable: ${errorMessage(err)}` };
      json = toJson(payload);
    }
  } else {
    json = toJson(payload);
  }
  if (json !== undefined) bridgeNotifyText("log", json);
}

/**
 * Builds a LogFn whose lines carry `step` (a step name, or null for run-level lines).
 */
export function createLog(step: string | null): LogFn {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void =>
      emitLog(level, message, fields, step);
  const log = at("info") as LogFn;
  ObjectDefineProperty(log, "debug", { value: at("debug"), enumerable: true });
  ObjectDefineProperty(log, "info", { value: at("info"), enumerable: true });
  ObjectDefineProperty(log, "warn", { value: at("warn"), enumerable: true });
  ObjectDefineProperty(log, "error", { value: at("error"), enumerable: true });
  return ObjectFreeze(log);
}
