/**
 * The guest's `console`: `console.log/info/debug/warn/error` write run-level lines to the run's log.
 * Pipelines should prefer `ctx.log` (structured fields, levels, step tags); this keeps a stray
 * `console.log` from being silently lost. Internal to the SDK.
 */
import { emitLog, type LogLevel } from "./log";
import { safeString, toJsonLenient } from "./json";
import { ObjectDefineProperty, ObjectFreeze, arrayJoin, arrayPush } from "./primordials";

function format(args: readonly unknown[]): string {
  const parts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "string") {
      arrayPush(parts, arg);
      continue;
    }
    let text: string | undefined;
    try {
      text = typeof arg === "object" && arg !== null ? toJsonLenient(arg) : undefined;
    } catch {
      text = undefined;
    }
    arrayPush(parts, text ?? safeString(arg));
  }
  return arrayJoin(parts, " ");
}

export function installConsole(target: Record<string, unknown>): void {
  const at =
    (level: LogLevel) =>
    (...args: unknown[]): void =>
      emitLog(level, format(args), undefined, null);
  const guestConsole = ObjectFreeze({
    log: at("info"),
    info: at("info"),
    debug: at("debug"),
    trace: at("debug"),
    warn: at("warn"),
    error: at("error"),
  });
  ObjectDefineProperty(target, "console", { value: guestConsole, writable: true, enumerable: false, configurable: true });
}
