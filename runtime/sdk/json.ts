/**
 * JSON helpers used for everything that crosses to the host (the bridge carries strings only).
 * Internal to the SDK.
 */
import {
  ArrayIsArray,
  ErrorCtor,
  JSONParse,
  JSONStringify,
  ObjectFreeze,
  ObjectIsFrozen,
  ObjectKeys,
  StringCtor,
  TypeErrorCtor,
  stringIndexOf,
  stringSlice,
} from "./primordials";

/**
 * A value that survives `JSON.stringify` → `JSON.parse` unchanged: what results, step meta, log fields
 * and query parameters are made of.
 *
 * @example
 * ```ts
 * const summary: JsonValue = { loaded: 120, tables: ["orders"], late: null };
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? StringCtor(value) : value;
}

function errorsAsData(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return StringCtor(value);
  if (value instanceof ErrorCtor) return { name: safeString(value.name), message: safeString(value.message) };
  return value;
}

/**
 * Serialises a value with the captured `JSON.stringify`. BigInts (which JSON.stringify refuses) become
 * decimal strings; the replacer only runs on the slow path so large row batches stay fast.
 * Returns undefined for values JSON has no text for (undefined, functions, symbols); throws on cycles.
 */
export function toJson(value: unknown): string | undefined {
  try {
    return JSONStringify(value);
  } catch (err) {
    if (!(err instanceof TypeErrorCtor) || !containsBigintMessage(err)) throw err;
    return JSONStringify(value, bigintAsString);
  }
}

/** Like toJson, for diagnostics (log fields): Error objects become `{name, message}` instead of `{}`. */
export function toJsonLenient(value: unknown): string | undefined {
  return JSONStringify(value, errorsAsData);
}

function containsBigintMessage(err: TypeError): boolean {
  return stringIndexOf(safeString(err.message), "BigInt") >= 0;
}

export function parseJson(text: string): unknown {
  return JSONParse(text);
}

/** Freezes a JSON-like value and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || ObjectIsFrozen(value)) return value;
  ObjectFreeze(value);
  if (ArrayIsArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    const keys = ObjectKeys(value);
    for (let i = 0; i < keys.length; i++) deepFreeze((value as Record<string, unknown>)[keys[i]!]);
  }
  return value;
}

/** String(value) that never throws (a hostile toString or a revoked proxy becomes a placeholder). */
export function safeString(value: unknown): string {
  try {
    return StringCtor(value);
  } catch {
    return "[unprintable value]";
  }
}

/** The message of a thrown value, read defensively (a getter may throw; anything may be thrown). */
export function errorMessage(err: unknown): string {
  if (typeof err !== "object" || err === null) return safeString(err);
  try {
    const message = (err as { message?: unknown }).message;
    return typeof message === "string" ? message : safeString(err);
  } catch {
    return "[unreadable error message]";
  }
}

/** Caps a string at `max` UTF-16 units, marking the cut. */
export function capString(text: string, max: number): string {
  if (text.length <= max) return text;
  return stringSlice(text, 0, max) + "…[truncated]";
}
